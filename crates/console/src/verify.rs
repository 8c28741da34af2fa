//! The last `portcullis verify` report, as the Verify page shows it: read
//! from the JSON `verify --report-json` writes (the same document as
//! `--format json`). Pure: the admin listener reads the file.

use serde_json::Value;

/// One part of the run and what it found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    pub part: String,
    pub done: String,
    pub found: String,
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FindingRow {
    pub level: String,
    pub rule: String,
    pub subject: String,
    pub message: String,
    /// The reason it was accepted (`accept:`), when it was.
    pub accepted: String,
}

/// The report, ready to draw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    pub passed: bool,
    pub config: String,
    pub elapsed: String,
    pub parts: Vec<Part>,
    pub findings: Vec<FindingRow>,
    pub identities: Vec<String>,
    pub operations: Vec<String>,
    /// Per operation, per identity (the report's `cells[operation][identity]`):
    /// `allow`, `deny`, `cond` or `scope`.
    pub cells: Vec<Vec<String>>,
    /// The gateway and upstream it was run against, when it was.
    pub gateway: Option<String>,
    pub upstream: Option<String>,
}

fn text(v: &Value, key: &str) -> String {
    match v.get(key) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|s| s.as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

impl VerifyReport {
    /// The report in `doc`; `None` when it is not one (no `failed` verdict).
    pub fn from_json(doc: &Value) -> Option<Self> {
        let failed = doc.get("failed")?.as_bool()?;
        let list = |key: &str| {
            doc.get(key)
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
        };
        let coverage = doc.get("coverage");
        Some(Self {
            passed: !failed,
            config: text(doc, "config"),
            elapsed: doc
                .get("elapsed_ms")
                .and_then(Value::as_u64)
                .map_or_else(String::new, |ms| format!("{:.1} s", ms as f64 / 1000.0)),
            parts: list("summary")
                .iter()
                .map(|p| Part {
                    part: text(p, "part"),
                    done: text(p, "done"),
                    found: text(p, "found"),
                })
                .collect(),
            findings: list("findings")
                .iter()
                .map(|f| FindingRow {
                    level: text(f, "level"),
                    rule: text(f, "rule"),
                    subject: text(f, "subject"),
                    message: text(f, "message"),
                    accepted: text(f, "accepted"),
                })
                .collect(),
            identities: strings(coverage.and_then(|c| c.get("identities"))),
            operations: strings(coverage.and_then(|c| c.get("operations"))),
            cells: coverage
                .and_then(|c| c.get("cells"))
                .and_then(Value::as_array)
                .map(|rows| rows.iter().map(|r| strings(Some(r))).collect())
                .unwrap_or_default(),
            gateway: doc
                .get("conformance")
                .map(|c| text(c, "gateway"))
                .filter(|g| !g.is_empty()),
            upstream: doc
                .get("discovery")
                .map(|d| text(d, "upstream"))
                .filter(|u| !u.is_empty()),
        })
    }

    /// Findings by level: errors, warnings, notes.
    pub fn count(&self, level: &str) -> usize {
        self.findings.iter().filter(|f| f.level == level).count()
    }

    /// The cell of identity `i`, operation `o` (empty when absent).
    pub fn cell(&self, i: usize, o: usize) -> &str {
        self.cells
            .get(o)
            .and_then(|row| row.get(i))
            .map_or("", String::as_str)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "test data of known shape")]

    use super::*;

    #[test]
    fn a_verify_report_is_read_and_anything_else_is_not() {
        let doc = serde_json::json!({
            "config": "examples/orders/portcullis.yaml", "failed": true, "elapsed_ms": 1500,
            "summary": [{"part": "coverage", "done": "12 operations", "found": "1 error"}],
            "coverage": {"identities": ["a", "b"], "operations": ["orders:getOrder"], "cells": [["allow", "deny"]]},
            "findings": [{"rule": "policy/unreachable", "level": "error", "subject": "<b>x</b>", "message": "m"}],
            "conformance": {"gateway": "http://127.0.0.1:8080"}
        });
        let r = VerifyReport::from_json(&doc).unwrap();
        assert!(!r.passed);
        assert_eq!(r.elapsed, "1.5 s");
        assert_eq!(r.count("error"), 1);
        assert_eq!((r.cell(0, 0), r.cell(1, 0)), ("allow", "deny"));
        assert_eq!(r.cell(3, 3), "");
        assert_eq!(r.gateway.as_deref(), Some("http://127.0.0.1:8080"));
        assert!(VerifyReport::from_json(&serde_json::json!({"records": 3})).is_none());
    }
}
