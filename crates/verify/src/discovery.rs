//! `portcullis verify --discover --upstream URL`: routes the upstream
//! answers that its contract does not declare, each with its evidence and
//! risk. This module is the result and its text (pure); [`run`] (in
//! `probe`) sends.
//!
//! Steps: a baseline of random paths (the upstream's own not-found; all of
//! them succeeding means a catch-all, reported once); ids harvested from
//! the declared parameterless reads; then the candidates (see
//! [`crate::discover`]), paced at `--rate` a second, at most
//! `--max-requests`, backing off when the upstream answers 429. Only reads
//! unless `--allow-writes`.

mod probe;

pub use probe::run;

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::discover::{Evidence, Risk};
use portcullis_contract::Method;
use serde_json::{Value, json};

/// How the probe is bounded.
#[derive(Debug, Clone)]
pub struct Limits {
    pub max_requests: usize,
    pub rate: u32,
    pub allow_writes: bool,
}

/// One undeclared route that answers.
#[derive(Debug, Clone)]
pub struct Finding {
    pub method: Method,
    pub path: String,
    pub why: &'static str,
    pub risk: Risk,
    pub evidence: Evidence,
}

/// What a discovery run found.
#[derive(Debug, Default)]
pub struct Report {
    pub findings: Vec<Finding>,
    /// Every random path answered with success: the upstream answers anything.
    pub catch_all: Option<Evidence>,
    pub requests: usize,
    pub throttled: usize,
}

impl Report {
    pub fn worst(&self) -> Option<Risk> {
        let worst = self.findings.iter().map(|f| f.risk).max();
        match &self.catch_all {
            Some(_) => worst.max(Some(Risk::ReturnsData)),
            None => worst,
        }
    }

    pub fn to_json(&self) -> Value {
        let evidence = |e: &Evidence| {
            json!({"status": e.status, "size": e.size, "content_type": e.content_type,
                   "first_line": e.first_line, "secrets": e.secrets})
        };
        json!({
            "requests": self.requests,
            "throttled": self.throttled,
            "catch_all": self.catch_all.as_ref().map(evidence),
            "findings": self.findings.iter().map(|f| json!({
                "method": f.method.as_str(), "path": f.path, "why": f.why,
                "risk": f.risk.as_str(), "evidence": evidence(&f.evidence),
            })).collect::<Vec<_>>(),
        })
    }
}

/// The report as a table, for the terminal.
pub fn text(report: &Report, upstream: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "discovery on {upstream}: {} requests ({} throttled)",
        report.requests, report.throttled
    );
    if let Some(e) = &report.catch_all {
        let _ = writeln!(
            out,
            "catch-all: every random path answered {} ({}); routes cannot be told apart, so none are listed",
            e.status, e.content_type
        );
        return out;
    }
    if report.findings.is_empty() {
        let _ = writeln!(out, "no undeclared route answered");
        return out;
    }
    let mut by_risk: BTreeMap<Risk, usize> = BTreeMap::new();
    for f in &report.findings {
        *by_risk.entry(f.risk).or_default() += 1;
        let secrets = if f.evidence.secrets.is_empty() {
            String::new()
        } else {
            format!("  secrets: {}", f.evidence.secrets.join(", "))
        };
        let _ = writeln!(
            out,
            "  {:<15} {:<7} {:<60} {} {} B {}{secrets}\n      {}",
            f.risk.as_str(),
            f.method.as_str(),
            f.path,
            f.evidence.status,
            f.evidence.size,
            f.evidence.content_type,
            f.evidence.first_line
        );
    }
    let summary: Vec<String> = by_risk
        .iter()
        .rev()
        .map(|(r, n)| format!("{n} {}", r.as_str()))
        .collect();
    let _ = writeln!(
        out,
        "{} undeclared routes answer: {}",
        report.findings.len(),
        summary.join(", ")
    );
    out
}
