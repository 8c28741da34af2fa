//! `--format junit`: JUnit XML, so CI systems list each check as a test
//! case: conformance checks (failed on a mismatch, skipped with the
//! reason), the MCP face's listings and calls (likewise), discovered routes
//! (failed at `--fail-on`) and policy findings (failed when they are
//! errors).

use std::fmt::Write as _;

use super::{Finding, Level, Verification, escape};

struct Case {
    class: String,
    name: String,
    failure: Option<(String, String, String)>,
    skipped: Option<String>,
    out: Option<String>,
}

fn suite(out: &mut String, name: &str, cases: &[Case]) {
    let failures = cases.iter().filter(|c| c.failure.is_some()).count();
    let skipped = cases.iter().filter(|c| c.skipped.is_some()).count();
    let _ = writeln!(
        out,
        "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failures}\" errors=\"0\" skipped=\"{skipped}\">",
        escape(name),
        cases.len()
    );
    for c in cases {
        let _ = write!(
            out,
            "    <testcase classname=\"{}\" name=\"{}\"",
            escape(&c.class),
            escape(&c.name)
        );
        if c.failure.is_none() && c.skipped.is_none() && c.out.is_none() {
            out.push_str("/>\n");
            continue;
        }
        out.push_str(">\n");
        if let Some((kind, message, body)) = &c.failure {
            let _ = writeln!(
                out,
                "      <failure type=\"{}\" message=\"{}\">{}</failure>",
                escape(kind),
                escape(message),
                escape(body)
            );
        }
        if let Some(why) = &c.skipped {
            let _ = writeln!(out, "      <skipped message=\"{}\"/>", escape(why));
        }
        if let Some(text) = &c.out {
            let _ = writeln!(out, "      <system-out>{}</system-out>", escape(text));
        }
        out.push_str("    </testcase>\n");
    }
    out.push_str("  </testsuite>\n");
}

fn evidence(f: &Finding) -> String {
    f.evidence
        .iter()
        .map(|(k, v)| format!("{k}: {v}"))
        .collect::<Vec<_>>()
        .join("\n")
}

pub fn render(run: &Verification) -> String {
    let findings = run.findings();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let mut suites: Vec<(&str, Vec<Case>)> = Vec::new();
    if let Some(cases) = conformance(run) {
        suites.push(("conformance", cases));
    }
    if let Some(cases) = mcp(run, &findings) {
        suites.push(("mcp", cases));
    }
    let by_rule = |prefix: &str| -> Vec<Case> {
        findings
            .iter()
            .filter(|f| f.rule.id.starts_with(prefix) && f.rule.id != "verify/skipped")
            .map(|f| Case {
                class: f.rule.id.clone(),
                name: f.subject.clone(),
                failure: (f.level == Level::Error)
                    .then(|| (f.rule.id.clone(), f.message.clone(), evidence(f))),
                skipped: None,
                out: (f.level != Level::Error).then(|| format!("{}\n{}", f.message, evidence(f))),
            })
            .collect()
    };
    if run.discovery.is_some() {
        let cases: Vec<Case> = ["verify/catch-all", "verify/undeclared-route"]
            .iter()
            .flat_map(|rule| by_rule(rule))
            .collect();
        suites.push(("discovery", cases));
    }
    suites.push(("policies", by_rule("policy/")));
    let tests: usize = suites.iter().map(|(_, c)| c.len()).sum();
    let failures: usize = suites
        .iter()
        .flat_map(|(_, c)| c)
        .filter(|c| c.failure.is_some())
        .count();
    let _ = writeln!(
        out,
        "<testsuites name=\"portcullis verify\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\" time=\"{:.3}\">",
        run.elapsed.as_secs_f64()
    );
    for (name, cases) in &suites {
        suite(&mut out, name, cases);
    }
    out.push_str("</testsuites>\n");
    out
}

/// One case per conformance check and per skipped check, when conformance ran.
fn conformance(run: &Verification) -> Option<Vec<Case>> {
    let (_, report) = run.conformance.as_ref()?;
    let mut cases: Vec<Case> = report
        .checks
        .iter()
        .map(|c| Case {
            class: format!("{}:{}", c.api, c.operation),
            name: format!("{} as {}: {}", c.kind, c.identity, c.request),
            failure: (!c.matches()).then(|| {
                let f = run.check_finding(c);
                (f.rule.id.clone(), f.message.clone(), evidence(&f))
            }),
            skipped: None,
            out: None,
        })
        .collect();
    cases.extend(report.skipped.iter().map(|(what, why)| Case {
        class: "skipped".into(),
        name: what.clone(),
        failure: None,
        skipped: Some(why.clone()),
        out: None,
    }));
    Some(cases)
}

/// One case per MCP listing, call and protocol failure, and per skipped
/// MCP check, when the MCP face was checked.
fn mcp(run: &Verification, findings: &[Finding]) -> Option<Vec<Case>> {
    let (_, report) = run.conformance.as_ref()?;
    let report = &report.mcp;
    if report.is_empty() {
        return None;
    }
    let failure = |f: &Finding| (f.rule.id.clone(), f.message.clone(), evidence(f));
    let mut cases: Vec<Case> = report
        .listings
        .iter()
        .map(|l| {
            let subject = format!("{} tools for {}", l.api, l.identity);
            Case {
                class: "mcp-listing".into(),
                name: subject.clone(),
                failure: findings
                    .iter()
                    .find(|f| f.rule.id.starts_with("verify/mcp-listing") && f.subject == subject)
                    .map(failure),
                skipped: None,
                out: None,
            }
        })
        .collect();
    cases.extend(report.calls.iter().map(|c| Case {
        class: format!("{}:{}", c.api, c.operation),
        name: format!("mcp {} as {}: {}", c.kind, c.identity, c.request),
        failure: (!c.matches()).then(|| failure(&run.call_finding(c))),
        skipped: None,
        out: None,
    }));
    cases.extend(
        findings
            .iter()
            .filter(|f| f.rule.id == "verify/mcp-protocol")
            .map(|f| Case {
                class: f.rule.id.clone(),
                name: f.message.clone(),
                failure: Some(failure(f)),
                skipped: None,
                out: None,
            }),
    );
    cases.extend(report.skipped.iter().map(|(what, why)| Case {
        class: "skipped".into(),
        name: format!("mcp {what}"),
        failure: None,
        skipped: Some(why.clone()),
        out: None,
    }));
    Some(cases)
}
