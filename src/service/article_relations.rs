//! What an article shows beside its own columns (its author, tag names,
//! favorite count and comment count) for a whole list of articles in one
//! statement: the author joined, the rest as correlated subqueries.

use std::collections::HashMap;

use entity::{article, comment, favorite, user};
use sea_orm::sea_query::{Expr, ExprTrait, Query, QueryStatementBuilder, SimpleExpr};
use sea_orm::{
    ColumnTrait, DatabaseBackend, DatabaseConnection, DbErr, EntityTrait, FromQueryResult,
    IdenStatic, Iterable, JoinType, QueryFilter, QueryResult, QuerySelect, RelationTrait,
};

use super::by_unbanned_author;
use crate::error::Result;

/// The relations of one article.
#[derive(Clone, Debug)]
pub struct ArticleRelations {
    /// The writer.
    pub author: user::Model,
    /// Tag names, in the database's order of names.
    pub tags: Vec<String>,
    /// How many users favorited it.
    pub favorites: i64,
    /// How many comments it has, leaving out those of banned users.
    pub comments: i64,
}

/// Prefix of the author's columns in the result.
const AUTHOR: &str = "author_";

/// Joins tag names in the result. Tag names cannot contain it (`fields::tags`).
const TAG_SEPARATOR: char = ',';

struct RelationsRow {
    article_id: i64,
    relations: ArticleRelations,
}

impl FromQueryResult for RelationsRow {
    fn from_query_result(row: &QueryResult, pre: &str) -> Result<Self, DbErr> {
        let tags: Option<String> = row.try_get(pre, "tags")?;
        Ok(Self {
            article_id: row.try_get(pre, "article_id")?,
            relations: ArticleRelations {
                author: user::Model::from_query_result(row, AUTHOR)?,
                tags: split_tags(tags.as_deref()),
                favorites: row.try_get(pre, "favorites")?,
                comments: row.try_get(pre, "comments")?,
            },
        })
    }
}

fn split_tags(joined: Option<&str>) -> Vec<String> {
    match joined {
        None | Some("") => Vec::new(),
        Some(joined) => joined.split(TAG_SEPARATOR).map(str::to_owned).collect(),
    }
}

/// The relations of each of `ids`, by article id. One statement; ids with no
/// article are missing from the map.
pub async fn for_articles(
    db: &DatabaseConnection,
    ids: &[i64],
) -> Result<HashMap<i64, ArticleRelations>> {
    let mut select = article::Entity::find()
        .select_only()
        .column_as(article::Column::Id, "article_id")
        .join(JoinType::InnerJoin, article::Relation::Author.def());
    for column in user::Column::iter() {
        select = select.column_as(
            Expr::col((user::Entity, column)),
            format!("{AUTHOR}{}", column.as_str()),
        );
    }
    let rows = select
        .expr_as(favorite_count(), "favorites")
        .expr_as(comment_count(), "comments")
        .expr_as(tag_names(db.get_database_backend()), "tags")
        .filter(article::Column::Id.is_in(ids.iter().copied()))
        .into_model::<RelationsRow>()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|row| (row.article_id, row.relations))
        .collect())
}

fn of_this_article(column: impl ColumnTrait) -> SimpleExpr {
    column
        .into_expr()
        .equals((article::Entity, article::Column::Id))
}

fn favorite_count() -> SimpleExpr {
    let count = Query::select()
        .expr(favorite::Column::UserId.count())
        .from(favorite::Entity)
        .and_where(of_this_article(favorite::Column::ArticleId))
        .to_owned();
    SimpleExpr::SubQuery(None, Box::new(count.into_sub_query_statement()))
}

fn comment_count() -> SimpleExpr {
    let count = Query::select()
        .expr(comment::Column::Id.count())
        .from(comment::Entity)
        .and_where(of_this_article(comment::Column::ArticleId))
        .and_where(by_unbanned_author(comment::Column::AuthorId))
        .to_owned();
    SimpleExpr::SubQuery(None, Box::new(count.into_sub_query_statement()))
}

/// The article's tag names joined by [`TAG_SEPARATOR`] in name order, or NULL.
/// Each backend spells an ordered string aggregate its own way.
fn tag_names(backend: DatabaseBackend) -> SimpleExpr {
    let joined = match backend {
        DatabaseBackend::Postgres => "string_agg(tags.name, ',' ORDER BY tags.name)",
        DatabaseBackend::MySql => "GROUP_CONCAT(tags.name ORDER BY tags.name SEPARATOR ',')",
        _ => "group_concat(tags.name, ',' ORDER BY tags.name)",
    };
    Expr::cust(format!(
        "(SELECT {joined} FROM article_tags JOIN tags ON tags.id = article_tags.tag_id \
         WHERE article_tags.article_id = articles.id)"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joined_tag_names_split_back_into_names() {
        assert_eq!(split_tags(None), Vec::<String>::new());
        assert_eq!(split_tags(Some("")), Vec::<String>::new());
        assert_eq!(split_tags(Some("rust")), vec!["rust"]);
        assert_eq!(split_tags(Some("a b,rust,web")), vec!["a b", "rust", "web"]);
    }
}
