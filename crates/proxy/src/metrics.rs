//! Prometheus metrics, served on the admin listener at `/metrics`:
//! requests by API, operation, decision and code; latency of the whole
//! request and of each stage; reloads and token issuance by outcome; and the
//! audit ledger's queue, commits and commit latency; the shared rate-limit
//! backend's health.
//!
//! Labels never carry identities or paths: their number must stay bounded
//! by the contracts, not by the traffic.

mod rate_backend;

use std::sync::Arc;

use portcullis_store::ledger::writer::WriterStats;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric};
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
pub(crate) use rate_backend::RateBackendMetrics;

use crate::exchange::{Exchange, Stage};

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    api: String,
    operation: String,
    decision: &'static str,
    code: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ApiLabel {
    api: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StageLabel {
    stage: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct McpLabels {
    method: &'static str,
    outcome: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct AlertLabels {
    detector: &'static str,
    action: &'static str,
    mode: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabel {
    outcome: &'static str,
}

/// Latency buckets, 50 µs to about 13 s; also the audit commit histogram's
/// (made before the writer starts, so its hook can observe into it).
pub fn latency() -> Histogram {
    Histogram::new(exponential_buckets(0.000_05, 2.0, 18))
}

/// Every metric of one gateway.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    duration: Family<ApiLabel, Histogram, fn() -> Histogram>,
    /// Each stage's histogram, looked up once here rather than in the
    /// family's map for every stage of every request (in `Stage::ALL`'s
    /// order; every stage's series is shown from the start).
    stages: [Histogram; Stage::ALL.len()],
    reloads: Family<OutcomeLabel, Counter>,
    tokens: Family<OutcomeLabel, Counter>,
    mcp: Family<McpLabels, Counter>,
    alerts: Family<AlertLabels, Counter>,
    webhook: Family<OutcomeLabel, Counter>,
    rate_backend: RateBackendMetrics,
}

impl Metrics {
    /// The metrics, with the audit writer's counters read at each scrape and
    /// its commit times observed into `commits`.
    /// (`audit` is `None` for offline use such as `explain`.)
    pub fn new(audit: Option<Arc<WriterStats>>, commits: Histogram) -> Self {
        let mut registry = Registry::with_prefix("portcullis");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "requests",
            "Requests decided, by API, operation, decision (allow, deny, observe) and problem code",
            requests.clone(),
        );
        let duration =
            Family::<ApiLabel, Histogram, fn() -> Histogram>::new_with_constructor(latency);
        registry.register(
            "request_duration_seconds",
            "Whole-request latency at the gateway, by API",
            duration.clone(),
        );
        let stages =
            Family::<StageLabel, Histogram, fn() -> Histogram>::new_with_constructor(latency);
        registry.register(
            "stage_duration_seconds",
            "Time in each pipeline stage (forward is the upstream's time)",
            stages.clone(),
        );
        let reloads = Family::<OutcomeLabel, Counter>::default();
        registry.register(
            "reloads",
            "Configuration reloads, by outcome (applied, refused)",
            reloads.clone(),
        );
        let tokens = Family::<OutcomeLabel, Counter>::default();
        registry.register(
            "tokens",
            "Token endpoint answers, by outcome (issued, refused)",
            tokens.clone(),
        );
        let mcp = Family::<McpLabels, Counter>::default();
        registry.register(
            "mcp_requests",
            "Requests to /mcp, by JSON-RPC method and outcome (ok, a problem code, or a JSON-RPC error)",
            mcp.clone(),
        );
        let alerts = Family::<AlertLabels, Counter>::default();
        registry.register(
            "watch_alerts",
            "Alerts the watch raised, by detector, action reached (alert, throttle, quarantine) and mode (enforce, observe)",
            alerts.clone(),
        );
        let webhook = Family::<OutcomeLabel, Counter>::default();
        registry.register(
            "watch_webhook",
            "Alerts sent to the webhook, by outcome (delivered, failed after every attempt, dropped with the queue full)",
            webhook.clone(),
        );
        registry.register(
            "audit_commit_seconds",
            "Audit ledger commit latency",
            commits.clone(),
        );
        let rate_backend = RateBackendMetrics::register(&mut registry);
        if let Some(audit) = audit {
            registry.register_collector(Box::new(AuditCollector(audit)));
        }
        let stages = Stage::ALL.map(|stage| {
            stages
                .get_or_create(&StageLabel {
                    stage: stage.as_str(),
                })
                .clone()
        });
        Self {
            registry,
            requests,
            duration,
            stages,
            reloads,
            tokens,
            mcp,
            alerts,
            webhook,
            rate_backend,
        }
    }

    /// Handles for the rate limiter's backend metrics.
    pub(crate) fn rate_backend(&self) -> RateBackendMetrics {
        self.rate_backend.clone()
    }

    /// Counts one alert of the watch.
    pub(crate) fn alert(&self, detector: &'static str, action: &'static str, mode: &'static str) {
        self.alerts
            .get_or_create(&AlertLabels {
                detector,
                action,
                mode,
            })
            .inc();
    }

    /// Counts one alert's webhook outcome.
    pub(crate) fn webhook(&self, outcome: &'static str) {
        self.webhook.get_or_create(&OutcomeLabel { outcome }).inc();
    }

    /// Counts one request to `/mcp`. `method` is bounded to the methods this
    /// server knows (anything else counts as `other`).
    pub(crate) fn mcp_request(&self, method: &str, outcome: &'static str) {
        const KNOWN: [&str; 8] = [
            "initialize",
            "ping",
            "tools/list",
            "tools/call",
            "response",
            "open-stream",
            "end-session",
            "-",
        ];
        let method = KNOWN.into_iter().find(|m| *m == method).unwrap_or(
            if method.starts_with("notifications/") {
                "notification"
            } else {
                "other"
            },
        );
        self.mcp.get_or_create(&McpLabels { method, outcome }).inc();
    }

    /// Counts and times one finished request.
    pub(crate) fn request(&self, ex: &Exchange, decision: &'static str, code: &'static str) {
        let api = ex.api.clone().unwrap_or_else(|| "-".to_owned());
        self.requests
            .get_or_create(&RequestLabels {
                api: api.clone(),
                operation: ex.operation.clone().unwrap_or_else(|| "-".to_owned()),
                decision,
                code,
            })
            .inc();
        self.duration
            .get_or_create(&ApiLabel { api })
            .observe(ex.started.elapsed().as_secs_f64());
        for (stage, us) in ex.stage_times() {
            if let Some(histogram) = self.stages.get(stage as usize) {
                histogram.observe(us as f64 / 1e6);
            }
        }
    }

    pub(crate) fn reload(&self, applied: bool) {
        let outcome = if applied { "applied" } else { "refused" };
        self.reloads.get_or_create(&OutcomeLabel { outcome }).inc();
    }

    pub(crate) fn token(&self, issued: bool) {
        let outcome = if issued { "issued" } else { "refused" };
        self.tokens.get_or_create(&OutcomeLabel { outcome }).inc();
    }

    /// The text exposition format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            tracing::error!("metrics could not be encoded");
        }
        out
    }
}

/// The audit writer's counters, read at each scrape.
#[derive(Debug)]
struct AuditCollector(Arc<WriterStats>);

impl Collector for AuditCollector {
    fn encode(&self, mut encoder: DescriptorEncoder<'_>) -> Result<(), std::fmt::Error> {
        let stats = &self.0;
        let gauge = |encoder: &mut DescriptorEncoder<'_>, name: &str, help: &str, value: i64| {
            let metric = ConstGauge::new(value);
            let e = encoder.encode_descriptor(name, help, None, metric.metric_type())?;
            metric.encode(e)
        };
        let counter = |encoder: &mut DescriptorEncoder<'_>, name: &str, help: &str, value: u64| {
            let metric = ConstCounter::new(value);
            let e = encoder.encode_descriptor(name, help, None, metric.metric_type())?;
            metric.encode(e)
        };
        let signed = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
        gauge(
            &mut encoder,
            "audit_queue_depth",
            "Records waiting for the audit writer",
            signed(stats.queued()),
        )?;
        gauge(
            &mut encoder,
            "audit_queue_capacity",
            "Records the audit queue holds before callers wait",
            signed(stats.capacity()),
        )?;
        gauge(
            &mut encoder,
            "audit_healthy",
            "1 while the audit ledger accepts writes",
            i64::from(stats.healthy()),
        )?;
        gauge(
            &mut encoder,
            "audit_last_seq",
            "The last committed record's sequence number",
            signed(stats.last_seq()),
        )?;
        gauge(
            &mut encoder,
            "audit_last_checkpoint",
            "The last signed checkpoint's sequence number",
            signed(stats.last_checkpoint()),
        )?;
        counter(
            &mut encoder,
            "audit_records",
            "Records committed to the audit ledger",
            stats.records(),
        )?;
        counter(
            &mut encoder,
            "audit_commits",
            "Audit ledger commits",
            stats.commits(),
        )?;
        counter(
            &mut encoder,
            "audit_commit_failures",
            "Audit ledger commits that failed (records kept and retried)",
            stats.failures(),
        )?;
        Ok(())
    }
}
