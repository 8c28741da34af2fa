//! Property: for any path the gateway accepts, the target the upstream
//! receives is byte for byte the one the gateway matched; for any path with a
//! listed trick, the upstream receives nothing.

#![allow(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::panic,
    reason = "test code: a missing value should fail the test"
)]

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

use portcullis_testkit::raw::get;
use portcullis_testkit::{ECHO_TARGET_HEADER, example_config, seed, spawn_echo, spawn_with};

/// A canonical segment: unreserved and sub-delim characters plus valid
/// percent-encodings of characters that must stay encoded.
fn segment() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        "[A-Za-z0-9._~!$&'()*+,=:@-]{1,6}",
        Just("%20".to_owned()),
        Just("%3A".to_owned()),
        Just("%C3%A9".to_owned()),
        Just("%E2%82%AC".to_owned()),
    ];
    proptest::collection::vec(piece, 1..4)
        .prop_map(|p| p.concat())
        .prop_filter("dot segments are not canonical", |s| s != "." && s != "..")
}

fn query() -> impl Strategy<Value = Option<String>> {
    proptest::option::of("[A-Za-z0-9._~-]{0,8}".prop_map(|v| format!("q={v}")))
}

const TRICKS: &[&str] = &[
    "/..", "/.", "/", "%2F", "%2f", "%5C", "%00", ";x=1", "\\", "%2E", "%5f", "%C0%AF", "%252F",
];

#[test]
fn accepted_targets_reach_the_upstream_unchanged_and_tricks_never_do() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let world = runtime.block_on(spawn_echo(""));
    let mut runner = TestRunner::new(Config {
        cases: 96,
        ..Config::default()
    });
    let strategy = (segment(), query(), proptest::sample::select(TRICKS));
    runner
        .run(&strategy, |(seg, q, trick)| {
            let path = format!("/items/{seg}");
            let target = match &q {
                Some(q) => format!("{path}?{q}"),
                None => path.clone(),
            };
            let r = runtime.block_on(world.gateway(&get(&format!("/echo-api{target}"))));
            prop_assert_eq!(r.status, 200, "{}", r.text());
            let received = r.json();
            prop_assert_eq!(received["target"].as_str(), Some(target.as_str()));

            let tricked = format!("/echo-api/items/{seg}{trick}");
            let r = runtime.block_on(world.gateway(&get(&tricked)));
            prop_assert_ne!(r.status, 200, "{} was forwarded", tricked);
            prop_assert!(r.code().is_some(), "{} got no problem body", tricked);
            Ok(())
        })
        .unwrap();
    runtime.block_on(world.stop());
}

#[tokio::test]
async fn the_orders_api_receives_exactly_what_was_matched() {
    // The upstream reports what it received in a header the contract does
    // not declare: let it through for this test.
    let world = spawn_with(
        &example_config().replace("secrets: redact }", "secrets: redact, headers: allow }"),
    )
    .await;
    for target in [
        format!("/v1/orders/{}", seed::ORDER_PAID),
        "/v1/orders?status=paid&limit=2".to_owned(),
        format!("/v1/orders?customerId={}&offset=0", seed::CUSTOMER_ACME),
        "/v1/orders/summary".to_owned(),
        "/v1/customers?tier=pro".to_owned(),
    ] {
        let r = world.gateway(&get(&format!("/orders{target}"))).await;
        assert_eq!(r.status, 200, "{target}: {}", r.text());
        assert_eq!(r.header(ECHO_TARGET_HEADER), Some(target.as_str()));
    }
    world.stop().await;
}
