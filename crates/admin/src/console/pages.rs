//! The console's pages: each gathers on a blocking thread (the store and
//! the ledger are synchronous), then renders.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::Extension;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::response::Response;
use portcullis_console::pages::{
    self as page, ALERT_STATUSES, Chrome, DECISIONS, DecisionFilters, RiskRow, Tab,
};
use portcullis_console::series::{Point, per_identity, per_minute};
use portcullis_console::view::{DecisionRow, StateAction};
use portcullis_console::{chart, pages::render};
use portcullis_proxy::Observer;
use portcullis_store::ledger::Filter;
use serde::Deserialize;

use super::gate::Console;
use super::gather::{self, CHART_RECORDS, INVENTORY_ROWS, open_ledger, records};
use super::{ConsoleState, html, page_failed};
use crate::refusal::Refusal;

/// Minutes the charts cover.
const MINUTES: usize = 60;
/// Rows of the live decisions, and of an identity's recent decisions.
const DECISION_ROWS: usize = 50;
const RECENT_ROWS: usize = 20;

pub(super) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .ok()
        .and_then(|d| i64::try_from(d.as_millis()).ok())
        .unwrap_or_default()
}

/// Runs `work` on a blocking thread; a lost task is 503.
pub(super) async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, Refusal> + Send + 'static,
) -> Result<T, Refusal> {
    tokio::task::spawn_blocking(work)
        .await
        .unwrap_or_else(|_| Err(Refusal::unavailable()))
}

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
    match render(page) {
        Ok(body) => html(body),
        Err(_) => page_failed(),
    }
}

/// Only `done`, the action just taken.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Done {
    done: Option<String>,
}

fn query<T: Default>(query: Result<Query<T>, QueryRejection>) -> Result<T, Refusal> {
    query
        .map(|Query(q)| q)
        .map_err(|e| Refusal::invalid_at("/query", e.body_text()))
}

pub(super) async fn overview(
    State(state): State<ConsoleState>,
    Extension(console): Extension<Console>,
    q: Result<Query<Done>, QueryRejection>,
) -> Result<Response, Refusal> {
    let done = query(q)?.done;
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
            chrome: chrome(&console, Tab::Overview, done.as_deref()),
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
    Extension(console): Extension<Console>,
    q: Result<Query<Done>, QueryRejection>,
) -> Result<Response, Refusal> {
    let done = query(q)?.done;
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
        let mut notice = chrome(&console, Tab::Inventory, done.as_deref());
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
    Extension(console): Extension<Console>,
    crate::extract::IdentityPath(id): crate::extract::IdentityPath,
    q: Result<Query<Done>, QueryRejection>,
) -> Result<Response, Refusal> {
    let done = query(q)?.done;
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
            chrome: chrome(&console, Tab::Inventory, done.as_deref()),
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

/// The live decisions' filters as the query gives them.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct DecisionsQuery {
    #[serde(default)]
    identity: String,
    #[serde(default)]
    api: String,
    #[serde(default)]
    operation: String,
    #[serde(default)]
    decision: String,
    #[serde(default)]
    code: String,
    /// `0` pauses the refresh.
    live: Option<String>,
}

impl DecisionsQuery {
    fn filter(&self) -> Result<Filter, Refusal> {
        if !DECISIONS.contains(&self.decision.as_str()) {
            return Err(Refusal::invalid_at(
                "/query/decision",
                "must be allow, deny, observe, alert, state or ack",
            ));
        }
        let given = |v: &String| (!v.trim().is_empty()).then(|| v.trim().to_owned());
        Ok(Filter {
            identity: given(&self.identity),
            api: given(&self.api),
            operation: given(&self.operation),
            decision: given(&self.decision),
            code: given(&self.code),
            ..Filter::default()
        })
    }

    fn url(&self, path: &str, live: bool) -> String {
        let mut q = form_urlencoded::Serializer::new(String::new());
        for (name, value) in [
            ("identity", &self.identity),
            ("api", &self.api),
            ("operation", &self.operation),
            ("decision", &self.decision),
            ("code", &self.code),
        ] {
            if !value.is_empty() {
                q.append_pair(name, value);
            }
        }
        if !live {
            q.append_pair("live", "0");
        }
        let q = q.finish();
        if q.is_empty() {
            path.to_owned()
        } else {
            format!("{path}?{q}")
        }
    }
}

async fn decision_records(
    state: &ConsoleState,
    filter: Filter,
) -> Result<Vec<DecisionRow>, Refusal> {
    let observer = observer(state)?;
    blocking(move || {
        let ledger = open_ledger(&observer)?;
        Ok(records(&ledger, filter, DECISION_ROWS)?
            .iter()
            .filter_map(DecisionRow::of)
            .collect())
    })
    .await
}

pub(super) async fn decisions(
    State(state): State<ConsoleState>,
    Extension(console): Extension<Console>,
    q: Result<Query<DecisionsQuery>, QueryRejection>,
) -> Result<Response, Refusal> {
    let q = query(q)?;
    let rows = decision_records(&state, q.filter()?).await?;
    let live = q.live.as_deref() != Some("0");
    Ok(show(&page::Decisions {
        chrome: chrome(&console, Tab::Decisions, None),
        filters: DecisionFilters {
            identity: q.identity.clone(),
            api: q.api.clone(),
            operation: q.operation.clone(),
            decision: q.decision.clone(),
            code: q.code.clone(),
        },
        decisions: DECISIONS,
        rows,
        page: DECISION_ROWS as u32,
        live,
        rows_url: q.url("/console/decisions/rows", true),
        pause_url: q.url("/console/decisions", false),
        resume_url: q.url("/console/decisions", true),
    }))
}

pub(super) async fn decision_rows(
    State(state): State<ConsoleState>,
    q: Result<Query<DecisionsQuery>, QueryRejection>,
) -> Result<Response, Refusal> {
    let q = query(q)?;
    let rows = decision_records(&state, q.filter()?).await?;
    Ok(show(&page::DecisionFragment { rows }))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct AlertsQuery {
    #[serde(default)]
    identity: String,
    #[serde(default)]
    status: String,
    done: Option<String>,
}

pub(super) async fn alerts(
    State(state): State<ConsoleState>,
    Extension(console): Extension<Console>,
    q: Result<Query<AlertsQuery>, QueryRejection>,
) -> Result<Response, Refusal> {
    let q = query(q)?;
    if !ALERT_STATUSES.contains(&q.status.as_str()) {
        return Err(Refusal::invalid_at(
            "/query/status",
            "must be open, acknowledged or released",
        ));
    }
    let observer = observer(&state)?;
    let identity = q.identity.trim().to_owned();
    let rows = blocking(move || {
        let ledger = open_ledger(&observer)?;
        gather::alerts(&ledger, (!identity.is_empty()).then_some(identity.as_str()))
    })
    .await?;
    let count = |s: &str| rows.iter().filter(|r| r.status == s).count();
    let (open, acknowledged, released) = (count("open"), count("acknowledged"), count("released"));
    let rows = rows
        .into_iter()
        .filter(|r| q.status.is_empty() || r.status == q.status)
        .collect();
    Ok(show(&page::Alerts {
        chrome: chrome(&console, Tab::Alerts, q.done.as_deref()),
        identity: q.identity,
        status: q.status,
        statuses: ALERT_STATUSES,
        rows,
        open,
        acknowledged,
        released,
    }))
}

pub(super) async fn posture(
    State(state): State<ConsoleState>,
    Extension(console): Extension<Console>,
    q: Result<Query<Done>, QueryRejection>,
) -> Result<Response, Refusal> {
    let done = query(q)?.done;
    let observer = observer(&state)?;
    let mut report = crate::routes::posture_report(observer, Default::default(), None).await?;
    report
        .findings
        .sort_by_key(|f| std::cmp::Reverse(f.severity));
    let risks = portcullis_posture::Nhi::ALL
        .iter()
        .map(|nhi| {
            let found: Vec<_> = report
                .findings
                .iter()
                .filter(|f| f.nhi == nhi.id())
                .collect();
            RiskRow {
                id: nhi.id(),
                title: nhi.title(),
                count: found.len(),
                highest: found
                    .iter()
                    .map(|f| f.severity)
                    .max()
                    .map_or("none", |s| s.as_str()),
            }
        })
        .collect();
    Ok(show(&page::Posture {
        chrome: chrome(&console, Tab::Posture, done.as_deref()),
        generated: portcullis_console::view::when(Some(report.generated)),
        window_days: report.window_days,
        risks,
        findings: report.findings,
        not_assessed: report.not_assessed,
    }))
}

pub(super) async fn audit(
    State(state): State<ConsoleState>,
    Extension(console): Extension<Console>,
    q: Result<Query<Done>, QueryRejection>,
) -> Result<Response, Refusal> {
    let done = query(q)?.done;
    let observer = observer(&state)?;
    let verified = state.verified.lock().map(|v| v.clone()).unwrap_or_default();
    let location = match observer.ledger() {
        portcullis_store::ledger::Location::File(path) => format!("SQLite file {}", path.display()),
        portcullis_store::ledger::Location::Memory(_) => "in memory (this process only)".to_owned(),
        portcullis_store::ledger::Location::Postgres { .. } => {
            "PostgreSQL: one chain per node of the fleet".to_owned()
        }
    };
    let page = blocking(move || {
        let ledger = open_ledger(&observer)?;
        let chains = gather::chains(&ledger, verified.as_ref().map(|(_, v)| v.as_slice()))?;
        Ok(page::Audit {
            chrome: chrome(&console, Tab::Audit, done.as_deref()),
            location,
            chains,
            verified_at: verified.map(|(at, _)| at),
        })
    })
    .await?;
    Ok(show(&page))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ReportQuery {
    #[serde(default)]
    format: String,
}

/// The posture report as a file to keep: SARIF, JSON or the
/// self-contained HTML page (a download, so its own inline style never
/// runs under the console's policy).
pub(super) async fn posture_report(
    State(state): State<ConsoleState>,
    q: Result<Query<ReportQuery>, QueryRejection>,
) -> Result<Response, Refusal> {
    use axum::response::IntoResponse;
    use portcullis_posture::render;
    let format = query(q)?.format;
    let observer = observer(&state)?;
    let report = crate::routes::posture_report(observer, Default::default(), None).await?;
    let (body, content_type, file) = match format.as_str() {
        "sarif" => (
            render::sarif(&report),
            "application/sarif+json",
            "posture.sarif",
        ),
        "json" => (render::json(&report), "application/json", "posture.json"),
        "html" => (
            render::html(&report),
            "text/html; charset=utf-8",
            "posture.html",
        ),
        _ => {
            return Err(Refusal::invalid_at(
                "/query/format",
                "must be sarif, json or html",
            ));
        }
    };
    Ok((
        [
            (http::header::CONTENT_TYPE, content_type.to_owned()),
            (
                http::header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file}\""),
            ),
        ],
        body,
    )
        .into_response())
}

/// The largest verify report read.
const MAX_REPORT: u64 = 16 * 1024 * 1024;

pub(super) async fn verify_report(
    State(state): State<ConsoleState>,
    Extension(console): Extension<Console>,
    q: Result<Query<Done>, QueryRejection>,
) -> Result<Response, Refusal> {
    use portcullis_console::pages::ReportState;
    use portcullis_console::verify::VerifyReport;
    let done = query(q)?.done;
    let observer = observer(&state)?;
    let path = observer
        .snapshot()
        .verify_report()
        .map(std::path::Path::to_path_buf);
    let state = blocking(move || {
        let Some(path) = path else {
            return Ok(ReportState::NotConfigured);
        };
        let shown = path.display().to_string();
        let meta = match std::fs::metadata(&path) {
            Ok(meta) => meta,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(ReportState::Missing(shown));
            }
            Err(e) => {
                tracing::warn!(path = %shown, error = %e, "the verify report could not be read");
                return Ok(ReportState::Unreadable(shown));
            }
        };
        let report = read_bounded(&path)
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .and_then(|doc| VerifyReport::from_json(&doc));
        let written = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .and_then(|d| i64::try_from(d.as_secs()).ok());
        Ok(match report {
            Some(report) => ReportState::Shown(
                shown,
                portcullis_console::view::when(written),
                Box::new(report),
            ),
            None => ReportState::Unreadable(shown),
        })
    })
    .await?;
    Ok(show(&page::Verify {
        chrome: chrome(&console, Tab::Verify, done.as_deref()),
        state,
    }))
}

/// A regular file's bytes, at most [`MAX_REPORT`] of them; `None` for
/// anything else (a larger file, a pipe, a device, an unreadable file).
fn read_bounded(path: &std::path::Path) -> Option<Vec<u8>> {
    use std::io::Read as _;
    let file = std::fs::File::open(path).ok()?;
    if !file.metadata().ok()?.is_file() {
        return None;
    }
    let mut bytes = Vec::new();
    file.take(MAX_REPORT + 1).read_to_end(&mut bytes).ok()?;
    (bytes.len() as u64 <= MAX_REPORT).then_some(bytes)
}
