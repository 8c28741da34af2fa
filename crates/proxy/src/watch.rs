//! The watch on the request path: every recorded decision of an identity
//! goes through the detectors (`portcullis-watch`) right after its audit
//! entry is handed over, and what fires is answered at once in memory — a
//! throttle or a quarantine holds from the identity's very next request —
//! while the slow parts (the alert's ledger record, writing the quarantine
//! to the store, the webhook) go to the responder task
//! (`watch/respond.rs`), never on the request path.
//!
//! The settings follow reloads; the detectors' state does not reset with
//! them. At start the state is rebuilt by replaying the ledger's recent
//! records (`watch/replay.rs`), so a restart does not forget.

use std::sync::Arc;

use arc_swap::ArcSwapOption;
use portcullis_contract::{Method, Operation};
use portcullis_core::ProblemCode;
use portcullis_watch::{Firing, Observation, Step, Watch, WatchSettings};
use tokio::sync::mpsc;

use crate::authority::Authority;
use crate::exchange::Exchange;
use crate::metrics::Metrics;

pub(crate) mod replay;
pub(crate) mod respond;
mod webhook;

/// Alerts waiting for the responder; past this many (a burst the ledger
/// cannot take) the newest is logged and counted, never blocking a request.
const QUEUE: usize = 4_096;

/// Whether the watch's enumeration detector follows this operation: a GET
/// whose path ends in a parameter (`/orders/{id}`) reads one record.
pub(crate) fn reads_single_record(operation: &Operation) -> bool {
    operation.method == Method::Get && operation.path.ends_with('}')
}

/// The detectors, their settings and the way to the responder.
#[derive(Debug)]
pub(crate) struct Watcher {
    settings: ArcSwapOption<WatchSettings>,
    engine: Watch,
    jobs: mpsc::Sender<Firing>,
    authority: Arc<Authority>,
    metrics: Arc<Metrics>,
}

impl Watcher {
    pub(crate) fn new(
        settings: Option<WatchSettings>,
        authority: Arc<Authority>,
        metrics: Arc<Metrics>,
    ) -> (Self, mpsc::Receiver<Firing>) {
        let max = settings
            .as_ref()
            .map_or(WatchSettings::new().max_identities, |s| s.max_identities);
        let (jobs, rx) = mpsc::channel(QUEUE);
        let watcher = Self {
            settings: ArcSwapOption::from(settings.map(Arc::new)),
            engine: Watch::new(max),
            jobs,
            authority,
            metrics,
        };
        (watcher, rx)
    }

    /// The settings a reload brought (`None`: the section was removed).
    pub(crate) fn apply(&self, settings: Option<WatchSettings>) {
        self.settings.store(settings.map(Arc::new));
    }

    pub(crate) fn settings(&self) -> Option<Arc<WatchSettings>> {
        self.settings.load_full()
    }

    pub(crate) fn engine(&self) -> &Watch {
        &self.engine
    }

    /// Feeds one finished request to the detectors and answers what fires.
    pub(crate) fn observe(&self, ex: &Exchange, code: Option<ProblemCode>) {
        if ex.offline {
            return;
        }
        let Some(identity) = ex.identity.as_deref() else {
            return;
        };
        let guard = self.settings.load();
        let Some(settings) = guard.as_deref() else {
            return;
        };
        let kind = self.kind_of(settings, identity);
        let obs = Observation {
            time_ms: ex.arrived_ms,
            identity,
            kind,
            api: ex.api.as_deref(),
            operation: ex.operation.as_deref(),
            // In an API's observe mode the code it would have had counts.
            code: code.or(ex.observed).map(ProblemCode::as_str),
            address: Some(ex.peer.ip()),
            item: ex.item.as_deref(),
        };
        for firing in self.engine.observe(settings, &obs) {
            self.answer(settings, firing);
        }
    }

    /// The identity's kind, read only when the settings tune by kind.
    pub(crate) fn kind_of(
        &self,
        settings: &WatchSettings,
        identity: &str,
    ) -> Option<portcullis_core::IdentityKind> {
        if !settings.needs_kind() {
            return None;
        }
        self.authority
            .with_identity(identity, |i| i.kind)
            .ok()
            .flatten()
    }

    /// The in-memory part of a firing's response, now; the rest queued.
    pub(crate) fn answer(&self, settings: &WatchSettings, firing: Firing) {
        let mode = if firing.enforced {
            "enforce"
        } else {
            "observe"
        };
        if firing.enforced {
            self.hold(settings, &firing);
        }
        self.metrics
            .alert(firing.detector.as_str(), firing.step.as_str(), mode);
        // Info, not warn: an alert is the watch working (it is in the
        // ledger, the metrics and the webhook), not the gateway failing.
        tracing::info!(
            identity = %firing.identity,
            detector = firing.detector.as_str(),
            action = firing.step.as_str(),
            level = firing.level,
            mode,
            count = firing.evidence.count,
            threshold = firing.evidence.threshold,
            "watch alert"
        );
        if let Err(e) = self.jobs.try_send(firing) {
            tracing::error!(error = %e, "the watch's alert queue is full; this alert is only in the log");
        }
    }

    /// Throttles or quarantines in memory (what a replayed firing restores).
    pub(crate) fn hold(&self, settings: &WatchSettings, firing: &Firing) {
        let holds = &self.authority.holds;
        match firing.step {
            Step::Alert => {}
            Step::Throttle => {
                let t = &settings.throttle;
                holds.throttle(&firing.identity, t.count, t.per, t.lasts);
            }
            Step::Quarantine => {
                holds.quarantine(
                    &firing.identity,
                    &format!("watch:{}", firing.detector.as_str()),
                );
            }
        }
    }
}
