//! Each detector of the watch driven through the live gateway with scripted
//! traffic: the alert, its evidence and the graded action at its step, and
//! no alert for a normal client doing the same volume of valid, permitted
//! work.

#![allow(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::panic,
    reason = "test code: a missing value should fail the test"
)]

#[path = "support/watch.rs"]
mod support;

use std::time::Duration;

use portcullis_testkit::{raw, spawn_with};
use support::{Client, alerts, only, settled_alerts};

const LIST: &str = "/orders/v1/orders";

#[tokio::test]
async fn probing_alerts_then_throttles_then_quarantines() {
    let world = spawn_with(&only(
        "probing: {window: 10m, threshold: 5, respond: [alert, throttle, quarantine]}",
        "",
    ))
    .await;
    let prober = Client::new(&world, "prober", None);
    let normal = Client::new(&world, "steady", None);
    let probe = || async {
        for path in [
            "/orders/v1/admin",
            "/orders/v1/.env",
            "/orders/v2/orders",
            "/orders/v1/debug",
            "/orders/v1/x",
        ] {
            assert_eq!(
                prober.get(path).await.code().as_deref(),
                Some("undeclared-route")
            );
        }
    };
    probe().await;
    let first = alerts(&world, "prober", 1).await;
    let a = &first[0];
    assert_eq!(a["detector"], "probing");
    assert_eq!(a["action"], "alert");
    assert_eq!(
        (a["level"].as_u64(), a["mode"].as_str()),
        (Some(1), Some("enforce"))
    );
    assert_eq!(
        (
            a["window_ms"].as_u64(),
            a["count"].as_u64(),
            a["threshold"].as_u64()
        ),
        (Some(600_000), Some(5), Some(5))
    );
    assert!(a["since_ms"].as_i64().is_some());
    // Only an alert: valid work goes on.
    assert_eq!(prober.get(LIST).await.status, 200);

    probe().await;
    let second = alerts(&world, "prober", 2).await;
    assert_eq!(second[1]["action"], "throttle");
    assert!(second[1]["until_ms"].as_i64().is_some());
    // Throttled to one a second: the second of two at once waits.
    let _ = prober.get(LIST).await;
    let throttled = prober.get(LIST).await;
    assert_eq!(throttled.status, 429);
    assert!(
        throttled.json()["detail"]
            .as_str()
            .unwrap()
            .contains("throttled by the watch")
    );
    assert!(throttled.header("retry-after").is_some());

    probe().await;
    let third = alerts(&world, "prober", 3).await;
    assert_eq!(third[2]["action"], "quarantine");
    let refused = prober.get(LIST).await;
    assert_eq!(
        (refused.status, refused.code().as_deref()),
        (403, Some("identity-suspended"))
    );
    assert!(
        refused.json()["detail"]
            .as_str()
            .unwrap()
            .contains("quarantined")
    );

    // The same volume of valid, permitted work: nothing.
    for _ in 0..15 {
        assert_eq!(normal.get(LIST).await.status, 200);
    }
    assert!(settled_alerts(&world, "steady").await.is_empty());
    let metrics = world.gateway.metrics().render();
    assert!(
        metrics.contains(r#"portcullis_watch_alerts_total{detector="probing",action="quarantine",mode="enforce"} 1"#),
        "{metrics}"
    );
    world.stop().await;
}

fn order(n: u32) -> String {
    format!("{LIST}/00000000-0000-4000-8000-{n:012}")
}

#[tokio::test]
async fn enumeration_alerts_on_distinct_values_and_on_a_sequence() {
    let world = spawn_with(&only(
        "enumeration: {window: 10m, distinct: 8, sequence: 6, respond: [throttle]}",
        "",
    ))
    .await;
    let walker = Client::new(&world, "walker", None);
    // Eight different orders, in no order.
    for n in [907, 13, 5521, 230, 77, 4096, 318, 61] {
        walker.get(&order(n)).await;
    }
    let a = &alerts(&world, "walker", 1).await[0];
    assert_eq!(
        (a["detector"].as_str(), a["subject"].as_str()),
        (Some("enumeration"), Some("orders:getOrder"))
    );
    assert_eq!(
        (a["count"].as_u64(), a["threshold"].as_u64()),
        (Some(8), Some(8))
    );
    assert_eq!(a["samples"].as_array().unwrap().len(), 5);
    assert_eq!(
        (a["action"].as_str(), a["window_ms"].as_u64()),
        (Some("throttle"), Some(600_000))
    );
    let _ = walker.get(LIST).await;
    assert_eq!(
        walker.get(LIST).await.status,
        429,
        "throttled to one a second"
    );

    let counter = Client::new(&world, "counter", None);
    for n in 101..=106 {
        counter.get(&order(n)).await;
    }
    let a = &alerts(&world, "counter", 1).await[0];
    assert_eq!(
        (a["count"].as_u64(), a["threshold"].as_u64()),
        (Some(6), Some(6))
    );
    assert_eq!(
        a["samples"][1].as_str(),
        Some("00000000-0000-4000-8000-000000000106")
    );
    let _ = counter.get(LIST).await;
    assert_eq!(counter.get(LIST).await.status, 429);

    // The same number of reads of the two orders a client works on.
    let normal = Client::new(&world, "worker", None);
    for i in 0..16 {
        normal.get(&order(if i % 2 == 0 { 7 } else { 9 })).await;
    }
    assert!(settled_alerts(&world, "worker").await.is_empty());
    assert_eq!(normal.get(LIST).await.status, 200);
    world.stop().await;
}

#[tokio::test]
async fn a_deny_spike_alerts_against_the_identitys_own_baseline() {
    let world = spawn_with(&only(
        "deny_spike: {window: 10m, min: 5, factor: 3, respond: [quarantine]}",
        "",
    ))
    .await;
    let reads_only = ["orders:read"];
    let spiker = Client::new(&world, "spiker", Some(&reads_only));
    let create = raw::json("POST", LIST, r#"{"customerId":"x","items":[]}"#);
    for _ in 0..5 {
        assert_eq!(
            spiker.send(&create).await.code().as_deref(),
            Some("insufficient-scope")
        );
    }
    let a = &alerts(&world, "spiker", 1).await[0];
    assert_eq!(
        (a["detector"].as_str(), a["action"].as_str()),
        (Some("deny_spike"), Some("quarantine"))
    );
    assert_eq!(a["window_ms"].as_u64(), Some(600_000));
    assert_eq!(
        spiker.get(LIST).await.code().as_deref(),
        Some("identity-suspended")
    );
    assert_eq!(
        (
            a["count"].as_u64(),
            a["threshold"].as_u64(),
            a["baseline"].as_u64()
        ),
        (Some(5), Some(5), Some(0))
    );
    // The same volume of permitted reads, by an identity holding the same scopes.
    let reader = Client::new(&world, "reader", Some(&reads_only));
    for _ in 0..5 {
        assert_eq!(reader.get(LIST).await.status, 200);
    }
    assert!(settled_alerts(&world, "reader").await.is_empty());
    world.stop().await;
}

#[tokio::test]
async fn novelty_alerts_on_an_operation_never_used_after_the_warm_up() {
    let world = spawn_with(&only(
        "novelty: {warmup: 0s, warmup_records: 5, cooldown: 1m, kinds: [operation], respond: [throttle]}",
        "",
    ))
    .await;
    let explorer = Client::new(&world, "explorer", None);
    for _ in 0..6 {
        assert_eq!(explorer.get(LIST).await.status, 200);
    }
    assert!(
        settled_alerts(&world, "explorer").await.is_empty(),
        "learnt in the warm-up"
    );
    explorer.get("/orders/v1/customers").await;
    let a = &alerts(&world, "explorer", 1).await[0];
    assert_eq!(a["detector"], "novelty");
    assert_eq!(a["subject"], "operation orders:listCustomers");
    assert_eq!(
        (a["count"].as_u64(), a["threshold"].as_u64()),
        (Some(7), Some(5))
    );
    // Novelty's window is its cooldown: at most one alert in it.
    assert_eq!(
        (a["action"].as_str(), a["window_ms"].as_u64()),
        (Some("throttle"), Some(60_000))
    );
    let _ = explorer.get(LIST).await;
    assert_eq!(explorer.get(LIST).await.status, 429);
    // The same volume, doing what it always does.
    let routine = Client::new(&world, "routine", None);
    for _ in 0..7 {
        assert_eq!(routine.get(LIST).await.status, 200);
    }
    assert!(settled_alerts(&world, "routine").await.is_empty());
    world.stop().await;
}

/// `per_second` requests each second for `secs` seconds.
async fn steady(client: &Client<'_>, per_second: u32, secs: u32) {
    for _ in 0..secs * per_second {
        client.get(LIST).await;
        tokio::time::sleep(Duration::from_millis(u64::from(1_000 / per_second))).await;
    }
}

#[tokio::test]
async fn volume_alerts_on_a_surge_above_the_identitys_own_rate() {
    let world = spawn_with(&only(
        "volume: {window: 1s, min: 20, factor: 4, warmup_windows: 2, respond: [quarantine]}",
        "",
    ))
    .await;
    let surger = Client::new(&world, "surger", None);
    let normal = Client::new(&world, "level", None);
    // Both run at four a second; then one surges.
    let surge = async {
        steady(&surger, 4, 4).await;
        let request = raw::with_header(&raw::get(LIST), "X-Api-Key", &surger.key);
        let mut burst = tokio::task::JoinSet::new();
        for _ in 0..120 {
            let request = request.clone();
            let addr = world.gateway_addr();
            burst.spawn(async move { raw::send(addr, &request).await });
        }
        while burst.join_next().await.is_some() {}
    };
    tokio::join!(surge, steady(&normal, 4, 6));
    let a = &alerts(&world, "surger", 1).await[0];
    assert_eq!(a["detector"], "volume");
    assert!(a["count"].as_u64().unwrap() >= 20, "{a}");
    assert!(a["baseline"].as_u64().unwrap() <= 5, "{a}");
    assert_eq!(
        (a["action"].as_str(), a["window_ms"].as_u64()),
        (Some("quarantine"), Some(1_000))
    );
    assert_eq!(
        surger.get(LIST).await.code().as_deref(),
        Some("identity-suspended")
    );
    assert_eq!(normal.get(LIST).await.status, 200);
    assert!(settled_alerts(&world, "level").await.is_empty());
    world.stop().await;
}
