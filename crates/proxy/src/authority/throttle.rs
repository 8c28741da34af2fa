//! Slowing down whoever guesses client secrets at the token endpoint.
//!
//! Failed client authentications are counted in GCRA buckets (governor's
//! keyed limiters, as for rate limits): one per client id tried, one per
//! source address. Only failures are counted, so a client that
//! authenticates is never charged. When a failure finds a bucket empty, the
//! answer is 429 with `Retry-After`, and the key is locked until then:
//!
//! - a locked client id is refused before its credential is even checked,
//!   from any address (guessing one client's secret is what is slowed);
//! - a locked address still gets its successful authentications through
//!   (several agents behind one address must not pay for one that fails),
//!   but every further failure from it is a 429.
//!
//! Memory follows the keys that failed recently: locks are dropped when
//! they end, and full buckets are swept now and then.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use governor::DefaultKeyedRateLimiter;
use governor::clock::{Clock, DefaultClock};
use portcullis_config::FailedAuthLimits;

use crate::rate::quota;

/// Failures between two sweeps of full buckets and ended locks.
const SWEEP_EVERY: u64 = 1 << 10;

/// The token endpoint's memory of failed client authentication.
pub(crate) struct ClientThrottle {
    per_client: DefaultKeyedRateLimiter<String>,
    per_address: DefaultKeyedRateLimiter<IpAddr>,
    clients_locked: Mutex<HashMap<String, Instant>>,
    addresses_locked: Mutex<HashMap<IpAddr, Instant>>,
    failures: AtomicU64,
    clock: DefaultClock,
}

impl std::fmt::Debug for ClientThrottle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientThrottle").finish_non_exhaustive()
    }
}

impl ClientThrottle {
    pub(crate) fn new(limits: &FailedAuthLimits) -> Self {
        let clock = DefaultClock::default();
        Self {
            per_client: DefaultKeyedRateLimiter::dashmap_with_clock(
                quota(&limits.per_client),
                clock.clone(),
            ),
            per_address: DefaultKeyedRateLimiter::dashmap_with_clock(
                quota(&limits.per_address),
                clock.clone(),
            ),
            clients_locked: Mutex::new(HashMap::new()),
            addresses_locked: Mutex::new(HashMap::new()),
            failures: AtomicU64::new(0),
            clock,
        }
    }

    /// Before the credential is checked: how long `client_id` is still
    /// locked out, if it is.
    pub(crate) fn locked(&self, client_id: &str) -> Option<Duration> {
        remaining(&self.clients_locked, client_id)
    }

    /// After a failed authentication: counts it against the client id and
    /// the address, and says how long to wait when either is over its rate
    /// (or the address was already locked).
    pub(crate) fn failed(&self, client_id: &str, source: IpAddr) -> Option<Duration> {
        if self.failures.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            self.sweep();
        }
        let now = self.clock.now();
        let client = self
            .per_client
            .check_key(&client_id.to_owned())
            .err()
            .map(|n| n.wait_time_from(now));
        let address = self
            .per_address
            .check_key(&source)
            .err()
            .map(|n| n.wait_time_from(now));
        if let Some(wait) = client {
            lock(&self.clients_locked, client_id.to_owned(), wait);
        }
        if let Some(wait) = address {
            lock(&self.addresses_locked, source, wait);
        }
        let address = address.or_else(|| remaining(&self.addresses_locked, &source));
        match (client, address) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        }
    }

    fn sweep(&self) {
        self.per_client.retain_recent();
        self.per_address.retain_recent();
        let now = Instant::now();
        held(&self.clients_locked).retain(|_, until| *until > now);
        held(&self.addresses_locked).retain(|_, until| *until > now);
    }
}

/// The lock map, even after a panic elsewhere poisoned it: the map is only
/// ever a set of deadlines, never half-written, so losing it would only
/// forget a lock (fail open).
fn held<K>(locks: &Mutex<HashMap<K, Instant>>) -> MutexGuard<'_, HashMap<K, Instant>> {
    locks.lock().unwrap_or_else(PoisonError::into_inner)
}

fn lock<K: std::hash::Hash + Eq>(locks: &Mutex<HashMap<K, Instant>>, key: K, wait: Duration) {
    let until = Instant::now() + wait;
    let mut locked = held(locks);
    let entry = locked.entry(key).or_insert(until);
    *entry = (*entry).max(until);
}

fn remaining<K, Q>(locks: &Mutex<HashMap<K, Instant>>, key: &Q) -> Option<Duration>
where
    K: std::hash::Hash + Eq + std::borrow::Borrow<Q>,
    Q: std::hash::Hash + Eq + ?Sized,
{
    let until = *held(locks).get(key)?;
    until.checked_duration_since(Instant::now())
}

#[cfg(test)]
mod tests {
    use super::*;
    use portcullis_config::Rate;

    fn throttle(per_client: u32, per_address: u32) -> ClientThrottle {
        let rate = |n| Rate {
            count: std::num::NonZeroU32::new(n).unwrap(),
            per: Duration::from_secs(3600),
            burst: std::num::NonZeroU32::new(n).unwrap(),
        };
        ClientThrottle::new(&FailedAuthLimits {
            per_client: rate(per_client),
            per_address: rate(per_address),
        })
    }

    const A: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 1));
    const B: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 2));

    #[test]
    fn a_client_id_is_locked_after_its_failures_from_any_address() {
        let t = throttle(3, 100);
        for source in [A, B, A] {
            assert_eq!(t.failed("bot", source), None);
        }
        assert!(t.locked("bot").is_none());
        let wait = t.failed("bot", B).expect("the fourth failure is throttled");
        assert!(wait > Duration::from_secs(1000));
        assert!(t.locked("bot").is_some());
        assert!(t.locked("other").is_none());
    }

    #[test]
    fn an_address_is_throttled_on_failures_but_never_locks_out_other_clients() {
        let t = throttle(100, 3);
        for id in ["a", "b", "c"] {
            assert_eq!(t.failed(id, A), None);
        }
        assert!(t.failed("d", A).is_some());
        // Every further failure from A is throttled, whatever the client id.
        assert!(t.failed("e", A).is_some());
        // No client id was locked: a right secret from A still gets through.
        assert!(t.locked("e").is_none());
        // Another address is untouched.
        assert_eq!(t.failed("e", B), None);
    }
}
