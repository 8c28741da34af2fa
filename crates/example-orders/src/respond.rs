//! Response builders: JSON bodies, `{"error": ..}` bodies, plain text.

use bytes::Bytes;
use http::header::{ALLOW, CONTENT_TYPE};
use http::{HeaderValue, Response, StatusCode};
use http_body_util::Full;
use serde_json::Value;

pub(crate) type Resp = Response<Full<Bytes>>;

const JSON: &str = "application/json";
const TEXT: &str = "text/plain; charset=utf-8";

fn with_body(status: StatusCode, content_type: &'static str, body: impl Into<Bytes>) -> Resp {
    let mut response = Response::new(Full::new(body.into()));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

/// A JSON response.
pub(crate) fn json(status: StatusCode, value: &Value) -> Resp {
    // Serialising a `Value` cannot fail; fall back to an empty object anyway.
    let body = serde_json::to_vec(value).unwrap_or_else(|_| b"{}".to_vec());
    with_body(status, JSON, body)
}

/// `{"error": message}`.
pub(crate) fn error(status: StatusCode, message: &str) -> Resp {
    json(status, &serde_json::json!({ "error": message }))
}

/// A plain-text response.
pub(crate) fn text(status: StatusCode, body: String) -> Resp {
    with_body(status, TEXT, body)
}

/// 204 without a body.
pub(crate) fn no_content() -> Resp {
    let mut response = Response::new(Full::new(Bytes::new()));
    *response.status_mut() = StatusCode::NO_CONTENT;
    response
}

/// 405 in plain text, with `Allow`.
pub(crate) fn method_not_allowed(allow: &'static str) -> Resp {
    let mut response = text(
        StatusCode::METHOD_NOT_ALLOWED,
        "405 Method Not Allowed\n".to_owned(),
    );
    response
        .headers_mut()
        .insert(ALLOW, HeaderValue::from_static(allow));
    response
}
