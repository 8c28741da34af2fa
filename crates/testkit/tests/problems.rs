//! Snapshot of each problem body the gateway sends, as a caller sees it, and
//! the discovery documents.

#![allow(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::panic,
    reason = "test code: a missing value should fail the test"
)]

use portcullis_testkit::raw::request;
use portcullis_testkit::{example_config, seed, spawn, spawn_echo, spawn_with};

const ID: (&str, &str) = ("X-Request-Id", "snapshot-request");

fn get(path: &str) -> Vec<u8> {
    request("GET", path, &[ID], b"")
}

async fn body(world: &portcullis_testkit::World, req: Vec<u8>) -> serde_json::Value {
    let r = world.gateway(&req).await;
    assert_eq!(
        r.header("content-type"),
        Some("application/problem+json"),
        "{}",
        r.text()
    );
    assert_eq!(r.header("cache-control"), Some("no-store"));
    let mut v = r.json();
    v["_status_line"] = r.status.into();
    v
}

#[tokio::test]
async fn problem_bodies() {
    // Key order depends on serde_json's `preserve_order`, which another crate
    // in the build may switch on: snapshots compare sorted maps.
    let mut settings = insta::Settings::clone_current();
    settings.set_sort_maps(true);
    let _sorted = settings.bind_to_scope();
    let world = spawn().await;
    let order = format!("/orders/v1/orders/{}", seed::ORDER_PAID);
    insta::assert_json_snapshot!(
        "ambiguous-path",
        body(&world, get("/orders/v1/orders/%2E%2E/x")).await
    );
    insta::assert_json_snapshot!(
        "undeclared-route",
        body(&world, get("/orders/debug/config")).await
    );
    insta::assert_json_snapshot!(
        "method-not-allowed",
        body(&world, request("PUT", &order, &[ID], b"")).await
    );
    insta::assert_json_snapshot!(
        "invalid-request",
        body(
            &world,
            request(
                "POST",
                "/orders/v1/orders",
                &[ID, ("Content-Type", "application/json")],
                br#"{"customerId":"x","items":[],"extra":1}"#
            )
        )
        .await
    );
    insta::assert_json_snapshot!(
        "unsupported-media-type",
        body(
            &world,
            request(
                "POST",
                "/orders/v1/customers",
                &[ID, ("Content-Type", "application/xml")],
                b"<a/>"
            )
        )
        .await
    );
    insta::assert_json_snapshot!(
        "payload-too-large",
        body(
            &world,
            request(
                "POST",
                "/orders/v1/customers",
                &[
                    ID,
                    ("Content-Type", "application/json"),
                    ("Content-Length", "999999")
                ],
                b""
            )
        )
        .await
    );
    insta::assert_json_snapshot!(
        "headers-too-large",
        body(
            &world,
            request(
                "GET",
                "/orders/v1/customers",
                &[ID, ("X-Big", &"b".repeat(17_000))],
                b""
            )
        )
        .await
    );
    insta::assert_json_snapshot!(
        "upstream-unavailable",
        body(
            &world,
            get(&format!("/orders/v1/orders/{}", seed::ORDER_POISON))
        )
        .await
    );
    insta::assert_json_snapshot!(
        "response-contract-violation",
        body(
            &world,
            request(
                "DELETE",
                &format!("/orders/v1/orders/{}", seed::ORDER_SHIPPED),
                &[ID],
                b""
            )
        )
        .await
    );
    world.stop().await;

    let blocking = example_config().replace("secrets: redact", "secrets: block");
    let world = spawn_with(&blocking).await;
    insta::assert_json_snapshot!(
        "secret-in-response",
        body(
            &world,
            get(&format!("/orders/v1/customers/{}", seed::CUSTOMER_INITECH))
        )
        .await
    );
    world.stop().await;

    let echo = spawn_echo("    timeouts: {response: 200ms}\n").await;
    let r = echo.gateway(&get("/echo-api/slow")).await;
    let mut v = r.json();
    v["_status_line"] = r.status.into();
    insta::assert_json_snapshot!("upstream-timeout", v);
    echo.stop().await;
}

#[tokio::test]
async fn discovery_documents() {
    let world = spawn().await;
    let r = world
        .gateway(&get("/.well-known/portcullis/problems"))
        .await;
    assert_eq!(r.status, 200);
    let codes: Vec<String> = r.json()["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["code"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        codes.contains(&"ambiguous-path".to_owned()) && codes.len() >= 16,
        "{codes:?}"
    );

    let r = world
        .gateway(&get("/.well-known/portcullis/contracts"))
        .await;
    let index = r.json();
    assert_eq!(index["apis"][0]["name"], "orders");
    assert_eq!(index["apis"][0]["sha256"].as_str().unwrap().len(), 64);
    let ops = index["apis"][0]["operations"].as_array().unwrap();
    assert!(
        ops.iter()
            .any(|o| o["operationId"] == "getOrder" && o["path"] == "/orders/v1/orders/{orderId}")
    );

    let r = world
        .gateway(&get("/.well-known/portcullis/contracts/orders"))
        .await;
    assert_eq!(r.json()["info"]["title"], "Orders");

    let r = world
        .gateway(&request(
            "POST",
            "/.well-known/portcullis/problems",
            &[ID],
            b"",
        ))
        .await;
    assert_eq!(
        (r.status, r.code().as_deref()),
        (405, Some("method-not-allowed"))
    );
    // Only the exact spelling is a discovery document.
    let r = world
        .gateway(&get("/.well-known/portcullis/./problems"))
        .await;
    assert_eq!(r.code().as_deref(), Some("ambiguous-path"));
    world.stop().await;
}
