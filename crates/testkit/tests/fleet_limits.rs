//! Rate limits shared through Redis (`rate_limits.backend`): two gateways
//! hold one limit between them, not one each; with Redis cut off (a relay
//! the test cuts, so the Redis other tests use keeps running) a node does
//! what `on_unavailable` says, and shows it in readiness and metrics, and
//! goes back to Redis's count when it returns.
//!
//! Each test limits an identity of its own name, so runs in parallel (and
//! Redis's leftover keys, which expire within a minute) never meet.

#![allow(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::panic,
    reason = "test code: a missing value should fail the test"
)]

use std::time::{Duration, Instant};

use portcullis_proxy::Gateway;
use portcullis_testkit::cut::Cuttable;
use portcullis_testkit::pg::TestDatabase;
use portcullis_testkit::raw::{get, with_header};
use portcullis_testkit::{ExampleCopy, config_stored, example_config, identity_with_key, send};

const SUMMARY: &str = "/orders/v1/orders/summary";
const REDIS: &str = "127.0.0.1:6379";

/// An identity id no other test (or earlier run) uses.
fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{prefix}-{}-{nanos}", std::process::id())
}

/// The example configuration with `limits` for its `rate_limits:`.
fn with_limits(limits: &str) -> String {
    let example = example_config();
    let rest = example.split("\nrate_limits:").next().unwrap();
    format!("{rest}\n{limits}")
}

struct Fleet {
    nodes: Vec<Gateway>,
    orders: portcullis_example_orders::OrdersApi,
    _dirs: Vec<ExampleCopy>,
}

impl Fleet {
    async fn start(name: &str, nodes: usize, limits: &str) -> Self {
        Self::start_on(name, nodes, limits, None).await
    }

    /// As [`Fleet::start`], on one PostgreSQL store when `db` is given (the
    /// nodes then see each other in the fleet register).
    async fn start_on(name: &str, nodes: usize, limits: &str, db: Option<&TestDatabase>) -> Self {
        let orders = portcullis_example_orders::OrdersApi::start("127.0.0.1:0".parse().unwrap())
            .await
            .unwrap();
        let upstream = format!("http://{}", orders.addr());
        let text = with_limits(limits);
        let (mut gateways, mut dirs) = (Vec::new(), Vec::new());
        for i in 0..nodes {
            let dir = ExampleCopy::new(&format!("{name}-{i}"));
            let storage = db.map_or(
                portcullis_config::Storage::Memory,
                portcullis_testkit::pg::storage,
            );
            let mut config = config_stored(&dir, &text, &[("orders", upstream.as_str())], storage);
            config.node = Some(format!("{name}-{i}"));
            gateways.push(Gateway::start(config).await.unwrap());
            dirs.push(dir);
        }
        Self {
            nodes: gateways,
            orders,
            _dirs: dirs,
        }
    }

    /// The same identity on every node (each store is its own here: the
    /// limit, not the inventory, is what is shared), a key for each.
    fn identity(&self, id: &str) -> Vec<Vec<u8>> {
        self.nodes
            .iter()
            .map(|node| {
                with_header(
                    &get(SUMMARY),
                    "X-Api-Key",
                    &identity_with_key(node, id, None),
                )
            })
            .collect()
    }

    /// Sends `rounds` requests to each node in turn; the statuses.
    async fn round_robin(&self, requests: &[Vec<u8>], rounds: usize) -> Vec<u16> {
        let mut statuses = Vec::new();
        for _ in 0..rounds {
            for (node, request) in self.nodes.iter().zip(requests) {
                statuses.push(send(node.addr(), request).await.status);
            }
        }
        statuses
    }

    async fn stop(self) {
        for node in self.nodes {
            node.stop().await;
        }
        self.orders.stop().await;
    }
}

fn count(statuses: &[u16], status: u16) -> usize {
    statuses.iter().filter(|s| **s == status).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_hold_one_limit_between_them() {
    let limits = format!("rate_limits:\n  per_identity: 4/m\n  backend: redis://{REDIS}\n");
    let fleet = Fleet::start("shared-limit", 2, &limits).await;
    let requests = fleet.identity(&unique("one-limit"));
    let statuses = fleet.round_robin(&requests, 5).await;
    // A burst of 4 for the fleet, not 4 per node: two on each, then 429s.
    assert_eq!(statuses, [200, 200, 200, 200, 429, 429, 429, 429, 429, 429]);
    let refused = send(fleet.nodes[1].addr(), &requests[1]).await;
    assert_eq!(refused.code().as_deref(), Some("rate-limited"));
    let retry: u64 = refused.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=15).contains(&retry), "Retry-After {retry}");
    assert!(
        fleet.nodes[0]
            .observer()
            .metrics()
            .contains("portcullis_rate_limit_backend_up 1")
    );
    fleet.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_redis_gone_deny_refuses_with_unavailable_and_recovers() {
    let relay = Cuttable::start(REDIS.parse().unwrap()).await;
    let limits = format!(
        "rate_limits:\n  per_identity: 600/m\n  backend: redis://{}\n  on_unavailable: deny\n",
        relay.addr()
    );
    let fleet = Fleet::start("limit-deny", 1, &limits).await;
    let node = &fleet.nodes[0];
    let requests = fleet.identity(&unique("deny"));
    assert_eq!(send(node.addr(), &requests[0]).await.status, 200);
    assert_eq!(node.observer().ready().await, Ok(Vec::new()));

    relay.cut();
    let refused = send(node.addr(), &requests[0]).await;
    assert_eq!(refused.status, 503, "{}", refused.text());
    assert_eq!(refused.code().as_deref(), Some("unavailable"));
    assert_eq!(
        refused.header("content-type"),
        Some("application/problem+json")
    );
    assert!(
        !refused.text().contains("6379") && !refused.text().contains(&relay.addr().to_string())
    );
    let not_ready = node.observer().ready().await.unwrap_err();
    assert!(
        not_ready.iter().any(|p| p.contains("Redis")),
        "{not_ready:?}"
    );
    let metrics = node.observer().metrics();
    assert!(
        metrics.contains("portcullis_rate_limit_backend_up 0"),
        "{metrics}"
    );
    assert!(metrics.contains("portcullis_rate_limit_fallbacks_total{on_unavailable=\"deny\"}"));

    // Back: served again within a second (a failed backend rests 500 ms).
    relay.restore();
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        let r = send(node.addr(), &requests[0]).await;
        if r.status == 200 {
            break;
        }
        assert_eq!(r.status, 503);
        assert!(
            Instant::now() < deadline,
            "still refused after Redis came back"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(node.observer().ready().await, Ok(Vec::new()));
    fleet.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_redis_gone_local_counts_each_nodes_share_and_never_more_than_the_limit_per_node() {
    let relay = Cuttable::start(REDIS.parse().unwrap()).await;
    let limits = format!(
        "rate_limits:\n  per_identity: 4/m\n  backend: redis://{}\n  on_unavailable: local\n",
        relay.addr()
    );
    let fleet = Fleet::start("limit-local", 2, &limits).await;
    relay.cut();
    let requests = fleet.identity(&unique("local"));
    let statuses = fleet.round_robin(&requests, 6).await;
    let allowed = count(&statuses, 200);
    eprintln!(
        "Redis cut, on_unavailable local, limit 4/m burst 4, 2 nodes: {allowed} of {} allowed",
        statuses.len()
    );
    // Never more than the limit times the nodes; every refusal is a 429.
    assert!(allowed <= 4 * 2, "{statuses:?}");
    assert_eq!(count(&statuses, 429), statuses.len() - allowed);
    let degraded = fleet.nodes[0].observer().ready().await.unwrap();
    assert!(degraded.iter().any(|d| d.contains("Redis")), "{degraded:?}");
    assert!(
        fleet.nodes[0]
            .observer()
            .metrics()
            .contains("portcullis_rate_limit_fallbacks_total{on_unavailable=\"local\"}")
    );
    fleet.stop().await;
}

/// The same outage on a fleet that knows its size: two nodes on one store
/// see each other in the register, so with Redis gone each counts half of
/// the limit, and the fleet as a whole stays within it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_redis_gone_nodes_that_know_the_fleet_count_their_share() {
    let db = TestDatabase::create("share").await;
    let relay = Cuttable::start(REDIS.parse().unwrap()).await;
    let limits = format!(
        "rate_limits:\n  per_identity: 4/m\n  backend: redis://{}\n  on_unavailable: local\n",
        relay.addr()
    );
    let fleet = Fleet::start_on("limit-share", 2, &limits, Some(&db)).await;
    // Each node's register count is renewed with its heartbeat.
    tokio::time::sleep(portcullis_proxy::fleet::HEARTBEAT * 2).await;
    relay.cut();
    let id = unique("share");
    let request = with_header(
        &get(SUMMARY),
        "X-Api-Key",
        &identity_with_key(&fleet.nodes[0], &id, None),
    );
    // Made on one node; the other hears of it through the change feed.
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let requests = vec![request.clone(), request];
    let statuses = fleet.round_robin(&requests, 6).await;
    let allowed = count(&statuses, 200);
    eprintln!(
        "Redis cut, on_unavailable local, limit 4/m burst 4, 2 nodes that know each other: {allowed} of {} allowed",
        statuses.len()
    );
    assert_eq!(allowed, 4, "{statuses:?}");
    fleet.stop().await;
}
