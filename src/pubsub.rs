//! Events for subscriptions, published after the transaction that caused them
//! commits.
//!
//! Events carry ids only, never content: each subscriber re-reads the object
//! with its own viewer, so an event never reveals what the subscriber may not read.
//! [`PubSub`] is the interface; [`InProcessPubSub`] serves a single instance.

use std::sync::Arc;

use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use tokio::sync::broadcast;
use tokio_stream::wrappers::BroadcastStream;

/// Something that happened which subscribers may want to hear about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// A comment was added to an article.
    CommentAdded {
        /// The article commented on.
        article_id: i64,
        /// The new comment.
        comment_id: i64,
    },
    /// An article was published (created published, or a draft published).
    ArticlePublished {
        /// The article.
        article_id: i64,
    },
}

/// Publishes events and hands out streams of them.
pub trait PubSub: Send + Sync + 'static {
    /// Sends an event to every current subscriber. Never blocks and never fails
    /// the caller: a write has already committed when it publishes.
    fn publish(&self, event: Event);

    /// Every event published from now on.
    fn subscribe(&self) -> BoxStream<'static, Event>;
}

/// Pub/sub within one process, over a tokio broadcast channel.
#[derive(Clone, Debug)]
pub struct InProcessPubSub {
    sender: broadcast::Sender<Event>,
}

impl InProcessPubSub {
    /// A channel that buffers up to `capacity` events per slow subscriber; a
    /// subscriber that falls further behind skips the oldest.
    pub fn new(capacity: usize) -> Self {
        let (sender, _) = broadcast::channel(capacity);
        Self { sender }
    }

    /// Shares it behind the [`PubSub`] interface.
    pub fn shared(capacity: usize) -> Arc<dyn PubSub> {
        Arc::new(Self::new(capacity))
    }
}

impl PubSub for InProcessPubSub {
    fn publish(&self, event: Event) {
        // No subscribers is not an error.
        let _ = self.sender.send(event);
    }

    fn subscribe(&self) -> BoxStream<'static, Event> {
        BroadcastStream::new(self.sender.subscribe())
            .filter_map(|item| async move {
                match item {
                    Ok(event) => Some(event),
                    Err(lagged) => {
                        tracing::warn!(%lagged, "a subscriber fell behind and skipped events");
                        None
                    }
                }
            })
            .boxed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn subscribers_receive_events_published_after_they_subscribe() {
        let pubsub = InProcessPubSub::new(16);
        pubsub.publish(Event::ArticlePublished { article_id: 1 });
        let mut stream = pubsub.subscribe();
        pubsub.publish(Event::ArticlePublished { article_id: 2 });
        assert_eq!(
            stream.next().await,
            Some(Event::ArticlePublished { article_id: 2 })
        );
    }
}
