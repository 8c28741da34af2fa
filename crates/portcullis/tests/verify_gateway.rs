//! `portcullis verify --gateway`: through a gateway running the intended
//! configuration every operation × identity answers as the configuration
//! says; a gateway running a policy that permits too much, and a "gateway"
//! that is really the upstream, are each caught as mismatches.

#![allow(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::panic,
    reason = "test code: a missing value should fail the test"
)]

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_portcullis");

/// A running `serve`, killed when dropped.
struct Served(Child, SocketAddr);

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A copy of the example in its own folder, its upstream pointed at
/// `upstream`, listening on free ports; `policy` replaces its policies and
/// `store` its store when given.
fn example(
    name: &str,
    upstream: SocketAddr,
    policy: Option<&str>,
    store: Option<&Path>,
) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "portcullis-verify-gw-{}-{name}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    portcullis_testkit::copy_example(&dir);
    let mut config = std::fs::read_to_string(dir.join("portcullis.yaml"))
        .unwrap()
        .replace("127.0.0.1:8080", "127.0.0.1:0")
        .replace("127.0.0.1:8081", "127.0.0.1:0")
        .replace("http://127.0.0.1:9000", &format!("http://{upstream}"));
    if let Some(store) = store {
        config = config.replace(
            "sqlite://portcullis.db",
            &format!("sqlite://{}", store.display()),
        );
    }
    std::fs::write(dir.join("portcullis.yaml"), config).unwrap();
    if let Some(policy) = policy {
        std::fs::remove_dir_all(dir.join("policies")).unwrap();
        std::fs::create_dir_all(dir.join("policies")).unwrap();
        std::fs::write(dir.join("policies/all.cedar"), policy).unwrap();
    }
    dir
}

fn serve(dir: &Path) -> Served {
    let mut child = Command::new(BIN)
        .args(["serve", "-c"])
        .arg(dir.join("portcullis.yaml"))
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        let Some(Ok(line)) = lines.next() else { break };
        let v: Value = serde_json::from_str(&line).unwrap_or_default();
        if v["message"] == "portcullis listening" {
            let addr = v["addr"].as_str().unwrap().parse().unwrap();
            // Keep reading stderr so the gateway never blocks on a full pipe.
            std::thread::spawn(move || for _ in lines.by_ref() {});
            return Served(child, addr);
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("the gateway did not start");
}

fn verify(config: &Path, gateway: &str) -> (Option<i32>, Value, String) {
    let out = Command::new(BIN)
        .args([
            "verify",
            "--json",
            "--allow-writes",
            "--gateway",
            gateway,
            "-c",
        ])
        .arg(config.join("portcullis.yaml"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let report =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|_| panic!("no report: {stderr}"));
    (out.status.code(), report, stderr)
}

#[test]
fn conformance_passes_a_faithful_gateway_and_catches_faults() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let api = runtime
        .block_on(portcullis_example_orders::OrdersApi::start(
            SocketAddr::from(([127, 0, 0, 1], 0)),
        ))
        .unwrap();
    let intended = example("intended", api.addr(), None, None);

    // The gateway runs the intended configuration: every answer as expected.
    {
        let gateway = serve(&intended);
        let (code, report, stderr) = verify(&intended, &format!("http://{}", gateway.1));
        assert_eq!(code, Some(0), "{report:#}\n{stderr}");
        let checked = report["checked"].as_u64().unwrap();
        assert!(checked >= 30, "only {checked} checks");
        let checks = report["checks"].as_array().unwrap();
        // Both outcomes occur: the policies allow some and refuse others.
        assert!(checks.iter().any(|c| c["expected"] == "forwarded"));
        assert!(checks.iter().any(|c| c["expected"] == "forbidden"));
        // The tenant rule is exercised on both sides for the partner.
        let partner: Vec<&Value> = checks
            .iter()
            .filter(|c| {
                c["identity"] == "partner-connector" && c["operation"] == "listCustomerOrders"
            })
            .collect();
        assert_eq!(partner.len(), 2, "{partner:#?}");
        assert_ne!(partner[0]["expected"], partner[1]["expected"]);
        // The negative family went out too, and every refusal had the one
        // problem shape.
        let kinds: std::collections::BTreeSet<&str> =
            checks.iter().map(|c| c["kind"].as_str().unwrap()).collect();
        for kind in [
            "valid",
            "path-trick",
            "undeclared-method",
            "credential",
            "wrong-content-type",
            "unknown-field",
            "oversized-body",
            "override-header",
            "wrong-type",
            "missing-parameter",
        ] {
            assert!(kinds.contains(kind), "no {kind} check: {kinds:?}");
        }
        assert!(
            checks.iter().all(|c| c["shape"].is_null()),
            "a refusal of another shape"
        );
        eprintln!("faithful gateway: {checked} checks, all as expected");
    }

    // A gateway whose policy permits everything, sharing the store (so its
    // tokens are the same): what should be forbidden is forwarded.
    {
        let faulty = example(
            "permissive",
            api.addr(),
            Some("@id(\"everything\")\npermit(principal, action, resource);\n"),
            Some(&intended.join("portcullis.db")),
        );
        let gateway = serve(&faulty);
        let (code, report, stderr) = verify(&intended, &format!("http://{}", gateway.1));
        assert_eq!(code, Some(1), "{stderr}");
        let mismatches = report["mismatches"].as_array().unwrap();
        assert!(!mismatches.is_empty());
        assert!(
            mismatches
                .iter()
                .all(|m| m["expected"] == "forbidden" && m["got"] == "forwarded"),
            "{mismatches:#?}"
        );
        let _ = std::fs::remove_dir_all(&faulty);
    }

    // No gateway at all: the URL is the upstream's.
    let (code, report, stderr) = verify(&intended, &format!("http://{}", api.addr()));
    assert_eq!(code, Some(1), "{stderr}");
    assert!(!report["mismatches"].as_array().unwrap().is_empty());

    runtime.block_on(api.stop());
    let _ = std::fs::remove_dir_all(&intended);
}
