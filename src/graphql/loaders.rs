//! Batch loaders: every relation a list of objects needs is fetched in one
//! statement for the whole list, whatever its length.
//!
//! Objects that come from the same query (one page of articles, the authors of
//! that page) share a *set*. The first member that asks for a relation loads it
//! for every member at once; the others read the result. Sets are made per
//! resolver call, so nothing is cached across requests or across mutations, and
//! the number of statements a query runs depends on its shape only, never on
//! timing or page size.

use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use std::sync::{Arc, Mutex, PoisonError};

use entity::{article, comment, user};
use tokio::sync::OnceCell;

use super::articles::Article;
use super::comments::Comment;
use super::users::User;
use crate::db::article_relations;
use crate::db::pagination::{Page, PageRequest};
use crate::error::Result;
use crate::service::articles::{Bodies, UserArticles};
use crate::service::counts::RowCounts;
use crate::service::{IdMap, IdSet, articles, users};
use crate::state::AppState;
use sea_orm::DatabaseConnection;

/// One relation of a set, loaded once for every member.
pub struct SetLoader<V> {
    loaded: OnceCell<IdMap<V>>,
}

impl<V> Default for SetLoader<V> {
    fn default() -> Self {
        Self {
            loaded: OnceCell::new(),
        }
    }
}

impl<V> SetLoader<V> {
    /// A relation loaded already, with what the set's own query read.
    pub fn with(loaded: IdMap<V>) -> Self {
        Self {
            loaded: OnceCell::new_with(Some(loaded)),
        }
    }

    /// The value for `key` if the set's relation is loaded already: `None`
    /// before the first load, `Some(None)` when the load found nothing for `key`.
    pub fn loaded(&self, key: i64) -> Option<Option<&V>> {
        self.loaded.get().map(|loaded| loaded.get(&key))
    }

    /// The value for `key`, running `fetch` for the whole set on first use.
    ///
    /// The fetch runs boxed: it holds a whole database query, and a future
    /// kept inline would make every field resolver of the type, which
    /// async-graphql boxes for each field of each object, as large as it.
    pub async fn load<F, Fut>(&self, key: i64, fetch: F) -> Result<Option<&V>>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<IdMap<V>>>,
    {
        let loaded = self.loaded.get_or_try_init(|| Box::pin(fetch())).await?;
        Ok(loaded.get(&key))
    }
}

impl SetLoader<i64> {
    /// A count for `key`; zero when the fetch found no row for it.
    pub async fn count<F, Fut>(&self, key: i64, fetch: F) -> Result<i64>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<IdMap<i64>>>,
    {
        Ok(self.load(key, fetch).await?.copied().unwrap_or(0))
    }
}

impl SetLoader<bool> {
    /// Whether `key` is among the ids `fetch` returns for the set `ids`.
    pub async fn contains<F, Fut>(&self, key: i64, ids: &[i64], fetch: F) -> Result<bool>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<IdSet>>,
    {
        let found = self
            .load(key, || async move {
                let members = fetch().await?;
                Ok(ids.iter().map(|id| (*id, members.contains(id))).collect())
            })
            .await?;
        Ok(found.copied().unwrap_or(false))
    }
}

/// One connection field of a set: a page for every member, loaded for all
/// of them at once the first time any member asks, per distinct arguments
/// (`K`): two aliases of the field with different arguments load apart.
pub struct PageLoaders<K, V> {
    loads: Mutex<HashMap<K, Arc<PagesOnce<V>>>>,
}

/// The pages of every member of a set, loaded once.
type PagesOnce<V> = OnceCell<IdMap<Page<V>>>;

impl<K, V> Default for PageLoaders<K, V> {
    fn default() -> Self {
        Self {
            loads: Mutex::new(HashMap::new()),
        }
    }
}

impl<K: Eq + Hash, V: Clone> PageLoaders<K, V> {
    /// The page of `member` for the arguments `key`, running `fetch` for the
    /// whole set on the first call with `key`. A member the fetch has no page
    /// for has an empty one.
    pub async fn load<F, Fut>(&self, key: K, member: i64, fetch: F) -> Result<Page<V>>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<IdMap<Page<V>>>>,
    {
        let load = self
            .loads
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(key)
            .or_default()
            .clone();
        let pages = load.get_or_try_init(|| Box::pin(fetch())).await?;
        Ok(page_of(pages, member))
    }

    /// The page of `member` for the arguments `key` if the set's pages for
    /// `key` are loaded already.
    pub fn loaded(&self, key: &K, member: i64) -> Option<Page<V>> {
        let loads = self.loads.lock().unwrap_or_else(PoisonError::into_inner);
        loads.get(key)?.get().map(|pages| page_of(pages, member))
    }
}

/// The page of `member` among `pages`; empty when it has none.
fn page_of<V: Clone>(pages: &IdMap<Page<V>>, member: i64) -> Page<V> {
    pages.get(&member).cloned().unwrap_or(Page {
        items: Vec::new(),
        has_next_page: false,
        has_previous_page: false,
    })
}

/// The members' pages of `pages` made into API objects that share one set
/// (`objects` makes them from every row at once), so that the next level of
/// the document loads for all of them together.
pub fn pages_of_objects<R, V>(
    pages: IdMap<Page<R>>,
    objects: impl FnOnce(Vec<R>) -> Vec<V>,
) -> IdMap<Page<V>> {
    let mut shape = Vec::with_capacity(pages.len());
    let mut rows = Vec::new();
    for (member, page) in pages {
        shape.push((
            member,
            page.items.len(),
            page.has_next_page,
            page.has_previous_page,
        ));
        rows.extend(page.items);
    }
    let mut objects = objects(rows).into_iter();
    shape
        .into_iter()
        .map(|(member, length, has_next_page, has_previous_page)| {
            let page = Page {
                items: objects.by_ref().take(length).collect(),
                has_next_page,
                has_previous_page,
            };
            (member, page)
        })
        .collect()
}

fn distinct(ids: impl IntoIterator<Item = i64>) -> Vec<i64> {
    let mut ids: Vec<i64> = ids.into_iter().collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}

/// What an article shows beside its own columns, with the author as an API
/// object.
pub struct ArticleRelations {
    /// The writer, sharing a user set with the other members' authors.
    pub author: User,
    /// Tag names, alphabetically.
    pub tags: Vec<String>,
    /// How many users favorited it.
    pub favorites: i64,
    /// How many comments it has.
    pub comments: i64,
}

/// Sibling articles and their relations.
#[derive(Default)]
pub struct ArticleSet {
    ids: Vec<i64>,
    /// Whether the members' rows came without their bodies.
    bodies_omitted: bool,
    /// Whether the members' rows carry their counts as they are now; when
    /// not, the counts come with [`Self::relations`].
    counts: RowCounts,
    /// The members' bodies, when their rows came without them.
    pub bodies: SetLoader<String>,
    /// Author, tag names and counts per article, loaded together: a list of
    /// cards needs one statement for all of them.
    pub relations: SetLoader<ArticleRelations>,
    /// Whether the viewer favorited each article.
    pub viewer_favorited: SetLoader<bool>,
    /// Pages of each article's comments.
    pub comment_pages: PageLoaders<PageRequest, Comment>,
}

impl ArticleSet {
    /// Wraps rows that this request read from the database in one query into
    /// API objects sharing one set.
    pub fn objects(rows: Vec<article::Model>) -> Vec<Article> {
        Self::page_objects(rows, Bodies::Included, None, RowCounts::Current)
    }

    /// Wraps the rows of one page, read with or without their `bodies`, and
    /// with their `relations` when they were read with the page; `counts`
    /// tells whether their counts may be shown as they are.
    pub fn page_objects(
        rows: Vec<article::Model>,
        bodies: Bodies,
        relations: Option<IdMap<article_relations::ArticleRelations>>,
        counts: RowCounts,
    ) -> Vec<Article> {
        let set = Arc::new(Self {
            ids: distinct(rows.iter().map(|a| a.id)),
            bodies_omitted: bodies == Bodies::Omitted,
            counts,
            relations: relations.map_or_else(SetLoader::default, |relations| {
                SetLoader::with(api_relations(relations))
            }),
            ..Default::default()
        });
        rows.into_iter()
            .map(|row| Article::new(row, set.clone()))
            .collect()
    }

    /// Wraps one row whose counts may have changed since it was read (a
    /// mutation's): they are read again when shown.
    pub fn object(row: article::Model) -> Article {
        Self::read(row, RowCounts::MayLag)
    }

    /// Wraps one row, whose counts are as `counts` says.
    pub fn read(row: article::Model, counts: RowCounts) -> Article {
        let set = Arc::new(Self {
            ids: vec![row.id],
            counts,
            ..Default::default()
        });
        Article::new(row, set)
    }

    /// The ids of every member.
    pub fn ids(&self) -> &[i64] {
        &self.ids
    }

    /// Whether the members' rows carry their counts as they are now.
    pub fn counts(&self) -> RowCounts {
        self.counts
    }

    /// Whether the members' rows came without their bodies, to be loaded
    /// through [`Self::bodies`].
    pub fn bodies_omitted(&self) -> bool {
        self.bodies_omitted
    }

    /// Loads the relations of every member.
    pub async fn load_relations(&self, state: &AppState) -> Result<IdMap<ArticleRelations>> {
        let statements = &state.relation_statements;
        let rows =
            article_relations::for_articles(&state.db, statements, &state.tag_names, &self.ids)
                .await?;
        Ok(api_relations(rows))
    }
}

/// Relations as the API shows them, the authors sharing one user set.
fn api_relations(rows: IdMap<article_relations::ArticleRelations>) -> IdMap<ArticleRelations> {
    let author_set = UserSet::shared(distinct(rows.values().map(|row| row.author.id)));
    let mut authors: IdMap<User> =
        IdMap::with_capacity_and_hasher(author_set.ids.len(), Default::default());
    rows.into_iter()
        .map(|(id, row)| {
            let author = authors
                .entry(row.author.id)
                .or_insert_with(|| User::new(row.author, author_set.clone()))
                .clone();
            let relations = ArticleRelations {
                author,
                tags: row.tags,
                favorites: row.favorites,
                comments: row.comments,
            };
            (id, relations)
        })
        .collect()
}

/// Sibling users and their relations.
#[derive(Default)]
pub struct UserSet {
    ids: Vec<i64>,
    /// Whether the viewer follows each user.
    pub viewer_following: SetLoader<bool>,
    /// Pages of each user's articles, drafts or favorites.
    pub article_pages: PageLoaders<(UserArticles, PageRequest, Bodies), Article>,
    /// How many articles each user has in each of those lists.
    pub article_counts: PageCounts,
}

/// Counts of a set's lists, loaded for every member at once per list.
#[derive(Default)]
pub struct PageCounts {
    counts: Mutex<HashMap<UserArticles, Arc<SetLoader<i64>>>>,
}

impl PageCounts {
    /// The count of `list` for `member`, running `fetch` for the whole set on
    /// the first call for `list`.
    pub async fn count<F, Fut>(&self, list: UserArticles, member: i64, fetch: F) -> Result<i64>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<IdMap<i64>>>,
    {
        let loader = self
            .counts
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(list)
            .or_default()
            .clone();
        loader.count(member, fetch).await
    }

    /// The count of `list` for `member` if the set's counts of `list` are
    /// loaded already.
    pub fn loaded(&self, list: UserArticles, member: i64) -> Option<i64> {
        let counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        counts
            .get(&list)?
            .loaded(member)
            .map(|count| count.copied().unwrap_or(0))
    }
}

impl UserSet {
    /// Wraps rows that came from one query into API objects sharing one set.
    pub fn objects(rows: impl IntoIterator<Item = user::Model>) -> Vec<User> {
        let rows: Vec<user::Model> = rows.into_iter().collect();
        let set = Self::shared(distinct(rows.iter().map(|u| u.id)));
        rows.into_iter()
            .map(|row| User::new(row, set.clone()))
            .collect()
    }

    /// An empty set for the users with `ids`, to wrap their rows in.
    fn shared(ids: Vec<i64>) -> Arc<Self> {
        Arc::new(Self {
            ids,
            ..Default::default()
        })
    }

    /// Wraps one row.
    pub fn object(row: user::Model) -> User {
        let set = Arc::new(Self {
            ids: vec![row.id],
            ..Default::default()
        });
        User::new(row, set)
    }

    /// The ids of every member.
    pub fn ids(&self) -> &[i64] {
        &self.ids
    }
}

/// Users by id as API objects sharing one set. One statement.
pub async fn users_by_ids(db: &DatabaseConnection, ids: &[i64]) -> Result<IdMap<User>> {
    let rows = users::by_ids(db, ids).await?;
    Ok(UserSet::objects(rows.into_values())
        .into_iter()
        .map(|u| (u.user_id(), u))
        .collect())
}

/// Sibling comments and their relations.
#[derive(Default)]
pub struct CommentSet {
    author_ids: Vec<i64>,
    article_ids: Vec<i64>,
    /// Authors by user id.
    pub authors: SetLoader<User>,
    /// Articles by id.
    pub articles: SetLoader<Article>,
}

impl CommentSet {
    /// Starts a set for comment rows that came from one query.
    pub fn new(rows: &[comment::Model]) -> Arc<Self> {
        Self::with_authors(rows, None)
    }

    /// Starts a set for comment rows that came from one query, with their
    /// `authors` when the query read them too.
    pub fn with_authors(
        rows: &[comment::Model],
        authors: Option<HashMap<i64, user::Model>>,
    ) -> Arc<Self> {
        let authors = authors.map_or_else(SetLoader::default, |authors| {
            let users = UserSet::objects(authors.into_values());
            SetLoader::with(users.into_iter().map(|u| (u.user_id(), u)).collect())
        });
        Arc::new(Self {
            author_ids: distinct(rows.iter().map(|c| c.author_id)),
            article_ids: distinct(rows.iter().map(|c| c.article_id)),
            authors,
            ..Default::default()
        })
    }

    /// Loads the authors of every member.
    pub async fn load_authors(&self, db: &DatabaseConnection) -> Result<IdMap<User>> {
        users_by_ids(db, &self.author_ids).await
    }

    /// Loads the articles of every member (visibility is the caller's to check).
    pub async fn load_articles(&self, db: &DatabaseConnection) -> Result<IdMap<Article>> {
        let rows = articles::by_ids(db, &self.article_ids).await?;
        Ok(ArticleSet::objects(rows.into_values().collect())
            .into_iter()
            .map(|a| (a.article_id(), a))
            .collect())
    }
}
