//! `bench-setup DIR LISTEN UPSTREAM`: writes the full-pipeline configuration
//! the harness measures into DIR: a contract of 1,000 operations (250
//! resources × list, create, get, replace) whose responses and request
//! bodies are schema-checked, 100 Cedar policies (the benchmarked
//! operations' slices hold 8), one identity, the SQLite store and the audit
//! ledger in its default (batch) durability.

use std::path::Path;

use serde_json::{Map, Value, json};

const RESOURCES: usize = 250;

fn contract() -> Value {
    let order = json!({
        "type": "object",
        "required": ["id", "name", "status", "items", "totalCents"],
        "properties": {
            "id": {"type": "integer"},
            "name": {"type": "string", "maxLength": 200},
            "status": {"type": "string", "enum": ["pending", "paid", "shipped"]},
            "customer": {
                "type": "object",
                "properties": {
                    "id": {"type": "string"}, "name": {"type": "string"},
                    "tier": {"type": "string"}, "email": {"type": "string", "format": "email"}
                }
            },
            "items": {"type": "array", "maxItems": 100, "items": {
                "type": "object",
                "properties": {
                    "sku": {"type": "string", "pattern": "^WID-[0-9]{4}$"},
                    "description": {"type": "string"},
                    "quantity": {"type": "integer", "minimum": 1},
                    "unitCents": {"type": "integer"}
                }
            }},
            "totalCents": {"type": "integer"},
            "createdAt": {"type": "string", "format": "date-time"},
            "notes": {"type": "string"}
        }
    });
    let new_order = json!({
        "type": "object",
        "additionalProperties": false,
        "required": ["customerId", "items"],
        "properties": {
            "customerId": {"type": "string", "maxLength": 64},
            "reference": {"type": "string", "maxLength": 64},
            "items": {"type": "array", "minItems": 1, "maxItems": 50, "items": {
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
    let mut paths = Map::new();
    for r in 0..RESOURCES {
        let id = json!([{"name": "id", "in": "path", "required": true, "schema": {"type": "integer", "minimum": 1}}]);
        let query = json!([{"name": "limit", "in": "query", "schema": {"type": "integer", "maximum": 100}}]);
        paths.insert(
            format!("/r{r}"),
            json!({
                "get": {"operationId": format!("list{r}"), "parameters": query, "security": read, "responses": ok},
                "post": {"operationId": format!("create{r}"), "requestBody": body, "security": write, "responses": ok},
            }),
        );
        paths.insert(
            format!("/r{r}/{{id}}"),
            json!({
                "parameters": id,
                "get": {"operationId": format!("get{r}"), "security": read, "responses": ok},
                "put": {"operationId": format!("replace{r}"), "requestBody": body, "security": write, "responses": ok},
            }),
        );
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

/// 100 policies: 45 tenant rules on `get<r>`, 45 time windows on
/// `replace<r>`, 3 permits on the read group and 3 on the write group, 4
/// forbids on everything.
fn policies() -> String {
    let mut text = String::new();
    for r in 0..45 {
        text.push_str(&format!(
            "@id(\"tenant-{r}\")\npermit(principal, action == Action::\"bench:get{r}\", resource)\n  when {{ context.params.id < 1000000 && principal.owner == \"team-{r}\" }};\n\
             @id(\"hours-{r}\")\npermit(principal, action == Action::\"bench:replace{r}\", resource)\n  when {{ context.hour >= 8 && context.hour < 18 }};\n"
        ));
    }
    for g in 0..3 {
        text.push_str(&format!(
            "@id(\"readers-{g}\")\npermit(principal, action in Action::\"bench:read\", resource) when {{ principal.environment == \"env-{g}\" }};\n\
             @id(\"writers-{g}\")\npermit(principal, action in Action::\"bench:write\", resource) when {{ principal.tags.contains(\"writer-{g}\") }};\n"
        ));
    }
    for f in 0..4 {
        text.push_str(&format!(
            "@id(\"blocked-{f}\")\nforbid(principal, action, resource) when {{ principal.tags.contains(\"blocked-{f}\") }};\n"
        ));
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
limits: {{ body_bytes: 65536, request_timeout: 10s }}
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

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(dir), Some(listen), Some(upstream)) = (args.get(1), args.get(2), args.get(3)) else {
        eprintln!("usage: bench-setup DIR LISTEN UPSTREAM");
        std::process::exit(2);
    };
    let dir = Path::new(dir);
    if let Err(e) = std::fs::create_dir_all(dir.join("policies")) {
        eprintln!("bench-setup: cannot create {}: {e}", dir.display());
        std::process::exit(1);
    }
    write(&dir.join("openapi.json"), &contract().to_string());
    write(&dir.join("policies/bench.cedar"), &policies());
    write(&dir.join("identities.yaml"), IDENTITIES);
    write(&dir.join("portcullis.yaml"), &config(listen, upstream));
    write(
        &dir.join("body.json"),
        &portcullis_bench::request_body().to_string(),
    );
}
