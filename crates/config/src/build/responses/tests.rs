use crate::{Embedded, HeaderPolicy, Overrides, load_from};

const LOGIN: &str = "openapi: 3.1.0
info: {title: a, version: '1'}
paths:
  /login:
    post:
      operationId: login
      responses:
        '200':
          description: ok or not
          content:
            application/json:
              schema:
                type: object
                required: [status, message]
                properties:
                  status: {enum: [success, fail]}
                  message: {type: string}
        '401':
          description: refused
";

fn load(operations: &'static str) -> Result<crate::Config, Vec<String>> {
    let config = format!(
        "apis:\n  - name: a\n    contract: a.yaml\n    mount: /a\n    upstream: 'http://127.0.0.1:1'\n{operations}"
    );
    let files = Embedded(Box::leak(Box::new([
        ("c.yaml", &*Box::leak(config.into_boxed_str())),
        ("a.yaml", LOGIN),
    ])));
    let overrides = Overrides {
        storage: Some(crate::Storage::Memory),
        ..Overrides::default()
    };
    load_from(&files, "c.yaml", &overrides)
        .map(|(c, _)| c)
        .map_err(|d| d.iter().map(ToString::to_string).collect())
}

const UNIFORM: &str = "    operations:
      login:
        uniform_failure:
          when:
            - status: 401
            - {pointer: /status, equals: fail}
          status: 200
          body: {status: fail, message: invalid username or password}
";

#[test]
fn a_uniform_failure_matches_each_failure_answer_and_not_success() {
    let config = load(UNIFORM).unwrap();
    let api = &config.apis[0];
    assert_eq!(api.response_headers, HeaderPolicy::Strict);
    let uniform = &api.uniform_failures["login"];
    assert!(uniform.matches(401, b""));
    assert!(uniform.matches(
        200,
        br#"{"status":"fail","message":"Password is not correct for the given username."}"#
    ));
    assert!(uniform.matches(
        200,
        br#"{"status":"fail","message":"Username does not exist"}"#
    ));
    assert!(!uniform.matches(200, br#"{"status":"success","message":"ok"}"#));
    assert!(!uniform.matches(200, b"not json"));
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&uniform.body).unwrap()["message"],
        "invalid username or password"
    );
}

#[test]
fn a_uniform_failure_the_contract_does_not_declare_is_a_load_error() {
    let cases = [
        (
            "login:",
            "login_usr:",
            "`login_usr` is not an operation of API `a`",
        ),
        ("status: 200\n", "status: 404\n", "declares no response 404"),
        (
            "status: 200\n",
            "status: 401\n",
            "no JSON body for its response 401",
        ),
        ("message: invalid", "extra: 1, message: invalid", ""),
        (
            "message: invalid username or password",
            "message: 5",
            "does not match the contract's schema",
        ),
        (
            "{pointer: /status, equals: fail}",
            "{pointer: status, equals: fail}",
            "matched by `status`",
        ),
        (
            "{pointer: /status, equals: fail}",
            "{pointer: /status}",
            "matched by `status`",
        ),
    ];
    for (from, to, expected) in cases {
        let text: &'static str = Box::leak(UNIFORM.replace(from, to).into_boxed_str());
        let result = load(text);
        if expected.is_empty() {
            // An undeclared field in an open schema is still declared enough.
            assert!(result.is_ok(), "{to}: {result:?}");
            continue;
        }
        let errors = result.expect_err(to);
        assert!(
            errors
                .iter()
                .any(|e| e.contains(expected) && e.starts_with("c.yaml:")),
            "{to}: {errors:?}"
        );
    }
}
