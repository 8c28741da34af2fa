//! `audit tail --follow` on a fleet's ledger through the binary: requests
//! answered by either of two nodes appear, each line led by its node.

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "test code: a missing value should fail the test"
)]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use portcullis_testkit::ExampleCopy;
use portcullis_testkit::pg::TestDatabase;
use portcullis_testkit::raw::{get, with_header};
use portcullis_testkit::served::{Served, cli};

const BIN: &str = env!("CARGO_BIN_EXE_portcullis");

#[test]
fn tail_follows_every_node_of_a_fleet() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let db = runtime.block_on(TestDatabase::create("tail"));
    let orders = runtime
        .block_on(portcullis_example_orders::OrdersApi::start(
            "127.0.0.1:0".parse().unwrap(),
        ))
        .unwrap();
    let upstream = format!("http://{}", orders.addr());
    let dirs: Vec<ExampleCopy> = (0..2)
        .map(|i| {
            let dir = ExampleCopy::serving(&format!("fleet-tail-{i}"), &upstream);
            let text = std::fs::read_to_string(dir.config())
                .unwrap()
                .replace("sqlite://portcullis.db", &db.url());
            std::fs::write(dir.config(), text).unwrap();
            dir
        })
        .collect();
    let nodes: Vec<Served> = dirs
        .iter()
        .enumerate()
        .map(|(i, dir)| Served::start_with(BIN, &dir.config(), &["--node", &format!("tail{i}")]))
        .collect();
    let (code, key, err) = cli(
        BIN,
        &dirs[0].config(),
        &["identity", "rotate", "reporting-agent", "--kind", "api-key"],
    );
    assert_eq!(code, Some(0), "{err}");
    let request = with_header(&get("/orders/v1/orders"), "X-Api-Key", key.trim());

    let mut tail = Command::new(BIN)
        .args(["audit", "tail", "-n", "0", "--follow", "-c"])
        .arg(dirs[1].config())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let stdout = tail.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    std::thread::sleep(Duration::from_millis(800));
    for node in &nodes {
        for _ in 0..3 {
            let deadline = Instant::now() + Duration::from_secs(2);
            while runtime
                .block_on(portcullis_testkit::send(node.addr, &request))
                .status
                != 200
            {
                assert!(Instant::now() < deadline, "{} does not serve", node.addr);
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }
    let mut seen = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(5);
    while seen.len() < 6 && Instant::now() < deadline {
        if let Ok(line) = rx.recv_timeout(Duration::from_millis(200))
            && line.contains("allow")
        {
            seen.push(line);
        }
    }
    let _ = tail.kill();
    let _ = tail.wait();
    drop(nodes);
    assert_eq!(seen.len(), 6, "{seen:#?}");
    for node in ["tail0", "tail1"] {
        assert_eq!(
            seen.iter()
                .filter(|l| l.starts_with(&format!("{node} ")))
                .count(),
            3,
            "{seen:#?}"
        );
    }
    drop(orders);
}
