//! Subscriptions. Events carry ids; each subscriber filters on what an event
//! carries first, then re-reads the object as itself (through the cache, so
//! one read serves all of them while the cache is on), so it only ever
//! receives what it may read.

use async_graphql::{Context, Result, Subscription};
use futures_util::{FutureExt, Stream, StreamExt};

use super::articles::Article;
use super::comments::Comment;
use super::context::ContextExt;
use super::loaders::ArticleSet;
use crate::auth::{Action, Capability, Viewer};
use crate::pubsub::Event;
use crate::service::{articles, comments, users};
use crate::state::AppState;

/// Root of the subscriptions.
#[derive(Default)]
pub struct SubscriptionRoot;

/// Events pushed over the WebSocket as they happen.
#[Subscription(name = "Subscription")]
impl SubscriptionRoot {
    /// Comments added to one article from now on. NOT_FOUND when the article does
    /// not exist or is someone else's draft.
    async fn comment_added(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Slug of the article to watch.")] article_slug: String,
    ) -> Result<impl Stream<Item = Comment> + use<>> {
        let state = ctx.state()?.clone();
        let viewer = ctx.viewer()?.clone();
        // Listen first, so no comment added while the article is looked up is missed.
        let events = state.pubsub.subscribe();
        let article = articles::find_by_slug(&state.db, &viewer, &article_slug).await?;
        let watching = Capability::read_article(
            Action::CommentSubscribe,
            article.id,
            article.author_id,
            article.is_published(),
        );
        viewer.permits(&watching)?;
        let watched = article.id;
        Ok(events.filter_map(move |event| {
            let (state, viewer) = (state.clone(), viewer.clone());
            async move {
                let Event::CommentAdded {
                    article_id,
                    comment_id,
                } = event
                else {
                    return None;
                };
                // Re-checked per event: a narrowed token may have expired meanwhile.
                if article_id != watched || viewer.permits(&watching).is_err() {
                    return None;
                }
                visible_comment(&state, &viewer, article_id, comment_id).await
            }
        }))
    }

    /// Articles as they are published, optionally only those with a tag or by an author.
    async fn article_published(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only articles carrying this tag.")] tag: Option<String>,
        #[graphql(desc = "Only articles by the user with this username.")] author: Option<String>,
    ) -> Result<impl Stream<Item = Article> + use<>> {
        let state = ctx.state()?.clone();
        let viewer = ctx.viewer()?.clone();
        let events = state.pubsub.subscribe();
        // `Some(None)`: an author who does not exist, whose articles never come.
        let author_id = match author {
            Some(name) => Some(
                users::find_by_username(&state.db, name.trim())
                    .await?
                    .map(|user| user.id),
            ),
            None => None,
        };
        let tag = tag.map(|tag| tag.trim().to_owned());
        Ok(events.filter_map(move |event| {
            let (state, viewer) = (state.clone(), viewer.clone());
            let Event::ArticlePublished {
                article_id,
                author_id: by,
                tags,
            } = event
            else {
                return futures_util::future::ready(None).boxed();
            };
            // Filtered on what the event carries, before anything is read.
            let wanted = author_id.is_none_or(|wanted| wanted == Some(by))
                && tag.as_ref().is_none_or(|tag| tags.contains(tag));
            if !wanted {
                return futures_util::future::ready(None).boxed();
            }
            async move { published_article(&state, &viewer, article_id).await }.boxed()
        }))
    }
}

/// The article an event announced, read once for every subscriber through
/// the cache, if this viewer may read it.
async fn published_article(state: &AppState, viewer: &Viewer, article_id: i64) -> Option<Article> {
    let (article, counts) = match articles::find_by_id_cached(state, viewer, article_id).await {
        Ok(found) => found?,
        Err(err) => {
            tracing::warn!(error = %err, article_id, "could not load an article for a subscriber");
            return None;
        }
    };
    let reading = Capability::read_article(
        Action::ArticleSubscribe,
        article.id,
        article.author_id,
        article.is_published(),
    );
    (article.is_published() && viewer.permits(&reading).is_ok())
        .then(|| ArticleSet::read(article, counts))
}

async fn visible_comment(
    state: &AppState,
    viewer: &Viewer,
    article_id: i64,
    comment_id: i64,
) -> Option<Comment> {
    match comments::find_added_visible(state, viewer, article_id, comment_id).await {
        Ok(found) => found.map(|(comment, _)| Comment::object(comment)),
        Err(err) => {
            tracing::warn!(error = %err, comment_id, "could not load a comment for a subscriber");
            None
        }
    }
}
