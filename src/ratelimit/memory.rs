//! Window counts in process, for a single instance or while Redis is down.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::{Points, RateLimitStore};
use crate::cache::StoreError;

/// Counts beyond this many keys trigger a sweep of expired ones.
const SWEEP_AT: usize = 10_000;

/// Window counts in a map, each with its expiry.
#[derive(Default)]
pub struct MemoryRateLimits {
    counts: Mutex<HashMap<String, (u64, Instant)>>,
}

#[async_trait::async_trait]
impl RateLimitStore for MemoryRateLimits {
    async fn take(
        &self,
        key: &str,
        points: Points,
        ttl: Duration,
    ) -> Result<(u64, u64), StoreError> {
        let now = Instant::now();
        let mut counts = self
            .counts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if counts.len() >= SWEEP_AT {
            counts.retain(|_, (_, expires)| *expires > now);
        }
        let entry = counts.entry(key.to_owned()).or_insert((0, now + ttl));
        if entry.1 <= now {
            *entry = (0, now + ttl);
        }
        let taken = points.wanted.min(points.limit.saturating_sub(entry.0));
        if taken == 0 || taken < points.at_least {
            return Ok((0, entry.0));
        }
        entry.0 += taken;
        Ok((taken, entry.0))
    }

    fn kind(&self) -> &'static str {
        "memory"
    }
}
