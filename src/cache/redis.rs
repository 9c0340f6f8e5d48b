//! The Redis store, shared by every instance.
//!
//! It connects in the background: until Redis answers (at start, or after it
//! went away) every operation fails fast and the cache falls through to the
//! database. The connection reconnects by itself.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use redis::AsyncCommands;
use redis::aio::ConnectionManager;

use super::{CacheStore, StoreError};

/// Values and counters in Redis. Clones share one connection.
#[derive(Clone)]
pub struct RedisStore {
    connection: Arc<OnceLock<ConnectionManager>>,
}

fn failed(err: redis::RedisError) -> StoreError {
    StoreError(err.to_string())
}

/// Opens a self-reconnecting connection to `url`.
pub async fn connect(url: &str, timeout: Duration) -> Result<ConnectionManager, StoreError> {
    let client = redis::Client::open(url).map_err(failed)?;
    let config = redis::aio::ConnectionManagerConfig::new()
        .set_connection_timeout(Some(timeout))
        .set_response_timeout(Some(timeout));
    client
        .get_connection_manager_with_config(config)
        .await
        .map_err(failed)
}

impl RedisStore {
    /// A store for `url` that connects in the background, retrying every second.
    pub fn new(url: String, timeout: Duration) -> Self {
        let connection = Arc::new(OnceLock::new());
        let slot = connection.clone();
        tokio::spawn(async move {
            let mut logged = false;
            loop {
                match connect(&url, timeout).await {
                    Ok(manager) => {
                        let _ = slot.set(manager);
                        tracing::info!("connected to redis");
                        return;
                    }
                    Err(err) if !logged => {
                        logged = true;
                        tracing::error!(error = %err, "cannot reach redis; retrying every second");
                    }
                    Err(_) => {}
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        });
        Self { connection }
    }

    /// The connection, once it is up.
    pub fn connection_handle(&self) -> Option<ConnectionManager> {
        self.connection.get().cloned()
    }

    fn connection(&self) -> Result<ConnectionManager, StoreError> {
        self.connection
            .get()
            .cloned()
            .ok_or_else(|| StoreError("not connected to redis yet".into()))
    }
}

#[async_trait::async_trait]
impl CacheStore for RedisStore {
    async fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        self.connection()?.mget(keys).await.map_err(failed)
    }

    async fn set(&self, key: &str, value: Vec<u8>, ttl: Duration) -> Result<(), StoreError> {
        let millis = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX);
        self.connection()?
            .pset_ex::<_, _, ()>(key, value, millis)
            .await
            .map_err(failed)
    }

    async fn incr(&self, key: &str) -> Result<i64, StoreError> {
        self.connection()?.incr(key, 1).await.map_err(failed)
    }

    fn kind(&self) -> &'static str {
        "redis"
    }
}
