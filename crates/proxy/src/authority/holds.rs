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

/// One throttled identity: its own bucket at the lower rate, since when
/// (wall clock, to tell a throttle set after a release from one before
/// it), until when.
#[derive(Debug)]
struct Throttled {
    set_ms: i64,
    until: Instant,
    bucket: DefaultDirectRateLimiter,
}

#[derive(Debug, Default)]
pub(crate) struct Holds {
    /// Entries in each map, stored while its lock is held so a reader never
    /// sees a count older than the map: zero means nothing to look up there.
    quarantines: AtomicUsize,
    throttles: AtomicUsize,
    /// Identity -> who decided it (`watch:<detector>`), until the store has it.
    quarantined: Mutex<HashMap<String, String>>,
    throttled: Mutex<HashMap<String, Throttled>>,
    clock: DefaultClock,
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

impl Holds {
    /// Changes the quarantine map under its lock and stores its size before
    /// letting go. A poisoned lock counts as held: lookups then fail closed.
    fn with_quarantined(&self, f: impl FnOnce(&mut HashMap<String, String>)) {
        match self.quarantined.lock() {
            Ok(mut m) => {
                f(&mut m);
                self.quarantines.store(m.len(), Ordering::Release);
            }
            Err(_) => self.quarantines.store(1, Ordering::Release),
        }
    }

    fn with_throttled<R>(&self, f: impl FnOnce(&mut HashMap<String, Throttled>) -> R) -> Option<R> {
        match self.throttled.lock() {
            Ok(mut m) => {
                let out = f(&mut m);
                self.throttles.store(m.len(), Ordering::Release);
                Some(out)
            }
            Err(_) => {
                self.throttles.store(1, Ordering::Release);
                None
            }
        }
    }

    /// Holds the identity quarantined until [`Self::release_quarantine`].
    pub(crate) fn quarantine(&self, identity: &str, by: &str) {
        self.with_quarantined(|m| {
            m.insert(identity.to_owned(), by.to_owned());
        });
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

    /// The store has the quarantine (or an admin released it in this
    /// process): memory need not hold it any more.
    pub(crate) fn release_quarantine(&self, identity: &str) {
        self.with_quarantined(|m| {
            m.remove(identity);
        });
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
        let throttled = Throttled {
            set_ms: now_ms(),
            until: Instant::now() + lasts,
            bucket,
        };
        self.with_throttled(|m| m.insert(identity.to_owned(), throttled));
    }

    /// `Err(wait)` when the identity is throttled and over its lower rate.
    pub(crate) fn check_throttle(&self, identity: &str) -> Result<(), Duration> {
        if self.throttles.load(Ordering::Acquire) == 0 {
            return Ok(());
        }
        let checked = self.with_throttled(|m| {
            let t = m.get(identity)?;
            if t.until <= Instant::now() {
                m.remove(identity);
                return None;
            }
            t.bucket
                .check()
                .err()
                .map(|n| n.wait_time_from(self.clock.now()))
        });
        match checked {
            Some(None) => Ok(()),
            Some(Some(wait)) => Err(wait),
            // A poisoned lock: fail closed.
            None => Err(Duration::from_secs(1)),
        }
    }

    /// Ends a throttle set before `before_ms` (an admin's release, then):
    /// one the watch set after the release stands.
    pub(crate) fn release_throttle_before(&self, identity: &str, before_ms: i64) {
        self.with_throttled(|m| {
            if m.get(identity).is_some_and(|t| t.set_ms <= before_ms) {
                m.remove(identity);
            }
        });
    }

    /// Ends a throttle now (an admin released the identity in this process).
    pub(crate) fn release_throttle(&self, identity: &str) {
        self.with_throttled(|m| m.remove(identity));
    }

    /// Forgets throttles that have run out, so identities that never call
    /// again do not keep every request looking.
    pub(crate) fn sweep(&self) {
        if self.throttles.load(Ordering::Acquire) > 0 {
            let now = Instant::now();
            self.with_throttled(|m| m.retain(|_, t| t.until > now));
        }
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
        h.release_throttle_before("t", now_ms() - 60_000);
        assert!(
            h.check_throttle("t").is_err(),
            "set after that release: it stands"
        );
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
