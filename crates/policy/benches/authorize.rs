//! Authorization alone on a contract of 1,000 operations with 100 policies
//! spread over its actions, with building the request's context JSON as the
//! same-run baseline, and the same request against 100 policies that all
//! land in its slice (what every request would pay without slicing).
//!
//! Run: `cargo bench -p portcullis-policy --bench authorize`
//! (CI compiles and runs it once as a test through `--all-targets`).
//!
//! Last figures (2026-12-03, the 2-vCPU build VM, shared and busy: load
//! average 3-4; mimalloc as in the binary), one run each, medians:
//! before (`6e6fe1e`): baseline 503 ns, slice of 8 25.2 µs (50× the
//! baseline), an identity's first request 21.7 µs, 100 policies in the slice
//! 171 µs; after: baseline 613 ns, slice of 8 4.6 µs (7.5×; 3.5 µs in a
//! quieter run at baseline 477 ns), first request 26.2 µs, 100 policies in
//! the slice 193 µs. The slice's 7 policies that never read `context` are
//! decided once per identity, so a request evaluates one policy, on a
//! context holding only `params`, without the schema check. Per decision
//! (callgrind): 29.5k instructions, of which Cedar's evaluation of the one
//! policy 9.4k, `Context::from_pairs` 6.5k, turning Cedar's partial
//! response into its answer 2.9k. The 100-policies case reads `context` in
//! every policy, so it evaluates them all as before.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use portcullis_contract::{Contract, Source};
use portcullis_core::{Identity, IdentityKind, IdentityState};
use portcullis_policy::{AuthzRequest, PolicySchema, PolicyStore, generate_schema};
use serde_json::{Map, Value, json};

// As the binary allocates: glibc's malloc would be a fifth of the figure.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// 250 resources × (list, create, get, replace) = 1,000 operations.
const RESOURCES: usize = 250;

struct One(String);

impl Source for One {
    fn read(&self, _path: &str) -> Result<String, String> {
        Ok(self.0.clone())
    }
}

fn contract() -> Result<Contract, String> {
    let ok = json!({"200": {"description": "ok"}});
    let mut paths = Map::new();
    for r in 0..RESOURCES {
        let id =
            json!([{"name": "id", "in": "path", "required": true, "schema": {"type": "integer"}}]);
        let query = json!([
            {"name": "limit", "in": "query", "schema": {"type": "integer"}},
            {"name": "status", "in": "query", "schema": {"type": "string", "enum": ["open", "closed"]}}
        ]);
        paths.insert(
            format!("/r{r}"),
            json!({
                "get": {"operationId": format!("list{r}"), "parameters": query, "responses": ok},
                "post": {"operationId": format!("create{r}"), "responses": ok},
            }),
        );
        paths.insert(
            format!("/r{r}/{{id}}"),
            json!({
                "parameters": id,
                "get": {"operationId": format!("get{r}"), "responses": ok},
                "put": {"operationId": format!("replace{r}"), "responses": ok},
            }),
        );
    }
    let doc = json!({"openapi": "3.1.0", "info": {"title": "big", "version": "1"}, "paths": paths});
    Contract::load("big.json", &One(doc.to_string())).map_err(|e| format!("{e:?}"))
}

/// 100 policies: 90 on single operations (tenant rules on `get<r>`, a
/// `context.time` window on `replace<r>`), 6 on the read and write groups,
/// 4 unconstrained forbids.
fn spread() -> String {
    let mut text = String::new();
    for r in 0..45 {
        text.push_str(&format!(
            "@id(\"tenant-{r}\")\npermit(principal, action == Action::\"big:get{r}\", resource)\n  when {{ context.params.id < 1000000 && principal.owner == \"team-{r}\" }};\n\
             @id(\"hours-{r}\")\npermit(principal, action == Action::\"big:replace{r}\", resource)\n  when {{ context.time >= 1764057600 && context.time < 1764086400 }};\n"
        ));
    }
    for g in 0..3 {
        text.push_str(&format!(
            "permit(principal, action in Action::\"big:read\", resource) when {{ principal.environment == \"env-{g}\" }};\n\
             permit(principal, action in Action::\"big:write\", resource) when {{ principal.tags.contains(\"writer-{g}\") }};\n"
        ));
    }
    for f in 0..4 {
        text.push_str(&format!(
            "forbid(principal, action, resource) when {{ principal.tags.contains(\"blocked-{f}\") }};\n"
        ));
    }
    text
}

/// 100 policies that all apply to every read operation.
fn crowded() -> String {
    (0..100)
        .map(|i| {
            format!(
                "permit(principal, action in Action::\"big:read\", resource) when {{ principal.owner == \"team-x{i}\" && context.params has id }};\n"
            )
        })
        .collect()
}

fn store(schema: &PolicySchema, text: String) -> Result<PolicyStore, String> {
    PolicyStore::load(&[("bench.cedar".to_owned(), text)], schema).map_err(|d| format!("{d:?}"))
}

/// The store with spread policies and the one with a crowded slice.
fn stores() -> Result<(PolicyStore, PolicyStore), String> {
    let contract = contract()?;
    let schema = generate_schema(&[("big", &contract)]).map_err(|e| e.to_string())?;
    Ok((store(&schema, spread())?, store(&schema, crowded())?))
}

fn bench(c: &mut Criterion) {
    let stores = stores();
    assert!(stores.is_ok(), "bench setup: {:?}", stores.as_ref().err());
    let Ok((spread, crowded)) = stores else {
        return;
    };
    assert_eq!(spread.len(), 100);
    assert_eq!(spread.slice_len("big", "get17"), Some(8));
    assert_eq!(crowded.slice_len("big", "get17"), Some(100));

    let identity = Identity {
        id: "bot-17".to_owned(),
        kind: IdentityKind::Agent,
        owner: "team-17".to_owned(),
        environment: "prod".to_owned(),
        tags: vec!["reader".to_owned(), "eu".to_owned()],
        scopes: vec![],
        state: IdentityState::Active,
        created: 0,
        expires: None,
        last_used: None,
    };
    let mut params = Map::new();
    params.insert("id".to_owned(), Value::from(4242));
    let query = Map::new();
    let scopes = vec!["big:read".to_owned()];
    let request = AuthzRequest {
        identity: &identity,
        api: "big",
        operation: "get17",
        params: &params,
        query: &query,
        scopes: &scopes,
        ip: "10.1.2.3",
        time: 1_764_000_000,
        delegation: None,
    };
    let decision = spread.authorize(&request);
    assert!(decision.allowed, "{decision:?}");
    assert_eq!(decision.determining, ["tenant-17"]);
    assert!(!crowded.authorize(&request).allowed);

    c.bench_function("baseline: context json", |b| {
        b.iter(|| black_box(spread.context_json(black_box(&request))))
    });
    c.bench_function(
        "authorize: 1,000 operations, 100 policies (slice of 8)",
        |b| b.iter(|| black_box(spread.authorize(black_box(&request)))),
    );
    // What an identity's first request to the operation pays: its entity
    // and the fixed policies' outcome computed (a new identity id each time).
    let mut n = 0_u64;
    c.bench_function(
        "authorize: first request of an identity (slice of 8)",
        |b| {
            b.iter(|| {
                n += 1;
                let fresh = Identity {
                    id: format!("bot-{n}"),
                    ..identity.clone()
                };
                black_box(spread.authorize(black_box(&AuthzRequest {
                    identity: &fresh,
                    ..request
                })))
            })
        },
    );
    c.bench_function("authorize: 100 policies in the slice", |b| {
        b.iter(|| black_box(crowded.authorize(black_box(&request))))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
