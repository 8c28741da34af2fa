//! The watch from the command line, on the example as shipped: a new agent
//! that probes is alerted, throttled and quarantined by `serve`; `alerts
//! tail` prints the alerts; `identity resume` releases it, and the ledger
//! records who did (`audit tail`).

#![allow(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::panic,
    reason = "test code: a missing value should fail the test"
)]

use std::path::Path;
use std::time::Duration;

use portcullis_testkit::ExampleCopy;
use portcullis_testkit::raw::{get, with_header};
use portcullis_testkit::served::Served;

const BIN: &str = env!("CARGO_BIN_EXE_portcullis");

fn cli(config: &Path, args: &[&str]) -> (Option<i32>, String, String) {
    portcullis_testkit::served::cli(BIN, config, args)
}

#[test]
fn a_probing_agent_is_quarantined_listed_and_released_from_the_cli() {
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
    let dir = ExampleCopy::serving("watch-cli", &format!("http://{}", orders.addr()));
    let path = dir.config();
    let (code, _, stderr) = cli(
        &path,
        &[
            "identity",
            "add",
            "crawler",
            "--kind",
            "agent",
            "--owner",
            "growth-team",
            "--env",
            "prod",
            "--scope",
            "orders:read",
            "--tag",
            "reporting",
        ],
    );
    assert_eq!(code, Some(0), "{stderr}");
    let (code, key, stderr) = cli(
        &path,
        &["identity", "rotate", "crawler", "--kind", "api-key"],
    );
    assert_eq!(code, Some(0), "{stderr}");
    let key = key.trim().to_owned();
    let served = Served::start(BIN, &path);
    let send = |target: &str| {
        runtime.block_on(portcullis_testkit::send(
            served.addr,
            &with_header(&get(target), "X-Api-Key", &key),
        ))
    };
    assert_eq!(send("/orders/v1/orders").status, 200);
    for i in 0..30 {
        assert_eq!(send(&format!("/orders/v1/admin-{i}")).status, 404);
    }
    let held = send("/orders/v1/orders");
    assert_eq!(
        (held.status, held.code().as_deref()),
        (403, Some("identity-suspended"))
    );

    let mut alerts = String::new();
    for _ in 0..100 {
        alerts = cli(&path, &["alerts", "tail", "-n", "10"]).1;
        if alerts.lines().count() >= 3 {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let lines: Vec<&str> = alerts.lines().collect();
    assert_eq!(lines.len(), 3, "{alerts}");
    for (line, action) in lines.iter().zip(["alert", "throttle", "quarantine"]) {
        assert!(
            line.contains("crawler probing -> ")
                && line.contains(&format!("-> {action} "))
                && line.contains("10 of 10 in 60s"),
            "{line}"
        );
    }

    let (code, out, stderr) = cli(&path, &["identity", "resume", "crawler"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(out.contains("quarantined -> active"), "{out}");
    assert_eq!(send("/orders/v1/orders").status, 200);
    let mut audit = String::new();
    for _ in 0..100 {
        audit = cli(&path, &["audit", "tail", "-n", "50"]).1;
        if audit.contains("quarantined -> active by cli:") {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(
        audit.contains("crawler active -> quarantined by watch:probing"),
        "{audit}"
    );
    assert!(
        audit.contains("crawler quarantined -> active by cli:"),
        "{audit}"
    );
    served.terminate();
    let (code, out, _) = cli(&path, &["audit", "verify"]);
    assert_eq!(code, Some(0), "{out}");
    drop(orders);
}
