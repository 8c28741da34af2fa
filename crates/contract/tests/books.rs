//! The third-party-shaped OpenAPI 3.0 contract in testkit's fixtures (books):
//! it loads, and requests and responses are checked as it says, 3.0 idioms
//! (`additionalProperties: false`, `nullable`, path patterns) included.

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a missing value should fail the test"
)]

use portcullis_contract::request::{HeaderLookup, HeaderSource, RequestInput, validate};
use portcullis_contract::response::{FieldsMode, ResponsePolicy, SecretsMode, check};
use portcullis_contract::secrets::SecretScanner;
use portcullis_contract::{Contract, Operation, RequestError, ResponseError, RouteMatch, Source};

const BOOKS: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../testkit/fixtures/books/openapi.yaml"
));

struct Fixture;

impl Source for Fixture {
    fn read(&self, path: &str) -> Result<String, String> {
        match path {
            "openapi.yaml" => Ok(BOOKS.to_owned()),
            other => Err(format!("no file `{other}` beside the fixture")),
        }
    }
}

struct NoHeaders;

impl HeaderSource for NoHeaders {
    fn lookup(&self, _name: &str) -> HeaderLookup<'_> {
        HeaderLookup::Absent
    }
}

fn books() -> Contract {
    Contract::load("openapi.yaml", &Fixture).unwrap_or_else(|e| panic!("{e:#?}"))
}

/// Routes and validates a request with a JSON body (empty for none).
fn request(c: &Contract, method: &str, path: &str, body: &str) -> Result<(), RequestError> {
    let RouteMatch::Found { operation, params } = c.route(method, path) else {
        panic!("{method} {path} is not routed");
    };
    let input = RequestInput {
        query: None,
        headers: &NoHeaders,
        content_type: (!body.is_empty()).then_some("application/json"),
        body: body.as_bytes(),
        max_depth: 32,
    };
    validate(c.operation(operation).unwrap(), &params, &input).map(|_| ())
}

/// The pointers of a refused request's violations.
fn refused_at(result: Result<(), RequestError>) -> Vec<String> {
    match result {
        Err(RequestError::Invalid(v)) => v.errors().iter().map(|e| e.pointer.clone()).collect(),
        other => panic!("not refused as invalid: {other:?}"),
    }
}

fn operation<'c>(c: &'c Contract, id: &str) -> &'c Operation {
    c.operations().iter().find(|o| o.id == id).unwrap()
}

fn respond(
    op: &Operation,
    body: &str,
    fields: FieldsMode,
) -> Result<Option<serde_json::Value>, ResponseError> {
    let scanner = SecretScanner::builtin().unwrap();
    let policy = ResponsePolicy {
        undeclared_fields: fields,
        secrets: SecretsMode::Allow,
    };
    let out = check(
        op,
        200,
        Some("application/json"),
        body.as_bytes(),
        true,
        policy,
        &scanner,
    )?;
    Ok(out.body.map(|b| serde_json::from_slice(&b).unwrap()))
}

#[test]
fn the_books_contract_loads_every_operation() {
    let c = books();
    let mut ids: Vec<&str> = c.operations().iter().map(|o| o.id.as_str()).collect();
    ids.sort_unstable();
    assert_eq!(
        ids,
        [
            "add_book",
            "delete_book",
            "get_book",
            "get_user",
            "list_books",
            "list_users",
            "login_user",
            "update_email"
        ]
    );
    assert!(operation(&c, "login_user").security.is_empty());
    assert_eq!(
        operation(&c, "add_book").security,
        [vec![("oauth".to_owned(), vec!["books:write".to_owned()])]]
    );
}

#[test]
fn a_closed_30_request_body_refuses_an_undeclared_field() {
    let c = books();
    let login = r#"{"username": "alice", "password": "pw"}"#;
    assert!(request(&c, "POST", "/users/login", login).is_ok());
    let extra = r#"{"username": "alice", "password": "pw", "extra": 1}"#;
    assert_eq!(
        refused_at(request(&c, "POST", "/users/login", extra)),
        ["/body/extra"]
    );
    let email = r#"{"email": "a@example.com", "admin": true}"#;
    assert_eq!(
        refused_at(request(&c, "PUT", "/users/alice/email", email)),
        ["/body/admin"]
    );
}

#[test]
fn a_30_nullable_field_accepts_null() {
    let c = books();
    let book = r#"{"book_title": "dune", "secret": "s", "year": null}"#;
    assert!(request(&c, "POST", "/books", book).is_ok());
    let wrong = r#"{"book_title": "dune", "secret": "s", "year": "1965"}"#;
    assert_eq!(
        refused_at(request(&c, "POST", "/books", wrong)),
        ["/body/year"]
    );
}

#[test]
fn a_path_pattern_refuses_a_bad_username() {
    let c = books();
    assert!(request(&c, "GET", "/users/alice_1", "").is_ok());
    for bad in ["Alice", "al", "alice%20b"] {
        let path = format!("/users/{bad}");
        assert_eq!(
            refused_at(request(&c, "GET", &path, "")),
            ["/path/username"],
            "{bad}"
        );
    }
    let title = r#"{"book_title": "two words", "secret": "s"}"#;
    assert_eq!(
        refused_at(request(&c, "POST", "/books", title)),
        ["/body/book_title"]
    );
}

#[test]
fn responses_are_stripped_or_refused_as_configured() {
    let c = books();
    let get_user = operation(&c, "get_user");
    let leaky = r#"{"username": "alice", "admin": false, "email": null, "password_hash": "x"}"#;
    assert_eq!(
        respond(get_user, leaky, FieldsMode::Strip).unwrap(),
        Some(serde_json::json!({"username": "alice", "admin": false, "email": null}))
    );
    let Err(ResponseError::Contract(v)) = respond(get_user, leaky, FieldsMode::Reject) else {
        panic!("an undeclared response field was not refused");
    };
    assert_eq!(v.errors()[0].pointer, "/body/password_hash");
    let login = operation(&c, "login_user");
    let refused = r#"{"status": "fail", "message": "no", "auth_token": null}"#;
    assert_eq!(respond(login, refused, FieldsMode::Reject).unwrap(), None);
    let Err(ResponseError::Contract(v)) = respond(login, r#"{"status": "ok"}"#, FieldsMode::Strip)
    else {
        panic!("an invalid response was let through");
    };
    assert!(!v.errors().is_empty());
}
