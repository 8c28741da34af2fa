//! A fleet of three `portcullis serve` processes on one PostgreSQL store and
//! ledger (a chain per node) in strict durability, under load from clients
//! of every node; one node killed with SIGKILL mid-load. The other two keep
//! serving; every response any client received (from the killed node too)
//! is in the answering node's chain; `audit verify` checks every chain and
//! reports each.

#![allow(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::panic,
    reason = "test code: a missing value should fail the test"
)]

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use portcullis_store::ledger::{Ledger, Location};
use portcullis_testkit::ExampleCopy;
use portcullis_testkit::pg::TestDatabase;
use portcullis_testkit::raw::{get, with_header};
use portcullis_testkit::served::{Served, cli};

const BIN: &str = env!("CARGO_BIN_EXE_portcullis");

/// Every request id in `node`'s chain of the fleet's ledger at `url`.
fn recorded(url: &str, node: &str) -> HashSet<String> {
    let Ok(portcullis_store::StorageLocation::Postgres(url)) =
        portcullis_store::StorageLocation::parse(url)
    else {
        panic!("not a PostgreSQL URL")
    };
    let chain = Location::Postgres {
        url,
        node: Some(node.to_owned()),
        fence: None,
    };
    portcullis_testkit::recorded_request_ids(&Ledger::open_reader(&chain).unwrap())
}

/// Two clients on `addr` until `stop` or the node is gone: each answered
/// request's id and when it was answered.
async fn load(addr: SocketAddr, key: String, stop: Arc<AtomicBool>) -> Vec<(String, Instant)> {
    let mut clients = Vec::new();
    for _ in 0..2 {
        let stop = Arc::clone(&stop);
        let request = with_header(&get("/orders/v1/orders"), "X-Api-Key", &key);
        clients.push(tokio::spawn(async move {
            let mut seen = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                match portcullis_testkit::raw::try_send(addr, &request).await {
                    Ok(r) if r.status == 200 => {
                        seen.push((r.header("x-request-id").unwrap().to_owned(), Instant::now()));
                    }
                    Ok(r) => panic!("{addr} answered {}: {}", r.status, r.text()),
                    // The node is gone: nothing more to count from it.
                    Err(_) => break,
                }
            }
            seen
        }));
    }
    let mut all = Vec::new();
    for c in clients {
        all.extend(c.await.unwrap());
    }
    all
}

#[test]
fn a_node_killed_under_load_loses_no_answered_record_and_the_others_serve_on() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let db = runtime.block_on(TestDatabase::create("kill"));
    let orders = runtime
        .block_on(portcullis_example_orders::OrdersApi::start(
            "127.0.0.1:0".parse().unwrap(),
        ))
        .unwrap();
    let upstream = format!("http://{}", orders.addr());
    let dirs: Vec<ExampleCopy> = (0..3)
        .map(|i| {
            let dir = ExampleCopy::serving(&format!("fleet-kill-{i}"), &upstream);
            let text = std::fs::read_to_string(dir.config())
                .unwrap()
                .replace("sqlite://portcullis.db", &db.url());
            assert!(text.contains(&db.url()));
            std::fs::write(
                dir.config(),
                format!("{text}\naudit: {{ durability: strict }}\n"),
            )
            .unwrap();
            dir
        })
        .collect();
    let mut nodes: Vec<Option<Served>> = dirs
        .iter()
        .enumerate()
        .map(|(i, dir)| {
            Some(Served::start_with(
                BIN,
                &dir.config(),
                &["--node", &format!("gw{i}")],
            ))
        })
        .collect();
    let addrs: Vec<SocketAddr> = nodes.iter().flatten().map(|n| n.addr).collect();

    // One key, made through the CLI on node 0's configuration, used on all.
    let (code, stdout, stderr) = cli(
        BIN,
        &dirs[0].config(),
        &["identity", "rotate", "reporting-agent", "--kind", "api-key"],
    );
    assert_eq!(code, Some(0), "{stderr}");
    let key = stdout.trim().to_owned();
    let (code, fleet, _) = cli(BIN, &dirs[0].config(), &["fleet", "status"]);
    assert_eq!(code, Some(0), "{fleet}");
    assert!(fleet.contains("3 live of 3 registered"), "{fleet}");

    // The key reaches every node through its change feed.
    let request = with_header(&get("/orders/v1/orders"), "X-Api-Key", &key);
    for addr in &addrs {
        let deadline = Instant::now() + Duration::from_secs(2);
        while runtime
            .block_on(portcullis_testkit::send(*addr, &request))
            .status
            != 200
        {
            assert!(
                Instant::now() < deadline,
                "{addr} does not know the new key"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    let stops: Vec<Arc<AtomicBool>> = (0..3).map(|_| Arc::new(AtomicBool::new(false))).collect();
    let loads: Vec<_> = addrs
        .iter()
        .zip(&stops)
        .map(|(addr, stop)| runtime.spawn(load(*addr, key.clone(), Arc::clone(stop))))
        .collect();
    std::thread::sleep(Duration::from_millis(1_500));
    let killed_at = Instant::now();
    drop(nodes[1].take());
    std::thread::sleep(Duration::from_millis(1_000));
    for stop in &stops {
        stop.store(true, Ordering::Relaxed);
    }
    let seen: Vec<Vec<(String, Instant)>> = loads
        .into_iter()
        .map(|l| runtime.block_on(l).unwrap())
        .collect();
    for node in nodes.iter_mut() {
        if let Some(node) = node.take() {
            node.terminate();
        }
    }

    for (i, answered) in seen.iter().enumerate() {
        let after_kill = answered.iter().filter(|(_, at)| *at > killed_at).count();
        eprintln!(
            "gw{i}: {} answered, {after_kill} after gw1 was killed",
            answered.len()
        );
        assert!(
            answered.len() > 20,
            "gw{i} answered only {}",
            answered.len()
        );
        if i != 1 {
            assert!(after_kill > 10, "gw{i} stopped serving when gw1 died");
        }
        let ledger = recorded(&db.url(), &format!("gw{i}"));
        let missing = answered
            .iter()
            .filter(|(id, _)| !ledger.contains(id))
            .count();
        assert_eq!(
            missing, 0,
            "gw{i}: {missing} answered requests not in its chain"
        );
        assert!(
            !dirs[i].join("audit.db").exists(),
            "a fleet node wrote a ledger file"
        );
    }
    // Every chain, from any node's configuration, each reported.
    let (code, stdout, stderr) = cli(BIN, &dirs[2].config(), &["audit", "verify"]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    for i in 0..3 {
        assert!(stdout.contains(&format!("node gw{i}: ok: ")), "{stdout}");
    }
    assert!(stdout.contains("3 of 3 chains intact"), "{stdout}");
    eprintln!("{stdout}");
    // One chain by name; a name with no chain is an error, not "ok".
    let (code, one, _) = cli(
        BIN,
        &dirs[0].config(),
        &["audit", "verify", "--node", "gw1"],
    );
    assert_eq!(code, Some(0), "{one}");
    assert!(
        one.contains("node gw1: ok: ") && !one.contains("gw0"),
        "{one}"
    );
    let (code, _, err) = cli(
        BIN,
        &dirs[0].config(),
        &["audit", "verify", "--node", "gw9"],
    );
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("no chain for node `gw9`"), "{err}");
    // The newest records of every node, oldest first, each led by its node.
    let (code, tail, stderr) = cli(BIN, &dirs[1].config(), &["audit", "tail", "-n", "6"]);
    assert_eq!(code, Some(0), "{stderr}");
    let lines: Vec<&str> = tail.lines().collect();
    assert_eq!(lines.len(), 6, "{tail}");
    let ids: Vec<&str> = lines
        .iter()
        .map(|l| {
            let mut words = l.split(' ');
            assert!(words.next().is_some_and(|n| n.starts_with("gw")), "{l}");
            words.nth(1).unwrap()
        })
        .collect();
    let times: Vec<&str> = ids.iter().map(|id| &id[..13]).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{tail}");

    // One export of the fleet: every chain, records in time order, and it
    // verifies chain by chain on its own.
    let export = dirs[0].join("fleet-export.jsonl");
    let out = export.to_str().unwrap();
    let (code, _, stderr) = cli(BIN, &dirs[0].config(), &["audit", "export", "-o", out]);
    assert_eq!(code, Some(0), "{stderr}");
    let text = std::fs::read_to_string(&export).unwrap();
    let records: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|l| l["type"] == "record")
        .collect();
    let answered: usize = seen.iter().map(Vec::len).sum();
    assert!(
        records.len() >= answered,
        "{} records exported",
        records.len()
    );
    let nodes: HashSet<&str> = records
        .iter()
        .map(|r| r["node"].as_str().unwrap())
        .collect();
    assert_eq!(nodes.len(), 3);
    let times: Vec<i64> = records
        .iter()
        .map(|r| {
            let body: serde_json::Value =
                serde_json::from_str(r["body"].as_str().unwrap()).unwrap();
            body["entry"]["time_ms"].as_i64().unwrap()
        })
        .collect();
    // Merged by time; a chain keeps its own (commit) order, in which a slow
    // request's record may follow a quicker later one by its duration.
    let mut newest = i64::MIN;
    for t in &times {
        assert!(
            *t >= newest.saturating_sub(2_000),
            "the export is not in time order"
        );
        newest = newest.max(*t);
    }
    assert!(times.first() < times.last());
    let verified = std::process::Command::new(BIN)
        .args(["audit", "verify", "--export", out])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&verified.stdout);
    assert_eq!(verified.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("3 of 3 chains intact"), "{stdout}");
    drop(orders);
}
