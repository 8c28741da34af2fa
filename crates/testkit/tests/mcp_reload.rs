//! Contract pinning on the MCP face: a reload that changes a contract tells
//! every open event stream `notifications/tools/list_changed`, a call made
//! under the old contract is refused with `contract-changed`, and listing
//! again re-pins the session so calls work again. A reload that changes
//! nothing a caller can see sends nothing.

#![allow(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::panic,
    reason = "test code: a missing value should fail the test"
)]

use std::net::SocketAddr;
use std::time::Duration;

use portcullis_config::{Config, Overrides, Storage};
use portcullis_example_orders::OrdersApi;
use portcullis_proxy::Gateway;
use portcullis_store::CredentialKind;
use portcullis_testkit::ExampleCopy;
use portcullis_testkit::mcp::McpClient;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn load(dir: &std::path::Path, upstream: SocketAddr) -> Config {
    let overrides = Overrides {
        listen: Some(SocketAddr::from(([127, 0, 0, 1], 0))),
        storage: Some(Storage::Memory),
        admin: Some(SocketAddr::from(([127, 0, 0, 1], 0))),
        sealing_key: None,
        upstreams: vec![("orders".into(), format!("http://{upstream}"))],
    };
    portcullis_config::load(&dir.join("portcullis.yaml"), &overrides)
        .unwrap()
        .0
}

/// Opens the session's event stream; the connection, with the head read.
async fn open_stream(c: &McpClient) -> TcpStream {
    let mut stream = TcpStream::connect(c.addr).await.unwrap();
    let head = format!(
        "GET /mcp HTTP/1.1\r\nHost: test\r\nAccept: text/event-stream\r\n{}: {}\r\nMcp-Session-Id: {}\r\n\r\n",
        c.credential.0,
        c.credential.1,
        c.session.as_deref().unwrap()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let seen = read_until(&mut stream, ": portcullis").await;
    assert!(seen.starts_with("HTTP/1.1 200"), "{seen}");
    assert!(
        seen.to_ascii_lowercase()
            .contains("content-type: text/event-stream"),
        "{seen}"
    );
    stream
}

/// Reads until `needle` has arrived (10 s at most); everything read.
async fn read_until(stream: &mut TcpStream, needle: &str) -> String {
    let mut seen = Vec::new();
    let read = async {
        let mut buf = [0u8; 4096];
        while !String::from_utf8_lossy(&seen).contains(needle) {
            let n = stream.read(&mut buf).await.unwrap();
            assert!(n > 0, "stream closed: {}", String::from_utf8_lossy(&seen));
            seen.extend_from_slice(&buf[..n]);
        }
    };
    tokio::time::timeout(Duration::from_secs(10), read)
        .await
        .unwrap_or_else(|_| panic!("no `{needle}` in: {}", String::from_utf8_lossy(&seen)));
    String::from_utf8_lossy(&seen).into_owned()
}

/// Nothing more arrives within `wait`.
async fn quiet(stream: &mut TcpStream, wait: Duration) {
    let mut buf = [0u8; 512];
    if let Ok(Ok(n)) = tokio::time::timeout(wait, stream.read(&mut buf)).await {
        panic!("unexpected event: {}", String::from_utf8_lossy(&buf[..n]));
    }
}

#[tokio::test]
async fn a_changed_contract_is_announced_and_calls_under_the_old_one_refused() {
    let dir = ExampleCopy::new("mcp-reload");
    let orders = OrdersApi::start("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let gateway = Gateway::start(load(&dir, orders.addr())).await.unwrap();
    let key = gateway
        .authority()
        .create_secret("reporting-agent", CredentialKind::ApiKey, 3600, None)
        .unwrap()
        .secret;
    let mut c = McpClient::with_key(gateway.addr(), &key);
    c.initialize().await;
    let listed = c.request("tools/list", json!({})).await.json();
    let old_digest = listed["result"]["tools"][0]["_meta"]["portcullis/contract"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut events = open_stream(&c).await;
    let ok = c.call("orders_getOrderSummary", json!({})).await;
    assert_eq!(ok["result"]["isError"], false, "{ok}");

    // A reload with the same files changes nothing a caller can see.
    gateway.apply(load(&dir, orders.addr())).await.unwrap();
    quiet(&mut events, Duration::from_millis(300)).await;

    // The contract changes: same operations, another description.
    let contract = std::fs::read_to_string(dir.join("openapi.yaml")).unwrap();
    let changed = contract.replacen("summary: List orders", "summary: List the orders", 1);
    assert_ne!(changed, contract);
    std::fs::write(dir.join("openapi.yaml"), changed).unwrap();
    gateway.apply(load(&dir, orders.addr())).await.unwrap();
    let seen = read_until(&mut events, "notifications/tools/list_changed").await;
    assert!(seen.contains("event: message\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/tools/list_changed\"}"), "{seen}");

    let refused = c.call("orders_getOrderSummary", json!({})).await;
    let result = &refused["result"];
    assert_eq!(result["isError"], true, "{refused}");
    assert_eq!(result["structuredContent"]["code"], "contract-changed");
    assert_eq!(result["structuredContent"]["status"], 409);

    let relisted = c.request("tools/list", json!({})).await.json();
    let new_digest = relisted["result"]["tools"][0]["_meta"]["portcullis/contract"]
        .as_str()
        .unwrap();
    assert_ne!(new_digest, old_digest);
    let again = c.call("orders_getOrderSummary", json!({})).await;
    assert_eq!(again["result"]["isError"], false, "{again}");

    // A client that says which contract it saw is held to it.
    let stale = c
        .request(
            "tools/call",
            json!({"name": "orders_getOrderSummary", "arguments": {}, "_meta": {"portcullis/contract": old_digest}}),
        )
        .await
        .json();
    assert_eq!(
        stale["result"]["structuredContent"]["code"],
        "contract-changed"
    );
    gateway.stop().await;
    orders.stop().await;
}

#[tokio::test]
async fn an_ended_session_is_unknown_and_its_stream_closes() {
    let dir = ExampleCopy::new("mcp-end");
    let orders = OrdersApi::start("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let gateway = Gateway::start(load(&dir, orders.addr())).await.unwrap();
    let key = gateway
        .authority()
        .create_secret("reporting-agent", CredentialKind::ApiKey, 3600, None)
        .unwrap()
        .secret;
    let mut c = McpClient::with_key(gateway.addr(), &key);
    c.initialize().await;
    let mut events = open_stream(&c).await;
    let end = portcullis_testkit::raw::request(
        "DELETE",
        "/mcp",
        &[
            ("X-Api-Key", &key),
            ("Mcp-Session-Id", c.session.as_deref().unwrap()),
        ],
        b"",
    );
    assert_eq!(portcullis_testkit::send(c.addr, &end).await.status, 204);
    // The stream ends with the session (the chunked body's last chunk).
    read_until(&mut events, "0\r\n\r\n").await;
    let after = c.call("orders_getOrderSummary", json!({})).await;
    assert_eq!(after["error"]["code"], -32600, "{after}");
    let again = portcullis_testkit::send(c.addr, &end).await;
    assert_eq!(again.status, 404);
    gateway.stop().await;
    orders.stop().await;
}
