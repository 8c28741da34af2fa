//! Live decisions (the ledger's newest records, filtered, and the rows
//! alone for htmx's refresh) and the watch's alerts.

use axum::Extension;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::response::Response;
use portcullis_console::pages::{self as page, ALERT_STATUSES, DECISIONS, DecisionFilters, Tab};
use portcullis_console::view::DecisionRow;
use portcullis_store::ledger::Filter;
use serde::Deserialize;

use super::ConsoleState;
use super::gate::Console;
use super::gather::{self, open_ledger, records};
use super::pages::{blocking, chrome, observer, query, show};
use crate::refusal::Refusal;

/// Rows of the live decisions.
const DECISION_ROWS: usize = 50;

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
                "must be allow, deny, observe, alert, state, ack or credential",
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
