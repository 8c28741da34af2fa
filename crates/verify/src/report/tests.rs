#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "test code: a missing value should fail the test"
)]

use std::time::Duration;

use crate::discover::{Evidence, Risk};
use portcullis_contract::Method;
use portcullis_policy::{Analysis, Basis, Cell, Coverage, Severity};
use serde_json::Value;

use super::{Level, Verification, html, junit, sarif};
use crate::conform::{Check, Flaw, Report};
use crate::discovery as discover;

fn check(
    identity: &str,
    op: &str,
    request: &str,
    expected: &str,
    got: &str,
    flaw: Option<Flaw>,
) -> Check {
    Check {
        kind: "valid".into(),
        identity: identity.into(),
        api: "orders".into(),
        operation: op.into(),
        request: request.into(),
        expected: expected.into(),
        got: got.into(),
        status: if got == "forwarded" { 200 } else { 403 },
        flaw,
    }
}

fn evidence(status: u16, secrets: Vec<&'static str>) -> Evidence {
    Evidence {
        status,
        size: 42,
        content_type: "application/json".into(),
        first_line: "{\"database_url\":\"postgres://orders:[redacted]@db\"}".into(),
        secrets,
    }
}

fn run() -> Verification {
    let analysis = Analysis {
        findings: vec![portcullis_policy::Finding {
            severity: Severity::Warning,
            rule: "wide-open",
            subject: "orders:listOrders".into(),
            message: "every identity may call it".into(),
            at: Some("policies/reads.cedar:7".into()),
            basis: Basis::Proven,
        }],
        coverage: Coverage {
            identities: vec!["reporting-agent".into(), "partner".into()],
            operations: vec!["orders:listOrders".into(), "orders:getOrder".into()],
            cells: vec![
                vec![Cell::Allow, Cell::Deny],
                vec![Cell::Allow, Cell::NoScope],
            ],
        },
    };
    let conformance = Report {
        checks: vec![
            check(
                "reporting-agent",
                "listOrders",
                "GET /orders/v1/orders",
                "forwarded",
                "forwarded",
                None,
            ),
            check(
                "partner",
                "listOrders",
                "GET /orders/v1/orders?x=<script>alert(1)</script>",
                "forbidden",
                "forwarded",
                None,
            ),
            check(
                "reporting-agent",
                "getOrder",
                "GET /orders/v1/orders/1",
                "forwarded",
                "forwarded",
                Some(Flaw::Unchecked(
                    "forwarded 2 undeclared field(s) the response check removes".into(),
                )),
            ),
            Check {
                kind: "discovered-route".into(),
                operation: "/debug/config".into(),
                ..check(
                    "reporting-agent",
                    "",
                    "GET /orders/debug/config",
                    "undeclared-route",
                    "undeclared-route",
                    None,
                )
            },
        ],
        skipped: vec![(
            "orders:createOrder".into(),
            "a write operation (use --allow-writes)".into(),
        )],
        mcp: crate::conform::McpReport::default(),
    };
    let discovery = discover::Report {
        findings: vec![
            discover::Finding {
                method: Method::Get,
                path: "/debug/config".into(),
                why: "word",
                risk: Risk::RevealsSecret,
                evidence: evidence(200, vec!["url-password"]),
            },
            discover::Finding {
                method: Method::Get,
                path: "/v1/orders/".into(),
                why: "normalisation",
                risk: Risk::Answers,
                evidence: evidence(204, vec![]),
            },
        ],
        catch_all: None,
        requests: 120,
        throttled: 2,
    };
    Verification {
        config_file: "examples/orders/portcullis.yaml".into(),
        contracts: vec![("orders".into(), "examples/orders/openapi.yaml".into())],
        analysis,
        accept: portcullis_config::Acceptances::default(),
        discovery: Some(("http://127.0.0.1:9000".into(), discovery)),
        conformance: Some(("http://127.0.0.1:8080".into(), conformance)),
        fail_on: Some(Risk::ReturnsData),
        elapsed: Duration::from_millis(4200),
    }
}

#[test]
fn a_run_fails_on_a_mismatch_or_a_route_at_the_chosen_risk() {
    let mut r = run();
    assert!(r.failed());
    r.conformance
        .as_mut()
        .unwrap()
        .1
        .checks
        .retain(|c| c.matches());
    assert!(r.failed(), "the secret-revealing route still fails it");
    r.fail_on = None;
    assert!(!r.failed(), "--fail-on never");
    r.fail_on = Some(Risk::RevealsSecret);
    r.discovery.as_mut().unwrap().1.findings.remove(0);
    assert!(!r.failed(), "an answering route is below reveals-secret");
}

#[test]
fn every_finding_has_a_rule_a_level_and_evidence() {
    let findings = run().findings();
    let rules: Vec<(&str, Level)> = findings
        .iter()
        .map(|f| (f.rule.id.as_str(), f.level))
        .collect();
    assert_eq!(
        rules,
        [
            ("verify/mismatch", Level::Error),
            ("verify/response-unchecked", Level::Error),
            ("verify/undeclared-route", Level::Error),
            ("policy/wide-open", Level::Warning),
            ("verify/skipped", Level::Note),
            ("verify/undeclared-route", Level::Note),
        ]
    );
    let mismatch = &findings[0];
    assert_eq!(mismatch.subject, "orders:listOrders");
    assert!(
        mismatch
            .message
            .contains("the configuration says forbidden, the gateway forwarded it")
    );
    assert!(
        mismatch
            .evidence
            .iter()
            .any(|(k, v)| *k == "request" && v.contains("<script>"))
    );
    assert_eq!(findings[2].subject, "GET /debug/config");
    assert!(
        findings[2]
            .evidence
            .iter()
            .any(|(k, v)| *k == "secrets" && v == "url-password")
    );
}

#[test]
fn the_summary_counts_each_part() {
    let text = run().summary_text();
    assert!(text.contains("2 operations × 2 identities"), "{text}");
    assert!(text.contains("120 requests (2 throttled)"), "{text}");
    assert!(text.contains("2 undeclared routes answer"), "{text}");
    assert!(text.contains("1 as expected, 2 mismatches"), "{text}");
    assert!(
        text.contains("1 sent through the gateway") && text.contains("1 refused as configured"),
        "{text}"
    );
    assert!(
        text.contains("FAILED: 3 error finding(s), in 4.2 s"),
        "{text}"
    );
}

#[test]
fn the_text_of_discovery_and_conformance_lists_every_line() {
    let run = run();
    let (upstream, found) = run.discovery.as_ref().unwrap();
    let text = discover::text(found, upstream);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "discovery on http://127.0.0.1:9000: 120 requests (2 throttled)"
    );
    assert!(
        lines[1].trim_start().starts_with("reveals-secret  GET"),
        "{text}"
    );
    assert!(lines[1].ends_with("secrets: url-password"), "{text}");
    assert_eq!(
        lines.last().copied(),
        Some("2 undeclared routes answer: 1 reveals-secret, 1 answers")
    );
    let (gateway, report) = run.conformance.as_ref().unwrap();
    let text = report.text(gateway);
    assert_eq!(text.matches("MISMATCH").count(), 2, "{text}");
    assert!(
        text.contains("  skipped  orders:createOrder: a write operation (use --allow-writes)\n"),
        "{text}"
    );
    assert!(
        text.ends_with(
            "conformance of http://127.0.0.1:8080: 4 requests checked, 2 mismatches, 1 skipped\n"
        ),
        "{text}"
    );
}

#[test]
fn the_json_document_carries_every_part_and_the_same_findings() {
    let run = run();
    let json = run.to_json();
    assert_eq!(json["failed"], Value::Bool(true));
    assert_eq!(json["elapsed_ms"], 4200);
    assert_eq!(json["discovery"]["upstream"], "http://127.0.0.1:9000");
    assert_eq!(json["discovery"]["findings"].as_array().unwrap().len(), 2);
    assert_eq!(json["conformance"]["gateway"], "http://127.0.0.1:8080");
    assert_eq!(
        json["findings"].as_array().unwrap().len(),
        run.findings().len()
    );
}

#[test]
fn a_catch_all_upstream_is_one_line_not_a_list() {
    let found = discover::Report {
        catch_all: Some(evidence(200, vec![])),
        requests: 3,
        ..discover::Report::default()
    };
    let text = discover::text(&found, "http://127.0.0.1:9000");
    assert_eq!(text.lines().count(), 2, "{text}");
    assert!(
        text.contains("catch-all: every random path answered 200"),
        "{text}"
    );
}

#[test]
fn sarif_results_point_at_their_rules_and_files() {
    let doc = sarif::render(&run());
    assert_eq!(doc["version"], "2.1.0");
    let run = &doc["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), 6);
    for r in results {
        let index = usize::try_from(r["ruleIndex"].as_u64().unwrap()).unwrap();
        assert_eq!(rules[index]["id"], r["ruleId"]);
        assert!(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].is_string());
        assert!(
            r["partialFingerprints"]["portcullisFinding/v1"]
                .as_str()
                .unwrap()
                .len()
                == 16
        );
    }
    let policy = results
        .iter()
        .find(|r| r["ruleId"] == "policy/wide-open")
        .unwrap();
    assert_eq!(
        policy["locations"][0]["physicalLocation"]["region"]["startLine"],
        7
    );
    let unchecked = results
        .iter()
        .find(|r| r["ruleId"] == "verify/response-unchecked")
        .unwrap();
    assert_eq!(
        unchecked["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "examples/orders/openapi.yaml"
    );
    let ids: Vec<&Value> = rules.iter().map(|r| &r["id"]).collect();
    let mut unique = ids.clone();
    unique.dedup();
    assert_eq!(ids.len(), unique.len(), "each rule listed once");
}

#[test]
fn junit_counts_match_its_cases_and_text_is_escaped() {
    let xml = junit::render(&run());
    assert!(xml.starts_with("<?xml"));
    assert_eq!(xml.matches("<testcase ").count(), 5 + 2 + 1, "{xml}");
    assert!(
        xml.contains("<testsuites name=\"portcullis verify\" tests=\"8\" failures=\"3\""),
        "{xml}"
    );
    assert!(xml.contains("<skipped message=\"a write operation (use --allow-writes)\"/>"));
    assert!(
        !xml.contains("<script>") && xml.contains("&lt;script&gt;"),
        "{xml}"
    );
    assert_eq!(
        xml.matches("<testsuite ").count(),
        xml.matches("</testsuite>").count()
    );
}

#[test]
fn the_page_has_the_matrix_findings_and_routes_and_escapes_what_it_shows() {
    let page = html::render(&run());
    assert!(page.contains("<table id=\"matrix\">"));
    assert!(page.contains("<td class=\"cell allow\">allow<span class=\"seen\""));
    assert!(
        page.contains("<td class=\"cell deny mismatch\">deny"),
        "the partner's cell shows the mismatch"
    );
    assert!(page.contains("✗ forwarded (expected forbidden)"));
    assert_eq!(page.matches("<tr class=\"finding ").count(), 6);
    assert!(page.contains("<td class=\"risk-reveals-secret\">reveals-secret</td>"));
    assert!(
        page.contains("✓ undeclared-route (403)"),
        "the route through the gateway"
    );
    assert!(
        !page.contains("<script>alert"),
        "text from the run is escaped"
    );
    assert!(
        !page.contains("http://") || page.matches("src=").count() == 0,
        "nothing loaded from elsewhere"
    );
    assert_eq!(page.matches("<script>").count(), 1);
}

#[test]
fn an_accepted_policy_finding_is_a_suppressed_sarif_result_never_dropped() {
    let mut r = run();
    let before = sarif::render(&r)["runs"][0]["results"]
        .as_array()
        .unwrap()
        .len();
    let finding = r
        .findings()
        .into_iter()
        .find(|f| f.rule.id == "policy/wide-open")
        .unwrap();
    r.accept = portcullis_config::Acceptances::from_entries(
        "portcullis.yaml",
        vec![portcullis_config::Acceptance {
            rule: "wide-open".into(),
            subject: finding.subject.clone(),
            reason: "every reader may list orders".into(),
            line: 3,
        }],
    );
    let doc = sarif::render(&r);
    let results = doc["runs"][0]["results"].as_array().unwrap();
    assert_eq!(
        results.len(),
        before,
        "an accepted finding is still reported"
    );
    let policy = results
        .iter()
        .find(|x| x["ruleId"] == "policy/wide-open")
        .unwrap();
    assert_eq!(
        policy["suppressions"],
        serde_json::json!([{"kind": "inSource", "justification": "every reader may list orders"}])
    );
    assert!(
        results
            .iter()
            .filter(|x| x["ruleId"] != "policy/wide-open")
            .all(|x| x.get("suppressions").is_none())
    );
    let json = r.to_json();
    let accepted: Vec<&Value> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["accepted"].is_string())
        .collect();
    assert_eq!(accepted.len(), 1);
}
