use super::{Dialect, MAX_REPORTED, validator};
use crate::LoadError;
use crate::testing::{Files, load};

/// `(line, pointer)` of each error, in order.
fn located(errors: &[LoadError]) -> Vec<(Option<u64>, &str)> {
    errors.iter().map(|e| (e.line(), e.pointer())).collect()
}

fn refused(text: &str) -> Vec<LoadError> {
    match load(text) {
        Ok(_) => panic!("loaded:\n{text}"),
        Err(errors) => errors,
    }
}

#[test]
fn the_official_schemas_compile() {
    assert!(validator(Dialect::OpenApi30).is_ok());
    assert!(validator(Dialect::OpenApi31).is_ok());
}

#[test]
fn an_unknown_components_field_is_a_load_error_naming_the_object() {
    for (version, typo) in [("3.0.3", "requestBodiez"), ("3.1.0", "securitySchemas")] {
        let errors = refused(&format!(
            "openapi: {version}\ninfo: {{title: t, version: '1'}}\npaths: {{}}\ncomponents:\n  schemas: {{}}\n  {typo}: {{}}\n"
        ));
        let pointer = format!("/components/{typo}");
        assert_eq!(
            located(&errors),
            [(Some(6), pointer.as_str())],
            "{errors:?}"
        );
        assert!(
            errors[0].message().contains(&format!("`{typo}`")),
            "{errors:?}"
        );
        assert!(
            errors[0].message().contains("Components Object"),
            "{errors:?}"
        );
    }
}

#[test]
fn extensions_stay_allowed_wherever_the_specification_allows_them() {
    for version in ["3.0.3", "3.1.0"] {
        let doc = format!(
            "openapi: {version}\nx-owner: team\ninfo: {{title: t, version: '1', x-id: 1}}\npaths:\n  x-internal: true\n  /x:\n    x-note: n\n    post:\n      x-rate: 5\n      requestBody:\n        content:\n          multipart/form-data:\n            encoding: {{file: {{contentType: image/png, x-max: 1}}}}\n      responses: {{'200': {{description: ok, x-cache: 1}}, x-default: 1}}\ncomponents: {{x-shared: {{}}}}\n"
        );
        if let Err(errors) = load(&doc) {
            panic!("{version}: {errors:#?}");
        }
    }
}

#[test]
fn an_alternative_s_problems_are_reported_at_their_deepest_pointer() {
    let errors = refused(
        "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths:\n  /x:\n    get:\n      parameters:\n        - {name: a, in: querry, schema: {type: string}}\n      responses:\n        '200': {descripton: ok}\n",
    );
    assert_eq!(
        located(&errors),
        [
            (Some(7), "/paths/~1x/get/parameters/0/in"),
            (Some(9), "/paths/~1x/get/responses/200"),
            (Some(9), "/paths/~1x/get/responses/200/descripton"),
        ],
        "{errors:#?}"
    );
    for e in &errors {
        assert!(!e.message().contains("oneOf"), "{e}");
    }
}

#[test]
fn a_discriminating_value_is_refused_with_what_is_accepted() {
    for version in ["3.0.3", "3.1.0"] {
        let errors = refused(&format!(
            "openapi: {version}\ninfo: {{title: t, version: '1'}}\npaths: {{}}\ncomponents:\n  securitySchemes:\n    a: {{type: http, schem: bearer}}\n    b: {{type: htp}}\n"
        ));
        assert_eq!(
            located(&errors),
            [
                (Some(6), "/components/securitySchemes/a"),
                (Some(6), "/components/securitySchemes/a/schem"),
                (Some(7), "/components/securitySchemes/b/type"),
            ],
            "{version}: {errors:#?}"
        );
        assert!(errors[2].message().contains("`oauth2`"), "{errors:?}");
    }
}

#[test]
fn missing_required_fields_are_located_at_their_object() {
    let errors = refused("openapi: 3.1.0\ninfo:\n  title: t\npaths: {}\n");
    assert_eq!(located(&errors), [(Some(2), "/info")]);
    assert!(errors[0].message().contains("`version`"), "{errors:?}");
}

#[test]
fn reports_are_capped_and_the_rest_counted() {
    let mut doc = "openapi: 3.1.0\ninfo: {title: t, version: '1'}\npaths: {}\n".to_owned();
    for i in 0..MAX_REPORTED + 5 {
        doc.push_str(&format!("field{i}: 1\n"));
    }
    let errors = refused(&doc);
    assert_eq!(errors.len(), MAX_REPORTED + 1);
    assert!(
        errors.iter().any(|e| e.message().starts_with("5 more")),
        "{errors:#?}"
    );
}

#[test]
fn format_annotations_do_not_refuse_a_valid_document() {
    // A relative `tokenUrl` (`format: uri` in the 3.1 schema), a templated
    // server URL, an `x-` pattern only ECMA-262 and this engine both read.
    let doc = "openapi: 3.1.0\ninfo: {title: t, version: '1', contact: {email: ops}}\nservers: [{url: '{scheme}://api.example.com', variables: {scheme: {default: https}}}]\npaths:\n  /x:\n    get:\n      parameters: [{name: q, in: query, schema: {type: string, pattern: '^[a-z]+$'}}]\n      responses: {'200': {description: ok}}\ncomponents:\n  securitySchemes:\n    oauth: {type: oauth2, flows: {clientCredentials: {tokenUrl: /oauth/token, scopes: {}}}}\n";
    if let Err(errors) = load(doc) {
        panic!("{errors:#?}");
    }
}

#[test]
fn json_documents_are_checked_and_located_too() {
    let text = "{\n  \"openapi\": \"3.0.3\",\n  \"info\": {\"title\": \"t\", \"version\": \"1\"},\n  \"paths\": {},\n  \"components\": {\"requestBodiez\": {}}\n}\n".to_owned();
    let errors = crate::Contract::load("api.json", &Files(vec![("api.json", text)])).unwrap_err();
    assert_eq!(located(&errors), [(Some(5), "/components/requestBodiez")]);
}

#[test]
fn the_alternative_a_discriminating_value_selects_is_the_one_reported() {
    let errors = refused(
        "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths:\n  /x/{id}:\n    get:\n      parameters: [{name: id, in: path, required: false, schema: {type: string}}]\n      responses: {'200': {description: ok}}\ncomponents:\n  securitySchemes:\n    k: {type: apiKey, name: k, in: body}\n",
    );
    assert_eq!(
        located(&errors),
        [
            (Some(6), "/paths/~1x~1{id}/get/parameters/0/required"),
            (Some(10), "/components/securitySchemes/k/in"),
        ],
        "{errors:#?}"
    );
}

#[test]
fn a_key_the_schema_refuses_is_located_at_the_key() {
    let errors = refused(
        "openapi: 3.1.0\ninfo: {title: t, version: '1'}\npaths: {}\ncomponents:\n  schemas:\n    Fine: {type: string}\n    'My Schema': {type: string}\n",
    );
    assert_eq!(
        located(&errors),
        [(Some(7), "/components/schemas/My Schema")],
        "{errors:#?}"
    );
}
