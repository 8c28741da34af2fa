//! End-to-end tests over a raw TCP socket: the request bytes are written by
//! hand so the request target reaches the server exactly as written.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a missing value should fail the test"
)]

use std::net::SocketAddr;

use portcullis_example_orders::{ECHO_TARGET_HEADER, OrdersApi, seed};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[derive(Debug)]
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn json(&self) -> Value {
        assert_eq!(
            self.header("content-type"),
            Some("application/json"),
            "{self:?}"
        );
        serde_json::from_str(&self.body).unwrap()
    }
}

async fn start() -> OrdersApi {
    OrdersApi::start("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap()
}

async fn send(
    addr: SocketAddr,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Reply {
    let mut raw = format!("{method} {target} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (name, value) in headers {
        raw.push_str(&format!("{name}: {value}\r\n"));
    }
    if !body.is_empty() || method != "GET" {
        raw.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    raw.push_str("\r\n");
    raw.push_str(body);

    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(raw.as_bytes()).await.unwrap();
    let mut bytes = Vec::new();
    stream.read_to_end(&mut bytes).await.unwrap();
    let text = String::from_utf8(bytes).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .map(|l| {
            let (n, v) = l.split_once(':').unwrap();
            (n.trim().to_owned(), v.trim().to_owned())
        })
        .collect();
    Reply {
        status,
        headers,
        body: body.to_owned(),
    }
}

async fn get(addr: SocketAddr, target: &str) -> Reply {
    send(addr, "GET", target, &[], "").await
}

#[tokio::test]
async fn declared_get_lists_customers() {
    let api = start().await;
    let reply = get(api.addr(), "/v1/customers?tier=pro&limit=10").await;
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.header(ECHO_TARGET_HEADER),
        Some("/v1/customers?tier=pro&limit=10")
    );
    let body = reply.json();
    assert_eq!(body["total"], 1);
    assert_eq!(body["items"][0]["id"], seed::CUSTOMER_INITECH);
    assert!(
        body["items"][0]["notes"]
            .as_str()
            .unwrap()
            .contains("AKIAIOSFODNN7EXAMPLE")
    );
    assert!(body["items"][0].get("cardNumber").is_none());
    api.stop().await;
}

#[tokio::test]
async fn a_customers_orders_are_only_that_customers() {
    let api = start().await;
    let path = format!("/v1/customers/{}/orders", seed::CUSTOMER_ACME);
    let body = get(api.addr(), &path).await.json();
    let ids: Vec<&str> = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [seed::ORDER_PAID, seed::ORDER_SHIPPED]);
    assert_eq!(body["total"], 2);
    let unknown = get(
        api.addr(),
        "/v1/customers/5b8f1c2e-3a4d-4e6f-8a9b-0c1d2e3f4aff/orders",
    )
    .await;
    assert_eq!(unknown.status, 404);
    api.stop().await;
}

#[tokio::test]
async fn echo_header_is_the_raw_target_and_encoded_slashes_are_decoded() {
    let api = start().await;
    let target = "/v1/orders/..%2F..%2Fdebug/config";
    let reply = get(api.addr(), target).await;
    assert_eq!(reply.header(ECHO_TARGET_HEADER), Some(target));
    assert_eq!(reply.status, 200);
    assert!(reply.body.contains("S3cr3tPassw0rd"));
    api.stop().await;
}

#[tokio::test]
async fn encoded_dot_segments_reach_the_debug_dump() {
    let api = start().await;
    let reply = get(api.addr(), "/v1/customers/%2E%2E/%2E%2E/debug/config").await;
    assert_eq!(reply.status, 200);
    let body = reply.json();
    assert_eq!(
        body["database_url"],
        "postgres://orders:S3cr3tPassw0rd@db.internal:5432/orders"
    );
    assert_eq!(body["aws_access_key_id"], "AKIAIOSFODNN7EXAMPLE");
    assert_eq!(
        body["aws_secret_access_key"],
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    );
    api.stop().await;
}

#[tokio::test]
async fn method_override_turns_post_into_delete() {
    let api = start().await;
    let target = format!("/v1/orders/{}", seed::ORDER_PAID);
    assert_eq!(get(api.addr(), &target).await.status, 200);
    let reply = send(
        api.addr(),
        "POST",
        &target,
        &[("X-HTTP-Method-Override", "DELETE")],
        "",
    )
    .await;
    assert_eq!(reply.status, 204);
    assert_eq!(get(api.addr(), &target).await.status, 404);
    api.stop().await;
}

#[tokio::test]
async fn legacy_v0_leaks_card_numbers() {
    let api = start().await;
    let reply = get(api.addr(), "/v0/customers").await;
    assert_eq!(reply.status, 200);
    assert!(reply.body.contains("4111 1111 1111 1111"));
    assert!(reply.body.contains("internalNotes"));
    let order = get(api.addr(), &format!("/v0/orders/{}", seed::ORDER_PAID)).await;
    assert_eq!(order.json()["cardNumber"], "4111 1111 1111 1111");
    api.stop().await;
}

#[tokio::test]
async fn crashes_answer_500_with_a_stack_trace() {
    let api = start().await;
    for target in [
        format!("/v1/orders/{}", seed::ORDER_POISON),
        "/v1/orders?limit=0".to_owned(),
    ] {
        let reply = get(api.addr(), &target).await;
        assert_eq!(reply.status, 500, "{target}");
        assert!(
            reply
                .body
                .starts_with("thread 'main' panicked at src/routes.rs:")
        );
        assert!(reply.body.contains("at ./src/"));
        assert!(reply.body.contains("orders::routes::"));
        assert!(
            reply
                .body
                .contains("postgres://orders:S3cr3tPassw0rd@db.internal")
        );
    }
    api.stop().await;
}

#[tokio::test]
async fn summary_literal_wins_over_order_id() {
    let api = start().await;
    let reply = get(api.addr(), "/v1/orders/summary/").await;
    assert_eq!(reply.status, 200);
    let body = reply.json();
    assert_eq!(body["total"], 4);
    assert_eq!(body["byStatus"]["pending"], 1);
    assert_eq!(body["byStatus"]["shipped"], 1);
    api.stop().await;
}

#[tokio::test]
async fn order_details_leak_and_misbehave() {
    let api = start().await;
    let addr = api.addr();
    let paid = format!("/v1/orders/{}", seed::ORDER_PAID);
    let body = get(addr, &paid).await.json();
    assert!(body["internalMarginCents"].is_u64());
    assert!(body["fraudScore"].is_f64());
    assert!(body.get("customer").is_none());
    let expanded = get(addr, &format!("{paid}?expand=all")).await.json();
    assert_eq!(expanded["customer"]["cardNumber"], "4111 1111 1111 1111");

    let shipped = send(
        addr,
        "DELETE",
        &format!("/v1/orders/{}", seed::ORDER_SHIPPED),
        &[],
        "",
    )
    .await;
    assert_eq!(shipped.status, 409);
    assert_eq!(shipped.json()["error"], "order already shipped");

    let missing = get(addr, "/nope").await;
    assert_eq!(missing.status, 404);
    assert_eq!(missing.json()["error"], "not found");
    assert_eq!(missing.header(ECHO_TARGET_HEADER), Some("/nope"));

    let wrong = send(addr, "PUT", "/v1/orders", &[], "{}").await;
    assert_eq!(wrong.status, 405);
    assert_eq!(wrong.header("allow"), Some("GET, POST"));
    api.stop().await;
}

#[tokio::test]
async fn create_customer_order_and_item() {
    let api = start().await;
    let addr = api.addr();
    let created = send(
        addr,
        "POST",
        "/v1/customers",
        &[],
        r#"{"name":"Hooli","email":"ap@hooli.example","tier":"pro"}"#,
    )
    .await;
    assert_eq!(created.status, 201);
    let customer = created.json();
    let customer_id = customer["id"].as_str().unwrap();
    assert_eq!(
        get(addr, &format!("/v1/customers/{customer_id}"))
            .await
            .status,
        200
    );

    let bad = send(
        addr,
        "POST",
        "/v1/customers",
        &[],
        r#"{"name":"x","email":"nope","tier":"pro"}"#,
    )
    .await;
    assert_eq!(bad.status, 400);

    let order_body = format!(
        r#"{{"customerId":"{customer_id}","deliverBy":"2030-01-01T00:00:00Z","items":[{{"sku":"WID-0001","quantity":2}}]}}"#
    );
    let order = send(addr, "POST", "/v1/orders", &[], &order_body).await;
    assert_eq!(order.status, 201);
    let order = order.json();
    assert_eq!(order["status"], "pending");
    assert_eq!(order["totalCents"], 2598);
    let items_path = format!("/v1/orders/{}/items", order["id"].as_str().unwrap());
    let item = send(
        addr,
        "POST",
        &items_path,
        &[],
        r#"{"sku":"GAD-0042","quantity":1}"#,
    )
    .await;
    assert_eq!(item.status, 201);
    assert_eq!(item.json()["unitPriceCents"], 4999);
    assert_eq!(
        get(addr, &items_path).await.json()["items"]
            .as_array()
            .unwrap()
            .len(),
        2
    );

    let patch = send(
        addr,
        "PATCH",
        &format!("/v1/orders/{}", seed::ORDER_PENDING),
        &[],
        r#"{"status":"paid"}"#,
    )
    .await;
    assert_eq!(patch.json()["status"], "paid");
    let conflict = send(
        addr,
        "PATCH",
        &format!("/v1/orders/{}", seed::ORDER_SHIPPED),
        &[],
        r#"{"status":"pending"}"#,
    )
    .await;
    assert_eq!(conflict.status, 409);
    api.stop().await;
}

#[tokio::test]
async fn stop_closes_the_listener() {
    let api = start().await;
    let addr = api.addr();
    let started = std::time::Instant::now();
    api.stop().await;
    assert!(started.elapsed() < std::time::Duration::from_secs(3));
    assert!(TcpStream::connect(addr).await.is_err());
}
