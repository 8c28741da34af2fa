//! `portcullis verify`: coverage with no URL, and `--discover` against the
//! bundled orders API, which serves a debug dump, a legacy `/v0` API and
//! normalises paths it should refuse: every one is found, with evidence,
//! and nothing but reads is sent.

#![allow(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::panic,
    reason = "test code: a missing value should fail the test"
)]

use std::net::SocketAddr;
use std::process::Command;

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_portcullis");

fn config() -> String {
    portcullis_testkit::examples_dir()
        .join("portcullis.yaml")
        .display()
        .to_string()
}

fn verify(args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::new(BIN).arg("verify").args(args).output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `verify --discover --json` against `upstream`, which has findings (exit
/// 1): the report, and the text it was read from.
fn discovered(upstream: &str) -> (Value, String) {
    let (code, stdout, stderr) = verify(&[
        "-c",
        &config(),
        "--discover",
        "--upstream",
        upstream,
        "--json",
    ]);
    assert_eq!(code, Some(1), "{stderr}");
    let doc: Value = serde_json::from_str(&stdout).unwrap();
    (doc["discovery"].clone(), stdout)
}

fn loopback() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

#[test]
fn discovery_finds_every_undeclared_route_of_the_example_api() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let api = runtime
        .block_on(portcullis_example_orders::OrdersApi::start(loopback()))
        .unwrap();
    let upstream = format!("http://{}", api.addr());
    let (report, stdout) = discovered(&upstream);
    let findings = report["findings"].as_array().unwrap();
    let risk_of = |path: &str| {
        findings
            .iter()
            .find(|f| f["path"] == path)
            .map(|f| f["risk"].as_str().unwrap().to_owned())
    };
    // The debug dump, with its cloud keys and database password redacted
    // from the evidence.
    assert_eq!(risk_of("/debug/config").as_deref(), Some("reveals-secret"));
    let debug = findings
        .iter()
        .find(|f| f["path"] == "/debug/config")
        .unwrap();
    let secrets: Vec<&str> = debug["evidence"]["secrets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    assert!(
        secrets.contains(&"aws-access-key") && secrets.contains(&"url-password"),
        "{secrets:?}"
    );
    assert!(
        !stdout.contains("AKIAIOSFODNN7EXAMPLE") && !stdout.contains("S3cr3tPassw0rd"),
        "a secret in the report"
    );
    // The legacy API: its list, and one order by a real id from /v1/orders.
    assert_eq!(risk_of("/v0/customers").as_deref(), Some("reveals-secret"));
    assert!(
        findings
            .iter()
            .any(|f| f["path"].as_str().unwrap().starts_with("/v0/orders/")
                && f["evidence"]["status"] == 200),
        "no /v0/orders/{{id}}: {findings:#?}"
    );
    // Paths the API should refuse but normalises into a declared one, or
    // climbs out of.
    assert_eq!(
        risk_of("/v1/orders/..%2F..%2Fdebug/config").as_deref(),
        Some("reveals-secret")
    );
    assert!(
        findings
            .iter()
            .any(|f| f["why"] == "normalisation" && f["path"] == "/v1/orders/")
    );
    // Only reads without --allow-writes; every finding is something the
    // contract does not declare.
    assert!(findings.iter().all(|f| f["method"] == "GET"));
    assert!(
        findings
            .iter()
            .all(|f| f["path"] != "/v1/orders" && f["path"] != "/v1/customers")
    );
    assert!(report["requests"].as_u64().unwrap() <= 500);
    runtime.block_on(api.stop());
}

#[test]
fn an_upstream_that_answers_everything_is_one_catch_all() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let echo = runtime
        .block_on(portcullis_testkit::echo::Echo::start())
        .unwrap();
    let upstream = format!("http://{}", echo.addr);
    let (report, _) = discovered(&upstream);
    assert_eq!(report["catch_all"]["status"], 200, "{report}");
    assert_eq!(report["findings"].as_array().unwrap().len(), 0);
    assert_eq!(report["requests"], 3, "only the baseline was sent");
}

#[test]
fn bad_questions_and_unreachable_upstreams_exit_2() {
    // Nothing listens on this port once the listener is dropped.
    let port = std::net::TcpListener::bind(loopback())
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let unreachable = format!("http://127.0.0.1:{port}");
    let (code, _, stderr) = verify(&["-c", &config(), "--discover", "--upstream", &unreachable]);
    assert_eq!(code, Some(2));
    assert!(
        stderr.contains("the upstream cannot be reached"),
        "{stderr}"
    );
    let (code, _, stderr) = verify(&["-c", &config(), "--discover"]);
    assert_eq!(
        (code, stderr.contains("needs --upstream")),
        (Some(2), true),
        "{stderr}"
    );
    let (code, _, stderr) = verify(&[
        "-c",
        &config(),
        "--discover",
        "--upstream",
        "https://127.0.0.1:1",
    ]);
    assert_eq!(
        (code, stderr.contains("only http://")),
        (Some(2), true),
        "{stderr}"
    );
    // Conformance opens the configuration's store: use a copy.
    let dir = std::env::temp_dir().join(format!("portcullis-verify-cli-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    portcullis_testkit::copy_example(&dir);
    let copy = dir.join("portcullis.yaml").display().to_string();
    let (code, _, stderr) = verify(&["-c", &copy, "--gateway", &unreachable]);
    assert_eq!(
        (code, stderr.contains("the gateway cannot be reached")),
        (Some(2), true),
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(&dir);
    let (code, _, stderr) = verify(&[
        "-c",
        &config(),
        "--discover",
        "--upstream",
        &unreachable,
        "--fail-on",
        "loud",
    ]);
    assert_eq!(
        (code, stderr.contains("--fail-on")),
        (Some(2), true),
        "{stderr}"
    );
}

#[test]
fn without_a_url_verify_prints_the_coverage_check_prints() {
    let (code, stdout, _) = verify(&["-c", &config()]);
    let check = Command::new(BIN)
        .args(["check", "-c", &config()])
        .output()
        .unwrap();
    assert_eq!(code, check.status.code());
    assert!(stdout.starts_with(&*String::from_utf8_lossy(&check.stdout)));
    assert!(
        stdout.contains("\nsummary\n") && stdout.contains("\npassed: 0 error finding(s)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("partner-connector"),
        "the identity × operation matrix: {stdout}"
    );
}

/// An upstream that answers its first two requests 429 with `Retry-After:
/// 1`, and everything after with a plain 404.
fn throttling_upstream() -> SocketAddr {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind(loopback()).unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for (n, stream) in listener.incoming().enumerate() {
            let Ok(mut stream) = stream else { continue };
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).unwrap_or(0) == 1 {
                head.push(byte[0]);
            }
            let answer = if n < 2 {
                "HTTP/1.1 429 Too Many Requests\r\nRetry-After: 1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            } else {
                "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: 9\r\nConnection: close\r\n\r\nnot found"
            };
            let _ = stream.write_all(answer.as_bytes());
        }
    });
    addr
}

#[test]
fn a_rate_limited_probe_backs_off_as_told() {
    let upstream = format!("http://{}", throttling_upstream());
    let started = std::time::Instant::now();
    let (code, stdout, stderr) = verify(&[
        "-c",
        &config(),
        "--discover",
        "--upstream",
        &upstream,
        "--rate",
        "1000",
        "--max-requests",
        "20",
        "--format",
        "json",
    ]);
    assert_eq!(code, Some(0), "nothing but not-found: {stderr}");
    let doc: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(doc["discovery"]["throttled"], 2, "{doc:#}");
    assert!(doc["discovery"]["catch_all"].is_null());
    assert!(
        started.elapsed() >= std::time::Duration::from_secs(2),
        "Retry-After: 1, twice, was honoured"
    );
}
