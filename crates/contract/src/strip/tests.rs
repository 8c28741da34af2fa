use serde_json::json;

use crate::strip::undeclared;
use crate::testing::contract;

fn schema_contract(schema: &str) -> crate::Contract {
    with_components(schema, "")
}

/// `components` lines are added under `components/schemas` (indented four).
fn with_components(schema: &str, components: &str) -> crate::Contract {
    contract(&format!(
        "openapi: 3.1.0\ninfo: {{title: t, version: '1'}}\npaths:\n  /x:\n    get:\n      responses:\n        '200':\n          description: ok\n          content:\n            application/json:\n              schema: {schema}\ncomponents:\n  schemas:\n    Item: {{type: object, properties: {{sku: {{type: string}}}}}}\n    Base: {{type: object, properties: {{id: {{type: string}}}}}}\n{components}"
    ))
}

fn schema_of(c: &crate::Contract) -> &crate::Schema {
    c.operations()[0].responses[0].media[0]
        .schema
        .as_ref()
        .unwrap()
}

/// Found pointers in a fixed order (a map's own order depends on the build).
fn sorted(mut found: Vec<String>) -> Vec<String> {
    found.sort();
    found
}

/// Strips with both entry points: the counting one must remove exactly
/// what the reporting one reports.
fn strip(c: &crate::Contract, mut v: serde_json::Value) -> (serde_json::Value, Vec<String>) {
    let mut counted = v.clone();
    let found = undeclared(schema_of(c), &mut v, true);
    assert_eq!(crate::strip::strip(schema_of(c), &mut counted), found.len());
    assert_eq!(counted, v);
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

#[test]
fn recursive_schemas_strip_at_every_depth() {
    let c = with_components(
        "{$ref: '#/components/schemas/Node'}",
        "    Node: {type: object, properties: {name: {type: string}, children: {type: array, items: {$ref: '#/components/schemas/Node'}}}}\n",
    );
    let (v, found) = strip(
        &c,
        json!({"name": "a", "x": 1, "children": [{"name": "b", "children": [{"name": "c", "y": 2}]}]}),
    );
    assert_eq!(
        v,
        json!({"name": "a", "children": [{"name": "b", "children": [{"name": "c"}]}]})
    );
    assert_eq!(sorted(found), ["/children/0/children/0/y", "/x"]);
}

#[test]
fn a_named_property_wins_over_patterns_and_extra_schemas_are_walked() {
    let c = schema_contract(
        "{type: object, properties: {x-id: {type: object, properties: {a: {type: string}}}}, patternProperties: {'^x-': {type: object, properties: {b: {type: string}}}}, additionalProperties: {type: object, properties: {c: {type: string}}}}",
    );
    let (v, found) = strip(
        &c,
        json!({"x-id": {"a": "1", "b": "2"}, "x-other": {"b": "3", "c": "4"}, "more": {"c": "5", "b": "6"}}),
    );
    assert_eq!(
        v,
        json!({"x-id": {"a": "1"}, "x-other": {"b": "3", "c": "4"}, "more": {"c": "5"}})
    );
    assert_eq!(sorted(found), ["/more/b", "/x-id/b"]);
}

#[test]
fn prefix_items_then_items() {
    let c = schema_contract(
        "{type: array, prefixItems: [{$ref: '#/components/schemas/Item'}], items: {$ref: '#/components/schemas/Base'}}",
    );
    let (v, found) = strip(
        &c,
        json!([{"sku": "A", "id": "1"}, {"sku": "B", "id": "2"}, {"id": "3", "z": 0}]),
    );
    assert_eq!(v, json!([{"sku": "A"}, {"id": "2"}, {"id": "3"}]));
    assert_eq!(found, ["/0/id", "/1/sku", "/2/z"]);
}

#[test]
fn a_free_form_branch_declares_every_key() {
    let c = schema_contract(
        "{anyOf: [{type: object}, {type: object, properties: {id: {type: string}}}]}",
    );
    let (v, found) = strip(&c, json!({"id": "1", "other": {"deep": true}}));
    assert_eq!(v, json!({"id": "1", "other": {"deep": true}}));
    assert!(found.is_empty());
}

#[test]
fn pointers_are_escaped_and_reporting_leaves_the_value() {
    let c = schema_contract(
        "{type: object, properties: {a: {type: string}, b: {type: string}, c: {type: string}}}",
    );
    let (v, found) = strip(&c, json!({"a": "1", "x/~y": 0, "b": "2", "c": "3"}));
    assert_eq!(v, json!({"a": "1", "b": "2", "c": "3"}));
    assert_eq!(found, ["/x~1~0y"]);
    let mut same = json!({"a": "1", "x/~y": 0});
    assert_eq!(undeclared(schema_of(&c), &mut same, false), ["/x~1~0y"]);
    assert_eq!(
        same,
        json!({"a": "1", "x/~y": 0}),
        "reporting leaves the value"
    );
}

#[test]
fn too_many_deciding_patterns_strip_the_keys_they_match() {
    let c = schema_contract(
        "{type: object, properties: {id: {type: string}}, patternProperties: {'^a': {}, '^b': {}, '^c': {}, '^d': {}, '^e': {}, '^f': {}, '^g': {}}}",
    );
    let (v, found) = strip(&c, json!({"id": "1", "a1": 1, "zz": 2}));
    assert_eq!(v, json!({"id": "1"}));
    assert_eq!(found, ["/a1", "/zz"]);
}
