//! The in-process store: moka for values, a map for counters.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use super::{CacheStore, StoreError};

/// Values and counters in this process only.
pub struct MemoryStore {
    values: moka::future::Cache<String, Vec<u8>>,
    counters: Mutex<HashMap<String, i64>>,
}

impl MemoryStore {
    /// A store holding at most `max_bytes` of keys and values, each for at
    /// most the cache TTL; the least recently used go first.
    pub fn new(max_bytes: u64) -> Self {
        Self {
            values: moka::future::Cache::builder()
                .weigher(|key: &String, value: &Vec<u8>| {
                    u32::try_from(key.len() + value.len()).unwrap_or(u32::MAX)
                })
                .max_capacity(max_bytes)
                .time_to_live(super::DEFAULT_TTL)
                .build(),
            counters: Mutex::new(HashMap::new()),
        }
    }
}

#[async_trait::async_trait]
impl CacheStore for MemoryStore {
    async fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        let mut out = Vec::with_capacity(keys.len());
        for key in keys {
            let counter = self
                .counters
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .get(key)
                .map(|n| n.to_string().into_bytes());
            match counter {
                Some(bytes) => out.push(Some(bytes)),
                None => out.push(self.values.get(key).await),
            }
        }
        Ok(out)
    }

    async fn set(&self, key: &str, value: Vec<u8>, _ttl: Duration) -> Result<(), StoreError> {
        self.values.insert(key.to_owned(), value).await;
        Ok(())
    }

    async fn incr(&self, key: &str) -> Result<i64, StoreError> {
        let mut counters = self
            .counters
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let counter = counters.entry(key.to_owned()).or_insert(0);
        *counter += 1;
        Ok(*counter)
    }

    fn kind(&self) -> &'static str {
        "memory"
    }
}

/// A store that keeps nothing: every read is a miss. For `CACHE_ENABLED=false`.
pub struct NoStore;

#[async_trait::async_trait]
impl CacheStore for NoStore {
    async fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Vec<u8>>>, StoreError> {
        Ok(vec![None; keys.len()])
    }

    async fn set(&self, _key: &str, _value: Vec<u8>, _ttl: Duration) -> Result<(), StoreError> {
        Ok(())
    }

    async fn incr(&self, _key: &str) -> Result<i64, StoreError> {
        Ok(0)
    }

    fn keeps_values(&self) -> bool {
        false
    }

    fn kind(&self) -> &'static str {
        "none"
    }
}
