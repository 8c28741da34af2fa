//! The one conversion from an internal refusal to the problem+json response.
//!
//! Every stage returns a [`Refusal`]; this module is the only place that
//! renders one, so every refusal on every path has the same shape.

use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode, header};
use http_body_util::Full;
use portcullis_contract::{RequestError, ResponseError};
use portcullis_core::{Problem, ProblemCode};

use crate::exchange::Exchange;

/// A stage's "no", with the headers its status requires.
#[derive(Debug)]
pub(crate) struct Refusal {
    pub problem: Problem,
    /// `Allow` for 405.
    pub allow: Option<String>,
    /// `WWW-Authenticate` for 401 and scope refusals.
    pub challenge: Option<String>,
    /// `Retry-After` (seconds) for 429.
    pub retry_after: Option<u64>,
}

impl Refusal {
    pub(crate) fn new(code: ProblemCode, detail: impl Into<String>) -> Self {
        Self {
            problem: Problem::new(code, detail),
            allow: None,
            challenge: None,
            retry_after: None,
        }
    }

    /// Adds the `WWW-Authenticate` challenge.
    pub(crate) fn with_challenge(mut self, challenge: String) -> Self {
        self.challenge = Some(challenge);
        self
    }

    /// Adds `Retry-After`, in seconds.
    pub(crate) fn with_retry_after(mut self, secs: u64) -> Self {
        self.retry_after = Some(secs);
        self
    }

    pub(crate) fn method_not_allowed(allow: &str) -> Self {
        Self {
            problem: Problem::new(
                ProblemCode::MethodNotAllowed,
                "the path is declared, but not for this method",
            ),
            allow: Some(allow.to_owned()),
            challenge: None,
            retry_after: None,
        }
    }

    pub(crate) fn code(&self) -> ProblemCode {
        self.problem.code()
    }

    /// Renders the RFC 9457 response.
    pub(crate) fn into_response(self, ex: &Exchange) -> Response<Full<Bytes>> {
        let body = self.problem.to_json(&ex.request_id);
        let mut response = Response::new(Full::new(Bytes::from(body)));
        *response.status_mut() =
            StatusCode::from_u16(self.problem.status()).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if let Some(allow) = self.allow.and_then(|a| HeaderValue::from_str(&a).ok()) {
            headers.insert(header::ALLOW, allow);
        }
        if let Some(challenge) = self.challenge.and_then(|c| HeaderValue::from_str(&c).ok()) {
            headers.insert(header::WWW_AUTHENTICATE, challenge);
        }
        if self.problem.code() == ProblemCode::MalformedRequest {
            // Where the next request on this connection would start cannot
            // be trusted once one head was not well-formed.
            headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
        if let Some(secs) = self.retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

impl From<RequestError> for Refusal {
    fn from(e: RequestError) -> Self {
        match e {
            RequestError::Invalid(v) => Self {
                problem: Problem::new(ProblemCode::InvalidRequest, v.detail().to_owned())
                    .with_errors(v.into_errors()),
                allow: None,
                challenge: None,
                retry_after: None,
            },
            RequestError::MediaType(d) => Self::new(ProblemCode::UnsupportedMediaType, d.as_str()),
            RequestError::TooLarge(d) => Self::new(ProblemCode::PayloadTooLarge, d.as_str()),
        }
    }
}

impl From<ResponseError> for Refusal {
    fn from(e: ResponseError) -> Self {
        match e {
            ResponseError::Contract(v) => Self {
                problem: Problem::new(
                    ProblemCode::ResponseContractViolation,
                    v.detail().to_owned(),
                )
                .with_errors(v.into_errors()),
                allow: None,
                challenge: None,
                retry_after: None,
            },
            ResponseError::Secret(d) => Self::new(ProblemCode::SecretInResponse, d.as_str()),
        }
    }
}
