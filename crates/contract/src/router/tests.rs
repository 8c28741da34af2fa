use crate::RouteMatch;
use crate::testing::{contract, doc31, load};

const PATHS: &str = "  /orders:\n    get: {responses: {'200': {description: ok}}}\n    post: {responses: {'201': {description: ok}}}\n  /orders/summary:\n    get: {operationId: summary, responses: {'200': {description: ok}}}\n  /orders/{id}:\n    parameters: [{name: id, in: path, required: true, schema: {type: string}}]\n    get: {operationId: getOrder, responses: {'200': {description: ok}}}\n  /orders/{id}/items/:\n    parameters: [{name: id, in: path, required: true, schema: {type: string}}]\n    get: {operationId: items, responses: {'200': {description: ok}}}\n";

fn found(c: &crate::Contract, method: &str, path: &str) -> Option<String> {
    match c.route(method, path) {
        RouteMatch::Found { operation, .. } => Some(c.operation(operation).unwrap().id.clone()),
        _ => None,
    }
}

#[test]
fn literal_segments_win_over_templates() {
    let c = contract(&doc31(PATHS));
    assert_eq!(
        found(&c, "GET", "/orders/summary").as_deref(),
        Some("summary")
    );
    assert_eq!(found(&c, "GET", "/orders/42").as_deref(), Some("getOrder"));
}

#[test]
fn trailing_slash_and_case_are_exact() {
    let c = contract(&doc31(PATHS));
    assert!(found(&c, "GET", "/orders/").is_none());
    assert!(found(&c, "GET", "/Orders").is_none());
    assert!(found(&c, "GET", "/orders/42/items").is_none());
    assert_eq!(
        found(&c, "GET", "/orders/42/items/").as_deref(),
        Some("items")
    );
}

#[test]
fn wrong_method_lists_the_declared_ones() {
    let c = contract(&doc31(PATHS));
    match c.route("DELETE", "/orders") {
        RouteMatch::MethodNotAllowed { allow } => assert_eq!(allow, "GET, POST"),
        other => panic!("{other:?}"),
    }
    // Methods are case-sensitive.
    assert!(matches!(
        c.route("get", "/orders"),
        RouteMatch::MethodNotAllowed { .. }
    ));
}

#[test]
fn generated_ids_are_stable() {
    let c = contract(&doc31(PATHS));
    assert_eq!(found(&c, "GET", "/orders").as_deref(), Some("get_orders"));
    assert_eq!(found(&c, "POST", "/orders").as_deref(), Some("post_orders"));
}

#[test]
fn partial_template_segments_are_a_load_error() {
    let errors = load(&doc31(
        "  /files/{name}.{ext}:\n    get: {responses: {'200': {description: ok}}}\n",
    ))
    .unwrap_err();
    assert!(
        errors.iter().any(|e| e.message().contains("exactly one")),
        "{errors:?}"
    );
}

#[test]
fn non_canonical_templates_are_a_load_error() {
    let errors = load(&doc31(
        "  /a/../b:\n    get: {responses: {'200': {description: ok}}}\n",
    ))
    .unwrap_err();
    assert_eq!(errors[0].pointer(), "/paths/~1a~1..~1b");
}

#[test]
fn scopes_follow_the_security_requirements() {
    let c = contract(
        "openapi: 3.1.0\ninfo: {title: t, version: '1'}\nsecurity: [{oauth: [orders:read]}]\npaths:\n  /a:\n    get: {responses: {'200': {description: ok}}}\n    post:\n      security: [{oauth: [orders:write, orders:read]}, {key: [admin]}]\n      responses: {'200': {description: ok}}\n  /open:\n    get: {security: [], responses: {'200': {description: ok}}}\n",
    );
    let op = |m: &str, p: &str| match c.route(m, p) {
        RouteMatch::Found { operation, .. } => c.operation(operation).unwrap(),
        _ => panic!(),
    };
    assert_eq!(op("GET", "/a").check_scopes(&["orders:read"]), Ok(()));
    assert_eq!(
        op("GET", "/a").check_scopes::<&str>(&[]),
        Err(vec!["orders:read"])
    );
    assert_eq!(op("POST", "/a").check_scopes(&["admin"]), Ok(()));
    assert_eq!(
        op("POST", "/a").check_scopes(&["orders:read", "orders:write"]),
        Ok(())
    );
    assert_eq!(
        op("POST", "/a").check_scopes(&["orders:read"]),
        Err(vec!["orders:write", "orders:read"])
    );
    assert_eq!(op("GET", "/open").check_scopes::<&str>(&[]), Ok(()));
}
