//! Events for subscriptions, published after the transaction that caused them
//! commits.
//!
//! Events carry ids (and a published article's tag names, which are public),
//! never content: each subscriber re-reads the object with its own viewer, so
//! an event never reveals what the subscriber may not read. Subscribers
//! filter on what an event carries before reading, and the reads go through
//! the cache, so while it is on one event costs one read however many
//! subscribers want it.
//! [`PubSub`] is the interface; [`InProcessPubSub`] serves a single instance.

use std::sync::Arc;

use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use tokio::sync::broadcast;
use tokio_stream::wrappers::BroadcastStream;

/// Something that happened which subscribers may want to hear about.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
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
        /// Its author (0 in an event from an instance that predates it,
        /// which no filter on an author matches).
        #[serde(default)]
        author_id: i64,
        /// The names of its tags, public once it is published: subscribers
        /// filter on them and on the author before reading anything.
        #[serde(default)]
        tags: Vec<String>,
    },
    /// A token was revoked or an account's role, sessions or ban changed: every
    /// instance re-reads its access list now instead of at its next poll.
    AccessChanged,
}

/// Publishes events and hands out streams of them.
pub trait PubSub: Send + Sync + 'static {
    /// Sends an event to every current subscriber. Never blocks and never fails
    /// the caller: a write has already committed when it publishes.
    fn publish(&self, event: Event);

    /// Every event published from now on.
    fn subscribe(&self) -> BoxStream<'static, Event>;
}

/// Events from a local broadcast channel as a stream, skipping what a slow
/// subscriber missed.
fn stream_of(receiver: broadcast::Receiver<Event>) -> BoxStream<'static, Event> {
    BroadcastStream::new(receiver)
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
        stream_of(self.sender.subscribe())
    }
}

/// Pub/sub across instances over one Redis channel. Each instance listens on
/// the channel and hands events to its own subscribers; the listener
/// reconnects when Redis comes back.
pub struct RedisPubSub {
    channel: String,
    publisher: crate::cache::redis::RedisStore,
    local: broadcast::Sender<Event>,
    /// Whether the last publish failed, so a failure streak is logged once.
    failing: Arc<std::sync::atomic::AtomicBool>,
}

impl RedisPubSub {
    /// Starts listening on `{prefix}:events` at `url`.
    pub fn start(url: &str, prefix: &str, timeout: std::time::Duration) -> Arc<dyn PubSub> {
        let channel = format!("{prefix}:events");
        let (local, _) = broadcast::channel(1024);
        let pubsub = Self {
            channel: channel.clone(),
            publisher: crate::cache::redis::RedisStore::new(url.to_owned(), timeout),
            local: local.clone(),
            failing: Arc::default(),
        };
        let url = url.to_owned();
        tokio::spawn(async move {
            let mut logged = false;
            loop {
                match listen(&url, &channel, &local).await {
                    Ok(()) => logged = false,
                    Err(err) if !logged => {
                        logged = true;
                        tracing::error!(error = %err, "redis pub/sub listener lost; retrying every second");
                    }
                    Err(_) => {}
                }
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            }
        });
        Arc::new(pubsub)
    }
}

async fn listen(
    url: &str,
    channel: &str,
    local: &broadcast::Sender<Event>,
) -> redis::RedisResult<()> {
    let client = redis::Client::open(url)?;
    let mut pubsub = client.get_async_pubsub().await?;
    pubsub.subscribe(channel).await?;
    tracing::info!(channel, "listening for events on redis");
    let mut messages = pubsub.on_message();
    while let Some(message) = messages.next().await {
        match serde_json::from_slice::<Event>(message.get_payload_bytes()) {
            Ok(event) => {
                let _ = local.send(event);
            }
            Err(err) => tracing::warn!(error = %err, "ignoring an event that does not decode"),
        }
    }
    Ok(())
}

impl PubSub for RedisPubSub {
    fn publish(&self, event: Event) {
        let Ok(payload) = serde_json::to_vec(&event) else {
            return;
        };
        let channel = self.channel.clone();
        let connection = self.publisher.connection_handle();
        let failing = self.failing.clone();
        tokio::spawn(async move {
            let result = match connection {
                Some(mut connection) => {
                    redis::AsyncCommands::publish::<_, _, ()>(&mut connection, &channel, payload)
                        .await
                }
                None => Err(redis::RedisError::from((
                    redis::ErrorKind::Io,
                    "not connected to redis yet",
                ))),
            };
            use std::sync::atomic::Ordering;
            match result {
                Ok(()) if failing.swap(false, Ordering::Relaxed) => {
                    tracing::info!("events are published to redis again");
                }
                Ok(()) => {}
                Err(err) if !failing.swap(true, Ordering::Relaxed) => {
                    tracing::error!(error = %err, ?event, "events cannot be published to redis; subscribers elsewhere miss them");
                }
                Err(_) => {}
            }
        });
    }

    fn subscribe(&self) -> BoxStream<'static, Event> {
        stream_of(self.local.subscribe())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn subscribers_receive_events_published_after_they_subscribe() {
        let pubsub = InProcessPubSub::new(16);
        let published = |article_id| Event::ArticlePublished {
            article_id,
            author_id: 7,
            tags: vec!["rust".into()],
        };
        pubsub.publish(published(1));
        let mut stream = pubsub.subscribe();
        pubsub.publish(published(2));
        assert_eq!(stream.next().await, Some(published(2)));
    }
}
