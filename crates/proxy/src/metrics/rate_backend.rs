//! The rate-limit backend's metrics: whether Redis answers, how often it
//! failed, and how many requests were decided without it (by
//! `on_unavailable`). Handles, so the limiter counts into the registry the
//! admin listener renders, whichever snapshot holds it.

use portcullis_config::OnUnavailable;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct FallbackLabel {
    on_unavailable: &'static str,
}

#[derive(Debug, Clone, Default)]
pub(crate) struct RateBackendMetrics {
    up: Gauge,
    failures: Counter,
    fallbacks: Family<FallbackLabel, Counter>,
}

impl RateBackendMetrics {
    pub(super) fn register(registry: &mut Registry) -> Self {
        let metrics = Self::default();
        registry.register(
            "rate_limit_backend_up",
            "1 while the shared rate-limit backend (Redis) answers, 0 while it does not; absent without one",
            metrics.up.clone(),
        );
        registry.register(
            "rate_limit_backend_failures",
            "Rate-limit checks and pings the shared backend failed or did not answer in time",
            metrics.failures.clone(),
        );
        registry.register(
            "rate_limit_fallbacks",
            "Requests rate-limited without the shared backend, by on_unavailable (local, deny)",
            metrics.fallbacks.clone(),
        );
        metrics
    }

    /// Metrics that count into no registry.
    #[cfg(test)]
    pub(crate) fn detached() -> Self {
        Self::default()
    }

    pub(crate) fn up(&self, up: bool) {
        self.up.set(i64::from(up));
    }

    /// A backend is configured; it is not up until it has answered.
    pub(crate) fn configured(&self) {
        self.up.set(0);
    }

    pub(crate) fn failure(&self) {
        self.failures.inc();
    }

    pub(crate) fn fallback(&self, on_unavailable: OnUnavailable) {
        self.fallbacks
            .get_or_create(&FallbackLabel {
                on_unavailable: on_unavailable.as_str(),
            })
            .inc();
    }

    #[cfg(test)]
    pub(crate) fn fallbacks(&self, on_unavailable: OnUnavailable) -> u64 {
        self.fallbacks
            .get_or_create(&FallbackLabel {
                on_unavailable: on_unavailable.as_str(),
            })
            .get()
    }
}
