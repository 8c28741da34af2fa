//! Rate-limit state for stage 9: the GCRA buckets of one `rate_limits`
//! setting, in this node's memory ([`local`]) or, with `backend: redis://…`,
//! in Redis so that a fleet holds one limit and not one per node
//! ([`shared`]).
//!
//! The limiter outlives snapshots: a reload that leaves `rate_limits` as it
//! was carries it over, so reloading is never a way to refill anyone's
//! allowance (nor to drop the Redis connection).
//!
//! While Redis does not answer, `on_unavailable` decides: `deny` refuses
//! every limited request with `unavailable`; `local` counts in memory, each
//! request taking as many cells as there are live nodes (this node's share
//! of the limit), so the fleet as a whole stays near the limit and never
//! above the limit times the node count; a change in the count refills no
//! bucket.

pub(crate) mod local;
pub(crate) mod shared;

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use portcullis_config::{OnUnavailable, RateLimits};

use local::Local;
pub(crate) use local::quota;
use shared::{Shared, Verdict};

use crate::metrics::RateBackendMetrics;

/// Which limit refused a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Exceeded {
    Identity,
    Operation,
}

/// Why a request may not go on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Limited {
    /// Over a limit; the wait until a request would conform.
    Exceeded(Exceeded, Duration),
    /// The shared backend does not answer and `on_unavailable` is `deny`.
    Unavailable,
}

/// All the buckets for one `rate_limits` setting.
pub(crate) struct Limiter {
    settings: RateLimits,
    place: Place,
}

#[allow(
    clippy::large_enum_variant,
    reason = "one limiter a configuration, never copied: its size costs nothing"
)]
enum Place {
    Memory(Local),
    Redis {
        redis: Shared,
        on_unavailable: OnUnavailable,
        /// The buckets counted while Redis is away; each request takes
        /// `share` cells of them.
        fallback: Local,
        share: AtomicU32,
    },
}

impl std::fmt::Debug for Limiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Limiter")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl Limiter {
    /// The buckets for `settings`; Redis is connected on first use, so a
    /// gateway starts while Redis is down (and then follows
    /// `on_unavailable`).
    pub(crate) fn new(settings: RateLimits, metrics: RateBackendMetrics) -> Self {
        let place = match &settings.shared {
            None => Place::Memory(Local::new(&settings)),
            Some(shared) => {
                metrics.configured();
                Place::Redis {
                    redis: Shared::new(&shared.url, metrics),
                    on_unavailable: shared.on_unavailable,
                    fallback: Local::new(&settings),
                    share: AtomicU32::new(1),
                }
            }
        };
        Self { settings, place }
    }

    pub(crate) fn settings(&self) -> &RateLimits {
        &self.settings
    }

    /// The limiter a snapshot with `settings` should use: this one when
    /// nothing changed, so the buckets carry over; a fresh one otherwise.
    pub(crate) fn carried_to(self: &Arc<Self>, settings: &RateLimits) -> Option<Arc<Self>> {
        (self.settings == *settings).then(|| Arc::clone(self))
    }

    /// How many nodes share the limits (from the fleet's register): the
    /// local fallback then charges each request that many cells.
    pub(crate) fn set_share(&self, nodes: u32) {
        if let Place::Redis { share, .. } = &self.place {
            share.store(nodes.max(1), Ordering::Release);
        }
    }

    /// Counts one request by `identity` on `api`'s `operation`. The narrower
    /// (operation) limit is asked first; a request refused by either still
    /// counts against any limit it passed, so retrying hard never helps.
    ///
    /// # Errors
    /// The limit exceeded and how long until a request would conform, or
    /// the backend unavailable under `on_unavailable: deny`.
    #[allow(
        clippy::ptr_arg,
        reason = "governor's keyed limiter looks buckets up by `&K`, and K is `String`"
    )]
    pub(crate) async fn check(
        &self,
        identity: &String,
        api: &str,
        operation: &str,
    ) -> Result<(), Limited> {
        match &self.place {
            Place::Memory(local) => local
                .check(identity, api, operation, 1)
                .map_err(|(which, wait)| Limited::Exceeded(which, wait)),
            Place::Redis { redis, .. } => {
                let on_operation = self
                    .settings
                    .per_operation
                    .get(api)
                    .and_then(|ops| ops.get(operation))
                    .map(|rate| (api, operation, rate));
                let overall = self.settings.per_identity.as_ref();
                if on_operation.is_none() && overall.is_none() {
                    return Ok(());
                }
                let verdict = redis.check(identity, on_operation, overall).await;
                self.decide(verdict, |local, cells| {
                    local.check(identity, api, operation, cells)
                })
            }
        }
    }

    /// The identity's own bucket only.
    #[allow(
        clippy::ptr_arg,
        reason = "governor's keyed limiter looks buckets up by `&K`, and K is `String`"
    )]
    pub(crate) async fn check_identity(&self, identity: &String) -> Result<(), Limited> {
        match &self.place {
            Place::Memory(local) => local
                .check_identity(identity, 1)
                .map_err(|wait| Limited::Exceeded(Exceeded::Identity, wait)),
            Place::Redis { redis, .. } => {
                let Some(overall) = self.settings.per_identity.as_ref() else {
                    return Ok(());
                };
                let verdict = redis.check(identity, None, Some(overall)).await;
                self.decide(verdict, |local, cells| {
                    local
                        .check_identity(identity, cells)
                        .map_err(|wait| (Exceeded::Identity, wait))
                })
            }
        }
    }

    /// Redis's answer, or `on_unavailable`'s when it gave none.
    fn decide(
        &self,
        verdict: Verdict,
        locally: impl FnOnce(&Local, u32) -> Result<(), (Exceeded, Duration)>,
    ) -> Result<(), Limited> {
        let Place::Redis {
            redis,
            on_unavailable,
            fallback,
            share,
        } = &self.place
        else {
            return Ok(());
        };
        match verdict {
            Verdict::Allowed => Ok(()),
            Verdict::Exceeded(which, wait) => Err(Limited::Exceeded(which, wait)),
            Verdict::Unreachable => {
                redis.metrics().fallback(*on_unavailable);
                match on_unavailable {
                    OnUnavailable::Deny => Err(Limited::Unavailable),
                    OnUnavailable::Local => locally(fallback, share.load(Ordering::Acquire))
                        .map_err(|(which, wait)| Limited::Exceeded(which, wait)),
                }
            }
        }
    }

    /// Whether the shared backend answers, asked now (for `/readyz`):
    /// `None` when the buckets are in memory.
    pub(crate) async fn backend(&self) -> Option<(bool, OnUnavailable)> {
        match &self.place {
            Place::Memory(_) => None,
            Place::Redis {
                redis,
                on_unavailable,
                ..
            } => Some((redis.ping().await, *on_unavailable)),
        }
    }
}

/// `Retry-After` in whole seconds, rounded up and at least 1: a client that
/// waits exactly that long is let through.
pub(crate) fn retry_after_secs(wait: Duration) -> u64 {
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    secs.max(1)
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        reason = "test code: a missing value should fail the test"
    )]
    use std::num::NonZeroU32;

    use portcullis_config::Rate;

    use super::*;

    fn every_second(count: u32) -> RateLimits {
        RateLimits {
            per_identity: Some(Rate {
                count: NonZeroU32::new(count).unwrap(),
                per: Duration::from_secs(1),
                burst: NonZeroU32::new(count).unwrap(),
            }),
            ..RateLimits::default()
        }
    }

    #[test]
    fn a_limiter_carries_over_only_when_the_settings_are_the_same() {
        let same = every_second(5);
        let limiter = Arc::new(Limiter::new(same.clone(), RateBackendMetrics::detached()));
        let carried = limiter.carried_to(&same).unwrap();
        assert!(Arc::ptr_eq(&limiter, &carried));
        assert!(limiter.carried_to(&every_second(6)).is_none());
    }

    #[tokio::test]
    async fn in_memory_the_limit_is_this_nodes_and_the_backend_is_none() {
        let limiter = Limiter::new(every_second(2), RateBackendMetrics::detached());
        let a = "agent-a".to_owned();
        assert!(limiter.check(&a, "orders", "getOrder").await.is_ok());
        assert!(limiter.check_identity(&a).await.is_ok());
        assert!(matches!(
            limiter.check(&a, "orders", "getOrder").await,
            Err(Limited::Exceeded(Exceeded::Identity, _))
        ));
        assert_eq!(limiter.backend().await, None);
    }

    #[tokio::test]
    async fn without_redis_local_counts_this_nodes_share_and_deny_refuses() {
        let mut settings = RateLimits {
            per_identity: Some(Rate {
                count: NonZeroU32::new(4).unwrap(),
                per: Duration::from_secs(3600),
                burst: NonZeroU32::new(4).unwrap(),
            }),
            ..RateLimits::default()
        };
        // Nothing listens on port 1: every connection is refused at once.
        let url = portcullis_config::RedisUrl::parse("redis://127.0.0.1:1").unwrap();
        settings.shared = Some(portcullis_config::SharedRates {
            url,
            on_unavailable: OnUnavailable::Local,
        });
        let metrics = RateBackendMetrics::detached();
        let limiter = Limiter::new(settings.clone(), metrics.clone());
        let allowed = |id: &'static str| {
            let limiter = &limiter;
            async move {
                let mut n = 0;
                while limiter.check_identity(&id.to_owned()).await.is_ok() {
                    n += 1;
                    assert!(n <= 4);
                }
                n
            }
        };
        assert_eq!(allowed("alone").await, 4);
        // Two nodes share the limit: each counts half. A change in the
        // count refills nobody.
        limiter.set_share(2);
        assert_eq!(allowed("halved").await, 2);
        assert_eq!(allowed("alone").await, 0);
        assert_eq!(metrics.fallbacks(OnUnavailable::Local), 4 + 1 + 2 + 1 + 1);
        assert_eq!(limiter.backend().await, Some((false, OnUnavailable::Local)));

        settings.shared = settings.shared.map(|s| portcullis_config::SharedRates {
            on_unavailable: OnUnavailable::Deny,
            ..s
        });
        let deny = Limiter::new(settings, RateBackendMetrics::detached());
        assert_eq!(
            deny.check(&"x".to_owned(), "orders", "getOrder").await,
            Err(Limited::Unavailable)
        );
    }

    #[test]
    fn retry_after_rounds_up() {
        assert_eq!(retry_after_secs(Duration::ZERO), 1);
        assert_eq!(retry_after_secs(Duration::from_millis(1)), 1);
        assert_eq!(retry_after_secs(Duration::from_secs(2)), 2);
        assert_eq!(retry_after_secs(Duration::from_millis(2001)), 3);
    }
}
