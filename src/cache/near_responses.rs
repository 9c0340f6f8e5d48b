//! Copies of the anonymous responses this instance served lately
//! ([`crate::graphql::response_cache`]), kept when the cache is shared
//! (Redis) with the generations they were current for: a request whose copy
//! is held reads only the generations from the store, not the body.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use axum::body::Bytes;

use super::{Cache, DEFAULT_TTL, Generation, Tags};
use crate::rounds::Rounds;

/// A response this instance served lately, with the tags it is current for.
#[derive(Debug)]
pub struct NearResponse {
    /// The generations' values when the response was made.
    pub tags: Tags,
    /// Rate-limit points the request cost when it ran.
    pub cost: u64,
    /// The JSON body, as sent.
    pub body: Bytes,
}

/// Responses this instance served lately, by cache key, bounded in bytes; the
/// least recently used go first, and none outlives the shared cache's TTL.
pub struct NearResponses {
    entries: moka::sync::Cache<String, Arc<NearResponse>>,
    /// Requests answered from a copy, after reading only the generations.
    pub hits: AtomicU64,
    /// Reads of the generations, shared by the requests that arrive together.
    freshness: Arc<Rounds<(), Option<Tags>>>,
}

impl NearResponses {
    /// A copy holding at most `max_bytes` of keys and bodies.
    pub fn new(max_bytes: u64) -> Self {
        Self {
            entries: moka::sync::Cache::builder()
                .weigher(|key: &String, response: &Arc<NearResponse>| {
                    u32::try_from(key.len() + response.body.len()).unwrap_or(u32::MAX)
                })
                .max_capacity(max_bytes)
                .time_to_live(DEFAULT_TTL)
                .build(),
            hits: AtomicU64::new(0),
            freshness: Arc::default(),
        }
    }

    /// The current tags of the responses' generations: what this instance
    /// heard, while it holds a lease on it ([`crate::cache::watch`]); else
    /// from a read sent after this call began, shared with the calls that
    /// arrived meanwhile. Either way every write that finished before the
    /// call began is seen. `None` when the store is out of reach.
    pub async fn current_tags(&self, cache: &Arc<Cache>) -> Option<Tags> {
        if let Some(heard) = cache.heard_response_tags() {
            return Some(heard);
        }
        let cache = cache.clone();
        self.freshness
            .join((), 0, move |_| async move {
                cache.current_tags(&generations()).await
            })
            .await
    }

    /// How many reads of the generations went to the store.
    pub fn freshness_reads(&self) -> u64 {
        self.freshness.sent()
    }

    /// The copy under `key`, whatever its tags.
    pub fn get(&self, key: &str) -> Option<Arc<NearResponse>> {
        self.entries.get(key)
    }

    /// Keeps `response` under `key`.
    pub fn insert(&self, key: String, response: NearResponse) {
        self.entries.insert(key, Arc::new(response));
    }

    /// Drops the copy under `key`: its tags are out of date.
    pub fn remove(&self, key: &str) {
        self.entries.invalidate(key);
    }
}

/// The generations every cached response is tagged with.
pub fn generations() -> [Generation; 1] {
    [Generation::responses()]
}
