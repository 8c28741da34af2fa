#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a missing value should fail the test"
)]

use std::collections::BTreeSet;

use portcullis_contract::Method;
use portcullis_contract::secrets::SecretScanner;
use serde_json::json;

use super::*;
use crate::testing::example;

fn declared_of_example() -> Vec<Declared> {
    let contract = example();
    let mut by_path: std::collections::BTreeMap<String, Vec<Method>> = Default::default();
    for op in contract.operations() {
        by_path.entry(op.path.clone()).or_default().push(op.method);
    }
    by_path
        .into_iter()
        .map(|(template, methods)| Declared { template, methods })
        .collect()
}

#[test]
fn the_example_apis_undeclared_routes_are_among_the_candidates() {
    let id = "3fa85f64-5717-4562-b3fc-2c963f66afa6".to_owned();
    let customer = "5b8f1c2e-3a4d-4e6f-8a9b-0c1d2e3f4a01".to_owned();
    let ids: Ids = [
        ("order".to_owned(), BTreeSet::from([id.clone()])),
        ("customer".to_owned(), BTreeSet::from([customer])),
    ]
    .into();
    let found = candidates(&declared_of_example(), &ids, false, 2_000);
    let has =
        |method: Method, path: &str| found.iter().any(|c| c.method == method && c.path == path);
    assert!(has(Method::Get, "/debug/config"));
    assert!(has(Method::Get, "/v0/customers"));
    assert!(has(Method::Get, &format!("/v0/orders/{id}")));
    // Declared routes are never candidates, and without --allow-writes no
    // write method is tried.
    assert!(!has(Method::Get, "/v1/orders"));
    assert!(
        found.iter().all(|c| !c.method.is_write()),
        "a write method without --allow-writes"
    );
    let with_writes = candidates(&declared_of_example(), &ids, true, 2_000);
    assert!(
        with_writes
            .iter()
            .any(|c| c.method == Method::Delete && c.path == "/v1/orders")
    );
    assert!(
        !with_writes
            .iter()
            .any(|c| c.method == Method::Post && c.path == "/v1/orders")
    );
    // Bounded.
    assert_eq!(
        candidates(&declared_of_example(), &Ids::new(), true, 10).len(),
        10
    );
}

#[test]
fn ids_are_harvested_by_what_they_identify() {
    let mut ids = Ids::new();
    harvest_ids(
        &json!({"items": [{"id": "a1", "customerId": "c9", "total": 5}, {"id": 7, "name": "x"}], "next_id": "n"}),
        collection_of("/v1/orders"),
        &mut ids,
    );
    let got: Vec<(String, Vec<String>)> = ids
        .into_iter()
        .map(|(k, v)| (k, v.into_iter().collect()))
        .collect();
    assert_eq!(
        got,
        [
            ("customer".to_owned(), vec!["c9".to_owned()]),
            ("next".to_owned(), vec!["n".to_owned()]),
            ("order".to_owned(), vec!["7".to_owned(), "a1".to_owned()]),
        ]
    );
    assert_eq!(
        (thing("orderId"), thing("order_id"), thing("orders")),
        ("order".into(), "order".into(), "order".into())
    );
    assert_eq!(collection_of("/v1/customers/{customerId}/orders"), "orders");
}

#[test]
fn the_plain_not_found_is_told_apart_from_a_route() {
    let not_found = |path: &str| {
        Fingerprint::of(
            404,
            Some("application/json"),
            format!("{{\"error\":\"no route {path}\"}}").as_bytes(),
        )
    };
    let baseline = Baseline::new(vec![not_found("/zq81"), not_found("/x/7f3e")]);
    assert!(!baseline.catch_all());
    // Ids and numbers fold away: another random path is the same not-found.
    assert!(!baseline.answers(&not_found("/abc123")));
    // A 404 with another body is still a not-found.
    assert!(!baseline.answers(&Fingerprint::of(404, Some("text/plain"), b"nope")));
    assert!(baseline.answers(&Fingerprint::of(
        200,
        Some("application/json"),
        b"{\"ok\":true}"
    )));
    assert!(baseline.answers(&Fingerprint::of(500, Some("text/plain"), b"panicked at")));
    assert!(baseline.answers(&Fingerprint::of(401, None, b"")));

    let everything = Baseline::new(vec![Fingerprint::of(
        200,
        Some("text/html"),
        b"<html>app</html>",
    )]);
    assert!(everything.catch_all());
}

#[test]
fn risk_follows_what_the_answer_reveals() {
    let scanner = SecretScanner::builtin().unwrap();
    let config = br#"{"aws_access_key_id": "AKIAIOSFODNN7EXAMPLE", "database_url": "postgres://orders:S3cr3tPassw0rd@db.internal:5432/orders"}"#;
    let (risk, evidence) = classify(Method::Get, 200, Some("application/json"), config, &scanner);
    assert_eq!(risk, Risk::RevealsSecret);
    assert!(
        !evidence.first_line.contains("AKIAIOSFODNN7EXAMPLE"),
        "{}",
        evidence.first_line
    );
    assert!(
        !evidence.first_line.contains("S3cr3tPassw0rd"),
        "{}",
        evidence.first_line
    );
    assert!(!evidence.secrets.is_empty());

    let data = br#"{"customers": [{"id": "c1", "name": "Acme"}]}"#;
    assert_eq!(
        classify(Method::Get, 200, Some("application/json"), data, &scanner).0,
        Risk::ReturnsData
    );
    assert_eq!(
        classify(Method::Delete, 204, None, b"", &scanner).0,
        Risk::AcceptsWrites
    );
    assert_eq!(
        classify(
            Method::Get,
            500,
            Some("text/plain"),
            b"thread 'main' panicked",
            &scanner
        )
        .0,
        Risk::ServerError
    );
    assert_eq!(
        classify(Method::Get, 405, None, b"", &scanner).0,
        Risk::Answers
    );
    assert!(Risk::RevealsSecret > Risk::ReturnsData && Risk::ReturnsData > Risk::Answers);
    assert_eq!(Risk::parse("returns-data"), Some(Risk::ReturnsData));
    assert_eq!(Risk::parse("nonsense"), None);
}
