//! The admin listener's "no": a [`Problem`] plus the headers its status
//! needs, and the one place a management error becomes a refusal.
//!
//! A handler or extractor returns a [`Refusal`]; its `IntoResponse` only
//! carries it out to the envelope, which renders it with the request id.
//! Nothing here may put internal error text (store details, paths) into a
//! body: those go to the log.

use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};
use portcullis_core::{FieldError, Problem, ProblemCode};
use portcullis_proxy::authority::ManageError;
use portcullis_store::StoreError;

/// A refusal, waiting for the envelope to render it.
#[derive(Debug, Clone)]
pub(crate) struct Refusal {
    problem: Problem,
    /// `Allow` for 405.
    allow: Option<HeaderValue>,
    /// `WWW-Authenticate` for 401 and scope refusals.
    challenge: Option<String>,
}

/// A refusal travelling from a handler to the envelope inside a response.
#[derive(Debug, Clone)]
pub(crate) struct Pending(pub Refusal);

impl Refusal {
    pub(crate) fn new(code: ProblemCode, detail: impl Into<String>) -> Self {
        Self {
            problem: Problem::new(code, detail),
            allow: None,
            challenge: None,
        }
    }

    /// 400 `invalid-request` locating each violation by JSON pointer.
    pub(crate) fn invalid(detail: impl Into<String>, errors: Vec<FieldError>) -> Self {
        Self {
            problem: Problem::new(ProblemCode::InvalidRequest, detail).with_errors(errors),
            allow: None,
            challenge: None,
        }
    }

    /// 400 `invalid-request` with one located violation.
    pub(crate) fn invalid_at(pointer: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        Self::invalid(message.clone(), vec![FieldError::new(pointer, message)])
    }

    /// 503 `unavailable`: a fault, never an allow.
    pub(crate) fn unavailable() -> Self {
        Self::new(
            ProblemCode::Unavailable,
            "the admin listener could not complete the request",
        )
    }

    pub(crate) fn with_challenge(mut self, challenge: String) -> Self {
        self.challenge = Some(challenge);
        self
    }

    pub(crate) fn with_allow(mut self, allow: Option<HeaderValue>) -> Self {
        self.allow = allow;
        self
    }

    pub(crate) fn code(&self) -> ProblemCode {
        self.problem.code()
    }

    /// The RFC 9457 response; `request_id` is the `instance`.
    pub(crate) fn render(self, request_id: &str) -> Response {
        let status =
            StatusCode::from_u16(self.problem.status()).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
        let mut response = (status, self.problem.to_json(request_id)).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let Some(allow) = self.allow {
            headers.insert(header::ALLOW, allow);
        }
        if let Some(challenge) = self.challenge.and_then(|c| HeaderValue::from_str(&c).ok()) {
            headers.insert(header::WWW_AUTHENTICATE, challenge);
        }
        response
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let status =
            StatusCode::from_u16(self.problem.status()).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
        let mut response = status.into_response();
        response.extensions_mut().insert(Pending(self));
        response
    }
}

/// A management error as the caller sees it. `pointer` locates the input
/// that named the thing acted on (`/path/id`, `/body/jti`).
///
/// A missing identity or credential is 400 `invalid-request` located at
/// that input, not 404: the catalogue's only 404 code, `undeclared-route`,
/// means "no such admin path", and a problem's status is its code's.
pub(crate) fn managed(e: ManageError, pointer: &str) -> Refusal {
    match e {
        ManageError::NoSuchIdentity(id) => {
            Refusal::invalid_at(pointer, format!("identity `{id}` does not exist"))
        }
        ManageError::Invalid(message) => Refusal::invalid_at(pointer, message),
        ManageError::Token(e) => Refusal::invalid_at(pointer, e.to_string()),
        ManageError::Store(e) => store(e, pointer),
        ManageError::Unavailable => Refusal::unavailable(),
    }
}

/// A store error: what the caller named is missing or taken (400), or the
/// store cannot be used (503, details only in the log).
pub(crate) fn store(e: StoreError, pointer: &str) -> Refusal {
    match e {
        StoreError::NotFound(nf) => Refusal::invalid_at(
            pointer,
            format!("{} `{}` does not exist", nf.what(), nf.id()),
        ),
        StoreError::Conflict(c) => Refusal::invalid_at(pointer, c.to_string()),
        StoreError::Unavailable(_) | StoreError::Corrupt(_) => {
            tracing::error!(error = %e, "identity store fault on the admin listener");
            Refusal::unavailable()
        }
    }
}
