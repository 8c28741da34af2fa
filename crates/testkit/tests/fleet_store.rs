//! Two gateways on one PostgreSQL store: what one node changes, the other
//! applies within a second (an identity made, a suspension, a release; its
//! change feed hears it in milliseconds), and a token one issued verifies
//! on the other. The propagation figure: p99 of 100 suspensions.

#![allow(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::panic,
    reason = "test code: a missing value should fail the test"
)]

use portcullis_core::IdentityState;
use portcullis_proxy::Gateway;
use portcullis_store::ChangedBy;
use portcullis_testkit::pg::TestDatabase;
use portcullis_testkit::raw::{get, request, with_header};
use portcullis_testkit::{ExampleCopy, config_stored, example_config, identity_with_key, send};

const LIST: &str = "/orders/v1/orders";

/// Sends `req` to `addr` until it answers `status` (within a second).
async fn until(addr: std::net::SocketAddr, req: &[u8], status: u16) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(1);
    loop {
        let r = send(addr, req).await;
        if r.status == status {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "still {} after a second: {}",
            r.status,
            r.text()
        );
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    }
}

/// A node's configuration: `text` read in `dir`, the `orders` API sent to
/// `upstream`, the store (and ledger) on `db`, node id `node` when given.
fn on_db(
    dir: &std::path::Path,
    text: &str,
    upstream: &str,
    db: &TestDatabase,
    node: Option<&str>,
) -> portcullis_config::Config {
    let mut config = config_stored(
        dir,
        text,
        &[("orders", upstream)],
        portcullis_testkit::pg::storage(db),
    );
    config.node = node.map(str::to_owned);
    config
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_on_one_node_bites_on_the_others_within_a_second() {
    let db = TestDatabase::create("fleet").await;
    let orders = portcullis_example_orders::OrdersApi::start("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let upstream = format!("http://{}", orders.addr());
    let (dir_a, dir_b) = (ExampleCopy::new("fleet-a"), ExampleCopy::new("fleet-b"));
    let start = |dir: &std::path::Path| {
        let config = on_db(dir, &example_config(), &upstream, &db, None);
        async move { Gateway::start(config).await.unwrap() }
    };
    let a = start(&dir_a).await;
    let b = start(&dir_b).await;

    // Made on A, used on B; a token A issued, verified on B.
    let key = identity_with_key(&a, "worker", None);
    let (token, _) = a
        .authority()
        .issue_for("worker", &["orders:read".into()], 600, "orders")
        .unwrap();
    let by_key = with_header(&get(LIST), "X-Api-Key", &key);
    let by_token = request(
        "GET",
        LIST,
        &[("Authorization", &format!("Bearer {token}"))],
        b"",
    );
    assert_eq!(send(b.addr(), &by_key).await.status, 200);
    assert_eq!(send(b.addr(), &by_token).await.status, 200);

    // Suspended on A: B refuses it within a second, key and token.
    a.authority()
        .set_state("worker", IdentityState::Suspended, ChangedBy::who("ops"))
        .unwrap();
    until(b.addr(), &by_key, 403).await;
    let r = send(b.addr(), &by_token).await;
    assert_eq!(
        (r.status, r.code().as_deref()),
        (403, Some("identity-suspended"))
    );
    // Released on B: A serves it again.
    b.authority()
        .set_state("worker", IdentityState::Active, ChangedBy::who("ops"))
        .unwrap();
    until(a.addr(), &by_key, 200).await;

    // The figure: a suspension on A until B refuses, 100 times.
    let mut took = Vec::new();
    for _ in 0..100 {
        let started = std::time::Instant::now();
        a.authority()
            .set_state("worker", IdentityState::Suspended, ChangedBy::who("ops"))
            .unwrap();
        until(b.addr(), &by_key, 403).await;
        took.push(started.elapsed());
        a.authority()
            .set_state("worker", IdentityState::Active, ChangedBy::who("ops"))
            .unwrap();
        until(b.addr(), &by_key, 200).await;
    }
    took.sort();
    let (p50, p99) = (took[49], took[98]);
    eprintln!(
        "propagation A -> B over 100 suspensions: p50 {p50:?}, p99 {p99:?}, max {:?}",
        took[99]
    );
    assert!(p99 < std::time::Duration::from_secs(1), "p99 {p99:?}");

    // Keys rotate fleet-wide: a token signed with A's new key is accepted by
    // B within a second, and one signed before the rotation still is.
    let kid = a.authority().rotate_signing_key().unwrap();
    let (rotated, _) = a
        .authority()
        .issue_for("worker", &["orders:read".into()], 600, "orders")
        .unwrap();
    assert!(
        a.authority().jwks().unwrap().to_string().contains(&kid),
        "the new key {kid} is published"
    );
    let by_rotated = request(
        "GET",
        LIST,
        &[("Authorization", &format!("Bearer {rotated}"))],
        b"",
    );
    until(b.addr(), &by_rotated, 200).await;
    assert_eq!(send(b.addr(), &by_token).await.status, 200);

    a.stop().await;
    b.stop().await;
    orders.stop().await;
}

/// A gateway started against a database a newer build migrated refuses to
/// start, and says why; the database is left as it was.
#[tokio::test]
async fn a_gateway_refuses_a_database_from_a_newer_build() {
    let db = TestDatabase::create("newer").await;
    let dir = ExampleCopy::new("fleet-newer");
    let config = on_db(&dir, &example_config(), "http://127.0.0.1:9", &db, None);
    let first = Gateway::start(config.clone()).await.unwrap();
    first.stop().await;
    let admin = portcullis_store::postgres::connect(&db.url())
        .await
        .unwrap();
    let newer = portcullis_store::postgres::migrations::latest() + 1;
    admin
        .execute(
            "INSERT INTO portcullis_schema_version (version) VALUES ($1)",
            &[&newer],
        )
        .await
        .unwrap();
    let refused = Gateway::start(config).await.unwrap_err().to_string();
    assert!(
        refused.contains(&format!("schema version {newer}, newer than this build's")),
        "{refused}"
    );
    assert!(
        !refused.contains("postgres://"),
        "the URL is never shown: {refused}"
    );
}

/// The fleet register: two nodes on one store see each other alive with
/// one configuration; a third whose files differ is flagged as drift; a
/// second process claiming a live node's id is refused; a node that stops
/// leaves the register.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_register_drift_is_flagged_and_an_id_is_never_shared() {
    let db = TestDatabase::create("register").await;
    let upstream = "http://127.0.0.1:9";
    let dirs = [
        ExampleCopy::new("register-a"),
        ExampleCopy::new("register-b"),
        ExampleCopy::new("register-c"),
        ExampleCopy::new("register-d"),
    ];
    let start = |dir: &std::path::Path, text: &str, node: &str| {
        let config = on_db(dir, text, upstream, &db, Some(node));
        async move { Gateway::start(config).await }
    };
    let text = example_config();
    let a = start(&dirs[0], &text, "gw-a").await.unwrap();
    let b = start(&dirs[1], &text, "gw-b").await.unwrap();
    let view = a.observer().fleet().await.unwrap();
    let seen: Vec<_> = view
        .nodes
        .iter()
        .map(|n| (n.id.as_str(), n.live, n.drift))
        .collect();
    assert_eq!(seen, [("gw-a", true, false), ("gw-b", true, false)]);
    assert_eq!(view.nodes[0].config_digest, view.nodes[1].config_digest);
    assert_eq!(view.nodes[0].address, a.addr().to_string());

    // Another file: the odd one out drifts.
    let other = text.replace("mode: enforce", "mode: enforce  # edited on one node only");
    assert_ne!(other, text);
    let c = start(&dirs[2], &other, "gw-c").await.unwrap();
    let view = b.observer().fleet().await.unwrap();
    let drift: Vec<_> = view
        .nodes
        .iter()
        .map(|n| (n.id.as_str(), n.drift))
        .collect();
    assert_eq!(drift, [("gw-a", false), ("gw-b", false), ("gw-c", true)]);
    assert!(view.drift);

    // gw-a's id, while gw-a is alive: refused, after waiting it out.
    let started = std::time::Instant::now();
    let taken = start(&dirs[3], &text, "gw-a")
        .await
        .unwrap_err()
        .to_string();
    assert!(
        taken.contains("node `gw-a`") && taken.contains("--node"),
        "{taken}"
    );
    assert!(
        started.elapsed() >= portcullis_proxy::fleet::LIVE,
        "{:?}",
        started.elapsed()
    );

    // Stopped cleanly: off the register.
    c.stop().await;
    let view = a.observer().fleet().await.unwrap();
    let ids: Vec<_> = view.nodes.iter().map(|n| n.id.as_str()).collect();
    assert_eq!(ids, ["gw-a", "gw-b"]);
    assert!(!view.drift);
    a.stop().await;
    b.stop().await;
}

/// Three nodes started at the same moment on a fresh database: one
/// migrates, and one signing key is made (the others find it, even under
/// the same key id), so every node starts and they all issue and verify
/// each other's tokens.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_nodes_starting_together_on_a_fresh_database_all_start() {
    let db = TestDatabase::create("together").await;
    let orders = portcullis_example_orders::OrdersApi::start("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let upstream = format!("http://{}", orders.addr());
    let dirs = [
        ExampleCopy::new("together-a"),
        ExampleCopy::new("together-b"),
        ExampleCopy::new("together-c"),
    ];
    let start = |dir: &std::path::Path, node: &str| {
        let config = on_db(dir, &example_config(), &upstream, &db, Some(node));
        async move { Gateway::start(config).await }
    };
    let (a, b, c) = tokio::join!(
        start(&dirs[0], "n-a"),
        start(&dirs[1], "n-b"),
        start(&dirs[2], "n-c")
    );
    let nodes = [a.unwrap(), b.unwrap(), c.unwrap()];
    let view = nodes[0].observer().fleet().await.unwrap();
    assert_eq!((view.live, view.drift), (3, false));
    let (token, _) = nodes[2]
        .authority()
        .issue_for("reporting-agent", &["orders:read".into()], 600, "orders")
        .unwrap();
    let by_token = request(
        "GET",
        LIST,
        &[("Authorization", &format!("Bearer {token}"))],
        b"",
    );
    for node in &nodes {
        let r = send(node.addr(), &by_token).await;
        assert_eq!(r.status, 200, "{}", r.text());
    }
    for node in nodes {
        node.stop().await;
    }
    orders.stop().await;
}

/// PostgreSQL gone while a node serves (every connection ended, new ones
/// refused): within `fleet.stale_after` every request is refused with 503
/// `unavailable`, never served from what the node last knew; once it is
/// back the node serves again without a restart, and every change
/// acknowledged before the outage (an identity made, another suspended)
/// still holds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_gone_while_serving_fails_closed_and_recovers_with_nothing_acknowledged_lost() {
    let db = TestDatabase::create("outage").await;
    let orders = portcullis_example_orders::OrdersApi::start("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let upstream = format!("http://{}", orders.addr());
    let dir = ExampleCopy::new("outage");
    let text = format!("{}fleet: {{ stale_after: 1s }}\n", example_config());
    let config = on_db(&dir, &text, &upstream, &db, None);
    assert_eq!(config.fleet.stale_after, std::time::Duration::from_secs(1));
    let node = Gateway::start(config).await.unwrap();
    let worker = with_header(
        &get(LIST),
        "X-Api-Key",
        &identity_with_key(&node, "worker", None),
    );
    let other = with_header(
        &get(LIST),
        "X-Api-Key",
        &identity_with_key(&node, "other", None),
    );
    node.authority()
        .set_state("other", IdentityState::Suspended, ChangedBy::who("ops"))
        .unwrap();
    assert_eq!(send(node.addr(), &worker).await.status, 200);
    assert_eq!(send(node.addr(), &other).await.status, 403);

    db.refuse_connections().await;
    let cut = std::time::Instant::now();
    let mut statuses = Vec::new();
    let refused = loop {
        let r = send(node.addr(), &worker).await;
        statuses.push(r.status);
        if r.status == 503 {
            break r;
        }
        assert!(
            cut.elapsed() < std::time::Duration::from_secs(3),
            "still answering {statuses:?} 3 s after PostgreSQL went"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert_eq!(refused.code().as_deref(), Some("unavailable"));
    assert_eq!(
        refused.header("content-type"),
        Some("application/problem+json")
    );
    assert!(!refused.text().contains("postgres"), "{}", refused.text());
    eprintln!("PostgreSQL gone: refused after {:?}", cut.elapsed());
    // Gone is gone: no request is served while it stays away.
    for _ in 0..10 {
        assert_eq!(send(node.addr(), &worker).await.status, 503);
    }

    db.allow_connections().await;
    let back = std::time::Instant::now();
    loop {
        let r = send(node.addr(), &worker).await;
        if r.status == 200 {
            break;
        }
        assert_eq!(r.status, 503, "{}", r.text());
        assert!(
            back.elapsed() < std::time::Duration::from_secs(10),
            "not serving 10 s after PostgreSQL came back"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    eprintln!("PostgreSQL back: serving after {:?}", back.elapsed());
    let r = send(node.addr(), &other).await;
    assert_eq!(
        (r.status, r.code().as_deref()),
        (403, Some("identity-suspended"))
    );
    node.stop().await;
    orders.stop().await;
}

/// One ledger for the fleet: two nodes' requests land in one PostgreSQL
/// database, a chain per node; a query on either node spans both in time
/// order, and each chain verifies on its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_nodes_record_into_one_ledger_each_chain_verifying() {
    use portcullis_store::ledger::{Filter, Ledger};
    let db = TestDatabase::create("ledger").await;
    let orders = portcullis_example_orders::OrdersApi::start("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let upstream = format!("http://{}", orders.addr());
    let (dir_a, dir_b) = (ExampleCopy::new("ledger-a"), ExampleCopy::new("ledger-b"));
    let start = |dir: &std::path::Path, node: &str| {
        let config = on_db(dir, &example_config(), &upstream, &db, Some(node));
        assert_eq!(
            config.audit.ledger,
            portcullis_config::LedgerPlace::Postgres
        );
        async move { Gateway::start(config).await.unwrap() }
    };
    let a = start(&dir_a, "led-a").await;
    let b = start(&dir_b, "led-b").await;
    let key = identity_with_key(&a, "worker", None);
    let list = with_header(&get(LIST), "X-Api-Key", &key);
    until(b.addr(), &list, 200).await;
    for _ in 0..5 {
        assert_eq!(send(a.addr(), &list).await.status, 200);
        assert_eq!(send(b.addr(), &list).await.status, 200);
    }
    a.flush_audit().await;
    b.flush_audit().await;

    let location = a.observer().ledger().clone();
    let (page, reports) = tokio::task::spawn_blocking(move || {
        let fleet = Ledger::open_reader(&location).unwrap();
        let page = fleet
            .query(&Filter {
                identity: Some("worker".into()),
                limit: 100,
                ..Filter::default()
            })
            .unwrap();
        (page, fleet.verify_each(&[]).unwrap())
    })
    .await
    .unwrap();
    let allowed = page
        .records
        .iter()
        .filter(|r| r["entry"]["status"] == 200)
        .count();
    assert!(allowed >= 10, "{allowed} of the 10 answered requests found");
    let times: Vec<i64> = page
        .records
        .iter()
        .map(|r| r["entry"]["time_ms"].as_i64().unwrap())
        .collect();
    assert!(
        times.windows(2).all(|w| w[0] >= w[1]),
        "not newest first: {times:?}"
    );
    let nodes: Vec<_> = reports
        .iter()
        .map(|(n, r)| (n.clone().unwrap(), r.is_ok()))
        .collect();
    assert_eq!(
        nodes,
        [("led-a".to_owned(), true), ("led-b".to_owned(), true)]
    );
    assert!(!dir_a.join("audit.db").exists() && !dir_b.join("audit.db").exists());
    a.stop().await;
    b.stop().await;
    orders.stop().await;
}
