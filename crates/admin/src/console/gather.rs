//! What the console's pages show, read from the store, the ledger and the
//! snapshot. Blocking: callers run these on a blocking thread. A store or
//! ledger fault is `unavailable`, never a page drawn from part of what it
//! asked for (a record that does not parse as one is left out).

use std::collections::BTreeMap;

use portcullis_console::alerts::settle;
use portcullis_console::view::{
    AlertRow, ChainRow, CredentialView, IdentityRow, MatrixRow, entry, span, when,
};
use portcullis_core::Identity;
use portcullis_proxy::Observer;
use portcullis_proxy::authority::Authority;
use portcullis_store::ledger::{Filter, Ledger, MAX_PAGE};
use portcullis_store::{Credential, CredentialKind};
use serde_json::Value;

use crate::refusal::Refusal;

/// The most records a chart folds: past it, the chart says it shows the
/// latest this many.
pub(super) const CHART_RECORDS: usize = 5_000;
/// The most alerts (and the state changes and acknowledgements that
/// settle them) read for the alerts page and the open-alert counts.
const ALERT_RECORDS: u32 = MAX_PAGE;
/// The most identities the inventory lists.
pub(super) const INVENTORY_ROWS: usize = 1_000;

fn ledger_fault(e: impl std::fmt::Display) -> Refusal {
    tracing::error!(error = %e, "the audit ledger could not be read for the console");
    Refusal::unavailable()
}

fn store_fault(e: impl std::fmt::Display) -> Refusal {
    tracing::error!(error = %e, "the identity store could not be read for the console");
    Refusal::unavailable()
}

pub(super) fn open_ledger(observer: &Observer) -> Result<Ledger, Refusal> {
    Ledger::open_reader(observer.ledger()).map_err(ledger_fault)
}

/// Records matching `filter`, newest first, paging until `max`.
pub(super) fn records(
    ledger: &Ledger,
    mut filter: Filter,
    max: usize,
) -> Result<Vec<Value>, Refusal> {
    let mut out = Vec::new();
    loop {
        filter.limit = u32::try_from(max - out.len())
            .unwrap_or(MAX_PAGE)
            .min(MAX_PAGE);
        let page = ledger.query(&filter).map_err(ledger_fault)?;
        out.extend(page.records);
        match page.next {
            Some(next) if out.len() < max => filter.before_seq = Some(next),
            _ => return Ok(out),
        }
    }
}

/// The latest alerts (about `identity`, when given), each with what became
/// of it (`portcullis_console::alerts::settle`).
pub(super) fn alerts(ledger: &Ledger, identity: Option<&str>) -> Result<Vec<AlertRow>, Refusal> {
    let read = |decision: &str| {
        let filter = Filter {
            identity: identity.map(str::to_owned),
            decision: Some(decision.to_owned()),
            ..Filter::default()
        };
        records(ledger, filter, ALERT_RECORDS as usize)
    };
    let alerts = read(portcullis_audit::event::ALERT)?;
    let changes = read(portcullis_audit::event::STATE)?;
    let acks = read(portcullis_audit::event::ACK)?;
    Ok(settle(&alerts, &changes, &acks))
}

/// Open alerts per identity.
pub(super) fn open_alerts(rows: &[AlertRow]) -> BTreeMap<String, u64> {
    let mut open = BTreeMap::new();
    for row in rows.iter().filter(|r| r.status == "open") {
        *open.entry(row.identity.clone()).or_default() += 1;
    }
    open
}

/// When `identity` last made a request the ledger holds (seconds), among
/// its latest records (the watch's own records about it are not requests).
pub(super) fn last_request(ledger: &Ledger, identity: &str) -> Result<Option<i64>, Refusal> {
    let filter = Filter {
        identity: Some(identity.to_owned()),
        limit: 16,
        ..Filter::default()
    };
    Ok(ledger
        .query(&filter)
        .map_err(ledger_fault)?
        .records
        .iter()
        .filter_map(entry)
        .find(portcullis_audit::Entry::is_request)
        .map(|e| e.time_ms / 1000))
}

/// An identity with its credentials, as the console shows it; `seen` is
/// its last request in the ledger, which the store's `last_used` (written
/// at most once a minute) may lag.
pub(super) fn identity_row(
    identity: &Identity,
    credentials: &[Credential],
    now: i64,
    open: u64,
    seen: Option<i64>,
) -> IdentityRow {
    IdentityRow {
        id: identity.id.clone(),
        kind: identity.kind.as_str().to_owned(),
        owner: identity.owner.clone(),
        environment: identity.environment.clone(),
        state: identity.state.as_str().to_owned(),
        tags: identity.tags.clone(),
        scopes: identity.scopes.clone(),
        created: when(Some(identity.created)),
        expires: when(identity.expires),
        last_seen: identity
            .last_used
            .max(seen)
            .map_or_else(|| "never".to_owned(), |t| format!("{} ago", span(now - t))),
        credentials: credentials
            .iter()
            .map(|c| CredentialView {
                id: c.id.clone(),
                kind: c.kind.as_str().to_owned(),
                label: c.label.clone().unwrap_or_default(),
                age: span(now - c.created),
                expires: when(Some(c.expires)),
                status: if c.revoked.is_some() {
                    "revoked"
                } else if c.is_usable(now) {
                    "usable"
                } else {
                    "expired"
                }
                .to_owned(),
                rotatable: matches!(
                    c.kind,
                    CredentialKind::ApiKey | CredentialKind::ClientSecret
                ),
            })
            .collect(),
        open_alerts: open,
    }
}

/// The inventory, sorted by id, at most [`INVENTORY_ROWS`], and how many
/// there are in all.
pub(super) fn inventory(
    authority: &Authority,
    ledger: &Ledger,
    open: &BTreeMap<String, u64>,
) -> Result<(Vec<IdentityRow>, usize), Refusal> {
    let store = authority.store();
    let mut identities = store.list_identities().map_err(store_fault)?;
    identities.sort_by(|a, b| a.id.cmp(&b.id));
    let total = identities.len();
    let now = authority.now();
    let rows = identities
        .iter()
        .take(INVENTORY_ROWS)
        .map(|i| {
            let credentials = store.list_credentials(&i.id).map_err(store_fault)?;
            let seen = last_request(ledger, &i.id)?;
            Ok(identity_row(
                i,
                &credentials,
                now,
                open.get(&i.id).copied().unwrap_or(0),
                seen,
            ))
        })
        .collect::<Result<Vec<_>, Refusal>>()?;
    Ok((rows, total))
}

/// Each operation of every API and whether `identity` may call it: its
/// scopes first (what the gateway checks first), then the policies.
pub(super) fn matrix(observer: &Observer, identity: &Identity) -> Vec<MatrixRow> {
    let snapshot = observer.snapshot();
    let policies = snapshot.policy_store();
    let mut rows = Vec::new();
    for api in snapshot.api_configs() {
        for op in api.contract.operations() {
            let reach = if op.check_scopes(&identity.scopes).is_err() {
                "scope"
            } else {
                match policies.reach(identity, &api.name, &op.id) {
                    Ok(portcullis_policy::Reach::Always) => "always",
                    Ok(portcullis_policy::Reach::Sometimes) => "sometimes",
                    Ok(portcullis_policy::Reach::Never) | Err(_) => "never",
                }
            };
            rows.push(MatrixRow {
                api: api.name.clone(),
                operation: op.id.clone(),
                method: op.method.as_str().to_owned(),
                path: format!("{}{}", api.mount, op.path),
                reach: reach.to_owned(),
            });
        }
    }
    rows
}

/// Each chain of the ledger: its last record, head and last checkpoint, with
/// `verified`'s outcome for it when there is one.
pub(super) fn chains(
    ledger: &Ledger,
    verified: Option<&[(Option<String>, String, String)]>,
) -> Result<Vec<ChainRow>, Refusal> {
    let mut rows = Vec::new();
    for node in ledger.nodes().map_err(ledger_fault)? {
        let narrowed = node.as_deref().and_then(|n| ledger.narrowed(n));
        let chain = narrowed.as_ref().unwrap_or(ledger);
        let (head, hash) = chain.head().map_err(ledger_fault)?;
        // The newest checkpoint alone (one indexed row), not all of them.
        let checkpoint = chain
            .checkpoint_before(i64::MAX)
            .map_err(ledger_fault)?
            .map_or_else(
                || "none yet".to_owned(),
                |(seq, _)| format!("covers record {seq}"),
            );
        let (status, detail) = verified
            .and_then(|v| v.iter().find(|(n, _, _)| *n == node))
            .map_or_else(
                || ("not verified yet".to_owned(), String::new()),
                |(_, s, d)| (s.clone(), d.clone()),
            );
        rows.push(ChainRow {
            node: node.unwrap_or_else(|| "this gateway".to_owned()),
            last: head,
            head: hash.to_hex().chars().take(16).collect(),
            checkpoint,
            status,
            detail,
        });
    }
    Ok(rows)
}
