//! What the MCP pass found: per identity and API, the tools `/mcp` listed
//! against the tools the configuration permits; each negative of the HTTP
//! family sent again as a `tools/call`, with the code it got; the kinds of
//! negative that have no `tools/call` form; and every answer that was not
//! MCP as the gateway speaks it.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::{Value, json};

use super::super::Flaw;

/// One identity's `tools/list` for one API.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Listing {
    pub identity: String,
    pub api: String,
    /// The tools the configuration permits (the gateway's own `visible`
    /// over the configuration given to `verify`), in the set's order.
    pub expected: Vec<String>,
    /// The tools `tools/list` gave, every page, in its order.
    pub listed: Vec<String>,
    /// Listed tools whose definition is not the one the contract makes,
    /// each with the members that differ (`orders_getOrder: inputSchema`).
    pub differing: Vec<String>,
    /// Operations allowed over HTTP for this identity whose tool is not
    /// listed (by the gateway, or by the configuration's own listing), each
    /// with which side left it out.
    pub allowed_unlisted: Vec<String>,
}

impl Listing {
    /// Permitted, not listed.
    pub fn missing(&self) -> Vec<&str> {
        let listed: Vec<&str> = self.listed.iter().map(String::as_str).collect();
        self.expected
            .iter()
            .map(String::as_str)
            .filter(|t| !listed.contains(t))
            .collect()
    }

    /// Listed, not permitted.
    pub fn extra(&self) -> Vec<&str> {
        let expected: Vec<&str> = self.expected.iter().map(String::as_str).collect();
        self.listed
            .iter()
            .map(String::as_str)
            .filter(|t| !expected.contains(t))
            .collect()
    }

    /// The listing is what the configuration permits, tool for tool.
    pub fn matches(&self) -> bool {
        self.missing().is_empty() && self.extra().is_empty() && self.differing.is_empty()
    }

    /// Consistent with what the HTTP pass saw allowed.
    pub fn consistent(&self) -> bool {
        self.allowed_unlisted.is_empty()
    }

    /// What is wrong, in one line; empty when nothing is.
    pub fn problems(&self) -> String {
        let mut parts = Vec::new();
        let (missing, extra) = (self.missing(), self.extra());
        if !missing.is_empty() {
            parts.push(format!("not listed: {}", missing.join(", ")));
        }
        if !extra.is_empty() {
            parts.push(format!("listed but not permitted: {}", extra.join(", ")));
        }
        if !self.differing.is_empty() {
            parts.push(format!("defined otherwise: {}", self.differing.join("; ")));
        }
        if !self.allowed_unlisted.is_empty() {
            parts.push(format!(
                "allowed over HTTP, not listed: {}",
                self.allowed_unlisted.join("; ")
            ));
        }
        parts.join("; ")
    }

    fn to_json(&self) -> Value {
        json!({"identity": self.identity, "api": self.api, "expected": self.expected,
               "listed": self.listed, "missing": self.missing(), "extra": self.extra(),
               "differing": self.differing, "allowed_unlisted": self.allowed_unlisted,
               "ok": self.matches() && self.consistent()})
    }
}

/// One negative of the HTTP family sent as a `tools/call`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct McpCall {
    /// The negative's kind (`missing-parameter`, ...).
    pub kind: String,
    pub identity: String,
    pub api: String,
    pub operation: String,
    pub tool: String,
    /// The negative's detail and the arguments sent, shortened.
    pub request: String,
    /// The code the HTTP negative must be refused with.
    pub expected: String,
    /// The code seen (`forwarded` when the call was answered by the
    /// operation, `json-rpc-error <n>` for a JSON-RPC error).
    pub got: String,
    /// Where the refusal came: `tool result`, or `HTTP <status>` when the
    /// `/mcp` request itself was refused (no credential, a message over the
    /// body limit).
    pub via: String,
    pub flaw: Option<Flaw>,
}

impl McpCall {
    pub fn matches(&self) -> bool {
        self.expected == self.got && self.flaw.is_none()
    }

    fn to_json(&self) -> Value {
        json!({"kind": self.kind, "identity": self.identity, "api": self.api,
               "operation": self.operation, "tool": self.tool, "request": self.request,
               "expected": self.expected, "got": self.got, "via": self.via,
               "shape": self.flaw.as_ref().map(Flaw::text), "ok": self.matches()})
    }
}

/// An answer that is not MCP as the gateway speaks it: the step, and what
/// was wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct McpFailure {
    pub identity: String,
    pub api: String,
    /// `initialize`, `notifications/initialized`, `tools/list`.
    pub step: String,
    pub message: String,
}

/// What the MCP pass found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct McpReport {
    pub listings: Vec<Listing>,
    pub calls: Vec<McpCall>,
    /// (kind, why it has no `tools/call` form) → how many negatives.
    pub not_applicable: BTreeMap<(String, String), usize>,
    pub failures: Vec<McpFailure>,
    /// (what, why it was not checked)
    pub skipped: Vec<(String, String)>,
}

impl McpReport {
    /// Nothing was tried: no identity, or no gateway run.
    pub fn is_empty(&self) -> bool {
        self == &Self::default()
    }

    pub fn listing_mismatches(&self) -> impl Iterator<Item = &Listing> {
        self.listings
            .iter()
            .filter(|l| !(l.matches() && l.consistent()))
    }

    pub fn call_mismatches(&self) -> impl Iterator<Item = &McpCall> {
        self.calls.iter().filter(|c| !c.matches())
    }

    /// Anything wrong: a listing, a call or the protocol.
    pub fn failed(&self) -> bool {
        self.listing_mismatches().next().is_some()
            || self.call_mismatches().next().is_some()
            || !self.failures.is_empty()
    }

    /// How many negatives had no `tools/call` form.
    pub fn not_applicable_count(&self) -> usize {
        self.not_applicable.values().sum()
    }

    /// Not applicable, per kind: `path-trick 16, undeclared-method 9`.
    pub fn not_applicable_kinds(&self) -> String {
        let mut by_kind: BTreeMap<&str, usize> = BTreeMap::new();
        for ((kind, _), n) in &self.not_applicable {
            *by_kind.entry(kind).or_default() += n;
        }
        let kinds: Vec<String> = by_kind.iter().map(|(k, n)| format!("{k} {n}")).collect();
        kinds.join(", ")
    }

    pub fn to_json(&self) -> Value {
        json!({
            "listings": self.listings.iter().map(Listing::to_json).collect::<Vec<_>>(),
            "calls": self.calls.len(),
            "mismatches": self.call_mismatches().map(McpCall::to_json).collect::<Vec<_>>(),
            "checks": self.calls.iter().map(McpCall::to_json).collect::<Vec<_>>(),
            "not_applicable": self.not_applicable.iter()
                .map(|((kind, why), n)| json!({"kind": kind, "why": why, "count": n}))
                .collect::<Vec<_>>(),
            "failures": self.failures.iter()
                .map(|f| json!({"identity": f.identity, "api": f.api, "step": f.step, "message": f.message}))
                .collect::<Vec<_>>(),
            "skipped": self.skipped.iter().map(|(what, why)| json!({"what": what, "why": why})).collect::<Vec<_>>(),
        })
    }

    /// The MCP part of the text report: each listing and call, what has no
    /// `tools/call` form and why, failures, skips, and a closing count.
    pub fn text(&self, gateway: &str, out: &mut String) {
        for l in &self.listings {
            let ok = l.matches() && l.consistent();
            let mark = if ok { "ok      " } else { "MISMATCH" };
            let what = if ok {
                format!("{} tools, as the configuration permits", l.listed.len())
            } else {
                l.problems()
            };
            let _ = writeln!(
                out,
                "  {mark} {:<18} {:<20} {:<22} {what}",
                "mcp-listing", l.identity, l.api
            );
        }
        for c in &self.calls {
            let mark = if c.matches() { "ok      " } else { "MISMATCH" };
            let flaw = c
                .flaw
                .as_ref()
                .map(|f| format!("  {}", f.text()))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "  {mark} mcp {:<14} {:<20} {:<22} {:<60} expected {:<14} got {} ({}){flaw}",
                c.kind, c.identity, c.operation, c.request, c.expected, c.got, c.via
            );
        }
        for ((kind, why), n) in &self.not_applicable {
            let _ = writeln!(out, "  n/a      mcp {kind} ×{n}: {why}");
        }
        for f in &self.failures {
            let _ = writeln!(
                out,
                "  FAILED   mcp {} as {} on {}: {}",
                f.step, f.identity, f.api, f.message
            );
        }
        for (what, why) in &self.skipped {
            let _ = writeln!(out, "  skipped  mcp {what}: {why}");
        }
        let _ = writeln!(
            out,
            "mcp face of {gateway}: {} listings checked, {} mismatches; {} negatives through tools/call, {} mismatches; {} not applicable to MCP; {} protocol failures, {} skipped",
            self.listings.len(),
            self.listing_mismatches().count(),
            self.calls.len(),
            self.call_mismatches().count(),
            self.not_applicable_count(),
            self.failures.len(),
            self.skipped.len()
        );
    }
}
