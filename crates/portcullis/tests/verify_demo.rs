//! The verify line `portcullis demo` prints, run as printed: against the
//! demo's gateway (whose store is in its memory, out of verify's reach) with
//! tokens from its token service, every check passes, the example API's
//! debug and legacy routes are found on the bare API, and the gateway
//! refuses every one of them; it still passes after `check` and `explain`
//! ran on the example, and beside a store that is not the gateway's.

#![allow(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::panic,
    reason = "test code: a missing value should fail the test"
)]

use std::path::Path;
use std::process::Command;

use portcullis_testkit::process::Killed;

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_portcullis");

/// Starts the demo on a free port; returns it and the verify line it printed.
fn demo() -> (Killed, String) {
    let (demo, banner) = portcullis_testkit::process::demo(BIN);
    let verify = banner.into_iter().find(|l| l.contains("-- verify "));
    (
        demo,
        verify.unwrap_or_else(|| panic!("the demo prints no verify line")),
    )
}

/// Runs the printed verify `line` in `cwd` (which holds
/// `examples/orders`), its report written to `page`: the exit code, the
/// JSON document and stderr.
fn run_verify_line(line: &str, cwd: &Path, page: &Path) -> (Option<i32>, Value, String) {
    let (env, command) = line.split_once(" cargo run --release -- ").unwrap();
    let env: Vec<(&str, &str)> = env
        .split_whitespace()
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap();
            (k, v.trim_matches('\''))
        })
        .collect();
    assert_eq!(env.len(), 3, "{line}");
    let mut args: Vec<String> = command
        .split_whitespace()
        .map(|a| {
            if a == "verify.html" {
                page.display().to_string()
            } else {
                a.to_owned()
            }
        })
        .collect();
    // The JSON report the console shows goes beside the page, not to the
    // demo's temporary file.
    if let Some(at) = args.iter().position(|a| a == "--report-json") {
        args[at + 1] = page.with_extension("json").display().to_string();
    }
    let out = Command::new(BIN)
        .current_dir(cwd)
        .args(&args)
        .args(["--format", "json"])
        .envs(env.iter().copied())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|_| panic!("{stderr}"));
    // `--report-json` wrote the very document `--format json` printed.
    let saved = std::fs::read(page.with_extension("json")).unwrap();
    assert_eq!(serde_json::from_slice::<Value>(&saved).unwrap(), doc);
    (out.status.code(), doc, stderr)
}

/// The conformance checks that did not get what the configuration says.
fn mismatches(doc: &Value) -> Vec<&Value> {
    doc["conformance"]["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["ok"] != true)
        .collect()
}

#[test]
fn the_printed_verify_line_passes_against_the_demo() {
    let (_demo, line) = demo();
    let scratch =
        std::env::temp_dir().join(format!("portcullis-verify-demo-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).unwrap();
    let page = scratch.join("verify.html");
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let (code, doc, stderr) = run_verify_line(&line, &root, &page);
    assert_eq!(code, Some(0), "{doc:#}\n{stderr}");
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

/// `portcullis ARGS -c examples/orders/portcullis.yaml` in `cwd`.
fn portcullis(cwd: &Path, args: &[&str]) -> std::process::Output {
    Command::new(BIN)
        .current_dir(cwd)
        .args(args)
        .args(["-c", "examples/orders/portcullis.yaml"])
        .output()
        .unwrap()
}

#[test]
fn the_printed_verify_line_passes_after_explain_and_check_and_beside_a_store_not_the_gateways() {
    // A copy of the repository's example, where the printed line finds it.
    let scratch = std::env::temp_dir().join(format!(
        "portcullis-verify-demo-copy-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&scratch);
    let example = scratch.join("examples/orders");
    portcullis_testkit::copy_example(&example);
    let store = example.join("portcullis.db");
    let page = scratch.join("verify.html");
    // What a new user runs before verify: check, and the explain line the
    // README shows. Neither makes a store.
    let out = portcullis(&scratch, &["check"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let out = portcullis(
        &scratch,
        &[
            "explain",
            "--identity",
            "partner-connector",
            "--request",
            "GET /orders/v1/customers/5b8f1c2e-3a4d-4e6f-8a9b-0c1d2e3f4a02/orders",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(!store.exists(), "explain or check made a store");

    let (_demo, line) = demo();
    let (code, doc, stderr) = run_verify_line(&line, &scratch, &page);
    assert_eq!(code, Some(0), "{doc:#}\n{stderr}");
    assert!(mismatches(&doc).is_empty(), "{:#?}", mismatches(&doc));
    assert!(!store.exists(), "verify made a store");

    // A store beside the configuration that the demo's gateway does not run
    // on (a command that writes made it): its keys are not the ones the
    // gateway publishes, so verify signs nothing with them, says why, and
    // leaves the store as it was.
    let out = portcullis(&scratch, &["identity", "list"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let before = std::fs::read(&store).unwrap();
    let (code, doc, stderr) = run_verify_line(&line, &scratch, &page);
    assert_eq!(code, Some(0), "{doc:#}\n{stderr}");
    assert!(mismatches(&doc).is_empty(), "{:#?}", mismatches(&doc));
    let skipped = doc["conformance"]["skipped"].as_array().unwrap();
    assert!(
        skipped
            .iter()
            .any(|s| s["why"].as_str().unwrap().contains("is not the gateway's")),
        "{skipped:#?}"
    );
    assert_eq!(
        std::fs::read(&store).unwrap(),
        before,
        "verify changed the store"
    );
    let _ = std::fs::remove_dir_all(&scratch);
}
