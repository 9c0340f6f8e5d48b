//! Comments: the `Comment` type, an article's comment list, and the comment mutations.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::{Context, ID, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use entity::{comment, user};

use super::articles::{
    Article, ArticleOrderField, OrderDirection, PageArgs, page_request, read_page_args,
};
use super::connection::{CommentConnection, ListSource, shows_page, unread};
use super::context::ContextExt;
use super::loaders::{ArticleSet, CommentSet, pages_of_objects};
use super::node::{NodeKind, global_id, parse_id_of};
use super::ready::{Arguments, FieldLoad, Ready, ReadyObject};
use super::users::User;
use crate::auth::Viewer;
use crate::db::pagination::PageRequest;
use crate::error::Error;
use crate::service::comments::CommentAuthors;
use crate::service::{IdMap, comments};
use crate::state::AppState;
use futures_util::future::BoxFuture;

/// A comment row as the API shows it, with the siblings it loads relations with.
#[derive(Clone)]
pub struct Comment {
    row: comment::Model,
    set: Arc<CommentSet>,
}

impl Comment {
    /// Rows that came from one query, sharing one loader set.
    pub fn objects(rows: Vec<comment::Model>) -> Vec<Self> {
        Self::objects_with_authors(rows, None)
    }

    /// Rows that came from one query with their `authors` when it read them,
    /// sharing one loader set.
    pub fn objects_with_authors(
        rows: Vec<comment::Model>,
        authors: Option<HashMap<i64, user::Model>>,
    ) -> Vec<Self> {
        let set = CommentSet::with_authors(&rows, authors);
        rows.into_iter()
            .map(|row| Self {
                row,
                set: set.clone(),
            })
            .collect()
    }

    /// One row.
    pub fn object(row: comment::Model) -> Self {
        let set = CommentSet::new(std::slice::from_ref(&row));
        Self { row, set }
    }
}

/// How to order a list of comments.
#[derive(InputObject, Clone, Copy, Debug)]
pub struct CommentOrder {
    /// The field to order by.
    #[graphql(default)]
    pub field: ArticleOrderField,
    /// The direction; oldest first by default.
    #[graphql(default_with = "OrderDirection::Asc")]
    pub direction: OrderDirection,
}

impl Default for CommentOrder {
    fn default() -> Self {
        Self {
            field: ArticleOrderField::CreatedAt,
            direction: OrderDirection::Asc,
        }
    }
}

/// The arguments of an article's `comments`, as its resolver reads them.
pub struct CommentsArguments {
    /// The page asked for.
    request: PageRequest,
    /// Whether the selection shows anything of the page (not only its count).
    shows_page: bool,
    /// Whether it shows the comments' authors, read with the pages then.
    authors: CommentAuthors,
}

impl CommentsArguments {
    /// The arguments of the `comments` field at `ctx`.
    fn new(ctx: &Context<'_>, args: &PageArgs, order: CommentOrder) -> Result<Self, Error> {
        let connection = ctx.look_ahead();
        let shows_authors = connection.field("nodes").field("author").exists()
            || connection
                .field("edges")
                .field("node")
                .field("author")
                .exists();
        Ok(Self {
            request: page_request(args, order.direction)?,
            shows_page: shows_page(ctx),
            authors: match shows_authors {
                true => CommentAuthors::Joined,
                false => CommentAuthors::Apart,
            },
        })
    }

    /// Reads them from the field's context `ctx` as the resolver's
    /// parameters are read; `None` when they do not parse or are refused
    /// (the resolver tells why).
    pub fn read(ctx: &Context<'_>) -> Option<Self> {
        let order: Option<CommentOrder> = ctx.param_value("orderBy", None).ok()?.1;
        let args = read_page_args(ctx).ok()?;
        Self::new(ctx, &args, order.unwrap_or_default()).ok()
    }

    /// The page they ask for, and whether its authors are read with it.
    pub fn request(&self) -> (PageRequest, CommentAuthors) {
        (self.request, self.authors)
    }
}

/// The comments of an article, a member of `set`, as a connection: `article`
/// is its id and its comment count when the row holds it as it is now. The
/// page is read with the pages of every member of the set, in one
/// statement, the first time any of them asks ([`load_comment_pages`]).
pub async fn comment_connection(
    ctx: &Context<'_>,
    article: (i64, Option<i64>),
    set: &Arc<ArticleSet>,
    args: PageArgs,
    order: CommentOrder,
) -> Result<CommentConnection> {
    let arguments = CommentsArguments::new(ctx, &args, order)?;
    if let Some(connection) = loaded_comment_connection(article, set, &arguments) {
        return Ok(connection);
    }
    load_comment_pages(ctx.state()?, set, arguments.request(), article.0).await?;
    let connection = loaded_comment_connection(article, set, &arguments);
    connection.ok_or_else(|| Error::Internal("comment pages did not load".into()).into())
}

/// The connection of an article's comments when nothing is left to load:
/// its set's pages for these arguments are in, or the selection shows no
/// page.
pub fn loaded_comment_connection(
    (article_id, count): (i64, Option<i64>),
    set: &Arc<ArticleSet>,
    arguments: &CommentsArguments,
) -> Option<CommentConnection> {
    let source = ListSource::Comments {
        article_id,
        count,
        set: set.clone(),
    };
    let page = if arguments.shows_page {
        set.comment_pages.loaded(&arguments.request, article_id)?
    } else {
        unread()
    };
    Some(CommentConnection::of_objects(page, source, |comment| {
        comments::cursor(&comment.row)
    }))
}

/// Reads the pages of the comments of every article of `set` for `request`
/// in one statement, with their authors when `authors` says so, unless they
/// are read already. A set of one article whose comments' authors are not
/// shown reads its page through the cache. `member` is the article that asks.
pub async fn load_comment_pages(
    state: &AppState,
    set: &ArticleSet,
    (request, authors): (PageRequest, CommentAuthors),
    member: i64,
) -> crate::error::Result<()> {
    let fetch = || async {
        if let ([only], CommentAuthors::Apart) = (set.ids(), authors) {
            let mut pages = IdMap::default();
            pages.insert(*only, comments::list(state, *only, &request).await?);
            return Ok(pages_of_objects(pages, Comment::objects));
        }
        let read = comments::pages_per_article(state, set.ids(), &request, authors).await?;
        Ok(pages_of_objects(read.pages, |rows| {
            Comment::objects_with_authors(rows, read.authors)
        }))
    };
    set.comment_pages
        .load(request, member, fetch)
        .await
        .map(drop)
}

/// A comment on an article. Visible exactly when its article is.
#[Object]
impl Comment {
    /// Opaque global id.
    pub async fn id(&self) -> ID {
        global_id(NodeKind::Comment, self.row.id)
    }

    /// Text, in Markdown.
    async fn body(&self) -> &str {
        &self.row.body
    }

    /// Who wrote it.
    async fn author(&self, ctx: &Context<'_>) -> Result<User> {
        let (db, set) = (&ctx.state()?.db, &self.set);
        let author = set
            .authors
            .load(self.row.author_id, || set.load_authors(db))
            .await?;
        author
            .cloned()
            .ok_or_else(|| Error::Internal(format!("comment {} has no author", self.row.id)).into())
    }

    /// The article it is on.
    async fn article(&self, ctx: &Context<'_>) -> Result<Article> {
        let (db, set) = (&ctx.state()?.db, &self.set);
        let article = set
            .articles
            .load(self.row.article_id, || set.load_articles(db))
            .await?;
        article.cloned().ok_or_else(|| {
            Error::Internal(format!("comment {} has no article", self.row.id)).into()
        })
    }

    /// When it was written.
    async fn created_at(&self) -> DateTime<Utc> {
        self.row.created_at
    }

    /// When it was last changed.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.row.updated_at
    }
}

/// A comment's fields straight from its row and what its set has loaded.
impl ReadyObject for Comment {
    fn type_name(&self) -> &'static str {
        "Comment"
    }

    fn ready_field(&self, field: &str, _viewer: &Viewer) -> Ready<'_> {
        let (row, set) = (&self.row, &self.set);
        match field {
            "id" => Ready::leaf(&global_id(NodeKind::Comment, row.id)),
            "body" => Ready::Str(&row.body),
            "createdAt" => Ready::Time(&row.created_at),
            "updatedAt" => Ready::Time(&row.updated_at),
            "author" => match set.authors.loaded(row.author_id) {
                Some(Some(author)) => Ready::Object(author),
                _ => Ready::Pending,
            },
            "article" => match set.articles.loaded(row.article_id) {
                Some(Some(article)) => Ready::Object(article),
                _ => Ready::Pending,
            },
            _ => Ready::Pending,
        }
    }

    fn load_field<'s>(
        &self,
        field: &str,
        _arguments: Option<&Arguments>,
        state: &'s AppState,
        _viewer: &'s Viewer,
    ) -> Option<FieldLoad<'s>> {
        let (row, set) = (&self.row, self.set.clone());
        let load: BoxFuture<'s, crate::error::Result<()>> = match field {
            "author" => {
                let author = row.author_id;
                Box::pin(async move {
                    let fetch = || set.load_authors(&state.db);
                    set.authors.load(author, fetch).await.map(drop)
                })
            }
            "article" => {
                let article = row.article_id;
                Box::pin(async move {
                    let fetch = || set.load_articles(&state.db);
                    set.articles.load(article, fetch).await.map(drop)
                })
            }
            _ => return None,
        };
        Some(FieldLoad::new(&self.set, load))
    }
}

/// Input of `addComment`.
#[derive(InputObject)]
pub struct AddCommentInput {
    /// Slug of the article to comment on.
    pub article_slug: String,
    /// Text in Markdown, 1 to 10,000 characters.
    pub body: String,
}

/// Result of `addComment`.
#[derive(SimpleObject)]
pub struct AddCommentPayload {
    /// The new comment.
    pub comment: Comment,
}

/// Input of `deleteComment`.
#[derive(InputObject)]
pub struct DeleteCommentInput {
    /// Global id of the comment.
    pub id: ID,
}

/// Result of `deleteComment`.
#[derive(SimpleObject)]
pub struct DeleteCommentPayload {
    /// Global id of the deleted comment.
    pub deleted_comment_id: ID,
}

/// Mutations about comments.
#[derive(Default)]
pub struct CommentMutation;

#[Object]
impl CommentMutation {
    /// Comments on an article the viewer can see.
    async fn add_comment(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The article and the comment's text.")] input: AddCommentInput,
    ) -> Result<AddCommentPayload> {
        let comment = comments::add(
            ctx.state()?,
            ctx.viewer()?,
            &input.article_slug,
            &input.body,
        )
        .await?;
        Ok(AddCommentPayload {
            comment: Comment::object(comment),
        })
    }

    /// Deletes a comment. Its author or a moderator may.
    async fn delete_comment(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The comment to delete.")] input: DeleteCommentInput,
    ) -> Result<DeleteCommentPayload> {
        let id = parse_id_of(NodeKind::Comment, &input.id)
            .ok_or_else(|| Error::invalid_field("id", "is not a comment id"))?;
        let comment = comments::delete(ctx.state()?, ctx.viewer()?, id).await?;
        Ok(DeleteCommentPayload {
            deleted_comment_id: global_id(NodeKind::Comment, comment.id),
        })
    }
}
