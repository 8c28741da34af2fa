//! `GET /admin/v1/posture`: the posture report of the running gateway —
//! its inventory and findings mapped to the OWASP NHI Top 10 (2025), from
//! its store, its ledger and the configuration it runs — as JSON (the
//! default), text, a self-contained HTML page or SARIF.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use http::header;
use portcullis_core::FieldError;
use portcullis_posture::gather::{Gateway, gather};
use portcullis_posture::{Thresholds, assess, render};
use portcullis_proxy::Observer;
use portcullis_store::ledger::Ledger;
use serde::Deserialize;

use crate::refusal::Refusal;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct PostureQuery {
    /// `json` (default), `text`, `html` or `sarif`.
    format: Option<String>,
    /// Unused this many days (and the ledger window): 1 to 3650.
    days: Option<u32>,
    /// Secrets older than this many days: 1 to 3650.
    rotation_days: Option<u32>,
    /// This gateway's environment, to compare identities' with.
    environment: Option<String>,
}

pub(super) async fn posture(
    State(observer): State<Option<Observer>>,
    query: Result<Query<PostureQuery>, QueryRejection>,
) -> Result<Response, Refusal> {
    let observer = observer.ok_or_else(super::observe::no_gateway)?;
    let Query(q) = query.map_err(|e| Refusal::invalid_at("/query", e.body_text()))?;
    let mut errors = Vec::new();
    let format = q.format.unwrap_or_else(|| "json".to_owned());
    if !matches!(format.as_str(), "json" | "text" | "html" | "sarif") {
        errors.push(FieldError::new(
            "/query/format",
            "must be json, text, html or sarif",
        ));
    }
    let mut limits = Thresholds::default();
    for (name, value, into) in [
        ("days", q.days, &mut limits.unused_days),
        ("rotation_days", q.rotation_days, &mut limits.rotation_days),
    ] {
        match value {
            Some(n @ 1..=3650) => *into = n,
            Some(_) => errors.push(FieldError::new(
                format!("/query/{name}"),
                "must be 1 to 3650",
            )),
            None => {}
        }
    }
    if !errors.is_empty() {
        return Err(Refusal::invalid("the query is not valid", errors));
    }
    let report = report(observer, limits, q.environment).await?;
    let (body, content_type) = match format.as_str() {
        "text" => (render::text(&report), "text/plain; charset=utf-8"),
        "html" => (render::html(&report), "text/html; charset=utf-8"),
        "sarif" => (render::sarif(&report), "application/sarif+json"),
        _ => (render::json(&report), "application/json"),
    };
    Ok(([(header::CONTENT_TYPE, content_type)], body).into_response())
}

/// The posture report of the running gateway (the admin API's and the
/// console's), gathered on a blocking thread.
pub(crate) async fn report(
    observer: Observer,
    limits: Thresholds,
    environment: Option<String>,
) -> Result<portcullis_posture::Report, Refusal> {
    tokio::task::spawn_blocking(move || {
        let snapshot = observer.snapshot();
        let authority = snapshot.authority();
        let gateway = Gateway {
            apis: snapshot.api_configs().collect(),
            policies: snapshot.policy_store(),
            token_max_ttl: authority.settings().max_ttl,
        };
        // No ledger yet (a new gateway) is a report without usage.
        let ledger = Ledger::open_reader(observer.ledger()).ok();
        let facts = gather(
            &gateway,
            authority.store().as_ref(),
            ledger.as_ref(),
            authority.now(),
            limits.unused_days,
            environment,
        )?;
        Ok::<_, portcullis_posture::gather::GatherError>(assess(&facts, &limits))
    })
    .await
    .map_err(|_| Refusal::unavailable())?
    .map_err(|e| {
        tracing::error!(error = %e, "the posture report could not be gathered");
        Refusal::unavailable()
    })
}
