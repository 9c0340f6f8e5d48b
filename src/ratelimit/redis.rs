//! Window counts in Redis, shared by every instance; one Lua script checks and
//! adds atomically.

use std::time::Duration;

use super::RateLimitStore;
use crate::cache::StoreError;
use crate::cache::redis::RedisStore;

/// Adds ARGV[1] to KEYS[1] unless the sum would pass ARGV[2]; sets the expiry
/// (ARGV[3] ms) on first use. Returns {added (0/1), count}.
const CHARGE_SCRIPT: &str = r"
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
local cost = tonumber(ARGV[1])
if used + cost > tonumber(ARGV[2]) then
  return {0, used}
end
used = redis.call('INCRBY', KEYS[1], cost)
if used == cost then
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
end
return {1, used}
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
            script: redis::Script::new(CHARGE_SCRIPT),
        }
    }
}

#[async_trait::async_trait]
impl RateLimitStore for RedisRateLimits {
    async fn charge(
        &self,
        key: &str,
        cost: u64,
        limit: u64,
        ttl: Duration,
    ) -> Result<(bool, u64), StoreError> {
        let mut connection = self
            .connection
            .connection_handle()
            .ok_or_else(|| StoreError("not connected to redis yet".into()))?;
        let (added, used): (i64, i64) = self
            .script
            .key(key)
            .arg(cost)
            .arg(limit)
            .arg(ttl.as_millis() as u64)
            .invoke_async(&mut connection)
            .await
            .map_err(|err| StoreError(err.to_string()))?;
        Ok((added == 1, used.max(0) as u64))
    }

    fn kind(&self) -> &'static str {
        "redis"
    }

    fn is_remote(&self) -> bool {
        true
    }
}
