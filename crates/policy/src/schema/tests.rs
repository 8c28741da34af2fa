use crate::PolicyError;
use crate::generate_schema;
use crate::testing::{ORDERS, contract, schema};

#[test]
fn orders_schema_text() {
    insta::assert_snapshot!(schema().text());
}

#[test]
fn every_operation_is_an_action_in_its_group() {
    let schema = schema();
    let ids: Vec<&str> = schema.action_ids().collect();
    assert_eq!(
        ids,
        [
            "orders:getCustomer",
            "orders:getOrder",
            "orders:cancelOrder"
        ]
    );
    let entities = schema.cedar().unwrap().action_entities().unwrap();
    let group = |action: &str| {
        let uid = format!("Action::\"{action}\"").parse().unwrap();
        let parents: Vec<String> = entities
            .ancestors(&uid)
            .unwrap()
            .map(|p| p.id().unescaped().to_owned())
            .collect();
        parents
    };
    assert_eq!(group("orders:getOrder"), ["orders:read"]);
    assert_eq!(group("orders:cancelOrder"), ["orders:write"]);
}

/// Names that would break the schema text if written as they are, and one
/// parameter of each kind the mapping types.
const HOSTILE: &str = "\
openapi: 3.1.0
info: {title: t, version: '1'}
paths:
  /a/{x-y}:
    get:
      operationId: 'we\"ird\\\\op}; action evil'
      parameters:
        - {name: x-y, in: path, required: true, schema: {type: integer}}
        - {name: context, in: query, schema: {type: string}}
        - {name: 'é\"', in: query, schema: {type: [integer, string]}}
        - {name: flag, in: query, required: true, schema: {type: boolean}}
        - {name: ids, in: query, schema: {type: array, items: {type: integer}}}
      responses: {'200': {description: ok}}
";

#[test]
fn names_from_contracts_cannot_change_the_schema_structure() {
    let contract = contract(HOSTILE);
    let schema = generate_schema(&[("a\"pi", &contract)]).unwrap();
    let actions: Vec<String> = schema
        .cedar()
        .unwrap()
        .actions()
        .map(|a| a.id().unescaped().to_owned())
        .collect();
    assert_eq!(actions.len(), 3, "{actions:?}");
    assert!(
        actions.contains(&"a\"pi:we\"ird\\\\op}; action evil".to_owned()),
        "{actions:?}"
    );
    assert!(schema.text().contains("\"x-y\": Long"));
    assert!(schema.text().contains("\"context\"?: String"));
}

#[test]
fn two_apis_with_one_name_are_refused() {
    let c = contract(ORDERS);
    assert_eq!(
        generate_schema(&[("orders", &c), ("orders", &c)]).unwrap_err(),
        PolicyError::DuplicateApi("orders".to_owned())
    );
}

#[test]
fn a_30_contract_with_closed_bodies_types_its_parameters() {
    let books = contract(include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../testkit/fixtures/books/openapi.yaml"
    )));
    let schema = generate_schema(&[("books", &books)]).unwrap();
    assert!(schema.action_ids().any(|a| a == "books:update_email"));
    assert!(
        schema.text().contains("username: String"),
        "{}",
        schema.text()
    );
    assert!(
        schema.text().contains("book_title: String"),
        "{}",
        schema.text()
    );
}

/// Cedar is given the JSON form and users read the text: both must be the
/// same schema, written back by Cedar's own printer.
#[test]
fn the_json_schema_cedar_is_given_is_the_text_users_read() {
    use cedar_policy::SchemaFragment;
    let weird = contract(HOSTILE);
    let books = contract(include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../testkit/fixtures/books/openapi.yaml"
    )));
    let orders = contract(ORDERS);
    let apis = [("orders", &orders), ("a\"pi", &weird), ("books", &books)];
    let person = crate::testing::person_attrs();
    let schema = crate::generate_schema_with(&apis, &person).unwrap();
    let from_text = SchemaFragment::from_cedarschema_str(schema.text())
        .unwrap()
        .0
        .to_cedarschema()
        .unwrap();
    let actions: Vec<_> = schema.actions().iter().collect();
    let apis: Vec<String> = schema.apis().map(str::to_owned).collect();
    let from_json = SchemaFragment::from_json_value(super::json::render(&apis, &person, actions))
        .unwrap()
        .to_cedarschema()
        .unwrap();
    // The JSON form's types are Cedar's primitives, which its printer
    // qualifies; the text names them bare (no type of ours shadows them).
    assert_eq!(from_json.replace("__cedar::", ""), from_text);
    assert!(from_text.contains("flag: Bool,"), "{from_text}");
    assert!(schema.actions().len() > 10);
}
