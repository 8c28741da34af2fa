//! The MCP face's findings, under their own stable rule ids:
//! `verify/mcp-listing-mismatch` (a listing that is not what the
//! configuration permits), `verify/mcp-listing-inconsistent` (an operation
//! allowed over HTTP whose tool is not listed), `verify/mcp-negative-mismatch`
//! (a `tools/call` not refused with the HTTP negative's code; a refusal with
//! the right code but the wrong shape is `verify/problem-shape`, as on HTTP)
//! and `verify/mcp-protocol` (an answer that is not MCP as the gateway
//! speaks it). What could not be checked is a `verify/skipped` note.

use super::{Finding, Level, Verification, rule};
use crate::conform::{Flaw, McpCall, McpReport};

impl Verification {
    pub(super) fn mcp_findings(&self, gateway: &str, report: &McpReport, out: &mut Vec<Finding>) {
        for l in &report.listings {
            if !l.matches() {
                let mut evidence = vec![
                    ("identity", l.identity.clone()),
                    ("expected", l.expected.join(", ")),
                    ("listed", l.listed.join(", ")),
                ];
                if !l.differing.is_empty() {
                    evidence.push(("defined otherwise", l.differing.join("; ")));
                }
                out.push(Finding {
                    rule: rule(
                        "verify/mcp-listing-mismatch",
                        "The MCP face lists other tools than the configuration permits",
                    ),
                    level: Level::Error,
                    subject: format!("{} tools for {}", l.api, l.identity),
                    message: format!(
                        "tools/list as {} on {}: {}",
                        l.identity,
                        l.api,
                        l.problems()
                    ),
                    file: self.config_file.clone(),
                    evidence,
                });
            }
            if !l.consistent() {
                out.push(Finding {
                    rule: rule(
                        "verify/mcp-listing-inconsistent",
                        "An operation allowed over HTTP whose tool is not listed",
                    ),
                    level: Level::Error,
                    subject: format!("{} tools for {}", l.api, l.identity),
                    message: format!(
                        "as {} on {}, allowed over HTTP but not listed: {}",
                        l.identity,
                        l.api,
                        l.allowed_unlisted.join("; ")
                    ),
                    file: self.config_file.clone(),
                    evidence: vec![
                        ("identity", l.identity.clone()),
                        ("listed", l.listed.join(", ")),
                    ],
                });
            }
        }
        for c in report.call_mismatches() {
            out.push(self.call_finding(c));
        }
        for f in &report.failures {
            out.push(Finding {
                rule: rule(
                    "verify/mcp-protocol",
                    "The MCP face answered otherwise than the protocol says",
                ),
                level: Level::Error,
                subject: format!("{gateway}/mcp"),
                message: format!("{} as {} on {}: {}", f.step, f.identity, f.api, f.message),
                file: self.config_file.clone(),
                evidence: vec![("identity", f.identity.clone()), ("step", f.step.clone())],
            });
        }
        for (what, why) in &report.skipped {
            out.push(Finding {
                rule: rule("verify/skipped", "A check that could not be made"),
                level: Level::Note,
                subject: format!("mcp {what}"),
                message: format!("mcp {what}: not checked: {why}"),
                file: self.config_file.clone(),
                evidence: Vec::new(),
            });
        }
    }

    pub(super) fn call_finding(&self, c: &McpCall) -> Finding {
        let (rule, message) = match (&c.flaw, c.expected == c.got) {
            (Some(Flaw::Shape(s) | Flaw::Unchecked(s)), true) => (
                rule(
                    "verify/problem-shape",
                    "A refusal that is not the one problem+json shape with a catalogued code",
                ),
                format!("mcp {} to {}: {s}", c.kind, c.operation),
            ),
            _ => (
                rule(
                    "verify/mcp-negative-mismatch",
                    "A tools/call answered otherwise than the same request over HTTP must be",
                ),
                format!(
                    "{} negative as {} through tools/call {}: over HTTP it must be refused with `{}`, the MCP face {}",
                    c.kind,
                    c.identity,
                    c.tool,
                    c.expected,
                    if c.got == "forwarded" {
                        format!("let it through ({})", c.via)
                    } else {
                        format!("answered `{}` ({})", c.got, c.via)
                    }
                ),
            ),
        };
        let mut evidence = vec![
            ("call", c.request.clone()),
            ("identity", c.identity.clone()),
            ("expected", c.expected.clone()),
            ("got", format!("{} ({})", c.got, c.via)),
        ];
        if let Some(flaw) = &c.flaw {
            evidence.push(("flaw", flaw.text().to_owned()));
        }
        Finding {
            rule,
            level: Level::Error,
            subject: format!("{}:{}", c.api, c.operation),
            message,
            file: self.contract_of(&c.api),
            evidence,
        }
    }
}

#[cfg(test)]
mod tests;
