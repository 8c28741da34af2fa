//! `portcullis verify --discover --upstream URL`: probes the upstream
//! directly for routes that answer but are not in the contract, and reports
//! each with its evidence and risk.
//!
//! Steps: a baseline of random paths (the upstream's own not-found; all of
//! them succeeding means a catch-all, reported once); ids harvested from
//! the declared parameterless reads; then the candidates (see
//! `portcullis_verify::discover`), paced at `--rate` a second, at most
//! `--max-requests`, backing off when the upstream answers 429. Only reads
//! unless `--allow-writes`.

use std::collections::BTreeMap;
use std::time::Duration;

use portcullis_contract::Method;
use portcullis_contract::secrets::SecretScanner;
use portcullis_verify::discover::{
    Baseline, Candidate, Declared, Evidence, Fingerprint, Ids, Risk, candidates, classify,
    collection_of, harvest_ids,
};
use serde_json::{Value, json};

use super::progress::Progress;
use super::wire::{self, Target};

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

/// Runs discovery against `target` for an API whose contract declares
/// `declared`.
///
/// # Errors
/// The upstream cannot be reached at all.
pub async fn run(
    target: &Target,
    declared: &[Declared],
    limits: &Limits,
    scanner: &SecretScanner,
    progress: &mut Progress,
) -> Result<Report, String> {
    let mut probe = Pacer::new(target, limits);
    progress.start("discovery", limits.max_requests);
    let mut report = Report::default();
    let mut baseline = Vec::new();
    let mut last = None;
    for n in 0..3 {
        // Random, so no baseline path exists by chance.
        let path = format!("/portcullis-verify-{:016x}-{n}", fastrand::u64(..));
        let answer = probe.send("GET", &path).await?;
        progress.tick();
        baseline.push(Fingerprint::of(
            answer.status,
            answer.header("content-type"),
            &answer.body,
        ));
        last = Some(answer);
    }
    let baseline = Baseline::new(baseline);
    if baseline.catch_all() {
        if let Some(answer) = last {
            let (_, evidence) = classify(
                Method::Get,
                answer.status,
                answer.header("content-type"),
                &answer.body,
                scanner,
            );
            report.catch_all = Some(evidence);
        }
        report.requests = probe.sent;
        report.throttled = probe.throttled;
        return Ok(report);
    }
    let mut ids = Ids::new();
    for d in declared
        .iter()
        .filter(|d| d.methods.contains(&Method::Get) && !d.template.contains('{'))
    {
        if probe.sent >= limits.max_requests {
            break;
        }
        let answer = probe.send("GET", &d.template).await;
        progress.tick();
        if let Ok(answer) = answer
            && let Ok(value) = serde_json::from_slice::<Value>(&answer.body)
        {
            harvest_ids(&value, collection_of(&d.template), &mut ids);
        }
    }
    let budget = limits.max_requests.saturating_sub(probe.sent);
    let candidates = candidates(declared, &ids, limits.allow_writes, budget);
    progress.set_total(probe.sent + candidates.len());
    for Candidate { method, path, why } in candidates {
        let answer = probe.send(method.as_str(), &path).await;
        progress.tick();
        let answer = match answer {
            Ok(a) => a,
            Err(e) => {
                tracing::debug!(error = %e, path, "no answer");
                continue;
            }
        };
        let print = Fingerprint::of(answer.status, answer.header("content-type"), &answer.body);
        // A declared path refusing a method it does not declare is doing
        // its job; only what else it does is a finding.
        if !baseline.answers(&print) || (why == "method" && matches!(answer.status, 404 | 405)) {
            continue;
        }
        let (risk, evidence) = classify(
            method,
            answer.status,
            answer.header("content-type"),
            &answer.body,
            scanner,
        );
        report.findings.push(Finding {
            method,
            path,
            why,
            risk,
            evidence,
        });
    }
    report
        .findings
        .sort_by(|a, b| b.risk.cmp(&a.risk).then_with(|| a.path.cmp(&b.path)));
    report.requests = probe.sent;
    report.throttled = probe.throttled;
    progress.finish();
    Ok(report)
}

/// Prints the report as a table.
pub fn print(report: &Report, upstream: &str) {
    println!(
        "discovery on {upstream}: {} requests ({} throttled)",
        report.requests, report.throttled
    );
    if let Some(e) = &report.catch_all {
        println!(
            "catch-all: every random path answered {} ({}); routes cannot be told apart, so none are listed",
            e.status, e.content_type
        );
        return;
    }
    if report.findings.is_empty() {
        println!("no undeclared route answered");
        return;
    }
    let mut by_risk: BTreeMap<Risk, usize> = BTreeMap::new();
    for f in &report.findings {
        *by_risk.entry(f.risk).or_default() += 1;
        let secrets = if f.evidence.secrets.is_empty() {
            String::new()
        } else {
            format!("  secrets: {}", f.evidence.secrets.join(", "))
        };
        println!(
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
    println!(
        "{} undeclared routes answer: {}",
        report.findings.len(),
        summary.join(", ")
    );
}

/// Sends at a steady pace, counts, and backs off on 429.
struct Pacer<'t> {
    target: &'t Target,
    gap: Duration,
    sent: usize,
    throttled: usize,
}

impl<'t> Pacer<'t> {
    fn new(target: &'t Target, limits: &Limits) -> Self {
        Self {
            target,
            gap: Duration::from_secs(1) / limits.rate.max(1),
            sent: 0,
            throttled: 0,
        }
    }

    async fn send(&mut self, method: &str, path: &str) -> Result<wire::Answer, String> {
        let mut wait = self.gap;
        for _ in 0..4 {
            tokio::time::sleep(wait).await;
            self.sent += 1;
            let answer = wire::send(self.target, method, path, &[], None).await?;
            if answer.status != 429 {
                return Ok(answer);
            }
            self.throttled += 1;
            let asked = answer
                .header("retry-after")
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(Duration::from_secs);
            wait = asked.unwrap_or(wait * 4).min(Duration::from_secs(10));
        }
        Err(format!(
            "{method} {path}: still rate limited after backing off"
        ))
    }
}
