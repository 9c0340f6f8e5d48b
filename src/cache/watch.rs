//! Heard generations: copies of cached responses served without asking Redis,
//! kept exactly as fresh by invalidations every instance confirms.
//!
//! Without a watch, an instance reads the epoch and the responses' generation
//! from Redis before it serves a copy of a response (one read shared by the
//! requests that arrive together). With one, each instance listens on a Redis
//! channel instead, and:
//!
//! - a write that bumped the responses' generation (or the epoch) *announces*
//!   the new value on the channel and, before its response leaves, waits until
//!   every instance that received the announcement has confirmed it (each
//!   updates what it heard first, then acknowledges);
//! - an instance serves copies on what it heard only while it holds a *lease*:
//!   it sends itself a beat over Redis every fifth of the lease, and each beat
//!   that comes back extends the lease to a full lease after the beat was
//!   *sent*. Redis delivers a connection's messages in the order it ran the
//!   publishes, so an instance that has not yet heard an announcement has not
//!   heard any beat sent after it either;
//! - a writer waits for a missing confirmation no longer than one lease after
//!   its announcement was published. By then the silent instance's lease has
//!   run out (it heard no beat sent after the announcement), and it reads the
//!   generations from Redis again, as without a watch.
//!
//! So a request that arrives after a write's response left never gets a copy
//! older than the write, on any instance. An instance whose channel is lost
//! (Redis went away, or closed the connection) forgets what it heard and reads
//! the generations until it has listened again and read them once afresh.
//! When Redis stops answering a writer, the invalidation may be lost: the
//! writer then waits until the leases taken before the outage began have run
//! out, and the epoch is bumped once Redis answers again.
//!
//! What this assumes: the machines' clocks tick at about the same rate (a
//! lease is measured on one clock and waited out on another); and an instance
//! whose connection Redis *closes* (`CLIENT KILL`, a restart) stops serving
//! on what it heard when it sees the close, while a write published after the
//! close no longer counts it as a listener, so a write in that moment does
//! not wait for it. A connection that merely hangs is covered by the lease.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use redis::aio::ConnectionManager;

use super::redis::RedisStore;
use super::{StoreError, Tags};

/// How many beats go out per lease.
const BEATS_PER_LEASE: u32 = 5;

/// Beats kept while they are out; older ones can no longer extend a lease.
const BEATS_KEPT: usize = 64;

/// Which counter an announcement moved.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Counter {
    /// The global epoch, bumped when invalidations may have been lost.
    Epoch,
    /// The generation of every cached response.
    Responses,
}

impl Counter {
    fn name(self) -> &'static str {
        match self {
            Self::Epoch => "epoch",
            Self::Responses => "responses",
        }
    }

    fn parse(name: &str) -> Option<Self> {
        match name {
            "epoch" => Some(Self::Epoch),
            "responses" => Some(Self::Responses),
            _ => None,
        }
    }

    fn index(self) -> usize {
        match self {
            Self::Epoch => 0,
            Self::Responses => 1,
        }
    }
}

/// What one instance has heard over its channel, and for how long it may
/// trust it: bookkeeping only, no I/O.
#[derive(Debug, Default)]
pub struct Heard {
    /// The epoch and the responses' generation, once read after listening.
    counters: Option<[i64; 2]>,
    /// Until when what was heard may be served.
    lease_until: Option<Instant>,
    /// Beats sent and not yet back: their numbers and when they were sent.
    beats_out: VecDeque<(u64, Instant)>,
}

impl Heard {
    /// Starts over: the channel was lost, or is about to be listened to afresh.
    pub fn forget(&mut self) {
        *self = Self::default();
    }

    /// The counters read once the channel was listened to. Announcements
    /// heard meanwhile are not lost: the larger value of each counter wins,
    /// since counters only grow while Redis keeps them.
    pub fn read(&mut self, counters: [i64; 2]) {
        let merged = match self.counters {
            Some(heard) => [heard[0].max(counters[0]), heard[1].max(counters[1])],
            None => counters,
        };
        self.counters = Some(merged);
    }

    /// An announcement that `counter` moved to `value`.
    pub fn announced(&mut self, counter: Counter, value: i64) {
        if let Some(counters) = &mut self.counters {
            let slot = &mut counters[counter.index()];
            *slot = (*slot).max(value);
        }
    }

    /// A beat numbered `seq` goes out at `at`.
    pub fn beat_sent(&mut self, seq: u64, at: Instant) {
        if self.beats_out.len() == BEATS_KEPT {
            self.beats_out.pop_front();
        }
        self.beats_out.push_back((seq, at));
    }

    /// The beat numbered `seq` came back: every announcement published before
    /// it was sent has been heard, so the lease runs to `lease` after that.
    pub fn beat_returned(&mut self, seq: u64, lease: Duration) {
        while let Some(&(out, sent)) = self.beats_out.front() {
            if out > seq {
                break;
            }
            self.beats_out.pop_front();
            if out == seq && self.counters.is_some() {
                let until = sent + lease;
                self.lease_until = Some(self.lease_until.map_or(until, |held| held.max(until)));
            }
        }
    }

    /// The epoch and the responses' generation, if they may be served at `now`.
    pub fn current(&self, now: Instant) -> Option<Tags> {
        let counters = self.counters?;
        (now < self.lease_until?).then(|| Tags(counters.to_vec()))
    }
}

/// Counts of what the watch did, for diagnostics and tests.
#[derive(Debug, Default)]
pub struct WatchStats {
    /// Announcements this instance published.
    pub announced: AtomicU64,
    /// Announcements whose confirmations did not all come within a lease.
    pub unconfirmed: AtomicU64,
    /// Times the channel was listened to afresh.
    pub listens: AtomicU64,
}

/// Confirmations counted for one announcement while its writer waits.
type Confirmations = tokio::sync::watch::Sender<usize>;

/// Adds one to the counter `KEYS[1]` and publishes `"<ARGV[2]> <new value>
/// <ARGV[3]>"` on the channel `ARGV[1]`; returns the new value and how many
/// listeners received the message.
const BUMP_AND_ANNOUNCE: &str = r"
local value = redis.call('INCR', KEYS[1])
local receivers = redis.call('PUBLISH', ARGV[1], ARGV[2] .. ' ' .. value .. ' ' .. ARGV[3])
return {value, receivers}
";

/// What Redis answered to `command` within `timeout`.
async fn answered<T>(
    timeout: Duration,
    command: impl std::future::Future<Output = redis::RedisResult<T>>,
) -> Result<T, StoreError> {
    match tokio::time::timeout(timeout, command).await {
        Ok(result) => result.map_err(|e| StoreError(e.to_string())),
        Err(_) => Err(StoreError(format!("no answer within {timeout:?}"))),
    }
}

/// What a waiter adds to a lease it waits out, for clocks that tick at
/// slightly different rates.
pub fn lease_margin(lease: Duration) -> Duration {
    lease / 50 + Duration::from_millis(1)
}

/// A counter bumped and announced, whose confirmations are still coming in.
pub struct Bumped {
    receivers: usize,
    seq: u64,
    published: tokio::time::Instant,
    confirmed: tokio::sync::watch::Receiver<usize>,
}

/// One instance's watch on the epoch and the responses' generation.
pub struct GenerationWatch {
    id: String,
    channel: String,
    own_channel: String,
    keys: [String; 2],
    lease: Duration,
    timeout: Duration,
    store: RedisStore,
    bump_script: redis::Script,
    heard: Mutex<Heard>,
    waiting: Mutex<HashMap<u64, Confirmations>>,
    next_seq: AtomicU64,
    /// What the watch did.
    pub stats: WatchStats,
}

impl GenerationWatch {
    /// Starts listening on `{prefix}watch` at `url`, for the counters under
    /// `keys` (the epoch's, then the responses'), and beating every fifth of
    /// `lease`. Publishes and reads go through `store`'s connection.
    pub fn start(
        url: &str,
        prefix: &str,
        keys: [String; 2],
        store: RedisStore,
        lease: Duration,
        timeout: Duration,
    ) -> Arc<Self> {
        let id = uuid::Uuid::new_v4().simple().to_string();
        let channel = format!("{prefix}watch");
        let watch = Arc::new(Self {
            own_channel: format!("{channel}:{id}"),
            id,
            channel,
            keys,
            lease,
            timeout,
            store,
            bump_script: redis::Script::new(BUMP_AND_ANNOUNCE),
            heard: Mutex::default(),
            waiting: Mutex::default(),
            next_seq: AtomicU64::new(1),
            stats: WatchStats::default(),
        });
        let listener = Arc::downgrade(&watch);
        let url = url.to_owned();
        tokio::spawn(async move {
            let mut logged = false;
            loop {
                let Some(watch) = listener.upgrade() else {
                    return;
                };
                if watch.store.connection_handle().is_none() {
                    // The store is still connecting: listening now would
                    // only fail.
                    drop(watch);
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
                let listens = watch.stats.listens.load(Ordering::Relaxed);
                let lost = watch.listen(&url).await;
                watch.heard().forget();
                // Logged once per outage: when listening stops, or when it
                // cannot start.
                if watch.stats.listens.load(Ordering::Relaxed) > listens || !logged {
                    logged = true;
                    tracing::warn!(error = %lost, "cache watch lost; reading generations from redis until it is back");
                }
                drop(watch);
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        });
        let beater = Arc::downgrade(&watch);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(lease / BEATS_PER_LEASE);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                let Some(watch) = beater.upgrade() else {
                    return;
                };
                watch.beat().await;
            }
        });
        watch
    }

    /// The channel announcements go out on.
    pub fn channel(&self) -> &str {
        &self.channel
    }

    fn heard(&self) -> std::sync::MutexGuard<'_, Heard> {
        self.heard
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The epoch and the responses' generation, while this instance holds a
    /// lease on what it heard.
    pub fn current(&self) -> Option<Tags> {
        self.heard().current(Instant::now())
    }

    fn connection(&self) -> Result<ConnectionManager, StoreError> {
        self.store
            .connection_handle()
            .ok_or_else(|| StoreError("not connected to redis yet".into()))
    }

    async fn publish(&self, channel: &str, payload: String) -> Result<usize, StoreError> {
        let mut connection = self.connection()?;
        let mut command = redis::cmd("PUBLISH");
        command.arg(channel).arg(payload);
        answered(self.timeout, command.query_async::<usize>(&mut connection)).await
    }

    /// Sends this instance a beat; when it comes back, the lease is extended.
    async fn beat(&self) {
        let seq = self.next_seq.fetch_add(1, Ordering::Relaxed);
        self.heard().beat_sent(seq, Instant::now());
        // A beat that fails to go out extends nothing: the lease runs out.
        let _ = self.publish(&self.own_channel, format!("beat {seq}")).await;
    }

    /// How long a lease lasts.
    pub fn lease(&self) -> Duration {
        self.lease
    }

    /// Adds one to `counter` and announces its new value to every instance,
    /// in one step on Redis (a script), so no instance can see the counter
    /// move without the announcement being on its way. Fails when Redis did
    /// not answer: the caller then treats the invalidation as lost. Without
    /// `timeout` of its own: the caller bounds it.
    pub async fn bump(&self, counter: Counter) -> Result<Bumped, StoreError> {
        let seq = self.next_seq.fetch_add(1, Ordering::Relaxed);
        let (confirmations, confirmed) = tokio::sync::watch::channel(0usize);
        {
            let mut waiting = self
                .waiting
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            // Writers that went away without waiting (their request was
            // dropped) left their counts behind.
            waiting.retain(|_, counts| !counts.is_closed());
            waiting.insert(seq, confirmations);
        }
        let key = &self.keys[counter.index()];
        let bumped = async {
            let mut connection = self.connection()?;
            self.bump_script
                .key(key)
                .arg(&self.channel)
                .arg(counter.name())
                .arg(format!("{} {seq}", self.id))
                .invoke_async::<(i64, usize)>(&mut connection)
                .await
                .map_err(|e| StoreError(e.to_string()))
        };
        match bumped.await {
            Ok((_, receivers)) => {
                self.stats.announced.fetch_add(1, Ordering::Relaxed);
                Ok(Bumped {
                    receivers,
                    seq,
                    published: tokio::time::Instant::now(),
                    confirmed,
                })
            }
            Err(err) => {
                self.stop_waiting(seq);
                Err(err)
            }
        }
    }

    /// Waits until every instance that received the announcement of `bumped`
    /// has confirmed it, or until a lease has passed since it was published
    /// (by then, one that did not confirm has stopped serving what it heard).
    pub async fn confirmed(&self, bumped: Bumped) {
        let Bumped {
            receivers,
            seq,
            published,
            mut confirmed,
            ..
        } = bumped;
        let deadline = published + self.lease + lease_margin(self.lease);
        let all = confirmed.wait_for(|&count| count >= receivers);
        if tokio::time::timeout_at(deadline, all).await.is_err() {
            self.stats.unconfirmed.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(
                receivers,
                confirmed = *confirmed.borrow(),
                "an instance did not confirm an invalidation within its lease"
            );
        }
        self.stop_waiting(seq);
    }

    fn stop_waiting(&self, seq: u64) {
        self.waiting
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(&seq);
    }

    /// Listens until the channel is lost, and says why: reads the counters
    /// once subscribed, then applies announcements, confirms them, and
    /// extends the lease with each returning beat.
    async fn listen(&self, url: &str) -> StoreError {
        let failed = |e: redis::RedisError| StoreError(e.to_string());
        let client = match redis::Client::open(url) {
            Ok(client) => client,
            Err(err) => return failed(err),
        };
        let mut pubsub = match client.get_async_pubsub().await {
            Ok(pubsub) => pubsub,
            Err(err) => return failed(err),
        };
        let channels = [self.channel.as_str(), self.own_channel.as_str()];
        if let Err(err) = pubsub.subscribe(&channels).await {
            return failed(err);
        }
        self.heard().forget();
        match self.read_counters().await {
            Ok(counters) => self.heard().read(counters),
            Err(err) => return err,
        }
        self.stats.listens.fetch_add(1, Ordering::Relaxed);
        tracing::info!(channel = %self.channel, "cache watch listening");
        let mut messages = pubsub.on_message();
        while let Some(message) = messages.next().await {
            let Ok(payload) = std::str::from_utf8(message.get_payload_bytes()) else {
                continue;
            };
            if message.get_channel_name() == self.own_channel {
                self.hear_own(payload);
            } else {
                self.hear_announcement(payload);
            }
        }
        StoreError("the channel closed".into())
    }

    async fn read_counters(&self) -> Result<[i64; 2], StoreError> {
        let mut connection = self.connection()?;
        let mut command = redis::cmd("MGET");
        command.arg(&self.keys[0]).arg(&self.keys[1]);
        let read = command.query_async::<Vec<Option<i64>>>(&mut connection);
        let values = answered(self.timeout, read).await?;
        let value = |i: usize| values.get(i).copied().flatten().unwrap_or(0);
        Ok([value(0), value(1)])
    }

    /// A message on this instance's own channel: a beat or a confirmation.
    fn hear_own(&self, payload: &str) {
        match payload.split_once(' ') {
            Some(("beat", seq)) => {
                if let Ok(seq) = seq.parse() {
                    self.heard().beat_returned(seq, self.lease);
                }
            }
            Some(("ack", seq)) => {
                let waiting = self
                    .waiting
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                if let Some(confirmations) = seq.parse().ok().and_then(|seq| waiting.get(&seq)) {
                    confirmations.send_modify(|count| *count += 1);
                }
            }
            _ => {}
        }
    }

    /// An announcement: applied first, then confirmed to its writer (in the
    /// background, so the next message is heard meanwhile).
    fn hear_announcement(&self, payload: &str) {
        let mut parts = payload.split(' ');
        let (Some(counter), Some(value), Some(from), Some(seq)) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return;
        };
        let (Some(counter), Ok(value)) = (Counter::parse(counter), value.parse()) else {
            return;
        };
        self.heard().announced(counter, value);
        let Ok(mut connection) = self.connection() else {
            return;
        };
        let mut reply = redis::cmd("PUBLISH");
        reply
            .arg(format!("{}:{from}", self.channel))
            .arg(format!("ack {seq}"));
        let timeout = self.timeout;
        tokio::spawn(async move {
            let sent = answered(timeout, reply.query_async::<()>(&mut connection)).await;
            if sent.is_err() {
                tracing::debug!(
                    "an invalidation could not be confirmed; its writer waits out the lease"
                );
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LEASE: Duration = Duration::from_millis(500);

    #[test]
    fn nothing_is_current_before_a_beat_comes_back() {
        let start = Instant::now();
        let mut heard = Heard::default();
        assert_eq!(heard.current(start), None);
        heard.read([1, 7]);
        assert_eq!(heard.current(start), None, "no lease yet");
        heard.beat_sent(1, start);
        assert_eq!(heard.current(start), None, "the beat is still out");
        heard.beat_returned(1, LEASE);
        assert_eq!(heard.current(start), Some(Tags(vec![1, 7])));
    }

    #[test]
    fn a_lease_runs_from_when_its_beat_was_sent() {
        let start = Instant::now();
        let mut heard = Heard::default();
        heard.read([0, 3]);
        heard.beat_sent(1, start);
        heard.beat_sent(2, start + Duration::from_millis(100));
        // The later beat came back first: the earlier one extends nothing more.
        heard.beat_returned(2, LEASE);
        heard.beat_returned(1, LEASE);
        let ends = start + Duration::from_millis(600);
        assert!(heard.current(ends - Duration::from_millis(1)).is_some());
        assert_eq!(heard.current(ends), None);
    }

    #[test]
    fn a_beat_sent_before_listening_extends_nothing() {
        let start = Instant::now();
        let mut heard = Heard::default();
        heard.beat_sent(1, start);
        heard.beat_returned(1, LEASE);
        heard.read([0, 0]);
        assert_eq!(heard.current(start), None);
    }

    #[test]
    fn announcements_only_move_counters_forward() {
        let start = Instant::now();
        let mut heard = Heard::default();
        // Heard before the counters were read: dropped, the read covers it.
        heard.announced(Counter::Responses, 9);
        heard.read([2, 5]);
        heard.beat_sent(1, start);
        heard.beat_returned(1, LEASE);
        heard.announced(Counter::Responses, 7);
        heard.announced(Counter::Responses, 6);
        heard.announced(Counter::Epoch, 3);
        assert_eq!(heard.current(start), Some(Tags(vec![3, 7])));
        // A read after announcements keeps the larger value of each.
        heard.read([2, 8]);
        assert_eq!(heard.current(start), Some(Tags(vec![3, 8])));
    }

    #[test]
    fn forgetting_ends_the_lease() {
        let start = Instant::now();
        let mut heard = Heard::default();
        heard.read([0, 1]);
        heard.beat_sent(1, start);
        heard.beat_returned(1, LEASE);
        heard.forget();
        heard.read([0, 1]);
        assert_eq!(heard.current(start), None);
    }

    #[test]
    fn counters_round_trip_through_their_names() {
        for counter in [Counter::Epoch, Counter::Responses] {
            assert_eq!(Counter::parse(counter.name()), Some(counter));
        }
        assert_eq!(Counter::parse("lists"), None);
    }
}
