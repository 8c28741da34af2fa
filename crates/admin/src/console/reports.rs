//! The posture page and its downloads, the audit ledger's page, and the
//! last `verify` report.

use std::time::UNIX_EPOCH;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::response::Response;
use portcullis_console::pages::{self as page, RiskRow, Tab};
use serde::Deserialize;

use super::ConsoleState;
use super::gather::{self, open_ledger};
use super::pages::{Seen, blocking, observer, query, show};
use crate::refusal::Refusal;

pub(super) async fn posture(
    State(state): State<ConsoleState>,
    seen: Seen,
) -> Result<Response, Refusal> {
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
        chrome: seen.chrome(Tab::Posture),
        generated: portcullis_console::view::when(Some(report.generated)),
        window_days: report.window_days,
        risks,
        findings: report.findings,
        not_assessed: report.not_assessed,
    }))
}

pub(super) async fn audit(
    State(state): State<ConsoleState>,
    seen: Seen,
) -> Result<Response, Refusal> {
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
            chrome: seen.chrome(Tab::Audit),
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
    seen: Seen,
) -> Result<Response, Refusal> {
    use portcullis_console::pages::ReportState;
    use portcullis_console::verify::VerifyReport;
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
        chrome: seen.chrome(Tab::Verify),
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
