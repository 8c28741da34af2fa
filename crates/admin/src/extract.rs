//! Reading admin requests: JSON bodies (bounded, `application/json`,
//! closed: an unknown field is refused), path parameters, and the absence
//! of a query or body where an operation takes none.
//!
//! Every failure is a [`Refusal`] whose `errors` locate each violation by
//! JSON pointer (`/body/ttl_secs`, `/path/id`); axum's own rejections never
//! reach the caller. Body types must be `#[serde(deny_unknown_fields)]`.

use std::time::Duration;

use axum::body::Body;
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, header, request::Parts};
use portcullis_core::{FieldError, ProblemCode, valid_identity_id};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::refusal::Refusal;

/// The largest admin request body.
pub(crate) const BODY_LIMIT: usize = 64 * 1024;

/// How long a body may take to arrive.
const BODY_TIME: Duration = Duration::from_secs(10);

/// Longest credential id accepted in a path.
const MAX_CREDENTIAL_ID: usize = 200;

/// A JSON body decoded into `T`.
#[derive(Debug)]
pub(crate) struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = Refusal;

    async fn from_request(request: Request, _: &S) -> Result<Self, Refusal> {
        let json = is_json(request.headers());
        let bytes = read_body(request).await?;
        if bytes.is_empty() {
            return Err(Refusal::invalid_at("/body", "a JSON body is required"));
        }
        if !json {
            return Err(Refusal::new(
                ProblemCode::UnsupportedMediaType,
                "the body must be `application/json`",
            ));
        }
        decode(&bytes).map(JsonBody)
    }
}

/// An operation that takes no body: one that is sent anyway is refused.
#[derive(Debug)]
pub(crate) struct NoBody;

impl<S: Send + Sync> FromRequest<S> for NoBody {
    type Rejection = Refusal;

    async fn from_request(request: Request, _: &S) -> Result<Self, Refusal> {
        if read_body(request).await?.is_empty() {
            Ok(NoBody)
        } else {
            Err(Refusal::invalid_at("/body", "this operation takes no body"))
        }
    }
}

/// The `{id}` path parameter: a valid identity id.
#[derive(Debug)]
pub(crate) struct IdentityPath(pub String);

impl<S: Send + Sync> FromRequestParts<S> for IdentityPath {
    type Rejection = Refusal;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Refusal> {
        let id = path_value(parts, state, "/path/id").await?;
        if !valid_identity_id(&id) {
            return Err(Refusal::invalid_at(
                "/path/id",
                format!("`{}` is not a valid identity id", shown(&id)),
            ));
        }
        Ok(Self(id))
    }
}

/// The `{credential_id}` path parameter, percent-decoded: ids contain a
/// `/`, which the caller sends as `%2F`.
#[derive(Debug)]
pub(crate) struct CredentialPath(pub String);

impl<S: Send + Sync> FromRequestParts<S> for CredentialPath {
    type Rejection = Refusal;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Refusal> {
        const POINTER: &str = "/path/credential_id";
        let id = path_value(parts, state, POINTER).await?;
        let plain = id.len() <= MAX_CREDENTIAL_ID && id.bytes().all(|b| b.is_ascii_graphic());
        if !plain || !id.contains('/') {
            return Err(Refusal::invalid_at(
                POINTER,
                "is not a credential id (`identity/kind-suffix`, with `/` sent as `%2F`)",
            ));
        }
        Ok(Self(id))
    }
}

/// Refuses a query string: no admin operation takes one.
pub(crate) async fn no_query(request: Request, next: Next) -> Response {
    if request.uri().query().is_some() {
        return Refusal::invalid_at("/query", "admin operations take no query parameters")
            .into_response();
    }
    next.run(request).await
}

async fn path_value<S: Send + Sync>(
    parts: &mut Parts,
    state: &S,
    pointer: &str,
) -> Result<String, Refusal> {
    Path::<String>::from_request_parts(parts, state)
        .await
        .map(|Path(v)| v)
        .map_err(|_| Refusal::invalid_at(pointer, "is not valid percent-encoded UTF-8"))
}

/// A value safe to echo in a message: printable ASCII, bounded.
fn shown(v: &str) -> String {
    v.chars()
        .filter(|c| c.is_ascii_graphic())
        .take(64)
        .collect()
}

/// `application/json`, with no parameter but `charset=utf-8`: JSON is
/// UTF-8, and a body must not be readable two ways.
fn is_json(headers: &HeaderMap) -> bool {
    let Some(value) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let mut parts = value.split(';').map(str::trim);
    parts
        .next()
        .is_some_and(|essence| essence.eq_ignore_ascii_case("application/json"))
        && parts.all(|p| p.replace(' ', "").eq_ignore_ascii_case("charset=utf-8"))
}

pub(crate) async fn read_body(request: Request) -> Result<Vec<u8>, Refusal> {
    let too_large = || {
        Refusal::new(
            ProblemCode::PayloadTooLarge,
            format!("the request body exceeds {BODY_LIMIT} bytes"),
        )
    };
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > BODY_LIMIT as u64) {
        return Err(too_large());
    }
    let body: Body = request.into_body();
    match tokio::time::timeout(BODY_TIME, axum::body::to_bytes(body, BODY_LIMIT)).await {
        Ok(Ok(bytes)) => Ok(bytes.to_vec()),
        // The only error a bounded read reports that a caller can cause.
        Ok(Err(_)) => Err(too_large()),
        Err(_) => Err(Refusal::new(
            ProblemCode::RequestTimeout,
            "the request body was not received in time",
        )),
    }
}

/// Decodes `bytes` into `T`, locating every violation.
///
/// serde's errors do not say where they are, so each top-level member is
/// also decoded alone: a member whose lone decoding fails other than by a
/// missing field is itself at fault (a wrong type, an unknown field, a bad
/// spelling). A missing required field is then named from the full error.
pub(crate) fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Refusal> {
    let value: Value = serde_json::from_slice(bytes).map_err(|e| {
        Refusal::invalid_at(
            "/body",
            format!(
                "is not valid JSON (line {}, column {})",
                e.line(),
                e.column()
            ),
        )
    })?;
    let Value::Object(members) = value else {
        return Err(Refusal::invalid_at("/body", "must be a JSON object"));
    };
    match serde_json::from_value::<T>(Value::Object(members.clone())) {
        Ok(decoded) => Ok(decoded),
        Err(whole) => Err(Refusal::invalid(
            "the request body does not match the admin operation",
            locate::<T>(&members, &whole.to_string()),
        )),
    }
}

fn locate<T: DeserializeOwned>(members: &Map<String, Value>, whole: &str) -> Vec<FieldError> {
    let mut errors: Vec<FieldError> = members
        .iter()
        .filter_map(|(name, value)| {
            let alone = Map::from_iter([(name.clone(), value.clone())]);
            let message = serde_json::from_value::<T>(Value::Object(alone))
                .err()?
                .to_string();
            (!message.starts_with("missing field")).then(|| {
                FieldError::new(format!("/body/{}", escape(name)), plain_message(&message))
            })
        })
        .collect();
    if errors.is_empty() {
        let pointer = whole
            .strip_prefix("missing field `")
            .and_then(|rest| rest.split('`').next())
            .map_or_else(|| "/body".to_owned(), |f| format!("/body/{}", escape(f)));
        errors.push(FieldError::new(pointer, plain_message(whole)));
    }
    errors
}

/// RFC 6901 token escaping.
fn escape(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// serde's message without Rust type names.
fn plain_message(message: &str) -> String {
    let mut out = message.to_owned();
    for (rust, plain) in [
        ("expected i64", "expected an integer"),
        ("expected u64", "expected a non-negative integer"),
        ("expected i32", "expected an integer"),
        ("expected u32", "expected a non-negative integer"),
    ] {
        out = out.replace(rust, plain);
    }
    out
}

#[cfg(test)]
mod tests;
