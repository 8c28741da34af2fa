//! What a conformance run found: every checked request, and what could not
//! be checked and why; and the MCP face's checks (`mcp`).

use std::fmt::Write as _;

use serde_json::{Value, json};

use super::Flaw;

mod mcp;

pub use mcp::{Listing, McpCall, McpFailure, McpReport};

/// One checked request.
#[derive(Debug, Clone)]
pub struct Check {
    /// `valid`, `discovered-route`, or the negative's kind (`path-trick`, ...).
    pub kind: String,
    pub identity: String,
    /// The API the operation belongs to.
    pub api: String,
    pub operation: String,
    pub request: String,
    /// `forwarded`, or the code it must be refused with.
    pub expected: String,
    /// `forwarded` (the answer is not a deciding stage's), or the code seen.
    pub got: String,
    pub status: u16,
    /// What else is wrong with the answer, if anything.
    pub flaw: Option<Flaw>,
}

impl Check {
    pub fn matches(&self) -> bool {
        self.expected == self.got && self.flaw.is_none()
    }

    fn to_json(&self) -> Value {
        let (shape, unchecked) = match &self.flaw {
            Some(Flaw::Shape(s)) => (Some(s.as_str()), None),
            Some(Flaw::Unchecked(s)) => (None, Some(s.as_str())),
            None => (None, None),
        };
        json!({"kind": self.kind, "identity": self.identity, "api": self.api, "operation": self.operation,
               "request": self.request, "expected": self.expected, "got": self.got,
               "status": self.status, "shape": shape, "unchecked": unchecked,
               "ok": self.matches()})
    }
}

/// What a conformance run found.
#[derive(Debug, Default)]
pub struct Report {
    pub checks: Vec<Check>,
    /// (what, why it was not checked)
    pub skipped: Vec<(String, String)>,
    /// The MCP face, checked as each identity.
    pub mcp: McpReport,
}

impl Report {
    pub fn mismatches(&self) -> impl Iterator<Item = &Check> {
        self.checks.iter().filter(|c| !c.matches())
    }

    pub fn to_json(&self) -> Value {
        json!({
            "checked": self.checks.len(),
            "mismatches": self.mismatches().map(Check::to_json).collect::<Vec<_>>(),
            "checks": self.checks.iter().map(Check::to_json).collect::<Vec<_>>(),
            "skipped": self.skipped.iter().map(|(what, why)| json!({"what": what, "why": why})).collect::<Vec<_>>(),
            "mcp": self.mcp.to_json(),
        })
    }

    /// The report as text: every check, then what was skipped; then the MCP
    /// face's checks, when there were any.
    pub fn text(&self, gateway: &str) -> String {
        let mut out = String::new();
        for c in &self.checks {
            let mark = if c.matches() { "ok      " } else { "MISMATCH" };
            let flaw = c
                .flaw
                .as_ref()
                .map(|f| format!("  {}", f.text()))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "  {mark} {:<18} {:<20} {:<22} {:<60} expected {:<14} got {} ({}){flaw}",
                c.kind, c.identity, c.operation, c.request, c.expected, c.got, c.status
            );
        }
        for (what, why) in &self.skipped {
            let _ = writeln!(out, "  skipped  {what}: {why}");
        }
        let _ = writeln!(
            out,
            "conformance of {gateway}: {} requests checked, {} mismatches, {} skipped",
            self.checks.len(),
            self.mismatches().count(),
            self.skipped.len()
        );
        if !self.mcp.is_empty() {
            self.mcp.text(gateway, &mut out);
        }
        out
    }
}
