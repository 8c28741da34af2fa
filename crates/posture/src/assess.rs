//! Facts to findings: each rule is one function, named by its stable rule
//! id, mapped to one OWASP NHI Top 10 (2025) risk, with its evidence. Pure:
//! "now" and every threshold are inputs.

use serde::Serialize;

use crate::facts::{Facts, IdentityFacts};

mod rules;
use crate::{Nhi, Thresholds};
use rules::{gateway_findings, identity_findings};

pub(super) const DAY: i64 = 86_400;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Low,
    Medium,
    High,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
        }
    }
}

/// One thing wrong, about one identity or API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Stable: `posture/<name>`.
    pub rule: &'static str,
    /// `NHI1:2025` ...
    pub nhi: &'static str,
    pub risk: &'static str,
    pub severity: Severity,
    /// The identity (or `api:<name>`, `tokens`) it is about.
    pub subject: String,
    pub message: String,
    /// What shows it, as name and value.
    pub evidence: std::collections::BTreeMap<String, String>,
}

/// One identity as the inventory table shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InventoryRow {
    pub id: String,
    pub kind: String,
    pub owner: String,
    pub environment: String,
    pub state: String,
    /// Days since last use; `None`: never used.
    pub idle_days: Option<i64>,
    pub credentials: usize,
    /// Age in days of its oldest usable secret (API key or client secret).
    pub oldest_secret_days: Option<i64>,
    pub requests: u64,
    pub open_alerts: u64,
}

/// The whole report.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub generated: i64,
    pub window_days: u32,
    pub inventory: Vec<InventoryRow>,
    pub findings: Vec<Finding>,
    /// Risks no rule here assesses, and why.
    pub not_assessed: Vec<(&'static str, &'static str)>,
}

/// The report of `facts` against `limits`.
pub fn assess(facts: &Facts, limits: &Thresholds) -> Report {
    let mut findings = Vec::new();
    for f in &facts.identities {
        identity_findings(facts, limits, f, &mut findings);
    }
    gateway_findings(facts, limits, &mut findings);
    findings.sort_by(|a, b| {
        (a.nhi_order(), &a.subject, a.rule).cmp(&(b.nhi_order(), &b.subject, b.rule))
    });
    let inventory = facts.identities.iter().map(|f| row(facts, f)).collect();
    let mut not_assessed = vec![(
        Nhi::VulnerableThirdParty.id(),
        "third-party extensions and SaaS holding these identities' credentials are outside the gateway's view",
    )];
    if facts.environment.is_none() {
        not_assessed.push((
            Nhi::EnvironmentIsolation.id(),
            "no environment was given for this gateway (`posture --environment`, `?environment=`) to compare identities' environments with",
        ));
    }
    if !facts.ledger_read {
        not_assessed.push((
            "usage",
            "the audit ledger could not be read: no finding that needs usage was made",
        ));
    }
    Report {
        generated: facts.now,
        window_days: facts.window_days,
        inventory,
        findings,
        not_assessed,
    }
}

impl Report {
    /// The findings grouped by risk, in the Top 10's order; a risk with no
    /// finding is left out.
    pub fn by_risk(&self) -> impl Iterator<Item = (Nhi, Vec<&Finding>)> {
        Nhi::ALL.into_iter().filter_map(|nhi| {
            let these: Vec<&Finding> = self.findings.iter().filter(|f| f.nhi == nhi.id()).collect();
            (!these.is_empty()).then_some((nhi, these))
        })
    }
}

impl Finding {
    fn nhi_order(&self) -> usize {
        Nhi::ALL
            .iter()
            .position(|n| n.id() == self.nhi)
            .unwrap_or(usize::MAX)
    }
}

fn row(facts: &Facts, f: &IdentityFacts) -> InventoryRow {
    let i = &f.identity;
    InventoryRow {
        id: i.id.clone(),
        kind: i.kind.as_str().to_owned(),
        owner: i.owner.clone(),
        environment: i.environment.clone(),
        state: i.state.as_str().to_owned(),
        idle_days: i.last_used.map(|t| (facts.now - t) / DAY),
        credentials: f
            .credentials
            .iter()
            .filter(|c| !c.revoked && c.expires > facts.now)
            .count(),
        oldest_secret_days: oldest_secret(facts, f).map(|c| (facts.now - c.created) / DAY),
        requests: f.usage.requests,
        open_alerts: f.usage.open_alerts.values().map(|(n, _)| n).sum(),
    }
}

pub(super) fn oldest_secret<'a>(
    facts: &Facts,
    f: &'a IdentityFacts,
) -> Option<&'a crate::CredentialFacts> {
    f.credentials
        .iter()
        .filter(|c| !c.revoked && c.expires > facts.now && c.kind != "private-key-jwt")
        .min_by_key(|c| c.created)
}
