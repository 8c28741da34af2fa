use serde_json::json;

use crate::RequestError;
use crate::request::{HeaderLookup, HeaderSource, RequestInput, validate};
use crate::testing::contract;
use crate::{Contract, RouteMatch};

struct NoHeaders;
impl HeaderSource for NoHeaders {
    fn lookup(&self, name: &str) -> HeaderLookup<'_> {
        if name == "x-tenant" {
            HeaderLookup::One("acme")
        } else {
            HeaderLookup::Absent
        }
    }
}

const DOC: &str = "openapi: 3.1.0
info: {title: t, version: '1'}
paths:
  /orders/{id}:
    parameters: [{name: id, in: path, required: true, schema: {type: integer, minimum: 1}}]
    get:
      parameters:
        - {name: status, in: query, schema: {type: string, enum: [paid, shipped]}}
        - {name: limit, in: query, schema: {type: integer, minimum: 1, maximum: 100}}
        - {name: tag, in: query, schema: {type: array, items: {type: string}}}
        - {name: ids, in: query, explode: false, schema: {type: array, items: {type: integer}}}
        - {name: X-Tenant, in: header, required: true, schema: {type: string}}
      responses: {'200': {description: ok}}
    post:
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: object
              additionalProperties: false
              required: [qty]
              properties:
                qty: {type: integer, minimum: 1}
                when: {type: string, format: date-time}
      responses: {'200': {description: ok}}
";

fn run(
    c: &Contract,
    method: &str,
    path: &str,
    query: Option<&str>,
    ct: Option<&str>,
    body: &[u8],
) -> Result<crate::request::ValidatedRequest, RequestError> {
    let RouteMatch::Found { operation, params } = c.route(method, path) else {
        panic!("no route")
    };
    let input = RequestInput {
        query,
        headers: &NoHeaders,
        content_type: ct,
        body,
        max_depth: 8,
    };
    validate(c.operation(operation).unwrap(), &params, &input)
}

fn pointers(r: Result<crate::request::ValidatedRequest, RequestError>) -> Vec<String> {
    match r {
        Err(RequestError::Invalid(v)) => v.errors().iter().map(|e| e.pointer.clone()).collect(),
        other => panic!("expected invalid, got {other:?}"),
    }
}

#[test]
fn typed_parameters_come_back() {
    let c = contract(DOC);
    let v = run(
        &c,
        "GET",
        "/orders/7",
        Some("status=paid&limit=5&tag=a&tag=b&ids=1,2"),
        None,
        b"",
    )
    .unwrap();
    assert_eq!(v.path["id"], json!(7));
    assert_eq!(v.query["limit"], json!(5));
    assert_eq!(v.query["tag"], json!(["a", "b"]));
    assert_eq!(v.query["ids"], json!([1, 2]));
    assert_eq!(v.headers["x-tenant"], json!("acme"));
}

#[test]
fn each_parameter_violation_has_its_pointer() {
    let c = contract(DOC);
    assert_eq!(
        pointers(run(&c, "GET", "/orders/0", None, None, b"")),
        ["/path/id"]
    );
    assert_eq!(
        pointers(run(&c, "GET", "/orders/x", None, None, b"")),
        ["/path/id"]
    );
    assert_eq!(
        pointers(run(&c, "GET", "/orders/1", Some("status=lost"), None, b"")),
        ["/query/status"]
    );
    assert_eq!(
        pointers(run(&c, "GET", "/orders/1", Some("limit=101"), None, b"")),
        ["/query/limit"]
    );
    assert_eq!(
        pointers(run(
            &c,
            "GET",
            "/orders/1",
            Some("limit=1&limit=2"),
            None,
            b""
        )),
        ["/query/limit"]
    );
    assert_eq!(
        pointers(run(&c, "GET", "/orders/1", Some("debug=1"), None, b"")),
        ["/query/debug"]
    );
    assert_eq!(
        pointers(run(&c, "GET", "/orders/1", Some("ids=1,x"), None, b"")),
        ["/query/ids/1"]
    );
    assert_eq!(
        pointers(run(&c, "GET", "/orders/1", Some("a=1;b=2"), None, b"")),
        ["/query"]
    );
    assert_eq!(
        pointers(run(&c, "GET", "/orders/1", Some("status=%ZZ"), None, b"")),
        ["/query/status"]
    );
}

#[test]
fn body_checks() {
    let c = contract(DOC);
    let json = Some("application/json");
    assert!(run(&c, "POST", "/orders/1", None, json, br#"{"qty":2}"#).is_ok());
    assert!(
        run(
            &c,
            "POST",
            "/orders/1",
            None,
            Some("application/json; charset=utf-8"),
            br#"{"qty":2}"#
        )
        .is_ok()
    );
    assert_eq!(
        pointers(run(&c, "POST", "/orders/1", None, json, br#"{"qty":0}"#)),
        ["/body/qty"]
    );
    assert_eq!(
        pointers(run(
            &c,
            "POST",
            "/orders/1",
            None,
            json,
            br#"{"qty":1,"admin":true}"#
        )),
        ["/body/admin"]
    );
    assert_eq!(
        pointers(run(
            &c,
            "POST",
            "/orders/1",
            None,
            json,
            br#"{"qty":1,"when":"soon"}"#
        )),
        ["/body/when"]
    );
    assert_eq!(
        pointers(run(
            &c,
            "POST",
            "/orders/1",
            None,
            json,
            br#"{"qty":1,"qty":2}"#
        )),
        ["/body"]
    );
    assert_eq!(
        pointers(run(&c, "POST", "/orders/1", None, json, br#"{"qty":"#)),
        ["/body"]
    );
    assert_eq!(
        pointers(run(&c, "POST", "/orders/1", None, json, b"")),
        ["/body"]
    );
    let deep = format!("{{\"qty\":1,\"x\":{}{}}}", "[".repeat(10), "]".repeat(10));
    assert_eq!(
        pointers(run(&c, "POST", "/orders/1", None, json, deep.as_bytes())),
        ["/body"]
    );
    assert!(matches!(
        run(&c, "POST", "/orders/1", None, Some("text/plain"), b"{}"),
        Err(RequestError::MediaType(_))
    ));
    assert!(matches!(
        run(&c, "POST", "/orders/1", None, None, b"{}"),
        Err(RequestError::MediaType(_))
    ));
    assert_eq!(
        pointers(run(&c, "GET", "/orders/1", None, json, b"{}")),
        ["/body"]
    );
}

#[test]
fn raw_characters_a_query_may_not_hold_are_refused() {
    let c = contract(DOC);
    for q in [
        "status=a b",
        "status=\"x\"",
        "status={x}",
        "status=a|b",
        "status=caf\u{e9}",
    ] {
        assert_eq!(
            pointers(run(&c, "GET", "/orders/1", Some(q), None, b"")),
            ["/query"],
            "{q}"
        );
    }
    assert_eq!(
        pointers(run(&c, "GET", "/orders/1", Some("a%2Fb=1"), None, b"")),
        ["/query/a~1b"]
    );
}
