//! The in-process decision path on a contract of 1,000 operations: canonical
//! check, route match, and validating a ~1 KB JSON body, with parsing the
//! same body into a `serde_json::Value` as the same-run baseline.
//!
//! Run: `cargo bench -p portcullis-contract --bench decision_path`
//! (CI compiles and runs it once as a test through `--all-targets`).
//!
//! Last figures (2026-11-25, the 2-vCPU build VM, one run, medians):
//! baseline parse of the 997-byte body 5.32 µs; canonical check 97 ns; route
//! match on 1,000 operations 67 ns; whole decision path 8.88 µs, i.e. 1.67×
//! the cost of parsing the body alone.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use portcullis_contract::canonical::check_path;
use portcullis_contract::request::{HeaderLookup, HeaderSource, RequestInput, validate};
use portcullis_contract::{Contract, RouteMatch, Source};
use serde_json::{Value, json};

/// 250 resources × (list, create, get, replace) = 1,000 operations.
const RESOURCES: usize = 250;

struct One(String);

impl Source for One {
    fn read(&self, _path: &str) -> Result<String, String> {
        Ok(self.0.clone())
    }
}

struct NoHeaders;

impl HeaderSource for NoHeaders {
    fn lookup(&self, _name: &str) -> HeaderLookup<'_> {
        HeaderLookup::Absent
    }
}

fn item_schema() -> Value {
    json!({
        "type": "object",
        "additionalProperties": false,
        "required": ["customerId", "items", "deliverBy"],
        "properties": {
            "customerId": {"type": "string", "format": "uuid"},
            "deliverBy": {"type": "string", "format": "date-time"},
            "contact": {"type": "string", "format": "email"},
            "note": {"type": "string", "maxLength": 500},
            "priority": {"type": "string", "enum": ["low", "normal", "high"]},
            "items": {
                "type": "array", "minItems": 1, "maxItems": 50,
                "items": {
                    "type": "object", "additionalProperties": false,
                    "required": ["sku", "quantity"],
                    "properties": {
                        "sku": {"type": "string", "pattern": "^[A-Z]{3}-[0-9]{4}$"},
                        "quantity": {"type": "integer", "minimum": 1, "maximum": 1000}
                    }
                }
            }
        }
    })
}

fn contract_text() -> String {
    let mut paths = serde_json::Map::new();
    let ok = json!({"200": {"description": "ok"}});
    for i in 0..RESOURCES {
        let id = json!([{"name": "id", "in": "path", "required": true, "schema": {"type": "string", "format": "uuid"}}]);
        let body = json!({"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Order"}}}});
        paths.insert(format!("/v1/resource{i}"), json!({
            "get": {"operationId": format!("list{i}"), "parameters": [
                {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 100}}
            ], "responses": ok},
            "post": {"operationId": format!("create{i}"), "requestBody": body, "responses": ok},
        }));
        paths.insert(
            format!("/v1/resource{i}/{{id}}"),
            json!({
                "parameters": id,
                "get": {"operationId": format!("get{i}"), "responses": ok},
                "put": {"operationId": format!("replace{i}"), "requestBody": body, "responses": ok},
            }),
        );
    }
    json!({
        "openapi": "3.1.0",
        "info": {"title": "bench", "version": "1"},
        "paths": paths,
        "components": {"schemas": {"Order": item_schema()}}
    })
    .to_string()
}

fn body_1kb() -> Vec<u8> {
    let items: Vec<Value> = (0..24)
        .map(|i| json!({"sku": format!("SKU-{:04}", i), "quantity": i + 1}))
        .collect();
    let body = json!({
        "customerId": "5b8f1c2e-3a4d-4e6f-8a9b-0c1d2e3f4a01",
        "deliverBy": "2026-12-01T10:00:00Z",
        "contact": "ops@acme.example",
        "priority": "high",
        "note": "leave at the loading dock, ring twice; fragile goods inside",
        "items": items
    });
    serde_json::to_vec(&body).unwrap_or_default()
}

fn bench(c: &mut Criterion) {
    let contract = match Contract::load("bench.json", &One(contract_text())) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("bench contract does not load: {e:?}");
            return;
        }
    };
    assert_eq!(contract.operations().len(), 1000);
    let body = body_1kb();
    let path = "/v1/resource217/5b8f1c2e-3a4d-4e6f-8a9b-0c1d2e3f4a01";

    c.bench_function("baseline: serde_json parse 1KB body", |b| {
        b.iter(|| serde_json::from_slice::<Value>(black_box(&body)))
    });
    c.bench_function("canonical check", |b| {
        b.iter(|| check_path(black_box(path.as_bytes())))
    });
    c.bench_function("route match (1,000 operations)", |b| {
        b.iter(|| {
            matches!(
                contract.route(black_box("PUT"), black_box(path)),
                RouteMatch::Found { .. }
            )
        })
    });
    c.bench_function(
        "decision path: canonical + route + validate 1KB body",
        |b| {
            b.iter(|| {
                let ok = check_path(path.as_bytes()).is_ok();
                let RouteMatch::Found { operation, params } = contract.route("PUT", path) else {
                    return false;
                };
                let Some(op) = contract.operation(operation) else {
                    return false;
                };
                let input = RequestInput {
                    query: None,
                    headers: &NoHeaders,
                    content_type: Some("application/json"),
                    body: black_box(&body),
                    max_depth: 32,
                };
                ok && validate(op, &params, &input).is_ok()
            })
        },
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
