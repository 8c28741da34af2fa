//! Requests that are not well-formed HTTP, through the gateway: each gets the
//! one problem+json shape with a stable code (never hyper's bare 400), the
//! connection is closed after it, and nothing reaches the upstream.

#![allow(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::panic,
    reason = "test code: a missing value should fail the test"
)]

use std::time::Duration;

use portcullis_testkit::raw::send;
use portcullis_testkit::spawn;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const OK_PATH: &str = "/.well-known/portcullis/problems";

fn cases() -> Vec<(&'static str, String, u16, &'static str)> {
    let many: String = (0..300).map(|i| format!("X-H{i}: v\r\n")).collect();
    vec![
        (
            "two Host headers",
            format!("GET {OK_PATH} HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"),
            400,
            "malformed-request",
        ),
        (
            "no Host in HTTP/1.1",
            format!("GET {OK_PATH} HTTP/1.1\r\nConnection: close\r\n\r\n"),
            400,
            "malformed-request",
        ),
        (
            "Host disagreeing with the absolute-form authority",
            format!("GET http://other.example{OK_PATH} HTTP/1.1\r\nHost: gateway\r\n\r\n"),
            400,
            "malformed-request",
        ),
        (
            "Transfer-Encoding: chunked, identity",
            "POST /orders/v1/orders HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n".into(),
            400,
            "malformed-request",
        ),
        (
            "two different Content-Lengths",
            "POST /orders/v1/orders HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}".into(),
            400,
            "malformed-request",
        ),
        (
            "Content-Length and chunked",
            "POST /orders/v1/orders HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n".into(),
            400,
            "malformed-request",
        ),
        (
            "a space in the request target",
            "GET /orders/v1/orders/a b HTTP/1.1\r\nHost: a\r\n\r\n".into(),
            400,
            "malformed-request",
        ),
        (
            "a bad header name",
            format!("GET {OK_PATH} HTTP/1.1\r\nHost: a\r\nBad Name: x\r\n\r\n"),
            400,
            "malformed-request",
        ),
        (
            "more than 256 header fields",
            format!("GET {OK_PATH} HTTP/1.1\r\nHost: a\r\n{many}\r\n"),
            431,
            "headers-too-large",
        ),
    ]
}

#[tokio::test]
async fn malformed_requests_get_the_problem_shape_not_a_bare_400() {
    let world = spawn().await;
    for (name, request, status, code) in cases() {
        let r = send(world.gateway_addr(), request.as_bytes()).await;
        assert_eq!(r.status, status, "{name}: {}", r.text());
        assert_eq!(r.code().as_deref(), Some(code), "{name}: {}", r.text());
        let body = r.json();
        assert!(
            body["detail"].as_str().is_some_and(|d| !d.is_empty()),
            "{name}"
        );
        assert!(body["instance"].as_str().is_some(), "{name}");
        assert_eq!(r.header("connection"), Some("close"), "{name}");
    }
    world.stop().await;
}

/// Every request on a kept-alive connection is checked, not only the first:
/// a malformed head after a well-formed one (with a chunked body) gets the
/// problem shape, and what follows it is never read as a request.
#[tokio::test]
async fn a_malformed_request_later_on_a_kept_alive_connection_is_refused_in_shape() {
    let world = spawn().await;
    let mut stream = TcpStream::connect(world.gateway_addr()).await.unwrap();
    let bytes = format!(
        "GET {OK_PATH} HTTP/1.1\r\nHost: a\r\n\r\n\
POST /orders/v1/orders HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab\
GET {OK_PATH} HTTP/1.1\r\nHost: a\r\n\r\n"
    );
    stream.write_all(bytes.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer))
        .await
        .expect("the gateway closes the connection after the malformed request")
        .unwrap();
    let text = String::from_utf8_lossy(&answer);
    let statuses: Vec<&str> = text
        .match_indices("HTTP/1.1 ")
        .map(|(at, _)| &text[at + 9..at + 12])
        .collect();
    assert_eq!(statuses, ["200", "400"], "{text}");
    assert!(text.contains("\"code\":\"malformed-request\""), "{text}");
    assert!(text.contains("application/problem+json"), "{text}");
    world.stop().await;
}
