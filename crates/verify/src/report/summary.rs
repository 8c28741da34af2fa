//! The run in short: the summary's counts, its text (the last lines of
//! `verify`'s output), and the whole run as one JSON document.

use std::fmt::Write as _;

use serde_json::{Value, json};

use super::{Level, Verification};

impl Verification {
    /// Counts for the summary: (part, what was done, what it found).
    pub fn summary(&self) -> Vec<(&'static str, String, String)> {
        let mut rows = Vec::new();
        let coverage = &self.analysis.coverage;
        let mut cells = std::collections::BTreeMap::<&str, usize>::new();
        for cell in coverage.cells.iter().flatten() {
            *cells.entry(cell.as_str()).or_default() += 1;
        }
        let cells: Vec<String> = cells.iter().map(|(k, n)| format!("{n} {k}")).collect();
        rows.push((
            "coverage",
            format!(
                "{} operations × {} identities",
                coverage.operations.len(),
                coverage.identities.len()
            ),
            cells.join(", "),
        ));
        rows.push((
            "policies",
            "analysed".into(),
            format!("{} findings", self.analysis.findings.len()),
        ));
        if let Some((_, r)) = &self.discovery {
            let found = match &r.catch_all {
                Some(e) => format!("a catch-all ({} to anything)", e.status),
                None => format!("{} undeclared routes answer", r.findings.len()),
            };
            rows.push((
                "discovery",
                format!("{} requests ({} throttled)", r.requests, r.throttled),
                found,
            ));
        }
        if let Some((_, r)) = &self.conformance {
            let (routes, rest): (Vec<_>, Vec<_>) =
                r.checks.iter().partition(|c| c.kind == "discovered-route");
            let ok = rest.iter().filter(|c| c.matches()).count();
            rows.push((
                "conformance",
                format!("{} requests, {} skipped", rest.len(), r.skipped.len()),
                format!("{ok} as expected, {} mismatches", rest.len() - ok),
            ));
            let mcp = &r.mcp;
            if !mcp.is_empty() {
                let wrong = mcp.listing_mismatches().count() + mcp.call_mismatches().count();
                rows.push((
                    "mcp face",
                    format!(
                        "{} listings, {} negatives as tools/call ({} not applicable)",
                        mcp.listings.len(),
                        mcp.calls.len(),
                        mcp.not_applicable_count()
                    ),
                    format!(
                        "{} as expected, {wrong} mismatches, {} protocol failures",
                        mcp.listings.len() + mcp.calls.len() - wrong,
                        mcp.failures.len()
                    ),
                ));
            }
            if !routes.is_empty() {
                let refused = routes
                    .iter()
                    .filter(|c| c.matches() && c.got != "forwarded");
                rows.push((
                    "undeclared routes",
                    format!("{} sent through the gateway", routes.len()),
                    format!("{} refused as configured", refused.count()),
                ));
            }
        }
        rows
    }

    /// The summary table, and the verdict.
    pub fn summary_text(&self) -> String {
        let mut out = String::from("\nsummary\n");
        let rows = self.summary();
        let w0 = rows.iter().map(|r| r.0.len()).max().unwrap_or(0);
        let w1 = rows.iter().map(|r| r.1.chars().count()).max().unwrap_or(0);
        for (part, done, found) in &rows {
            let _ = writeln!(out, "  {part:<w0$}  {done:<w1$}  {found}");
        }
        let errors = self
            .findings()
            .iter()
            .filter(|f| f.level == Level::Error)
            .count();
        let verdict = if self.failed() { "FAILED" } else { "passed" };
        let _ = writeln!(
            out,
            "{verdict}: {errors} error finding(s), in {:.1} s",
            self.elapsed.as_secs_f64()
        );
        out
    }

    /// The whole run as one JSON document.
    pub fn to_json(&self) -> Value {
        let coverage = &self.analysis.coverage;
        json!({
            "config": self.config_file,
            "failed": self.failed(),
            "elapsed_ms": u64::try_from(self.elapsed.as_millis()).unwrap_or(u64::MAX),
            "summary": self.summary().iter().map(|(part, done, found)| json!({"part": part, "done": done, "found": found})).collect::<Vec<_>>(),
            "coverage": {
                "identities": coverage.identities,
                "operations": coverage.operations,
                "cells": coverage.cells.iter()
                    .map(|row| row.iter().map(|c| c.as_str()).collect::<Vec<_>>())
                    .collect::<Vec<_>>(),
            },
            "discovery": self.discovery.as_ref().map(|(upstream, r)| with(r.to_json(), "upstream", upstream)),
            "conformance": self.conformance.as_ref().map(|(gateway, r)| with(r.to_json(), "gateway", gateway)),
            "findings": self.findings().iter().map(|f| {
                let mut doc = json!({
                    "rule": f.rule.id,
                    "level": f.level.as_str(),
                    "subject": f.subject,
                    "message": f.message,
                    "file": f.file,
                    "evidence": f.evidence.iter().map(|(k, v)| ((*k).to_owned(), json!(v))).collect::<serde_json::Map<_, _>>(),
                });
                // Only accepted findings carry the key: the reason.
                if let (Some(reason), Value::Object(fields)) = (self.accepted(f), &mut doc) {
                    fields.insert("accepted".into(), json!(reason));
                }
                doc
            }).collect::<Vec<_>>(),
        })
    }
}

/// `doc` (an object) with `key` set to `value`.
fn with(mut doc: Value, key: &str, value: &str) -> Value {
    if let Value::Object(map) = &mut doc {
        map.insert(key.to_owned(), json!(value));
    }
    doc
}
