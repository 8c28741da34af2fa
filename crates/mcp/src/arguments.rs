//! A `tools/call`'s arguments turned into the HTTP request the contract
//! describes, so the call then runs the HTTP pipeline unchanged.
//!
//! The arguments object mirrors the problem pointers the HTTP path already
//! uses (`/path/<name>`, `/query/<name>`, `/header/<name>`, `/body`): an
//! error here and an error from the pipeline's `validate` stage point into
//! the arguments the same way. This module refuses only what cannot be
//! written as HTTP faithfully (an undeclared group or parameter, a value of
//! another JSON type than the parameter's, a missing path parameter); every
//! other check (bounds, enums, formats, the body's schema) is left to the
//! pipeline, so MCP and HTTP callers get the same answer from the same code.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use portcullis_contract::request::expected;
use portcullis_contract::{Operation, Param, ParamIn, ParamShape, Scalar, escape_token};
use portcullis_core::FieldError;
use serde_json::{Map, Value};

/// Everything but RFC 3986's unreserved characters is escaped: the gateway's
/// canonical-path check refuses an escaped unreserved character, and a
/// reserved one left bare would change the path's meaning.
const ESCAPED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// The HTTP request a tool call stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpCall {
    /// The operation's path with its parameters written in, percent-encoded;
    /// relative to the API's mount.
    pub path: String,
    /// The query string, without `?`; `None` when there is none.
    pub query: Option<String>,
    /// Header parameters, as the caller would have sent them.
    pub headers: Vec<(String, String)>,
    /// The JSON body and its media type, when the arguments hold one.
    pub body: Option<(String, Vec<u8>)>,
}

/// Writes `arguments` as the HTTP request of `op`.
///
/// # Errors
/// Every argument that has no faithful HTTP form, each with its pointer.
pub fn to_http(
    op: &Operation,
    arguments: &Map<String, Value>,
) -> Result<HttpCall, Vec<FieldError>> {
    let mut errors = Vec::new();
    let group = |name: &str, errors: &mut Vec<FieldError>| -> Map<String, Value> {
        match arguments.get(name) {
            None => Map::new(),
            Some(Value::Object(members)) => members.clone(),
            Some(_) => {
                errors.push(FieldError::new(format!("/{name}"), "must be an object"));
                Map::new()
            }
        }
    };
    for key in arguments.keys() {
        let known = match key.as_str() {
            "path" => op.params_in(ParamIn::Path).next().is_some(),
            "query" => op.params_in(ParamIn::Query).next().is_some(),
            "header" => op.params_in(ParamIn::Header).next().is_some(),
            "body" => op.body.is_some(),
            _ => false,
        };
        if !known {
            errors.push(FieldError::new(
                format!("/{}", escape_token(key)),
                "is not an argument of this tool",
            ));
        }
    }
    let path_args = group("path", &mut errors);
    let query_args = group("query", &mut errors);
    let header_args = group("header", &mut errors);
    for (location, args) in [
        (ParamIn::Path, &path_args),
        (ParamIn::Query, &query_args),
        (ParamIn::Header, &header_args),
    ] {
        for name in args.keys() {
            if !op.params_in(location).any(|p| p.name == *name) {
                errors.push(FieldError::new(
                    pointer(location, name),
                    format!("is not a declared {} parameter", location.as_str()),
                ));
            }
        }
    }
    let path = write_path(op, &path_args, &mut errors);
    let mut query = String::new();
    for param in op.params_in(ParamIn::Query) {
        let Some(value) = query_args.get(&param.name) else {
            continue;
        };
        for text in texts(param, value, &mut errors) {
            if !query.is_empty() {
                query.push('&');
            }
            query.extend(utf8_percent_encode(&param.name, ESCAPED));
            query.push('=');
            query.extend(utf8_percent_encode(&text, ESCAPED));
        }
    }
    let mut headers = Vec::new();
    for param in op.params_in(ParamIn::Header) {
        let Some(value) = header_args.get(&param.name) else {
            continue;
        };
        let written = texts(param, value, &mut errors).join(",");
        if written
            .bytes()
            .all(|b| b == b'\t' || (0x20..0x7f).contains(&b))
        {
            headers.push((param.name.clone(), written));
        } else {
            errors.push(FieldError::new(
                pointer(ParamIn::Header, &param.name),
                "is not ASCII text",
            ));
        }
    }
    let body = match (arguments.get("body"), &op.body) {
        (Some(value), Some(spec)) => spec.media.iter().find(|m| m.json).map(|media| {
            // Serialising a `Value` cannot fail (its keys are strings).
            let bytes = serde_json::to_vec(value).unwrap_or_default();
            // A range (`application/*+json`, `*/*`) names no type to send.
            let media_type = if media.media_type.contains('*') {
                "application/json".to_owned()
            } else {
                media.media_type.clone()
            };
            (media_type, bytes)
        }),
        _ => None,
    };
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(HttpCall {
        path,
        query: (!query.is_empty()).then_some(query),
        headers,
        body,
    })
}

/// The operation's path template with each `{name}` replaced by its value.
fn write_path(op: &Operation, args: &Map<String, Value>, errors: &mut Vec<FieldError>) -> String {
    let mut path = String::with_capacity(op.path.len() + 16);
    let mut rest = op.path.as_str();
    while let Some(open) = rest.find('{') {
        path.push_str(&rest[..open]);
        let Some(close) = rest[open..].find('}') else {
            break;
        };
        let name = &rest[open + 1..open + close];
        rest = &rest[open + close + 1..];
        let param = op.params_in(ParamIn::Path).find(|p| p.name == name);
        match (param, args.get(name)) {
            (Some(param), Some(value)) => {
                let text = texts(param, value, errors).join(",");
                path.extend(utf8_percent_encode(&text, ESCAPED));
            }
            _ => errors.push(FieldError::new(pointer(ParamIn::Path, name), "is required")),
        }
    }
    path.push_str(rest);
    path
}

/// A parameter's value as the texts HTTP carries (one per array item).
fn texts(param: &Param, value: &Value, errors: &mut Vec<FieldError>) -> Vec<String> {
    let at = pointer(param.location, &param.name);
    match &param.shape {
        ParamShape::Scalar(kinds) => match scalar(value, kinds) {
            Some(text) => vec![text],
            None => {
                errors.push(FieldError::new(at, expected(kinds)));
                Vec::new()
            }
        },
        ParamShape::Array { items, .. } => {
            let Value::Array(list) = value else {
                errors.push(FieldError::new(at, "must be an array"));
                return Vec::new();
            };
            let mut out = Vec::with_capacity(list.len());
            for (i, item) in list.iter().enumerate() {
                match scalar(item, items) {
                    Some(text) => out.push(text),
                    None => errors.push(FieldError::new(format!("{at}/{i}"), expected(items))),
                }
            }
            out
        }
    }
}

/// The text of `value` when its JSON type is one of `kinds`.
fn scalar(value: &Value, kinds: &[Scalar]) -> Option<String> {
    let fits = kinds.iter().any(|kind| match kind {
        Scalar::Integer => value.as_i64().is_some() || value.as_u64().is_some(),
        Scalar::Number => value.is_number(),
        Scalar::Boolean => value.is_boolean(),
        Scalar::String => value.is_string(),
    });
    if !fits {
        return None;
    }
    Some(match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    })
}

fn pointer(location: ParamIn, name: &str) -> String {
    format!("/{}/{}", location.as_str(), escape_token(name))
}

#[cfg(test)]
mod tests;
