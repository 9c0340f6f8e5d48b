//! A map of per-window entries that expire, for the counts and leases kept in
//! process.

use std::collections::HashMap;
use std::time::Instant;

/// The fewest entries that trigger a sweep of expired ones.
const FIRST_SWEEP_AT: usize = 10_000;

/// Entries by key, each with its expiry. Expired entries read as absent, and
/// are swept out when a new key finds the map twice as large as after the
/// last sweep, so a map of many live callers is not scanned on every insert.
pub struct ExpiringMap<V> {
    entries: HashMap<String, (V, Instant)>,
    sweep_at: usize,
}

impl<V> Default for ExpiringMap<V> {
    fn default() -> Self {
        Self {
            entries: HashMap::new(),
            sweep_at: FIRST_SWEEP_AT,
        }
    }
}

impl<V> ExpiringMap<V> {
    /// The live entry under `key`.
    pub fn get(&self, key: &str, now: Instant) -> Option<&V> {
        let (value, expires) = self.entries.get(key)?;
        (*expires > now).then_some(value)
    }

    /// The live entry under `key`, to change.
    pub fn get_mut(&mut self, key: &str, now: Instant) -> Option<&mut V> {
        let (value, expires) = self.entries.get_mut(key)?;
        (*expires > now).then_some(value)
    }

    /// The live entry under `key`, or a new default one expiring at
    /// `expires` in place of an absent or expired one.
    pub fn live_or_default(&mut self, key: &str, now: Instant, expires: Instant) -> &mut V
    where
        V: Default,
    {
        if !self.entries.contains_key(key) && self.entries.len() >= self.sweep_at {
            self.entries.retain(|_, (_, expires)| *expires > now);
            self.sweep_at = (self.entries.len() * 2).max(FIRST_SWEEP_AT);
        }
        let entry = self
            .entries
            .entry(key.to_owned())
            .or_insert_with(|| (V::default(), expires));
        if entry.1 <= now {
            *entry = (V::default(), expires);
        }
        &mut entry.0
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn expired_entries_read_as_absent_and_start_again() {
        let mut map = ExpiringMap::<u64>::default();
        let now = Instant::now();
        let (soon, later) = (now + Duration::from_secs(1), now + Duration::from_secs(60));
        *map.live_or_default("k", now, soon) += 5;
        assert_eq!(map.get("k", now), Some(&5));
        *map.live_or_default("k", now, later) += 1;
        assert_eq!(map.get("k", now), Some(&6), "a live entry keeps its count");
        assert_eq!(map.get("k", soon), None, "and its first expiry");
        assert_eq!(*map.live_or_default("k", soon, later), 0);
        assert_eq!(map.get_mut("other", now), None);
    }

    #[test]
    fn sweeps_happen_when_the_map_has_doubled_since_the_last() {
        let mut map = ExpiringMap::<u64>::default();
        let now = Instant::now();
        let (soon, later) = (now + Duration::from_secs(1), now + Duration::from_secs(60));
        for i in 0..FIRST_SWEEP_AT {
            let expires = if i % 2 == 0 { soon } else { later };
            map.live_or_default(&i.to_string(), now, expires);
        }
        // Half have expired by `soon`; the next new key sweeps them first.
        map.live_or_default("new", soon, later);
        assert_eq!(map.entries.len(), FIRST_SWEEP_AT / 2 + 1);
        assert_eq!(map.sweep_at, FIRST_SWEEP_AT, "twice the 5,000 kept");
        // With every entry live, the next sweep keeps them all and waits for
        // twice as many.
        for i in 0..FIRST_SWEEP_AT {
            map.live_or_default(&format!("live{i}"), soon, later);
        }
        assert_eq!(map.entries.len(), FIRST_SWEEP_AT / 2 + 1 + FIRST_SWEEP_AT);
        assert_eq!(map.sweep_at, 2 * FIRST_SWEEP_AT);
        // An existing key never sweeps.
        let before = map.sweep_at;
        map.live_or_default("new", soon, later);
        assert_eq!(map.sweep_at, before);
    }
}
