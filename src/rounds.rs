//! Round trips that concurrent requests share without reading the past.
//!
//! Under load, many requests ask a remote store the same question at once:
//! "what are the responses' generations now?", "charge this caller's budget".
//! [`Rounds`] sends such requests in *rounds*, one round out per key at a
//! time. A request that arrives while a round is out joins the next round,
//! which goes out as soon as the one before it returns, carrying every request
//! that joined it. So a burst of requests costs two round trips, not one
//! each.
//!
//! No request is answered by a round sent before it arrived: a round is
//! closed to newcomers the moment it is sent. A request therefore sees every
//! write that finished before it arrived, exactly as if it had asked alone.
//! A round is driven by the requests waiting on it; when all of them have gone
//! away it is dropped, and the next request opens a new one.

use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};

use futures_util::FutureExt;
use futures_util::future::{BoxFuture, Shared, WeakShared};

/// Keys beyond this many trigger a sweep of the ones whose rounds were dropped.
const SWEEP_AT: usize = 1024;

type Outcome<O> = Shared<BoxFuture<'static, O>>;

/// The rounds of one key: the one still taking requests (its number, the
/// summed weight of who joined, its outcome), and the one out.
struct KeyRounds<O: Clone> {
    gathering: Option<(u64, u64, WeakShared<BoxFuture<'static, O>>)>,
    sent: Option<(u64, WeakShared<BoxFuture<'static, O>>)>,
}

impl<O: Clone> Default for KeyRounds<O> {
    fn default() -> Self {
        Self {
            gathering: None,
            sent: None,
        }
    }
}

impl<O: Clone> KeyRounds<O> {
    /// The round taking requests, unless it was dropped.
    fn gathering(&mut self) -> Option<(&mut u64, Outcome<O>)> {
        let (_, weight, outcome) = self.gathering.as_mut()?;
        Some((weight, outcome.upgrade()?))
    }

    /// The round out, unless it was dropped.
    fn sent(&self) -> Option<Outcome<O>> {
        self.sent.as_ref()?.1.upgrade()
    }

    /// Whether a request still waits on any of its rounds.
    fn is_live(&self) -> bool {
        let gathering = self.gathering.as_ref().and_then(|(_, _, o)| o.upgrade());
        gathering.is_some() || self.sent().is_some()
    }
}

/// Shared round trips per key `K`, each with an outcome `O` every request in
/// the round receives.
pub struct Rounds<K, O: Clone> {
    keys: Mutex<HashMap<K, KeyRounds<O>>>,
    next_id: AtomicU64,
    sent: AtomicU64,
}

impl<K, O> Default for Rounds<K, O>
where
    O: Clone,
{
    fn default() -> Self {
        Self {
            keys: Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(0),
            sent: AtomicU64::new(0),
        }
    }
}

impl<K, O> Rounds<K, O>
where
    K: Hash + Eq + Clone + Send + Sync + 'static,
    O: Clone + Send + Sync + 'static,
{
    /// How many rounds went out since start.
    pub fn sent(&self) -> u64 {
        self.sent.load(Ordering::Relaxed)
    }

    /// Joins the next round for `key`, adding `weight` to it, and waits for its
    /// outcome. When this request opens the round, `send` is what the round
    /// does, called with the summed weight of every request that joined;
    /// otherwise `send` is dropped unused.
    pub async fn join<F, Fut>(self: &Arc<Self>, key: K, weight: u64, send: F) -> O
    where
        F: FnOnce(u64) -> Fut + Send + 'static,
        Fut: Future<Output = O> + Send + 'static,
    {
        let outcome = {
            let mut keys = self.lock();
            if keys.len() >= SWEEP_AT && !keys.contains_key(&key) {
                keys.retain(|_, rounds| rounds.is_live());
            }
            let rounds = keys.entry(key.clone()).or_default();
            if let Some((summed, outcome)) = rounds.gathering() {
                *summed = summed.saturating_add(weight);
                outcome
            } else {
                let id = self.next_id.fetch_add(1, Ordering::Relaxed);
                let previous = rounds.sent();
                let outcome = run_round(Arc::downgrade(self), key, id, previous, send)
                    .boxed()
                    .shared();
                let handle = outcome.downgrade();
                rounds.gathering = handle.map(|handle| (id, weight, handle));
                outcome
            }
        };
        outcome.await
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<K, KeyRounds<O>>> {
        self.keys
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Closes round `id` of `key` to newcomers and marks it out; its summed weight.
    fn close(&self, key: &K, id: u64) -> u64 {
        let mut keys = self.lock();
        let rounds = keys.entry(key.clone()).or_default();
        match rounds.gathering.take() {
            Some((gathering, weight, outcome)) if gathering == id => {
                rounds.sent = Some((id, outcome));
                self.sent.fetch_add(1, Ordering::Relaxed);
                weight
            }
            // Only the round itself closes it; anything else is left as found.
            other => {
                rounds.gathering = other;
                0
            }
        }
    }

    /// Round `id` of `key` returned: forgets it, and the key once it is idle.
    fn finish(&self, key: &K, id: u64) {
        let mut keys = self.lock();
        let Some(rounds) = keys.get_mut(key) else {
            return;
        };
        if rounds.sent.as_ref().is_some_and(|(sent, _)| *sent == id) {
            rounds.sent = None;
        }
        if rounds.gathering.is_none() && rounds.sent.is_none() {
            keys.remove(key);
        }
    }
}

/// What a round does: waits for the round before it, closes, sends, and is forgotten.
async fn run_round<K, O, F, Fut>(
    rounds: Weak<Rounds<K, O>>,
    key: K,
    id: u64,
    previous: Option<Outcome<O>>,
    send: F,
) -> O
where
    K: Hash + Eq + Clone + Send + Sync + 'static,
    O: Clone + Send + Sync + 'static,
    F: FnOnce(u64) -> Fut + Send + 'static,
    Fut: Future<Output = O> + Send + 'static,
{
    if let Some(previous) = previous {
        previous.await;
    }
    let weight = rounds.upgrade().map_or(0, |rounds| rounds.close(&key, id));
    let outcome = send(weight).await;
    if let Some(rounds) = rounds.upgrade() {
        rounds.finish(&key, id);
    }
    outcome
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;
    use tokio::sync::Notify;

    /// A store whose answers wait for the test to release them; each answer
    /// is the number of the read and the weight it carried.
    #[derive(Default)]
    struct SlowStore {
        reads: AtomicU64,
        release: Notify,
    }

    impl SlowStore {
        fn read(
            self: &Arc<Self>,
        ) -> impl FnOnce(u64) -> BoxFuture<'static, (u64, u64)> + Send + 'static {
            let store = self.clone();
            move |weight| {
                async move {
                    let read = store.reads.fetch_add(1, Ordering::SeqCst) + 1;
                    store.release.notified().await;
                    (read, weight)
                }
                .boxed()
            }
        }
    }

    async fn settle() {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    /// A request for `key` with `weight`, on a task of its own.
    fn request<K>(
        rounds: &Arc<Rounds<K, (u64, u64)>>,
        store: &Arc<SlowStore>,
        key: K,
        weight: u64,
    ) -> tokio::task::JoinHandle<(u64, u64)>
    where
        K: Hash + Eq + Clone + Send + Sync + 'static,
    {
        let (rounds, read) = (rounds.clone(), store.read());
        tokio::spawn(async move { rounds.join(key, weight, read).await })
    }

    #[tokio::test]
    async fn requests_arriving_while_a_round_is_out_share_the_next_one() {
        let rounds: Arc<Rounds<&str, (u64, u64)>> = Arc::default();
        let store = Arc::new(SlowStore::default());
        let first = request(&rounds, &store, "k", 1);
        settle().await;
        assert_eq!(store.reads.load(Ordering::SeqCst), 1);
        let mut later = Vec::new();
        for weight in [2, 3, 4] {
            later.push(request(&rounds, &store, "k", weight));
        }
        settle().await;
        assert_eq!(
            store.reads.load(Ordering::SeqCst),
            1,
            "the next round went out while the first was still out"
        );
        store.release.notify_one();
        assert_eq!(first.await.expect("first"), (1, 1));
        settle().await;
        store.release.notify_one();
        for request in later {
            assert_eq!(
                request.await.expect("later"),
                (2, 9),
                "the three late requests share the second read, with their summed weight"
            );
        }
        assert_eq!(rounds.sent(), 2);
        assert!(rounds.lock().is_empty(), "idle keys are forgotten");
    }

    #[tokio::test]
    async fn no_request_gets_the_outcome_of_a_round_sent_before_it_arrived() {
        let rounds: Arc<Rounds<&str, (u64, u64)>> = Arc::default();
        let store = Arc::new(SlowStore::default());
        let first = request(&rounds, &store, "k", 1);
        settle().await;
        // The first read is out: a request arriving now must wait for a read of its own.
        let late = request(&rounds, &store, "k", 1);
        settle().await;
        store.release.notify_one();
        assert_eq!(first.await.expect("first").0, 1);
        settle().await;
        store.release.notify_one();
        assert_eq!(late.await.expect("late").0, 2);
    }

    #[tokio::test]
    async fn keys_have_rounds_of_their_own() {
        let rounds: Arc<Rounds<&str, (u64, u64)>> = Arc::default();
        let store = Arc::new(SlowStore::default());
        let a = request(&rounds, &store, "a", 1);
        let b = request(&rounds, &store, "b", 1);
        settle().await;
        assert_eq!(
            store.reads.load(Ordering::SeqCst),
            2,
            "one key waited on the other"
        );
        store.release.notify_waiters();
        a.await.expect("a");
        b.await.expect("b");
    }

    #[tokio::test]
    async fn a_round_everyone_left_is_dropped_and_the_next_request_opens_its_own() {
        let rounds: Arc<Rounds<&str, (u64, u64)>> = Arc::default();
        let store = Arc::new(SlowStore::default());
        let abandoned = request(&rounds, &store, "k", 1);
        settle().await;
        abandoned.abort();
        settle().await;
        let next = request(&rounds, &store, "k", 5);
        settle().await;
        store.release.notify_one();
        assert_eq!(
            next.await.expect("next"),
            (2, 5),
            "the next request waited on the dropped round, or shared it"
        );
        settle().await;
        assert!(rounds.lock().is_empty(), "the idle key was not forgotten");
    }

    #[tokio::test]
    async fn keys_whose_rounds_were_dropped_are_swept() {
        let rounds: Arc<Rounds<u64, (u64, u64)>> = Arc::default();
        let store = Arc::new(SlowStore::default());
        for key in 0..SWEEP_AT as u64 + 1 {
            let waiting = request(&rounds, &store, key, 1);
            tokio::task::yield_now().await;
            waiting.abort();
            let _ = waiting.await;
        }
        assert!(
            rounds.lock().len() < SWEEP_AT,
            "{} keys kept",
            rounds.lock().len()
        );
    }
}
