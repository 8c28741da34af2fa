//! The specification's name for the object a schema location describes
//! ("Components Object"), read off the definition names of the official
//! schemas: `#/definitions/PathItem` in 3.0, `#/$defs/path-item` in 3.1.

/// Definition names (lower case, without `-` or `_`) and the object each
/// describes. Helper definitions (`SchemaXORContent`, `styles-for-form`) are
/// absent, so the name of the object around them is used instead.
const OBJECTS: &[(&str, &str)] = &[
    ("info", "Info Object"),
    ("contact", "Contact Object"),
    ("license", "License Object"),
    ("server", "Server Object"),
    ("servervariable", "Server Variable Object"),
    ("components", "Components Object"),
    ("paths", "Paths Object"),
    ("pathitem", "Path Item Object"),
    ("operation", "Operation Object"),
    ("externaldocumentation", "External Documentation Object"),
    ("parameter", "Parameter Object"),
    ("requestbody", "Request Body Object"),
    ("mediatype", "Media Type Object"),
    ("encoding", "Encoding Object"),
    ("responses", "Responses Object"),
    ("response", "Response Object"),
    ("callback", "Callback Object"),
    ("callbacks", "Callback Object"),
    ("example", "Example Object"),
    ("link", "Link Object"),
    ("header", "Header Object"),
    ("tag", "Tag Object"),
    ("reference", "Reference Object"),
    ("schema", "Schema Object"),
    ("discriminator", "Discriminator Object"),
    ("xml", "XML Object"),
    ("securityscheme", "Security Scheme Object"),
    ("apikeysecurityscheme", "Security Scheme Object"),
    ("httpsecurityscheme", "Security Scheme Object"),
    ("oauth2securityscheme", "Security Scheme Object"),
    ("openidconnectsecurityscheme", "Security Scheme Object"),
    ("oauthflows", "OAuth Flows Object"),
    ("implicitoauthflow", "OAuth Flow Object"),
    ("passwordoauthflow", "OAuth Flow Object"),
    ("clientcredentialsflow", "OAuth Flow Object"),
    ("authorizationcodeoauthflow", "OAuth Flow Object"),
    ("implicit", "OAuth Flow Object"),
    ("password", "OAuth Flow Object"),
    ("clientcredentials", "OAuth Flow Object"),
    ("authorizationcode", "OAuth Flow Object"),
    ("securityrequirement", "Security Requirement Object"),
];

/// The object described at `schema_path` (a keyword location such as
/// `/definitions/Components/additionalProperties`); the root is the
/// OpenAPI Object.
pub(super) fn object_at(schema_path: &str) -> &'static str {
    let segments: Vec<&str> = schema_path.split('/').collect();
    let mut defined = false;
    for pair in segments.windows(2).rev() {
        let [keyword, name] = pair else { continue };
        if *keyword != "definitions" && *keyword != "$defs" {
            continue;
        }
        defined = true;
        let key: String = name
            .chars()
            .filter(|c| *c != '-' && *c != '_')
            .map(|c| c.to_ascii_lowercase())
            .collect();
        if let Some((_, object)) = OBJECTS.iter().find(|(k, _)| *k == key) {
            return object;
        }
    }
    if defined { "object" } else { "OpenAPI Object" }
}

/// How to say that `key` does not belong in `object`.
pub(super) fn unknown_key(key: &str, object: &str) -> String {
    match object {
        "Paths Object" => format!("`{key}` is not a path: a path starts with `/`"),
        "Responses Object" => format!(
            "`{key}` is not a response key: a status code (`200`), a range (`2XX`) or `default`"
        ),
        _ => format!("`{key}` is not a field of the {object}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objects_are_named_from_either_version_s_definitions() {
        assert_eq!(
            object_at("/definitions/Components/additionalProperties"),
            "Components Object"
        );
        assert_eq!(
            object_at("/$defs/path-item/unevaluatedProperties"),
            "Path Item Object"
        );
        assert_eq!(
            object_at("/$defs/parameter/dependentSchemas/schema/$defs/styles-for-path/required"),
            "Parameter Object"
        );
        assert_eq!(
            object_at("/$defs/oauth-flows/$defs/implicit/required"),
            "OAuth Flow Object"
        );
        assert_eq!(object_at("/additionalProperties"), "OpenAPI Object");
        assert_eq!(object_at("/definitions/ExampleXORExamples/not"), "object");
    }
}
