//! The OAuth endpoints on the gateway listener: `POST /oauth/token`,
//! `/oauth/revoke` (RFC 7009) and `/oauth/introspect` (RFC 7662, admin
//! callers). Answered before authentication: clients authenticate in the
//! request itself. Errors use RFC 6749's JSON shape, as OAuth clients
//! expect; a store fault is the gateway's `unavailable` problem.

use bytes::Bytes;
use http::request::Parts;
use http::{HeaderValue, Method, Response, StatusCode, header};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use portcullis_core::ProblemCode;
use portcullis_token::ChallengeError;
use portcullis_token::oauth::{OAuthError, OAuthErrorCode};
use serde_json::Value;

use crate::authority::{AuthFailure, Standing, TokenIssued};
use crate::exchange::Exchange;
use crate::pipeline::authenticate::unauthenticated;
use crate::rate::retry_after_secs;
use crate::refusal::Refusal;
use crate::snapshot::Snapshot;

/// The OAuth endpoints on the gateway listener.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Endpoint {
    Token,
    Revoke,
    Introspect,
}

impl Endpoint {
    pub(crate) fn for_path(path: &str) -> Option<Self> {
        match path {
            "/oauth/token" => Some(Self::Token),
            "/oauth/revoke" => Some(Self::Revoke),
            "/oauth/introspect" => Some(Self::Introspect),
            _ => None,
        }
    }
}

/// The scope an identity needs to introspect tokens (and use the admin API).
pub const ADMIN_SCOPE: &str = "portcullis:admin";

/// OAuth requests are small forms.
const MAX_FORM_BYTES: usize = 16 * 1024;

pub(crate) async fn serve(
    snapshot: &Snapshot,
    ex: &mut Exchange,
    endpoint: Endpoint,
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
        .is_some_and(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        });
    if !form {
        return Ok(oauth_error(&OAuthError::new(
            OAuthErrorCode::InvalidRequest,
            "send the request as application/x-www-form-urlencoded",
        )));
    }
    let body = read_form(snapshot, body).await?;
    let authorization = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let authority = &snapshot.authority;
    let outcome = match endpoint {
        Endpoint::Token => {
            let mut attempt = authority.token(&body, authorization, ex.peer.ip());
            if let Err(TokenIssued::KeysStale(issuer)) = attempt.result {
                // Read the issuer's keys again (bounded), then judge once more.
                authority.refresh_issuer_keys(issuer).await;
                attempt = authority.token(&body, authorization, ex.peer.ip());
            }
            snapshot.metrics.token(attempt.result.is_ok());
            ex.client_id = attempt.client_id;
            ex.delegation = attempt.delegation;
            attempt.result
        }
        Endpoint::Revoke => authority
            .revoke(&body, authorization)
            .map(|()| Value::Object(serde_json::Map::new())),
        Endpoint::Introspect => {
            require_admin(snapshot, parts)?;
            authority.introspect(&body)
        }
    };
    match outcome {
        Ok(document) => Ok(json(StatusCode::OK, &document)),
        Err(TokenIssued::Refused(e)) => {
            ex.refused_as = Some(e.recorded().unwrap_or_else(|| recorded_as(e.code())));
            Ok(oauth_error(&e))
        }
        Err(TokenIssued::Throttled(wait)) => Err(Refusal::new(
            ProblemCode::RateLimited,
            "too many failed client authentications; wait before trying again",
        )
        .with_retry_after(retry_after_secs(wait))),
        Err(TokenIssued::Unavailable | TokenIssued::KeysStale(_)) => Err(Refusal::new(
            ProblemCode::Unavailable,
            "the token service could not reach a decision",
        )),
    }
}

/// The catalogue code an OAuth error is recorded under in the ledger and
/// metrics (the caller gets RFC 6749's shape, which OAuth clients expect).
fn recorded_as(code: OAuthErrorCode) -> ProblemCode {
    match code {
        OAuthErrorCode::InvalidClient => ProblemCode::Unauthenticated,
        OAuthErrorCode::UnauthorizedClient => ProblemCode::IdentitySuspended,
        OAuthErrorCode::InvalidScope => ProblemCode::InsufficientScope,
        OAuthErrorCode::InvalidRequest
        | OAuthErrorCode::InvalidGrant
        | OAuthErrorCode::InvalidTarget
        | OAuthErrorCode::UnsupportedGrantType => ProblemCode::InvalidRequest,
    }
}

async fn read_form(snapshot: &Snapshot, body: Incoming) -> Result<Bytes, Refusal> {
    let read = Limited::new(body, MAX_FORM_BYTES).collect();
    match tokio::time::timeout(snapshot.limits.request_timeout, read).await {
        Ok(Ok(b)) => Ok(b.to_bytes()),
        Ok(Err(_)) => Err(Refusal::new(
            ProblemCode::PayloadTooLarge,
            format!("OAuth requests are limited to {MAX_FORM_BYTES} bytes"),
        )),
        Err(_) => Err(Refusal::new(
            ProblemCode::RequestTimeout,
            "the request body did not arrive in time",
        )),
    }
}

/// Introspection is for admin callers: an active identity holding [`ADMIN_SCOPE`].
fn require_admin(snapshot: &Snapshot, parts: &Parts) -> Result<(), Refusal> {
    let authority = &snapshot.authority;
    let principal = match authority.authenticate_headers(&parts.headers) {
        Ok(p) => p,
        Err(AuthFailure::Unavailable) => {
            return Err(Refusal::new(
                ProblemCode::Unavailable,
                "the gateway could not check the credential",
            ));
        }
        Err(AuthFailure::Missing) => {
            return Err(unauthenticated(
                authority.base_url(),
                ChallengeError::Missing,
            ));
        }
        Err(_) => {
            return Err(unauthenticated(
                authority.base_url(),
                ChallengeError::InvalidToken,
            ));
        }
    };
    let active = matches!(
        authority.standing(&principal.identity, authority.now()),
        Ok(Standing::Usable)
    );
    if !active || !principal.scopes.iter().any(|s| s == ADMIN_SCOPE) {
        return Err(Refusal::new(
            ProblemCode::InsufficientScope,
            format!("introspection needs the scope `{ADMIN_SCOPE}`"),
        ));
    }
    Ok(())
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
    let body = serde_json::to_vec(document).unwrap_or_default();
    let mut response = Response::new(Full::new(Bytes::from(body)));
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
