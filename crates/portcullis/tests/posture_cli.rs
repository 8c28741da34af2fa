//! `portcullis posture` on the example after some traffic: every format
//! carries the same findings, each naming its OWASP NHI Top 10 id; the HTML
//! page renders in headless Chromium, self-contained, with what an
//! identity's owner wrote shown as text.

#![allow(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::panic,
    reason = "test code: a missing value should fail the test"
)]

use std::path::Path;

use portcullis_testkit::ExampleCopy;
use portcullis_testkit::raw::{get, with_header};
use portcullis_testkit::served::Served;
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_portcullis");

fn cli(config: &Path, args: &[&str]) -> (Option<i32>, String, String) {
    portcullis_testkit::served::cli(BIN, config, args)
}

#[test]
fn every_format_has_the_findings_and_the_page_renders() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let orders = runtime
        .block_on(portcullis_example_orders::OrdersApi::start(
            "127.0.0.1:0".parse().unwrap(),
        ))
        .unwrap();
    let dir = ExampleCopy::serving("posture-cli", &format!("http://{}", orders.addr()));
    let config = dir.config();
    let owner = "<script>alert(1)</script>";
    let add = [
        "identity",
        "add",
        "crawler",
        "--kind",
        "agent",
        "--owner",
        owner,
        "--env",
        "prod",
        "--scope",
        "orders:read",
        "--scope",
        "customers:read",
        "--tag",
        "reporting",
    ];
    assert_eq!(cli(&config, &add).0, Some(0));
    let (_, key, _) = cli(
        &config,
        &["identity", "rotate", "crawler", "--kind", "api-key"],
    );
    let key = key.trim().to_owned();
    let served = Served::start(BIN, &config);
    let send = |target: &str| {
        runtime.block_on(portcullis_testkit::send(
            served.addr,
            &with_header(&get(target), "X-Api-Key", &key),
        ))
    };
    assert_eq!(send("/orders/v1/orders").status, 200);
    for i in 0..10 {
        assert_eq!(send(&format!("/orders/v1/probe-{i}")).status, 404);
    }
    std::thread::sleep(std::time::Duration::from_millis(500));
    served.terminate();

    let (code, json, stderr) = cli(
        &config,
        &["posture", "--format", "json", "--environment", "prod"],
    );
    assert_eq!(code, Some(0), "{stderr}");
    let doc: Value = serde_json::from_str(&json).unwrap();
    let findings = doc["findings"].as_array().unwrap();
    let has = |rule: &str, nhi: &str, subject: &str| {
        findings
            .iter()
            .any(|f| f["rule"] == rule && f["nhi"] == nhi && f["subject"] == subject)
    };
    assert!(
        has("posture/static-api-key", "NHI4:2025", "crawler"),
        "{json}"
    );
    assert!(has("posture/open-alert", "NHI2:2025", "crawler"), "{json}");
    assert!(
        has("posture/unused-scope", "NHI5:2025", "crawler"),
        "{json}"
    );
    assert!(
        findings
            .iter()
            .all(|f| f["nhi"].as_str().unwrap().starts_with("NHI"))
    );
    let inventory: Vec<&str> = doc["inventory"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    for id in ["crawler", "reporting-agent", "stale-bot"] {
        assert!(inventory.contains(&id), "{inventory:?}");
    }

    let (_, sarif, _) = cli(
        &config,
        &["posture", "--format", "sarif", "--environment", "prod"],
    );
    let sarif: Value = serde_json::from_str(&sarif).unwrap();
    assert_eq!(
        sarif["runs"][0]["results"].as_array().unwrap().len(),
        findings.len()
    );
    let (_, text, _) = cli(&config, &["posture", "--environment", "prod"]);
    assert!(
        text.contains("NHI4:2025 Insecure Authentication")
            && text.contains("posture/static-api-key crawler"),
        "{text}"
    );

    let page = dir.join("posture.html");
    let (code, _, stderr) = cli(
        &config,
        &[
            "posture",
            "--format",
            "html",
            "-o",
            page.to_str().unwrap(),
            "--environment",
            "prod",
        ],
    );
    assert_eq!(code, Some(0), "{stderr}");
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(
        !html.contains("<script") && !html.contains("src=") && !html.contains("href="),
        "self-contained, no script"
    );
    if let Some(dom) = portcullis_testkit::browser::rendered(&page, &dir) {
        assert!(dom.contains("<h1>Posture</h1>"), "{dom}");
        assert!(
            dom.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "the owner shows as text"
        );
        assert!(dom.contains("id=\"NHI4:2025\"") && dom.contains("posture/static-api-key"));
        assert_eq!(dom.matches("<tr>").count(), inventory.len() + 1);
    }
    drop(orders);
}
