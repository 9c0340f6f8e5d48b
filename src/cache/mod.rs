//! The hot-read cache: public data only, never stale after a write.
//!
//! Entries are tagged with *generation counters*: each cached read names the
//! counters its data depends on (an article's slug, a tag's lists, …), and each
//! write bumps the counters of what it changed, after its transaction commits.
//! An entry whose tags no longer match the counters is a miss. A global epoch
//! is part of every tag, so when invalidations could not be delivered (the
//! store was down), the next successful contact bumps the epoch and every old
//! entry dies. TTLs are only a safety net.
//!
//! [`CacheStore`] is the storage interface, with [`memory::MemoryStore`] (moka,
//! one process) and [`redis::RedisStore`] (shared by every instance). Concurrent
//! misses on one key load it once (single flight). A store that fails or takes
//! longer than its timeout is skipped for a second at a time: requests fall
//! through to the database instead of waiting.

pub mod memory;
pub mod near_responses;
pub mod redis;
pub mod watch;

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use futures_util::FutureExt;
use futures_util::future::{BoxFuture, Shared};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use watch::{Counter, GenerationWatch};

/// Bumped when the format of cached values changes, so a new deploy never
/// reads entries written by an old one.
pub const SCHEMA_VERSION: u32 = 1;

/// How long entries live at most.
pub const DEFAULT_TTL: Duration = Duration::from_secs(300);

/// How long a failing store is left alone before it is tried again.
const BACKOFF: Duration = Duration::from_secs(1);

const EPOCH: &str = "epoch";

/// How often a cache that saw the store fail tries to bump the epoch.
const HEAL_INTERVAL: Duration = Duration::from_millis(200);

/// Why the store did not answer.
#[derive(Debug, thiserror::Error)]
#[error("cache store: {0}")]
pub struct StoreError(pub String);

/// Where cached bytes and counters live.
#[async_trait::async_trait]
pub trait CacheStore: Send + Sync + 'static {
    /// The values of `keys`, `None` where absent.
    async fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Vec<u8>>>, StoreError>;
    /// Stores a value for at most `ttl`.
    async fn set(&self, key: &str, value: Vec<u8>, ttl: Duration) -> Result<(), StoreError>;
    /// Adds one to a counter (absent counts as zero) and returns the new value.
    async fn incr(&self, key: &str) -> Result<i64, StoreError>;
    /// False for a store that keeps nothing: the cache then loads every value
    /// straight from its source, without encoding it.
    fn keeps_values(&self) -> bool {
        true
    }
    /// A name for logs.
    fn kind(&self) -> &'static str;
}

/// A generation counter a cached value depends on.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Generation(String);

impl Generation {
    /// An article, by slug.
    pub fn article(slug: &str) -> Self {
        Self(format!("article:{slug}"))
    }
    /// An article, by id.
    pub fn article_id(id: i64) -> Self {
        Self(format!("article-id:{id}"))
    }
    /// A public profile, by username: in any case, since usernames are one
    /// name whatever their case.
    pub fn profile(username: &str) -> Self {
        Self(format!("profile:{}", username.to_ascii_lowercase()))
    }
    /// The popular tags.
    pub fn tags() -> Self {
        Self("tags".into())
    }
    /// An article's comments.
    pub fn comments(article_id: i64) -> Self {
        Self(format!("comments:{article_id}"))
    }
    /// Every list of published articles.
    pub fn all_lists() -> Self {
        Self("lists".into())
    }
    /// Every whole response cached for anonymous callers: every invalidation
    /// bumps it, and so does every mutation, whatever it changed.
    pub fn responses() -> Self {
        Self("responses".into())
    }
    /// Lists of articles with a tag.
    pub fn tag_lists(tag: &str) -> Self {
        Self(format!("lists:tag:{tag}"))
    }
    /// Lists of an author's articles.
    pub fn author_lists(author_id: i64) -> Self {
        Self(format!("lists:author:{author_id}"))
    }
}

#[derive(Serialize, Deserialize)]
struct Entry<T> {
    tags: Vec<i64>,
    value: T,
}

/// What [`Cache::lookup`] found.
pub enum Lookup<T> {
    /// A current value, and the generations it is current for.
    Hit(T, Tags),
    /// None; with what [`Cache::fill`] needs, unless the store is out of reach.
    Miss(Option<Miss>),
}

/// The values some generations had when they were read (with the epoch): a
/// value made under these tags is current while they stay the same.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tags(Vec<i64>);

/// A lookup that missed: the key and the generations it read.
pub struct Miss {
    key: String,
    tags: Vec<i64>,
}

impl Miss {
    /// The generations read before the value is made: a value stored for this
    /// miss carries them.
    pub fn tags(&self) -> Tags {
        Tags(self.tags.clone())
    }
}

type Load = Shared<BoxFuture<'static, Result<Arc<Vec<u8>>>>>;

/// Counts of what the cache did, for diagnostics and tests.
#[derive(Debug, Default)]
pub struct CacheStats {
    /// Reads answered from the store.
    pub hits: AtomicU64,
    /// Reads that went to the database.
    pub misses: AtomicU64,
    /// Store operations that failed or timed out.
    pub failures: AtomicU64,
}

/// The cache every service reads through.
pub struct Cache {
    store: Arc<dyn CacheStore>,
    prefix: String,
    timeout: Duration,
    inflight: Mutex<HashMap<String, Load>>,
    unavailable_until: Mutex<Option<Instant>>,
    /// Invalidations may have been lost: bump the epoch at the next contact.
    dirty: AtomicBool,
    /// When the store first failed since it last answered.
    outage_began: Mutex<Option<Instant>>,
    /// Announces invalidations of the responses' generation and hears those
    /// of other instances, when the store is shared.
    watch: OnceLock<Arc<GenerationWatch>>,
    /// What the cache did.
    pub stats: CacheStats,
}

impl Cache {
    /// A shared cache over `store`, with a background task that bumps the epoch
    /// as soon as the store answers again after a failure.
    pub fn start(store: Arc<dyn CacheStore>, prefix: &str, timeout: Duration) -> Arc<Self> {
        let cache = Arc::new(Self::new(store, prefix, timeout));
        let weak = Arc::downgrade(&cache);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(HEAL_INTERVAL);
            loop {
                tick.tick().await;
                let Some(cache) = weak.upgrade() else { return };
                if cache.dirty.load(Ordering::Acquire) {
                    cache.heal_now().await;
                }
            }
        });
        cache
    }

    /// A cache over `store`, with keys under `prefix` and operations cut off after `timeout`.
    pub fn new(store: Arc<dyn CacheStore>, prefix: &str, timeout: Duration) -> Self {
        Self {
            store,
            prefix: format!("{prefix}:v{SCHEMA_VERSION}:"),
            timeout,
            inflight: Mutex::new(HashMap::new()),
            unavailable_until: Mutex::new(None),
            dirty: AtomicBool::new(false),
            outage_began: Mutex::new(None),
            watch: OnceLock::new(),
            stats: CacheStats::default(),
        }
    }

    /// Starts watching the epoch and the responses' generation over the Redis
    /// at `url` (see [`watch`]), with a lease of `lease`: from then on, every
    /// invalidation here is announced to the other instances and waits for
    /// them, and [`Cache::heard_response_tags`] answers without a read.
    pub fn start_watch(&self, url: &str, store: self::redis::RedisStore, lease: Duration) {
        let keys = [self.key(EPOCH), self.gen_key(&Generation::responses())];
        let watch = GenerationWatch::start(url, &self.prefix, keys, store, lease, self.timeout);
        let _ = self.watch.set(watch);
    }

    /// The watch on the responses' generation, when one was started.
    pub fn watch(&self) -> Option<&GenerationWatch> {
        self.watch.get().map(Arc::as_ref)
    }

    /// The tags of [`Generation::responses`], as [`Cache::current_tags`]
    /// would read them, from what this instance heard: `None` unless it holds
    /// a lease on what it heard (see [`watch`]).
    pub fn heard_response_tags(&self) -> Option<Tags> {
        self.watch.get()?.current()
    }

    /// Bumps `counter` and, with a watch, announces it to every instance and
    /// waits until they heard it. False when the store did not answer.
    async fn bump(&self, counter: Counter) -> bool {
        if !self.available() && counter == Counter::Responses {
            return false;
        }
        let Some(watch) = self.watch.get() else {
            let key = match counter {
                Counter::Epoch => self.key(EPOCH),
                Counter::Responses => self.gen_key(&Generation::responses()),
            };
            return self.attempt(self.store.incr(&key)).await.is_some();
        };
        match self.attempt(watch.bump(counter)).await {
            Some(bumped) => {
                watch.confirmed(bumped).await;
                true
            }
            None => false,
        }
    }

    /// After an invalidation was lost: waits until no instance can still
    /// serve copies on what it heard before the store stopped answering
    /// (a lease after the outage began; nothing to wait once one has
    /// passed). Without a watch, nothing is served on what was heard.
    async fn wait_out_leases(&self) {
        let Some(watch) = self.watch.get() else {
            return;
        };
        let began = self
            .outage_began
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .unwrap_or_else(Instant::now);
        let leases_over = began + watch.lease() + watch::lease_margin(watch.lease());
        tokio::time::sleep_until(leases_over.into()).await;
    }

    /// The store's kind, for logs.
    pub fn kind(&self) -> &'static str {
        self.store.kind()
    }

    /// Whether values are kept at all: false when caching is switched off.
    pub fn keeps_values(&self) -> bool {
        self.store.keeps_values()
    }

    fn key(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }

    fn gen_key(&self, generation: &Generation) -> String {
        format!("{}gen:{}", self.prefix, generation.0)
    }

    fn available(&self) -> bool {
        let until = *self
            .unavailable_until
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        until.is_none_or(|until| Instant::now() >= until)
    }

    /// Runs a store operation with the timeout, recording failures; none
    /// while the store is left alone after a failure.
    async fn guarded<T>(&self, op: impl Future<Output = Result<T, StoreError>>) -> Option<T> {
        if !self.available() {
            return None;
        }
        self.attempt(op).await
    }

    /// Runs a store operation with the timeout, recording failures, even
    /// while the store is left alone (to find out whether it is back).
    async fn attempt<T>(&self, op: impl Future<Output = Result<T, StoreError>>) -> Option<T> {
        let result = match tokio::time::timeout(self.timeout, op).await {
            Ok(result) => result,
            Err(_) => Err(StoreError(format!("no answer within {:?}", self.timeout))),
        };
        let mut until = self
            .unavailable_until
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut outage = self
            .outage_began
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match result {
            Ok(value) => {
                until.take();
                outage.take();
                Some(value)
            }
            Err(err) => {
                outage.get_or_insert_with(Instant::now);
                self.stats.failures.fetch_add(1, Ordering::Relaxed);
                // Whatever was written meanwhile may not have been invalidated.
                self.dirty.store(true, Ordering::Release);
                if until.is_none() {
                    tracing::error!(store = self.kind(), error = %err, "cache store failed; reading from the database");
                }
                *until = Some(Instant::now() + BACKOFF);
                None
            }
        }
    }

    /// Before reading: if the store failed since the last contact, bump the
    /// epoch first, so entries written before the failure are never served.
    async fn heal(&self) -> bool {
        if !self.dirty.load(Ordering::Acquire) {
            return true;
        }
        self.available() && self.heal_now().await
    }

    async fn heal_now(&self) -> bool {
        if self.bump(Counter::Epoch).await {
            self.dirty.store(false, Ordering::Release);
            *self
                .unavailable_until
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner) = None;
            tracing::info!(
                store = self.kind(),
                "cache store answers again; epoch bumped, older entries dropped"
            );
            true
        } else {
            false
        }
    }

    /// A value stored under `name` without generations (persisted documents):
    /// `None` when absent or when the store does not answer.
    pub async fn get_plain(&self, name: &str) -> Option<Vec<u8>> {
        let key = self.key(name);
        self.guarded(self.store.get_many(std::slice::from_ref(&key)))
            .await
            .and_then(|mut values| values.pop().flatten())
    }

    /// Stores `value` under `name` for at most `ttl`, without generations.
    pub async fn set_plain(&self, name: &str, value: Vec<u8>, ttl: Duration) {
        let key = self.key(name);
        self.guarded(self.store.set(&key, value, ttl)).await;
    }

    /// The value cached under `name` if its generations are current, else what
    /// `load` returns, stored for the next reader. Concurrent misses load once.
    pub async fn get_or_load<T, F, Fut>(
        &self,
        name: &str,
        generations: &[Generation],
        load: F,
    ) -> Result<T>
    where
        T: Serialize + DeserializeOwned + Send + 'static,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T>> + Send + 'static,
    {
        if !self.store.keeps_values() {
            return load().await;
        }
        let miss = match self.lookup(name, generations).await {
            Lookup::Hit(value, _) => return Ok(value),
            Lookup::Miss(Some(miss)) => miss,
            Lookup::Miss(None) => return load().await,
        };
        let bytes = self.load_once(&miss.key, miss.tags, load).await?;
        serde_json::from_slice::<Entry<T>>(&bytes)
            .map(|entry| entry.value)
            .map_err(|e| Error::Internal(format!("cached value does not decode: {e}")))
    }

    /// The value cached under `name` if its generations are current. On a miss,
    /// what [`Cache::fill`] needs to store a fresh value, unless the store is
    /// out of reach. For values that may turn out not to be worth storing;
    /// [`Cache::get_or_load`] is the usual way in.
    pub async fn lookup<T: DeserializeOwned>(
        &self,
        name: &str,
        generations: &[Generation],
    ) -> Lookup<T> {
        if !self.heal().await {
            return Lookup::Miss(None);
        }
        let key = self.key(name);
        let mut keys = vec![key.clone()];
        keys.extend(self.tag_keys(generations));
        let Some(values) = self.guarded(self.store.get_many(&keys)).await else {
            self.stats.misses.fetch_add(1, Ordering::Relaxed);
            return Lookup::Miss(None);
        };
        let tags = parse_tags(&values[1..]);
        if let Some(bytes) = &values[0]
            && let Ok(entry) = serde_json::from_slice::<Entry<T>>(bytes)
            && entry.tags == tags
        {
            self.stats.hits.fetch_add(1, Ordering::Relaxed);
            return Lookup::Hit(entry.value, Tags(tags));
        }
        self.stats.misses.fetch_add(1, Ordering::Relaxed);
        Lookup::Miss(Some(Miss { key, tags }))
    }

    /// The current tags of `generations`, without reading any value: a copy
    /// of a value kept elsewhere under equal tags is still current. `None`
    /// when the store is out of reach.
    pub async fn current_tags(&self, generations: &[Generation]) -> Option<Tags> {
        if !self.heal().await {
            return None;
        }
        let keys: Vec<String> = self.tag_keys(generations).collect();
        let values = self.guarded(self.store.get_many(&keys)).await?;
        Some(Tags(parse_tags(&values)))
    }

    /// The keys of the epoch and of `generations`, in the order tags list them.
    fn tag_keys<'a>(&'a self, generations: &'a [Generation]) -> impl Iterator<Item = String> + 'a {
        std::iter::once(self.key(EPOCH)).chain(generations.iter().map(|g| self.gen_key(g)))
    }

    /// Stores `value` for the lookup that missed. It is tagged with the
    /// generations read *before* the value was made, so a write that
    /// committed meanwhile has already made it stale.
    pub async fn fill<T: Serialize>(&self, miss: Miss, value: &T) {
        let entry = Entry {
            tags: miss.tags,
            value,
        };
        if let Ok(bytes) = serde_json::to_vec(&entry) {
            self.guarded(self.store.set(&miss.key, bytes, DEFAULT_TTL))
                .await;
        }
    }

    async fn load_once<T, F, Fut>(&self, key: &str, tags: Vec<i64>, load: F) -> Result<Arc<Vec<u8>>>
    where
        T: Serialize + Send + 'static,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T>> + Send + 'static,
    {
        let shared = {
            let mut inflight = self
                .inflight
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if let Some(running) = inflight.get(key) {
                running.clone()
            } else {
                let fut = load();
                let running: Load = async move {
                    let value = fut.await?;
                    let bytes = serde_json::to_vec(&Entry { tags, value })
                        .map_err(|e| Error::Internal(format!("value does not encode: {e}")))?;
                    Ok(Arc::new(bytes))
                }
                .boxed()
                .shared();
                inflight.insert(key.to_owned(), running.clone());
                running
            }
        };
        let result = shared.await;
        let first = self
            .inflight
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(key)
            .is_some();
        if first && let Ok(bytes) = &result {
            self.guarded(self.store.set(key, bytes.to_vec(), DEFAULT_TTL))
                .await;
        }
        result
    }

    /// Bumps `generations` (and [`Generation::responses`]) after a write
    /// commits: every entry tagged with them is a miss from now on, on every
    /// instance; with a watch, every instance has heard so when this returns.
    /// One that cannot be delivered marks the cache dirty, and the epoch is
    /// bumped when the store returns; with a watch, it also waits until no
    /// instance can serve copies on what it heard before the store failed.
    pub async fn invalidate(&self, generations: &[Generation]) {
        let responses = Generation::responses();
        let mut delivered = true;
        for generation in generations.iter().filter(|g| **g != responses) {
            let key = self.gen_key(generation);
            if self.guarded(self.store.incr(&key)).await.is_none() {
                delivered = false;
                break;
            }
        }
        if !(delivered && self.bump(Counter::Responses).await) {
            self.dirty.store(true, Ordering::Release);
            self.wait_out_leases().await;
        }
    }
}

/// Counter values as the store returns them; an absent counter is zero.
fn parse_tags(values: &[Option<Vec<u8>>]) -> Vec<i64> {
    values
        .iter()
        .map(|v| {
            v.as_deref()
                .and_then(|b| std::str::from_utf8(b).ok()?.parse().ok())
                .unwrap_or(0)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    fn cache() -> Cache {
        Cache::new(
            Arc::new(memory::MemoryStore::new(1 << 20)),
            "test",
            Duration::from_millis(100),
        )
    }

    #[tokio::test]
    async fn a_value_is_served_until_its_generation_is_bumped() {
        let cache = cache();
        let slug = Generation::article("a");
        let first: String = cache
            .get_or_load("k", std::slice::from_ref(&slug), || async {
                Ok("one".to_owned())
            })
            .await
            .expect("load");
        let cached: String = cache
            .get_or_load("k", std::slice::from_ref(&slug), || async {
                Ok("two".to_owned())
            })
            .await
            .expect("hit");
        assert_eq!((first.as_str(), cached.as_str()), ("one", "one"));
        cache.invalidate(std::slice::from_ref(&slug)).await;
        let fresh: String = cache
            .get_or_load("k", &[slug], || async { Ok("three".to_owned()) })
            .await
            .expect("reload");
        assert_eq!(fresh, "three");
    }

    #[tokio::test]
    async fn current_tags_match_a_value_until_its_generations_move() {
        let cache = cache();
        let generations = [Generation::responses()];
        let Lookup::Miss(Some(miss)) = cache.lookup::<u32>("r", &generations).await else {
            panic!("an empty cache missed without the store");
        };
        let made_under = miss.tags();
        assert_eq!(
            cache.current_tags(&generations).await,
            Some(made_under.clone())
        );
        cache.fill(miss, &7u32).await;
        match cache.lookup::<u32>("r", &generations).await {
            Lookup::Hit(7, tags) => assert_eq!(tags, made_under),
            _ => panic!("the filled value was not a hit"),
        }
        // Any invalidation moves the responses' generation.
        cache.invalidate(&[Generation::tags()]).await;
        let now = cache.current_tags(&generations).await;
        assert!(now.is_some() && now != Some(made_under));
    }

    /// A value that cannot be encoded: reading it back shows it never was.
    #[derive(Debug, PartialEq, serde::Deserialize)]
    struct Unencodable(u32);

    impl Serialize for Unencodable {
        fn serialize<S: serde::Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
            Err(serde::ser::Error::custom("not encodable"))
        }
    }

    #[tokio::test]
    async fn a_cache_that_keeps_nothing_hands_values_over_without_encoding_them() {
        let cache = Cache::new(
            Arc::new(memory::NoStore),
            "test",
            Duration::from_millis(100),
        );
        let loads = AtomicUsize::new(0);
        for _ in 0..2 {
            let value = cache
                .get_or_load("k", &[], || {
                    loads.fetch_add(1, Ordering::SeqCst);
                    async { Ok(Unencodable(3)) }
                })
                .await
                .expect("loaded");
            assert_eq!(value, Unencodable(3));
        }
        assert_eq!(loads.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn concurrent_misses_load_once() {
        let cache = Arc::new(cache());
        let loads = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..20 {
            let (cache, loads) = (cache.clone(), loads.clone());
            tasks.push(tokio::spawn(async move {
                cache
                    .get_or_load::<u32, _, _>("same", &[], move || async move {
                        loads.fetch_add(1, Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        Ok(7)
                    })
                    .await
            }));
        }
        for task in tasks {
            assert_eq!(task.await.expect("task").expect("value"), 7);
        }
        assert_eq!(loads.load(Ordering::SeqCst), 1);
    }
}
