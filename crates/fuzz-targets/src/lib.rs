//! The bodies of the fuzz targets: each takes arbitrary bytes, must never
//! panic, and checks a property a caller relies on. `fuzz/` (cargo-fuzz,
//! which needs a nightly compiler) calls them; `tests/corpus.rs` drives them
//! over the saved corpus on stable, in CI. A crash found by fuzzing becomes a
//! corpus file, so it stays a regression test.

#![expect(
    clippy::panic,
    reason = "a fuzz target reports a broken property by panicking, which is what the fuzzer catches"
)]

use std::sync::OnceLock;

use portcullis_contract::request::{self, HeaderLookup, HeaderSource, RequestInput};
use portcullis_contract::{Contract, Source};
use portcullis_token::{KeySet, Presented, SigningKey, Verifier, presented};

/// The canonical path check: anything it accepts is a path a normaliser
/// would leave unchanged (the bytes matched are the bytes forwarded).
pub fn canonical_path(data: &[u8]) {
    if portcullis_contract::canonical::check_path(data).is_err() {
        return;
    }
    let Ok(path) = std::str::from_utf8(data) else {
        panic!("accepted a path that is not UTF-8: {data:?}");
    };
    assert!(path.starts_with('/'), "accepted {path:?}");
    assert!(!path.contains("//"), "accepted an empty segment: {path:?}");
    for segment in path.split('/').skip(1) {
        assert!(
            segment != "." && segment != "..",
            "accepted a dot segment: {path:?}"
        );
    }
    let lower = path.to_ascii_lowercase();
    for encoded in ["%2f", "%5c", "%2e", "%25", "%3b", "%3f", "%23"] {
        assert!(!lower.contains(encoded), "accepted {encoded}: {path:?}");
    }
    assert!(!path.contains(['\\', ';', '?', '#']), "accepted {path:?}");
    assert!(
        !path.chars().any(char::is_control),
        "accepted a control character: {path:?}"
    );
}

/// The credential reader and the access-token parser: an `Authorization`
/// value is read without panicking, and no token made of arbitrary bytes
/// verifies against a key that never signed it.
pub fn bearer_token(data: &[u8]) {
    static KEYS: OnceLock<Option<(KeySet, Verifier)>> = OnceLock::new();
    let Ok(value) = std::str::from_utf8(data) else {
        return;
    };
    let outcome = presented(&[Some(value)], &[]);
    let Ok(Presented::Bearer(token)) = outcome else {
        return;
    };
    let keys = KEYS.get_or_init(|| {
        let key = SigningKey::generate("fuzz", 0).ok()?;
        let keys = KeySet::new(vec![key]).ok()?;
        Some((keys, Verifier::new("portcullis", vec!["orders".into()], 30)))
    });
    if let Some((keys, verifier)) = keys {
        assert!(
            verifier.verify(token, keys, 1_800_000_000).is_err(),
            "a token nobody signed verified: {token:?}"
        );
    }
}

struct One(String);

impl Source for One {
    fn read(&self, path: &str) -> Result<String, String> {
        if path == "fuzz.yaml" {
            Ok(self.0.clone())
        } else {
            Err("no such file".into())
        }
    }
}

/// The contract loader: any text loads or is refused with located errors.
pub fn contract_loader(data: &[u8]) {
    let text = String::from_utf8_lossy(data).into_owned();
    if let Err(errors) = Contract::load("fuzz.yaml", &One(text)) {
        assert!(!errors.is_empty(), "refused without saying why");
        for e in &errors {
            assert!(!e.message().is_empty(), "an error without a message");
        }
    }
}

struct NoHeaders;

impl HeaderSource for NoHeaders {
    fn lookup(&self, _name: &str) -> HeaderLookup<'_> {
        HeaderLookup::Absent
    }
}

const BODY_CONTRACT: &str = r#"
openapi: 3.1.0
info: {title: fuzz, version: '1'}
paths:
  /orders:
    post:
      operationId: createOrder
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: object
              additionalProperties: false
              required: [customerId, items]
              properties:
                customerId: {type: string, format: uuid}
                note: {type: string, maxLength: 50}
                items:
                  type: array
                  maxItems: 5
                  items:
                    type: object
                    required: [sku, quantity]
                    properties:
                      sku: {type: string, pattern: '^WID-[0-9]{4}$'}
                      quantity: {type: integer, minimum: 1, maximum: 100}
      responses: {'201': {description: ok}}
"#;

/// The JSON body validator: any body is accepted or refused (with located
/// errors), never a panic; what is accepted is an object the schema allows.
pub fn json_body(data: &[u8]) {
    static CONTRACT: OnceLock<Option<Contract>> = OnceLock::new();
    let Some(contract) =
        CONTRACT.get_or_init(|| Contract::load("fuzz.yaml", &One(BODY_CONTRACT.to_owned())).ok())
    else {
        panic!("the fuzz contract does not load");
    };
    let Some(op) = contract.operations().first() else {
        panic!("the fuzz contract has no operation");
    };
    let input = RequestInput {
        query: None,
        headers: &NoHeaders,
        content_type: Some("application/json"),
        body: data,
        max_depth: 32,
    };
    if let Ok(validated) = request::validate(op, &[], &input) {
        let body = validated.body.unwrap_or(serde_json::Value::Null);
        assert!(
            body.get("customerId").is_some() && body.get("items").is_some(),
            "accepted a body without its required fields: {body}"
        );
    }
}
