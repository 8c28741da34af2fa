//! Stage 9 through the gateway: an identity over its rate gets 429
//! `rate-limited` with `Retry-After`, in the one problem shape, and nothing
//! reaches the upstream; an operation's own limit is narrower; a reload
//! with the same limits keeps the buckets, new limits start fresh.

#![allow(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::panic,
    reason = "test code: a missing value should fail the test"
)]

use portcullis_testkit::raw::get;
use portcullis_testkit::{World, example_config, spawn_with};

const LIMITS: &str = "rate_limits:\n  per_identity: 1/h\n  burst: 3\n  operations:\n    orders:listOrders: {rate: 1/h, burst: 1}\n";

/// The example configuration with its own `rate_limits` (the last section)
/// replaced by `limits`.
fn with_limits(limits: &str) -> String {
    let example = example_config();
    let rest = example.split("\nrate_limits:").next().unwrap();
    format!("{rest}\n{limits}")
}

async fn status(world: &World, path: &str) -> (u16, Option<String>) {
    let response = world.gateway(&get(path)).await;
    (response.status, response.code())
}

#[tokio::test]
async fn an_identity_over_its_rate_is_told_when_to_come_back() {
    let world = spawn_with(&with_limits(LIMITS)).await;
    // The operation's own limit (burst 1) refuses before the identity's
    // allowance is touched.
    assert_eq!(status(&world, "/orders/v1/orders").await.0, 200);
    let refused = world.gateway(&get("/orders/v1/orders")).await;
    assert_eq!(refused.status, 429, "{}", refused.text());
    assert_eq!(refused.code().as_deref(), Some("rate-limited"));
    assert_eq!(
        refused.header("content-type"),
        Some("application/problem+json")
    );
    assert_eq!(
        refused.json()["detail"],
        "this identity is over its request rate for this operation"
    );
    let retry: u64 = refused.header("retry-after").unwrap().parse().unwrap();
    assert!((3000..=3600).contains(&retry), "Retry-After {retry}");

    // Two more of the identity's burst of 3, then its own limit.
    assert_eq!(status(&world, "/orders/v1/orders/summary").await.0, 200);
    assert_eq!(status(&world, "/orders/v1/orders/summary").await.0, 200);
    let mut decisions = world.gateway.decisions();
    let refused = world.gateway(&get("/orders/v1/orders/summary")).await;
    assert_eq!(refused.status, 429);
    assert_eq!(
        refused.json()["detail"],
        "this identity is over its request rate"
    );
    assert!(refused.header("retry-after").is_some());
    // Decided at stage 9, after authorization allowed it: never forwarded.
    let event = decisions.recv().await.unwrap();
    assert_eq!(
        (event.stage, event.code),
        ("rate_limit", Some("rate-limited"))
    );
    assert_eq!(event.policies, ["testkit-test-suite"]);
    world.stop().await;
}

#[tokio::test]
async fn a_reload_keeps_the_buckets_unless_the_limits_change() {
    let text = with_limits("rate_limits: {per_identity: 1/h, burst: 1}\n");
    let world = spawn_with(&text).await;
    let upstream = format!("http://{}", world.upstream_addr());
    assert_eq!(status(&world, "/orders/v1/orders/summary").await.0, 200);
    assert_eq!(status(&world, "/orders/v1/orders/summary").await.0, 429);

    // The same limits: reloading is not a way to refill an allowance.
    let same = portcullis_testkit::config(&text, &upstream);
    world.gateway.apply(same).await.unwrap();
    assert_eq!(status(&world, "/orders/v1/orders/summary").await.0, 429);

    // New limits start with full buckets.
    let wider = with_limits("rate_limits: {per_identity: 1/h, burst: 2}\n");
    world
        .gateway
        .apply(portcullis_testkit::config(&wider, &upstream))
        .await
        .unwrap();
    assert_eq!(status(&world, "/orders/v1/orders/summary").await.0, 200);
    world.stop().await;
}

#[tokio::test]
async fn without_limits_nothing_is_rate_limited() {
    let world = spawn_with(&with_limits("")).await;
    for _ in 0..50 {
        assert_eq!(status(&world, "/orders/v1/orders/summary").await.0, 200);
    }
    world.stop().await;
}
