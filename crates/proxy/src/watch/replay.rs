//! Rebuilding the detectors' state at start: the ledger's records of the
//! last `watch.history` (at most the newest [`MAX_RECORDS`]) are fed to the
//! same detectors in order, so windows, baselines, what each identity has
//! done before and how far up its ladder it is come back after a restart.
//! What a replayed firing asked for is restored only where memory is the
//! only place it lives: a throttle still running, and a quarantine the
//! process decided but died before writing (no release after it in the
//! ledger or waiting in the store's outbox, and the store still has the
//! identity active): held again, and written by the responder. A
//! state-change record that reactivated an identity releases it here as it
//! did live.
//!
//! Not everything comes back: MCP calls' record ids are not in the ledger
//! (enumeration over MCP starts afresh), and a history cut at
//! [`MAX_RECORDS`] starts novelty's warm-up again for identities whose
//! first records were cut (quiet rather than noisy).

use std::collections::HashMap;
use std::net::SocketAddr;

use portcullis_audit::event::{ALERT, STATE};
use portcullis_config::Config;
use portcullis_store::ledger::{Ledger, LedgerError};
use portcullis_watch::{Observation, Step};

use super::{Watcher, reads_single_record};

/// The most records read back at start (about two seconds of reading).
const MAX_RECORDS: u64 = 200_000;
const PAGE: u32 = 2_000;

/// Replays the ledger into `watcher`; returns how many records were read.
///
/// # Errors
/// The ledger cannot be read (the gateway starts without the history, and
/// says so).
pub(crate) fn replay(
    watcher: &Watcher,
    ledger: &Ledger,
    config: &Config,
    now_ms: i64,
) -> Result<u64, LedgerError> {
    let Some(settings) = watcher.settings() else {
        return Ok(0);
    };
    let history = i64::try_from(settings.history.as_millis()).unwrap_or(i64::MAX);
    let Some(first) = ledger.first_since(now_ms.saturating_sub(history))? else {
        return Ok(0);
    };
    let (head, _) = ledger.head()?;
    let mut after = first
        .saturating_sub(1)
        .max(head.saturating_sub(MAX_RECORDS));
    let mut single: HashMap<(String, String), bool> = HashMap::new();
    // Quarantines decided in the window and not released since: identity
    // -> (who decided, when).
    let mut decided: HashMap<String, (String, i64)> = HashMap::new();
    let mut read = 0;
    loop {
        let page = ledger.records_after(after, PAGE)?;
        let Some(last) = page.last() else { break };
        after = last.seq;
        for sealed in &page {
            read += 1;
            let Ok(body) = sealed.decode() else { continue };
            let e = &body.entry;
            let Some(identity) = e.identity.as_deref() else {
                continue;
            };
            match e.decision.as_ref() {
                ALERT => continue,
                STATE => {
                    if e.state_change.as_ref().is_some_and(|c| c.to == "active") {
                        watcher.engine().release(identity);
                        watcher.authority.holds.release_throttle(identity);
                        decided.remove(identity);
                    }
                    continue;
                }
                // Acknowledgements and credential changes are no traffic.
                _ if !e.is_request() => continue,
                _ => {}
            }
            let item = match (&e.api, &e.operation, &e.mcp) {
                (Some(api), Some(op), None) => {
                    let reads_one = *single
                        .entry((api.clone(), op.clone()))
                        .or_insert_with(|| single_record(config, api, op));
                    let path = e.path.split('?').next().unwrap_or("");
                    reads_one.then(|| path.rsplit('/').next()).flatten()
                }
                _ => None,
            };
            let kind = watcher.kind_of(&settings, identity);
            let obs = Observation {
                time_ms: e.time_ms,
                identity,
                kind,
                api: e.api.as_deref(),
                operation: e.operation.as_deref(),
                code: e.code.as_deref().or(e.observed.as_deref()),
                address: e.source.parse::<SocketAddr>().ok().map(|a| a.ip()),
                item,
            };
            for firing in watcher.engine().observe(&settings, &obs) {
                if firing.enforced && firing.step == Step::Quarantine {
                    let by = format!("watch:{}", firing.detector.as_str());
                    decided.insert(identity.to_owned(), (by, firing.time_ms));
                }
                let lasts = i64::try_from(settings.throttle.lasts.as_millis()).unwrap_or(i64::MAX);
                let left = firing.time_ms.saturating_add(lasts).saturating_sub(now_ms);
                if firing.enforced && firing.step == Step::Throttle && left > 0 {
                    let t = &settings.throttle;
                    let left = std::time::Duration::from_millis(u64::try_from(left).unwrap_or(0));
                    watcher
                        .authority
                        .holds
                        .throttle(identity, t.count, t.per, left);
                }
            }
        }
    }
    hold_unwritten(watcher, decided);
    Ok(read)
}

/// Holds again the quarantines decided before the restart that the store
/// never got: still active there, and no release since in its outbox.
fn hold_unwritten(watcher: &Watcher, decided: HashMap<String, (String, i64)>) {
    if decided.is_empty() {
        return;
    }
    let store = watcher.authority.store();
    let Ok(pending) = store.pending_state_changes(10_000) else {
        return;
    };
    for (identity, (by, at_ms)) in decided {
        let released_since = pending
            .iter()
            .any(|c| c.identity == identity && c.time.saturating_mul(1_000) >= at_ms - 1_000);
        let active = matches!(
            store.get_identity(&identity),
            Ok(Some(i)) if i.state == portcullis_core::IdentityState::Active
        );
        if active && !released_since {
            watcher.authority.holds.quarantine(&identity, &by);
        }
    }
}

fn single_record(config: &Config, api: &str, operation: &str) -> bool {
    config
        .apis
        .iter()
        .filter(|a| a.name == api)
        .flat_map(|a| a.contract.operations())
        .any(|o| o.id == operation && reads_single_record(o))
}
