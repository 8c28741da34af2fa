use serde_json::json;

use crate::strip::undeclared;
use crate::testing::contract;

fn schema_contract(schema: &str) -> crate::Contract {
    contract(&format!(
        "openapi: 3.1.0\ninfo: {{title: t, version: '1'}}\npaths:\n  /x:\n    get:\n      responses:\n        '200':\n          description: ok\n          content:\n            application/json:\n              schema: {schema}\ncomponents:\n  schemas:\n    Item: {{type: object, properties: {{sku: {{type: string}}}}}}\n    Base: {{type: object, properties: {{id: {{type: string}}}}}}\n"
    ))
}

fn strip(c: &crate::Contract, mut v: serde_json::Value) -> (serde_json::Value, Vec<String>) {
    let schema = c.operations()[0].responses[0].media[0]
        .schema
        .as_ref()
        .unwrap();
    let found = undeclared(schema, &mut v, true);
    (v, found)
}

#[test]
fn strips_recursively_through_refs_and_arrays() {
    let c = schema_contract(
        "{type: object, properties: {id: {type: string}, items: {type: array, items: {$ref: '#/components/schemas/Item'}}}}",
    );
    let (v, mut found) = strip(
        &c,
        json!({"id": "1", "margin": 3, "items": [{"sku": "A", "cost": 1}]}),
    );
    found.sort();
    assert_eq!(v, json!({"id": "1", "items": [{"sku": "A"}]}));
    assert_eq!(found, ["/items/0/cost", "/margin"]);
}

#[test]
fn all_of_branches_are_merged() {
    let c = schema_contract(
        "{allOf: [{$ref: '#/components/schemas/Base'}, {type: object, properties: {name: {type: string}}}]}",
    );
    let (v, _) = strip(&c, json!({"id": "1", "name": "n", "secret": true}));
    assert_eq!(v, json!({"id": "1", "name": "n"}));
}

#[test]
fn maps_and_free_form_objects_keep_their_keys() {
    let c = schema_contract(
        "{type: object, properties: {tags: {type: object, additionalProperties: {type: string}}, meta: {type: object}}}",
    );
    let (v, found) = strip(&c, json!({"tags": {"a": "b"}, "meta": {"anything": 1}}));
    assert_eq!(v, json!({"tags": {"a": "b"}, "meta": {"anything": 1}}));
    assert!(found.is_empty());
}

#[test]
fn pattern_properties_declare_matching_keys() {
    let c = schema_contract(
        "{type: object, properties: {id: {type: string}}, patternProperties: {'^x-': {type: string}}}",
    );
    let (v, found) = strip(&c, json!({"id": "1", "x-trace": "t", "internal": 1}));
    assert_eq!(v, json!({"id": "1", "x-trace": "t"}));
    assert_eq!(found, ["/internal"]);
}
