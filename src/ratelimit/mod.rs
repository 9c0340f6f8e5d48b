//! Rate limiting in points per fixed window, like GitHub's API: each caller
//! has a budget of points per window, and each request costs points.
//!
//! Budgets live in Redis when it is configured (one atomic Lua script per
//! charge, so every instance draws on the same budget) and in process
//! otherwise. When Redis fails, charges fall back to this instance's own
//! counts: callers are still limited, per instance, and nothing waits on a
//! dead Redis. The failure is logged once per outage.
//!
//! Charges to one budget that arrive together go to Redis together
//! ([`crate::rounds`]): one script call adds their summed cost. When the sum
//! does not fit, each is charged alone, so a request is refused only when its
//! own cost does not fit.

pub mod memory;
pub mod redis;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};

pub use memory::MemoryRateLimits;
pub use redis::RedisRateLimits;

use crate::cache::StoreError;
use crate::rounds::Rounds;

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

/// Where window counts are kept.
#[async_trait::async_trait]
pub trait RateLimitStore: Send + Sync + 'static {
    /// Adds `cost` to the count under `key` unless that would pass `limit`;
    /// returns whether it was added and the count afterwards. The count
    /// expires after `ttl`.
    async fn charge(
        &self,
        key: &str,
        cost: u64,
        limit: u64,
        ttl: Duration,
    ) -> Result<(bool, u64), StoreError>;
    /// A name for logs.
    fn kind(&self) -> &'static str;
    /// True for a store a network away, whose concurrent charges are worth
    /// sending together.
    fn is_remote(&self) -> bool {
        false
    }
}

/// The outcome of a round of charges, as every charge in it sees it: added or
/// not and the count after, with the summed cost; or why the store failed.
type RoundOutcome = Result<((bool, u64), u64), String>;

/// Charges callers against their budgets.
pub struct RateLimiter {
    store: Arc<dyn RateLimitStore>,
    fallback: MemoryRateLimits,
    prefix: String,
    timeout: Duration,
    failing: AtomicBool,
    failures: AtomicU64,
    /// Charges to one key sent together, for a remote store.
    rounds: Option<Arc<Rounds<String, RoundOutcome>>>,
}

impl RateLimiter {
    /// A limiter keeping counts in `store`, under keys starting with `prefix`;
    /// a store slower than `timeout` counts as failed.
    pub fn new(store: Arc<dyn RateLimitStore>, prefix: &str, timeout: Duration) -> Self {
        Self {
            rounds: store.is_remote().then(Arc::default),
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
        let key = format!(
            "{}:rl:v1:{budget_name}:{subject}:{window_start}",
            self.prefix
        );
        let ttl = Duration::from_secs(window as u64 + 1);
        let charged = self
            .charge_store(key.clone(), cost, budget.points, ttl)
            .await;
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
                    .charge(&key, cost, budget.points, ttl)
                    .await
                    .unwrap_or((true, 0))
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

    /// Adds `cost` under `key` in the store, within the timeout; with other
    /// charges to the same key that arrive meanwhile, when the store is remote.
    async fn charge_store(
        &self,
        key: String,
        cost: u64,
        limit: u64,
        ttl: Duration,
    ) -> Result<(bool, u64), StoreError> {
        let Some(rounds) = &self.rounds else {
            return self.charge_alone(&key, cost, limit, ttl).await;
        };
        let (store, timeout, round_key) = (self.store.clone(), self.timeout, key.clone());
        let together = rounds
            .join(key.clone(), cost, move |total| async move {
                let charged =
                    tokio::time::timeout(timeout, store.charge(&round_key, total, limit, ttl))
                        .await;
                match charged {
                    Ok(Ok(outcome)) => Ok((outcome, total)),
                    Ok(Err(err)) => Err(err.0),
                    Err(_) => Err("timed out".to_owned()),
                }
            })
            .await;
        match together {
            Ok(((true, used), _)) => Ok((true, used)),
            // Others' costs made the sum too large: this one may still fit.
            Ok(((false, _), total)) if total > cost => {
                self.charge_alone(&key, cost, limit, ttl).await
            }
            Ok(((false, used), _)) => Ok((false, used)),
            Err(err) => Err(StoreError(err)),
        }
    }

    async fn charge_alone(
        &self,
        key: &str,
        cost: u64,
        limit: u64,
        ttl: Duration,
    ) -> Result<(bool, u64), StoreError> {
        tokio::time::timeout(self.timeout, self.store.charge(key, cost, limit, ttl))
            .await
            .unwrap_or_else(|_| Err(StoreError("timed out".into())))
    }

    /// How many charges went to a remote store in rounds since start (each
    /// round carrying one or more), or `None` for a store in process.
    pub fn charge_rounds(&self) -> Option<u64> {
        self.rounds.as_ref().map(|rounds| rounds.sent())
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
