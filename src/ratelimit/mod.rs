//! Rate limiting in points per fixed window, like GitHub's API: each caller
//! has a budget of points per window, and each request costs points.
//!
//! Budgets live in Redis when it is configured (one atomic Lua script per
//! take, so every instance draws on the same budget) and in process
//! otherwise. When Redis fails, charges fall back to this instance's own
//! counts: callers are still limited, per instance, and nothing waits on a
//! dead Redis. The failure is logged once per outage.
//!
//! With Redis, a charge spends points this instance already took from the
//! budget (its [`lease`]) when there are enough. Otherwise it goes to Redis,
//! with the other charges to the same budget that arrive meanwhile
//! ([`crate::rounds`]), and the round takes their summed cost and a little
//! more for the requests that follow: at most `RATE_LIMIT_LEASE_POINTS`, and
//! at most 1% of the budget. A lease that falls below half of that is topped
//! up in the background, so charges rarely wait for Redis at all. When the
//! budget cannot pay for a whole round, the round takes what is left, and the
//! charges in it spend that one by one; so a request is refused only when its
//! own cost does not fit.

mod expiring;
pub mod lease;
pub mod memory;
pub mod redis;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeZone, Utc};
use futures_util::future::BoxFuture;

pub use lease::Leases;
pub use memory::MemoryRateLimits;
pub use redis::RedisRateLimits;

use crate::cache::StoreError;
use crate::rounds::Rounds;

/// A lease is at most this share of its budget (1/100).
const LEASE_SHARE: u64 = 100;

/// Rounds a charge joins before it asks the store alone, when other requests
/// keep spending the points its rounds took.
const ROUNDS_PER_CHARGE: usize = 3;

/// A number of points per window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Budget {
    /// Points per window.
    pub points: u64,
    /// Length of a window, in seconds.
    pub window_secs: u64,
}

/// The outcome of charging a request against a budget.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Charge {
    /// Whether the request may run. A refused request is not charged.
    pub allowed: bool,
    /// What the request costs.
    pub cost: u64,
    /// Points per window.
    pub limit: u64,
    /// Points used in this window, this request included when allowed.
    pub used: u64,
    /// When the window ends and the budget is full again.
    pub reset_at: DateTime<Utc>,
}

impl Charge {
    /// Points left in this window.
    pub fn remaining(&self) -> u64 {
        self.limit.saturating_sub(self.used)
    }

    /// Whole seconds from `now` until the window resets, at least 1.
    pub fn retry_after_secs(&self, now: DateTime<Utc>) -> u64 {
        let millis = (self.reset_at - now).num_milliseconds().max(0) as u64;
        millis.div_ceil(1000).max(1)
    }
}

/// What a take asks of a window count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Points {
    /// Points wanted.
    pub wanted: u64,
    /// Fewest points worth taking: when fewer fit, none are taken.
    pub at_least: u64,
    /// The most the count may reach.
    pub limit: u64,
}

impl Points {
    /// All of `cost` or nothing, keeping the count within `limit`.
    pub fn all_of(cost: u64, limit: u64) -> Self {
        Self {
            wanted: cost,
            at_least: cost,
            limit,
        }
    }
}

/// Where window counts are kept.
#[async_trait::async_trait]
pub trait RateLimitStore: Send + Sync + 'static {
    /// Takes points from the budget under `key`: as many as
    /// [`Points::wanted`], but only as many as keep the count within
    /// [`Points::limit`], and none when fewer than [`Points::at_least`] fit.
    /// Returns the points taken and the count afterwards. The count expires
    /// `ttl` after its first points.
    async fn take(
        &self,
        key: &str,
        points: Points,
        ttl: Duration,
    ) -> Result<(u64, u64), StoreError>;
    /// A name for logs.
    fn kind(&self) -> &'static str;
    /// True for a store a network away, whose charges are worth sending
    /// together and taking ahead of use.
    fn is_remote(&self) -> bool {
        false
    }
}

/// The outcome of a round of takes, as every charge in it sees it: whether
/// the budget ran dry (the round took less than it asked), or why the store
/// failed.
type RoundOutcome = Result<bool, String>;

/// Rounds and leases, for a remote store.
struct Remote {
    rounds: Arc<Rounds<String, RoundOutcome>>,
    leases: Arc<Leases>,
    /// The most points a round takes ahead of use.
    lease_points: u64,
}

/// Charges callers against their budgets.
pub struct RateLimiter {
    store: Arc<dyn RateLimitStore>,
    fallback: MemoryRateLimits,
    prefix: String,
    timeout: Duration,
    failing: AtomicBool,
    failures: AtomicU64,
    remote: Option<Remote>,
}

impl RateLimiter {
    /// A limiter keeping counts in `store`, under keys starting with `prefix`;
    /// a store slower than `timeout` counts as failed. With a remote store, a
    /// round takes up to `lease_points` ahead of use (and at most 1% of the
    /// budget).
    pub fn new(
        store: Arc<dyn RateLimitStore>,
        prefix: &str,
        timeout: Duration,
        lease_points: u64,
    ) -> Self {
        Self {
            remote: store.is_remote().then(|| Remote {
                rounds: Arc::default(),
                leases: Arc::default(),
                lease_points,
            }),
            store,
            fallback: MemoryRateLimits::default(),
            prefix: prefix.to_owned(),
            timeout,
            failing: AtomicBool::new(false),
            failures: AtomicU64::new(0),
        }
    }

    /// Charges `cost` points to `subject` (e.g. `user:42`, `ip:10.0.0.1`) in
    /// the budget named `budget_name`.
    pub async fn charge(
        &self,
        budget_name: &str,
        subject: &str,
        cost: u64,
        budget: Budget,
    ) -> Charge {
        self.charge_at(budget_name, subject, cost, budget, Utc::now())
            .await
    }

    async fn charge_at(
        &self,
        budget_name: &str,
        subject: &str,
        cost: u64,
        budget: Budget,
        now: DateTime<Utc>,
    ) -> Charge {
        let window = budget.window_secs.max(1) as i64;
        let window_start = now.timestamp().div_euclid(window) * window;
        let mut start = itoa::Buffer::new();
        let start = start.format(window_start);
        // Made for every request: concatenated, not formatted.
        let key = [
            &self.prefix,
            ":rl:v1:",
            budget_name,
            ":",
            subject,
            ":",
            start,
        ]
        .concat();
        let ttl = Duration::from_secs(window as u64 + 1);
        let charged = match &self.remote {
            Some(remote) => {
                self.charge_remote(remote, &key, cost, budget.points, ttl)
                    .await
            }
            None => self.charge_alone(&key, cost, budget.points, ttl).await,
        };
        let (allowed, used) = match charged {
            Ok(outcome) => {
                if self.failing.swap(false, Ordering::Relaxed) {
                    tracing::info!(store = self.store.kind(), "rate-limit store is back");
                }
                outcome
            }
            Err(err) => {
                self.failures.fetch_add(1, Ordering::Relaxed);
                if !self.failing.swap(true, Ordering::Relaxed) {
                    tracing::error!(store = self.store.kind(), error = %err, "rate-limit store failed; counting in process until it is back");
                }
                self.fallback
                    .take(&key, Points::all_of(cost, budget.points), ttl)
                    .await
                    .map_or((true, 0), |(taken, used)| (taken == cost, used))
            }
        };
        Charge {
            allowed,
            cost,
            limit: budget.points,
            used,
            reset_at: Utc
                .timestamp_opt(window_start + window, 0)
                .single()
                .unwrap_or(now),
        }
    }

    /// Charges `cost` under `key` in a remote store: from this instance's
    /// lease when it holds enough, else in a round that refills the lease.
    async fn charge_remote(
        &self,
        remote: &Remote,
        key: &str,
        cost: u64,
        limit: u64,
        ttl: Duration,
    ) -> Result<(bool, u64), StoreError> {
        let ahead = remote.lease_points.min(limit / LEASE_SHARE);
        let low_water = ahead / 2;
        for _ in 0..ROUNDS_PER_CHARGE {
            if let Some(spent) = remote.leases.spend(key, cost, low_water, Instant::now()) {
                if spent.top_up {
                    self.top_up(remote, key, limit, ttl, ahead);
                }
                return Ok((true, spent.used));
            }
            let refill = self.refill(remote, key.to_owned(), limit, ttl, ahead);
            let ran_dry = remote
                .rounds
                .join(key.to_owned(), cost, refill)
                .await
                .map_err(StoreError)?;
            // Spent without a top-up: the round just took `ahead` more.
            if let Some(spent) = remote.leases.spend(key, cost, 0, Instant::now()) {
                return Ok((true, spent.used));
            }
            if ran_dry {
                return Ok((false, remote.leases.used(key, Instant::now())));
            }
            // Requests that did not wait for the round spent what it took.
        }
        let (allowed, count) = self.charge_alone(key, cost, limit, ttl).await?;
        let now = Instant::now();
        Ok((allowed, remote.leases.observe(key, count, now + ttl, now)))
    }

    /// Tops the lease under `key` up in the background, in a round of its
    /// own or in the next one, so that the charges after it do not wait for
    /// Redis when the lease runs out.
    fn top_up(&self, remote: &Remote, key: &str, limit: u64, ttl: Duration, ahead: u64) {
        let refill = self.refill(remote, key.to_owned(), limit, ttl, ahead);
        let (rounds, leases, key) = (remote.rounds.clone(), remote.leases.clone(), key.to_owned());
        tokio::spawn(async move {
            // A failed top-up is not a failed charge: the charge that finds
            // the lease spent goes to Redis itself, and counts its failure.
            let _ = rounds.join(key.clone(), 0, refill).await;
            leases.topped_up(&key, Instant::now());
        });
    }

    /// What a round for `key` does, given the summed cost of the charges in
    /// it: take that sum, less what the lease holds, plus `ahead` points, and
    /// add them to the lease. Whether the budget ran dry. A round that every
    /// charge in it stopped waiting for is dropped, and what it took with it:
    /// those points stay counted, unspent.
    fn refill(
        &self,
        remote: &Remote,
        key: String,
        limit: u64,
        ttl: Duration,
        ahead: u64,
    ) -> impl FnOnce(u64) -> BoxFuture<'static, RoundOutcome> + Send + use<> {
        let (store, leases, timeout) = (self.store.clone(), remote.leases.clone(), self.timeout);
        move |total| {
            Box::pin(async move {
                let held = leases.unspent(&key, Instant::now());
                let wanted = total.saturating_add(ahead).saturating_sub(held);
                if wanted == 0 {
                    return Ok(false);
                }
                let points = Points {
                    wanted,
                    at_least: 1,
                    limit,
                };
                let taken = tokio::time::timeout(timeout, store.take(&key, points, ttl)).await;
                match taken {
                    Ok(Ok((taken, count))) => {
                        let now = Instant::now();
                        leases.deposit(&key, taken, count, now + ttl, now);
                        Ok(taken < wanted)
                    }
                    Ok(Err(err)) => Err(err.0),
                    Err(_) => Err("timed out".to_owned()),
                }
            })
        }
    }

    /// Charges `cost` under `key` in one take of its own: all of it or
    /// nothing. Whether it was charged, and the count afterwards.
    async fn charge_alone(
        &self,
        key: &str,
        cost: u64,
        limit: u64,
        ttl: Duration,
    ) -> Result<(bool, u64), StoreError> {
        let points = Points::all_of(cost, limit);
        let (taken, count) = tokio::time::timeout(self.timeout, self.store.take(key, points, ttl))
            .await
            .unwrap_or_else(|_| Err(StoreError("timed out".into())))?;
        Ok((taken == cost, count))
    }

    /// How many rounds went to a remote store since start (each carrying
    /// one or more charges), or `None` for a store in process.
    pub fn charge_rounds(&self) -> Option<u64> {
        self.remote.as_ref().map(|remote| remote.rounds.sent())
    }

    /// How many charges the store failed since start.
    pub fn store_failures(&self) -> u64 {
        self.failures.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limiter() -> RateLimiter {
        RateLimiter::new(
            Arc::new(MemoryRateLimits::default()),
            "test",
            Duration::from_secs(1),
            0,
        )
    }

    #[tokio::test]
    async fn a_budget_is_spent_then_refused_until_the_window_resets() {
        let limiter = limiter();
        let budget = Budget {
            points: 10,
            window_secs: 60,
        };
        let now = Utc.timestamp_opt(1_000_040, 0).single().expect("time");
        let first = limiter.charge_at("api", "user:1", 6, budget, now).await;
        assert!(first.allowed);
        assert_eq!((first.used, first.remaining()), (6, 4));
        assert_eq!(first.reset_at.timestamp(), 1_000_080);
        let second = limiter.charge_at("api", "user:1", 4, budget, now).await;
        assert!(second.allowed);
        assert_eq!(second.remaining(), 0);
        let refused = limiter.charge_at("api", "user:1", 1, budget, now).await;
        assert!(!refused.allowed);
        assert_eq!(refused.used, 10, "a refused request is not charged");
        assert_eq!(refused.retry_after_secs(now), 40);
        let other = limiter.charge_at("api", "user:2", 1, budget, now).await;
        assert!(other.allowed, "budgets are per subject");
        let next_window = now + chrono::Duration::seconds(60);
        assert!(
            limiter
                .charge_at("api", "user:1", 1, budget, next_window)
                .await
                .allowed
        );
    }
}
