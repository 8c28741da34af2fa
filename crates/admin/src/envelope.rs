//! The outermost layer of the admin listener: gives each request its id,
//! renders every refusal as problem+json with that id as `instance`, turns
//! any error the router or an extractor produced on its own into the same
//! shape, marks every answer `Cache-Control: no-store` (some carry a secret
//! once), and logs one line per request.
//!
//! It must never let a plain-text error body out, and never log a body.

use std::time::Instant;

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use http::{HeaderMap, HeaderValue, StatusCode, header};
use portcullis_core::ProblemCode;

use crate::authenticate::AdminCaller;
use crate::refusal::{Pending, Refusal};

/// This request's id: the caller's `X-Request-Id` if it is plain, else new.
#[derive(Debug, Clone)]
pub(crate) struct RequestId(pub String);

impl RequestId {
    fn from_headers(headers: &HeaderMap) -> Self {
        let given = headers
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .filter(|v| plain(v));
        match given {
            Some(id) => Self(id.to_owned()),
            None => Self(fresh()),
        }
    }
}

/// A caller's request id is carried only if it is short, plain text, so it
/// cannot smuggle anything into logs or headers.
fn plain(v: &str) -> bool {
    (1..=128).contains(&v.len())
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

fn fresh() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    portcullis_token::new_jti()
        .map(|j| format!("adm-{j}"))
        .unwrap_or_else(|_| format!("adm-n{}", NEXT.fetch_add(1, Ordering::Relaxed)))
}

pub(crate) async fn envelope(mut request: Request, next: Next) -> Response {
    let started = Instant::now();
    let id = RequestId::from_headers(request.headers());
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    request.extensions_mut().insert(id.clone());
    let response = next.run(request).await;
    let admin = response
        .extensions()
        .get::<AdminCaller>()
        .map(|c| c.identity.clone());
    let (mut response, code) = finish(response, &id.0);
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    tracing::info!(
        request_id = %id.0,
        method = %method,
        path = %path,
        status = response.status().as_u16(),
        code = code.map(ProblemCode::as_str),
        admin = admin.as_deref(),
        latency_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        "admin request"
    );
    response
}

/// Renders a pending refusal, or converts an error response that did not
/// come from one (the router's 404 and 405, an extractor's own rejection).
fn finish(mut response: Response, request_id: &str) -> (Response, Option<ProblemCode>) {
    if let Some(Pending(refusal)) = response.extensions_mut().remove::<Pending>() {
        let code = refusal.code();
        return (refusal.render(request_id), Some(code));
    }
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return (response, None);
    }
    let refusal = by_status(status).with_allow(response.headers().get(header::ALLOW).cloned());
    let code = refusal.code();
    (refusal.render(request_id), Some(code))
}

/// The refusal for an error status produced outside our handlers.
fn by_status(status: StatusCode) -> Refusal {
    match status {
        StatusCode::NOT_FOUND => undeclared(),
        StatusCode::METHOD_NOT_ALLOWED => Refusal::new(
            ProblemCode::MethodNotAllowed,
            "the path is an admin operation, but not for this method",
        ),
        StatusCode::PAYLOAD_TOO_LARGE => Refusal::new(
            ProblemCode::PayloadTooLarge,
            "the request body is too large",
        ),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => Refusal::new(
            ProblemCode::UnsupportedMediaType,
            "the body must be `application/json`",
        ),
        StatusCode::REQUEST_TIMEOUT => Refusal::new(
            ProblemCode::RequestTimeout,
            "the request was not received in time",
        ),
        s if s.is_client_error() => Refusal::new(
            ProblemCode::InvalidRequest,
            "the request does not match the admin operation",
        ),
        _ => Refusal::unavailable(),
    }
}

/// 404 `undeclared-route`: no admin operation has this path.
pub(crate) fn undeclared() -> Refusal {
    Refusal::new(
        ProblemCode::UndeclaredRoute,
        "no admin operation matches this path",
    )
}

/// The router's fallback.
pub(crate) async fn fallback() -> Refusal {
    undeclared()
}

#[cfg(test)]
mod tests {
    use axum::response::IntoResponse;

    use super::*;

    #[test]
    fn request_ids_are_plain_or_replaced() {
        let mut headers = HeaderMap::new();
        headers.insert("x-request-id", HeaderValue::from_static("req-1.a_b:c"));
        assert_eq!(RequestId::from_headers(&headers).0, "req-1.a_b:c");
        headers.insert("x-request-id", HeaderValue::from_static("a b"));
        let replaced = RequestId::from_headers(&headers).0;
        assert!(
            replaced.starts_with("adm-") && plain(&replaced),
            "{replaced}"
        );
    }

    #[test]
    fn router_errors_become_problems() {
        let mut bare = StatusCode::METHOD_NOT_ALLOWED.into_response();
        bare.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET,HEAD"));
        let (r, code) = finish(bare, "r1");
        assert_eq!(code, Some(ProblemCode::MethodNotAllowed));
        assert_eq!(r.headers()[header::ALLOW], "GET,HEAD");
        assert_eq!(
            r.headers()[header::CONTENT_TYPE],
            "application/problem+json"
        );
        for (status, code) in [
            (StatusCode::NOT_FOUND, ProblemCode::UndeclaredRoute),
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                ProblemCode::InvalidRequest,
            ),
            (StatusCode::INTERNAL_SERVER_ERROR, ProblemCode::Unavailable),
        ] {
            let (r, got) = finish(status.into_response(), "r1");
            assert_eq!(got, Some(code));
            assert_eq!(r.status().as_u16(), code.status());
        }
        let (ok, code) = finish(StatusCode::OK.into_response(), "r1");
        assert_eq!((ok.status(), code), (StatusCode::OK, None));
    }
}
