//! The buckets in this node's memory: a GCRA bucket (governor's keyed
//! limiter) per identity, and per identity on each operation the
//! configuration limits. A bucket costs memory only while its identity is
//! calling; idle ones are dropped every [`SWEEP_EVERY`] checks.
//!
//! With a shared backend these are the fallback while Redis does not
//! answer: each request then takes as many cells as there are nodes
//! sharing the limit (at most a bucket's burst), so each node spends its
//! share of the fleet's limit, and a change in the node count refills
//! nobody's bucket.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};

use super::Exceeded;
use portcullis_config::{Rate, RateLimits};

type Buckets = DefaultKeyedRateLimiter<String>;

/// Checks between two sweeps of idle buckets: rare enough that the sweep's
/// walk over every bucket costs nothing per request, often enough that a
/// million identities calling once each do not stay in memory for long.
const SWEEP_EVERY: u64 = 1 << 16;

/// All the buckets for one `rate_limits` setting.
pub(crate) struct Local {
    per_identity: Option<Buckets>,
    /// api name, then operation id.
    per_operation: HashMap<String, HashMap<String, Buckets>>,
    checks: AtomicU64,
    clock: DefaultClock,
}

impl std::fmt::Debug for Local {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Local").finish_non_exhaustive()
    }
}

impl Local {
    /// Buckets for `settings`.
    pub(crate) fn new(settings: &RateLimits) -> Self {
        let clock = DefaultClock::default();
        let buckets = |rate: &Rate| Buckets::dashmap_with_clock(quota(rate), clock.clone());
        let per_identity = settings.per_identity.as_ref().map(buckets);
        let per_operation = settings
            .per_operation
            .iter()
            .map(|(api, ops)| {
                let ops = ops.iter().map(|(op, rate)| (op.clone(), buckets(rate)));
                (api.clone(), ops.collect())
            })
            .collect();
        Self {
            per_identity,
            per_operation,
            checks: AtomicU64::new(0),
            clock,
        }
    }

    /// Counts one request by `identity` on `api`'s `operation`, as `cells`
    /// (1; or, for a fleet's fallback, the nodes sharing the limit). The
    /// narrower (operation) limit is asked first; a request refused by
    /// either still counts against any limit it passed, so retrying hard
    /// never helps.
    ///
    /// # Errors
    /// The limit exceeded and how long until a request would conform.
    #[allow(
        clippy::ptr_arg,
        reason = "governor's keyed limiter looks buckets up by `&K`, and K is `String`"
    )]
    pub(crate) fn check(
        &self,
        identity: &String,
        api: &str,
        operation: &str,
        cells: u32,
    ) -> Result<(), (Exceeded, Duration)> {
        // No limits configured: nothing to count, and no shared counter for
        // every request on every core to contend on.
        if self.per_identity.is_none() && self.per_operation.is_empty() {
            return Ok(());
        }
        self.sweep_now_and_then();
        let on_operation = self
            .per_operation
            .get(api)
            .and_then(|ops| ops.get(operation));
        if let Some(buckets) = on_operation {
            self.take(buckets, identity, cells)
                .map_err(|wait| (Exceeded::Operation, wait))?;
        }
        if let Some(buckets) = &self.per_identity {
            self.take(buckets, identity, cells)
                .map_err(|wait| (Exceeded::Identity, wait))?;
        }
        Ok(())
    }

    /// `cells` from `identity`'s bucket, at most its burst (so a share
    /// larger than a small burst still lets a request through now and then).
    #[allow(
        clippy::ptr_arg,
        reason = "governor's keyed limiter looks buckets up by `&K`, and K is `String`"
    )]
    fn take(&self, buckets: &Buckets, identity: &String, cells: u32) -> Result<(), Duration> {
        let wait = |n: governor::NotUntil<_>| n.wait_time_from(self.clock.now());
        let Some(mut n) = NonZeroU32::new(cells).filter(|n| n.get() > 1) else {
            return buckets.check_key(identity).map_err(wait);
        };
        loop {
            match buckets.check_key_n(identity, n) {
                Ok(answer) => return answer.map_err(wait),
                Err(governor::InsufficientCapacity(burst)) => match NonZeroU32::new(burst) {
                    Some(burst) if burst < n => n = burst,
                    _ => return Err(Duration::from_secs(1)),
                },
            }
        }
    }

    /// The identity's own bucket only.
    #[allow(
        clippy::ptr_arg,
        reason = "governor's keyed limiter looks buckets up by `&K`, and K is `String`"
    )]
    pub(crate) fn check_identity(&self, identity: &String, cells: u32) -> Result<(), Duration> {
        let Some(buckets) = &self.per_identity else {
            return Ok(());
        };
        self.sweep_now_and_then();
        self.take(buckets, identity, cells)
    }

    /// How many identities hold a bucket now, across every limit.
    #[cfg(test)]
    pub(crate) fn tracked(&self) -> usize {
        let operations: usize = self
            .per_operation
            .values()
            .flat_map(HashMap::values)
            .map(Buckets::len)
            .sum();
        operations + self.per_identity.as_ref().map_or(0, Buckets::len)
    }

    fn sweep_now_and_then(&self) {
        let n = self.checks.fetch_add(1, Ordering::Relaxed);
        if n % SWEEP_EVERY != SWEEP_EVERY - 1 {
            return;
        }
        self.sweep();
    }

    /// Drops the buckets that are back to full: forgetting them changes no
    /// answer.
    pub(crate) fn sweep(&self) {
        let all = self
            .per_operation
            .values()
            .flat_map(HashMap::values)
            .chain(self.per_identity.as_ref());
        for buckets in all {
            buckets.retain_recent();
            buckets.shrink_to_fit();
        }
    }
}

pub(crate) fn quota(rate: &Rate) -> Quota {
    // `per / count` is the emission interval; with `count` ≥ 1 and `per` at
    // least a second it is never zero, so `with_period` always answers.
    let interval = rate.per / rate.count.get();
    Quota::with_period(interval)
        .unwrap_or_else(|| Quota::per_second(rate.count))
        .allow_burst(rate.burst)
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        clippy::indexing_slicing,
        reason = "test code: a missing value should fail the test"
    )]
    use super::*;

    fn rate(count: u32, per_secs: u64, burst: u32) -> Rate {
        Rate {
            count: NonZeroU32::new(count).unwrap(),
            per: Duration::from_secs(per_secs),
            burst: NonZeroU32::new(burst).unwrap(),
        }
    }

    fn settings(identity: Option<Rate>, op: Option<Rate>) -> RateLimits {
        let mut s = RateLimits {
            per_identity: identity,
            ..RateLimits::default()
        };
        if let Some(op) = op {
            s.per_operation
                .entry("orders".into())
                .or_default()
                .insert("createOrder".into(), op);
        }
        s
    }

    #[test]
    fn burst_then_refusal_per_identity_with_a_wait() {
        let limiter = Local::new(&settings(Some(rate(1, 3600, 3)), None));
        let a = "agent-a".to_owned();
        for _ in 0..3 {
            assert!(limiter.check(&a, "orders", "getOrder", 1).is_ok());
        }
        let (which, wait) = limiter.check(&a, "orders", "getOrder", 1).unwrap_err();
        assert_eq!(which, Exceeded::Identity);
        assert!(
            wait > Duration::from_secs(3000) && wait <= Duration::from_secs(3600),
            "{wait:?}"
        );
        // Another identity has its own bucket.
        assert!(
            limiter
                .check(&"agent-b".to_owned(), "orders", "getOrder", 1)
                .is_ok()
        );
        assert_eq!(limiter.tracked(), 2);
    }

    #[test]
    fn an_operation_limit_is_narrower_than_the_identity_limit() {
        let limiter = Local::new(&settings(Some(rate(1, 3600, 10)), Some(rate(1, 3600, 1))));
        let a = "agent-a".to_owned();
        assert!(limiter.check(&a, "orders", "createOrder", 1).is_ok());
        let (which, _) = limiter.check(&a, "orders", "createOrder", 1).unwrap_err();
        assert_eq!(which, Exceeded::Operation);
        // Other operations still draw on the identity's own allowance.
        assert!(limiter.check(&a, "orders", "getOrder", 1).is_ok());
    }

    #[test]
    fn no_settings_no_limit() {
        let limiter = Local::new(&RateLimits::default());
        let a = "agent-a".to_owned();
        for _ in 0..10_000 {
            assert!(limiter.check(&a, "orders", "getOrder", 1).is_ok());
        }
        assert_eq!(limiter.tracked(), 0);
    }

    #[test]
    fn a_sweep_forgets_only_full_buckets() {
        let limiter = Local::new(&settings(Some(rate(1000, 1, 1000)), None));
        for i in 0..100 {
            limiter.check(&format!("id-{i}"), "a", "b", 1).unwrap();
        }
        assert_eq!(limiter.tracked(), 100);
        std::thread::sleep(Duration::from_millis(20));
        limiter.sweep();
        assert_eq!(limiter.tracked(), 0);
        // A drained bucket is remembered: forgetting it would refill it.
        let slow = Local::new(&settings(Some(rate(1, 3600, 1)), None));
        slow.check(&"x".to_owned(), "a", "b", 1).unwrap();
        slow.sweep();
        assert_eq!(slow.tracked(), 1);
        assert!(slow.check(&"x".to_owned(), "a", "b", 1).is_err());
    }

    #[test]
    fn a_share_takes_that_many_cells_and_never_more_than_the_burst() {
        let limiter = Local::new(&settings(Some(rate(9, 3600, 9)), None));
        let a = "agent-a".to_owned();
        for _ in 0..3 {
            assert!(limiter.check(&a, "orders", "getOrder", 3).is_ok());
        }
        assert!(limiter.check(&a, "orders", "getOrder", 3).is_err());
        // A share above the burst takes the whole burst: one, then none.
        let small = Local::new(&settings(Some(rate(2, 3600, 2)), None));
        assert!(small.check(&a, "orders", "getOrder", 5).is_ok());
        assert!(small.check(&a, "orders", "getOrder", 5).is_err());
    }

    #[test]
    fn quotas_keep_the_average_rate() {
        let q = quota(&rate(600, 60, 5));
        assert_eq!(q.replenish_interval(), Duration::from_millis(100));
        assert_eq!(q.burst_size().get(), 5);
    }
}
