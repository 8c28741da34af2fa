//! The MCP face in every output: its findings under their own rules, the
//! text's lines and counts, the JSON, JUnit's `mcp` suite, SARIF's rules
//! and the page's section; a clean MCP pass fails nothing.

#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "test code: a missing value should fail the test"
)]

use std::time::Duration;

use portcullis_policy::{Analysis, Coverage};

use super::super::{Level, Verification, html, junit, sarif};
use crate::conform::{Check, Flaw, Listing, McpCall, McpFailure, McpReport, Report};

fn listing(identity: &str, listed: &[&str]) -> Listing {
    Listing {
        identity: identity.into(),
        api: "orders".into(),
        expected: vec!["orders_listOrders".into(), "orders_getOrder".into()],
        listed: listed.iter().map(|s| (*s).to_owned()).collect(),
        differing: Vec::new(),
        allowed_unlisted: Vec::new(),
    }
}

fn call(kind: &str, expected: &str, got: &str, flaw: Option<Flaw>) -> McpCall {
    McpCall {
        kind: kind.into(),
        identity: "reporting-agent".into(),
        api: "orders".into(),
        operation: "listOrders".into(),
        tool: "orders_listOrders".into(),
        request: "orders_listOrders {\"query\":{\"limit\":\"not-a-number\"}} (query parameter `limit` given text)".into(),
        expected: expected.into(),
        got: got.into(),
        via: "tool result".into(),
        flaw,
    }
}

/// A clean MCP pass beside one passing HTTP check.
fn clean() -> McpReport {
    McpReport {
        listings: vec![listing(
            "reporting-agent",
            &["orders_listOrders", "orders_getOrder"],
        )],
        calls: vec![call(
            "wrong-type",
            "invalid-request",
            "invalid-request",
            None,
        )],
        not_applicable: [
            (("path-trick".to_owned(), "its spelling".to_owned()), 8),
            (("undeclared-method".to_owned(), "one method".to_owned()), 3),
        ]
        .into_iter()
        .collect(),
        failures: Vec::new(),
        skipped: Vec::new(),
    }
}

fn run(mcp: McpReport) -> Verification {
    let check = Check {
        kind: "valid".into(),
        identity: "reporting-agent".into(),
        api: "orders".into(),
        operation: "listOrders".into(),
        request: "GET /orders/v1/orders".into(),
        expected: "forwarded".into(),
        got: "forwarded".into(),
        status: 200,
        flaw: None,
    };
    Verification {
        config_file: "portcullis.yaml".into(),
        contracts: vec![("orders".into(), "openapi.yaml".into())],
        analysis: Analysis {
            findings: Vec::new(),
            coverage: Coverage {
                identities: Vec::new(),
                operations: Vec::new(),
                cells: Vec::new(),
            },
        },
        accept: portcullis_config::Acceptances::default(),
        discovery: None,
        conformance: Some((
            "http://127.0.0.1:8080".into(),
            Report {
                checks: vec![check],
                skipped: Vec::new(),
                mcp,
            },
        )),
        fail_on: None,
        elapsed: Duration::from_millis(100),
    }
}

/// Everything the MCP pass can find wrong, once each.
fn faulty() -> McpReport {
    let mut mcp = clean();
    mcp.listings.push(listing(
        "partner-connector",
        &["orders_listOrders", "orders_cancelOrder"],
    ));
    mcp.listings.push(Listing {
        allowed_unlisted: vec!["orders_getOrder (the gateway forwarded it)".into()],
        ..listing(
            "fulfilment-service",
            &["orders_listOrders", "orders_getOrder"],
        )
    });
    mcp.calls.push(call(
        "oversized-body",
        "payload-too-large",
        "invalid-request",
        None,
    ));
    mcp.calls.push(call(
        "missing-parameter",
        "invalid-request",
        "invalid-request",
        Some(Flaw::Shape(
            "`invalid-request` answered 200 (body says Some(400))".into(),
        )),
    ));
    mcp.failures.push(McpFailure {
        identity: "stale-bot".into(),
        api: "orders".into(),
        step: "initialize".into(),
        message: "no `Mcp-Session-Id` header (visible ASCII)".into(),
    });
    mcp.skipped
        .push(("ghost on orders".into(), "initialize: no answer".into()));
    mcp
}

#[test]
fn a_clean_mcp_pass_fails_nothing_and_says_what_it_checked() {
    let run = run(clean());
    assert!(!run.failed());
    assert!(run.findings().iter().all(|f| f.level != Level::Error));
    let (gateway, report) = run.conformance.as_ref().unwrap();
    let text = report.text(gateway);
    assert!(
        text.contains(
            "conformance of http://127.0.0.1:8080: 1 requests checked, 0 mismatches, 0 skipped\n"
        ),
        "{text}"
    );
    assert!(
        text.ends_with("mcp face of http://127.0.0.1:8080: 1 listings checked, 0 mismatches; 1 negatives through tools/call, 0 mismatches; 11 not applicable to MCP; 0 protocol failures, 0 skipped\n"),
        "{text}"
    );
    assert!(
        text.contains("  n/a      mcp path-trick ×8: its spelling\n"),
        "{text}"
    );
    let summary = run.summary_text();
    assert!(
        summary.contains("1 listings, 1 negatives as tools/call (11 not applicable)")
            && summary.contains("2 as expected, 0 mismatches, 0 protocol failures"),
        "{summary}"
    );
    // Without an MCP pass, the conformance text ends as it always did.
    let bare = Report::default().text("g");
    assert!(
        bare.ends_with("0 skipped\n") && !bare.contains("mcp"),
        "{bare}"
    );
}

#[test]
fn each_mcp_fault_is_a_finding_under_its_rule() {
    let run = run(faulty());
    assert!(run.failed());
    let findings = run.findings();
    let rules = |id: &str| findings.iter().filter(|f| f.rule.id == id).count();
    assert_eq!(rules("verify/mcp-listing-mismatch"), 1);
    assert_eq!(rules("verify/mcp-listing-inconsistent"), 1);
    assert_eq!(rules("verify/mcp-negative-mismatch"), 1);
    assert_eq!(rules("verify/problem-shape"), 1);
    assert_eq!(rules("verify/mcp-protocol"), 1);
    assert_eq!(rules("verify/skipped"), 1);
    let listing = findings
        .iter()
        .find(|f| f.rule.id == "verify/mcp-listing-mismatch")
        .unwrap();
    assert_eq!(listing.subject, "orders tools for partner-connector");
    assert!(
        listing.message.contains("not listed: orders_getOrder")
            && listing
                .message
                .contains("listed but not permitted: orders_cancelOrder"),
        "{}",
        listing.message
    );
    let negative = findings
        .iter()
        .find(|f| f.rule.id == "verify/mcp-negative-mismatch")
        .unwrap();
    assert!(
        negative
            .message
            .contains("refused with `payload-too-large`")
            && negative
                .message
                .contains("answered `invalid-request` (tool result)"),
        "{}",
        negative.message
    );
    assert_eq!(negative.file, "openapi.yaml");
    // A failing MCP pass fails the run even when every HTTP check passed.
    assert!(
        run.conformance
            .as_ref()
            .unwrap()
            .1
            .mismatches()
            .next()
            .is_none()
    );
}

#[test]
fn every_output_carries_the_mcp_face() {
    let run = run(faulty());
    let (gateway, report) = run.conformance.as_ref().unwrap();
    let text = report.text(gateway);
    assert_eq!(text.matches("MISMATCH").count(), 4, "{text}");
    assert!(
        text.contains("  FAILED   mcp initialize as stale-bot on orders: no `Mcp-Session-Id`"),
        "{text}"
    );
    let json = run.to_json();
    let mcp = &json["conformance"]["mcp"];
    assert_eq!(mcp["listings"].as_array().unwrap().len(), 3);
    assert_eq!(mcp["listings"][1]["extra"][0], "orders_cancelOrder");
    assert_eq!(mcp["mismatches"].as_array().unwrap().len(), 2);
    assert_eq!(mcp["not_applicable"][0]["count"], 8);
    assert_eq!(mcp["failures"][0]["step"], "initialize");
    let xml = junit::render(&run);
    let suite = xml.split("<testsuite name=\"mcp\"").nth(1).unwrap();
    assert!(
        suite.starts_with(" tests=\"8\" failures=\"5\" errors=\"0\" skipped=\"1\">"),
        "{xml}"
    );
    let sarif = sarif::render(&run);
    let ids: Vec<&str> = sarif["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    for id in [
        "verify/mcp-listing-mismatch",
        "verify/mcp-listing-inconsistent",
        "verify/mcp-negative-mismatch",
        "verify/mcp-protocol",
    ] {
        assert!(ids.contains(&id), "{ids:?}");
    }
    let page = html::render(&run);
    assert!(
        page.contains("<table id=\"mcp-listings\">") && page.contains("<table id=\"mcp-calls\">")
    );
    assert!(page.contains(
        "11 negatives have no <code>tools/call</code> form (path-trick 8, undeclared-method 3)"
    ));
}
