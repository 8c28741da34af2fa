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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_on_one_node_bites_on_the_others_within_a_second() {
    let db = TestDatabase::create("fleet").await;
    let orders = portcullis_example_orders::OrdersApi::start("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let upstream = format!("http://{}", orders.addr());
    let (dir_a, dir_b) = (ExampleCopy::new("fleet-a"), ExampleCopy::new("fleet-b"));
    let start = |dir: &std::path::Path| {
        let config = config_stored(
            dir,
            &example_config(),
            &[("orders", upstream.as_str())],
            portcullis_testkit::pg::storage(&db),
        );
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
    let config = config_stored(
        &dir,
        &example_config(),
        &[("orders", "http://127.0.0.1:9")],
        portcullis_testkit::pg::storage(&db),
    );
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
