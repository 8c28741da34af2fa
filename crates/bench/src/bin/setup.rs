//! `bench-setup DIR LISTEN UPSTREAM [--operations N] [--policies N]
//! [--identities N]`: writes the full-pipeline configuration the harness
//! measures into DIR. By default: a contract of 1,000 operations (250
//! resources × list, create, get, replace) whose responses and request
//! bodies are schema-checked, 100 Cedar policies (the benchmarked
//! operations' slices hold 8), rate limits per identity and per operation,
//! one identity, the SQLite store and the audit ledger in its default
//! (batch) durability. The flags scale one dimension for `bench/scale.py`;
//! extra identities go straight into the store, as an inventory would
//! leave them. Also writes the POST bodies: `body.json` (~1 KB) and
//! `body-100k.json` (~100 KB).

use std::path::Path;

use serde_json::{Map, Value, json};

/// What to generate.
struct Scale {
    operations: usize,
    policies: usize,
    identities: usize,
}

fn contract(scale: &Scale) -> Value {
    let order = portcullis_bench::order_schema();
    let new_order = json!({
        "type": "object",
        "additionalProperties": false,
        "required": ["customerId", "items"],
        "properties": {
            "customerId": {"type": "string", "maxLength": 64},
            "reference": {"type": "string", "maxLength": 64},
            "items": {"type": "array", "minItems": 1, "maxItems": 2000, "items": {
                "type": "object",
                "additionalProperties": false,
                "required": ["sku", "quantity"],
                "properties": {
                    "sku": {"type": "string", "pattern": "^WID-[0-9]{4}$"},
                    "quantity": {"type": "integer", "minimum": 1, "maximum": 1000},
                    "note": {"type": "string", "maxLength": 200}
                }
            }},
            "deliverBy": {"type": "string", "format": "date-time"},
            "instructions": {"type": "string", "maxLength": 500}
        }
    });
    let ok = json!({"200": {"description": "ok", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Order"}}}}});
    let body = json!({"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/NewOrder"}}}});
    let read = json!([{"oauth": ["bench:read"]}]);
    let write = json!([{"oauth": ["bench:write"]}]);
    let id = json!([{"name": "id", "in": "path", "required": true, "schema": {"type": "integer", "minimum": 1}}]);
    let query =
        json!([{"name": "limit", "in": "query", "schema": {"type": "integer", "maximum": 100}}]);
    let mut paths = Map::new();
    for k in 0..scale.operations {
        let r = k / 4;
        let (path, method, operation) = match k % 4 {
            0 => (
                format!("/r{r}"),
                "get",
                json!({"operationId": format!("list{r}"), "parameters": query, "security": read, "responses": ok}),
            ),
            1 => (
                format!("/r{r}"),
                "post",
                json!({"operationId": format!("create{r}"), "requestBody": body, "security": write, "responses": ok}),
            ),
            2 => (
                format!("/r{r}/{{id}}"),
                "get",
                json!({"operationId": format!("get{r}"), "security": read, "responses": ok}),
            ),
            _ => (
                format!("/r{r}/{{id}}"),
                "put",
                json!({"operationId": format!("replace{r}"), "requestBody": body, "security": write, "responses": ok}),
            ),
        };
        let item = paths.entry(path.clone()).or_insert_with(|| {
            if path.ends_with("{id}") {
                json!({"parameters": id})
            } else {
                json!({})
            }
        });
        if let Some(item) = item.as_object_mut() {
            item.insert(method.to_owned(), operation);
        }
    }
    json!({
        "openapi": "3.1.0",
        "info": {"title": "bench", "version": "1"},
        "paths": paths,
        "components": {
            "schemas": {"Order": order, "NewOrder": new_order},
            "securitySchemes": {"oauth": {"type": "oauth2", "flows": {"clientCredentials": {
                "tokenUrl": "/oauth/token",
                "scopes": {"bench:read": "read", "bench:write": "write"}
            }}}}
        }
    })
}

/// `n` policies. One: a single permit for the bench identity. Otherwise 4
/// forbids on everything, 3 permits on the read group and 3 on the write
/// group, then tenant rules on `get<r>` and time windows on `replace<r>`
/// in turn, resource after resource (100 gives 45 of each, and the
/// benchmarked operations' slices hold 8 policies).
fn policies(scale: &Scale) -> String {
    if scale.policies <= 1 {
        return "@id(\"only\")\npermit(principal == Identity::\"bench-agent\", action, resource);\n".to_owned();
    }
    let mut text = String::new();
    let mut count = 0;
    for f in 0..4 {
        text.push_str(&format!(
            "@id(\"blocked-{f}\")\nforbid(principal, action, resource) when {{ principal.tags.contains(\"blocked-{f}\") }};\n"
        ));
        count += 1;
    }
    for g in 0..3 {
        text.push_str(&format!(
            "@id(\"readers-{g}\")\npermit(principal, action in Action::\"bench:read\", resource) when {{ principal.environment == \"env-{g}\" }};\n\
             @id(\"writers-{g}\")\npermit(principal, action in Action::\"bench:write\", resource) when {{ principal.tags.contains(\"writer-{g}\") }};\n"
        ));
        count += 2;
    }
    // Only resources with all four operations have a get and a replace.
    let resources = (scale.operations / 4).max(1);
    let mut i = 0;
    while count < scale.policies {
        let r = (i / 2) % resources;
        if i % 2 == 0 {
            text.push_str(&format!(
                "@id(\"tenant-{i}\")\npermit(principal, action == Action::\"bench:get{r}\", resource)\n  when {{ context.params.id < 1000000 && principal.owner == \"team-{r}\" }};\n"
            ));
        } else {
            text.push_str(&format!(
                "@id(\"hours-{i}\")\npermit(principal, action == Action::\"bench:replace{r}\", resource)\n  when {{ context.hour >= 8 && context.hour < 18 }};\n"
            ));
        }
        i += 1;
        count += 1;
    }
    text
}

fn config(listen: &str, upstream: &str) -> String {
    format!(
        "# Generated by bench-setup: the full pipeline, audit ledger in its default durability.
listen: {listen}
apis:
  - name: bench
    contract: openapi.json
    mount: /bench
    upstream: http://{upstream}
    responses: {{ undeclared_fields: strip, secrets: redact }}
    timeouts: {{ connect: 2s, response: 10s }}
policies: policies/
identities: identities.yaml
storage: sqlite://portcullis.db
tokens: {{ issuer: portcullis, default_ttl: 15m, max_ttl: 15m }}
limits: {{ body_bytes: 262144, request_timeout: 10s }}
# Limits the load never reaches: the stage runs (both buckets, for the
# benchmarked operations) without refusing anything.
rate_limits:
  per_identity: 1000000/s
  operations:
    bench:get0: 1000000/s
    bench:create0: 1000000/s
"
    )
}

const IDENTITIES: &str = "identities:
  - id: bench-agent
    kind: agent
    owner: team-0
    environment: env-0
    tags: [writer-0]
    scopes: [bench:read, bench:write]
";

fn write(path: &Path, text: &str) {
    if let Err(e) = std::fs::write(path, text) {
        eprintln!("bench-setup: cannot write {}: {e}", path.display());
        std::process::exit(1);
    }
}

/// The inventory's other identities, `bench-<n>`, straight into the store
/// in one transaction (an inventory file of a million would be read for
/// minutes at every start; the request path sees the same store either way).
fn extra_identities(dir: &Path, count: usize) -> Result<(), String> {
    use portcullis_store::IdentityStore;
    let store = portcullis_store::SqliteStore::open(&dir.join("portcullis.db"))
        .map_err(|e| format!("store: {e}"))?;
    let made: Vec<portcullis_core::Identity> = (0..count)
        .map(|n| portcullis_core::Identity {
            id: format!("bench-{n}"),
            kind: portcullis_core::IdentityKind::Agent,
            owner: format!("team-{}", n % 250),
            environment: format!("env-{}", n % 7),
            tags: vec![format!("writer-{}", n % 5)],
            scopes: vec!["bench:read".into()],
            state: portcullis_core::IdentityState::Active,
            created: 1_764_000_000,
            expires: None,
            last_used: None,
        })
        .collect();
    store
        .upsert_identities(&made)
        .map_err(|e| format!("store: {e}"))
}

fn flag(args: &[String], name: &str, default: usize) -> usize {
    let Some(i) = args.iter().position(|a| a == name) else {
        return default;
    };
    match args.get(i + 1).and_then(|v| v.parse().ok()) {
        Some(n) if n > 0 => n,
        _ => {
            eprintln!("bench-setup: {name} needs a positive number");
            std::process::exit(2);
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(dir), Some(listen), Some(upstream)) = (args.get(1), args.get(2), args.get(3)) else {
        eprintln!(
            "usage: bench-setup DIR LISTEN UPSTREAM [--operations N] [--policies N] [--identities N]"
        );
        std::process::exit(2);
    };
    let scale = Scale {
        operations: flag(&args, "--operations", 1_000).max(4),
        policies: flag(&args, "--policies", 100),
        identities: flag(&args, "--identities", 1),
    };
    let dir = Path::new(dir);
    if let Err(e) = std::fs::create_dir_all(dir.join("policies")) {
        eprintln!("bench-setup: cannot create {}: {e}", dir.display());
        std::process::exit(1);
    }
    write(&dir.join("openapi.json"), &contract(&scale).to_string());
    write(&dir.join("policies/bench.cedar"), &policies(&scale));
    write(&dir.join("identities.yaml"), IDENTITIES);
    write(&dir.join("portcullis.yaml"), &config(listen, upstream));
    write(
        &dir.join("body.json"),
        &portcullis_bench::request_body().to_string(),
    );
    write(
        &dir.join("body-100k.json"),
        &portcullis_bench::request_body_with(1200).to_string(),
    );
    if scale.identities > 1
        && let Err(e) = extra_identities(dir, scale.identities - 1)
    {
        eprintln!("bench-setup: {e}");
        std::process::exit(1);
    }
}
