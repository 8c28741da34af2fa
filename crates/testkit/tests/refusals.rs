//! Every kind of bad request, through the gateway in front of the orders API:
//! each gets its status and stable code (and pointers for validation), never
//! a 5xx from the gateway and never the upstream's answer.

#![allow(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::panic,
    reason = "test code: a missing value should fail the test"
)]

use portcullis_testkit::raw::{get, json, request};
use portcullis_testkit::{seed, spawn};

struct Case {
    name: &'static str,
    request: Vec<u8>,
    status: u16,
    code: &'static str,
    pointers: &'static [&'static str],
}

fn case(name: &'static str, request: Vec<u8>, status: u16, code: &'static str) -> Case {
    Case {
        name,
        request,
        status,
        code,
        pointers: &[],
    }
}

fn invalid(name: &'static str, request: Vec<u8>, pointers: &'static [&'static str]) -> Case {
    Case {
        name,
        request,
        status: 400,
        code: "invalid-request",
        pointers,
    }
}

fn order(suffix: &str) -> String {
    format!("/orders/v1/orders/{}{suffix}", seed::ORDER_PAID)
}

fn cases() -> Vec<Case> {
    let ambiguous = |name, path: &str| case(name, get(path), 400, "ambiguous-path");
    let mut raw_bytes = b"GET /orders/v1/orders/caf".to_vec();
    raw_bytes.extend_from_slice(&[0xC3, 0xA9]);
    raw_bytes.extend_from_slice(b" HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    vec![
        ambiguous("double slash", "/orders//v1/orders"),
        ambiguous("dot segment", "/orders/v1/./orders"),
        ambiguous("dot-dot segment", "/orders/v1/customers/../orders"),
        ambiguous("encoded slash", "/orders/v1/orders%2Fsummary"),
        ambiguous("encoded slash, lower case", "/orders/v1/orders%2fsummary"),
        ambiguous("encoded unreserved `_`", "/orders/v1/orders/%5f"),
        ambiguous("encoded unreserved letter", "/orders/%64ebug/config"),
        ambiguous(
            "encoded dot segments",
            "/orders/v1/customers/%2E%2E/%2E%2E/debug/config",
        ),
        ambiguous("NUL", "/orders/v1/orders/%00"),
        ambiguous("backslash, encoded", "/orders/v1/orders%5Csummary"),
        ambiguous("backslash", "/orders/v1\\orders"),
        ambiguous("raw `{`", "/orders/v1/orders/{id}"),
        ambiguous("matrix parameter", "/orders/v1/orders;jsessionid=1"),
        ambiguous("invalid UTF-8", "/orders/v1/orders/%C3%28"),
        ambiguous("overlong UTF-8 slash", "/orders/v1/orders/%C0%AF"),
        ambiguous("double encoding", "/orders/v1/orders/%252F"),
        case("raw non-ASCII bytes", raw_bytes, 400, "ambiguous-path"),
        ambiguous(
            "absolute-form target (its authority the Host's)",
            "http://test/orders/v1/orders",
        ),
        case(
            "absolute-form target whose authority is not the Host",
            get("http://evil.example/orders/v1/orders"),
            400,
            "malformed-request",
        ),
        case(
            "undeclared route",
            get("/orders/debug/config"),
            404,
            "undeclared-route",
        ),
        case(
            "legacy version",
            get("/orders/v0/customers"),
            404,
            "undeclared-route",
        ),
        case("no API mounted", get("/admin"), 404, "undeclared-route"),
        case("the mount itself", get("/orders"), 404, "undeclared-route"),
        case(
            "case is significant",
            get("/orders/V1/orders"),
            404,
            "undeclared-route",
        ),
        case(
            "trailing slash is exact",
            get("/orders/v1/orders/"),
            404,
            "undeclared-route",
        ),
        case(
            "wrong method",
            request("DELETE", "/orders/v1/customers", &[], b""),
            405,
            "method-not-allowed",
        ),
        case(
            "TRACE",
            request("TRACE", "/orders/v1/customers", &[], b""),
            405,
            "method-not-allowed",
        ),
        case(
            "lower-case method",
            request("get", "/orders/v1/customers", &[], b""),
            405,
            "method-not-allowed",
        ),
        invalid(
            "mistyped path parameter",
            get("/orders/v1/orders/42"),
            &["/path/orderId"],
        ),
        invalid(
            "enum violation",
            get("/orders/v1/orders?status=lost"),
            &["/query/status"],
        ),
        invalid(
            "bound violation",
            get("/orders/v1/orders?limit=0"),
            &["/query/limit"],
        ),
        invalid(
            "mistyped query parameter",
            get("/orders/v1/orders?limit=ten"),
            &["/query/limit"],
        ),
        invalid(
            "unknown query parameter",
            get(&order("?expand=all")),
            &["/query/expand"],
        ),
        invalid(
            "repeated scalar parameter",
            get("/orders/v1/orders?limit=1&limit=100"),
            &["/query/limit"],
        ),
        invalid(
            "missing required body",
            request("POST", "/orders/v1/customers", &[], b""),
            &["/body"],
        ),
        invalid(
            "missing required field and bad format",
            json(
                "POST",
                "/orders/v1/customers",
                r#"{"name":"Hooli","email":"not-an-email"}"#,
            ),
            &["/body", "/body/email"],
        ),
        invalid(
            "unknown body field on a closed schema",
            json(
                "POST",
                "/orders/v1/customers",
                r#"{"name":"Hooli","email":"ops@hooli.example","tier":"pro","isAdmin":true}"#,
            ),
            &["/body/isAdmin"],
        ),
        invalid(
            "item bound and uuid format",
            json(
                "POST",
                "/orders/v1/orders",
                r#"{"customerId":"acme","items":[{"sku":"WID-0001","quantity":0}]}"#,
            ),
            &["/body/customerId", "/body/items/0/quantity"],
        ),
        invalid(
            "malformed JSON",
            json("POST", "/orders/v1/customers", r#"{"name":"#),
            &["/body"],
        ),
        invalid(
            "duplicate keys",
            json(
                "POST",
                "/orders/v1/customers",
                r#"{"name":"a","email":"a@b.example","tier":"pro","tier":"enterprise"}"#,
            ),
            &["/body"],
        ),
        invalid(
            "nesting deeper than the limit",
            json(
                "POST",
                "/orders/v1/customers",
                &format!("{}{}", "[".repeat(40), "]".repeat(40)),
            ),
            &["/body"],
        ),
        invalid(
            "body on an operation without one",
            json("GET", "/orders/v1/customers", "{}"),
            &["/body"],
        ),
        case(
            "wrong content type",
            request(
                "POST",
                "/orders/v1/customers",
                &[("Content-Type", "text/plain")],
                b"{}",
            ),
            415,
            "unsupported-media-type",
        ),
        case(
            "missing content type",
            request("POST", "/orders/v1/customers", &[], b"{}"),
            415,
            "unsupported-media-type",
        ),
        case(
            "JSON in another charset",
            request(
                "POST",
                "/orders/v1/customers",
                &[("Content-Type", "application/json; charset=latin1")],
                b"{}",
            ),
            415,
            "unsupported-media-type",
        ),
        case(
            "declared body over the limit",
            request(
                "POST",
                "/orders/v1/customers",
                &[
                    ("Content-Type", "application/json"),
                    ("Content-Length", "70000"),
                ],
                b"",
            ),
            413,
            "payload-too-large",
        ),
        case(
            "chunked body over the limit",
            chunked("/orders/v1/customers", 70_000),
            413,
            "payload-too-large",
        ),
        // Two framings two parsers could pick between (request smuggling):
        // the connection guard refuses the head before anything reads a body.
        case(
            "both Content-Length and Transfer-Encoding: refused, never read either way",
            b"POST /orders/v1/customers HTTP/1.1\r\nHost: t\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n".to_vec(),
            400,
            "malformed-request",
        ),
        case(
            "oversized headers",
            request(
                "GET",
                "/orders/v1/customers",
                &[("X-Padding", &"a".repeat(20_000))],
                b"",
            ),
            431,
            "headers-too-large",
        ),
    ]
}

fn chunked(path: &str, size: usize) -> Vec<u8> {
    let mut out = format!(
        "POST {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    .into_bytes();
    let chunk = "a".repeat(1000);
    for _ in 0..size / 1000 {
        out.extend_from_slice(format!("3e8\r\n{chunk}\r\n").as_bytes());
    }
    out.extend_from_slice(b"0\r\n\r\n");
    out
}

#[tokio::test]
async fn each_bad_request_gets_its_code() {
    let world = spawn().await;
    let mut failures = Vec::new();
    for c in cases() {
        let r = world.gateway(&c.request).await;
        let body = r.json();
        let pointers: Vec<&str> = body["errors"]
            .as_array()
            .map(|e| e.iter().filter_map(|x| x["pointer"].as_str()).collect())
            .unwrap_or_default();
        let ok = r.status == c.status
            && r.code().as_deref() == Some(c.code)
            && (c.pointers.is_empty() || pointers == c.pointers)
            && r.header("x-echo-request-target").is_none();
        if !ok {
            failures.push(format!(
                "{}: got {} {:?} {:?}: {}",
                c.name,
                r.status,
                r.code(),
                pointers,
                r.text()
            ));
        }
    }
    world.stop().await;
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test]
async fn method_not_allowed_lists_the_declared_methods() {
    let world = spawn().await;
    let r = world.gateway(&request("PUT", &order(""), &[], b"")).await;
    assert_eq!(r.status, 405);
    assert_eq!(r.header("allow"), Some("GET, DELETE, PATCH"));
    world.stop().await;
}

/// Each route the contract does not declare answers on the bare API and is
/// refused through the gateway, with nothing of its answer passed on.
#[tokio::test]
async fn undeclared_behaviour_is_reachable_directly_and_refused_through_the_gateway() {
    let world = spawn().await;
    // (direct request, gateway request, what the bare answer shows, status, code)
    type Route = (Vec<u8>, Vec<u8>, &'static str, u16, &'static str);
    let routes: Vec<Route> = vec![
        (
            get("/debug/config"),
            get("/orders/debug/config"),
            "AKIAIOSFODNN7EXAMPLE",
            404,
            "undeclared-route",
        ),
        (
            get("/v0/customers"),
            get("/orders/v0/customers"),
            "cardNumber",
            404,
            "undeclared-route",
        ),
        (
            get(&format!("/v0/orders/{}", seed::ORDER_PAID)),
            get(&format!("/orders/v0/orders/{}", seed::ORDER_PAID)),
            "internalNotes",
            404,
            "undeclared-route",
        ),
        (
            get("/v1/customers/..%2F..%2Fdebug/config"),
            get("/orders/v1/customers/..%2F..%2Fdebug/config"),
            "database_url",
            400,
            "ambiguous-path",
        ),
        (
            get("/v1/customers/%2E%2E/%2E%2E/debug/config"),
            get("/orders/v1/customers/%2E%2E/%2E%2E/debug/config"),
            "database_url",
            400,
            "ambiguous-path",
        ),
        (
            get("/v1/orders;x=1/summary"),
            get("/orders/v1/orders;x=1/summary"),
            "byStatus",
            400,
            "ambiguous-path",
        ),
        (
            get(&format!("/v1/orders/{}?expand=all", seed::ORDER_PAID)),
            get(&format!(
                "/orders/v1/orders/{}?expand=all",
                seed::ORDER_PAID
            )),
            "cardNumber",
            400,
            "invalid-request",
        ),
        (
            get(&format!("/v1/orders/{}", seed::ORDER_POISON)),
            get(&format!("/orders/v1/orders/{}", seed::ORDER_POISON)),
            "panicked",
            502,
            "upstream-unavailable",
        ),
        (
            get("/v1/orders?limit=0"),
            get("/orders/v1/orders?limit=0"),
            "panicked",
            400,
            "invalid-request",
        ),
        (
            request(
                "POST",
                &format!("/v1/orders/{}", seed::ORDER_CANCELLED),
                &[("X-HTTP-Method-Override", "GET")],
                b"",
            ),
            request(
                "POST",
                &format!("/orders/v1/orders/{}", seed::ORDER_CANCELLED),
                &[("X-HTTP-Method-Override", "GET")],
                b"",
            ),
            "cancelled",
            405,
            "method-not-allowed",
        ),
    ];
    for (direct, through, leak, status, code) in routes {
        let d = world.direct(&direct).await;
        assert!(
            d.text().contains(leak),
            "bare API should show `{leak}`: {}",
            d.text()
        );
        let g = world.gateway(&through).await;
        assert_eq!(
            (g.status, g.code().as_deref()),
            (status, Some(code)),
            "{}",
            g.text()
        );
        assert!(!g.text().contains(leak), "gateway passed on `{leak}`");
    }
    world.stop().await;
}
