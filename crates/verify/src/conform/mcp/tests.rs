//! The MCP pass's pure parts on the example: the listing each identity must
//! get, a request written as arguments and back (through the gateway's own
//! `to_http`), which negatives have a `tools/call` form, and how answers
//! through `/mcp` are judged.

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a missing value should fail the test"
)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use portcullis_config::Config;
use portcullis_contract::{Method, Operation};
use serde_json::{Value, json};

use super::expect::{
    allowed_unlisted, arguments, differing, expected_tools, judge_call, not_applicable, tool_set,
};
use crate::conform::{Check, Flaw};
use crate::negatives::{Expect, family};
use crate::request::valid;
use crate::wire::Answer;

fn example() -> Config {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/orders/portcullis.yaml");
    portcullis_config::load(&file, &portcullis_config::Overrides::default())
        .unwrap_or_else(|d| panic!("{d:?}"))
        .0
}

fn op<'c>(config: &'c Config, id: &str) -> &'c Operation {
    config.apis[0]
        .contract
        .operations()
        .iter()
        .find(|o| o.id == id)
        .unwrap()
}

/// The tool names `id` must be listed on `api` with `scopes` (its own when
/// `None`).
fn expected(config: &Config, id: &str, scopes: Option<&[&str]>, api: &str) -> Vec<String> {
    let identity = &config
        .identities
        .iter()
        .find(|s| s.identity.id == id)
        .unwrap()
        .identity;
    let scopes: Vec<String> = match scopes {
        Some(s) => s.iter().map(|s| (*s).to_owned()).collect(),
        None => identity.scopes.clone(),
    };
    let tools = tool_set(config);
    let mut names: Vec<String> = expected_tools(config, &tools, identity, &scopes, api)
        .iter()
        .map(|t| t.name.clone())
        .collect();
    names.sort();
    names
}

#[test]
fn the_expected_listing_follows_policies_scopes_and_audience() {
    let config = example();
    // As the gateway lists them (testkit/tests/mcp.rs): reads only, and no
    // customer operation for an agent.
    assert_eq!(
        expected(&config, "reporting-agent", None, "orders"),
        [
            "orders_getOrder",
            "orders_getOrderSummary",
            "orders_listCustomerOrders",
            "orders_listOrderItems",
            "orders_listOrders",
        ]
    );
    assert_eq!(
        expected(&config, "partner-connector", None, "orders"),
        ["orders_getOrderSummary", "orders_listCustomerOrders"]
    );
    let fulfilment = expected(&config, "fulfilment-service", None, "orders");
    assert!(fulfilment.contains(&"orders_addOrderItem".to_owned()));
    // A token without `orders:read` opens no read; one for another API, nothing.
    let narrow = expected(
        &config,
        "fulfilment-service",
        Some(&["orders:write"]),
        "orders",
    );
    assert!(!narrow.is_empty() && narrow.len() < fulfilment.len());
    assert!(!narrow.contains(&"orders_listOrders".to_owned()));
    assert!(expected(&config, "reporting-agent", None, "billing").is_empty());
}

/// The query's pairs, decoded, in order.
fn pairs(query: &str) -> Vec<(String, String)> {
    form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect()
}

#[test]
fn a_valid_request_written_as_arguments_is_the_same_request_again() {
    let config = example();
    let api = &config.apis[0];
    for op in api.contract.operations() {
        let built = valid(&api.mount, op, &BTreeMap::new()).unwrap();
        let args = arguments(&api.contract, &api.mount, op, &built.probe)
            .unwrap_or_else(|e| panic!("{}: {e}", op.id));
        let call = portcullis_mcp::to_http(op, &args)
            .unwrap_or_else(|e| panic!("{}: {e:?} from {args:?}", op.id));
        let (path, query) = built
            .probe
            .target
            .split_once('?')
            .unwrap_or((&built.probe.target, ""));
        assert_eq!(format!("{}{}", api.mount, call.path), path, "{}", op.id);
        assert_eq!(
            pairs(call.query.as_deref().unwrap_or_default()),
            pairs(query)
        );
        assert_eq!(call.headers, built.probe.headers, "{}", op.id);
        let body = |b: &Option<(String, Vec<u8>)>| {
            b.as_ref()
                .map(|(_, bytes)| serde_json::from_slice::<Value>(bytes).unwrap())
        };
        assert_eq!(body(&call.body), body(&built.probe.body), "{}", op.id);
    }
    // Typed as the parameter admits: an integer is a JSON number, and the
    // round trip holds for optional parameters too.
    let list = op(&config, "listOrders");
    let mut probe = valid(&api.mount, list, &BTreeMap::new()).unwrap().probe;
    probe.target = "/orders/v1/orders?status=paid&limit=7".into();
    let args = arguments(&api.contract, &api.mount, list, &probe).unwrap();
    assert_eq!(
        args.get("query"),
        Some(&json!({"status": "paid", "limit": 7}))
    );
    let call = portcullis_mcp::to_http(list, &args).unwrap();
    assert_eq!(call.query.as_deref(), Some("status=paid&limit=7"));
}

#[test]
fn each_kind_of_negative_has_a_call_form_or_says_why_not() {
    let config = example();
    let api = &config.apis[0];
    let mut sent = BTreeSet::new();
    let mut skipped = BTreeSet::new();
    for op in api.contract.operations() {
        let built = valid(&api.mount, op, &BTreeMap::new()).unwrap();
        let declared: Vec<Method> = api
            .contract
            .operations()
            .iter()
            .filter(|o| o.path == op.path)
            .map(|o| o.method)
            .collect();
        for negative in family(op, &built, &declared, 65_536) {
            if not_applicable(negative.kind).is_some() {
                skipped.insert(negative.kind);
                // Nor could it be written as arguments if it were tried,
                // save an added header the gateway drops (an argument
                // refuses it instead, so it is not the same request).
                let forced = arguments(&api.contract, &api.mount, op, &negative.probe);
                assert!(forced.is_err(), "{} {}", op.id, negative.detail);
                continue;
            }
            let args = arguments(&api.contract, &api.mount, op, &negative.probe)
                .unwrap_or_else(|e| panic!("{} {}: {e}", op.id, negative.detail));
            let Expect::Refused(code) = negative.expect else {
                panic!("{}", negative.kind)
            };
            // What the gateway's own argument writer makes of it: refused
            // there already (the same `invalid-request` the HTTP path's
            // validation gives), or a request the HTTP negative matches.
            match portcullis_mcp::to_http(op, &args) {
                Err(errors) => {
                    assert_eq!(code, "invalid-request", "{}: {errors:?}", negative.detail);
                }
                Ok(call) => {
                    let body = negative.probe.body.as_ref().map(|(_, b)| b.clone());
                    assert_eq!(call.body.map(|(_, b)| b).is_some(), body.is_some());
                }
            }
            sent.insert(negative.kind);
        }
    }
    assert_eq!(
        sent,
        BTreeSet::from([
            "credential",
            "missing-parameter",
            "oversized-body",
            "unknown-field",
            "wrong-type"
        ])
    );
    assert_eq!(
        skipped,
        BTreeSet::from([
            "override-header",
            "path-trick",
            "undeclared-method",
            "wrong-content-type"
        ])
    );
    assert!(not_applicable("a-kind-from-the-future").is_some());
}

#[test]
fn a_wrong_type_stays_text_and_an_undeclared_value_has_no_form() {
    let config = example();
    let api = &config.apis[0];
    let list = op(&config, "listOrders");
    let built = valid(&api.mount, list, &BTreeMap::new()).unwrap();
    let mut probe = built.probe.clone();
    probe.target = "/orders/v1/orders?limit=not-a-number".into();
    let args = arguments(&api.contract, &api.mount, list, &probe).unwrap();
    assert_eq!(args.get("query"), Some(&json!({"limit": "not-a-number"})));
    probe.target = "/orders/v1/orders?nope=1".into();
    let why = arguments(&api.contract, &api.mount, list, &probe).unwrap_err();
    assert!(why.contains("`nope` is not declared"), "{why}");
    probe.target = "/orders/v1/orders?limit=1&limit=2".into();
    assert!(arguments(&api.contract, &api.mount, list, &probe).is_err());
    probe.target = "/orders/v1/orders/summary".into();
    let why = arguments(&api.contract, &api.mount, list, &probe).unwrap_err();
    assert!(why.contains("another operation"), "{why}");
}

fn answer(status: u16, content_type: &str, body: &Value) -> Answer {
    Answer {
        status,
        headers: vec![("Content-Type".into(), content_type.into())],
        body: body.to_string().into_bytes(),
        complete: true,
    }
}

fn problem(code: &str, status: u16) -> Value {
    json!({"type": "t", "title": "t", "status": status, "detail": "d", "instance": "i", "code": code})
}

fn result(is_error: bool, status: u16, structured: Value) -> Answer {
    answer(
        200,
        "application/json",
        &json!({"jsonrpc": "2.0", "id": 3, "result": {
            "content": [{"type": "text", "text": structured.to_string()}],
            "structuredContent": structured,
            "isError": is_error,
            "_meta": {"portcullis/status": status},
        }}),
    )
}

#[test]
fn answers_through_mcp_are_judged_by_code_layer_and_shape() {
    let judged = judge_call(&result(true, 400, problem("invalid-request", 400)));
    assert_eq!(
        (judged.got.as_str(), judged.via.as_str(), judged.flaw),
        ("invalid-request", "tool result", None)
    );
    let unflagged = judge_call(&result(false, 400, problem("invalid-request", 400)));
    assert_eq!(unflagged.got, "invalid-request");
    assert!(unflagged.flaw.unwrap().text().contains("isError"));
    let wrong_status = judge_call(&result(true, 200, problem("forbidden", 403)));
    assert!(matches!(wrong_status.flaw, Some(Flaw::Shape(s)) if s.contains("answered 200")));
    let upstream = judge_call(&result(true, 404, json!({"message": "no such order"})));
    assert_eq!((upstream.got.as_str(), upstream.flaw), ("forwarded", None));
    let http = judge_call(&answer(
        401,
        "application/problem+json",
        &problem("unauthenticated", 401),
    ));
    assert_eq!(
        (http.got.as_str(), http.via.as_str()),
        ("unauthenticated", "HTTP 401")
    );
    let rpc = judge_call(&answer(
        200,
        "application/json",
        &json!({"jsonrpc": "2.0", "id": 3, "error": {"code": -32602, "message": "m"}}),
    ));
    assert_eq!(rpc.got, "json-rpc-error -32602");
    let html = judge_call(&answer(200, "text/html", &json!("<p>")));
    assert!(html.flaw.is_some() && html.got == "no-result");
}

#[test]
fn a_listed_definition_other_than_the_contracts_is_named_by_member() {
    let config = example();
    let tools = tool_set(&config);
    let get = tools.get("orders_getOrder").unwrap();
    let list = tools.get("orders_listOrders").unwrap();
    let mut changed = get.to_json();
    changed["inputSchema"] = json!({"type": "object"});
    changed["_meta"]["portcullis/contract"] = json!("other");
    let differ = differing(&[get, list], &[changed, list.to_json()]);
    assert_eq!(differ, ["orders_getOrder: _meta, inputSchema"]);
}

fn check(identity: &str, op: &str, expected: &str, got: &str) -> Check {
    Check {
        kind: "valid".into(),
        identity: identity.into(),
        api: "orders".into(),
        operation: op.into(),
        request: format!("GET /{op}"),
        expected: expected.into(),
        got: got.into(),
        status: 200,
        flaw: None,
    }
}

#[test]
fn an_operation_allowed_over_http_must_be_listed() {
    let tools = tool_set(&example());
    let checks = [
        check("agent", "listOrders", "forwarded", "forwarded"),
        check("agent", "getOrder", "forbidden", "forwarded"),
        check("agent", "getCustomer", "forwarded", "forbidden"),
        check("agent", "cancelOrder", "forbidden", "forbidden"),
        check("other", "getOrderSummary", "forwarded", "forwarded"),
    ];
    let expected = ["orders_listOrders".to_owned()];
    let listed = ["orders_listOrders".to_owned()];
    let found = allowed_unlisted(&checks, &tools, "agent", "orders", &expected, &listed);
    assert_eq!(
        found,
        [
            "orders_getOrder (the gateway forwarded its valid request but does not list it)",
            "orders_getCustomer (the configuration forwards its valid request but does not list it)",
        ]
    );
    let none = allowed_unlisted(&checks[..1], &tools, "agent", "orders", &expected, &listed);
    assert!(none.is_empty());
}
