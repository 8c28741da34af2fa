use std::path::PathBuf;

use portcullis_contract::{Contract, Source};
use serde_json::{Value, json};

use super::*;

struct Dir(PathBuf);

impl Source for Dir {
    fn read(&self, path: &str) -> Result<String, String> {
        std::fs::read_to_string(self.0.join(path)).map_err(|e| e.to_string())
    }
}

fn load(dir: &str, file: &str) -> Contract {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(dir);
    Contract::load(file, &Dir(root)).unwrap()
}

fn orders() -> Contract {
    load("../../examples/orders", "openapi.yaml")
}

fn books() -> Contract {
    load("../testkit/fixtures/books", "openapi.yaml")
}

fn valid(schema: &Value, instance: &Value) -> bool {
    jsonschema::validator_for(schema)
        .unwrap()
        .is_valid(instance)
}

#[test]
fn every_operation_of_the_examples_is_a_tool_named_api_underscore_operation() {
    let (orders, books) = (orders(), books());
    let set = ToolSet::from_contracts([("orders", &orders), ("books", &books)]);
    assert_eq!(set.excluded, []);
    assert_eq!(
        set.tools.len(),
        orders.operations().len() + books.operations().len()
    );
    let tool = set.get("orders_getOrder").unwrap();
    assert_eq!(
        (tool.api.as_str(), tool.operation.as_str()),
        ("orders", "getOrder")
    );
    assert_eq!(tool.contract_digest, orders.digest());
    let listed = tool.to_json();
    assert_eq!(listed["_meta"]["portcullis/contract"], orders.digest());
    assert_eq!(listed["_meta"]["portcullis/operation"], "orders:getOrder");
    assert!(set.get("books_login_user").is_some());
}

#[test]
fn arguments_are_one_closed_object_typed_as_the_contract_types_them() {
    let books = books();
    let set = ToolSet::from_contracts([("books", &books)]);
    let add = &set.get("books_add_book").unwrap().input_schema;
    let ok = json!({"body": {"book_title": "dune", "secret": "s", "year": null}});
    assert!(valid(add, &ok), "{add:#}");
    // The body is closed where the contract closes it (3.0 `additionalProperties: false`).
    assert!(!valid(
        add,
        &json!({"body": {"book_title": "dune", "secret": "s", "owner": "x"}})
    ));
    // The arguments object itself is closed, and the required body is required.
    assert!(!valid(add, &json!({"body": ok["body"], "extra": 1})));
    assert!(!valid(add, &json!({})));
    let user = &set.get("books_get_user").unwrap().input_schema;
    assert!(valid(user, &json!({"path": {"username": "name1"}})));
    assert!(!valid(user, &json!({"path": {"username": "NOT_lower"}})));
    assert!(!valid(user, &json!({"path": {}})));
    assert!(!valid(
        user,
        &json!({"path": {"username": "name1", "other": "x"}})
    ));
    let list = &set.get("books_list_books").unwrap().input_schema;
    assert!(valid(list, &json!({})), "no required group: {list:#}");
    assert!(valid(list, &json!({"query": {"limit": 5}})));
    assert!(!valid(list, &json!({"query": {"limit": 500}})));
    assert!(!valid(list, &json!({"query": {"expand": "all"}})));
}

#[test]
fn referenced_definitions_are_hoisted_so_the_input_schema_stands_alone() {
    let orders = orders();
    let set = ToolSet::from_contracts([("orders", &orders)]);
    for tool in &set.tools {
        let text = tool.input_schema.to_string();
        for reference in text.split("\"$ref\":\"").skip(1) {
            let target = reference.split('"').next().unwrap();
            let name = target.strip_prefix("#/$defs/").unwrap();
            assert!(
                tool.input_schema["$defs"].get(name).is_some(),
                "{}: {target} is not in its $defs",
                tool.name
            );
        }
        // Compiles as a document of its own.
        jsonschema::validator_for(&tool.input_schema).unwrap();
    }
}

#[test]
fn results_and_hints_come_from_the_declared_answer_and_the_method() {
    let orders = orders();
    let set = ToolSet::from_contracts([("orders", &orders)]);
    let get = set.get("orders_getOrder").unwrap();
    assert_eq!(get.output_schema.as_ref().unwrap()["type"], "object");
    assert_eq!(
        get.annotations,
        Annotations {
            read_only: true,
            destructive: false,
            idempotent: true
        }
    );
    let listed = get.to_json();
    assert_eq!(listed["annotations"]["readOnlyHint"], true);
    assert!(listed.get("title").is_some());
    for tool in &set.tools {
        let op = orders
            .operations()
            .iter()
            .find(|o| o.id == tool.operation)
            .unwrap();
        assert_eq!(
            tool.annotations.read_only,
            !op.method.is_write(),
            "{}",
            tool.name
        );
        assert_eq!(tool.annotations.destructive, op.method == Method::Delete);
    }
}

#[test]
fn an_operation_that_cannot_be_a_faithful_tool_is_left_out_with_the_reason() {
    assert!(tool_name("orders", "getOrder").is_ok());
    assert!(
        tool_name("orders", "get.order")
            .unwrap_err()
            .contains("`.`")
    );
    assert!(
        tool_name("orders", "get order")
            .unwrap_err()
            .contains("` `")
    );
    let long = "x".repeat(60);
    assert!(
        tool_name("orders", &long)
            .unwrap_err()
            .contains("at most 64")
    );
    let files = Dir(std::env::temp_dir());
    let text = r#"{"openapi": "3.1.0", "info": {"title": "t", "version": "1"},
      "paths": {
        "/a": {"get": {"operationId": "list.things", "responses": {"200": {"description": "ok"}}}},
        "/b": {"post": {"operationId": "upload", "requestBody": {"required": true,
            "content": {"application/octet-stream": {}}}, "responses": {"204": {"description": "ok"}}}},
        "/c": {"get": {"operationId": "fine", "responses": {"200": {"description": "ok"}}}}
      }}"#;
    let name = format!("portcullis-mcp-tools-{}.json", std::process::id());
    std::fs::write(files.0.join(&name), text).unwrap();
    let contract = Contract::load(&name, &files).unwrap();
    let _ = std::fs::remove_file(files.0.join(&name));
    let set = ToolSet::from_contracts([("t", &contract)]);
    assert_eq!(set.tools.len(), 1);
    let reasons: Vec<(&str, &str)> = set
        .excluded
        .iter()
        .map(|e| (e.operation.as_str(), e.reason.as_str()))
        .collect();
    assert_eq!(reasons.len(), 2, "{reasons:?}");
    assert!(reasons[0].1.contains("`.`"), "{reasons:?}");
    assert!(reasons[1].1.contains("not JSON"), "{reasons:?}");
    // Two APIs whose names collide: the second is left out, not renamed.
    let again = ToolSet::from_contracts([("t", &contract), ("t", &contract)]);
    assert_eq!(again.tools.len(), 1);
    assert!(
        again
            .excluded
            .iter()
            .any(|e| e.reason.contains("another operation's"))
    );
}

/// Operations typed alike share one schema value; any difference in what
/// the schema is made from gives each its own, equal to building it alone.
#[test]
fn operations_typed_alike_share_one_schema_and_others_do_not() {
    let text = "\
openapi: 3.1.0
info: {title: t, version: '1'}
paths:
  /a/{id}:
    get: {operationId: getA, parameters: [{name: id, in: path, required: true, schema: {type: integer}}],
          responses: {'200': {description: ok, content: {application/json: {schema: {type: object, properties: {n: {type: integer}}}}}}}}
  /b/{id}:
    get: {operationId: getB, parameters: [{name: id, in: path, required: true, schema: {type: integer}}],
          responses: {'200': {description: ok, content: {application/json: {schema: {type: object, properties: {n: {type: integer}}}}}}}}
  /c/{id}:
    get: {operationId: getC, parameters: [{name: id, in: path, required: true, schema: {type: string}}],
          responses: {'200': {description: ok, content: {application/json: {schema: {type: object, properties: {n: {type: string}}}}}}}}
  /d/{key}:
    get: {operationId: getD, parameters: [{name: key, in: path, required: true, schema: {type: integer}}],
          responses: {'200': {description: ok}}}
";
    struct One(String);
    impl Source for One {
        fn read(&self, _: &str) -> Result<String, String> {
            Ok(self.0.clone())
        }
    }
    let contract = Contract::load("t.yaml", &One(text.to_owned())).unwrap();
    let set = ToolSet::from_contracts([("t", &contract)]);
    let tool = |name: &str| set.get(name).unwrap();
    let (a, b, c, d) = (
        tool("t_getA"),
        tool("t_getB"),
        tool("t_getC"),
        tool("t_getD"),
    );
    assert!(Arc::ptr_eq(&a.input_schema, &b.input_schema));
    assert!(Arc::ptr_eq(
        a.output_schema.as_ref().unwrap(),
        b.output_schema.as_ref().unwrap()
    ));
    assert_ne!(a.input_schema, c.input_schema);
    assert_ne!(a.output_schema, c.output_schema);
    assert_ne!(a.input_schema, d.input_schema);
    assert_eq!(
        a.input_schema["properties"]["path"]["required"],
        json!(["id"])
    );
    assert_eq!(
        d.input_schema["properties"]["path"]["required"],
        json!(["key"])
    );
    assert_eq!(
        c.input_schema["properties"]["path"]["properties"]["id"]["type"],
        "string"
    );
    assert_eq!(a.output_schema.as_ref().unwrap()["type"], "object");
    assert_eq!(d.output_schema, None);
}
