//! Points this instance took from a shared budget ahead of use.
//!
//! Asking Redis for every charge costs a round trip per request. Instead, a
//! charge that goes to Redis takes a little more than it needs, and the
//! requests after it spend the surplus here, in process, until it runs out.
//! The points taken are counted in Redis as soon as they are taken, so every
//! instance together never admits more than the budget; what a lease costs is
//! that another instance may refuse a caller while points still wait here.

use std::sync::Mutex;
use std::time::Instant;

use super::expiring::ExpiringMap;

/// What one budget's lease holds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Lease {
    /// Points taken from the store and not spent yet.
    unspent: u64,
    /// The store's count after the last take: every instance's spending and
    /// leases, this one's included.
    store_count: u64,
    /// Whether a take to top the lease up was started and has not finished.
    topping_up: bool,
}

impl Lease {
    /// Points used in the window as this instance sees them: the store's
    /// count after the last take, less what is unspent here.
    fn used(&self) -> u64 {
        self.store_count.saturating_sub(self.unspent)
    }
}

/// What spending from a lease came to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Spent {
    /// Points used in the window afterwards, as this instance sees them.
    pub used: u64,
    /// Whether the lease ran low and the caller should top it up.
    pub top_up: bool,
}

/// Leases per budget key (which names the window, so a new window starts
/// without one), each expiring with the store's count.
#[derive(Default)]
pub struct Leases {
    held: Mutex<ExpiringMap<Lease>>,
}

impl Leases {
    /// Spends `cost` from the lease under `key` when it holds that much.
    /// When that leaves less than `low_water` unspent and no top-up is under
    /// way, the caller is asked to start one ([`Spent::top_up`]) and must
    /// report its end with [`Leases::topped_up`].
    pub fn spend(&self, key: &str, cost: u64, low_water: u64, now: Instant) -> Option<Spent> {
        let mut held = self.lock();
        let lease = held.get_mut(key, now)?;
        if lease.unspent < cost {
            return None;
        }
        lease.unspent -= cost;
        let top_up = !lease.topping_up && lease.unspent < low_water;
        lease.topping_up |= top_up;
        Some(Spent {
            used: lease.used(),
            top_up,
        })
    }

    /// Marks the top-up of the lease under `key` finished, whatever came of it.
    pub fn topped_up(&self, key: &str, now: Instant) {
        if let Some(lease) = self.lock().get_mut(key, now) {
            lease.topping_up = false;
        }
    }

    /// Points unspent under `key`.
    pub fn unspent(&self, key: &str, now: Instant) -> u64 {
        self.lock().get(key, now).map_or(0, |lease| lease.unspent)
    }

    /// Points used in the window as this instance sees them.
    pub fn used(&self, key: &str, now: Instant) -> u64 {
        self.lock().get(key, now).map_or(0, Lease::used)
    }

    /// Records the store's count under `key` after a take whose points were
    /// spent at once; the points used in the window afterwards, as this
    /// instance sees them.
    pub fn observe(&self, key: &str, store_count: u64, expires: Instant, now: Instant) -> u64 {
        let mut held = self.lock();
        let lease = held.live_or_default(key, now, expires);
        lease.store_count = lease.store_count.max(store_count);
        lease.used()
    }

    /// Adds `points` taken from the store under `key`, whose count was
    /// `store_count` afterwards and expires at `expires`.
    pub fn deposit(
        &self,
        key: &str,
        points: u64,
        store_count: u64,
        expires: Instant,
        now: Instant,
    ) {
        let mut held = self.lock();
        let lease = held.live_or_default(key, now, expires);
        lease.unspent = lease.unspent.saturating_add(points);
        // Takes may finish out of order; the store's count only grows.
        lease.store_count = lease.store_count.max(store_count);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, ExpiringMap<Lease>> {
        self.held
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    /// No leases yet, the time now, and a minute later for them to expire.
    fn empty_for_a_minute() -> (Leases, Instant, Instant) {
        let now = Instant::now();
        (Leases::default(), now, now + Duration::from_secs(60))
    }

    #[test]
    fn a_lease_is_spent_until_it_cannot_pay_and_counts_what_was_used() {
        let (leases, now, expires) = empty_for_a_minute();
        let used = |spent: Option<Spent>| spent.map(|spent| spent.used);
        assert_eq!(leases.spend("k", 1, 0, now), None, "nothing held yet");
        // Redis counted 42 after this instance took 10: 32 were used before.
        leases.deposit("k", 10, 42, expires, now);
        assert_eq!(leases.used("k", now), 32);
        assert_eq!(used(leases.spend("k", 4, 0, now)), Some(36));
        assert_eq!(used(leases.spend("k", 6, 0, now)), Some(42));
        assert_eq!(leases.spend("k", 1, 0, now), None, "spent out");
        assert_eq!(leases.unspent("k", now), 0);
        assert_eq!(leases.spend("other", 1, 0, now), None, "leases are per key");
    }

    #[test]
    fn a_later_take_adds_to_the_lease_and_the_count_never_goes_back() {
        let (leases, now, expires) = empty_for_a_minute();
        leases.deposit("k", 3, 50, expires, now);
        // A take that finished earlier than the one above arrives late.
        leases.deposit("k", 2, 47, expires, now);
        assert_eq!(leases.unspent("k", now), 5);
        assert_eq!(leases.used("k", now), 45);
        assert_eq!(
            leases.spend("k", 5, 0, now).map(|spent| spent.used),
            Some(50)
        );
    }

    #[test]
    fn a_take_spent_at_once_counts_with_the_lease_held_beside_it() {
        let (leases, now, expires) = empty_for_a_minute();
        leases.deposit("k", 4, 20, expires, now);
        // A take of 2 spent at once, which Redis counted before the lease's.
        assert_eq!(leases.observe("k", 18, expires, now), 16);
        // One counted after it.
        assert_eq!(leases.observe("k", 22, expires, now), 18);
        assert_eq!(leases.unspent("k", now), 4);
    }

    #[test]
    fn an_expired_lease_is_neither_spent_nor_added_to() {
        let leases = Leases::default();
        let now = Instant::now();
        leases.deposit("k", 10, 10, now, now);
        assert_eq!(leases.spend("k", 1, 0, now), None);
        assert_eq!((leases.unspent("k", now), leases.used("k", now)), (0, 0));
        let later = now + Duration::from_secs(60);
        leases.deposit("k", 4, 6, later, now);
        assert_eq!(leases.unspent("k", now), 4, "a fresh lease, not 14");
        assert_eq!(leases.used("k", now), 2);
    }

    #[test]
    fn a_lease_running_low_asks_for_one_top_up_at_a_time() {
        let leases = Leases::default();
        let now = Instant::now();
        leases.deposit("k", 10, 10, now + Duration::from_secs(60), now);
        let top_up = |cost| leases.spend("k", cost, 5, now).map(|spent| spent.top_up);
        assert_eq!(top_up(5), Some(false), "5 left is not below 5");
        assert_eq!(top_up(1), Some(true), "4 left: top up");
        assert_eq!(top_up(1), Some(false), "one top-up is under way");
        leases.topped_up("k", now);
        assert_eq!(
            top_up(1),
            Some(true),
            "it finished and the lease is still low"
        );
        leases.topped_up("k", now);
        leases.deposit("k", 8, 18, now + Duration::from_secs(60), now);
        assert_eq!(top_up(1), Some(false), "9 left");
    }
}
