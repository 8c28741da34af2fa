//! An upstream response against its operation: status declared, content type
//! declared, JSON body validated, undeclared fields stripped or refused,
//! secrets redacted or the response blocked.
//!
//! 5xx masking is the proxy's job (it never lets an upstream 5xx body through,
//! declared or not); everything here is about what the contract promises.

use serde_json::Value;

use crate::error::{Detail, ResponseError, Violations};
use crate::model::{Operation, media_for, parse_content_type};
use crate::secrets::SecretScanner;
use crate::strict_json::parse_body;
use crate::strip;

/// What to do with properties a response schema does not declare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldsMode {
    Strip,
    Reject,
    Allow,
}

/// What to do with credential-looking values in a response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretsMode {
    Redact,
    Block,
    Allow,
}

/// Per-API response handling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResponsePolicy {
    pub undeclared_fields: FieldsMode,
    pub secrets: SecretsMode,
}

/// Deepest JSON nesting read from an upstream.
const RESPONSE_DEPTH: usize = 128;

/// What the check did; `body` is set when the body was rewritten.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ResponseOutcome {
    pub body: Option<Vec<u8>>,
    pub fields_stripped: usize,
    pub secrets_redacted: usize,
}

/// Checks a non-5xx upstream response for `op`. `expect_body` is false for
/// answers to HEAD, which carry none.
pub fn check(
    op: &Operation,
    status: u16,
    content_type: Option<&str>,
    body: &[u8],
    expect_body: bool,
    policy: ResponsePolicy,
    scanner: &SecretScanner,
) -> Result<ResponseOutcome, ResponseError> {
    let Some(spec) = op.response_for(status) else {
        return Err(violation(
            "/status",
            format!("status {status} is not declared for this operation"),
        ));
    };
    if body.is_empty() {
        if spec.media.is_empty() || !expect_body {
            return Ok(ResponseOutcome::default());
        }
        return Err(violation("/body", "a body is declared but none was sent"));
    }
    if spec.media.is_empty() {
        return Err(violation(
            "/body",
            format!("status {status} declares no body"),
        ));
    }
    let Some(content_type) = content_type else {
        return Err(violation(
            "/header/content-type",
            "a body without a content type",
        ));
    };
    let (essence, _) = parse_content_type(content_type);
    let Some(media) = media_for(&spec.media, &essence) else {
        return Err(violation(
            "/header/content-type",
            format!("content type `{essence}` is not declared"),
        ));
    };
    if !media.json {
        return text_body(body, policy, scanner);
    }
    let mut value =
        parse_body(body, RESPONSE_DEPTH).map_err(|_| violation("/body", "is not valid JSON"))?;
    let mut outcome = ResponseOutcome::default();
    if let Some(schema) = &media.schema {
        match policy.undeclared_fields {
            FieldsMode::Allow => {}
            FieldsMode::Strip => outcome.fields_stripped = strip::strip(schema, &mut value),
            FieldsMode::Reject => {
                let found = strip::undeclared(schema, &mut value, false);
                if let Some(first) = found.first() {
                    return Err(violation(
                        &format!("/body{first}"),
                        "is not declared by the contract",
                    ));
                }
            }
        }
        if let Err(errors) = schema.validate(&value, "/body") {
            return Err(ResponseError::Contract(Violations::new(
                "the upstream's response does not match the contract",
                errors,
            )));
        }
    }
    if policy.secrets != SecretsMode::Allow && may_hold_secrets(body, scanner) {
        outcome.secrets_redacted = scan_json(&mut value, policy.secrets, scanner)?;
    }
    if outcome.fields_stripped > 0 || outcome.secrets_redacted > 0 {
        outcome.body = Some(encode(&value, body.len())?);
    }
    Ok(outcome)
}

/// Re-encodes a changed body into a buffer the size of the original, which
/// it rarely outgrows (saves the growth steps `to_vec` would take).
fn encode(value: &Value, size: usize) -> Result<Vec<u8>, ResponseError> {
    let mut out = Vec::with_capacity(size);
    serde_json::to_writer(&mut out, value)
        .map_err(|_| violation("/body", "cannot be re-encoded"))?;
    Ok(out)
}

fn violation(pointer: &str, message: impl Into<String>) -> ResponseError {
    ResponseError::Contract(Violations::one(
        "the upstream's response does not match the contract",
        pointer,
        message,
    ))
}

fn blocked(kind: &str) -> ResponseError {
    ResponseError::Secret(Detail::new(format!(
        "the response contained a value that looks like a credential ({kind}) and was withheld"
    )))
}

/// Whether any string (or long integer) of a parsed body could hold a
/// secret, from one pass over its bytes. Conservative: with no escape in the
/// body, each string's text (and each integer's digits) sits in it verbatim
/// between quotes or punctuation, which every secret pattern treats like the
/// edge of the text, so a match in a value is a match in the body (keys and
/// spans across values can only add false alarms, which cost a full scan).
/// An escape anywhere means the text differs from the bytes: scan it all.
fn may_hold_secrets(body: &[u8], scanner: &SecretScanner) -> bool {
    body.contains(&b'\\') || scanner.may_match(body)
}

/// Redacts (or refuses) secrets in every string, and in long integers that
/// could be card numbers. Returns how many were redacted.
fn scan_json(
    value: &mut Value,
    mode: SecretsMode,
    scanner: &SecretScanner,
) -> Result<usize, ResponseError> {
    if mode == SecretsMode::Allow {
        return Ok(0);
    }
    let mut count = 0;
    let mut stack = vec![value];
    while let Some(v) = stack.pop() {
        match v {
            Value::String(s) => count += scan_text(s, mode, scanner)?,
            Value::Number(n) if n.is_u64() || n.is_i64() => {
                let mut text = n.to_string();
                if text.len() >= 12 && scan_text(&mut text, mode, scanner)? > 0 {
                    *v = Value::String(text);
                    count += 1;
                }
            }
            Value::Array(items) => stack.extend(items.iter_mut()),
            Value::Object(map) => stack.extend(map.values_mut()),
            _ => {}
        }
    }
    Ok(count)
}

fn scan_text(
    text: &mut String,
    mode: SecretsMode,
    scanner: &SecretScanner,
) -> Result<usize, ResponseError> {
    if scanner.is_clean(text) {
        return Ok(0);
    }
    if mode == SecretsMode::Block {
        let kind = scanner
            .find(text)
            .first()
            .map(|m| m.kind.name())
            .unwrap_or("secret");
        return Err(blocked(kind));
    }
    match scanner.redact(text) {
        Some((redacted, n)) => {
            *text = redacted;
            Ok(n)
        }
        None => Ok(0),
    }
}

/// A declared non-JSON body: passed through, scanned when it is text.
fn text_body(
    body: &[u8],
    policy: ResponsePolicy,
    scanner: &SecretScanner,
) -> Result<ResponseOutcome, ResponseError> {
    let Ok(text) = std::str::from_utf8(body) else {
        return Ok(ResponseOutcome::default());
    };
    let mut text = text.to_owned();
    let n = if policy.secrets == SecretsMode::Allow {
        0
    } else {
        scan_text(&mut text, policy.secrets, scanner)?
    };
    Ok(ResponseOutcome {
        body: (n > 0).then(|| text.into_bytes()),
        fields_stripped: 0,
        secrets_redacted: n,
    })
}

#[cfg(test)]
mod tests;
