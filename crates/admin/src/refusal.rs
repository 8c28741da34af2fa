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
    /// The headers some refusals need; boxed, since most need none.
    headers: Option<Box<Headers>>,
}

/// Headers a refusal's status calls for.
#[derive(Debug, Clone, Default)]
struct Headers {
    /// `Allow` for 405.
    allow: Option<HeaderValue>,
    /// `WWW-Authenticate` for 401 and scope refusals.
    challenge: Option<String>,
    /// `Retry-After` for 429, whole seconds rounded up.
    retry_after: Option<u64>,
    /// `HX-Redirect`: where htmx should send the browser instead (the
    /// console's sign-in page).
    redirect: Option<&'static str>,
}

/// A refusal travelling from a handler to the envelope inside a response.
#[derive(Debug, Clone)]
pub(crate) struct Pending(pub Refusal);

impl Refusal {
    pub(crate) fn new(code: ProblemCode, detail: impl Into<String>) -> Self {
        Self {
            problem: Problem::new(code, detail),
            headers: None,
        }
    }

    /// 400 `invalid-request` locating each violation by JSON pointer.
    pub(crate) fn invalid(detail: impl Into<String>, errors: Vec<FieldError>) -> Self {
        Self {
            problem: Problem::new(ProblemCode::InvalidRequest, detail).with_errors(errors),
            headers: None,
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

    fn headers(&mut self) -> &mut Headers {
        self.headers.get_or_insert_default()
    }

    pub(crate) fn with_challenge(mut self, challenge: String) -> Self {
        self.headers().challenge = Some(challenge);
        self
    }

    pub(crate) fn with_retry_after(mut self, wait: std::time::Duration) -> Self {
        self.headers().retry_after = Some(wait.as_secs() + u64::from(wait.subsec_nanos() > 0));
        self
    }

    pub(crate) fn with_redirect(mut self, to: &'static str) -> Self {
        self.headers().redirect = Some(to);
        self
    }

    pub(crate) fn with_allow(mut self, allow: Option<HeaderValue>) -> Self {
        if allow.is_some() {
            self.headers().allow = allow;
        }
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
        let extra = self.headers.map(|h| *h).unwrap_or_default();
        if let Some(allow) = extra.allow {
            headers.insert(header::ALLOW, allow);
        }
        if let Some(challenge) = extra.challenge.and_then(|c| HeaderValue::from_str(&c).ok()) {
            headers.insert(header::WWW_AUTHENTICATE, challenge);
        }
        if let Some(to) = extra.redirect {
            headers.insert("hx-redirect", HeaderValue::from_static(to));
        }
        if let Some(secs) = extra.retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(secs.max(1)));
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
