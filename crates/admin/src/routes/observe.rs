//! What operators and their tools read: `/healthz` (alive), `/readyz`
//! (ready to serve), `/metrics` (Prometheus), answered without a credential
//! because probes and scrapers have none and these name no identity; and
//! `GET /admin/v1/decisions`, the audit ledger queried, which needs the
//! admin credential like every `/admin/v1` route.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use http::{StatusCode, header};
use portcullis_core::{FieldError, ProblemCode};
use portcullis_proxy::Observer;
use portcullis_store::ledger::{Filter, Ledger};
use serde::Deserialize;
use serde_json::json;

use crate::refusal::Refusal;

/// Page size when none is asked for.
const DEFAULT_PAGE: u32 = 50;

pub(super) async fn healthz() -> Response {
    Json(json!({ "status": "alive" })).into_response()
}

pub(super) async fn readyz(State(observer): State<Option<Observer>>) -> Result<Response, Refusal> {
    let observer = observer.ok_or_else(no_gateway)?;
    match observer.ready().await {
        Ok(degraded) if degraded.is_empty() => {
            Ok(Json(json!({ "status": "ready" })).into_response())
        }
        Ok(degraded) => {
            Ok(Json(json!({ "status": "ready", "degraded": degraded })).into_response())
        }
        Err(problems) => Err(Refusal::new(
            ProblemCode::Unavailable,
            format!("not ready: {}", problems.join("; ")),
        )),
    }
}

pub(super) async fn metrics(State(observer): State<Option<Observer>>) -> Result<Response, Refusal> {
    let observer = observer.ok_or_else(no_gateway)?;
    Ok((
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        observer.metrics(),
    )
        .into_response())
}

/// `GET /admin/v1/decisions` query parameters.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct DecisionsQuery {
    identity: Option<String>,
    /// Whom a delegated request acted for (the subject token's `sub`).
    person: Option<String>,
    api: Option<String>,
    operation: Option<String>,
    decision: Option<String>,
    code: Option<String>,
    /// RFC 3339, inclusive.
    since: Option<String>,
    /// RFC 3339, exclusive.
    until: Option<String>,
    /// At most 500; more is served as 500.
    limit: Option<u32>,
    /// The `next` of the previous page.
    before: Option<u64>,
}

pub(super) async fn decisions(
    State(observer): State<Option<Observer>>,
    query: Result<Query<DecisionsQuery>, QueryRejection>,
) -> Result<Response, Refusal> {
    let observer = observer.ok_or_else(no_gateway)?;
    let Query(q) = query.map_err(|e| Refusal::invalid_at("/query", e.body_text()))?;
    let mut errors = Vec::new();
    let since_ms = time("since", q.since.as_deref(), &mut errors);
    let until_ms = time("until", q.until.as_deref(), &mut errors);
    if let Some(d) = &q.decision
        && !matches!(
            d.as_str(),
            "allow" | "deny" | "observe" | "alert" | "state" | "ack" | "credential"
        )
    {
        errors.push(FieldError::new(
            "/query/decision",
            "must be allow, deny, observe, alert, state, ack or credential",
        ));
    }
    if !errors.is_empty() {
        return Err(Refusal::invalid("the query is not valid", errors));
    }
    let filter = Filter {
        identity: q.identity,
        person: q.person,
        api: q.api,
        operation: q.operation,
        decision: q.decision,
        code: q.code,
        since_ms,
        until_ms,
        before_seq: q.before,
        limit: q.limit.unwrap_or(DEFAULT_PAGE),
        ..Filter::default()
    };
    let page = query_ledger(&observer, filter).await?;
    Ok(Json(json!({ "decisions": page.records, "next": page.next })).into_response())
}

/// `GET /admin/v1/alerts` query parameters.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct AlertsQuery {
    identity: Option<String>,
    /// `probing`, `enumeration`, `deny_spike`, `novelty` or `volume`.
    detector: Option<String>,
    /// `alert`, `throttle` or `quarantine`.
    action: Option<String>,
    since: Option<String>,
    until: Option<String>,
    limit: Option<u32>,
    before: Option<u64>,
}

/// The watch's alerts, newest first, paged like decisions.
pub(super) async fn alerts(
    State(observer): State<Option<Observer>>,
    query: Result<Query<AlertsQuery>, QueryRejection>,
) -> Result<Response, Refusal> {
    let observer = observer.ok_or_else(no_gateway)?;
    let Query(q) = query.map_err(|e| Refusal::invalid_at("/query", e.body_text()))?;
    let mut errors = Vec::new();
    let since_ms = time("since", q.since.as_deref(), &mut errors);
    let until_ms = time("until", q.until.as_deref(), &mut errors);
    if let Some(d) = &q.detector
        && portcullis_watch::Detector::parse(d).is_none()
    {
        errors.push(FieldError::new(
            "/query/detector",
            "must be probing, enumeration, deny_spike, novelty or volume",
        ));
    }
    if let Some(a) = &q.action
        && portcullis_watch::Step::parse(a).is_none()
    {
        errors.push(FieldError::new(
            "/query/action",
            "must be alert, throttle or quarantine",
        ));
    }
    if !errors.is_empty() {
        return Err(Refusal::invalid("the query is not valid", errors));
    }
    let filter = Filter {
        identity: q.identity,
        decision: Some(portcullis_audit::event::ALERT.to_owned()),
        detector: q.detector,
        action: q.action,
        since_ms,
        until_ms,
        before_seq: q.before,
        limit: q.limit.unwrap_or(DEFAULT_PAGE),
        ..Filter::default()
    };
    let page = query_ledger(&observer, filter).await?;
    let alerts: Vec<serde_json::Value> = page.records.iter().map(alert_view).collect();
    Ok(Json(json!({ "alerts": alerts, "next": page.next })).into_response())
}

/// One alert record as the API shows it: where it is in the ledger, whom
/// it is about, and the alert itself.
pub(crate) fn alert_view(record: &serde_json::Value) -> serde_json::Value {
    let entry = &record["entry"];
    json!({
        "seq": record["seq"],
        "id": record["id"],
        "time_ms": entry["time_ms"],
        "identity": entry["identity"],
        "alert": entry["alert"],
    })
}

async fn query_ledger(
    observer: &Observer,
    filter: Filter,
) -> Result<portcullis_store::ledger::Page, Refusal> {
    let location = observer.ledger().clone();
    tokio::task::spawn_blocking(move || Ledger::open_reader(&location)?.query(&filter))
        .await
        .map_err(|_| Refusal::unavailable())?
        .map_err(|e| {
            tracing::error!(error = %e, "the audit ledger could not be read");
            Refusal::unavailable()
        })
}

/// An RFC 3339 query parameter in milliseconds since the epoch; a problem
/// goes to `errors`.
fn time(name: &str, value: Option<&str>, errors: &mut Vec<FieldError>) -> Option<i64> {
    let text = value?;
    match humantime::parse_rfc3339(text) {
        Ok(t) => t
            .duration_since(std::time::UNIX_EPOCH)
            .ok()
            .and_then(|d| i64::try_from(d.as_millis()).ok()),
        Err(_) => {
            errors.push(FieldError::new(
                format!("/query/{name}"),
                "must be an RFC 3339 time like 2026-11-26T10:00:00Z",
            ));
            None
        }
    }
}

pub(crate) fn no_gateway() -> Refusal {
    Refusal::new(
        ProblemCode::Unavailable,
        "this admin listener is not attached to a gateway",
    )
}
