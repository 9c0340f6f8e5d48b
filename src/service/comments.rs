//! Comments on articles. A comment is visible exactly when its article is.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use entity::{article, comment, user};
use sea_orm::sea_query::{Alias, Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    Iterable, QueryFilter, Set, TransactionTrait,
};

use super::counts::{self, AccountLock};
use super::retry::{gone_as_not_found, retry_transient};
use super::{IdMap, articles, by_unbanned_author, fields, now};
use crate::auth::capability::ResourceKind;
use crate::auth::{Action, Capability, Viewer};
use crate::cache::Generation;
use crate::db::columns::Columns;
use crate::db::pagination::{
    Cursor, Page, PageRequest, PageRow, RANKED, fetch_page, pages_of_parents, per_parent_statement,
};
use crate::db::profile_rows::{profile_at, select_profile};
use crate::error::{Error, Result};
use crate::pubsub::Event;
use crate::state::AppState;
use futures_util::TryFutureExt;

/// The cursor of a comment in a list.
pub fn cursor(comment: &comment::Model) -> Cursor {
    Cursor {
        at: comment.created_at,
        id: comment.id,
    }
}

/// One page of an article's comments: one statement, or none when cached.
pub async fn list(
    state: &AppState,
    article_id: i64,
    page: &PageRequest,
) -> Result<Page<comment::Model>> {
    let reads = state.list_reads.clone();
    let request = *page;
    let key = format!("comments:{article_id}:page={}", page.cache_key());
    state
        .cache
        .get_or_load(
            &key,
            &[Generation::comments(article_id)],
            move || async move {
                let select = comment::Entity::find()
                    .filter(comment::Column::ArticleId.eq(article_id))
                    .filter(by_unbanned_author(comment::Column::AuthorId));
                fetch_page(
                    &reads,
                    select,
                    comment::Column::CreatedAt,
                    comment::Column::Id,
                    &request,
                )
                .await
            },
        )
        .await
}

/// Whether a list of comments reads their authors in its statement.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CommentAuthors {
    /// Joined to each comment: the list shows them.
    Joined,
    /// Not read: the list does not show them, or they load apart.
    Apart,
}

/// Pages of comments, one per article, with their authors when read with
/// them.
pub struct CommentPages {
    /// Each article's page.
    pub pages: IdMap<Page<comment::Model>>,
    /// The authors of every comment of the pages, by user id, as profiles
    /// (without their password hash), when read with them
    /// ([`CommentAuthors::Joined`]).
    pub authors: Option<HashMap<i64, user::Model>>,
}

/// One page of `request` of the comments of each of `articles`, which the
/// caller has checked the viewer may see, with their `authors` when joined:
/// one statement for them all.
pub async fn pages_per_article(
    state: &AppState,
    articles: &[i64],
    request: &PageRequest,
    authors: CommentAuthors,
) -> Result<CommentPages> {
    let select = comment::Entity::find().filter(by_unbanned_author(comment::Column::AuthorId));
    let order = (comment::Column::CreatedAt, comment::Column::Id);
    let parent = (comment::Entity, comment::Column::ArticleId);
    let mut statement = per_parent_statement(select, parent, articles, order, request);
    if authors == CommentAuthors::Joined {
        select_profile(&mut statement);
        statement.inner_join(
            user::Entity,
            Expr::col((user::Entity, user::Column::Id))
                .equals((Alias::new(RANKED), comment::Column::AuthorId)),
        );
    }
    let backend = state.db.get_database_backend();
    let rows = state
        .list_reads
        .query_all_raw(backend.build(&statement))
        .await?;
    // The comment's columns, its parent and its place, then its author's.
    let width = comment::Column::iter().count();
    let mut joined = (authors == CommentAuthors::Joined).then(HashMap::new);
    let pages = pages_of_parents(&rows, width, articles, request, |row| {
        let comment = comment::Model::from_columns(row)?;
        if let Some(joined) = &mut joined
            && let Entry::Vacant(author) = joined.entry(comment.author_id)
        {
            author.insert(profile_at(row, width + 2)?);
        }
        Ok(comment)
    })?;
    Ok(CommentPages {
        pages,
        authors: joined,
    })
}

impl PageRow for comment::Model {
    fn from_columns(row: &Columns<'_>) -> Result<Self, DbErr> {
        Ok(Self {
            id: row.get(0)?,
            article_id: row.get(1)?,
            author_id: row.get(2)?,
            body: row.get(3)?,
            created_at: row.get(4)?,
            updated_at: row.get(5)?,
        })
    }
}

/// The comment with this id, if the viewer may see its article.
pub async fn find_visible(
    db: &DatabaseConnection,
    viewer: &Viewer,
    id: i64,
) -> Result<Option<(comment::Model, article::Model)>> {
    let found = comment::Entity::find_by_id(id)
        .filter(by_unbanned_author(comment::Column::AuthorId))
        .filter(by_unbanned_author(article::Column::AuthorId))
        .find_also_related(article::Entity)
        .one(db)
        .await?;
    Ok(match found {
        Some((comment, Some(article))) if articles::is_visible(viewer, &article) => {
            Some((comment, article))
        }
        _ => None,
    })
}

/// Like [`find_visible`], for a comment just added to `article_id`, read
/// through the cache: every subscriber to the article's comments asks for
/// the same comment at once, and one read serves them all.
pub async fn find_added_visible(
    state: &AppState,
    viewer: &Viewer,
    article_id: i64,
    id: i64,
) -> Result<Option<(comment::Model, article::Model)>> {
    let db = state.db.clone();
    let found: Option<(comment::Model, article::Model)> = state
        .cache
        .get_or_load(
            &format!("comment-id:{id}"),
            &[
                Generation::comments(article_id),
                Generation::article_id(article_id),
            ],
            move || async move {
                Ok(comment::Entity::find_by_id(id)
                    .filter(by_unbanned_author(comment::Column::AuthorId))
                    .filter(by_unbanned_author(article::Column::AuthorId))
                    .find_also_related(article::Entity)
                    .one(&db)
                    .await?
                    .and_then(|(comment, article)| Some((comment, article?))))
            },
        )
        .await?;
    Ok(found.filter(|(_, article)| articles::is_visible(viewer, article)))
}

/// Adds the viewer's comment to an article the viewer can see.
pub async fn add(
    state: &AppState,
    viewer: &Viewer,
    article_slug: &str,
    body: &str,
) -> Result<comment::Model> {
    let me = viewer.require_user()?;
    let body =
        fields::comment_body(body).map_err(|message| Error::invalid_field("body", message))?;
    let article = articles::find_by_slug(&state.db, viewer, article_slug).await?;
    viewer.authorize(&Capability::new(
        Action::CommentCreate,
        ResourceKind::Article,
        article.id,
        me,
    ))?;
    let at = now();
    let row = comment::ActiveModel {
        article_id: Set(article.id),
        author_id: Set(me),
        body: Set(body),
        created_at: Set(at),
        updated_at: Set(at),
        ..Default::default()
    };
    let article_id = article.id;
    let comment = retry_transient(|| {
        let row = row.clone();
        state
            .db
            .transaction::<_, comment::Model, Error>(|txn| {
                Box::pin(async move {
                    counts::lock_account(txn, me, AccountLock::Shared).await?;
                    // The count first: it holds the article, as deleting it does.
                    if !counts::comments_changed(txn, article_id, me, 1).await? {
                        return Err(Error::NotFound("article"));
                    }
                    Ok(row.insert(txn).await?)
                })
            })
            .map_err(Error::from)
    })
    .await
    .map_err(|err| gone_as_not_found(err, "article"))?;
    state
        .cache
        .invalidate(&[Generation::comments(article.id)])
        .await;
    state.pubsub.publish(Event::CommentAdded {
        article_id: article.id,
        comment_id: comment.id,
    });
    Ok(comment)
}

/// Deletes one of the viewer's comments.
pub async fn delete(state: &AppState, viewer: &Viewer, id: i64) -> Result<comment::Model> {
    viewer.require_user()?;
    let (comment, _) = find_visible(&state.db, viewer, id)
        .await?
        .ok_or(Error::NotFound("comment"))?;
    viewer.authorize(&Capability::new(
        Action::CommentDelete,
        ResourceKind::Comment,
        comment.id,
        comment.author_id,
    ))?;
    let (id, article_id, author_id) = (comment.id, comment.article_id, comment.author_id);
    retry_transient(|| {
        state
            .db
            .transaction::<_, (), Error>(|txn| {
                Box::pin(async move {
                    counts::lock_account(txn, author_id, AccountLock::Shared).await?;
                    let removed = comment::Entity::delete_by_id(id)
                        .exec(txn)
                        .await?
                        .rows_affected;
                    if removed > 0 {
                        counts::comments_changed(txn, article_id, author_id, -1).await?;
                    }
                    Ok(())
                })
            })
            .map_err(Error::from)
    })
    .await?;
    state
        .cache
        .invalidate(&[Generation::comments(comment.article_id)])
        .await;
    Ok(comment)
}
