//! Tags: linking them to articles, and the popular-tags list.

use std::collections::HashMap;

use entity::{article, article_tag, tag};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, EntityTrait, JoinType,
    QueryFilter, QueryOrder, QuerySelect, RelationTrait, Set, TransactionTrait,
};

use super::is_unique_violation;
use crate::cache::Generation;
use crate::error::Result;
use crate::state::AppState;

/// A tag and how many published articles carry it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TagCount {
    /// The tag.
    pub name: String,
    /// Published articles carrying it.
    pub articles: i64,
}

/// Links `names` to `article`, creating tags that do not exist yet. Each link
/// carries the article's creation time and publication, by which a tag's list
/// is read.
pub async fn attach(
    txn: &DatabaseTransaction,
    article: &article::Model,
    names: &[String],
) -> Result<()> {
    let article_id = article.id;
    if names.is_empty() {
        return Ok(());
    }
    let mut ids = ids_by_name(txn, names).await?;
    let missing: Vec<&String> = names.iter().filter(|n| !ids.contains_key(*n)).collect();
    for name in missing {
        // A savepoint, so that losing a race with another writer creating the
        // same tag does not abort the whole transaction.
        let savepoint = txn.begin().await?;
        let row = tag::ActiveModel {
            name: Set(name.clone()),
            ..Default::default()
        };
        match tag::Entity::insert(row).exec(&savepoint).await {
            Ok(done) => {
                savepoint.commit().await?;
                ids.insert(name.clone(), done.last_insert_id);
            }
            Err(err) if is_unique_violation(&err) => savepoint.rollback().await?,
            Err(err) => return Err(err.into()),
        }
    }
    if ids.len() < names.len() {
        ids = ids_by_name(txn, names).await?;
    }
    let links =
        names
            .iter()
            .filter_map(|name| ids.get(name))
            .map(|tag_id| article_tag::ActiveModel {
                article_id: Set(article_id),
                tag_id: Set(*tag_id),
                article_created_at: Set(article.created_at),
                article_published: Set(article.is_published()),
            });
    article_tag::Entity::insert_many(links)
        .exec_without_returning(txn)
        .await?;
    Ok(())
}

/// Copies the article's publication into its tag links.
pub async fn publication_changed(
    txn: &DatabaseTransaction,
    article_id: i64,
    published: bool,
) -> Result<()> {
    article_tag::Entity::update_many()
        .col_expr(
            article_tag::Column::ArticlePublished,
            sea_orm::sea_query::Expr::value(published),
        )
        .filter(article_tag::Column::ArticleId.eq(article_id))
        .exec(txn)
        .await?;
    Ok(())
}

/// Removes every tag link of the article.
pub async fn detach_all(txn: &DatabaseTransaction, article_id: i64) -> Result<()> {
    article_tag::Entity::delete_many()
        .filter(article_tag::Column::ArticleId.eq(article_id))
        .exec(txn)
        .await?;
    Ok(())
}

async fn ids_by_name(db: &impl ConnectionTrait, names: &[String]) -> Result<HashMap<String, i64>> {
    let rows = tag::Entity::find()
        .filter(tag::Column::Name.is_in(names.iter().cloned()))
        .all(db)
        .await?;
    Ok(rows.into_iter().map(|t| (t.name, t.id)).collect())
}

/// The tags of each of `ids`, alphabetically. One statement.
pub async fn for_articles(
    db: &DatabaseConnection,
    ids: &[i64],
) -> Result<HashMap<i64, Vec<String>>> {
    let rows: Vec<(i64, String)> = article_tag::Entity::find()
        .select_only()
        .column(article_tag::Column::ArticleId)
        .column(tag::Column::Name)
        .join(JoinType::InnerJoin, article_tag::Relation::Tag.def())
        .filter(article_tag::Column::ArticleId.is_in(ids.iter().copied()))
        .order_by_asc(tag::Column::Name)
        .into_tuple()
        .all(db)
        .await?;
    let mut out: HashMap<i64, Vec<String>> = HashMap::new();
    for (article_id, name) in rows {
        out.entry(article_id).or_default().push(name);
    }
    Ok(out)
}

/// The popular tags, read through the cache.
pub async fn popular_cached(state: &AppState, limit: u64) -> Result<Vec<TagCount>> {
    let db = state.db.clone();
    state
        .cache
        .get_or_load(
            &format!("tags:{limit}"),
            &[Generation::tags()],
            move || async move { popular(&db, limit).await },
        )
        .await
}

/// The `limit` tags on the most published articles, most used first, ties
/// by name. One statement, which reads the front of the index on the
/// maintained counts.
pub async fn popular(db: &DatabaseConnection, limit: u64) -> Result<Vec<TagCount>> {
    let rows: Vec<(String, i64)> = tag::Entity::find()
        .select_only()
        .column(tag::Column::Name)
        .column(tag::Column::ArticleCount)
        .filter(tag::Column::ArticleCount.gt(0))
        .order_by_desc(tag::Column::ArticleCount)
        .order_by_asc(tag::Column::Name)
        .limit(limit)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(name, articles)| TagCount { name, articles })
        .collect())
}
