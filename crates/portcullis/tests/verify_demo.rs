//! The verify line `portcullis demo` prints, run as printed: against the
//! demo's gateway (whose store is in its memory, out of verify's reach) with
//! tokens from its token service, every check passes, the example API's
//! debug and legacy routes are found on the bare API, and the gateway
//! refuses every one of them.

#![allow(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::panic,
    reason = "test code: a missing value should fail the test"
)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_portcullis");

struct Demo(Child);

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts the demo on a free port; returns it and the verify line it printed.
fn demo() -> (Demo, String) {
    let mut child = Command::new(BIN)
        .args(["demo", "--port", "0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let demo = Demo(child);
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut verify = None;
    while Instant::now() < deadline {
        let Some(Ok(line)) = lines.next() else { break };
        if line.starts_with("Press Ctrl-C") {
            break;
        }
        if line.contains("-- verify ") {
            verify = Some(line);
        }
    }
    std::thread::spawn(move || for _ in lines.by_ref() {});
    (
        demo,
        verify.unwrap_or_else(|| panic!("the demo prints no verify line")),
    )
}

#[test]
fn the_printed_verify_line_passes_against_the_demo() {
    let (_demo, line) = demo();
    let (env, command) = line.split_once(" cargo run --release -- ").unwrap();
    let env: Vec<(&str, &str)> = env
        .split_whitespace()
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap();
            (k, v.trim_matches('\''))
        })
        .collect();
    assert_eq!(env.len(), 3, "{line}");
    let scratch =
        std::env::temp_dir().join(format!("portcullis-verify-demo-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).unwrap();
    let page = scratch.join("verify.html");
    let args: Vec<String> = command
        .split_whitespace()
        .map(|a| {
            if a == "verify.html" {
                page.display().to_string()
            } else {
                a.to_owned()
            }
        })
        .collect();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let out = Command::new(BIN)
        .current_dir(&root)
        .args(&args)
        .args(["--format", "json"])
        .envs(env.iter().copied())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|_| panic!("{stderr}"));
    assert_eq!(out.status.code(), Some(0), "{doc:#}\n{stderr}");
    let checks = doc["conformance"]["checks"].as_array().unwrap();
    assert!(checks.len() >= 100, "{}", checks.len());
    assert!(checks.iter().all(|c| c["ok"] == true));
    for id in ["reporting-agent", "fulfilment-service", "partner-connector"] {
        assert!(
            checks.iter().any(|c| c["identity"] == id),
            "no check as {id}"
        );
    }
    // The debug dump and the legacy API are on the bare API, and refused
    // through the gateway.
    let routes: Vec<&Value> = checks
        .iter()
        .filter(|c| c["kind"] == "discovered-route")
        .collect();
    for path in ["/debug/config", "/v0/customers"] {
        let through = routes
            .iter()
            .find(|c| {
                c["request"]
                    .as_str()
                    .unwrap()
                    .ends_with(&format!("/orders{path}"))
            })
            .unwrap_or_else(|| panic!("{path} not sent through the gateway"));
        assert_eq!(through["got"], "undeclared-route", "{through:#}");
    }
    assert!(routes.iter().all(|c| c["got"] != "forwarded"));
    // Nothing verify could not do is hidden: without the demo's store, no
    // expired token can be made, and it says so.
    let skipped = doc["conformance"]["skipped"].as_array().unwrap();
    assert!(
        skipped
            .iter()
            .any(|s| s["why"].as_str().unwrap().contains("expired token"))
    );
    assert!(page.is_file());
    assert!(
        !root.join("examples/orders/portcullis.db").exists(),
        "verify never creates a store"
    );
    let _ = std::fs::remove_dir_all(&scratch);
}
