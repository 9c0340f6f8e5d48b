//! What an article shows beside its own columns (its author, tag names,
//! favorite count and comment count) for a whole list of articles in one
//! statement. Tags are read as ids and named by [`TagNames`].

use std::sync::Arc;

use entity::{article, article_tag, user};
use sea_orm::sea_query::{
    Alias, Asterisk, Expr, ExprTrait, IntoColumnRef, IntoIden, Order, Query, SelectStatement,
    SimpleExpr,
};
use sea_orm::{
    ConnectionTrait, DatabaseBackend, DatabaseConnection, DbErr, FromQueryResult, Iterable,
    JoinType, QueryResult, Select, Statement, Value,
};

use super::IdMap;
use super::columns::Columns;
use super::pagination::{self, Page, PageRequest, PageRow};
use super::profile_rows::{PROFILE_COLUMNS, profile_at, select_profile};
use super::tag_names::TagNames;
use crate::error::Result;

/// The relations of one article.
#[derive(Clone, Debug)]
pub struct ArticleRelations {
    /// The writer, with an empty password hash.
    pub author: user::Model,
    /// Tag names, alphabetically ([`super::tag_names::sort_alphabetically`]).
    pub tags: Vec<String>,
    /// How many users favorited it.
    pub favorites: i64,
    /// How many comments it has, leaving out those of banned users.
    pub comments: i64,
}

/// Joins tag ids in the result.
const TAG_SEPARATOR: char = ',';

/// An article's relations as read, its tags still ids.
struct RelationsRow {
    article_id: i64,
    relations: ArticleRelations,
    tag_ids: Vec<i64>,
}

/// Columns are read by position: a list of 20 cards has 340 of them, and
/// looking each up by name cost a tenth of the gateway's work on the page.
/// The order is the statement's: the article id, the author's columns, then
/// the two counts and the tag ids.
impl FromQueryResult for RelationsRow {
    fn from_query_result(row: &QueryResult, _: &str) -> Result<Self, DbErr> {
        let row = Columns::new(row);
        relations_at(&row, row.get(0)?, 1)
    }
}

/// The relations of the article `article_id` whose columns start at column
/// `first` of `row`: the author's [`PROFILE_COLUMNS`], the two counts and the
/// tag ids (the tags left unnamed).
fn relations_at(row: &Columns<'_>, article_id: i64, first: usize) -> Result<RelationsRow, DbErr> {
    let counts = first + PROFILE_COLUMNS.len();
    let tag_ids: Option<String> = row.get(counts + 2)?;
    Ok(RelationsRow {
        article_id,
        relations: ArticleRelations {
            author: profile_at(row, first)?,
            tags: Vec::new(),
            favorites: row.get(counts)?,
            comments: row.get(counts + 1)?,
        },
        tag_ids: split_tag_ids(tag_ids.as_deref())?,
    })
}

/// `rows` by article id, with their tags named.
async fn named(
    db: &DatabaseConnection,
    tag_names: &TagNames,
    rows: Vec<RelationsRow>,
) -> Result<IdMap<ArticleRelations>> {
    let (rows, tag_ids): (Vec<_>, Vec<_>) = rows
        .into_iter()
        .map(|row| ((row.article_id, row.relations), row.tag_ids))
        .unzip();
    let names = tag_names.name_all(db, tag_ids).await?;
    Ok(rows
        .into_iter()
        .zip(names)
        .map(|((id, mut relations), tags)| {
            relations.tags = tags;
            (id, relations)
        })
        .collect())
}

fn split_tag_ids(joined: Option<&str>) -> Result<Vec<i64>, DbErr> {
    match joined {
        None | Some("") => Ok(Vec::new()),
        Some(joined) => joined
            .split(TAG_SEPARATOR)
            .map(|id| {
                id.parse()
                    .map_err(|_| DbErr::Type(format!("a tag id that is not a number: {id:?}")))
            })
            .collect(),
    }
}

/// The relations of each of `ids`, by article id. One statement; ids with no
/// article are missing from the map.
///
/// Counts and tag names come from grouped derived tables joined to the
/// articles, each reading only the rows of `ids`: on PostgreSQL this costs
/// about 15% less than correlated subqueries run once per article.
pub async fn for_articles(
    db: &DatabaseConnection,
    statements: &RelationsStatements,
    tag_names: &TagNames,
    ids: &[i64],
) -> Result<IdMap<ArticleRelations>> {
    let rows = RelationsRow::find_by_statement(statements.for_ids(ids))
        .all(db)
        .await?;
    named(db, tag_names, rows).await
}

/// The first of the stand-ins for ids that statements are made with; far
/// from any real id or other value of the statement.
const STAND_IN_BASE: i64 = i64::MIN / 2;

/// The statement [`for_articles`] runs, made once for each number of ids.
///
/// Its shape depends on the number of ids alone, and building its SQL afresh
/// for every list cost about a twentieth of the work of a page of cards. It is
/// made with stand-ins for the ids, which are swapped for the real ones.
///
/// It also holds what [`page_with_relations`] writes around a page, which depends
/// only on the order the page is read in.
pub struct RelationsStatements {
    backend: DatabaseBackend,
    made: moka::sync::Cache<usize, Arc<Statement>>,
    around_ascending: Arc<AroundPage>,
    around_descending: Arc<AroundPage>,
}

/// The SQL [`page_with_relations`] writes before and after a page's own.
#[derive(Debug)]
pub struct AroundPage {
    before: String,
    after: String,
}

impl RelationsStatements {
    /// Statements for `backend`, for up to 256 different numbers of ids.
    pub fn new(backend: DatabaseBackend) -> Self {
        Self {
            backend,
            made: moka::sync::Cache::new(256),
            around_ascending: Arc::new(around_page(backend, Order::Asc)),
            around_descending: Arc::new(around_page(backend, Order::Desc)),
        }
    }

    /// What [`page_with_relations`] writes around a page read in `order`.
    pub fn around_page(&self, order: &Order) -> Arc<AroundPage> {
        match order {
            Order::Asc => self.around_ascending.clone(),
            _ => self.around_descending.clone(),
        }
    }

    /// The statement for `ids`.
    fn for_ids(&self, ids: &[i64]) -> Statement {
        let template = self.made.get_with(ids.len(), || {
            let stand_ins: Vec<i64> = (0..ids.len() as i64).map(|i| STAND_IN_BASE + i).collect();
            Arc::new(
                self.backend
                    .build(&relations_select(self.backend, &stand_ins)),
            )
        });
        let mut statement = Statement::clone(&template);
        if let Some(values) = statement.values.as_mut() {
            for value in &mut values.0 {
                if let Value::BigInt(Some(stand_in)) = value
                    && let Some(id) = stand_in
                        .checked_sub(STAND_IN_BASE)
                        .and_then(|index| usize::try_from(index).ok())
                        .and_then(|index| ids.get(index))
                {
                    *stand_in = *id;
                }
            }
        }
        statement
    }
}

/// The statement [`for_articles`] runs on `backend`.
fn relations_select(backend: DatabaseBackend, ids: &[i64]) -> SelectStatement {
    let mut query = Query::select();
    query
        .expr_as(
            Expr::col((article::Entity, article::Column::Id)),
            Alias::new("article_id"),
        )
        .from(article::Entity);
    join_relations(&mut query, backend, article::Entity, Articles::Ids(ids));
    query.and_where(Expr::col((article::Entity, article::Column::Id)).is_in(ids.iter().copied()));
    query
}

/// Adds to `query`, which reads articles from `source`, the columns
/// [`relations_at`] reads: each article's author, its two counts and its tag
/// names, for the articles `of`.
fn join_relations(
    query: &mut SelectStatement,
    backend: DatabaseBackend,
    source: impl IntoIden + Clone,
    of: Articles<'_>,
) {
    // Shown nowhere, so never read: the authors carry an empty hash.
    select_profile(query);
    query.inner_join(
        user::Entity,
        Expr::col((user::Entity, user::Column::Id))
            .equals((source.clone(), article::Column::AuthorId)),
    );
    // The counts are the article's own maintained columns.
    query
        .column((source.clone(), article::Column::FavoritesCount))
        .column((source.clone(), article::Column::CommentsCount));
    let relation = tag_ids(backend, of);
    match of {
        // A derived table grouped by article that reads only the rows of the
        // ids: on PostgreSQL cheaper than a subquery run once per article.
        Articles::Ids(_) => {
            let table = Alias::new("t");
            query
                .expr_as(
                    Expr::col((table.clone(), Alias::new(RELATION_VALUE))),
                    Alias::new("tags"),
                )
                .join_subquery(
                    JoinType::LeftJoin,
                    relation,
                    table.clone(),
                    Expr::col((table, Alias::new("article_id")))
                        .equals((source.clone(), article::Column::Id)),
                );
        }
        // A subquery per row of the page: with the page in a common table
        // expression, cheaper on PostgreSQL than a derived table that reads
        // the page again.
        Articles::Page => {
            let subquery = SimpleExpr::SubQuery(None, Box::new(relation.into()));
            query.expr_as(subquery, Alias::new("tags"));
        }
    }
}

/// The name the page is read under in [`with_relations`].
const PAGE: &str = "page_rows";

/// The SQL that [`with_relations`] writes around a page read in `order`. It
/// binds no values, so the page's values are the statement's whatever its
/// placeholders look like.
fn around_page(backend: DatabaseBackend, order: Order) -> AroundPage {
    let source = Alias::new(PAGE);
    let mut query = Query::select();
    query
        .column((source.clone(), Asterisk))
        .from(source.clone());
    join_relations(&mut query, backend, source.clone(), Articles::Page);
    query
        .order_by((source.clone(), article::Column::CreatedAt), order.clone())
        .order_by((source, article::Column::Id), order);
    let outer = backend.build(&query);
    assert!(
        outer
            .values
            .as_ref()
            .is_none_or(|values| values.0.is_empty()),
        "the SQL around a page binds no values"
    );
    let name = match backend {
        DatabaseBackend::MySql => format!("`{PAGE}`"),
        _ => format!("\"{PAGE}\""),
    };
    AroundPage {
        before: format!("WITH {name} AS ("),
        after: format!(") {}", outer.sql),
    }
}

/// `page`, a statement that reads a page of articles
/// ([`pagination::page_statement`]), with each row's relations joined on: one
/// statement where a list of cards took two. `around` is
/// [`RelationsStatements::around_page`] for the order the page is read in;
/// rows come in that order by `(created_at, id)`, each with the page's
/// columns, then those [`relations_at`] reads.
fn with_relations(page: Statement, around: &AroundPage) -> Statement {
    let (before, after) = (&around.before, &around.after);
    let mut sql = String::with_capacity(before.len() + page.sql.len() + after.len());
    sql.push_str(before);
    sql.push_str(&page.sql);
    sql.push_str(after);
    Statement {
        sql,
        values: page.values,
        db_backend: page.db_backend,
    }
}

/// One page of `request` from `select` (articles' columns in declared order),
/// with each article's relations, in one statement run by `reads`; tag names
/// not yet known are read from `db`.
pub async fn page_with_relations(
    db: &DatabaseConnection,
    reads: &impl ConnectionTrait,
    (select, order): (Select<article::Entity>, ListOrder),
    request: &PageRequest,
    around: &AroundPage,
    tag_names: &TagNames,
) -> Result<(Page<article::Model>, IdMap<ArticleRelations>)> {
    let backend = db.get_database_backend();
    let page = order.page_statement(backend, select, request);
    let rows = reads.query_all_raw(with_relations(page, around)).await?;
    let first = article::Column::iter().count();
    let on_page = request.rows_on_page(rows.len());
    let mut articles = Vec::with_capacity(on_page);
    let mut relations = Vec::with_capacity(on_page);
    for row in &rows[..on_page] {
        let row = Columns::new(row);
        let article = article::Model::from_columns(&row)?;
        relations.push(relations_at(&row, article.id, first)?);
        articles.push(article);
    }
    let relations = named(db, tag_names, relations).await?;
    Ok((request.page_of_first(articles, rows.len()), relations))
}

/// One page of `request` for each of `parents` from `select` (articles'
/// columns in declared order; `parent` the column that names each row's
/// parent), with each article's relations, in one statement run by `reads`;
/// tag names not yet known are read from `db`.
pub async fn pages_per_parent_with_relations(
    db: &DatabaseConnection,
    reads: &impl ConnectionTrait,
    select: Select<article::Entity>,
    (parent, parents): (impl IntoColumnRef + Clone, &[i64]),
    request: &PageRequest,
    around: &AroundPage,
    tag_names: &TagNames,
) -> Result<(IdMap<Page<article::Model>>, IdMap<ArticleRelations>)> {
    let backend = db.get_database_backend();
    let order = (article::Column::CreatedAt, article::Column::Id);
    let pages = pagination::per_parent_statement(select, parent, parents, order, request);
    let rows = reads
        .query_all_raw(with_relations(backend.build(&pages), around))
        .await?;
    // The page's columns, its parent and its place, then the relations.
    let width = article::Column::iter().count();
    let mut relations = Vec::new();
    let pages = pagination::pages_of_parents(&rows, width, parents, request, |row| {
        let article = article::Model::from_columns(row)?;
        relations.push(relations_at(row, article.id, width + 2)?);
        Ok(article)
    })?;
    let relations = named(db, tag_names, relations).await?;
    Ok((pages, relations))
}

/// The columns a list of articles is ordered by: `(created_at, id)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ListOrder {
    /// The articles' own columns.
    Articles,
    /// The copies a tag's links keep of them, which their index holds in
    /// order for each tag: a tag's list, read from the front of it.
    TagLinks,
}

impl ListOrder {
    /// The statement that reads one page of `request` from `select`, whose
    /// rows are ordered by these columns ([`pagination::page_statement`]).
    pub fn page_statement(
        self,
        backend: DatabaseBackend,
        select: Select<article::Entity>,
        request: &PageRequest,
    ) -> Statement {
        match self {
            ListOrder::Articles => pagination::page_statement(
                backend,
                select,
                article::Column::CreatedAt,
                article::Column::Id,
                request,
            ),
            ListOrder::TagLinks => pagination::page_statement(
                backend,
                select,
                article_tag::Column::ArticleCreatedAt,
                article_tag::Column::ArticleId,
                request,
            ),
        }
    }
}

/// Which articles a statement reads the relations of.
#[derive(Clone, Copy)]
enum Articles<'a> {
    /// These ids: each relation comes from a derived table grouped by
    /// article, with the value in [`RELATION_VALUE`].
    Ids(&'a [i64]),
    /// Each row of the page the statement reads first ([`PAGE`]): each
    /// relation comes from a subquery for that row, with the value alone.
    Page,
}

/// The column of a derived table that holds the relation's value.
const RELATION_VALUE: &str = "n";

impl Articles<'_> {
    /// `select`, which reads `value` from rows whose article id is in
    /// `article`, narrowed to these articles.
    fn narrow(
        self,
        mut select: SelectStatement,
        value: SimpleExpr,
        article: impl IntoColumnRef + Clone,
    ) -> SelectStatement {
        match self {
            Articles::Ids(ids) => select
                .column(article.clone())
                .expr_as(value, Alias::new(RELATION_VALUE))
                .and_where(Expr::col(article.clone()).is_in(ids.iter().copied()))
                .group_by_col(article),
            Articles::Page => select
                .expr(value)
                .and_where(Expr::col(article).equals((Alias::new(PAGE), article::Column::Id))),
        };
        select
    }
}

/// The tag ids of each article of `of`, joined by [`TAG_SEPARATOR`], read
/// from `article_tags` alone ([`TagNames`] names them). Each backend spells a
/// string aggregate its own way.
fn tag_ids(backend: DatabaseBackend, of: Articles<'_>) -> SelectStatement {
    let joined = match backend {
        DatabaseBackend::Postgres => "string_agg(article_tags.tag_id::text, ',')",
        DatabaseBackend::MySql => "GROUP_CONCAT(CAST(article_tags.tag_id AS CHAR) SEPARATOR ',')",
        _ => "group_concat(article_tags.tag_id, ',')",
    };
    let mut select = Query::select();
    select.from(article_tag::Entity);
    of.narrow(
        select,
        Expr::cust(joined),
        (article_tag::Entity, article_tag::Column::ArticleId),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const BACKENDS: [DatabaseBackend; 3] = [
        DatabaseBackend::Postgres,
        DatabaseBackend::MySql,
        DatabaseBackend::Sqlite,
    ];
    use sea_orm::{ColumnTrait, IdenStatic, Iterable};

    #[test]
    fn the_author_columns_are_every_column_of_users_in_order() {
        let names = |columns: &mut dyn Iterator<Item = user::Column>| -> Vec<&'static str> {
            columns.map(|column| column.as_str()).collect()
        };
        assert_eq!(
            names(&mut PROFILE_COLUMNS.into_iter()),
            names(&mut user::Column::iter())
        );
    }

    #[test]
    fn a_page_with_relations_keeps_the_pages_sql_and_values_and_binds_nothing_else() {
        for backend in BACKENDS {
            let statements = RelationsStatements::new(backend);
            let page = backend.build(
                Query::select()
                    .column(article::Column::Id)
                    .from(article::Entity)
                    .and_where(article::Column::Slug.eq("a-slug")),
            );
            for order in [Order::Asc, Order::Desc] {
                let around = statements.around_page(&order);
                let joined = with_relations(page.clone(), &around);
                assert_eq!(joined.values, page.values, "{backend:?}");
                assert!(joined.sql.starts_with("WITH "), "{}", joined.sql);
                let inside = format!("AS ({}) SELECT ", page.sql);
                assert!(joined.sql.contains(&inside), "{}", joined.sql);
                let last = if order == Order::Asc { "ASC" } else { "DESC" };
                assert!(joined.sql.ends_with(last), "{}", joined.sql);
            }
        }
    }

    #[test]
    fn a_statement_made_once_per_length_equals_one_built_for_the_ids() {
        for backend in BACKENDS {
            let statements = RelationsStatements::new(backend);
            for ids in [vec![5, 9, 7], vec![0, 1, 2], vec![42], vec![3, 1, 4, 1, 5]] {
                let made = statements.for_ids(&ids);
                let built = backend.build(&relations_select(backend, &ids));
                assert_eq!(made.sql, built.sql, "{backend:?}");
                assert_eq!(made.values, built.values, "{backend:?} {ids:?}");
            }
        }
    }

    #[test]
    fn the_statement_never_reads_password_hashes() {
        for backend in BACKENDS {
            let sql = backend.build(&relations_select(backend, &[1, 2])).sql;
            let quote = if backend == DatabaseBackend::MySql {
                '`'
            } else {
                '"'
            };
            let column = format!("{quote}users{quote}.{quote}password_hash{quote}");
            assert!(!sql.contains(&column), "{sql}");
            assert!(
                sql.contains(&format!("'' AS {quote}password_hash{quote}")),
                "{sql}"
            );
        }
    }

    #[test]
    fn joined_tag_ids_split_back_into_ids() {
        let split = |joined| split_tag_ids(joined).expect("ids");
        assert_eq!(split(None), Vec::<i64>::new());
        assert_eq!(split(Some("")), Vec::<i64>::new());
        assert_eq!(split(Some("7")), vec![7]);
        assert_eq!(split(Some("3,12,5")), vec![3, 12, 5]);
        assert!(split_tag_ids(Some("3,x")).is_err());
    }

    #[test]
    fn the_statement_reads_tag_ids_without_joining_tags() {
        for backend in BACKENDS {
            let sql = backend.build(&relations_select(backend, &[1, 2])).sql;
            assert!(sql.contains("tag_id"), "{sql}");
            for joined in ["tags.name", "JOIN \"tags\"", "JOIN `tags`"] {
                assert!(!sql.contains(joined), "{sql}");
            }
        }
    }
}
