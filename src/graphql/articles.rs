//! Articles: the `Article` type, `article`, `articles`, `feed`, and the article
//! mutations.

use std::sync::Arc;

use async_graphql::{Context, Enum, ID, InputObject, Object, Result, SimpleObject, Value};
use chrono::{DateTime, Utc};
use entity::article;

use super::comments::{
    CommentOrder, CommentsArguments, comment_connection, load_comment_pages,
    loaded_comment_connection,
};
use super::connection::CommentConnection;
use super::connection::{ArticleConnection, ListSource, shows_page, unread};
use super::context::ContextExt;
use super::loaders::{ArticleRelations, ArticleSet};
use super::node::{NodeKind, global_id};
use super::ready::{Arguments, FieldArguments, FieldLoad, Ready, ReadyObject};
use super::users::User;
use crate::auth::Viewer;
use crate::db::pagination::{Cursor, PageRequest, SortDirection};
use crate::error::Error;
use crate::service::articles::{
    self, ArticleChanges, ArticleFilter, Bodies, NewArticle, Relations,
};
use crate::service::counts::RowCounts;
use crate::state::AppState;
use futures_util::future::BoxFuture;

/// An article row as the API shows it, with the siblings it loads relations with.
#[derive(Clone)]
pub struct Article {
    row: article::Model,
    set: Arc<ArticleSet>,
}

impl Article {
    /// `row` as a member of `set`.
    pub fn new(row: article::Model, set: Arc<ArticleSet>) -> Self {
        Self { row, set }
    }

    /// The article's database id.
    pub fn article_id(&self) -> i64 {
        self.row.id
    }

    /// Where the article sits in a list.
    pub fn cursor(&self) -> Cursor {
        articles::cursor(&self.row)
    }

    /// Its author, tags and counts, loaded for the whole set on first use;
    /// `None` when the article is gone.
    async fn relations(&self, ctx: &Context<'_>) -> Result<Option<&ArticleRelations>, Error> {
        // Every card asks four times (author, tags and two counts): all but
        // the first find the set loaded.
        if let Some(relations) = self.set.relations.loaded(self.row.id) {
            return Ok(relations);
        }
        let (state, set) = (ctx.state()?, &self.set);
        set.relations
            .load(self.row.id, || set.load_relations(state))
            .await
    }
}

/// Whether an article is public.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum ArticleStatus {
    /// Visible to everyone.
    Published,
    /// Visible only to its author until published.
    Draft,
}

/// Which way a list runs.
#[derive(Enum, Copy, Clone, Debug, Default, PartialEq, Eq)]
pub enum OrderDirection {
    /// Oldest first.
    Asc,
    /// Newest first.
    #[default]
    Desc,
}

impl From<OrderDirection> for SortDirection {
    fn from(direction: OrderDirection) -> Self {
        match direction {
            OrderDirection::Asc => SortDirection::Asc,
            OrderDirection::Desc => SortDirection::Desc,
        }
    }
}

/// Fields articles can be ordered by.
#[derive(Enum, Copy, Clone, Debug, Default, PartialEq, Eq)]
pub enum ArticleOrderField {
    /// When the article was created.
    #[default]
    CreatedAt,
}

/// How to order a list of articles.
#[derive(InputObject, Clone, Copy, Debug, Default)]
pub struct ArticleOrder {
    /// The field to order by.
    #[graphql(default)]
    pub field: ArticleOrderField,
    /// The direction; newest first by default.
    #[graphql(default)]
    pub direction: OrderDirection,
}

/// Narrows `articles` down; all given conditions must hold.
#[derive(InputObject, Clone, Debug, Default)]
pub struct ArticleFilterInput {
    /// Only articles carrying this tag.
    pub tag: Option<String>,
    /// Only articles by the user with this username.
    pub author: Option<String>,
    /// Only articles favorited by the user with this username.
    pub favorited_by: Option<String>,
    /// PUBLISHED (default) or DRAFT: the viewer's own drafts.
    pub status: Option<ArticleStatus>,
}

/// Relay pagination arguments: `first`, `after`, `last`, `before`.
pub type PageArgs = (Option<i32>, Option<String>, Option<i32>, Option<String>);

/// Reads the pagination arguments of the field at `ctx` as a resolver's
/// parameters are read.
pub fn read_page_args(ctx: &Context<'_>) -> async_graphql::ServerResult<PageArgs> {
    Ok((
        ctx.param_value("first", None)?.1,
        ctx.param_value("after", None)?.1,
        ctx.param_value("last", None)?.1,
        ctx.param_value("before", None)?.1,
    ))
}

/// Validates pagination arguments against the ordering.
pub fn page_request(args: &PageArgs, direction: OrderDirection) -> Result<PageRequest, Error> {
    let (first, after, last, before) = args;
    PageRequest::new(
        *first,
        after.as_deref(),
        *last,
        before.as_deref(),
        direction.into(),
    )
}

/// Loads one page of the articles `filter` selects, as a connection.
pub async fn article_connection(
    ctx: &Context<'_>,
    filter: ArticleFilter,
    args: PageArgs,
    order: ArticleOrder,
) -> Result<ArticleConnection> {
    let request = page_request(&args, order.direction)?;
    let viewer = ctx.viewer()?.clone();
    let source = ListSource::Articles {
        viewer: viewer.clone(),
        filter: filter.clone(),
    };
    if !shows_page(ctx) {
        articles::authorize_filter(&viewer, &filter)?;
        return Ok(ArticleConnection::of_objects(
            unread(),
            source,
            Article::cursor,
        ));
    }
    let (bodies, relations) = list_reads(ctx);
    let state = ctx.state()?;
    let listed = articles::list(state, &viewer, &filter, &request, bodies, relations).await?;
    Ok(ArticleConnection::new(
        listed.page,
        source,
        articles::cursor,
        |rows| ArticleSet::page_objects(rows, bodies, listed.relations, listed.counts),
    ))
}

/// What the list of articles at `ctx` reads with its page: the bodies when
/// it shows them, the relations when it shows the author or the tags.
pub(super) fn list_reads(ctx: &Context<'_>) -> (Bodies, Relations) {
    let bodies = if selects_any(ctx, &["body"]) {
        Bodies::Included
    } else {
        Bodies::Omitted
    };
    let relations = if selects_any(ctx, &RELATION_FIELDS) {
        Relations::Joined
    } else {
        Relations::Apart
    };
    (bodies, relations)
}

/// Fields of an article that show its relations ([`ArticleRelations`]); a
/// list that shows one reads them in its page's statement. Its counts are
/// columns of its own row.
const RELATION_FIELDS: [&str; 2] = ["author", "tags"];

/// Whether the selection of the connection field at `ctx` shows any of
/// `fields` of an article, through `edges.node` or `nodes`. It may miss one (a
/// field merged from elsewhere in the document, say): bodies and relations
/// are then loaded for the whole page when asked for.
fn selects_any(ctx: &Context<'_>, fields: &[&str]) -> bool {
    let connection = ctx.look_ahead();
    let (edges, nodes) = (
        connection.field("edges").field("node"),
        connection.field("nodes"),
    );
    fields
        .iter()
        .any(|field| edges.field(field).exists() || nodes.field(field).exists())
}

/// An article, published or a draft. Drafts are visible only to their author.
#[Object]
impl Article {
    /// Opaque global id.
    pub async fn id(&self) -> ID {
        global_id(NodeKind::Article, self.row.id)
    }

    /// URL-safe unique name derived from the title; changes when the title does.
    async fn slug(&self) -> &str {
        &self.row.slug
    }

    /// Headline.
    async fn title(&self) -> &str {
        &self.row.title
    }

    /// One-line summary shown in lists.
    async fn description(&self) -> &str {
        &self.row.description
    }

    /// Full text, in Markdown.
    async fn body(&self, ctx: &Context<'_>) -> Result<&str> {
        if !self.set.bodies_omitted() {
            return Ok(&self.row.body);
        }
        let (db, set) = (&ctx.state()?.db, &self.set);
        let body = set
            .bodies
            .load(self.row.id, || articles::bodies(db, set.ids()))
            .await?;
        Ok(body.map_or("", String::as_str))
    }

    /// Tag names, alphabetically.
    async fn tags(&self, ctx: &Context<'_>) -> Result<&[String]> {
        let relations = self.relations(ctx).await?;
        Ok(relations.map_or(&[], |r| r.tags.as_slice()))
    }

    /// The writer.
    async fn author(&self, ctx: &Context<'_>) -> Result<User> {
        let relations = self.relations(ctx).await?;
        relations
            .map(|r| r.author.clone())
            .ok_or_else(|| Error::Internal(format!("article {} has no author", self.row.id)).into())
    }

    /// PUBLISHED or DRAFT.
    async fn status(&self) -> ArticleStatus {
        self.publication_status()
    }

    /// When it was published; null for a draft.
    async fn published_at(&self) -> Option<DateTime<Utc>> {
        self.row.published_at
    }

    /// When it was created.
    async fn created_at(&self) -> DateTime<Utc> {
        self.row.created_at
    }

    /// When it was last changed.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.row.updated_at
    }

    /// How many users favorited it.
    async fn favorites_count(&self, ctx: &Context<'_>) -> Result<i64> {
        if let Some((favorites, _)) = self.current_counts() {
            return Ok(favorites);
        }
        let relations = self.relations(ctx).await?;
        Ok(relations.map_or(0, |r| r.favorites))
    }

    /// Whether the signed-in viewer favorited it; false when anonymous.
    async fn viewer_has_favorited(&self, ctx: &Context<'_>) -> Result<bool> {
        let Some(me) = ctx.viewer()?.user_id() else {
            return Ok(false);
        };
        let (db, set) = (&ctx.state()?.db, &self.set);
        let fetch = || articles::favorited_among(db, me, set.ids());
        set.viewer_favorited
            .contains(self.row.id, set.ids(), fetch)
            .await
            .map_err(Into::into)
    }

    /// How many comments it has.
    async fn comment_count(&self, ctx: &Context<'_>) -> Result<i64> {
        if let Some((_, comments)) = self.current_counts() {
            return Ok(comments);
        }
        let relations = self.relations(ctx).await?;
        Ok(relations.map_or(0, |r| r.comments))
    }

    /// Its comments, oldest first by default.
    async fn comments(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Return the first n comments, 1 to 100.")] first: Option<i32>,
        #[graphql(desc = "Return comments after this cursor.")] after: Option<String>,
        #[graphql(desc = "Return the last n comments, 1 to 100.")] last: Option<i32>,
        #[graphql(desc = "Return comments before this cursor.")] before: Option<String>,
        #[graphql(desc = "Ordering; oldest first by default.")] order_by: Option<CommentOrder>,
    ) -> Result<CommentConnection> {
        // Boxed, so that every field of `Article` does not carry this future's size.
        Box::pin(comment_connection(
            ctx,
            (
                self.row.id,
                self.current_counts().map(|(_, comments)| comments),
            ),
            &self.set,
            (first, after, last, before),
            order_by.unwrap_or_default(),
        ))
        .await
    }
}

impl Article {
    /// The favorites and comments the row counts, when it was read for this
    /// request; `None` when they may have changed since and are read again
    /// with the relations.
    fn current_counts(&self) -> Option<(i64, i64)> {
        (self.set.counts() == RowCounts::Current)
            .then_some((self.row.favorites_count, self.row.comments_count))
    }

    /// PUBLISHED or DRAFT, as `status` answers it.
    fn publication_status(&self) -> ArticleStatus {
        if self.row.is_published() {
            ArticleStatus::Published
        } else {
            ArticleStatus::Draft
        }
    }
}

/// A card's fields straight from its row and the relations its page read.
impl ReadyObject for Article {
    fn type_name(&self) -> &'static str {
        "Article"
    }

    fn ready_field(&self, field: &str, viewer: &Viewer) -> Ready<'_> {
        let row = &self.row;
        let relations = || self.set.relations.loaded(row.id).flatten();
        match field {
            "id" => Ready::leaf(&global_id(NodeKind::Article, row.id)),
            "slug" => Ready::Str(&row.slug),
            "title" => Ready::Str(&row.title),
            "description" => Ready::Str(&row.description),
            "body" if !self.set.bodies_omitted() => Ready::Str(&row.body),
            "body" => Ready::loaded(self.set.bodies.loaded(row.id), String::new()),
            "status" => Ready::leaf(&self.publication_status()),
            "publishedAt" => row
                .published_at
                .as_ref()
                .map_or(Ready::Value(Value::Null), Ready::Time),
            "createdAt" => Ready::Time(&row.created_at),
            "updatedAt" => Ready::Time(&row.updated_at),
            "viewerHasFavorited" => match viewer.user_id() {
                None => Ready::leaf(&false),
                Some(_) => Ready::loaded(self.set.viewer_favorited.loaded(row.id), false),
            },
            "author" => relations().map_or(Ready::Pending, |r| Ready::Object(&r.author)),
            "tags" => relations().map_or(Ready::Pending, |r| Ready::Strs(&r.tags)),
            "favoritesCount" => match self.current_counts() {
                Some((favorites, _)) => Ready::leaf(&favorites),
                None => relations().map_or(Ready::Pending, |r| Ready::leaf(&r.favorites)),
            },
            "commentCount" => match self.current_counts() {
                Some((_, comments)) => Ready::leaf(&comments),
                None => relations().map_or(Ready::Pending, |r| Ready::leaf(&r.comments)),
            },
            _ => Ready::Pending,
        }
    }

    fn field_arguments(&self, field: &str, ctx: &Context<'_>) -> FieldArguments {
        match field {
            "comments" => CommentsArguments::read(ctx).map_or(FieldArguments::Unusable, |a| {
                FieldArguments::Parsed(Box::new(a))
            }),
            _ => FieldArguments::None,
        }
    }

    fn ready_field_with(&self, field: &str, arguments: &Arguments, _viewer: &Viewer) -> Ready<'_> {
        match (field, arguments.downcast_ref::<CommentsArguments>()) {
            ("comments", Some(arguments)) => {
                let article = (self.row.id, self.current_counts().map(|(_, c)| c));
                loaded_comment_connection(article, &self.set, arguments)
                    .map_or(Ready::Pending, |connection| {
                        Ready::Owned(Box::new(connection))
                    })
            }
            _ => Ready::Pending,
        }
    }

    fn load_field<'s>(
        &self,
        field: &str,
        arguments: Option<&Arguments>,
        state: &'s AppState,
        viewer: &'s Viewer,
    ) -> Option<FieldLoad<'s>> {
        let (id, set) = (self.row.id, self.set.clone());
        let load: BoxFuture<'s, Result<(), Error>> = match field {
            "author" | "tags" | "favoritesCount" | "commentCount" => Box::pin(async move {
                let fetch = || set.load_relations(state);
                set.relations.load(id, fetch).await.map(drop)
            }),
            "body" => Box::pin(async move {
                let fetch = || articles::bodies(&state.db, set.ids());
                set.bodies.load(id, fetch).await.map(drop)
            }),
            "viewerHasFavorited" => {
                let me = viewer.user_id()?;
                Box::pin(async move {
                    let fetch = || articles::favorited_among(&state.db, me, set.ids());
                    set.viewer_favorited
                        .contains(id, set.ids(), fetch)
                        .await
                        .map(drop)
                })
            }
            "comments" => {
                let request = arguments?.downcast_ref::<CommentsArguments>()?.request();
                Box::pin(async move { load_comment_pages(state, &set, request, id).await })
            }
            _ => return None,
        };
        Some(FieldLoad::new(&self.set, load))
    }
}

/// Root fields about articles.
#[derive(Default)]
pub struct ArticleQuery;

#[Object]
impl ArticleQuery {
    /// The article with this slug, or null when there is none or it is someone else's draft.
    async fn article(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The article's slug.")] slug: String,
    ) -> Result<Option<Article>> {
        match articles::find_by_slug_cached(ctx.state()?, ctx.viewer()?, &slug).await {
            Ok((article, counts)) => Ok(Some(ArticleSet::read(article, counts))),
            Err(Error::NotFound(_)) => Ok(None),
            Err(err) => Err(err.into()),
        }
    }

    /// Published articles, newest first by default, optionally filtered by tag,
    /// author or who favorited them; or the viewer's own drafts.
    #[allow(clippy::too_many_arguments)]
    async fn articles(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "Return the first n articles, 1 to 100 (20 when neither first nor last is given)."
        )]
        first: Option<i32>,
        #[graphql(desc = "Return articles after this cursor.")] after: Option<String>,
        #[graphql(desc = "Return the last n articles, 1 to 100.")] last: Option<i32>,
        #[graphql(desc = "Return articles before this cursor.")] before: Option<String>,
        #[graphql(desc = "Conditions the articles must meet.")] filter: Option<ArticleFilterInput>,
        #[graphql(desc = "Ordering; newest first by default.")] order_by: Option<ArticleOrder>,
    ) -> Result<ArticleConnection> {
        let filter = filter.unwrap_or_default();
        let order_by = order_by.unwrap_or_default();
        let filter = ArticleFilter {
            tag: filter.tag,
            author: filter.author,
            favorited_by: filter.favorited_by,
            drafts: filter.status == Some(ArticleStatus::Draft),
            followed_by: None,
        };
        article_connection(ctx, filter, (first, after, last, before), order_by).await
    }

    /// Published articles by the users the viewer follows, newest first. Needs a token.
    async fn feed(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Return the first n articles, 1 to 100.")] first: Option<i32>,
        #[graphql(desc = "Return articles after this cursor.")] after: Option<String>,
        #[graphql(desc = "Return the last n articles, 1 to 100.")] last: Option<i32>,
        #[graphql(desc = "Return articles before this cursor.")] before: Option<String>,
    ) -> Result<ArticleConnection> {
        let me = ctx.viewer()?.require_user()?;
        let filter = ArticleFilter {
            followed_by: Some(me),
            ..Default::default()
        };
        article_connection(
            ctx,
            filter,
            (first, after, last, before),
            ArticleOrder::default(),
        )
        .await
    }
}

/// Input of `createArticle`.
#[derive(InputObject)]
pub struct CreateArticleInput {
    /// Headline, 1 to 255 characters; the slug is made from it.
    pub title: String,
    /// One-line summary, 1 to 1,000 characters.
    pub description: String,
    /// Full text in Markdown.
    pub body: String,
    /// Up to 10 tags, each up to 32 characters.
    #[graphql(default)]
    pub tags: Vec<String>,
    /// Keep the article as a draft (visible only to you) instead of publishing it.
    #[graphql(default)]
    pub draft: bool,
}

/// Result of `createArticle`.
#[derive(SimpleObject)]
pub struct CreateArticlePayload {
    /// The new article.
    pub article: Article,
}

/// Input of `updateArticle`: only the fields given change.
#[derive(InputObject)]
pub struct UpdateArticleInput {
    /// Slug of the article to change.
    pub slug: String,
    /// New headline; the slug changes with it.
    pub title: Option<String>,
    /// New summary.
    pub description: Option<String>,
    /// New body.
    pub body: Option<String>,
    /// New tags, replacing the old ones.
    pub tags: Option<Vec<String>>,
}

/// Result of `updateArticle`.
#[derive(SimpleObject)]
pub struct UpdateArticlePayload {
    /// The article after the change.
    pub article: Article,
}

/// Input naming one article by slug.
#[derive(InputObject)]
pub struct ArticleSlugInput {
    /// The article's slug.
    pub slug: String,
}

/// Result of `publishArticle`.
#[derive(SimpleObject)]
pub struct PublishArticlePayload {
    /// The article, now published.
    pub article: Article,
}

/// Result of `unpublishArticle`.
#[derive(SimpleObject)]
pub struct UnpublishArticlePayload {
    /// The article, now a draft again.
    pub article: Article,
}

/// Result of `deleteArticle`.
#[derive(SimpleObject)]
pub struct DeleteArticlePayload {
    /// Global id of the deleted article.
    pub deleted_article_id: ID,
}

/// Result of `favoriteArticle`.
#[derive(SimpleObject)]
pub struct FavoriteArticlePayload {
    /// The favorited article.
    pub article: Article,
}

/// Result of `unfavoriteArticle`.
#[derive(SimpleObject)]
pub struct UnfavoriteArticlePayload {
    /// The article, no longer favorited.
    pub article: Article,
}

/// Mutations about articles.
#[derive(Default)]
pub struct ArticleMutation;

#[Object]
impl ArticleMutation {
    /// Writes a new article, published unless `draft` is true.
    async fn create_article(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The new article.")] input: CreateArticleInput,
    ) -> Result<CreateArticlePayload> {
        let new = NewArticle {
            title: input.title,
            description: input.description,
            body: input.body,
            tags: input.tags,
            draft: input.draft,
        };
        let article = articles::create(ctx.state()?, ctx.viewer()?, new).await?;
        Ok(CreateArticlePayload {
            article: ArticleSet::object(article),
        })
    }

    /// Changes one of the viewer's articles.
    async fn update_article(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The article, by slug, and the fields to change.")]
        input: UpdateArticleInput,
    ) -> Result<UpdateArticlePayload> {
        let changes = ArticleChanges {
            title: input.title,
            description: input.description,
            body: input.body,
            tags: input.tags,
        };
        let article = articles::update(ctx.state()?, ctx.viewer()?, &input.slug, changes).await?;
        Ok(UpdateArticlePayload {
            article: ArticleSet::object(article),
        })
    }

    /// Publishes one of the viewer's drafts; publishing a published article changes nothing.
    async fn publish_article(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The draft to publish.")] input: ArticleSlugInput,
    ) -> Result<PublishArticlePayload> {
        let article = articles::publish(ctx.state()?, ctx.viewer()?, &input.slug).await?;
        Ok(PublishArticlePayload {
            article: ArticleSet::object(article),
        })
    }

    /// Turns a published article back into a draft. Its author or a moderator may.
    async fn unpublish_article(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The article to turn back into a draft.")] input: ArticleSlugInput,
    ) -> Result<UnpublishArticlePayload> {
        let article = articles::unpublish(ctx.state()?, ctx.viewer()?, &input.slug).await?;
        Ok(UnpublishArticlePayload {
            article: ArticleSet::object(article),
        })
    }

    /// Deletes an article with its comments and favorites. Its author or a moderator may.
    async fn delete_article(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The article to delete.")] input: ArticleSlugInput,
    ) -> Result<DeleteArticlePayload> {
        let article = articles::delete(ctx.state()?, ctx.viewer()?, &input.slug).await?;
        Ok(DeleteArticlePayload {
            deleted_article_id: global_id(NodeKind::Article, article.id),
        })
    }

    /// Adds an article to the viewer's favorites; twice is the same as once.
    async fn favorite_article(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The article to favorite.")] input: ArticleSlugInput,
    ) -> Result<FavoriteArticlePayload> {
        let article = articles::favorite(&ctx.state()?.db, ctx.viewer()?, &input.slug).await?;
        Ok(FavoriteArticlePayload {
            article: ArticleSet::object(article),
        })
    }

    /// Removes an article from the viewer's favorites.
    async fn unfavorite_article(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The article to unfavorite.")] input: ArticleSlugInput,
    ) -> Result<UnfavoriteArticlePayload> {
        let article = articles::unfavorite(&ctx.state()?.db, ctx.viewer()?, &input.slug).await?;
        Ok(UnfavoriteArticlePayload {
            article: ArticleSet::object(article),
        })
    }
}
