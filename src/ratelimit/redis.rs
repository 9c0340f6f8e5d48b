//! Window counts in Redis, shared by every instance; one Lua script checks and
//! takes atomically.

use std::time::Duration;

use super::{Points, RateLimitStore};
use crate::cache::StoreError;
use crate::cache::redis::RedisStore;

/// Takes from KEYS[1] as many as ARGV[1] points, but no more than leave it at
/// most ARGV[3], and none unless at least ARGV[2] fit; sets the expiry
/// (ARGV[4] ms) on first use. Returns {points taken, count after}.
const TAKE_SCRIPT: &str = r"
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
local taken = math.min(tonumber(ARGV[1]), tonumber(ARGV[3]) - used)
if taken <= 0 or taken < tonumber(ARGV[2]) then
  return {0, used}
end
used = redis.call('INCRBY', KEYS[1], taken)
if used == taken then
  redis.call('PEXPIRE', KEYS[1], ARGV[4])
end
return {taken, used}
";

/// Window counts in Redis.
pub struct RedisRateLimits {
    connection: RedisStore,
    script: redis::Script,
}

impl RedisRateLimits {
    /// Counts in Redis, over `connection` (which may be shared with the cache).
    pub fn new(connection: RedisStore) -> Self {
        Self {
            connection,
            script: redis::Script::new(TAKE_SCRIPT),
        }
    }
}

#[async_trait::async_trait]
impl RateLimitStore for RedisRateLimits {
    async fn take(
        &self,
        key: &str,
        points: Points,
        ttl: Duration,
    ) -> Result<(u64, u64), StoreError> {
        let mut connection = self
            .connection
            .connection_handle()
            .ok_or_else(|| StoreError("not connected to redis yet".into()))?;
        let (taken, used): (i64, i64) = self
            .script
            .key(key)
            .arg(points.wanted)
            .arg(points.at_least)
            .arg(points.limit)
            .arg(ttl.as_millis() as u64)
            .invoke_async(&mut connection)
            .await
            .map_err(|err| StoreError(err.to_string()))?;
        Ok((taken.max(0) as u64, used.max(0) as u64))
    }

    fn kind(&self) -> &'static str {
        "redis"
    }

    fn is_remote(&self) -> bool {
        true
    }
}
