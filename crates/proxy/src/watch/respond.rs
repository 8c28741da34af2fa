//! The responder: the watch's work that must not be on the request path.
//! It records each alert in the audit ledger (then hands it to the
//! webhook), writes quarantines the watch decided to the store (retried
//! until the store takes them; the identity is held in memory meanwhile, so
//! a store that is down fails closed), and moves identity state changes
//! made anywhere (CLI, admin API, the watch itself) from the store's outbox
//! into the ledger, releasing the detectors' memory of an identity an admin
//! reactivated.

use std::sync::{Arc, Weak};
use std::time::Duration;

use portcullis_audit::event::{ALERT, STATE};
use portcullis_audit::{Alert, Entry, StateChange as StateRecord};
use portcullis_core::IdentityState;
use portcullis_store::{ChangedBy, StateChange};
use portcullis_watch::{Firing, Step};
use tokio::sync::mpsc;

use super::webhook;
use crate::authority::ManageError;
use crate::live::Live;

/// How often held quarantines are written and the outbox is read.
const TICK: Duration = Duration::from_millis(250);
/// State changes moved to the ledger per tick.
const BATCH: u32 = 256;

/// Runs until the gateway's live state is gone.
pub(crate) async fn run(live: Weak<Live>, mut jobs: mpsc::Receiver<Firing>) {
    let (hooks, hook_queue) = mpsc::channel(webhook::QUEUE);
    tokio::spawn(webhook::run(live.clone(), hook_queue));
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            job = jobs.recv() => {
                let (Some(firing), Some(live)) = (job, live.upgrade()) else { return };
                let quarantine = firing.enforced && firing.step == Step::Quarantine;
                record_alert(&live, firing, &hooks).await;
                if quarantine {
                    persist_quarantines(&live).await;
                }
            }
            _ = tick.tick() => {
                let Some(live) = live.upgrade() else { return };
                live.authority.holds.sweep();
                persist_quarantines(&live).await;
                drain_state_changes(&live).await;
            }
        }
    }
}

fn alert_record(firing: &Firing, until_ms: Option<i64>) -> Alert {
    let e = &firing.evidence;
    Alert {
        detector: firing.detector.as_str().to_owned(),
        action: firing.step.as_str().to_owned(),
        level: firing.level,
        mode: if firing.enforced {
            "enforce"
        } else {
            "observe"
        }
        .to_owned(),
        window_ms: e.window_ms,
        count: e.count,
        threshold: e.threshold,
        baseline: e.baseline,
        since_ms: e.since_ms,
        subject: e.subject.clone(),
        samples: e.samples.clone(),
        until_ms,
    }
}

/// An entry that is not a request: no method, path or status.
pub(crate) fn event_entry(
    live: &Live,
    time_ms: i64,
    identity: &str,
    decision: &'static str,
    stage: &'static str,
) -> Entry {
    Entry {
        time_ms,
        request_id: format!(
            "{decision}-{}",
            portcullis_token::new_jti().unwrap_or_default()
        ),
        identity: Some(identity.to_owned()),
        stage: stage.into(),
        decision: decision.into(),
        snapshot: live.version(),
        ..Entry::default()
    }
}

async fn record_alert(live: &Live, firing: Firing, hooks: &mpsc::Sender<serde_json::Value>) {
    let until_ms = match (firing.step, firing.enforced, live.watch.settings()) {
        (Step::Throttle, true, Some(s)) => Some(
            firing
                .time_ms
                .saturating_add(i64::try_from(s.throttle.lasts.as_millis()).unwrap_or(i64::MAX)),
        ),
        _ => None,
    };
    let alert = alert_record(&firing, until_ms);
    let mut entry = event_entry(live, firing.time_ms, &firing.identity, ALERT, "watch");
    entry.alert = Some(alert);
    let payload = webhook::payload(&entry);
    match live.audit.record(entry).await {
        Ok(_) => {
            if hooks.try_send(payload).is_err() {
                live.metrics.webhook("dropped");
            }
        }
        Err(e) => {
            tracing::error!(identity = %firing.identity, error = %e, "a watch alert could not be recorded in the ledger")
        }
    }
}

/// Writes every quarantine held in memory to the store; one the store does
/// not take stays held, and is tried again on the next tick.
async fn persist_quarantines(live: &Live) {
    for (identity, by) in live.authority.holds.pending_quarantines() {
        let authority = Arc::clone(&live.authority);
        let id = identity.clone();
        let written = tokio::task::spawn_blocking(move || {
            let by = ChangedBy {
                by: &by,
                reason: Some(
                    "the watch's graded response reached quarantine (see the alert record)",
                ),
            };
            authority.quarantine_if_active(&id, by)
        })
        .await;
        match written {
            // Written, or no longer active (released, suspended, retired
            // since: that stands), or gone: memory need not hold it.
            Ok(Ok(_)) | Ok(Err(ManageError::NoSuchIdentity(_))) => {
                live.authority.holds.release_quarantine(&identity);
            }
            Ok(Err(ManageError::Store(portcullis_store::StoreError::NotFound(_)))) => {
                live.authority.holds.release_quarantine(&identity);
            }
            Ok(Err(e)) => {
                tracing::warn!(identity = %identity, error = %e, "the quarantine could not be written yet; the identity stays held and it is retried")
            }
            Err(e) => tracing::error!(error = %e, "writing a quarantine failed"),
        }
    }
}

/// Moves the store's pending state changes into the ledger, in order.
async fn drain_state_changes(live: &Live) {
    let store = Arc::clone(live.authority.store());
    let pending = tokio::task::spawn_blocking(move || store.pending_state_changes(BATCH)).await;
    let changes = match pending {
        Ok(Ok(changes)) => changes,
        Ok(Err(e)) => {
            tracing::debug!(error = %e, "state changes could not be read; tried again");
            return;
        }
        Err(_) => return,
    };
    let mut recorded = None;
    for change in &changes {
        if live.audit.record(state_entry(live, change)).await.is_err() {
            break;
        }
        recorded = Some(change.seq);
        if change.to == IdentityState::Active {
            // Released by someone: the detectors start again from nothing,
            // and a throttle set before the release ends (one the watch set
            // since stands; a quarantine held in memory is the watch's
            // newer decision, written only if the identity is still active).
            live.watch.engine().release(&change.identity);
            let released_ms = change.time.saturating_add(1).saturating_mul(1_000);
            live.authority
                .holds
                .release_throttle_before(&change.identity, released_ms);
        }
    }
    if let Some(seq) = recorded {
        let store = Arc::clone(live.authority.store());
        let marked =
            tokio::task::spawn_blocking(move || store.mark_state_changes_recorded(seq)).await;
        if !matches!(marked, Ok(Ok(()))) {
            tracing::warn!(
                "recorded state changes could not be marked; they may be recorded twice"
            );
        }
    }
}

fn state_entry(live: &Live, change: &StateChange) -> Entry {
    let mut entry = event_entry(
        live,
        change.time.saturating_mul(1000),
        &change.identity,
        STATE,
        "identity",
    );
    entry.state_change = Some(StateRecord {
        from: change.from.map(|s| s.as_str().to_owned()),
        to: change.to.as_str().to_owned(),
        by: change.by.clone(),
        reason: change.reason.clone(),
    });
    entry
}
