//! What became of each alert of the watch: released when its identity was
//! made active after it, acknowledged when an admin said so (an `ack`
//! record naming it), else open. Pure: the ledger's records come in.

use std::collections::HashMap;

use portcullis_audit::event::Alert;
use serde_json::Value;

use crate::view::{AlertRow, entry, record_key, span, when};

/// Each alert of `alerts` (ledger records, newest first) with its status,
/// from the state changes and acknowledgements read beside them.
pub fn settle(alerts: &[Value], changes: &[Value], acks: &[Value]) -> Vec<AlertRow> {
    let mut releases: HashMap<String, Vec<(i64, String)>> = HashMap::new();
    for e in changes.iter().filter_map(entry) {
        if let (Some(change), Some(id)) = (&e.state_change, &e.identity)
            && change.to == "active"
        {
            let text = format!(
                "released by {} at {}",
                change.by,
                when(Some(e.time_ms / 1000))
            );
            releases
                .entry(id.clone())
                .or_default()
                .push((e.time_ms, text));
        }
    }
    let acked: HashMap<String, String> = acks
        .iter()
        .filter_map(entry)
        .filter_map(|e| {
            let ack = e.ack?;
            let text = format!(
                "acknowledged by {} at {}",
                ack.by,
                when(Some(e.time_ms / 1000))
            );
            Some((ack.alert, text))
        })
        .collect();
    alerts
        .iter()
        .filter_map(|record| {
            let e = entry(record)?;
            let alert = e.alert?;
            let who = e.identity.unwrap_or_default();
            let at = e.time_ms;
            let key = record_key(record);
            let released = releases
                .get(&who)
                .and_then(|r| r.iter().filter(|(t, _)| *t > at).min_by_key(|(t, _)| *t))
                .map(|(_, text)| text.clone());
            let (status, settled) = match (released, acked.get(&key)) {
                (Some(text), _) => ("released", text),
                (None, Some(text)) => ("acknowledged", text.clone()),
                (None, None) => ("open", String::new()),
            };
            Some(AlertRow {
                key,
                time: when(Some(at / 1000)),
                identity: who,
                evidence: evidence(&alert),
                detector: alert.detector,
                action: alert.action,
                level: alert.level,
                mode: alert.mode,
                samples: alert.samples,
                status: status.to_owned(),
                settled,
            })
        })
        .collect()
}

/// What the detector counted, in a line.
fn evidence(alert: &Alert) -> String {
    let mut text = format!(
        "{} in {} (threshold {})",
        alert.count,
        span(i64::try_from(alert.window_ms / 1000).unwrap_or(i64::MAX)),
        alert.threshold
    );
    if let Some(baseline) = alert.baseline {
        text.push_str(&format!(", baseline {baseline}"));
    }
    if let Some(subject) = &alert.subject {
        text.push_str(&format!(": {subject}"));
    }
    text
}

#[cfg(test)]
mod tests {
    #![allow(clippy::indexing_slicing, reason = "test data of known shape")]

    use serde_json::json;

    use super::*;

    fn record(seq: u64, time_ms: i64, identity: &str, extra: Value) -> Value {
        let mut entry = json!({
            "time_ms": time_ms, "request_id": "r", "trace_id": "t", "identity": identity,
            "credential": null, "token": null, "api": null, "operation": null, "method": "",
            "path": "", "stage": "watch", "decision": "alert", "code": null, "observed": null,
            "policies": [], "policy_errors": 0, "snapshot": 1, "contract": null,
            "upstream_status": null, "status": 0, "bytes_in": 0, "bytes_out": 0,
            "latency_us": 0, "stages": [], "source": "", "fields_stripped": 0, "secrets_redacted": 0
        });
        for (k, v) in extra.as_object().cloned().unwrap_or_default() {
            entry[k] = v;
        }
        json!({"seq": seq, "id": format!("{time_ms:013}-{seq:012}"), "prev": "00", "entry": entry})
    }

    fn alert(seq: u64, time_ms: i64, identity: &str) -> Value {
        record(
            seq,
            time_ms,
            identity,
            json!({"alert": {
                "detector": "probing", "action": "quarantine", "level": 3, "mode": "enforce",
                "window_ms": 60000, "count": 10, "threshold": 10
            }}),
        )
    }

    #[test]
    fn alerts_are_released_by_a_later_resume_acknowledged_by_an_ack_else_open() {
        let alerts = [
            alert(5, 5_000, "a"),
            alert(4, 4_000, "b"),
            alert(3, 3_000, "c"),
            alert(1, 1_000, "a"),
        ];
        let changes = [
            // `a` resumed between its two alerts; `c` suspended (not a release).
            record(
                2,
                2_000,
                "a",
                json!({"decision": "state", "state_change": {"to": "active", "by": "ops"}}),
            ),
            record(
                6,
                6_000,
                "c",
                json!({"decision": "state", "state_change": {"to": "suspended", "by": "ops"}}),
            ),
        ];
        let acks = [record(
            7,
            7_000,
            "b",
            json!({"decision": "ack", "ack": {"alert": "0000000004000-000000000004", "by": "ops"}}),
        )];
        let rows = settle(&alerts, &changes, &acks);
        let status: Vec<(&str, &str)> = rows
            .iter()
            .map(|r| (r.identity.as_str(), r.status.as_str()))
            .collect();
        assert_eq!(
            status,
            [
                ("a", "open"),
                ("b", "acknowledged"),
                ("c", "open"),
                ("a", "released")
            ]
        );
        assert!(rows[3].settled.starts_with("released by ops"));
        assert!(rows[1].settled.starts_with("acknowledged by ops"));
        assert_eq!(rows[0].evidence, "10 in 1 min (threshold 10)");
        // A record that is not an alert is not listed.
        assert_eq!(settle(&changes, &[], &[]).len(), 0);
    }
}
