//! The overview, the inventory and one identity's page, and what every
//! page shares: each gathers on a blocking thread (the store and the
//! ledger are synchronous), then renders.

use std::sync::Arc;

use axum::extract::rejection::QueryRejection;
use axum::extract::{FromRequestParts, Query, State};
use axum::response::Response;
use http::request::Parts;
use portcullis_console::chart;
use portcullis_console::pages::{self as page, Chrome, Tab};
use portcullis_console::series::{Point, per_identity, per_minute};
use portcullis_console::view::{DecisionRow, StateAction};
use portcullis_proxy::Observer;
use portcullis_store::ledger::Filter;
use portcullis_store::ledger::writer::now_ms;
use serde::Deserialize;

use super::gate::Console;
use super::gather::{self, CHART_RECORDS, INVENTORY_ROWS, open_ledger, records};
use super::{ConsoleState, html, page_failed};
use crate::refusal::Refusal;

/// Minutes the charts cover.
const MINUTES: usize = 60;
/// Rows of an identity's recent decisions.
const RECENT_ROWS: usize = 20;

pub(super) use crate::routes::off_thread as blocking;

pub(super) fn observer(state: &ConsoleState) -> Result<Observer, Refusal> {
    state.observer.clone().ok_or_else(crate::routes::no_gateway)
}

pub(super) fn chrome(console: &Console, tab: Tab, done: Option<&str>) -> Chrome {
    Chrome {
        admin: console.session.admin.clone(),
        csrf: console.session.csrf.clone(),
        tab,
        notice: done.and_then(notice).map(str::to_owned),
    }
}

/// The line shown after an action: fixed text for each, never an echo.
fn notice(done: &str) -> Option<&'static str> {
    Some(match done {
        "suspend" => "Suspended: its next request is refused.",
        "resume" => "Resumed: it may call again within its policies.",
        "quarantine" => "Quarantined: its next request is refused.",
        "retire" => "Retired.",
        "revoke" => "Revoked: the credential no longer authenticates.",
        "acknowledge" => "Acknowledged: recorded in the audit ledger.",
        "settled" => "That alert was already acknowledged or released: nothing was recorded.",
        "verifying" => "A verification is already running: its outcome shows here when it ends.",
        "verify" => "The ledger was verified: each chain's outcome is below.",
        _ => return None,
    })
}

pub(super) fn show(page: &impl askama::Template) -> Response {
    // A template that fails to render is a fault: 503, never a half page.
    match page.render() {
        Ok(body) => html(body),
        Err(_) => page_failed(),
    }
}

/// Only `done`, the action just taken.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Done {
    done: Option<String>,
}

/// A signed-in page's request: who (the gate put it there) and the action
/// just taken (`?done=`, the only query these pages take).
#[derive(Debug)]
pub(super) struct Seen {
    console: Console,
    done: Option<String>,
}

impl Seen {
    /// The page's chrome, in section `tab`.
    pub(super) fn chrome(&self, tab: Tab) -> Chrome {
        chrome(&self.console, tab, self.done.as_deref())
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Seen {
    type Rejection = Refusal;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Refusal> {
        // Only the gate puts a `Console` there: without one, nothing is shown.
        let console = parts
            .extensions
            .get::<Console>()
            .cloned()
            .ok_or_else(Refusal::unavailable)?;
        let Done { done } = query(Query::from_request_parts(parts, state).await)?;
        Ok(Self { console, done })
    }
}

pub(super) fn query<T: Default>(query: Result<Query<T>, QueryRejection>) -> Result<T, Refusal> {
    query
        .map(|Query(q)| q)
        .map_err(|e| Refusal::invalid_at("/query", e.body_text()))
}

pub(super) async fn overview(
    State(state): State<ConsoleState>,
    seen: Seen,
) -> Result<Response, Refusal> {
    let observer = observer(&state)?;
    let page = blocking(move || {
        let ledger = open_ledger(&observer)?;
        let now = now_ms();
        let filter = Filter {
            since_ms: Some(now - i64::try_from(MINUTES).unwrap_or(60) * 60_000),
            ..Filter::default()
        };
        let recent = records(&ledger, filter, CHART_RECORDS)?;
        let points: Vec<Point> = recent.iter().filter_map(Point::of).collect();
        let minutes = per_minute(points.iter().copied(), now, MINUTES);
        let identities = per_identity(points.iter().copied(), 12);
        let refused = points.iter().filter(|p| p.code.is_some()).count() as u64;
        let alerts = gather::alerts(&ledger, None)?;
        Ok(page::Overview {
            chrome: seen.chrome(Tab::Overview),
            minutes: MINUTES,
            note: (recent.len() >= CHART_RECORDS)
                .then(|| format!("the latest {CHART_RECORDS} records")),
            total: points.len() as u64,
            allowed: points.len() as u64 - refused,
            refused,
            open_alerts: alerts.iter().filter(|a| a.status == "open").count() as u64,
            requests_svg: chart::requests(&minutes),
            latency_svg: chart::latency(&minutes),
            identities_svg: chart::identities(&identities),
        })
    })
    .await?;
    Ok(show(&page))
}

pub(super) async fn inventory(
    State(state): State<ConsoleState>,
    seen: Seen,
) -> Result<Response, Refusal> {
    let observer = observer(&state)?;
    let authority = Arc::clone(&state.authority);
    let page = blocking(move || {
        let ledger = open_ledger(&observer)?;
        let open = gather::open_alerts(&gather::alerts(&ledger, None)?);
        let (rows, total) = gather::inventory(&authority, &ledger, &open)?;
        let mut counts: std::collections::BTreeMap<String, usize> = Default::default();
        for row in &rows {
            *counts.entry(row.state.clone()).or_default() += 1;
        }
        let mut notice = seen.chrome(Tab::Inventory);
        if total > INVENTORY_ROWS {
            notice.notice = Some(format!(
                "Showing the first {INVENTORY_ROWS} of {total} identities, by id."
            ));
        }
        Ok(page::Inventory {
            chrome: notice,
            rows,
            counts: counts.into_iter().collect(),
            actions: StateAction::ALL,
        })
    })
    .await?;
    Ok(show(&page))
}

pub(super) async fn identity(
    State(state): State<ConsoleState>,
    crate::extract::IdentityPath(id): crate::extract::IdentityPath,
    seen: Seen,
) -> Result<Response, Refusal> {
    let observer = observer(&state)?;
    let authority = Arc::clone(&state.authority);
    let page = blocking(move || {
        let store = authority.store();
        let identity = store
            .get_identity(&id)
            .map_err(|e| crate::refusal::store(e, "/path/id"))?
            .ok_or_else(|| {
                Refusal::invalid_at("/path/id", format!("identity `{id}` does not exist"))
            })?;
        let credentials = store
            .list_credentials(&id)
            .map_err(|e| crate::refusal::store(e, "/path/id"))?;
        let ledger = open_ledger(&observer)?;
        let open = gather::alerts(&ledger, Some(&id))?
            .iter()
            .filter(|a| a.status == "open")
            .count() as u64;
        let now = now_ms();
        let mine = Filter {
            identity: Some(id.clone()),
            since_ms: Some(now - i64::try_from(MINUTES).unwrap_or(60) * 60_000),
            ..Filter::default()
        };
        let usage = records(&ledger, mine.clone(), CHART_RECORDS)?;
        let minutes = per_minute(usage.iter().filter_map(Point::of), now, MINUTES);
        let recent = records(
            &ledger,
            Filter {
                since_ms: None,
                ..mine
            },
            RECENT_ROWS,
        )?;
        Ok(page::IdentityPage {
            chrome: seen.chrome(Tab::Inventory),
            row: gather::identity_row(
                &identity,
                &credentials,
                authority.now(),
                open,
                gather::last_request(&ledger, &identity.id)?,
            ),
            actions: StateAction::ALL,
            matrix: gather::matrix(&observer, &identity),
            minutes: MINUTES,
            usage_svg: chart::requests(&minutes),
            rows: recent.iter().filter_map(DecisionRow::of).collect(),
        })
    })
    .await?;
    Ok(show(&page))
}
