//! What the watch holds against identities in memory, before or beside the
//! store: a quarantine decided but not yet written (the store may be down:
//! the identity is refused from the very next request all the same, and
//! the write is retried), and throttles (a lower rate for a while).
//!
//! Both are read on every request, so the common case — nothing held — is
//! one atomic load each.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};

/// One throttled identity: its own bucket at the lower rate, until when.
#[derive(Debug)]
struct Throttled {
    until: Instant,
    bucket: DefaultDirectRateLimiter,
}

#[derive(Debug, Default)]
pub(crate) struct Holds {
    /// Entries in each map: zero means nothing to look up there.
    quarantines: AtomicUsize,
    throttles: AtomicUsize,
    /// Identity -> who decided it (`watch:<detector>`), until the store has it.
    quarantined: Mutex<HashMap<String, String>>,
    throttled: Mutex<HashMap<String, Throttled>>,
    clock: DefaultClock,
}

impl Holds {
    fn recount(&self) {
        // A poisoned lock counts as held: the lookups then fail closed.
        let q = self.quarantined.lock().map_or(1, |m| m.len());
        let t = self.throttled.lock().map_or(1, |m| m.len());
        self.quarantines.store(q, Ordering::Release);
        self.throttles.store(t, Ordering::Release);
    }

    /// Holds the identity quarantined until [`Self::release_quarantine`].
    pub(crate) fn quarantine(&self, identity: &str, by: &str) {
        if let Ok(mut m) = self.quarantined.lock() {
            m.insert(identity.to_owned(), by.to_owned());
        }
        self.recount();
    }

    /// The quarantines not yet in the store, and who decided each.
    pub(crate) fn pending_quarantines(&self) -> Vec<(String, String)> {
        if self.quarantines.load(Ordering::Acquire) == 0 {
            return Vec::new();
        }
        self.quarantined
            .lock()
            .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default()
    }

    /// The store has the quarantine (or an admin released it): memory
    /// need not hold it any more.
    pub(crate) fn release_quarantine(&self, identity: &str) {
        if let Ok(mut m) = self.quarantined.lock() {
            m.remove(identity);
        }
        self.recount();
    }

    pub(crate) fn is_quarantined(&self, identity: &str) -> bool {
        // A poisoned lock holds everyone: fail closed.
        self.quarantines.load(Ordering::Acquire) > 0
            && self
                .quarantined
                .lock()
                .map_or(true, |m| m.contains_key(identity))
    }

    /// Throttles the identity to `count` per `per` for `lasts`.
    pub(crate) fn throttle(
        &self,
        identity: &str,
        count: NonZeroU32,
        per: Duration,
        lasts: Duration,
    ) {
        let Some(quota) = Quota::with_period(per / count.get()) else {
            return;
        };
        let bucket = RateLimiter::direct(quota.allow_burst(count));
        if let Ok(mut m) = self.throttled.lock() {
            m.insert(
                identity.to_owned(),
                Throttled {
                    until: Instant::now() + lasts,
                    bucket,
                },
            );
        }
        self.recount();
    }

    /// `Err(wait)` when the identity is throttled and over its lower rate.
    pub(crate) fn check_throttle(&self, identity: &str) -> Result<(), Duration> {
        if self.throttles.load(Ordering::Acquire) == 0 {
            return Ok(());
        }
        let Ok(mut m) = self.throttled.lock() else {
            return Err(Duration::from_secs(1));
        };
        let Some(t) = m.get(identity) else {
            return Ok(());
        };
        if t.until <= Instant::now() {
            m.remove(identity);
            drop(m);
            self.recount();
            return Ok(());
        }
        t.bucket
            .check()
            .map_err(|not_until| not_until.wait_time_from(self.clock.now()))
    }

    /// Ends a throttle (an admin released the identity).
    pub(crate) fn release_throttle(&self, identity: &str) {
        if let Ok(mut m) = self.throttled.lock() {
            m.remove(identity);
        }
        self.recount();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_held_costs_nothing_and_holds_are_per_identity() {
        let h = Holds::default();
        assert!(!h.is_quarantined("a"));
        assert_eq!(h.check_throttle("a"), Ok(()));
        h.quarantine("a", "watch:probing");
        assert_eq!(
            h.pending_quarantines(),
            [("a".to_owned(), "watch:probing".to_owned())]
        );
        assert!(h.is_quarantined("a") && !h.is_quarantined("b"));
        h.release_quarantine("a");
        assert!(!h.is_quarantined("a"));
        h.throttle(
            "t",
            NonZeroU32::MIN,
            Duration::from_secs(10),
            Duration::from_secs(60),
        );
        assert_eq!(h.check_throttle("t"), Ok(()));
        assert!(h.check_throttle("t").is_err());
        assert_eq!(h.check_throttle("u"), Ok(()));
        h.release_throttle("t");
        assert_eq!(h.check_throttle("t"), Ok(()));
    }

    #[test]
    fn a_throttle_ends_on_its_own() {
        let h = Holds::default();
        h.throttle(
            "t",
            NonZeroU32::MIN,
            Duration::from_secs(10),
            Duration::from_millis(1),
        );
        std::thread::sleep(Duration::from_millis(5));
        assert_eq!(h.check_throttle("t"), Ok(()));
        assert_eq!(h.check_throttle("t"), Ok(()));
    }
}
