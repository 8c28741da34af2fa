//! A valid request for one operation, built from its schemas: every required
//! path, query and header parameter and the JSON body, each a generated
//! value (see [`crate::generate`]) unless the caller gives one. Given values
//! are how `verify` puts an identity's own tenant id (or someone else's) into
//! a request, so both sides of a tenant rule are exercised.

use std::collections::BTreeMap;

use portcullis_contract::{Operation, ParamIn, ParamShape};
use serde_json::Value;

use crate::generate::{self, Unsatisfiable};

/// One request to send, as bytes a client puts on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Probe {
    pub method: String,
    /// Path and query, already encoded: what goes in the request line.
    pub target: String,
    pub headers: Vec<(String, String)>,
    /// The body and its content type.
    pub body: Option<(String, Vec<u8>)>,
}

/// What a valid request was built from, for variants and reports.
#[derive(Debug, Clone, PartialEq)]
pub struct Built {
    pub probe: Probe,
    /// Each path parameter's value, in template order.
    pub path_values: Vec<(String, String)>,
    /// Each query parameter sent, in declaration order.
    pub query: Vec<(String, Vec<String>)>,
    /// The JSON body value, when the operation takes one.
    pub body: Option<Value>,
}

/// A valid request for `op` mounted at `mount`; `given` holds parameter
/// values (by name) to use instead of generated ones.
///
/// # Errors
/// A required parameter or the body has a schema no generated value
/// satisfies; the reason names it.
pub fn valid(
    mount: &str,
    op: &Operation,
    given: &BTreeMap<String, String>,
) -> Result<Built, Unsatisfiable> {
    let mut path_values = Vec::new();
    let mut query = Vec::new();
    let mut headers = Vec::new();
    for param in op
        .params
        .iter()
        .filter(|p| p.required || p.location == ParamIn::Path)
    {
        let values = match given.get(&param.name) {
            Some(v) => vec![v.clone()],
            None => param_values(param)
                .map_err(|e| Unsatisfiable(format!("parameter `{}`: {}", param.name, e.0)))?,
        };
        match param.location {
            ParamIn::Path => path_values.push((param.name.clone(), values.join(","))),
            ParamIn::Query => query.push((param.name.clone(), values)),
            ParamIn::Header => headers.push((param.name.clone(), values.join(","))),
        }
    }
    let mut path = op.path.clone();
    for (name, value) in &path_values {
        path = path.replace(&format!("{{{name}}}"), &encode_segment(value));
    }
    let explode: BTreeMap<&str, bool> = op
        .params
        .iter()
        .map(|p| {
            (
                p.name.as_str(),
                !matches!(p.shape, ParamShape::Array { explode: false, .. }),
            )
        })
        .collect();
    let mut target = format!("{}{path}", mount.trim_end_matches('/'));
    let query_string = encode_query(&query, &explode);
    if !query_string.is_empty() {
        target.push('?');
        target.push_str(&query_string);
    }
    let json_media = op
        .body
        .as_ref()
        .and_then(|b| b.media.iter().find(|m| m.json && m.schema.is_some()));
    let body = match json_media.and_then(|m| m.schema.as_ref()) {
        Some(schema) => {
            Some(generate::value(schema).map_err(|e| Unsatisfiable(format!("body: {}", e.0)))?)
        }
        None => None,
    };
    let content_type = json_media.map(|m| concrete_json_type(&m.media_type));
    let probe = Probe {
        method: op.method.as_str().to_owned(),
        target,
        headers,
        body: body
            .as_ref()
            .zip(content_type)
            .map(|(v, ct)| (ct, v.to_string().into_bytes())),
    };
    Ok(Built {
        probe,
        path_values,
        query,
        body,
    })
}

/// A parameter's generated value(s), as text.
fn param_values(param: &portcullis_contract::Param) -> Result<Vec<String>, Unsatisfiable> {
    let Some(schema) = param.schema.as_ref() else {
        return Ok(vec!["a".to_owned()]);
    };
    let value = generate::value(schema)?;
    Ok(match value {
        Value::Array(items) if !items.is_empty() => items.iter().map(text).collect(),
        Value::Array(_) => Vec::new(),
        other => vec![text(&other)],
    })
}

/// A JSON scalar as a parameter writes it.
pub fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// `application/json` for the wildcard spellings a contract may declare.
fn concrete_json_type(declared: &str) -> String {
    if declared.contains('*') {
        "application/json".to_owned()
    } else {
        declared.to_owned()
    }
}

/// Percent-encodes everything but RFC 3986 unreserved characters, so a
/// generated value never changes the path's shape.
pub fn encode_segment(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

fn encode_query(query: &[(String, Vec<String>)], explode: &BTreeMap<&str, bool>) -> String {
    let mut serializer = form_urlencoded::Serializer::new(String::new());
    for (name, values) in query {
        if explode.get(name.as_str()).copied().unwrap_or(true) {
            for v in values {
                serializer.append_pair(name, v);
            }
        } else {
            serializer.append_pair(name, &values.join(","));
        }
    }
    serializer.finish()
}

#[cfg(test)]
mod tests;
