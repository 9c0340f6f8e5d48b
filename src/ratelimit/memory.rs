//! Window counts in process, for a single instance or while Redis is down.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::expiring::ExpiringMap;
use super::{Points, RateLimitStore};
use crate::cache::StoreError;

/// Window counts in a map, each with its expiry.
#[derive(Default)]
pub struct MemoryRateLimits {
    counts: Mutex<ExpiringMap<u64>>,
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
        let count = counts.live_or_default(key, now, now + ttl);
        let taken = points.wanted.min(points.limit.saturating_sub(*count));
        if taken == 0 || taken < points.at_least {
            return Ok((0, *count));
        }
        *count += taken;
        Ok((taken, *count))
    }

    fn kind(&self) -> &'static str {
        "memory"
    }
}
