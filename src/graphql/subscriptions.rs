//! Subscriptions. Events carry ids; each subscriber re-reads the object as itself,
//! so it only ever receives what it may read.

use async_graphql::{Context, Result, Subscription};
use futures_util::{Stream, StreamExt};

use super::articles::Article;
use super::comments::Comment;
use super::context::ContextExt;
use super::loaders::ArticleSet;
use crate::auth::{Action, Capability, Viewer};
use crate::pubsub::Event;
use crate::service::{articles, comments};
use crate::state::AppState;

/// Root of the subscriptions.
#[derive(Default)]
pub struct SubscriptionRoot;

/// Events pushed over the WebSocket as they happen.
#[Subscription]
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
                visible_comment(&state, &viewer, comment_id).await
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
        Ok(state.pubsub.subscribe().filter_map(move |event| {
            let (state, viewer, tag, author) =
                (state.clone(), viewer.clone(), tag.clone(), author.clone());
            async move {
                let Event::ArticlePublished { article_id } = event else {
                    return None;
                };
                let article = articles::by_ids(&state.db, &[article_id])
                    .await
                    .ok()?
                    .remove(&article_id)?;
                let reading = Capability::read_article(
                    Action::ArticleSubscribe,
                    article.id,
                    article.author_id,
                    article.is_published(),
                );
                if !articles::is_visible(&viewer, &article) || viewer.permits(&reading).is_err() {
                    return None;
                }
                let wanted = articles::matches_subscription(
                    &state.db,
                    &article,
                    tag.as_deref(),
                    author.as_deref(),
                )
                .await
                .unwrap_or_else(|err| {
                    tracing::warn!(error = %err, "could not match an event to a subscription");
                    false
                });
                wanted.then_some(ArticleSet::object(article))
            }
        }))
    }
}

async fn visible_comment(state: &AppState, viewer: &Viewer, comment_id: i64) -> Option<Comment> {
    match comments::find_visible(&state.db, viewer, comment_id).await {
        Ok(found) => found.map(|(comment, _)| Comment::object(comment)),
        Err(err) => {
            tracing::warn!(error = %err, comment_id, "could not load a comment for a subscriber");
            None
        }
    }
}
