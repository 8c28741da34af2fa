#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a missing value should fail the test"
)]

use portcullis_contract::{Contract, Source};
use serde_json::{Value, json};

use super::*;

struct One(String);

impl Source for One {
    fn read(&self, _path: &str) -> Result<String, String> {
        Ok(self.0.clone())
    }
}

/// The request body schema of a one-operation contract declaring `schema`
/// (and `components` for references).
fn body_value(schema: Value, components: Value) -> Result<Value, Unsatisfiable> {
    let doc = json!({
        "openapi": "3.1.0",
        "info": {"title": "t", "version": "1"},
        "paths": {"/x": {"post": {
            "operationId": "make",
            "requestBody": {"required": true, "content": {"application/json": {"schema": schema}}},
            "responses": {"204": {"description": "ok"}}
        }}},
        "components": {"schemas": components}
    });
    let contract = Contract::load("c.json", &One(doc.to_string()))
        .unwrap_or_else(|e| panic!("contract: {e:?}"));
    let op = &contract.operations()[0];
    let body = op.body.as_ref().unwrap();
    value(body.media[0].schema.as_ref().unwrap())
}

#[test]
fn the_example_orders_body_is_generated_and_valid() {
    let order = json!({
        "type": "object",
        "additionalProperties": false,
        "required": ["customerId", "items"],
        "properties": {
            "customerId": {"type": "string", "format": "uuid"},
            "reference": {"type": "string"},
            "items": {"type": "array", "minItems": 1, "items": {"$ref": "#/components/schemas/Item"}},
            "deliverBy": {"type": "string", "format": "date-time"}
        }
    });
    let item = json!({
        "type": "object",
        "required": ["sku", "quantity"],
        "properties": {
            "sku": {"type": "string", "pattern": "^WID-[0-9]{4}$"},
            "quantity": {"type": "integer", "minimum": 1, "maximum": 1000}
        }
    });
    let made = body_value(
        json!({"$ref": "#/components/schemas/Order"}),
        json!({"Order": order, "Item": item}),
    )
    .unwrap();
    assert_eq!(
        made,
        json!({"customerId": "3fa85f64-5717-4562-b3fc-2c963f66afa6", "items": [{"sku": "WID-0000", "quantity": 1}]})
    );
}

#[test]
fn given_values_come_first() {
    let cases = [
        (
            json!({"type": "string", "enum": ["paid", "shipped"]}),
            json!("paid"),
        ),
        (json!({"type": "integer", "example": 42}), json!(42)),
        (json!({"type": "string", "examples": ["EUR"]}), json!("EUR")),
        (json!({"type": "boolean", "default": false}), json!(false)),
        (json!({"const": "fixed"}), json!("fixed")),
    ];
    for (schema, expected) in cases {
        assert_eq!(
            body_value(schema.clone(), json!({})).unwrap(),
            expected,
            "{schema}"
        );
    }
}

#[test]
fn bounds_and_formats_are_met() {
    let cases = [
        (
            json!({"type": "integer", "minimum": 10, "multipleOf": 4}),
            json!(12),
        ),
        (json!({"type": "integer", "exclusiveMinimum": 5}), json!(6)),
        (json!({"type": "integer", "maximum": -3}), json!(-3)),
        (json!({"type": "number", "minimum": 0.5}), json!(0.5)),
        (json!({"type": "string", "minLength": 3}), json!("aaa")),
        (
            json!({"type": "string", "format": "email"}),
            json!("agent@example.com"),
        ),
        (
            json!({"type": ["null", "string"], "format": "date"}),
            json!("2026-01-06"),
        ),
        (
            json!({"type": "array", "minItems": 2, "items": {"type": "boolean"}}),
            json!([true, true]),
        ),
        (
            json!({"type": "object", "minProperties": 1, "properties": {"a": {"type": "integer"}}}),
            json!({"a": 1}),
        ),
    ];
    for (schema, expected) in cases {
        assert_eq!(
            body_value(schema.clone(), json!({})).unwrap(),
            expected,
            "{schema}"
        );
    }
}

#[test]
fn composition_merges_and_chooses() {
    let all = json!({"allOf": [
        {"type": "object", "required": ["a"], "properties": {"a": {"type": "integer"}}},
        {"type": "object", "required": ["b"], "properties": {"b": {"type": "string", "enum": ["x"]}}}
    ]});
    assert_eq!(
        body_value(all, json!({})).unwrap(),
        json!({"a": 1, "b": "x"})
    );
    let one = json!({"oneOf": [{"type": "integer", "minimum": 3}, {"type": "string"}]});
    assert_eq!(body_value(one, json!({})).unwrap(), json!(3));
}

#[test]
fn an_unsatisfiable_schema_says_why() {
    let cases = [
        (
            json!({"type": "integer", "minimum": 5, "maximum": 4}),
            "no integer meets the bounds",
        ),
        (
            json!({"type": "string", "pattern": "^ab$", "minLength": 5}),
            "no string of length 5",
        ),
        (
            json!({"type": "array", "minItems": 2, "uniqueItems": true, "items": {"type": "boolean", "const": true}}),
            "does not pass the schema",
        ),
    ];
    for (schema, why) in cases {
        let err = body_value(schema.clone(), json!({})).unwrap_err();
        assert!(err.0.contains(why), "{schema}: {err}");
    }
}

#[test]
fn a_recursive_schema_stops() {
    let node = json!({"type": "object", "required": ["child"], "properties": {"child": {"$ref": "#/components/schemas/Node"}}});
    let err = body_value(
        json!({"$ref": "#/components/schemas/Node"}),
        json!({"Node": node}),
    )
    .unwrap_err();
    assert!(err.0.contains("deeper than 24"), "{err}");
}

struct Dir(std::path::PathBuf);

impl Source for Dir {
    fn read(&self, path: &str) -> Result<String, String> {
        std::fs::read_to_string(self.0.join(path)).map_err(|e| e.to_string())
    }
}

#[test]
fn every_parameter_and_body_of_the_example_api_can_be_generated() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/orders");
    let contract = Contract::load("openapi.yaml", &Dir(dir)).unwrap_or_else(|e| panic!("{e:?}"));
    let mut generated = 0;
    for op in contract.operations() {
        for param in op.params.iter().filter(|p| p.required) {
            let schema = param.schema.as_ref().unwrap();
            value(schema).unwrap_or_else(|e| panic!("{} {}: {e}", op.id, param.name));
            generated += 1;
        }
        if let Some(body) = &op.body {
            for media in body.media.iter().filter(|m| m.json) {
                value(media.schema.as_ref().unwrap())
                    .unwrap_or_else(|e| panic!("{} body: {e}", op.id));
                generated += 1;
            }
        }
    }
    assert!(generated >= 10, "only {generated} values");
}

#[test]
fn bodies_closed_by_a_30_boolean_are_generated_and_valid() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../testkit/fixtures/books");
    let contract = Contract::load("openapi.yaml", &Dir(dir)).unwrap_or_else(|e| panic!("{e:?}"));
    let mut closed = 0;
    for op in contract.operations() {
        let Some(body) = &op.body else { continue };
        let schema = body.media[0].schema.as_ref().unwrap();
        let made = value(schema).unwrap_or_else(|e| panic!("{} body: {e}", op.id));
        let Value::Object(mut fields) = made else {
            panic!("{}: not an object", op.id)
        };
        fields.insert("undeclared".into(), json!(1));
        assert!(
            schema.validate(&Value::Object(fields), "").is_err(),
            "{}",
            op.id
        );
        closed += 1;
    }
    assert_eq!(closed, 3, "login_user, update_email, add_book");
}
