//! `portcullis verify --report FILE.html` and `--format sarif|junit`: the
//! HTML page renders in headless Chromium (it loads, its script runs, it
//! shows the matrix and the findings), and the machine formats carry the
//! same findings.
//!
//! Chromium comes from `chromium` (or `chromium-browser`, `google-chrome`)
//! on the PATH, or `PORTCULLIS_CHROMIUM`. `.ci/run` installs it and sets
//! `PORTCULLIS_REQUIRE_BROWSER=1`, so CI always renders; elsewhere, without
//! a browser, the rendering check says so and the rest still runs.

#![allow(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::panic,
    reason = "test code: a missing value should fail the test"
)]

use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_portcullis");

fn config() -> String {
    portcullis_testkit::examples_dir()
        .join("portcullis.yaml")
        .display()
        .to_string()
}

/// Discovery against the example API (fast), in `format`, with the page
/// written to `page`: standard output.
fn discover(upstream: SocketAddr, format: &str, page: &Path) -> String {
    let out = Command::new(BIN)
        .args(["verify", "-c", &config(), "--discover", "--upstream"])
        .arg(format!("http://{upstream}"))
        .args(["--rate", "1000", "--format", format, "--report"])
        .arg(page)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "the debug route reveals secrets: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn the_report_renders_in_a_browser_and_every_format_has_the_findings() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let api = runtime
        .block_on(portcullis_example_orders::OrdersApi::start(
            SocketAddr::from(([127, 0, 0, 1], 0)),
        ))
        .unwrap();
    let scratch =
        std::env::temp_dir().join(format!("portcullis-verify-report-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&scratch);
    std::fs::create_dir_all(&scratch).unwrap();
    let page = scratch.join("report.html");

    let doc: Value = serde_json::from_str(&discover(api.addr(), "json", &page)).unwrap();
    let findings = doc["findings"].as_array().unwrap();
    let routes = doc["discovery"]["findings"].as_array().unwrap();
    assert!(routes.len() >= 20 && findings.len() >= routes.len());

    let sarif: Value = serde_json::from_str(&discover(api.addr(), "sarif", &page)).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), findings.len());
    assert!(results.iter().any(|r| {
        r["ruleId"] == "verify/undeclared-route"
            && r["level"] == "error"
            && r["message"]["text"]
                .as_str()
                .unwrap()
                .contains("/debug/config")
    }));

    let junit = discover(api.addr(), "junit", &page);
    assert!(junit.contains("<testsuite name=\"discovery\""));
    assert!(junit.contains("name=\"GET /debug/config\""));
    assert!(!junit.contains("S3cr3tPassw0rd"), "evidence is redacted");

    let html = std::fs::read_to_string(&page).unwrap();
    assert!(!html.contains("S3cr3tPassw0rd") && !html.contains("wJalrXUtnFEMI"));
    if let Some(dom) = portcullis_testkit::browser::rendered(&page, &scratch) {
        // The matrix: a row per operation, a cell per identity, coloured.
        assert!(dom.contains("<table id=\"matrix\">"), "{dom}");
        let rows = dom.matches("<tr><th class=\"mono\">orders:").count();
        assert_eq!(
            rows,
            doc["coverage"]["operations"].as_array().unwrap().len()
        );
        assert!(dom.contains("<td class=\"cell allow\">allow"));
        assert!(dom.contains("<td class=\"cell deny\">deny"));
        // The findings, each with its evidence; the script ran and counted them.
        assert_eq!(dom.matches("<tr class=\"finding ").count(), findings.len());
        let errors = findings.iter().filter(|f| f["level"] == "error").count();
        assert!(
            dom.contains(&format!("<span id=\"counts\">{errors} errors · ")),
            "the page's script did not run: {}",
            dom.lines()
                .find(|l| l.contains("counts"))
                .unwrap_or_default()
        );
        assert!(
            dom.contains("/debug/config") && dom.contains("<details><summary>evidence</summary>")
        );
        assert!(dom.contains("<table id=\"routes\">"));
    }
    runtime.block_on(api.stop());
    let _ = std::fs::remove_dir_all(&scratch);
}
