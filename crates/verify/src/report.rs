//! What one `verify` run found, in one model every output is drawn from:
//! the coverage matrix and policy findings (always), discovery and
//! conformance (when asked for), and the findings list with rule ids and
//! levels that the exit code, SARIF, JUnit and the HTML page all share.

use std::time::Duration;

use crate::discover::Risk;
use portcullis_policy::Analysis;

use crate::conform::{self, Flaw};
use crate::discovery as discover;

pub mod html;
pub mod junit;
mod mcp;
pub mod sarif;
mod summary;

/// One run of `verify`.
#[derive(Debug)]
pub struct Verification {
    /// The configuration file, as given.
    pub config_file: String,
    /// Each API's contract file, as a path from where `verify` ran.
    pub contracts: Vec<(String, String)>,
    pub analysis: Analysis,
    /// The policy findings the configuration accepts, with their reasons.
    pub accept: portcullis_config::Acceptances,
    /// The upstream probed, and what was found.
    pub discovery: Option<(String, discover::Report)>,
    /// The gateway checked, and what was found.
    pub conformance: Option<(String, conform::Report)>,
    /// Discovered routes at least this risky fail the run; `None`: never.
    pub fail_on: Option<Risk>,
    pub elapsed: Duration,
}

/// How much a finding matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Note,
    Warning,
    Error,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Note => "note",
            Level::Warning => "warning",
            Level::Error => "error",
        }
    }
}

/// What kind of finding: a stable id, a name and a sentence.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Rule {
    pub id: String,
    pub description: String,
}

/// One finding.
#[derive(Debug, Clone)]
pub struct Finding {
    pub rule: Rule,
    pub level: Level,
    /// What it is about: an operation, a route, a policy.
    pub subject: String,
    pub message: String,
    /// The file a code scanner shows it against.
    pub file: String,
    pub evidence: Vec<(&'static str, String)>,
}

fn rule(id: &str, description: &str) -> Rule {
    Rule {
        id: id.to_owned(),
        description: description.to_owned(),
    }
}

impl Verification {
    /// Whether the run fails: any conformance mismatch (the MCP face's
    /// included), a conformance that could check nothing (it proves
    /// nothing), or a discovered route at least as risky as `fail_on`.
    pub fn failed(&self) -> bool {
        let mismatch = self.conformance.as_ref().is_some_and(|(_, r)| {
            r.checks.is_empty() || r.mismatches().next().is_some() || r.mcp.failed()
        });
        let risky = match (&self.discovery, self.fail_on) {
            (Some((_, r)), Some(fail_on)) => r.worst().is_some_and(|w| w >= fail_on),
            _ => false,
        };
        mismatch || risky
    }

    fn contract_of(&self, api: &str) -> String {
        self.contracts
            .iter()
            .find(|(name, _)| name == api)
            .or(self.contracts.first())
            .map_or_else(|| self.config_file.clone(), |(_, file)| file.clone())
    }

    /// Every finding, worst first.
    pub fn findings(&self) -> Vec<Finding> {
        let mut out = Vec::new();
        if let Some((gateway, report)) = &self.conformance {
            if report.checks.is_empty() {
                out.push(Finding {
                    rule: rule(
                        "verify/nothing-checked",
                        "Conformance could send no request: it proves nothing",
                    ),
                    level: Level::Error,
                    subject: gateway.clone(),
                    message: format!(
                        "no request could be checked through {gateway}: see why each identity and operation was skipped"
                    ),
                    file: self.config_file.clone(),
                    evidence: Vec::new(),
                });
            }
            for c in report.checks.iter().filter(|c| !c.matches()) {
                out.push(self.check_finding(c));
            }
            for (what, why) in &report.skipped {
                out.push(Finding {
                    rule: rule("verify/skipped", "A check that could not be made"),
                    level: Level::Note,
                    subject: what.clone(),
                    message: format!("{what}: not checked: {why}"),
                    file: self.config_file.clone(),
                    evidence: Vec::new(),
                });
            }
            self.mcp_findings(gateway, &report.mcp, &mut out);
        }
        if let Some((upstream, report)) = &self.discovery {
            self.discovery_findings(upstream, report, &mut out);
        }
        for f in &self.analysis.findings {
            let level = match f.severity {
                portcullis_policy::Severity::Error => Level::Error,
                portcullis_policy::Severity::Warning => Level::Warning,
                portcullis_policy::Severity::Info => Level::Note,
            };
            out.push(Finding {
                rule: rule(&format!("policy/{}", f.rule), "A policy finding of `check`"),
                level,
                subject: f.subject.clone(),
                message: format!("{}: {}", f.subject, f.message),
                file: self.config_file.clone(),
                evidence: f.at.iter().map(|at| ("at", at.clone())).collect(),
            });
        }
        out.sort_by_key(|f| std::cmp::Reverse(f.level));
        out
    }

    /// Why `f` was accepted (`accept:` in the configuration), if it is a
    /// policy finding that was. Accepted findings are still reported.
    pub fn accepted(&self, f: &Finding) -> Option<&str> {
        let rule = f.rule.id.strip_prefix("policy/")?;
        self.accept.reason(rule, &f.subject)
    }

    pub(super) fn check_finding(&self, c: &conform::Check) -> Finding {
        // A wrong code is the mismatch; a right code with a flaw, the flaw.
        let (rule, message) = match (&c.flaw, c.expected == c.got) {
            (Some(Flaw::Shape(s)), true) => (
                rule(
                    "verify/problem-shape",
                    "A refusal that is not the one problem+json shape with a catalogued code",
                ),
                format!("{} to {}: {s}", c.kind, c.operation),
            ),
            (Some(Flaw::Unchecked(s)), true) => (
                rule(
                    "verify/response-unchecked",
                    "A forwarded answer the response check must have changed",
                ),
                format!("{} as {}: {s}", c.operation, c.identity),
            ),
            _ => (
                rule(
                    "verify/mismatch",
                    "The gateway answered a request otherwise than its configuration says",
                ),
                format!(
                    "{} request as {} to {}: the configuration says {}, the gateway {}",
                    c.kind,
                    c.identity,
                    c.operation,
                    c.expected,
                    if c.got == "forwarded" {
                        "forwarded it".to_owned()
                    } else {
                        format!("refused it with `{}`", c.got)
                    }
                ),
            ),
        };
        let mut evidence = vec![
            ("request", c.request.clone()),
            ("identity", c.identity.clone()),
            ("expected", c.expected.clone()),
            ("got", format!("{} ({})", c.got, c.status)),
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

    fn discovery_findings(
        &self,
        upstream: &str,
        report: &discover::Report,
        out: &mut Vec<Finding>,
    ) {
        let level = |risk: Risk| match self.fail_on {
            Some(fail_on) if risk >= fail_on => Level::Error,
            _ if risk >= Risk::ReturnsData => Level::Warning,
            _ => Level::Note,
        };
        let evidence = |e: &crate::discover::Evidence| {
            let mut v = vec![
                ("status", e.status.to_string()),
                ("size", format!("{} bytes", e.size)),
                ("content type", e.content_type.clone()),
                ("first line", e.first_line.clone()),
            ];
            if !e.secrets.is_empty() {
                v.push(("secrets", e.secrets.join(", ")));
            }
            v
        };
        let file = self.contract_of("");
        if let Some(e) = &report.catch_all {
            out.push(Finding {
                rule: rule("verify/catch-all", "The upstream answers every path alike"),
                level: level(Risk::ReturnsData),
                subject: upstream.to_owned(),
                message: format!(
                    "{upstream} answered every random path with {}: routes cannot be told apart",
                    e.status
                ),
                file: file.clone(),
                evidence: evidence(e),
            });
        }
        for f in &report.findings {
            out.push(Finding {
                rule: rule(
                    "verify/undeclared-route",
                    "The upstream answers a route its contract does not declare",
                ),
                level: level(f.risk),
                subject: format!("{} {}", f.method.as_str(), f.path),
                message: format!(
                    "{} {} answers {} on {upstream} and is not in the contract ({}, found by {})",
                    f.method.as_str(),
                    f.path,
                    f.evidence.status,
                    f.risk.as_str(),
                    f.why
                ),
                file: file.clone(),
                evidence: evidence(&f.evidence),
            });
        }
    }
}

/// `text` safe inside XML or HTML text and attribute values.
pub use portcullis_core::escape_markup as escape;

#[cfg(test)]
mod tests;
