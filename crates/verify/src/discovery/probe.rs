//! The discovery run itself: the only part of discovery that sends (over
//! [`crate::wire`]), paced, counted, backing off on 429.

use std::time::Duration;

use portcullis_contract::Method;
use portcullis_contract::secrets::SecretScanner;
use serde_json::Value;

use super::{Finding, Limits, Report};
use crate::discover::{
    Baseline, Candidate, Declared, Fingerprint, Ids, candidates, classify, collection_of,
    harvest_ids,
};
use crate::progress::Progress;
use crate::wire::{self, Target};

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
    progress: &mut dyn Progress,
) -> Result<Report, String> {
    let mut probe = Pacer::new(target, limits);
    progress.start("discovery", limits.max_requests);
    let mut report = Report::default();
    let (baseline, last) = baseline(&mut probe, progress).await?;
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
    let ids = harvest(&mut probe, declared, limits, progress).await;
    let budget = limits.max_requests.saturating_sub(probe.sent);
    let candidates = candidates(declared, &ids, limits.allow_writes, budget);
    progress.set_total(probe.sent + candidates.len());
    for candidate in candidates {
        if let Some(found) = try_candidate(&mut probe, &baseline, candidate, scanner).await {
            report.findings.push(found);
        }
        progress.tick();
    }
    report
        .findings
        .sort_by(|a, b| b.risk.cmp(&a.risk).then_with(|| a.path.cmp(&b.path)));
    report.requests = probe.sent;
    report.throttled = probe.throttled;
    progress.finish();
    Ok(report)
}

/// The upstream's own not-found, from three random paths, and the last
/// answer (the evidence, if it turns out to answer everything).
async fn baseline(
    probe: &mut Pacer<'_>,
    progress: &mut dyn Progress,
) -> Result<(Baseline, Option<wire::Answer>), String> {
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
    Ok((Baseline::new(baseline), last))
}

/// Ids from the declared parameterless reads, to fill candidates' path
/// parameters.
async fn harvest(
    probe: &mut Pacer<'_>,
    declared: &[Declared],
    limits: &Limits,
    progress: &mut dyn Progress,
) -> Ids {
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
    ids
}

/// Sends one candidate: a finding when it answers unlike the baseline.
async fn try_candidate(
    probe: &mut Pacer<'_>,
    baseline: &Baseline,
    Candidate { method, path, why }: Candidate,
    scanner: &SecretScanner,
) -> Option<Finding> {
    let answer = match probe.send(method.as_str(), &path).await {
        Ok(a) => a,
        Err(e) => {
            tracing::debug!(error = %e, path, "no answer");
            return None;
        }
    };
    let print = Fingerprint::of(answer.status, answer.header("content-type"), &answer.body);
    // A declared path refusing a method it does not declare is doing
    // its job; only what else it does is a finding.
    if !baseline.answers(&print) || (why == "method" && matches!(answer.status, 404 | 405)) {
        return None;
    }
    let (risk, evidence) = classify(
        method,
        answer.status,
        answer.header("content-type"),
        &answer.body,
        scanner,
    );
    Some(Finding {
        method,
        path,
        why,
        risk,
        evidence,
    })
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
