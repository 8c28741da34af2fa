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
        Ok(()) => Ok(Json(json!({ "status": "ready" })).into_response()),
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
    let mut time = |name: &str, value: &Option<String>| {
        let text = value.as_ref()?;
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
    };
    let since_ms = time("since", &q.since);
    let until_ms = time("until", &q.until);
    if let Some(d) = &q.decision
        && !matches!(d.as_str(), "allow" | "deny" | "observe")
    {
        errors.push(FieldError::new(
            "/query/decision",
            "must be allow, deny or observe",
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
    };
    let location = observer.ledger().clone();
    let page = tokio::task::spawn_blocking(move || Ledger::open_reader(&location)?.query(&filter))
        .await
        .map_err(|_| Refusal::unavailable())?
        .map_err(|e| {
            tracing::error!(error = %e, "the audit ledger could not be read");
            Refusal::unavailable()
        })?;
    Ok(Json(json!({ "decisions": page.records, "next": page.next })).into_response())
}

fn no_gateway() -> Refusal {
    Refusal::new(
        ProblemCode::Unavailable,
        "this admin listener is not attached to a gateway",
    )
}
