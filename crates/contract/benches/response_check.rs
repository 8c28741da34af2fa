//! The response check on a ~1 KB JSON answer: status and content type
//! declared, body validated against the operation's schema, one undeclared
//! field stripped (so the body is re-serialised), every string scanned for
//! secrets; with parsing the same body as the same-run baseline. The
//! "steps" group adds one step at a time, for the breakdown below.
//!
//! Run: `cargo bench -p portcullis-contract --bench response_check`
//! (CI compiles and runs it once as a test through `--all-targets`).
//! serde_json has `preserve_order` on here, as in the gateway (Cedar turns
//! it on, and this bench links it through `portcullis-bench`), so objects
//! are IndexMaps on both sides of the ratio.
//!
//! Last figures (2026-12-03, after the count-only strip, three runs on the
//! quieter VM, medians): parse 6.46 / 7.82 / 6.02 µs, check 12.1 / 12.2 /
//! 11.3 µs: 1.88× / 1.56× / 1.87×.
//!
//! Earlier, with B-tree objects (before this bench linked Cedar's serde_json
//! features; two alternated runs of the old and new binaries, medians):
//! - before (walker over the raw schema JSON, per-string secret scan):
//!   parse 4.86 / 4.62 µs, check 20.2 / 17.4 µs: 4.2× / 3.8×.
//! - after (strip plan compiled at load, raw-body secret prefilter):
//!   parse 4.64 / 4.80 µs, check 11.4 / 11.7 µs: 2.4× / 2.4×.
//! - steps after (run 1): parse + validate 6.9 µs; + strip + encode 9.7 µs;
//!   parse + validate + secret prefilter 9.1 µs; validate alone 0.70 µs,
//!   encode alone 1.5 µs.
//! - instructions per check (callgrind): before 237k, after 111k, parse
//!   baseline 58k (1.9×).

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use portcullis_contract::response::{FieldsMode, ResponsePolicy, SecretsMode, check};
use portcullis_contract::secrets::SecretScanner;
use portcullis_contract::{Contract, Operation, Source};
use serde_json::{Value, json};

struct One(String);

impl Source for One {
    fn read(&self, _path: &str) -> Result<String, String> {
        Ok(self.0.clone())
    }
}

fn contract() -> Result<Contract, String> {
    let order = portcullis_bench::order_schema();
    let doc = json!({
        "openapi": "3.1.0",
        "info": {"title": "bench", "version": "1"},
        "paths": {"/orders/{id}": {"get": {
            "operationId": "getOrder",
            "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "integer"}}],
            "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": order}}}}
        }}}
    });
    Contract::load("bench.json", &One(doc.to_string())).map_err(|e| format!("{e:?}"))
}

/// The same ~1 KB answer the load harness's upstream sends.
fn body() -> Vec<u8> {
    portcullis_bench::response().to_string().into_bytes()
}

fn bench(c: &mut Criterion) {
    let (contract, scanner) = (contract(), SecretScanner::builtin());
    assert!(contract.is_ok() && scanner.is_ok(), "bench setup failed");
    let (Ok(contract), Ok(scanner)) = (contract, scanner) else {
        return;
    };
    let Some(op) = contract.operations().first() else {
        return;
    };
    let body = body();
    let policy = ResponsePolicy {
        undeclared_fields: FieldsMode::Strip,
        secrets: SecretsMode::Redact,
    };
    let outcome = check(
        op,
        200,
        Some("application/json"),
        &body,
        true,
        policy,
        &scanner,
    );
    assert!(
        outcome.as_ref().is_ok_and(|o| o.fields_stripped == 1),
        "the check must pass and strip one field: {outcome:?}"
    );
    c.bench_function("baseline: serde_json parse 1KB response", |b| {
        b.iter(|| serde_json::from_slice::<Value>(black_box(&body)))
    });
    c.bench_function("response check (validate, strip, scan) 1KB", |b| {
        b.iter(|| {
            check(
                op,
                200,
                Some("application/json"),
                black_box(&body),
                true,
                policy,
                &scanner,
            )
        })
    });
    steps(c, op, &body, &scanner);
}

/// The check's steps, for the breakdown in the doc comment: each case adds
/// one step to the one before, or times a step alone.
fn steps(c: &mut Criterion, op: &Operation, body: &[u8], scanner: &SecretScanner) {
    let mut group = c.benchmark_group("response check steps");
    let check_with = |fields, secrets| {
        let policy = ResponsePolicy {
            undeclared_fields: fields,
            secrets,
        };
        move || {
            check(
                op,
                200,
                Some("application/json"),
                black_box(body),
                true,
                policy,
                scanner,
            )
        }
    };
    group.bench_function("parse + validate", |b| {
        b.iter(check_with(FieldsMode::Allow, SecretsMode::Allow))
    });
    group.bench_function("parse + strip + validate + encode", |b| {
        b.iter(check_with(FieldsMode::Strip, SecretsMode::Allow))
    });
    group.bench_function("parse + validate + scan", |b| {
        b.iter(check_with(FieldsMode::Allow, SecretsMode::Redact))
    });
    let mut stripped: Value = serde_json::from_slice(body).unwrap_or_default();
    if let Some(map) = stripped.as_object_mut() {
        map.remove("internalMarginCents");
    }
    let schema = op
        .responses
        .first()
        .and_then(|r| r.media.first())
        .and_then(|m| m.schema.as_ref());
    if let Some(schema) = schema {
        group.bench_function("validate alone", |b| {
            b.iter(|| schema.validate(black_box(&stripped), "/body"))
        });
    }
    group.bench_function("secret prefilter alone", |b| {
        b.iter(|| scanner.may_match(black_box(body)))
    });
    group.bench_function("encode alone", |b| {
        b.iter(|| serde_json::to_vec(black_box(&stripped)))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
