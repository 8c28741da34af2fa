//! What the pages show, as plain values: the admin listener gathers them
//! from the store, the ledger and the snapshot, and the templates draw
//! them. Ledger records become rows here, so every page reads a record
//! the same way.

use portcullis_audit::record::Body;
use portcullis_core::IdentityState;

/// `YYYY-MM-DD HH:MM:SS` UTC of seconds since the epoch; `-` when absent
/// or before 1970. A time past the year 9999 (an expiry set far away) is
/// written as its seconds.
pub fn when(secs: Option<i64>) -> String {
    match secs.filter(|s| *s >= 0) {
        Some(s) => portcullis_core::rfc3339(s).map_or_else(
            || format!("{s} s after 1970"),
            |t| t.replace('T', " ").trim_end_matches('Z').to_owned(),
        ),
        None => "-".to_owned(),
    }
}

/// `HH:MM:SS.mmm` UTC of milliseconds since the epoch.
pub fn clock_ms(ms: i64) -> String {
    let day_ms = ms.rem_euclid(86_400_000);
    format!(
        "{:02}:{:02}:{:02}.{:03}",
        day_ms / 3_600_000,
        day_ms / 60_000 % 60,
        day_ms / 1_000 % 60,
        day_ms % 1_000
    )
}

/// A span of seconds for people: `42 s`, `5 min`, `3 h`, `12 d`.
pub fn span(secs: i64) -> String {
    let s = secs.max(0);
    match s {
        0..60 => format!("{s} s"),
        60..3_600 => format!("{} min", s / 60),
        3_600..86_400 => format!("{} h", s / 3_600),
        _ => format!("{} d", s / 86_400),
    }
}

/// A ledger record's entry, typed; `None` for a value that is not one.
pub fn entry(record: &serde_json::Value) -> Option<portcullis_audit::Entry> {
    serde_json::from_value(record.get("entry")?.clone()).ok()
}

/// A record's key on the console: its id, after its node in a fleet
/// (`node-id`), so records of two chains never share one.
pub fn record_key(record: &serde_json::Value) -> String {
    let id = record
        .get("id")
        .and_then(serde_json::Value::as_str)
        .unwrap_or_default();
    match record.get("node").and_then(serde_json::Value::as_str) {
        Some(node) => format!("{node}-{id}"),
        None => id.to_owned(),
    }
}

/// One record of the ledger as a row: the line people scan, and the whole
/// record behind it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecisionRow {
    /// Unique on the page: the node (in a fleet) and the record's id.
    pub key: String,
    pub time: String,
    pub node: Option<String>,
    pub identity: String,
    pub api: String,
    pub operation: String,
    pub method: String,
    pub path: String,
    /// `allow`, `deny`, `observe`, `alert`, `state`, `ack` or `credential`.
    pub decision: String,
    pub code: String,
    /// The HTTP status, for requests; empty for the watch's records.
    pub status: String,
    pub latency: String,
    pub stage: String,
    pub policies: Vec<String>,
    pub stages: Vec<(String, u64)>,
    pub request_id: String,
    /// The whole record, pretty-printed.
    pub record: String,
}

impl DecisionRow {
    /// A ledger record (as `GET /admin/v1/decisions` returns it); `None`
    /// for a value that is not one.
    pub fn of(record: &serde_json::Value) -> Option<Self> {
        let body: Body = serde_json::from_value(record.clone()).ok()?;
        let node = record
            .get("node")
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned);
        let e = &body.entry;
        let identity = e
            .identity
            .clone()
            .or_else(|| e.client_id.as_ref().map(|c| format!("{c} (tried)")))
            .unwrap_or_else(|| "-".to_owned());
        let code = match (&e.code, &e.observed, &e.alert, &e.state_change) {
            (Some(code), _, _, _) => code.to_string(),
            (None, Some(observed), _, _) => format!("would be {observed}"),
            (None, None, Some(alert), _) => format!("{} → {}", alert.detector, alert.action),
            (None, None, None, Some(change)) => format!(
                "{} → {} by {}",
                change.from.as_deref().unwrap_or("-"),
                change.to,
                change.by
            ),
            _ => match (&e.ack, &e.credential_change) {
                (Some(ack), _) => format!("acknowledged by {}", ack.by),
                (None, Some(change)) => {
                    format!("{} {} by {}", change.credential, change.action, change.by)
                }
                (None, None) => String::new(),
            },
        };
        let request = matches!(e.decision.as_ref(), "allow" | "deny" | "observe");
        Some(Self {
            key: format!(
                "{}{}",
                node.as_deref().map(|n| format!("{n}-")).unwrap_or_default(),
                body.id
            ),
            time: clock_ms(e.time_ms),
            node,
            identity,
            api: e.api.clone().unwrap_or_default(),
            operation: e.operation.clone().unwrap_or_default(),
            method: e.method.clone(),
            path: e.path.clone(),
            decision: e.decision.to_string(),
            code,
            status: if request {
                e.status.to_string()
            } else {
                String::new()
            },
            latency: if request {
                format!("{:.2} ms", e.latency_us as f64 / 1000.0)
            } else {
                String::new()
            },
            stage: e.stage.to_string(),
            policies: e.policies.clone(),
            stages: e
                .stages
                .iter()
                .map(|s| (s.stage.to_string(), s.us))
                .collect(),
            request_id: e.request_id.clone(),
            record: serde_json::to_string_pretty(record).unwrap_or_default(),
        })
    }
}

/// One credential of an identity, without secret material.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialView {
    pub id: String,
    pub kind: String,
    pub label: String,
    pub age: String,
    pub expires: String,
    /// `usable`, `revoked` or `expired`.
    pub status: String,
    /// A secret (API key, client secret) that can be rotated.
    pub rotatable: bool,
}

/// An identity as the inventory lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityRow {
    pub id: String,
    pub kind: String,
    pub owner: String,
    pub environment: String,
    pub state: String,
    pub tags: Vec<String>,
    pub scopes: Vec<String>,
    pub created: String,
    pub expires: String,
    pub last_seen: String,
    pub credentials: Vec<CredentialView>,
    pub open_alerts: u64,
}

/// A change an admin may make to an identity in its current state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StateAction {
    Suspend,
    Resume,
    Quarantine,
    Retire,
}

impl StateAction {
    pub const ALL: [Self; 4] = [Self::Suspend, Self::Resume, Self::Quarantine, Self::Retire];

    /// The word in URLs and forms.
    pub fn name(self) -> &'static str {
        match self {
            Self::Suspend => "suspend",
            Self::Resume => "resume",
            Self::Quarantine => "quarantine",
            Self::Retire => "retire",
        }
    }

    /// The state it sets.
    pub fn target(self) -> IdentityState {
        match self {
            Self::Suspend => IdentityState::Suspended,
            Self::Resume => IdentityState::Active,
            Self::Quarantine => IdentityState::Quarantined,
            Self::Retire => IdentityState::Retired,
        }
    }

    /// Whether it changes anything for an identity in `state` (as the
    /// admin API spells it): a retired identity stays retired.
    pub fn applies_to(self, state: &str) -> bool {
        state != IdentityState::Retired.as_str() && state != self.target().as_str()
    }

    /// What the confirmation says will happen.
    pub fn consequence(self) -> &'static str {
        match self {
            Self::Suspend => {
                "Every request it makes is refused (403 identity-suspended) from its next request, tokens it holds included, until it is resumed."
            }
            Self::Resume => "It may call the APIs again, within its policies and scopes.",
            Self::Quarantine => {
                "Every request it makes is refused from its next request, as the watch does for an identity that probes, until it is resumed."
            }
            Self::Retire => "It is refused for good: a retired identity cannot be resumed.",
        }
    }
}

/// One operation of the identity's matrix: whether the policies and its
/// scopes let it call it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatrixRow {
    pub api: String,
    pub operation: String,
    pub method: String,
    pub path: String,
    /// `always`, `sometimes` (a condition on the request), `never`, or
    /// `scope` (the policies would, its scopes do not).
    pub reach: String,
}

/// An alert of the watch and what became of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertRow {
    pub key: String,
    pub time: String,
    pub identity: String,
    pub detector: String,
    pub action: String,
    pub level: u32,
    pub mode: String,
    pub evidence: String,
    pub samples: Vec<String>,
    /// `open`, `acknowledged` or `released`.
    pub status: String,
    /// Who acknowledged or released it and when; empty while open.
    pub settled: String,
}

/// One chain of the ledger and its verification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainRow {
    pub node: String,
    /// The sequence number of its last record (records before a prune are
    /// gone, so this is not a count).
    pub last: u64,
    pub head: String,
    pub checkpoint: String,
    /// `intact`, `broken`, or `not verified yet`.
    pub status: String,
    /// Where it breaks, when it does.
    pub detail: String,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "test data of known shape")]

    use super::*;

    #[test]
    fn a_record_becomes_a_row_with_its_whole_record() {
        let record = serde_json::json!({
            "seq": 7, "id": "0001764979200000-000000000007", "prev": "00", "node": "gw-1",
            "entry": {
                "time_ms": 1_764_979_200_123_i64, "request_id": "r1", "trace_id": "t1",
                "identity": null, "credential": null, "token": null, "client_id": "<b>x</b>",
                "api": "orders", "operation": "getOrder", "method": "GET", "path": "/orders/1",
                "stage": "authorize", "decision": "deny", "code": "forbidden", "observed": null,
                "policies": ["p1"], "policy_errors": 0, "snapshot": 1, "contract": null,
                "upstream_status": null, "status": 403, "bytes_in": 0, "bytes_out": 10,
                "latency_us": 1234, "stages": [{"stage": "route", "us": 3}], "source": "127.0.0.1",
                "fields_stripped": 0, "secrets_redacted": 0
            }
        });
        let row = DecisionRow::of(&record).unwrap();
        assert_eq!(row.key, "gw-1-0001764979200000-000000000007");
        assert_eq!(row.time, "00:00:00.123");
        assert_eq!(row.identity, "<b>x</b> (tried)");
        assert_eq!(row.code, "forbidden");
        assert_eq!(row.latency, "1.23 ms");
        assert_eq!(row.stages, [("route".to_owned(), 3)]);
        assert!(row.record.contains("\"policies\""));
        assert!(DecisionRow::of(&serde_json::json!({"seq": 1})).is_none());
    }

    #[test]
    fn actions_apply_to_states_they_change() {
        assert!(StateAction::Suspend.applies_to("active"));
        assert!(!StateAction::Suspend.applies_to("suspended"));
        assert!(StateAction::Resume.applies_to("quarantined"));
        assert!(!StateAction::Resume.applies_to("retired"));
        assert_eq!(when(Some(0)), "1970-01-01 00:00:00");
        assert_eq!(span(7_200), "2 h");
        assert_eq!(when(Some(253_402_300_799)), "9999-12-31 23:59:59");
        assert_eq!(when(Some(i64::MAX)), format!("{} s after 1970", i64::MAX));
    }
}
