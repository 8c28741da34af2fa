//! The binary as a user runs it: `check` and `serve` exit codes and
//! diagnostics, and `serve` running and stopping on SIGTERM.

#![allow(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::panic,
    reason = "test code: a missing value should fail the test"
)]

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_portcullis");

fn example() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/orders/portcullis.yaml")
}

/// A fresh folder with a broken configuration and contract.
fn broken(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("portcullis-cli-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("portcullis.yaml"),
        "listen: 127.0.0.1:0\napis:\n  - name: a\n    contract: api.yaml\n    mount: /a/\n    upstream: http://127.0.0.1:9\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("api.yaml"),
        "openapi: 3.1.0\ninfo: {title: a, version: '1'}\npaths:\n  /x:\n    get:\n      responses: {'200': {description: ok, content: {application/json: {schema: {type: object, requried: [a]}}}}}\n",
    )
    .unwrap();
    dir.join("portcullis.yaml")
}

#[test]
fn check_accepts_the_example() {
    let out = Command::new(BIN)
        .args(["check", "-c"])
        .arg(example())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("ok: 1 API(s), 12 operation(s)"));
}

#[test]
fn check_reports_every_problem_with_its_location() {
    let out = Command::new(BIN)
        .args(["check", "-c"])
        .arg(broken("check"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("portcullis.yaml:5: error: mount `/a/` must not end with `/`"),
        "{stderr}"
    );
    assert!(
        stderr.contains("api.yaml:6#/paths/~1x/get/responses/200/content/application~1json/schema/requried: error: unknown schema keyword `requried`"),
        "{stderr}"
    );
}

#[test]
fn serve_refuses_to_start_on_the_same_problems() {
    let out = Command::new(BIN)
        .args(["serve", "-c"])
        .arg(broken("serve"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("unknown schema keyword `requried`") && stderr.contains("not starting"),
        "{stderr}"
    );
}

#[test]
fn serve_runs_and_stops_on_sigterm() {
    let dir = std::env::temp_dir().join(format!("portcullis-cli-{}-run", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = std::fs::read_to_string(example())
        .unwrap()
        .replace("127.0.0.1:8080", "127.0.0.1:0")
        .replace("127.0.0.1:8081", "127.0.0.1:0");
    portcullis_testkit::copy_example(&dir);
    std::fs::write(dir.join("portcullis.yaml"), config).unwrap();
    let mut child = Command::new(BIN)
        .args(["serve", "-c"])
        .arg(dir.join("portcullis.yaml"))
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let addr = loop {
        let line = lines
            .next()
            .expect("serve exited before listening")
            .unwrap();
        let v: serde_json::Value = serde_json::from_str(&line).unwrap_or_default();
        if v["message"] == "portcullis listening" {
            break v["addr"].as_str().unwrap().to_owned();
        }
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let r = runtime.block_on(portcullis_testkit::send(
        addr.parse().unwrap(),
        &portcullis_testkit::raw::get("/orders/debug/config"),
    ));
    // No credential: refused before the path is even looked at.
    assert_eq!(r.code().as_deref(), Some("unauthenticated"));
    assert!(
        dir.join("portcullis.db").exists(),
        "the store is created beside the configuration"
    );
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    assert!(child.wait().unwrap().success());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn schema_prints_one_action_per_operation() {
    let out = Command::new(BIN)
        .args(["schema", "-c"])
        .arg(example())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("action \"orders:read\", \"orders:write\";"),
        "{text}"
    );
    assert_eq!(
        text.matches("appliesTo").count(),
        12,
        "one action per contract operation"
    );
    assert!(text.contains("action \"orders:getOrder\" in [\"orders:read\"]"));
    assert!(text.contains("action \"orders:cancelOrder\" in [\"orders:write\"]"));
    let bad = Command::new(BIN)
        .args(["schema", "-c"])
        .arg(broken("schema"))
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(1));
}
