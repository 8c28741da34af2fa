//! Request bodies and responses: media types and their schemas.

use serde_json::Value;

use super::check_fields;
use crate::document::Loc;
use crate::error::LoadError;
use crate::model::{BodySpec, MediaSpec, ResponseSpec, StatusKey, is_json_media};
use crate::schema::Compiler;

const REQUEST_BODY_FIELDS: &[&str] = &["description", "content", "required"];
const RESPONSE_FIELDS: &[&str] = &["description", "content", "headers", "links"];
const MEDIA_FIELDS: &[&str] = &["schema", "example", "examples", "encoding"];

pub(super) fn request_body(
    compiler: &mut Compiler<'_>,
    at: &Loc,
    value: &Value,
    errors: &mut Vec<LoadError>,
) -> Option<BodySpec> {
    let (at, value) = match compiler.deref(at, value) {
        Ok(found) => found,
        Err(e) => {
            errors.push(e);
            return None;
        }
    };
    let Some(object) = value.as_object() else {
        errors.push(at.error("`requestBody` must be an object"));
        return None;
    };
    check_fields(object, REQUEST_BODY_FIELDS, &at, errors);
    let required = object
        .get("required")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let media = match object.get("content") {
        Some(c) => content(compiler, &at.child("content"), c, errors),
        None => {
            errors.push(at.error("a request body must declare `content`"));
            Vec::new()
        }
    };
    Some(BodySpec { required, media })
}

pub(super) fn responses(
    compiler: &mut Compiler<'_>,
    at: &Loc,
    value: &Value,
    errors: &mut Vec<LoadError>,
) -> Vec<ResponseSpec> {
    let Some(object) = value.as_object() else {
        errors.push(at.error("`responses` must be an object"));
        return Vec::new();
    };
    let mut out = Vec::new();
    for (key, response) in object {
        if key.starts_with("x-") {
            continue;
        }
        let r_at = at.child(key);
        let Some(status) = status_key(key) else {
            errors.push(r_at.error(format!(
                "`{key}` is not a status code, a range like `2XX`, or `default`"
            )));
            continue;
        };
        let (r_at, response) = match compiler.deref(&r_at, response) {
            Ok(found) => found,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        let Some(r) = response.as_object() else {
            errors.push(r_at.error("a response must be an object"));
            continue;
        };
        check_fields(r, RESPONSE_FIELDS, &r_at, errors);
        let media = match r.get("content") {
            Some(c) => content(compiler, &r_at.child("content"), c, errors),
            None => Vec::new(),
        };
        out.push(ResponseSpec {
            status,
            media,
            headers: header_names(r.get("headers")),
        });
    }
    if out.is_empty() {
        errors.push(at.error("an operation must declare at least one response"));
    }
    out
}

/// The names a response's `headers` map declares (the Header Objects
/// themselves only describe values; the name is the key).
fn header_names(headers: Option<&Value>) -> Vec<String> {
    headers
        .and_then(Value::as_object)
        .map(|h| h.keys().map(|k| k.to_ascii_lowercase()).collect())
        .unwrap_or_default()
}

fn status_key(key: &str) -> Option<StatusKey> {
    if key == "default" {
        return Some(StatusKey::Default);
    }
    let bytes = key.as_bytes();
    match bytes {
        [d @ b'1'..=b'5', b'X', b'X'] => Some(StatusKey::Range(u16::from(d - b'0'))),
        [b'1'..=b'5', b'0'..=b'9', b'0'..=b'9'] => key.parse().ok().map(StatusKey::Exact),
        _ => None,
    }
}

fn content(
    compiler: &mut Compiler<'_>,
    at: &Loc,
    value: &Value,
    errors: &mut Vec<LoadError>,
) -> Vec<MediaSpec> {
    let Some(object) = value.as_object() else {
        errors.push(at.error("`content` must be an object keyed by media type"));
        return Vec::new();
    };
    let mut out = Vec::new();
    for (media_type, entry) in object {
        let m_at = at.child(media_type);
        let lower = media_type.to_ascii_lowercase();
        let Some(entry) = entry.as_object() else {
            errors.push(m_at.error("a media type entry must be an object"));
            continue;
        };
        check_fields(entry, MEDIA_FIELDS, &m_at, errors);
        let json = is_json_media(&lower);
        let schema = match entry.get("schema") {
            Some(s) => compiler.compile(&m_at.child("schema"), s, errors),
            None => None,
        };
        if !json && !opaque_schema(entry.get("schema")) {
            errors.push(m_at.error(format!(
                "bodies of `{media_type}` cannot be validated against a schema; declare it without one or as `type: string, format: binary`"
            )));
        }
        out.push(MediaSpec {
            media_type: lower,
            json,
            schema,
        });
    }
    out
}

/// A non-JSON body can only be declared as opaque bytes.
fn opaque_schema(schema: Option<&Value>) -> bool {
    match schema {
        None => true,
        Some(s) => {
            s.get("type").and_then(Value::as_str) == Some("string")
                && matches!(
                    s.get("format").and_then(Value::as_str),
                    Some("binary") | None
                )
        }
    }
}
