use crate::ResponseError;
use crate::response::{FieldsMode, ResponsePolicy, SecretsMode, check};
use crate::secrets::SecretScanner;
use crate::testing::contract;

const DOC: &str = "openapi: 3.1.0
info: {title: t, version: '1'}
paths:
  /c:
    get:
      responses:
        '200':
          description: ok
          content:
            application/json:
              schema:
                type: object
                required: [id]
                properties:
                  id: {type: string}
                  notes: {type: string}
        '404': {description: missing}
";

fn policy(f: FieldsMode, s: SecretsMode) -> ResponsePolicy {
    ResponsePolicy {
        undeclared_fields: f,
        secrets: s,
    }
}

fn run(
    status: u16,
    ct: Option<&str>,
    body: &str,
    p: ResponsePolicy,
) -> Result<crate::response::ResponseOutcome, ResponseError> {
    let c = contract(DOC);
    let scanner = SecretScanner::builtin().unwrap();
    check(
        &c.operations()[0],
        status,
        ct,
        body.as_bytes(),
        true,
        p,
        &scanner,
    )
}

const JSON: Option<&str> = Some("application/json");

#[test]
fn undeclared_status_and_body_are_violations() {
    let p = policy(FieldsMode::Strip, SecretsMode::Redact);
    assert!(matches!(
        run(409, JSON, "{}", p),
        Err(ResponseError::Contract(_))
    ));
    assert!(matches!(
        run(404, JSON, "{\"error\":1}", p),
        Err(ResponseError::Contract(_))
    ));
    assert!(run(404, None, "", p).is_ok());
    assert!(matches!(
        run(200, Some("text/html"), "<p>", p),
        Err(ResponseError::Contract(_))
    ));
    assert!(matches!(
        run(200, JSON, "{\"notes\":\"x\"}", p),
        Err(ResponseError::Contract(_))
    ));
}

#[test]
fn strip_reject_allow() {
    let body = r#"{"id":"1","margin":5}"#;
    let out = run(
        200,
        JSON,
        body,
        policy(FieldsMode::Strip, SecretsMode::Allow),
    )
    .unwrap();
    assert_eq!(out.body.as_deref(), Some(br#"{"id":"1"}"#.as_slice()));
    assert_eq!(out.fields_stripped, 1);
    assert!(matches!(
        run(
            200,
            JSON,
            body,
            policy(FieldsMode::Reject, SecretsMode::Allow)
        ),
        Err(ResponseError::Contract(_))
    ));
    let out = run(
        200,
        JSON,
        body,
        policy(FieldsMode::Allow, SecretsMode::Allow),
    )
    .unwrap();
    assert!(out.body.is_none());
}

#[test]
fn secrets_redacted_or_blocked() {
    let body = r#"{"id":"1","notes":"temp key AKIAIOSFODNN7EXAMPLE"}"#;
    let out = run(
        200,
        JSON,
        body,
        policy(FieldsMode::Strip, SecretsMode::Redact),
    )
    .unwrap();
    let text = String::from_utf8(out.body.unwrap()).unwrap();
    assert!(!text.contains("AKIAIOSFODNN7EXAMPLE"), "{text}");
    assert_eq!(out.secrets_redacted, 1);
    assert!(matches!(
        run(
            200,
            JSON,
            body,
            policy(FieldsMode::Strip, SecretsMode::Block)
        ),
        Err(ResponseError::Secret(_))
    ));
    let out = run(
        200,
        JSON,
        body,
        policy(FieldsMode::Strip, SecretsMode::Allow),
    )
    .unwrap();
    assert!(out.body.is_none());
}

/// An OpenAPI 3.0 response closed with `additionalProperties: false`.
const CLOSED_30: &str = "openapi: 3.0.3
info: {title: t, version: '1'}
paths:
  /c:
    get:
      responses:
        '200':
          description: ok
          content:
            application/json:
              schema:
                type: object
                additionalProperties: false
                properties:
                  id: {type: string}
                  owner:
                    type: object
                    additionalProperties: false
                    properties: {name: {type: string}}
";

#[test]
fn closed_30_response_strips_or_refuses_undeclared_fields() {
    let c = contract(CLOSED_30);
    let scanner = SecretScanner::builtin().unwrap();
    let body = br#"{"id":"1","margin":5,"owner":{"name":"n","email":"e"}}"#;
    let check_with = |fields| {
        check(
            &c.operations()[0],
            200,
            JSON,
            body,
            true,
            policy(fields, SecretsMode::Allow),
            &scanner,
        )
    };
    let out = check_with(FieldsMode::Strip).unwrap();
    assert_eq!(
        out.body.as_deref(),
        Some(br#"{"id":"1","owner":{"name":"n"}}"#.as_slice())
    );
    assert_eq!(out.fields_stripped, 2);
    let Err(ResponseError::Contract(v)) = check_with(FieldsMode::Reject) else {
        panic!("an undeclared field was not refused");
    };
    assert_eq!(v.errors()[0].pointer, "/body/margin");
}

#[test]
fn secrets_behind_escapes_and_in_long_integers_are_found() {
    let p = policy(FieldsMode::Allow, SecretsMode::Redact);
    // The raw bytes hold no key: only the decoded string does.
    let escaped = r#"{"id":"1","notes":"temp key AKIA\u0049OSFODNN7EXAMPLE"}"#;
    let out = run(200, JSON, escaped, p).unwrap();
    let text = String::from_utf8(out.body.unwrap()).unwrap();
    assert!(!text.contains("IOSFODNN7EXAMPLE"), "{text}");
    assert_eq!(out.secrets_redacted, 1);
    let card = r#"{"id":"1","ref":4111111111111111}"#;
    let out = run(200, JSON, card, p).unwrap();
    let text = String::from_utf8(out.body.unwrap()).unwrap();
    assert!(!text.contains("4111111111111111"), "{text}");
    assert_eq!(out.secrets_redacted, 1);
    let clean = r#"{"id":"1","ref":4111111111111112,"notes":"order 12"}"#;
    let out = run(200, JSON, clean, p).unwrap();
    assert_eq!((out.body, out.secrets_redacted), (None, 0));
}
