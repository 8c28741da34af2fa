//! A matched request against its operation: parameters typed and validated,
//! content type checked, body parsed strictly and validated.
//!
//! It never rewrites what it checks; the typed values it returns are for
//! later decisions (policy context), while the raw bytes are what is forwarded.

use std::borrow::Cow;

use portcullis_core::FieldError;
use serde_json::{Map, Value};

use crate::canonical::decode_segment;
use crate::document::escape_token;
use crate::error::{Detail, RequestError, Violations};
use crate::model::{Operation, Param, ParamIn, ParamShape, Scalar, media_for, parse_content_type};
use crate::strict_json::parse_body;

/// How one header name appears on the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderLookup<'a> {
    Absent,
    One(&'a str),
    /// Repeated: a declared parameter must appear once.
    Many,
    /// Present but not visible ASCII text.
    Opaque,
}

/// Gives access to request headers by lower-case name.
pub trait HeaderSource {
    fn lookup(&self, name: &str) -> HeaderLookup<'_>;
}

/// What the validator needs of a request besides its path.
#[derive(Clone, Copy)]
pub struct RequestInput<'a> {
    /// The raw query string, without `?`.
    pub query: Option<&'a str>,
    pub headers: &'a dyn HeaderSource,
    pub content_type: Option<&'a str>,
    pub body: &'a [u8],
    /// Deepest JSON nesting accepted in a body.
    pub max_depth: usize,
}

impl std::fmt::Debug for RequestInput<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequestInput")
            .field("query", &self.query)
            .field("content_type", &self.content_type)
            .field("body_len", &self.body.len())
            .finish_non_exhaustive()
    }
}

/// The request's parameters and body as typed JSON values.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ValidatedRequest {
    pub path: Map<String, Value>,
    pub query: Map<String, Value>,
    pub headers: Map<String, Value>,
    pub body: Option<Value>,
}

/// Validates a request matched to `op`; `path_params` are the router's raw values.
pub fn validate(
    op: &Operation,
    path_params: &[(&str, &str)],
    input: &RequestInput<'_>,
) -> Result<ValidatedRequest, RequestError> {
    let mut out = ValidatedRequest::default();
    let mut errors = Vec::new();
    for param in op.params_in(ParamIn::Path) {
        let raw = path_params
            .iter()
            .find(|(n, _)| *n == param.name)
            .map(|(_, v)| *v);
        let pointer = format!("/path/{}", escape_token(&param.name));
        match raw.map(decode_segment) {
            Some(Some(text)) => check_value(param, &[text], &pointer, &mut out.path, &mut errors),
            _ => errors.push(FieldError::new(
                pointer,
                "is not valid percent-encoded UTF-8",
            )),
        }
    }
    query(op, input.query, &mut out.query, &mut errors);
    headers(op, input.headers, &mut out.headers, &mut errors);
    if errors.is_empty() {
        out.body = body(op, input, &mut errors)?;
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(RequestError::Invalid(Violations::new(
            "the request does not match the operation's contract",
            errors,
        )))
    }
}

fn query(
    op: &Operation,
    raw: Option<&str>,
    out: &mut Map<String, Value>,
    errors: &mut Vec<FieldError>,
) {
    let pairs = match parse_query(raw.unwrap_or("")) {
        Ok(p) => p,
        Err(e) => return errors.push(e),
    };
    for (name, _) in &pairs {
        if !op.params_in(ParamIn::Query).any(|p| p.name == *name) {
            errors.push(FieldError::new(
                format!("/query/{}", escape_token(name)),
                "is not a declared query parameter",
            ));
        }
    }
    for param in op.params_in(ParamIn::Query) {
        let values: Vec<Cow<'_, str>> = pairs
            .iter()
            .filter(|(n, _)| *n == param.name)
            .map(|(_, v)| v.clone())
            .collect();
        let pointer = format!("/query/{}", escape_token(&param.name));
        if values.is_empty() {
            if param.required {
                errors.push(FieldError::new(pointer, "is required"));
            }
            continue;
        }
        check_value(param, &values, &pointer, out, errors);
    }
}

fn headers(
    op: &Operation,
    source: &dyn HeaderSource,
    out: &mut Map<String, Value>,
    errors: &mut Vec<FieldError>,
) {
    for param in op.params_in(ParamIn::Header) {
        let pointer = format!("/header/{}", escape_token(&param.name));
        match source.lookup(&param.name) {
            HeaderLookup::Absent if param.required => {
                errors.push(FieldError::new(pointer, "is required"))
            }
            HeaderLookup::Absent => {}
            HeaderLookup::One(v) => check_value(param, &[Cow::Borrowed(v)], &pointer, out, errors),
            HeaderLookup::Many => errors.push(FieldError::new(pointer, "is given more than once")),
            HeaderLookup::Opaque => errors.push(FieldError::new(pointer, "is not ASCII text")),
        }
    }
}

/// Types the text occurrences of one parameter and validates them.
fn check_value(
    param: &Param,
    values: &[Cow<'_, str>],
    pointer: &str,
    out: &mut Map<String, Value>,
    errors: &mut Vec<FieldError>,
) {
    let typed = match &param.shape {
        ParamShape::Scalar(kinds) => {
            let [one] = values else {
                return errors.push(FieldError::new(pointer, "is given more than once"));
            };
            match coerce(one, kinds) {
                Some(v) => v,
                None => return errors.push(FieldError::new(pointer, expected(kinds))),
            }
        }
        ParamShape::Array { items, explode } => {
            let texts: Vec<&str> = if *explode || param.location != ParamIn::Query {
                if !*explode && values.len() > 1 {
                    return errors.push(FieldError::new(pointer, "is given more than once"));
                }
                if param.location == ParamIn::Query {
                    values.iter().map(|v| v.as_ref()).collect()
                } else {
                    values.iter().flat_map(|v| v.split(',')).collect()
                }
            } else {
                let [one] = values else {
                    return errors.push(FieldError::new(pointer, "is given more than once"));
                };
                one.split(',').collect()
            };
            let mut list = Vec::with_capacity(texts.len());
            for (i, t) in texts.iter().enumerate() {
                match coerce(t, items) {
                    Some(v) => list.push(v),
                    None => {
                        return errors
                            .push(FieldError::new(format!("{pointer}/{i}"), expected(items)));
                    }
                }
            }
            Value::Array(list)
        }
    };
    if let Some(schema) = &param.schema
        && let Err(mut found) = schema.validate(&typed, pointer)
    {
        errors.append(&mut found);
        return;
    }
    out.insert(param.name.clone(), typed);
}

/// Reads a parameter's text as the first of `kinds` it parses as.
fn coerce(text: &str, kinds: &[Scalar]) -> Option<Value> {
    kinds.iter().find_map(|kind| match kind {
        Scalar::Integer => text
            .parse::<i64>()
            .ok()
            .map(Value::from)
            .or_else(|| text.parse::<u64>().ok().map(Value::from)),
        Scalar::Number => {
            let looks_numeric = !text.is_empty()
                && text
                    .bytes()
                    .all(|b| b.is_ascii_digit() || matches!(b, b'-' | b'+' | b'.' | b'e' | b'E'));
            text.parse::<f64>()
                .ok()
                .filter(|f| looks_numeric && f.is_finite())
                .and_then(serde_json::Number::from_f64)
                .map(Value::Number)
        }
        Scalar::Boolean => match text {
            "true" => Some(Value::Bool(true)),
            "false" => Some(Value::Bool(false)),
            _ => None,
        },
        Scalar::String => Some(Value::String(text.to_owned())),
    })
}

/// The message for a parameter value of none of `kinds` (the MCP face's
/// argument check says it the same way).
pub fn expected(kinds: &[Scalar]) -> String {
    let names: Vec<&str> = kinds
        .iter()
        .map(|k| match k {
            Scalar::Integer => "an integer",
            Scalar::Number => "a number",
            Scalar::Boolean => "`true` or `false`",
            Scalar::String => "a string",
        })
        .collect();
    format!("must be {}", names.join(" or "))
}

/// Decoded query parameters, in order, repeats kept.
pub type QueryPairs<'a> = Vec<(Cow<'a, str>, Cow<'a, str>)>;

/// Splits and decodes a query string (`application/x-www-form-urlencoded`).
///
/// A raw `;` is refused: some servers treat it as a separator, so the gateway
/// and the upstream would see different parameters.
pub fn parse_query(raw: &str) -> Result<QueryPairs<'_>, FieldError> {
    let mut pairs = Vec::new();
    if raw.contains(';') {
        return Err(FieldError::new(
            "/query",
            "`;` is not a query separator here; encode it as %3B",
        ));
    }
    // Characters RFC 3986 does not allow raw in a query: servers differ in how
    // they read them, so they must arrive percent-encoded.
    if let Some(b) = raw.bytes().find(|b| !is_query_byte(*b)) {
        return Err(FieldError::new(
            "/query",
            format!("byte 0x{b:02X} must be percent-encoded"),
        ));
    }
    for part in raw.split('&').filter(|p| !p.is_empty()) {
        let (name, value) = part.split_once('=').unwrap_or((part, ""));
        let name = decode_form(name)
            .ok_or_else(|| FieldError::new("/query", "is not valid percent-encoded UTF-8"))?;
        let value = decode_form(value).ok_or_else(|| {
            FieldError::new(
                format!("/query/{}", escape_token(&name)),
                "is not valid percent-encoded UTF-8",
            )
        })?;
        pairs.push((name, value));
    }
    Ok(pairs)
}

fn is_query_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._~!$&'()*+,=:@/?%".contains(&b)
}

fn decode_form(text: &str) -> Option<Cow<'_, str>> {
    if !text.contains(['%', '+']) {
        return Some(Cow::Borrowed(text));
    }
    let mut bytes = Vec::with_capacity(text.len());
    let mut iter = text.bytes();
    while let Some(b) = iter.next() {
        match b {
            b'+' => bytes.push(b' '),
            b'%' => {
                let h = (iter.next()? as char).to_digit(16)?;
                let l = (iter.next()? as char).to_digit(16)?;
                bytes.push((h * 16 + l) as u8);
            }
            other => bytes.push(other),
        }
    }
    String::from_utf8(bytes).ok().map(Cow::Owned)
}

fn body(
    op: &Operation,
    input: &RequestInput<'_>,
    errors: &mut Vec<FieldError>,
) -> Result<Option<Value>, RequestError> {
    let Some(spec) = &op.body else {
        if !input.body.is_empty() {
            errors.push(FieldError::new(
                "/body",
                "this operation takes no request body",
            ));
        }
        return Ok(None);
    };
    if input.body.is_empty() {
        if spec.required {
            errors.push(FieldError::new("/body", "a request body is required"));
        }
        return Ok(None);
    }
    let Some(content_type) = input.content_type else {
        return Err(RequestError::MediaType(Detail::new(
            "a Content-Type header is required with a body",
        )));
    };
    let (essence, charset) = parse_content_type(content_type);
    let Some(media) = media_for(&spec.media, &essence) else {
        let declared: Vec<&str> = spec.media.iter().map(|m| m.media_type.as_str()).collect();
        return Err(RequestError::MediaType(Detail::new(format!(
            "content type `{essence}` is not accepted here; declared: {}",
            declared.join(", ")
        ))));
    };
    if !media.json {
        return Ok(None);
    }
    if charset.as_deref().is_some_and(|c| c != "utf-8") {
        return Err(RequestError::MediaType(Detail::new(
            "JSON bodies must be UTF-8",
        )));
    }
    let value = match parse_body(input.body, input.max_depth) {
        Ok(v) => v,
        Err(e) => {
            errors.push(FieldError::new(
                "/body",
                format!("is not acceptable JSON: {e}"),
            ));
            return Ok(None);
        }
    };
    if let Some(schema) = &media.schema
        && let Err(mut found) = schema.validate(&value, "/body")
    {
        errors.append(&mut found);
    }
    Ok(Some(value))
}

#[cfg(test)]
mod tests;
