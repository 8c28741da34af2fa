//! What each JSON Schema keyword is to the bundler, and the OpenAPI 3.0
//! rewrites into 2020-12.

use serde_json::{Map, Value, json};

use super::Dialect;
use crate::document::Loc;
use crate::error::LoadError;

/// How the bundler treats a keyword.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum KeywordKind {
    /// Its value is a schema.
    Schema,
    /// Its value is an object of schemas.
    SchemaMap,
    /// Its value is an array of schemas.
    SchemaList,
    /// Its value is kept as is (assertions and annotations the engine reads).
    Value,
    /// Documentation only; dropped from the compiled form.
    Annotation,
    /// Known but refused, with the reason.
    Unsupported(&'static str),
    /// Not a keyword we know: refused, since a typo must not loosen a check.
    Unknown,
}

pub(super) fn keyword_kind(key: &str, dialect: Dialect) -> KeywordKind {
    use KeywordKind::*;
    if key.starts_with("x-") {
        return Annotation;
    }
    match key {
        "not"
        | "if"
        | "then"
        | "else"
        | "additionalProperties"
        | "items"
        | "contains"
        | "propertyNames"
        | "unevaluatedProperties"
        | "unevaluatedItems"
        | "contentSchema" => Schema,
        "properties" | "patternProperties" | "dependentSchemas" | "$defs" => SchemaMap,
        "allOf" | "anyOf" | "oneOf" | "prefixItems" => SchemaList,
        "type" | "enum" | "const" | "format" | "required" | "minimum" | "maximum"
        | "exclusiveMinimum" | "exclusiveMaximum" | "multipleOf" | "minLength" | "maxLength"
        | "pattern" | "minItems" | "maxItems" | "uniqueItems" | "minProperties"
        | "maxProperties" | "minContains" | "maxContains" | "dependentRequired"
        | "contentMediaType" | "contentEncoding" => Value,
        "nullable" if dialect == Dialect::OpenApi30 => Value,
        "nullable" => Unsupported("`nullable` is OpenAPI 3.0; in 3.1 write a type array"),
        "title" | "description" | "default" | "example" | "examples" | "deprecated"
        | "readOnly" | "writeOnly" | "discriminator" | "xml" | "externalDocs" | "$comment"
        | "$schema" => Annotation,
        "$id" | "$anchor" | "$dynamicRef" | "$dynamicAnchor" | "$recursiveRef"
        | "$recursiveAnchor" | "$vocabulary" => Unsupported(
            "identifiers and dynamic references are not supported; use `$ref` with a JSON pointer",
        ),
        "definitions" => Unsupported("use `$defs` or `components/schemas`"),
        "dependencies" | "additionalItems" => {
            Unsupported("draft-07 keyword; use its 2020-12 replacement")
        }
        _ => Unknown,
    }
}

/// Rewrites OpenAPI 3.0 schema idioms into their 2020-12 meaning.
pub(super) fn normalise_30(
    loc: &Loc,
    schema: &mut Map<String, Value>,
    errors: &mut Vec<LoadError>,
) {
    if let Some(nullable) = schema.remove("nullable") {
        match nullable {
            Value::Bool(true) => {
                if let Some(t) = schema.get_mut("type") {
                    if let Value::String(name) = t {
                        *t = json!([name.clone(), "null"]);
                    }
                    if let Some(Value::Array(values)) = schema.get_mut("enum")
                        && !values.contains(&Value::Null)
                    {
                        values.push(Value::Null);
                    }
                }
            }
            Value::Bool(false) => {}
            _ => errors.push(loc.child("nullable").error("`nullable` must be a boolean")),
        }
    }
    for (exclusive, bound) in [
        ("exclusiveMinimum", "minimum"),
        ("exclusiveMaximum", "maximum"),
    ] {
        match schema.get(exclusive) {
            Some(Value::Bool(true)) => match schema.remove(bound) {
                Some(limit) => {
                    schema.insert(exclusive.to_owned(), limit);
                }
                None => errors.push(
                    loc.child(exclusive)
                        .error(format!("`{exclusive}: true` needs `{bound}`")),
                ),
            },
            Some(Value::Bool(false)) => {
                schema.remove(exclusive);
            }
            _ => {}
        }
    }
}

/// `format: int32`/`int64` on an integer bound the value's range, which the
/// JSON Schema engine would otherwise treat as a string-only annotation.
pub(super) fn bound_integer_formats(schema: &mut Map<String, Value>) {
    let (min, max) = match schema.get("format").and_then(Value::as_str) {
        Some("int32") => (json!(i32::MIN), json!(i32::MAX)),
        Some("int64") => (json!(i64::MIN), json!(i64::MAX)),
        _ => return,
    };
    let bound = json!({ "minimum": min, "maximum": max });
    match schema.get_mut("allOf") {
        Some(Value::Array(all)) => all.push(bound),
        _ => {
            schema.insert("allOf".to_owned(), Value::Array(vec![bound]));
        }
    }
}

/// `format: byte` is base64 (RFC 4648, padded).
pub(super) fn is_base64(s: &str) -> bool {
    let body = s.trim_end_matches('=');
    s.len().is_multiple_of(4)
        && s.len() - body.len() <= 2
        && body
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'+' || c == b'/')
}
