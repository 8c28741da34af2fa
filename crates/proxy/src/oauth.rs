//! The token endpoint on the gateway listener (`POST /oauth/token`).
//! Answered before authentication: the client authenticates in the request
//! itself. Errors use RFC 6749's JSON shape, as OAuth clients expect; a
//! store fault is the gateway's `unavailable` problem.

use bytes::Bytes;
use http::request::Parts;
use http::{HeaderValue, Method, Response, StatusCode, header};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use portcullis_core::ProblemCode;
use portcullis_token::oauth::{OAuthError, OAuthErrorCode};
use serde_json::Value;

use crate::authority::TokenIssued;
use crate::refusal::Refusal;
use crate::snapshot::Snapshot;

pub(crate) const TOKEN_PATH: &str = "/oauth/token";

/// Token requests are small forms.
const MAX_FORM_BYTES: usize = 16 * 1024;

pub(crate) async fn token(
    snapshot: &Snapshot,
    parts: &Parts,
    body: Incoming,
) -> Result<Response<Full<Bytes>>, Refusal> {
    if parts.method != Method::POST {
        return Err(Refusal::method_not_allowed("POST"));
    }
    let form = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        })
        .unwrap_or(false);
    if !form {
        return Ok(oauth_error(&OAuthError::new(
            OAuthErrorCode::InvalidRequest,
            "send the request as application/x-www-form-urlencoded",
        )));
    }
    let read = Limited::new(body, MAX_FORM_BYTES).collect();
    let body = match tokio::time::timeout(snapshot.limits.request_timeout, read).await {
        Ok(Ok(b)) => b.to_bytes(),
        Ok(Err(_)) => {
            return Err(Refusal::new(
                ProblemCode::PayloadTooLarge,
                format!("token requests are limited to {MAX_FORM_BYTES} bytes"),
            ));
        }
        Err(_) => {
            return Err(Refusal::new(
                ProblemCode::RequestTimeout,
                "the request body did not arrive in time",
            ));
        }
    };
    let authorization = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    match snapshot.authority.token(&body, authorization) {
        Ok(document) => Ok(json(StatusCode::OK, &document)),
        Err(TokenIssued::Refused(e)) => Ok(oauth_error(&e)),
        Err(TokenIssued::Unavailable) => Err(Refusal::new(
            ProblemCode::Unavailable,
            "the token service could not reach a decision",
        )),
    }
}

fn oauth_error(e: &OAuthError) -> Response<Full<Bytes>> {
    let status = StatusCode::from_u16(e.code().status()).unwrap_or(StatusCode::BAD_REQUEST);
    let mut response = json(status, &e.to_json());
    if status == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"portcullis\""),
        );
    }
    response
}

/// A JSON answer that no cache may keep (RFC 6749 section 5.1).
fn json(status: StatusCode, document: &Value) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(
        serde_json::to_vec(document).unwrap_or_default(),
    )));
    *response.status_mut() = status;
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    response
}
