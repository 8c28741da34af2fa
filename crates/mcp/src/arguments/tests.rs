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

fn orders() -> Contract {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/orders");
    Contract::load("openapi.yaml", &Dir(root)).unwrap()
}

fn call(op: &str, arguments: Value) -> Result<HttpCall, Vec<(String, String)>> {
    let contract = orders();
    let op = contract.operations().iter().find(|o| o.id == op).unwrap();
    let Value::Object(arguments) = arguments else {
        panic!("arguments are an object")
    };
    to_http(op, &arguments)
        .map_err(|errors| errors.into_iter().map(|e| (e.pointer, e.message)).collect())
}

#[test]
fn path_and_query_are_written_as_the_contract_places_them() {
    let got = call(
        "getOrder",
        json!({"path": {"orderId": "3f1c2d4e-0000-4000-8000-000000000001"}}),
    )
    .unwrap();
    assert_eq!(got.path, "/v1/orders/3f1c2d4e-0000-4000-8000-000000000001");
    assert_eq!((got.query, got.body), (None, None));
    let listed = call(
        "listOrders",
        json!({"query": {"status": "paid", "limit": 5}}),
    )
    .unwrap();
    assert_eq!(listed.path, "/v1/orders");
    assert_eq!(listed.query.as_deref(), Some("status=paid&limit=5"));
}

#[test]
fn reserved_characters_are_escaped_and_unreserved_ones_are_not() {
    let got = call("getOrder", json!({"path": {"orderId": "a b/c?d-e.f_g~h"}})).unwrap();
    assert_eq!(got.path, "/v1/orders/a%20b%2Fc%3Fd-e.f_g~h");
    let listed = call("listOrders", json!({"query": {"customerId": "x&y=z"}})).unwrap();
    assert_eq!(listed.query.as_deref(), Some("customerId=x%26y%3Dz"));
}

#[test]
fn the_body_is_sent_as_json_with_the_contracts_media_type() {
    let body = json!({"customerId": "c", "items": []});
    let got = call("createOrder", json!({"body": body})).unwrap();
    let (media, bytes) = got.body.unwrap();
    assert_eq!(media, "application/json");
    assert_eq!(serde_json::from_slice::<Value>(&bytes).unwrap(), body);
}

#[test]
fn what_has_no_faithful_http_form_is_refused_at_its_pointer() {
    assert_eq!(
        call("getOrder", json!({})).unwrap_err(),
        [("/path/orderId".to_owned(), "is required".to_owned())]
    );
    assert_eq!(
        call(
            "listOrders",
            json!({"query": {"limit": "5", "nope": 1}, "extra": {}})
        )
        .unwrap_err(),
        [
            (
                "/extra".to_owned(),
                "is not an argument of this tool".to_owned()
            ),
            (
                "/query/nope".to_owned(),
                "is not a declared query parameter".to_owned()
            ),
            ("/query/limit".to_owned(), "must be an integer".to_owned()),
        ]
    );
    assert_eq!(
        call("listOrders", json!({"query": 3})).unwrap_err(),
        [("/query".to_owned(), "must be an object".to_owned())]
    );
    assert_eq!(
        call("getOrder", json!({"path": {"orderId": "x"}, "body": {}})).unwrap_err(),
        [(
            "/body".to_owned(),
            "is not an argument of this tool".to_owned()
        )]
    );
}
