//! What the gateway forwards: exact target bytes, header hygiene, request and
//! trace ids, the upstream credential, HTTP/2 from clients, and how upstream
//! failures reach the caller (never with the upstream's text).

#![allow(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::panic,
    reason = "test code: a missing value should fail the test"
)]

use std::net::SocketAddr;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use portcullis_proxy::Gateway;
use portcullis_testkit::raw::{get, request, with_header};
use portcullis_testkit::{config_in, fixtures_dir, spawn_echo};

fn received(r: &portcullis_testkit::RawResponse) -> serde_json::Value {
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()
}

#[tokio::test]
async fn forwards_the_exact_target_and_strips_what_only_the_caller_may_say() {
    let world =
        spawn_echo("    upstream_auth: {header: X-Api-Key, value: 'file:upstream-secret.txt'}\n")
            .await;
    let r = world
        .gateway(&request(
            "GET",
            "/echo-api/echo?q=caf%C3%A9+au+lait",
            &[
                ("Connection", "close, X-Hop"),
                ("X-Hop", "1"),
                ("X-HTTP-Method-Override", "DELETE"),
                ("X-Original-URL", "/admin"),
                ("X-Rewrite-URL", "/admin"),
                ("X-Forwarded-For", "6.6.6.6"),
                ("X-Forwarded-Host", "evil.example"),
                ("Forwarded", "for=6.6.6.6"),
                ("Accept", "application/json"),
            ],
            b"",
        ))
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let got = world.echo.last().unwrap();
    assert_eq!(got["method"], "GET");
    assert_eq!(got["target"], "/echo?q=caf%C3%A9+au+lait");
    let headers = got["headers"].as_object().unwrap();
    for gone in [
        "x-hop",
        "x-http-method-override",
        "x-original-url",
        "x-rewrite-url",
        "forwarded",
        "authorization",
        "x-forwarded-host",
    ] {
        assert!(!headers.contains_key(gone), "{gone} reached the upstream");
    }
    assert_eq!(headers["x-forwarded-for"], "127.0.0.1");
    // The caller's own credential (the tester's API key, in this same
    // header) is dropped; the upstream's is injected in its place.
    assert_eq!(headers["x-api-key"], "upstream-secret");
    assert!(
        !got.to_string().contains(&world.key),
        "the caller's key reached the upstream"
    );
    assert_eq!(headers["accept"], "application/json");
    assert_eq!(headers["host"], world.echo.addr.to_string());
    world.stop().await;
}

#[tokio::test]
async fn request_and_trace_ids_are_carried_or_made() {
    let world = spawn_echo("").await;
    let trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    let r = world
        .gateway(&request(
            "GET",
            "/echo-api/echo",
            &[
                ("X-Request-Id", "agent-run-7"),
                ("traceparent", &format!("00-{trace}-00f067aa0ba902b7-01")),
            ],
            b"",
        ))
        .await;
    assert_eq!(r.header("x-request-id"), Some("agent-run-7"));
    let got = received(&r);
    assert_eq!(got["headers"]["x-request-id"], "agent-run-7");
    let parent = got["headers"]["traceparent"].as_str().unwrap();
    assert!(parent.starts_with(&format!("00-{trace}-")), "{parent}");
    assert!(
        !parent.contains("00f067aa0ba902b7"),
        "the gateway is a hop: new parent id"
    );

    let r = world
        .gateway(&request(
            "GET",
            "/echo-api/echo",
            &[("X-Request-Id", "bad id; rm -rf")],
            b"",
        ))
        .await;
    let made = r.header("x-request-id").unwrap().to_owned();
    assert_eq!(made.len(), 32);
    let got = received(&r);
    assert_eq!(got["headers"]["x-request-id"], made.as_str());
    let parent = got["headers"]["traceparent"].as_str().unwrap();
    assert_eq!(parent.len(), 55, "{parent}");
    world.stop().await;
}

#[tokio::test]
async fn http2_clients_are_served() {
    let world = spawn_echo("").await;
    let client: Client<_, Empty<Bytes>> = Client::builder(TokioExecutor::new())
        .http2_only(true)
        .build_http();
    let send = |uri: String| {
        let request = http::Request::get(uri)
            .header("x-api-key", world.key.as_str())
            .body(Empty::new())
            .unwrap();
        client.request(request)
    };
    let uri = format!("http://{}/echo-api/echo?q=h2", world.gateway.addr());
    let response = send(uri).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.version(), http::Version::HTTP_2);
    let body = response.into_body().collect().await.unwrap().to_bytes();
    let got: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(got["target"], "/echo?q=h2");
    let uri = format!("http://{}/echo-api/../echo-api/echo", world.gateway.addr());
    let refused = send(uri).await.unwrap();
    assert_eq!(refused.status(), 400);
    // A `Host` that disagrees with HTTP/2's `:authority` is refused, in shape.
    let uri = format!("http://{}/echo-api/echo", world.gateway.addr());
    let request = http::Request::get(uri)
        .header("x-api-key", world.key.as_str())
        .header("host", "elsewhere.example")
        .body(Empty::new())
        .unwrap();
    let refused = client.request(request).await.unwrap();
    assert_eq!(refused.status(), 400);
    let body = refused.into_body().collect().await.unwrap().to_bytes();
    let problem: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(problem["code"], "malformed-request");
    world.stop().await;
}

#[tokio::test]
async fn upstream_failures_never_pass_on_the_upstream_text() {
    let world = spawn_echo("    timeouts: {response: 300ms}\n").await;
    let r = world.gateway(&get("/echo-api/fail")).await;
    assert_eq!(
        (r.status, r.code().as_deref()),
        (502, Some("upstream-unavailable"))
    );
    assert!(
        !r.text().contains("hunter2") && !r.text().contains("panicked"),
        "{}",
        r.text()
    );
    let r = world.gateway(&get("/echo-api/slow")).await;
    assert_eq!(
        (r.status, r.code().as_deref()),
        (504, Some("upstream-timeout"))
    );
    world.stop().await;
}

#[tokio::test]
async fn an_unreachable_upstream_is_upstream_unavailable() {
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let config = config_in(
        &fixtures_dir(),
        "apis:\n  - {name: echo, contract: echo.yaml, mount: /e, upstream: 'http://127.0.0.1:1'}\n",
        "echo",
        &format!("http://{dead}"),
    );
    let gateway = Gateway::start(config).await.unwrap();
    let key = portcullis_testkit::tester(&gateway);
    let r = portcullis_testkit::send(
        gateway.addr(),
        &with_header(&get("/e/echo"), "X-Api-Key", &key),
    )
    .await;
    assert_eq!(
        (r.status, r.code().as_deref()),
        (502, Some("upstream-unavailable"))
    );
    gateway.stop().await;
}

#[tokio::test]
async fn oversized_upstream_responses_are_refused() {
    let world = portcullis_testkit::spawn_echo_config(
        "apis:\n  - {name: echo, contract: echo.yaml, mount: /echo-api, upstream: 'http://127.0.0.1:1'}\nlimits: {response_bytes: 1048576}\n",
    )
    .await;
    let r = world.gateway(&get("/echo-api/big")).await;
    assert_eq!(
        (r.status, r.code().as_deref()),
        (502, Some("upstream-unavailable"))
    );
    world.stop().await;
}

#[tokio::test]
async fn a_body_that_does_not_arrive_in_time_is_request_timeout() {
    let world = portcullis_testkit::spawn_echo_config(
        "apis:\n  - {name: echo, contract: echo.yaml, mount: /echo-api, upstream: 'http://127.0.0.1:1'}\nlimits: {request_timeout: 300ms}\n",
    )
    .await;
    let addr: SocketAddr = world.gateway.addr();
    let partial = b"POST /echo-api/echo HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"a\":";
    let r = portcullis_testkit::send(addr, &with_header(partial, "X-Api-Key", &world.key)).await;
    assert_eq!(
        (r.status, r.code().as_deref()),
        (408, Some("request-timeout"))
    );
    world.stop().await;
}

#[tokio::test]
async fn upstream_credentials_in_each_form() {
    for (auth, header, expected) in [
        (
            "{bearer: 'file:upstream-secret.txt'}",
            "authorization",
            "Bearer upstream-secret",
        ),
        (
            "{basic: {username: 'file:upstream-secret.txt', password: 'file:upstream-secret.txt'}}",
            "authorization",
            "Basic dXBzdHJlYW0tc2VjcmV0OnVwc3RyZWFtLXNlY3JldA==",
        ),
    ] {
        let world = spawn_echo(&format!("    upstream_auth: {auth}\n")).await;
        let r = world.gateway(&get("/echo-api/echo")).await;
        assert!(
            r.text().contains("[REDACTED:upstream-credential]"),
            "echoed back, then scrubbed: {}",
            r.text()
        );
        let got = world.echo.last().unwrap();
        assert_eq!(got["headers"][header], expected, "{auth}");
        world.stop().await;
    }
    let world =
        spawn_echo("    upstream_auth: {query: {name: key, value: 'file:upstream-secret.txt'}}\n")
            .await;
    let r = world.gateway(&get("/echo-api/echo?q=1")).await;
    assert!(!r.text().contains("upstream-secret"), "{}", r.text());
    assert_eq!(
        world.echo.last().unwrap()["target"],
        "/echo?q=1&key=upstream-secret"
    );
    world.stop().await;
}

#[tokio::test]
async fn the_caller_credential_is_forwarded_only_when_configured() {
    for (extra, forwarded) in [("    forward_caller_credential: true\n", true), ("", false)] {
        let world = spawn_echo(extra).await;
        let (token, _) = world
            .gateway
            .authority()
            .issue_for("tester", &[], 60, "echo")
            .unwrap();
        let req = with_header(
            &get("/echo-api/echo"),
            "Authorization",
            &format!("Bearer {token}"),
        );
        let r = portcullis_testkit::send(world.gateway.addr(), &req).await;
        assert!(
            !r.text().contains(&token),
            "a token never comes back in a response"
        );
        let got = received(&r);
        if forwarded {
            // It reached the upstream; the echo of it is redacted on the way back.
            assert_eq!(got["headers"]["authorization"], "Bearer [REDACTED:jwt]");
        } else {
            assert!(got["headers"].get("authorization").is_none());
        }
        world.stop().await;
    }
}

#[tokio::test]
async fn an_identity_can_hold_its_own_upstream_credential() {
    let world = portcullis_testkit::spawn_echo_config(
        "sealing_key: 'file:sealing.key'\napis:\n  - name: echo\n    contract: echo.yaml\n    mount: /echo-api\n    upstream: http://127.0.0.1:1\n    upstream_auth: {bearer: 'file:upstream-secret.txt'}\n",
    )
    .await;
    let authority = world.gateway.authority();
    authority
        .set_upstream_credential("tester", "echo", "Bearer tester-own-token")
        .unwrap();
    let r = world.gateway(&get("/echo-api/echo")).await;
    assert_eq!(r.status, 200);
    assert_eq!(
        world.echo.last().unwrap()["headers"]["authorization"],
        "Bearer tester-own-token"
    );
    assert!(
        !r.text().contains("tester-own-token"),
        "echoed back, then scrubbed"
    );
    // Another identity still goes out with the API's own credential.
    let mut other = authority.identity("tester").unwrap().unwrap();
    other.id = "other".into();
    authority.put_identity(&other).unwrap();
    let key = authority
        .create_secret("other", portcullis_store::CredentialKind::ApiKey, 60, None)
        .unwrap()
        .secret;
    let r = portcullis_testkit::send(
        world.gateway.addr(),
        &with_header(&get("/echo-api/echo"), "X-Api-Key", &key),
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        world.echo.last().unwrap()["headers"]["authorization"],
        "Bearer upstream-secret"
    );
    // Only APIs with an upstream credential form, only with a sealing key.
    assert!(
        authority
            .set_upstream_credential("tester", "nope", "x")
            .is_err()
    );
    world.stop().await;

    let unsealed = spawn_echo("    upstream_auth: {bearer: 'file:upstream-secret.txt'}\n").await;
    let refused = unsealed
        .gateway
        .authority()
        .set_upstream_credential("tester", "echo", "Bearer x");
    assert!(refused.unwrap_err().to_string().contains("sealing_key"));
    unsealed.stop().await;
}
