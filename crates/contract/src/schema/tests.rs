use serde_json::json;

use crate::testing::{Files, contract, load};
use crate::{Contract, ParamIn};

fn body_schema_contract(version: &str, schema: &str) -> Result<Contract, Vec<crate::LoadError>> {
    load(&format!(
        "openapi: {version}\ninfo: {{title: t, version: '1'}}\npaths:\n  /x:\n    post:\n      requestBody:\n        content:\n          application/json:\n            schema: {schema}\n      responses: {{'200': {{description: ok}}}}\n"
    ))
}

fn validates(c: &Contract, body: serde_json::Value) -> bool {
    let media = &c.operations()[0].body.as_ref().unwrap().media[0];
    media
        .schema
        .as_ref()
        .unwrap()
        .validate(&body, "/body")
        .is_ok()
}

#[test]
fn openapi_30_nullable_becomes_a_type_array() {
    let c = body_schema_contract(
        "3.0.3",
        "{type: object, properties: {a: {type: string, nullable: true}}}",
    )
    .unwrap();
    assert!(validates(&c, json!({"a": null})));
    assert!(!validates(&c, json!({"a": 1})));
}

#[test]
fn openapi_30_boolean_exclusive_bounds_are_rewritten() {
    let c = body_schema_contract(
        "3.0.3",
        "{type: integer, minimum: 1, exclusiveMinimum: true}",
    )
    .unwrap();
    assert!(!validates(&c, json!(1)));
    assert!(validates(&c, json!(2)));
}

#[test]
fn openapi_31_type_arrays_and_numeric_exclusive_bounds() {
    let c =
        body_schema_contract("3.1.0", "{type: [integer, 'null'], exclusiveMaximum: 10}").unwrap();
    assert!(validates(&c, json!(null)));
    assert!(validates(&c, json!(9)));
    assert!(!validates(&c, json!(10)));
}

#[test]
fn nullable_in_31_is_an_error_naming_the_pointer() {
    let errors = body_schema_contract("3.1.0", "{type: string, nullable: true}").unwrap_err();
    assert_eq!(
        errors[0].pointer(),
        "/paths/~1x/post/requestBody/content/application~1json/schema/nullable"
    );
}

#[test]
fn misspelt_keywords_are_load_errors() {
    let errors = body_schema_contract("3.1.0", "{type: object, requried: [a]}").unwrap_err();
    assert!(
        errors[0]
            .message()
            .contains("unknown schema keyword `requried`")
    );
}

#[test]
fn unknown_formats_are_load_errors() {
    assert!(body_schema_contract("3.1.0", "{type: string, format: uuidd}").is_err());
    assert!(body_schema_contract("3.1.0", "{type: string, format: uuid}").is_ok());
}

#[test]
fn formats_are_asserted() {
    let c = body_schema_contract("3.1.0", "{type: object, properties: {id: {type: string, format: uuid}, at: {type: string, format: date-time}, e: {type: string, format: email}}}").unwrap();
    assert!(validates(
        &c,
        json!({"id": "123e4567-e89b-12d3-a456-426614174000", "at": "2026-11-25T10:00:00Z", "e": "a@b.example"})
    ));
    assert!(!validates(&c, json!({"id": "nope"})));
    assert!(!validates(&c, json!({"at": "yesterday"})));
    assert!(!validates(&c, json!({"e": "not-an-email"})));
}

#[test]
fn int32_bounds_the_value() {
    let c = body_schema_contract("3.1.0", "{type: integer, format: int32}").unwrap();
    assert!(validates(&c, json!(2147483647)));
    assert!(!validates(&c, json!(2147483648_i64)));
}

#[test]
fn composition_and_additional_properties() {
    let c = body_schema_contract(
        "3.1.0",
        "{oneOf: [{type: object, required: [a], properties: {a: {type: string}}, additionalProperties: false}, {type: object, required: [b], properties: {b: {type: integer}}, additionalProperties: false}]}",
    )
    .unwrap();
    assert!(validates(&c, json!({"a": "x"})));
    assert!(validates(&c, json!({"b": 1})));
    assert!(!validates(&c, json!({"a": "x", "b": 1})));
    assert!(!validates(&c, json!({"c": 1})));
}

#[test]
fn refs_into_sibling_files_and_recursive_schemas() {
    let root = "openapi: 3.1.0\ninfo: {title: t, version: '1'}\npaths:\n  /x:\n    post:\n      requestBody:\n        content:\n          application/json:\n            schema: {$ref: 'schemas/tree.yaml#/Node'}\n      responses: {'200': {description: ok}}\n";
    let tree = "Node:\n  type: object\n  additionalProperties: false\n  properties:\n    name: {type: string}\n    children: {type: array, items: {$ref: '#/Node'}}\n";
    let files = Files(vec![
        ("api.yaml", root.to_owned()),
        ("schemas/tree.yaml", tree.to_owned()),
    ]);
    let c = Contract::load("api.yaml", &files).unwrap();
    assert!(validates(
        &c,
        json!({"name": "a", "children": [{"name": "b", "children": []}]})
    ));
    assert!(!validates(
        &c,
        json!({"name": "a", "children": [{"nam": "b"}]})
    ));
}

#[test]
fn path_level_parameters_are_inherited_and_overridden() {
    let c = contract(
        "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths:\n  /o/{id}:\n    parameters:\n      - {name: id, in: path, required: true, schema: {type: string}}\n      - {name: q, in: query, schema: {type: string}}\n    get:\n      parameters: [{name: q, in: query, required: true, schema: {type: integer}}]\n      responses: {'200': {description: ok}}\n",
    );
    let op = &c.operations()[0];
    assert_eq!(op.params.len(), 2);
    let q = op.params_in(ParamIn::Query).next().unwrap();
    assert!(q.required);
}

#[test]
fn unsupported_parameter_styles_are_load_errors() {
    let errors = load("openapi: 3.1.0\ninfo: {title: t, version: '1'}\npaths:\n  /o:\n    get:\n      parameters: [{name: f, in: query, style: deepObject, schema: {type: object}}]\n      responses: {'200': {description: ok}}\n").unwrap_err();
    assert!(
        errors[0].pointer().ends_with("/parameters/0/style"),
        "{errors:?}"
    );
}

#[test]
fn json_contracts_load_and_refuse_duplicate_keys() {
    let doc = r#"{"openapi":"3.0.3","info":{"title":"t","version":"1"},"paths":{"/x":{"get":{"responses":{"200":{"description":"ok"}}}}}}"#;
    let c = Contract::load("api.json", &Files(vec![("api.json", doc.to_owned())])).unwrap();
    assert_eq!(c.operations().len(), 1);
    let dup =
        r#"{"openapi":"3.0.3","openapi":"3.1.0","info":{"title":"t","version":"1"},"paths":{}}"#;
    let errors =
        Contract::load("api.json", &Files(vec![("api.json", dup.to_owned())])).unwrap_err();
    assert!(
        errors[0].message().contains("duplicate key `openapi`"),
        "{errors:?}"
    );
}

#[test]
fn yaml_duplicate_keys_are_refused_too() {
    let errors =
        load("openapi: 3.1.0\nopenapi: 3.0.0\ninfo: {title: t, version: '1'}\npaths: {}\n")
            .unwrap_err();
    assert_eq!(errors[0].line(), Some(2), "{errors:?}");
}

#[test]
fn openapi_30_additional_properties_false_closes_the_object() {
    let c = body_schema_contract(
        "3.0.3",
        "{type: object, additionalProperties: false, properties: {a: {type: string}}}",
    )
    .unwrap();
    assert!(validates(&c, json!({"a": "x"})));
    assert!(!validates(&c, json!({"a": "x", "extra": 1})));
    let open = body_schema_contract("3.0.3", "{type: object, additionalProperties: true}").unwrap();
    assert!(validates(&open, json!({"extra": 1})));
}

#[test]
fn openapi_30_boolean_schemas_elsewhere_stay_load_errors() {
    let at = "/paths/~1x/post/requestBody/content/application~1json/schema";
    for (schema, pointer) in [
        ("true", ""),
        ("{type: array, items: true}", "/items"),
        ("{type: object, properties: {a: false}}", "/properties/a"),
        ("{allOf: [false]}", "/allOf/0"),
        ("{not: true}", "/not"),
    ] {
        let errors = body_schema_contract("3.0.3", schema).unwrap_err();
        assert_eq!(
            errors[0].pointer(),
            format!("{at}{pointer}"),
            "{schema}: {errors:?}"
        );
    }
    // 3.1 admits a boolean wherever a schema goes.
    assert!(body_schema_contract("3.1.0", "{type: object, properties: {a: false}}").is_ok());
}

#[test]
fn load_errors_carry_the_line_of_their_pointer_in_their_own_file() {
    let root = "openapi: 3.1.0\ninfo: {title: t, version: '1'}\npaths:\n  /x:\n    post:\n      requestBody:\n        content:\n          application/json:\n            schema: {$ref: 'schemas/tree.yaml#/Node'}\n      responses: {'200': {description: ok}}\n  /y:\n    get:\n      responses:\n        '200':\n          description: ok\n          content:\n            application/json:\n              schema:\n                type: string\n                nullable: true\n";
    let tree = "Node:\n  type: object\n  properties:\n    name:\n      type: string\n      requried: true\n";
    let files = Files(vec![
        ("api.yaml", root.to_owned()),
        ("schemas/tree.yaml", tree.to_owned()),
    ]);
    let errors = Contract::load("api.yaml", &files).unwrap_err();
    let mut located: Vec<(&str, Option<u64>, &str)> = errors
        .iter()
        .map(|e| (e.file(), e.line(), e.pointer()))
        .collect();
    located.sort_unstable();
    assert_eq!(
        located,
        [
            (
                "api.yaml",
                Some(20),
                "/paths/~1y/get/responses/200/content/application~1json/schema/nullable"
            ),
            (
                "schemas/tree.yaml",
                Some(6),
                "/Node/properties/name/requried"
            ),
        ]
    );
    assert!(errors[0].to_string().contains(".yaml:"), "{}", errors[0]);
}
