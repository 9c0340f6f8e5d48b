//! Reading a row's columns by position, for the statements that read many
//! rows: list pages and their relations.
//!
//! On PostgreSQL the values come straight from the driver's row, without its
//! check of each column's type against the Rust type asked for, a large part
//! of decoding a column. These statements are built here and
//! their column types are fixed by the migrations; a type asked for wrongly
//! still decodes to an error or a wrong value, never undefined behaviour,
//! and the API tests read every such column on PostgreSQL. On the other
//! backends the columns are read through sea-orm as usual.

use sea_orm::sqlx::postgres::{PgRow, Postgres};
use sea_orm::sqlx::{Decode, Row};
use sea_orm::{DbErr, QueryResult, TryGetable};

/// A value a column can be read as, on every backend.
pub trait ColumnValue: TryGetable + for<'r> Decode<'r, Postgres> {}

impl<T> ColumnValue for T where T: TryGetable + for<'r> Decode<'r, Postgres> {}

/// One row of a result, read by column position.
pub struct Columns<'a> {
    row: &'a QueryResult,
    postgres: Option<&'a PgRow>,
}

impl<'a> Columns<'a> {
    /// The columns of `row`.
    pub fn new(row: &'a QueryResult) -> Self {
        Self {
            row,
            postgres: row.try_as_pg_row(),
        }
    }

    /// The value in column `index` (from 0).
    pub fn get<T: ColumnValue>(&self, index: usize) -> Result<T, DbErr> {
        match self.postgres {
            Some(row) => row
                .try_get_unchecked(index)
                .map_err(|err| DbErr::Type(format!("column {index}: {err}"))),
            None => self.row.try_get_by_index(index),
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Utc};
    use entity::{article, article_tag, comment, favorite, tag, user};
    use migration::{Migrator, MigratorTrait};
    use sea_orm::{
        ActiveModelTrait, ConnectOptions, ConnectionTrait, Database, DatabaseConnection,
        EntityTrait, FromQueryResult, IntoActiveModel, QueryTrait,
    };

    use super::*;
    use crate::counters::StatementCounter;
    use crate::db::article_relations::{
        ListOrder, RelationsStatements, for_articles, page_with_relations,
    };
    use crate::db::list_reads::{IdleLimits, ListReads};
    use crate::db::pagination::{PageRequest, PageRow, SortDirection, fetch_page};
    use crate::db::tag_names::TagNames;

    /// A fresh database on the server `TEST_DATABASE_URL` names, or in-memory
    /// SQLite when it is unset, with the migrations applied.
    async fn fresh_database() -> DatabaseConnection {
        let server = std::env::var("TEST_DATABASE_URL").unwrap_or_default();
        let url = if server.is_empty() {
            "sqlite::memory:".to_owned()
        } else {
            let name = format!("conduit_u_{}", uuid::Uuid::new_v4().simple());
            let admin = Database::connect(server.as_str()).await.expect("connect");
            admin
                .execute_unprepared(&format!("CREATE DATABASE {name}"))
                .await
                .expect("create the database");
            admin.close().await.ok();
            let (base, query) = server.split_once('?').unwrap_or((&server, ""));
            let prefix = base.rsplit_once('/').map_or(base, |(prefix, _)| prefix);
            format!("{prefix}/{name}?{query}")
        };
        let mut options = ConnectOptions::new(url);
        options.max_connections(1).sqlx_logging(false);
        let db = Database::connect(options).await.expect("connect");
        Migrator::up(&db, None).await.expect("migrations");
        db
    }

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp_micros(1_780_000_000_000_000 + seconds * 1_000_001).expect("time")
    }

    /// One user, an article of theirs with a tag and a favorite, and a
    /// comment; every column holds a value no other column of its row does.
    async fn one_of_each(db: &DatabaseConnection) -> user::Model {
        let ann = user::Model {
            id: 7,
            username: "ann".into(),
            email: "ann@example.org".into(),
            email_key: "key".into(),
            password_hash: "hash".into(),
            bio: "bio".into(),
            image: Some("img".into()),
            created_at: at(1),
            updated_at: at(2),
            role: "user".into(),
            session_epoch: 3,
            banned_at: None,
            access_changed_at: Some(at(4)),
            username_key: "ann-key".into(),
            followers_count: 19,
            following_count: 23,
            articles_count: 29,
        };
        ann.clone()
            .into_active_model()
            .insert(db)
            .await
            .expect("user");
        article::Model {
            id: 11,
            slug: "a-slug".into(),
            title: "A title".into(),
            description: "About".into(),
            body: "Text".into(),
            author_id: 7,
            published_at: Some(at(5)),
            created_at: at(6),
            updated_at: at(7),
            favorites_count: 13,
            comments_count: 17,
        }
        .into_active_model()
        .insert(db)
        .await
        .expect("article");
        comment::Model {
            id: 13,
            article_id: 11,
            author_id: 7,
            body: "Nice".into(),
            created_at: at(8),
            updated_at: at(9),
        }
        .into_active_model()
        .insert(db)
        .await
        .expect("comment");
        tag::Model {
            id: 17,
            name: "rust".into(),
            article_count: 1,
        }
        .into_active_model()
        .insert(db)
        .await
        .expect("tag");
        article_tag::Model {
            article_id: 11,
            tag_id: 17,
            article_created_at: at(6),
            article_published: true,
        }
        .into_active_model()
        .insert(db)
        .await
        .expect("article tag");
        favorite::Model {
            user_id: 7,
            article_id: 11,
            created_at: at(10),
        }
        .into_active_model()
        .insert(db)
        .await
        .expect("favorite");
        ann
    }

    /// Page rows read by position equal the same rows read by column name,
    /// for every model that is paged, on the backend under test.
    #[tokio::test]
    async fn page_rows_read_by_position_equal_rows_read_by_name() {
        let db = fresh_database().await;
        one_of_each(&db).await;

        async fn both_ways<E>(db: &DatabaseConnection) -> (E::Model, E::Model)
        where
            E: EntityTrait,
            E::Model: PageRow + FromQueryResult,
        {
            let statement = E::find().build(db.get_database_backend());
            let rows = db.query_all_raw(statement).await.expect("query");
            let row = rows.first().expect("one row");
            let by_position = E::Model::from_columns(&Columns::new(row)).expect("by position");
            let by_name = E::Model::from_query_result(row, "").expect("by name");
            (by_position, by_name)
        }
        let (by_position, by_name) = both_ways::<article::Entity>(&db).await;
        assert_eq!(by_position, by_name);
        assert_eq!(by_position.author_id, 7);
        assert_eq!(by_position.published_at, Some(at(5)));
        let (by_position, by_name) = both_ways::<comment::Entity>(&db).await;
        assert_eq!(by_position, by_name);
        assert_eq!(by_position.article_id, 11);
    }

    /// The relations statement, read by position, gives the author as the
    /// users table holds them (but for the password hash), the tag names and
    /// both counts.
    #[tokio::test]
    async fn relations_read_by_position_equal_what_the_tables_hold() {
        let db = fresh_database().await;
        let ann = one_of_each(&db).await;
        let statements = RelationsStatements::new(db.get_database_backend());
        let tag_names = TagNames::default();
        let relations = for_articles(&db, &statements, &tag_names, &[11, 12])
            .await
            .expect("relations");
        assert_eq!(relations.len(), 1, "article 12 does not exist");
        let relations = &relations[&11];
        let stored = user::Entity::find_by_id(7)
            .one(&db)
            .await
            .expect("query")
            .expect("ann");
        assert_eq!(stored.password_hash, ann.password_hash);
        let without_hash = user::Model {
            password_hash: String::new(),
            ..stored
        };
        assert_eq!(relations.author, without_hash);
        assert_eq!(relations.tags, ["rust"]);
        // The maintained counts, as stored.
        assert_eq!((relations.favorites, relations.comments), (13, 17));
    }

    /// A page read with its relations in one statement equals the page and
    /// the relations read apart, forwards and backwards.
    #[tokio::test]
    async fn a_page_read_with_its_relations_equals_both_read_apart() {
        let db = fresh_database().await;
        one_of_each(&db).await;
        article::Model {
            id: 12,
            slug: "another".into(),
            title: "Another".into(),
            description: "More".into(),
            body: "Text".into(),
            author_id: 7,
            published_at: None,
            created_at: at(11),
            updated_at: at(12),
            favorites_count: 0,
            comments_count: 0,
        }
        .into_active_model()
        .insert(&db)
        .await
        .expect("article");
        let statements = RelationsStatements::new(db.get_database_backend());
        let tag_names = TagNames::default();
        // The page with its relations is read as lists are served (on
        // PostgreSQL, on a connection of the list reads'); the rest apart,
        // through the pool.
        let reads = ListReads::new(
            db.clone(),
            1,
            IdleLimits::SERVING,
            StatementCounter::default(),
        );
        for request in [
            PageRequest::first(1, SortDirection::Desc),
            PageRequest::new(None, None, Some(1), None, SortDirection::Asc).expect("last 1"),
            PageRequest::first(5, SortDirection::Asc),
        ] {
            let around = statements.around_page(&request.read_order());
            let (page, relations) = page_with_relations(
                &db,
                &reads,
                (article::Entity::find(), ListOrder::Articles),
                &request,
                &around,
                &tag_names,
            )
            .await
            .expect("page with relations");
            let apart = fetch_page(
                &db,
                article::Entity::find(),
                article::Column::CreatedAt,
                article::Column::Id,
                &request,
            )
            .await
            .expect("page");
            assert_eq!(page.items, apart.items, "{request:?}");
            assert_eq!(
                (page.has_next_page, page.has_previous_page),
                (apart.has_next_page, apart.has_previous_page),
                "{request:?}"
            );
            let ids: Vec<i64> = page.items.iter().map(|article| article.id).collect();
            let read_apart = for_articles(&db, &statements, &tag_names, &ids)
                .await
                .expect("relations");
            for id in ids {
                let (joined, apart) = (&relations[&id], &read_apart[&id]);
                assert_eq!(joined.author, apart.author);
                assert_eq!(
                    (&joined.tags, joined.favorites, joined.comments),
                    (&apart.tags, apart.favorites, apart.comments)
                );
            }
        }
        let request = PageRequest::first(5, SortDirection::Desc);
        let around = statements.around_page(&request.read_order());
        let (page, relations) = page_with_relations(
            &db,
            &reads,
            (article::Entity::find(), ListOrder::Articles),
            &request,
            &around,
            &tag_names,
        )
        .await
        .expect("page with relations");
        assert_eq!(page.items.len(), 2);
        assert_eq!(relations[&11].tags, ["rust"]);
        assert_eq!(
            (relations[&11].favorites, relations[&11].comments),
            (13, 17)
        );
        assert!(relations[&12].tags.is_empty());
        assert_eq!((relations[&12].favorites, relations[&12].comments), (0, 0));
    }
}
