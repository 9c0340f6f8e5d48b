//! Articles and drafts: listing, reading, writing, publishing, favorites.
//!
//! A draft is visible only to its author, and only through a token that allows
//! `article.read_draft`; everywhere else it does not exist (NOT_FOUND).

use std::sync::atomic::{AtomicBool, Ordering as AtomicOrdering};
use std::sync::{Arc, Mutex, PoisonError};

use entity::{article, article_tag, favorite, follow, tag, user};
use sea_orm::sea_query::{Expr, ExprTrait, IntoColumnRef, Query, SimpleExpr};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbErr,
    EntityTrait, Iterable, JoinType, PaginatorTrait, QueryFilter, QuerySelect, RelationTrait,
    Select, Set, TransactionTrait,
};

use super::counts::{self, AccountLock, Published, RowCounts};
use super::fields::{self, Validator};
use super::invalidation::{self, ArticleFootprint};
use super::retry::{gone_as_not_found, retry_transient};
use super::{IdMap, IdSet, by_unbanned_author, is_unique_violation, now, tags};
use crate::auth::capability::ResourceKind;
use crate::auth::{Action, Capability, Viewer};
use crate::cache::Generation;
use crate::db::article_relations::{self, ArticleRelations, ListOrder};
use crate::db::columns::Columns;
use crate::db::pagination::{Cursor, Page, PageRequest, PageRow, pages_per_parent};
use crate::error::{Error, Result};
use crate::pubsub::Event;
use crate::state::AppState;
use futures_util::TryFutureExt;

/// Which articles a list shows.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ArticleFilter {
    /// Only articles carrying this tag.
    pub tag: Option<String>,
    /// Only articles by this username.
    pub author: Option<String>,
    /// Only articles favorited by this username.
    pub favorited_by: Option<String>,
    /// Published articles, or the viewer's own drafts.
    pub drafts: bool,
    /// Only articles by authors this user follows (the feed).
    pub followed_by: Option<i64>,
}

/// What `createArticle` asks for.
#[derive(Clone, Debug)]
pub struct NewArticle {
    /// Headline.
    pub title: String,
    /// Summary.
    pub description: String,
    /// Markdown body.
    pub body: String,
    /// Tags.
    pub tags: Vec<String>,
    /// Keep it as a draft instead of publishing.
    pub draft: bool,
}

/// The changes `updateArticle` may carry; `None` leaves a field alone.
#[derive(Clone, Debug, Default)]
pub struct ArticleChanges {
    /// New headline; the slug follows it.
    pub title: Option<String>,
    /// New summary.
    pub description: Option<String>,
    /// New body.
    pub body: Option<String>,
    /// New tag list, replacing the old one.
    pub tags: Option<Vec<String>>,
}

/// Whether a list reads its articles' bodies. Bodies are most of an article's
/// bytes and a list of cards shows none, so a list that will not show them
/// leaves them in the database: each row then carries an empty body, and
/// [`bodies`] reads them later if they are wanted after all.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Bodies {
    /// The rows carry their bodies.
    Included,
    /// The rows carry empty bodies.
    Omitted,
}

/// The cursor of an article in a list.
pub fn cursor(article: &article::Model) -> Cursor {
    Cursor {
        at: article.created_at,
        id: article.id,
    }
}

/// Whether the viewer may see `article`.
pub fn is_visible(viewer: &Viewer, article: &article::Model) -> bool {
    article.is_published()
        || viewer.may(&Capability::new(
            Action::ArticleReadDraft,
            ResourceKind::Article,
            article.id,
            article.author_id,
        ))
}

/// `select` with an empty string in place of the body, every other column
/// where it was ([`crate::db::pagination::PageRow`] reads them by position).
fn without_bodies(select: Select<article::Entity>) -> Select<article::Entity> {
    let mut select = select.select_only();
    for column in article::Column::iter() {
        select = match column {
            article::Column::Body => select.expr_as(Expr::cust("''"), "body"),
            column => select.column(column),
        };
    }
    select
}

fn filtered(viewer: &Viewer, filter: &ArticleFilter) -> Select<article::Entity> {
    let mut select = article::Entity::find().filter(by_unbanned_author(article::Column::AuthorId));
    if filter.drafts {
        // Only the viewer's own drafts; nobody else's, and none for anonymous callers.
        select = select
            .filter(article::Column::PublishedAt.is_null())
            .filter(article::Column::AuthorId.eq(viewer.user_id().unwrap_or(-1)));
    } else {
        select = select.filter(article::Column::PublishedAt.is_not_null());
    }
    if let Some(author) = &filter.author {
        select = select.filter(
            article::Column::AuthorId.in_subquery(
                Query::select()
                    .column(user::Column::Id)
                    .from(user::Entity)
                    .and_where(user::Column::UsernameKey.eq(super::users::username_key(author)))
                    .to_owned(),
            ),
        );
    }
    if let Some(name) = &filter.tag {
        select = select.filter(
            article::Column::Id.in_subquery(
                Query::select()
                    .column((article_tag::Entity, article_tag::Column::ArticleId))
                    .from(article_tag::Entity)
                    .inner_join(
                        tag::Entity,
                        Expr::col((tag::Entity, tag::Column::Id))
                            .equals((article_tag::Entity, article_tag::Column::TagId)),
                    )
                    .and_where(Expr::col((tag::Entity, tag::Column::Name)).eq(name.trim()))
                    .to_owned(),
            ),
        );
    }
    if let Some(username) = &filter.favorited_by {
        select = select.filter(
            article::Column::Id.in_subquery(
                Query::select()
                    .column((favorite::Entity, favorite::Column::ArticleId))
                    .from(favorite::Entity)
                    .inner_join(
                        user::Entity,
                        Expr::col((user::Entity, user::Column::Id))
                            .equals((favorite::Entity, favorite::Column::UserId)),
                    )
                    .and_where(
                        Expr::col((user::Entity, user::Column::UsernameKey))
                            .eq(super::users::username_key(username)),
                    )
                    .to_owned(),
            ),
        );
    }
    if let Some(follower) = filter.followed_by {
        select = select.filter(
            article::Column::AuthorId.in_subquery(
                Query::select()
                    .column(follow::Column::FolloweeId)
                    .from(follow::Entity)
                    .and_where(follow::Column::FollowerId.eq(follower))
                    .to_owned(),
            ),
        );
    }
    select
}

/// The articles `filter` selects and the columns their list is ordered by.
/// A tag's list is read through the tag's links, in the order their index
/// keeps (each link carries its article's creation time and publication):
/// its newest articles are the front of the index, where narrowing the
/// articles by the tag read every article newer than the page's last.
fn listed(viewer: &Viewer, filter: &ArticleFilter) -> (Select<article::Entity>, ListOrder) {
    let Some(name) = &filter.tag else {
        return (filtered(viewer, filter), ListOrder::Articles);
    };
    let untagged = ArticleFilter {
        tag: None,
        ..filter.clone()
    };
    let select = filtered(viewer, &untagged)
        .join(JoinType::InnerJoin, article::Relation::ArticleTag.def())
        // One tag: a value, not a set, so that the planner reads its links
        // from the index instead of joining every link to the tags.
        .filter(
            Expr::col((article_tag::Entity, article_tag::Column::TagId)).eq(SimpleExpr::SubQuery(
                None,
                Box::new(
                    Query::select()
                        .column(tag::Column::Id)
                        .from(tag::Entity)
                        .and_where(tag::Column::Name.eq(name.trim()))
                        .to_owned()
                        .into(),
                ),
            )),
        )
        .filter(article_tag::Column::ArticlePublished.eq(!filter.drafts));
    (select, ListOrder::TagLinks)
}

/// Checks the viewer may list drafts or read the feed, as the filter asks.
pub fn authorize_filter(viewer: &Viewer, filter: &ArticleFilter) -> Result<()> {
    if filter.drafts {
        let me = viewer.require_user()?;
        viewer.authorize(&Capability::new(
            Action::ArticleReadDraft,
            ResourceKind::User,
            me,
            me,
        ))?;
    }
    if let Some(follower) = filter.followed_by {
        viewer.authorize(&Capability::on_user(Action::FeedRead, follower))?;
    }
    Ok(())
}

/// The cache key and generations of a list of published articles, when the
/// filter names nothing viewer-specific; `None` for drafts, feeds and favorites.
async fn list_cache(
    state: &AppState,
    filter: &ArticleFilter,
) -> Result<Option<(String, Vec<Generation>)>> {
    if filter.drafts
        || filter.followed_by.is_some()
        || filter.favorited_by.is_some()
        || !state.cache.keeps_values()
    {
        return Ok(None);
    }
    let mut key = String::from("articles");
    let mut generations = vec![Generation::all_lists()];
    if let Some(tag) = &filter.tag {
        let tag = tag.trim();
        if tag.len() > 64 {
            return Ok(None);
        }
        key.push_str(&format!(":tag={tag}"));
        generations.push(Generation::tag_lists(tag));
    }
    if let Some(author) = &filter.author {
        let Some(user) = super::users::find_profile_cached(state, author).await? else {
            return Ok(None);
        };
        key.push_str(&format!(":author={}", user.id));
        generations.push(Generation::author_lists(user.id));
    }
    Ok(Some((key, generations)))
}

/// Whether a list reads its articles' relations (author, tag names and
/// counts) in the statement that reads its page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Relations {
    /// In the page's statement: one statement where a list of cards took two.
    Joined,
    /// Not with the page: they are loaded apart when asked for, if ever.
    Apart,
}

/// A page of articles, with their relations when they were read with it.
pub struct Listed {
    /// The page.
    pub page: Page<article::Model>,
    /// Whether the page's rows were read for this request, with their
    /// counts as they are now.
    pub counts: RowCounts,
    /// The relations of its articles, by article id, when this call read the
    /// page with them; `None` when it did not (or the page came from the
    /// cache, or from the read of a request this one waited for).
    pub relations: Option<IdMap<ArticleRelations>>,
}

/// One page of the articles `filter` selects: one statement, or none when cached.
pub async fn list(
    state: &AppState,
    viewer: &Viewer,
    filter: &ArticleFilter,
    page: &PageRequest,
    bodies: Bodies,
    relations: Relations,
) -> Result<Listed> {
    authorize_filter(viewer, filter)?;
    let (select, order) = listed(viewer, filter);
    let select = match bodies {
        Bodies::Included => select,
        Bodies::Omitted => without_bodies(select),
    };
    let db = state.db.clone();
    let reads = state.list_reads.clone();
    let request = *page;
    let around = state.relation_statements.around_page(&page.read_order());
    let tag_names = state.tag_names.clone();
    // What the read found beside the page; the cache keeps only the page.
    let read_with_page: Arc<Mutex<Option<IdMap<ArticleRelations>>>> = Arc::default();
    let found = read_with_page.clone();
    let read_here = Arc::new(AtomicBool::new(false));
    let reading = read_here.clone();
    let load = move || async move {
        reading.store(true, AtomicOrdering::Relaxed);
        match relations {
            Relations::Apart => {
                let statement =
                    order.page_statement(reads.get_database_backend(), select, &request);
                let rows = reads.query_all_raw(statement).await?;
                let on_page = rows[..request.rows_on_page(rows.len())]
                    .iter()
                    .map(|row| article::Model::from_columns(&Columns::new(row)))
                    .collect::<Result<Vec<_>, DbErr>>()?;
                Ok(request.page_of_first(on_page, rows.len()))
            }
            Relations::Joined => {
                let (page, relations) = article_relations::page_with_relations(
                    &db,
                    &reads,
                    (select, order),
                    &request,
                    &around,
                    &tag_names,
                )
                .await?;
                *found.lock().unwrap_or_else(PoisonError::into_inner) = Some(relations);
                Ok(page)
            }
        }
    };
    let page = match list_cache(state, filter).await? {
        Some((key, generations)) => {
            let key = match bodies {
                Bodies::Included => format!("{key}:page={}", page.cache_key()),
                Bodies::Omitted => format!("{key}:page={}:bodies=omitted", page.cache_key()),
            };
            state.cache.get_or_load(&key, &generations, load).await?
        }
        None => load().await?,
    };
    let relations = read_with_page
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .take();
    let counts = counts_of(&read_here);
    Ok(Listed {
        page,
        counts,
        relations,
    })
}

/// Whose articles [`pages_per_user`] reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UserArticles {
    /// The articles each user published.
    Published,
    /// Each user's drafts: only the viewer's own, with a token that may read
    /// them.
    Drafts,
    /// The published articles each user favorited.
    Favorites,
}

impl ArticleFilter {
    /// The filter that lists `list` of the user named `username` alone.
    pub fn of_user_list(list: UserArticles, username: String) -> Self {
        match list {
            UserArticles::Published => Self {
                author: Some(username),
                ..Default::default()
            },
            UserArticles::Drafts => Self {
                author: Some(username),
                drafts: true,
                ..Default::default()
            },
            UserArticles::Favorites => Self {
                favorited_by: Some(username),
                ..Default::default()
            },
        }
    }
}

/// Pages of articles, one per parent, with the articles' relations when they
/// were read with them.
pub struct ListedPerParent {
    /// Each parent's page.
    pub pages: IdMap<Page<article::Model>>,
    /// The relations of every article of the pages, by article id, when
    /// read with them ([`Relations::Joined`]).
    pub relations: Option<IdMap<ArticleRelations>>,
}

/// One page of `request` of the articles `list` names for each of `users`
/// (at least two; one user's list is [`list`]ed), in one statement for them
/// all, with or without their `bodies` and `relations`.
pub async fn pages_per_user(
    state: &AppState,
    viewer: &Viewer,
    (list, users): (UserArticles, &[i64]),
    request: &PageRequest,
    bodies: Bodies,
    relations: Relations,
) -> Result<ListedPerParent> {
    let filter = ArticleFilter {
        drafts: list == UserArticles::Drafts,
        ..Default::default()
    };
    authorize_filter(viewer, &filter)?;
    let select = filtered(viewer, &filter);
    let select = match bodies {
        Bodies::Included => select,
        Bodies::Omitted => without_bodies(select),
    };
    let (select, parent) = match list {
        UserArticles::Published | UserArticles::Drafts => (
            select,
            (article::Entity, article::Column::AuthorId).into_column_ref(),
        ),
        UserArticles::Favorites => (
            select.join(JoinType::InnerJoin, article::Relation::Favorite.def()),
            (favorite::Entity, favorite::Column::UserId).into_column_ref(),
        ),
    };
    let reads = &state.list_reads;
    match relations {
        Relations::Apart => {
            let order = (article::Column::CreatedAt, article::Column::Id);
            let pages = pages_per_parent(reads, select, parent, users, order, request).await?;
            Ok(ListedPerParent {
                pages,
                relations: None,
            })
        }
        Relations::Joined => {
            let around = state.relation_statements.around_page(&request.read_order());
            let (pages, relations) = article_relations::pages_per_parent_with_relations(
                &state.db,
                reads,
                select,
                (parent, users),
                request,
                &around,
                &state.tag_names,
            )
            .await?;
            Ok(ListedPerParent {
                pages,
                relations: Some(relations),
            })
        }
    }
}

/// How many articles `list` holds for each of `users`, as the viewer sees
/// them; one statement. Published articles come from the maintained counts;
/// drafts and favorites are counted from the users' own rows (their drafts
/// or favorites), never from the whole table.
pub async fn counts_per_user(
    db: &DatabaseConnection,
    viewer: &Viewer,
    list: UserArticles,
    users: &[i64],
) -> Result<IdMap<i64>> {
    let users = users.iter().copied();
    let rows: Vec<(i64, i64)> = match list {
        UserArticles::Published => {
            user::Entity::find()
                .select_only()
                .column(user::Column::Id)
                .column(user::Column::ArticlesCount)
                .filter(user::Column::Id.is_in(users))
                .into_tuple()
                .all(db)
                .await?
        }
        UserArticles::Drafts => {
            // Only the viewer's own drafts are listed, so only theirs count.
            let me = viewer.user_id().unwrap_or(-1);
            filtered(
                viewer,
                &ArticleFilter {
                    drafts: true,
                    ..Default::default()
                },
            )
            .select_only()
            .column(article::Column::AuthorId)
            .column_as(article::Column::Id.count(), "n")
            .filter(article::Column::AuthorId.is_in(users.filter(|id| *id == me)))
            .group_by(article::Column::AuthorId)
            .into_tuple()
            .all(db)
            .await?
        }
        UserArticles::Favorites => {
            filtered(viewer, &ArticleFilter::default())
                .select_only()
                .column(favorite::Column::UserId)
                .column_as(article::Column::Id.count(), "n")
                .join(JoinType::InnerJoin, article::Relation::Favorite.def())
                .filter(favorite::Column::UserId.is_in(users))
                .group_by(favorite::Column::UserId)
                .into_tuple()
                .all(db)
                .await?
        }
    };
    Ok(rows.into_iter().collect())
}

impl PageRow for article::Model {
    fn from_columns(row: &Columns<'_>) -> Result<Self, DbErr> {
        Ok(Self {
            id: row.get(0)?,
            slug: row.get(1)?,
            title: row.get(2)?,
            description: row.get(3)?,
            body: row.get(4)?,
            author_id: row.get(5)?,
            published_at: row.get(6)?,
            created_at: row.get(7)?,
            updated_at: row.get(8)?,
            favorites_count: row.get(9)?,
            comments_count: row.get(10)?,
        })
    }
}

/// How many articles `filter` selects: one statement, or none when cached.
///
/// The lists clients page through most (all published articles, a tag's, an
/// author's, the feed) take their count from the maintained counts, without
/// reading the articles; the others (favorites, drafts, several conditions
/// at once) count the rows the filter's index leads to.
pub async fn count(state: &AppState, viewer: &Viewer, filter: &ArticleFilter) -> Result<u64> {
    authorize_filter(viewer, filter)?;
    let select = filtered(viewer, filter);
    let db = state.db.clone();
    let maintained = maintained_count(filter);
    let load = move || async move {
        match maintained {
            Some(which) => {
                Ok(u64::try_from(counts::published_articles(&db, &which).await?).unwrap_or(0))
            }
            None => Ok(select.count(&db).await?),
        }
    };
    match list_cache(state, filter).await? {
        Some((key, generations)) => {
            state
                .cache
                .get_or_load(&format!("{key}:count"), &generations, load)
                .await
        }
        None => load().await,
    }
}

/// Which maintained count holds the number of articles `filter` selects,
/// when it names one condition that has one: all published articles, a
/// tag's, an author's, or those of the authors someone follows.
fn maintained_count(filter: &ArticleFilter) -> Option<Published> {
    let ArticleFilter {
        tag,
        author,
        favorited_by,
        drafts,
        followed_by,
    } = filter;
    if *drafts || favorited_by.is_some() {
        return None;
    }
    match (tag, author, followed_by) {
        (None, None, None) => Some(Published::All),
        (Some(name), None, None) => Some(Published::Tagged(name.trim().to_owned())),
        (None, Some(username), None) => Some(Published::By(super::users::username_key(username))),
        (None, None, Some(follower)) => Some(Published::FollowedBy(*follower)),
        _ => None,
    }
}

/// The article with this slug, if the viewer may see it; NOT_FOUND otherwise.
pub async fn find_by_slug(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    slug: &str,
) -> Result<article::Model> {
    let article = article::Entity::find()
        .filter(article::Column::Slug.eq(slug.trim()))
        .filter(by_unbanned_author(article::Column::AuthorId))
        .one(db)
        .await?
        .ok_or(Error::NotFound("article"))?;
    if is_visible(viewer, &article) {
        Ok(article)
    } else {
        Err(Error::NotFound("article"))
    }
}

/// Most articles one narrowed token may be limited to.
pub const MAX_ARTICLES_PER_ATTENUATION: usize = 20;

/// The ids of the articles with these slugs, in the order given, for
/// narrowing a token to them: at most [`MAX_ARTICLES_PER_ATTENUATION`]
/// (checked before anything is read), read in one statement. NOT_FOUND when
/// one does not exist or the viewer may not see it.
pub async fn ids_for_attenuation(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    slugs: &[String],
) -> Result<Vec<i64>> {
    if slugs.len() > MAX_ARTICLES_PER_ATTENUATION {
        return Err(Error::invalid_field(
            "articleSlugs",
            format!("at most {MAX_ARTICLES_PER_ATTENUATION} articles"),
        ));
    }
    if slugs.is_empty() {
        return Ok(Vec::new());
    }
    let wanted: Vec<&str> = slugs.iter().map(|slug| slug.trim()).collect();
    let found = article::Entity::find()
        .filter(article::Column::Slug.is_in(wanted.iter().copied()))
        .filter(by_unbanned_author(article::Column::AuthorId))
        .all(db)
        .await?;
    wanted
        .iter()
        .map(|slug| {
            found
                .iter()
                .find(|article| article.slug == *slug && is_visible(viewer, article))
                .map(|article| article.id)
                .ok_or(Error::NotFound("article"))
        })
        .collect()
}

/// The article with this slug, if the viewer may see it, read through the cache.
pub async fn find_by_slug_cached(
    state: &AppState,
    viewer: &Viewer,
    slug: &str,
) -> Result<(article::Model, RowCounts)> {
    let slug = slug.trim().to_owned();
    if slug.is_empty() || slug.len() > 255 {
        return Err(Error::NotFound("article"));
    }
    let db = state.db.clone();
    let lookup = slug.clone();
    let read_here = Arc::new(AtomicBool::new(false));
    let reading = read_here.clone();
    let row: Option<article::Model> = state
        .cache
        .get_or_load(
            &format!("article:{slug}"),
            &[Generation::article(&slug)],
            move || async move {
                reading.store(true, AtomicOrdering::Relaxed);
                Ok(article::Entity::find()
                    .filter(article::Column::Slug.eq(lookup))
                    .filter(by_unbanned_author(article::Column::AuthorId))
                    .one(&db)
                    .await?)
            },
        )
        .await?;
    match row {
        Some(article) if is_visible(viewer, &article) => Ok((article, counts_of(&read_here))),
        _ => Err(Error::NotFound("article")),
    }
}

/// The counts of a row read through the cache: current when this request
/// read it (`read_here`).
fn counts_of(read_here: &AtomicBool) -> RowCounts {
    if read_here.load(AtomicOrdering::Relaxed) {
        RowCounts::Current
    } else {
        RowCounts::MayLag
    }
}

/// The article with this id, if the viewer may see it, read through the cache.
pub async fn find_by_id_cached(
    state: &AppState,
    viewer: &Viewer,
    id: i64,
) -> Result<Option<(article::Model, RowCounts)>> {
    let db = state.db.clone();
    let read_here = Arc::new(AtomicBool::new(false));
    let reading = read_here.clone();
    let row: Option<article::Model> = state
        .cache
        .get_or_load(
            &format!("article-id:{id}"),
            &[Generation::article_id(id)],
            move || async move {
                reading.store(true, AtomicOrdering::Relaxed);
                Ok(by_ids(&db, &[id]).await?.remove(&id))
            },
        )
        .await?;
    Ok(row
        .filter(|article| is_visible(viewer, article))
        .map(|article| (article, counts_of(&read_here))))
}

/// Articles by id, for loaders; drafts are the caller's to check, banned
/// authors' articles are left out. One statement.
pub async fn by_ids(db: &DatabaseConnection, ids: &[i64]) -> Result<IdMap<article::Model>> {
    let rows = article::Entity::find()
        .filter(article::Column::Id.is_in(ids.iter().copied()))
        .filter(by_unbanned_author(article::Column::AuthorId))
        .all(db)
        .await?;
    Ok(rows.into_iter().map(|a| (a.id, a)).collect())
}

/// The bodies of the articles with `ids`, for a list that left them out
/// ([`Bodies::Omitted`]). One statement.
pub async fn bodies(db: &DatabaseConnection, ids: &[i64]) -> Result<IdMap<String>> {
    let rows: Vec<(i64, String)> = article::Entity::find()
        .select_only()
        .column(article::Column::Id)
        .column(article::Column::Body)
        .filter(article::Column::Id.is_in(ids.iter().copied()))
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows.into_iter().collect())
}

/// Writes a new article (published unless `draft`) with its tags, in one transaction.
pub async fn create(
    state: &AppState,
    viewer: &Viewer,
    input: NewArticle,
) -> Result<article::Model> {
    let me = viewer.authorize_own(Action::ArticleCreate)?;
    let mut v = Validator::default();
    let title = v.field("title", fields::title(&input.title));
    let description = v.field("description", fields::description(&input.description));
    let body = v.field("body", fields::article_body(&input.body));
    let tag_names = v.field("tags", fields::tags(&input.tags));
    let (Some(title), Some(description), Some(body), Some(tag_names)) =
        (title, description, body, tag_names)
    else {
        return Err(v.into_error());
    };
    let mut attempt = 0;
    let article = loop {
        attempt += 1;
        let (title, description, body, tag_names) = (
            title.clone(),
            description.clone(),
            body.clone(),
            tag_names.clone(),
        );
        let result = retry_transient(|| {
            let (title, description, body, tag_names) = (
                title.clone(),
                description.clone(),
                body.clone(),
                tag_names.clone(),
            );
            state
                .db
                .transaction::<_, article::Model, Error>(|txn| {
                    Box::pin(async move {
                        counts::lock_account(txn, me, AccountLock::Exclusive).await?;
                        let at = now();
                        let slug = free_slug(txn, &title, None, input.draft).await?;
                        let row = article::ActiveModel {
                            slug: Set(slug),
                            title: Set(title),
                            description: Set(description),
                            body: Set(body),
                            author_id: Set(me),
                            published_at: Set((!input.draft).then_some(at)),
                            created_at: Set(at),
                            updated_at: Set(at),
                            ..Default::default()
                        };
                        let article = row.insert(txn).await?;
                        tags::attach(txn, &article, &tag_names).await?;
                        if article.is_published() {
                            counts::publication_changed(txn, article.id, me, 1).await?;
                        }
                        Ok(article)
                    })
                })
                .map_err(Error::from)
        })
        .await;
        match result {
            // Another writer took the same slug between our check and insert: pick again.
            Err(Error::Database(err)) if attempt < 3 && is_unique_violation(&err) => continue,
            other => break other?,
        }
    };
    let footprint = ArticleFootprint::of(&article, &tag_names);
    state.cache.invalidate(&footprint.generations()).await;
    tracing::info!(
        article_id = article.id,
        draft = input.draft,
        "article created"
    );
    if article.is_published() {
        state.pubsub.publish(Event::ArticlePublished {
            article_id: article.id,
            author_id: article.author_id,
            tags: tag_names,
        });
    }
    Ok(article)
}

/// Changes an article's text or tags, in one transaction. A new title gives a new slug.
pub async fn update(
    state: &AppState,
    viewer: &Viewer,
    slug: &str,
    changes: ArticleChanges,
) -> Result<article::Model> {
    let current = find_by_slug(&state.db, viewer, slug).await?;
    viewer.authorize(&owned(Action::ArticleUpdate, &current))?;
    let mut v = Validator::default();
    let title = v.optional("title", changes.title.as_deref(), fields::title);
    let description = v.optional(
        "description",
        changes.description.as_deref(),
        fields::description,
    );
    let body = v.optional("body", changes.body.as_deref(), fields::article_body);
    let tag_names = v.optional("tags", changes.tags.as_deref(), fields::tags);
    let (Some(title), Some(description), Some(body), Some(tag_names)) =
        (title, description, body, tag_names)
    else {
        return Err(v.into_error());
    };
    let before = invalidation::footprint(state, &current).await?;
    let new_tags = tag_names.clone();
    let changes = (title, description, body, tag_names);
    let updated = retry_transient(|| {
        let (title, description, body, tag_names) = changes.clone();
        let current = current.clone();
        state
            .db
            .transaction::<_, article::Model, Error>(|txn| {
                Box::pin(async move {
                    let (id, author) = (current.id, current.author_id);
                    counts::lock_account(txn, author, AccountLock::Shared).await?;
                    let mut row: article::ActiveModel = current.clone().into();
                    if let Some(title) = title {
                        if title != current.title {
                            let draft = !current.is_published();
                            row.slug = Set(free_slug(txn, &title, Some(id), draft).await?);
                        }
                        row.title = Set(title);
                    }
                    if let Some(description) = description {
                        row.description = Set(description);
                    }
                    if let Some(body) = body {
                        row.body = Set(body);
                    }
                    row.updated_at = Set(now());
                    let article = row.update(txn).await?;
                    if let Some(tag_names) = tag_names {
                        counts::tag_links_changed(txn, id, author, -1).await?;
                        tags::detach_all(txn, id).await?;
                        tags::attach(txn, &article, &tag_names).await?;
                        counts::tag_links_changed(txn, id, author, 1).await?;
                    }
                    Ok(article)
                })
            })
            .map_err(Error::from)
    })
    .await
    .map_err(|err| gone_as_not_found(err, "article"))?;
    let after = ArticleFootprint::of(&updated, &new_tags.unwrap_or_default());
    state
        .cache
        .invalidate(&before.merge(after).generations())
        .await;
    Ok(updated)
}

/// Publishes a draft; publishing a published article changes nothing.
pub async fn publish(state: &AppState, viewer: &Viewer, slug: &str) -> Result<article::Model> {
    let current = find_by_slug(&state.db, viewer, slug).await?;
    viewer.authorize(&owned(Action::ArticlePublish, &current))?;
    if current.is_published() {
        return Ok(current);
    }
    let Some(article) = change_publication(state, current, Some(now())).await? else {
        // Published meanwhile by another request.
        return find_by_slug(&state.db, viewer, slug).await;
    };
    let footprint = invalidation::footprint(state, &article).await?;
    state.cache.invalidate(&footprint.generations()).await;
    tracing::info!(article_id = article.id, "article published");
    state.pubsub.publish(Event::ArticlePublished {
        article_id: article.id,
        author_id: article.author_id,
        tags: footprint.tags.into_iter().collect(),
    });
    Ok(article)
}

/// Turns a published article back into a draft: its author or a moderator may.
pub async fn unpublish(state: &AppState, viewer: &Viewer, slug: &str) -> Result<article::Model> {
    let current = find_by_slug(&state.db, viewer, slug).await?;
    viewer.authorize(&owned(Action::ArticleUnpublish, &current))?;
    if !current.is_published() {
        return Ok(current);
    }
    let Some(article) = change_publication(state, current, None).await? else {
        // Unpublished meanwhile by another request.
        return find_by_slug(&state.db, viewer, slug).await;
    };
    let footprint = invalidation::footprint(state, &article).await?;
    state.cache.invalidate(&footprint.generations()).await;
    tracing::info!(
        article_id = article.id,
        by = viewer.user_id(),
        "article unpublished"
    );
    Ok(article)
}

/// Publishes `current` at `published_at`, or turns it into a draft when
/// `None`, with the counts that follow, in one transaction. `None` when
/// another request made the same change first.
async fn change_publication(
    state: &AppState,
    current: article::Model,
    published_at: Option<chrono::DateTime<chrono::Utc>>,
) -> Result<Option<article::Model>> {
    let (id, author) = (current.id, current.author_id);
    retry_transient(|| {
        state
            .db
            .transaction::<_, Option<article::Model>, Error>(|txn| {
                Box::pin(async move {
                    counts::lock_account(txn, author, AccountLock::Exclusive).await?;
                    let publishing = published_at.is_some();
                    let changed = article::Entity::update_many()
                        .col_expr(article::Column::PublishedAt, Expr::value(published_at))
                        .col_expr(
                            article::Column::UpdatedAt,
                            Expr::value(published_at.unwrap_or_else(now)),
                        )
                        .filter(article::Column::Id.eq(id))
                        .filter(if publishing {
                            article::Column::PublishedAt.is_null()
                        } else {
                            article::Column::PublishedAt.is_not_null()
                        })
                        .exec(txn)
                        .await?
                        .rows_affected;
                    if changed == 0 {
                        return Ok(None);
                    }
                    let delta = if publishing { 1 } else { -1 };
                    counts::publication_changed(txn, id, author, delta).await?;
                    tags::publication_changed(txn, id, publishing).await?;
                    Ok(article::Entity::find_by_id(id).one(txn).await?)
                })
            })
            .map_err(Error::from)
    })
    .await
}

/// Deletes an article with its comments, favorites and tag links, in one transaction.
pub async fn delete(state: &AppState, viewer: &Viewer, slug: &str) -> Result<article::Model> {
    let current = find_by_slug(&state.db, viewer, slug).await?;
    viewer.authorize(&owned(Action::ArticleDelete, &current))?;
    let (id, author) = (current.id, current.author_id);
    let footprint = invalidation::footprint(state, &current).await?;
    retry_transient(|| {
        state
            .db
            .transaction::<_, (), Error>(|txn| {
                Box::pin(async move {
                    counts::lock_account(txn, author, AccountLock::Exclusive).await?;
                    let published = article::Entity::find_by_id(id)
                        .one(txn)
                        .await?
                        .is_some_and(|row| row.is_published());
                    if published {
                        counts::publication_changed(txn, id, author, -1).await?;
                    }
                    delete_rows(txn, id).await
                })
            })
            .map_err(Error::from)
    })
    .await?;
    let mut generations = footprint.generations();
    generations.push(Generation::comments(id));
    state.cache.invalidate(&generations).await;
    tracing::info!(article_id = id, "article deleted");
    Ok(current)
}

async fn delete_rows(txn: &DatabaseTransaction, id: i64) -> Result<()> {
    entity::comment::Entity::delete_many()
        .filter(entity::comment::Column::ArticleId.eq(id))
        .exec(txn)
        .await?;
    favorite::Entity::delete_many()
        .filter(favorite::Column::ArticleId.eq(id))
        .exec(txn)
        .await?;
    tags::detach_all(txn, id).await?;
    article::Entity::delete_by_id(id).exec(txn).await?;
    Ok(())
}

/// Adds the article to the viewer's favorites; twice is the same as once.
pub async fn favorite(
    db: &DatabaseConnection,
    viewer: &Viewer,
    slug: &str,
) -> Result<article::Model> {
    let article = find_by_slug(db, viewer, slug).await?;
    let me = viewer.require_user()?;
    viewer.authorize(&Capability::new(
        Action::ArticleFavorite,
        ResourceKind::Article,
        article.id,
        me,
    ))?;
    let id = article.id;
    let added = retry_transient(|| {
        db.transaction::<_, (), Error>(|txn| {
            Box::pin(async move {
                // The count first: it holds the article, as deleting it does.
                if !counts::favorites_changed(txn, id, 1).await? {
                    return Err(Error::NotFound("article"));
                }
                let row = favorite::ActiveModel {
                    user_id: Set(me),
                    article_id: Set(id),
                    created_at: Set(now()),
                };
                favorite::Entity::insert(row)
                    .exec_without_returning(txn)
                    .await?;
                Ok(())
            })
        })
        .map_err(Error::from)
    })
    .await;
    match added {
        Ok(()) => Ok(article),
        // Favorited already: twice is the same as once.
        Err(Error::Database(err)) if is_unique_violation(&err) => Ok(article),
        Err(err) => Err(gone_as_not_found(err, "article")),
    }
}

/// Removes the article from the viewer's favorites; a no-op when it is not there.
pub async fn unfavorite(
    db: &DatabaseConnection,
    viewer: &Viewer,
    slug: &str,
) -> Result<article::Model> {
    let article = find_by_slug(db, viewer, slug).await?;
    let me = viewer.require_user()?;
    viewer.authorize(&Capability::new(
        Action::ArticleFavorite,
        ResourceKind::Article,
        article.id,
        me,
    ))?;
    let id = article.id;
    retry_transient(|| {
        db.transaction::<_, (), Error>(|txn| {
            Box::pin(async move {
                let removed = favorite::Entity::delete_many()
                    .filter(favorite::Column::UserId.eq(me))
                    .filter(favorite::Column::ArticleId.eq(id))
                    .exec(txn)
                    .await?
                    .rows_affected;
                if removed > 0 {
                    counts::favorites_changed(txn, id, -(removed as i64)).await?;
                }
                Ok(())
            })
        })
        .map_err(Error::from)
    })
    .await?;
    Ok(article)
}

/// Which of `ids` the user has favorited. One statement.
pub async fn favorited_among(db: &DatabaseConnection, user_id: i64, ids: &[i64]) -> Result<IdSet> {
    let rows: Vec<i64> = favorite::Entity::find()
        .select_only()
        .column(favorite::Column::ArticleId)
        .filter(favorite::Column::UserId.eq(user_id))
        .filter(favorite::Column::ArticleId.is_in(ids.iter().copied()))
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows.into_iter().collect())
}

fn owned(action: Action, article: &article::Model) -> Capability {
    Capability::new(action, ResourceKind::Article, article.id, article.author_id)
}

/// A slug for `title` that no other article holds. A draft's slug always
/// carries a random suffix: were it the bare title when free, someone else
/// choosing a title could learn from their slug whether a draft of that
/// title exists. A published article takes the bare title when it is free.
async fn free_slug(
    txn: &DatabaseTransaction,
    title: &str,
    except: Option<i64>,
    draft: bool,
) -> Result<String> {
    let base = fields::slugify(title);
    let mut candidate = if draft {
        format!("{base}-{}", random_suffix())
    } else {
        base.clone()
    };
    for _ in 0..5 {
        let mut taken =
            article::Entity::find().filter(article::Column::Slug.eq(candidate.as_str()));
        if let Some(id) = except {
            taken = taken.filter(article::Column::Id.ne(id));
        }
        if taken.count(txn).await? == 0 {
            return Ok(candidate);
        }
        candidate = format!("{base}-{}", random_suffix());
    }
    Err(Error::Internal("could not find a free slug".into()))
}

fn random_suffix() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rng();
    (0..6)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect()
}

#[cfg(test)]
mod tests {
    use sea_orm::{DatabaseBackend, QueryTrait};

    use super::*;

    #[test]
    fn a_tags_page_is_ordered_by_its_links_of_one_tag_named_by_value() {
        let filter = ArticleFilter {
            tag: Some("rust".into()),
            ..Default::default()
        };
        let (select, order) = listed(&Viewer::Anonymous, &filter);
        assert_eq!(order, ListOrder::TagLinks);
        let request = PageRequest::first(20, crate::db::pagination::SortDirection::Desc);
        let sql = order
            .page_statement(DatabaseBackend::Postgres, select, &request)
            .sql;
        // `= (SELECT ...)`, not `IN (SELECT ...)`: the planner then reads the
        // links from the index, in order, instead of joining every link.
        assert!(
            sql.contains(r#""article_tags"."tag_id" = (SELECT "id" FROM "tags""#),
            "{sql}"
        );
        assert!(
            sql.contains(r#"ORDER BY "article_tags"."article_created_at" DESC, "article_tags"."article_id" DESC"#),
            "{sql}"
        );
    }

    #[test]
    fn a_list_without_bodies_selects_an_empty_body_in_the_body_column_place() {
        let filter = ArticleFilter::default();
        for backend in [
            DatabaseBackend::Postgres,
            DatabaseBackend::MySql,
            DatabaseBackend::Sqlite,
        ] {
            let full = filtered(&Viewer::Anonymous, &filter).build(backend).sql;
            let lean = without_bodies(filtered(&Viewer::Anonymous, &filter))
                .build(backend)
                .sql;
            let quote = if backend == DatabaseBackend::MySql {
                '`'
            } else {
                '"'
            };
            let column = format!("{quote}articles{quote}.{quote}body{quote}");
            let empty = format!("'' AS {quote}body{quote}");
            assert!(full.contains(&column), "{full}");
            assert!(!lean.contains(&column) && lean.contains(&empty), "{lean}");
            // Every other column keeps its place.
            assert_eq!(full.replace(&column, &empty), lean, "{backend:?}");
        }
    }
}
