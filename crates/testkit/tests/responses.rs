//! Response checks against the orders API's contract: undeclared fields,
//! secrets, undeclared statuses, per the API's configuration.

#![allow(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::panic,
    reason = "test code: a missing value should fail the test"
)]

use portcullis_example_orders::FINGERPRINT_SERVER;
use portcullis_testkit::raw::{get, request};
use portcullis_testkit::{ECHO_TARGET_HEADER, example_config, seed, spawn, spawn_echo, spawn_with};

fn with_responses(policy: &str) -> String {
    example_config().replace(
        "responses: { undeclared_fields: strip, secrets: redact }",
        policy,
    )
}

#[tokio::test]
async fn undeclared_fields_are_stripped_by_default_and_the_rest_kept() {
    let world = spawn().await;
    let path = format!("/orders/v1/orders/{}", seed::ORDER_PAID);
    let bare = world
        .direct(&get(&path.replace("/orders/v1", "/v1")))
        .await
        .json();
    assert!(bare.get("internalMarginCents").is_some() && bare.get("fraudScore").is_some());
    let through = world.gateway(&get(&path)).await;
    assert_eq!(through.status, 200);
    let body = through.json();
    assert!(body.get("internalMarginCents").is_none() && body.get("fraudScore").is_none());
    let mut expected = bare.clone();
    expected
        .as_object_mut()
        .unwrap()
        .remove("internalMarginCents");
    expected.as_object_mut().unwrap().remove("fraudScore");
    assert_eq!(body, expected);
    world.stop().await;
}

#[tokio::test]
async fn upstream_headers_that_fingerprint_the_backend_never_reach_the_caller() {
    let world = spawn().await;
    let path = format!("/orders/v1/orders/{}", seed::ORDER_PAID);
    let bare = world.direct(&get(&path.replace("/orders/v1", "/v1"))).await;
    assert_eq!(bare.header("server"), Some(FINGERPRINT_SERVER));
    assert!(bare.header("x-powered-by").is_some());
    assert!(bare.header(ECHO_TARGET_HEADER).is_some());
    let through = world.gateway(&get(&path)).await;
    assert_eq!(through.status, 200);
    for dropped in ["server", "x-powered-by", ECHO_TARGET_HEADER] {
        assert_eq!(
            through.header(dropped),
            None,
            "{dropped} reached the caller"
        );
    }
    assert_eq!(through.header("content-type"), Some("application/json"));
    assert!(through.header("x-request-id").is_some());
    world.stop().await;

    // `headers: allow` passes what the upstream sends (hop-by-hop aside).
    let world = spawn_with(&with_responses(
        "responses: { undeclared_fields: strip, secrets: redact, headers: allow }",
    ))
    .await;
    let through = world.gateway(&get(&path)).await;
    assert_eq!(through.header("server"), Some(FINGERPRINT_SERVER));
    assert!(through.header("x-powered-by").is_some());
    world.stop().await;
}

#[tokio::test]
async fn reject_and_allow_modes() {
    let path = format!("/orders/v1/orders/{}", seed::ORDER_PAID);
    let world = spawn_with(&with_responses(
        "responses: { undeclared_fields: reject, secrets: redact }",
    ))
    .await;
    let r = world.gateway(&get(&path)).await;
    assert_eq!(
        (r.status, r.code().as_deref()),
        (502, Some("response-contract-violation"))
    );
    assert!(
        !r.text().contains("internalMarginCents\":"),
        "the value must not leak: {}",
        r.text()
    );
    world.stop().await;

    let world = spawn_with(&with_responses(
        "responses: { undeclared_fields: allow, secrets: redact }",
    ))
    .await;
    let r = world.gateway(&get(&path)).await;
    assert_eq!(r.status, 200);
    assert!(r.json().get("internalMarginCents").is_some());
    world.stop().await;
}

#[tokio::test]
async fn secrets_are_redacted_or_block_the_response() {
    let path = format!("/orders/v1/customers/{}", seed::CUSTOMER_INITECH);
    let world = spawn().await;
    let r = world.gateway(&get(&path)).await;
    assert_eq!(r.status, 200);
    assert!(!r.text().contains("AKIAIOSFODNN7EXAMPLE"));
    assert!(
        r.json()["notes"]
            .as_str()
            .unwrap()
            .contains("[REDACTED:aws-access-key]")
    );
    world.stop().await;

    let world = spawn_with(&with_responses(
        "responses: { undeclared_fields: strip, secrets: block }",
    ))
    .await;
    let r = world.gateway(&get(&path)).await;
    assert_eq!(
        (r.status, r.code().as_deref()),
        (502, Some("secret-in-response"))
    );
    assert!(!r.text().contains("AKIA"));
    let clean = world
        .gateway(&get(&format!(
            "/orders/v1/customers/{}",
            seed::CUSTOMER_GLOBEX
        )))
        .await;
    assert_eq!(clean.status, 200);
    world.stop().await;

    let world = spawn_with(&with_responses(
        "responses: { undeclared_fields: strip, secrets: allow }",
    ))
    .await;
    assert!(
        world
            .gateway(&get(&path))
            .await
            .text()
            .contains("AKIAIOSFODNN7EXAMPLE")
    );
    world.stop().await;
}

#[tokio::test]
async fn text_bodies_are_scanned_too() {
    let world = spawn_echo("").await;
    let r = world.gateway(&get("/echo-api/text")).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.text(), "deploy key: [REDACTED:aws-access-key]");
    world.stop().await;
}

#[tokio::test]
async fn an_undeclared_status_is_a_contract_violation() {
    let world = spawn().await;
    let r = world
        .gateway(&request(
            "DELETE",
            &format!("/orders/v1/orders/{}", seed::ORDER_SHIPPED),
            &[],
            b"",
        ))
        .await;
    assert_eq!(
        (r.status, r.code().as_deref()),
        (502, Some("response-contract-violation"))
    );
    assert_eq!(r.json()["errors"][0]["pointer"], "/status");
    assert!(!r.text().contains("already shipped"));
    let ok = world
        .gateway(&request(
            "DELETE",
            &format!("/orders/v1/orders/{}", seed::ORDER_CANCELLED),
            &[],
            b"",
        ))
        .await;
    assert_eq!(ok.status, 204);
    world.stop().await;
}
