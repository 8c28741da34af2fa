//! The catalogue of stable refusal codes.
//!
//! Each code declares its HTTP status, title and documentation exactly once,
//! here. The served catalogue (`/.well-known/portcullis/problems`) and the docs
//! are generated from this table, never written twice.

use serde_json::{Value, json};

/// A stable refusal code. The kebab-case string is the public contract; the
/// variant order is the catalogue order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProblemCode {
    MalformedRequest,
    Unauthenticated,
    AmbiguousPath,
    UndeclaredRoute,
    MethodNotAllowed,
    IdentitySuspended,
    InsufficientScope,
    InvalidRequest,
    UnsupportedMediaType,
    PayloadTooLarge,
    HeadersTooLarge,
    RequestTimeout,
    Forbidden,
    ContractChanged,
    RateLimited,
    UpstreamUnavailable,
    UpstreamTimeout,
    ResponseContractViolation,
    SecretInResponse,
    Unavailable,
}

/// What the catalogue says about one code.
struct Entry {
    code: &'static str,
    status: u16,
    title: &'static str,
    meaning: &'static str,
}

impl ProblemCode {
    /// Every code, in catalogue order.
    pub const ALL: [ProblemCode; 20] = [
        ProblemCode::MalformedRequest,
        ProblemCode::Unauthenticated,
        ProblemCode::AmbiguousPath,
        ProblemCode::UndeclaredRoute,
        ProblemCode::MethodNotAllowed,
        ProblemCode::IdentitySuspended,
        ProblemCode::InsufficientScope,
        ProblemCode::InvalidRequest,
        ProblemCode::UnsupportedMediaType,
        ProblemCode::PayloadTooLarge,
        ProblemCode::HeadersTooLarge,
        ProblemCode::RequestTimeout,
        ProblemCode::Forbidden,
        ProblemCode::ContractChanged,
        ProblemCode::RateLimited,
        ProblemCode::UpstreamUnavailable,
        ProblemCode::UpstreamTimeout,
        ProblemCode::ResponseContractViolation,
        ProblemCode::SecretInResponse,
        ProblemCode::Unavailable,
    ];

    fn entry(self) -> Entry {
        let (code, status, title, meaning) = match self {
            Self::MalformedRequest => (
                "malformed-request",
                400,
                "Malformed request",
                "The request is not well-formed HTTP: its request line, a header name or value, `Host` (missing, repeated, or disagreeing with the target), `Content-Length` or `Transfer-Encoding` framing. The connection is closed after this answer, since where the next request would start cannot be trusted.",
            ),
            Self::Unauthenticated => (
                "unauthenticated",
                401,
                "Authentication required",
                "No valid credential was presented.",
            ),
            Self::AmbiguousPath => (
                "ambiguous-path",
                400,
                "Ambiguous request path",
                "The request target is not in canonical form (dot segments, empty segments, encoded slashes or unreserved characters, backslashes, NUL, `;` parameters, invalid UTF-8, absolute form). It is refused, never rewritten.",
            ),
            Self::UndeclaredRoute => (
                "undeclared-route",
                404,
                "Undeclared route",
                "No operation in the API's contract matches this path.",
            ),
            Self::MethodNotAllowed => (
                "method-not-allowed",
                405,
                "Method not allowed",
                "The path is declared but not for this method; `Allow` lists the declared methods.",
            ),
            Self::IdentitySuspended => (
                "identity-suspended",
                403,
                "Identity not active",
                "The calling identity is suspended, quarantined, retired or expired.",
            ),
            Self::InsufficientScope => (
                "insufficient-scope",
                403,
                "Insufficient scope",
                "The token lacks a scope the operation requires.",
            ),
            Self::InvalidRequest => (
                "invalid-request",
                400,
                "Request does not match the contract",
                "A parameter or the body violates the operation's contract; `errors` lists each violation with its JSON pointer.",
            ),
            Self::UnsupportedMediaType => (
                "unsupported-media-type",
                415,
                "Unsupported media type",
                "The body's content type is missing or not one the operation declares.",
            ),
            Self::PayloadTooLarge => (
                "payload-too-large",
                413,
                "Payload too large",
                "The request body exceeds the configured limit.",
            ),
            Self::HeadersTooLarge => (
                "headers-too-large",
                431,
                "Request headers too large",
                "The request headers exceed the configured limit.",
            ),
            Self::RequestTimeout => (
                "request-timeout",
                408,
                "Request timeout",
                "The request was not received within the configured time.",
            ),
            Self::Forbidden => (
                "forbidden",
                403,
                "Forbidden",
                "Policy does not permit this identity to perform this operation.",
            ),
            Self::ContractChanged => (
                "contract-changed",
                409,
                "Contract changed",
                "An MCP tool call was made under a contract the gateway no longer enforces: the API's contract changed since the session listed its tools (each tool's `_meta` names the contract digest it came from). List the tools again, then call.",
            ),
            Self::RateLimited => (
                "rate-limited",
                429,
                "Rate limited",
                "Too many requests; `Retry-After` says when to try again.",
            ),
            Self::UpstreamUnavailable => (
                "upstream-unavailable",
                502,
                "Upstream unavailable",
                "The upstream failed or could not be reached. Its error text is never passed on.",
            ),
            Self::UpstreamTimeout => (
                "upstream-timeout",
                504,
                "Upstream timeout",
                "The upstream did not answer in time.",
            ),
            Self::ResponseContractViolation => (
                "response-contract-violation",
                502,
                "Response violates the contract",
                "The upstream answered with a status, content type or body the contract does not declare.",
            ),
            Self::SecretInResponse => (
                "secret-in-response",
                502,
                "Secret in response",
                "The upstream's response contained a credential-looking value and the API is configured to block such responses.",
            ),
            Self::Unavailable => (
                "unavailable",
                503,
                "Service unavailable",
                "The gateway could not reach a decision (an internal fault); it refuses rather than allows.",
            ),
        };
        Entry {
            code,
            status,
            title,
            meaning,
        }
    }

    /// The stable kebab-case code.
    pub fn as_str(self) -> &'static str {
        self.entry().code
    }

    /// The HTTP status this code is always sent with.
    pub fn status(self) -> u16 {
        self.entry().status
    }

    /// The short human title.
    pub fn title(self) -> &'static str {
        self.entry().title
    }

    /// The problem `type` URI: a reference into the catalogue the gateway serves.
    pub fn type_uri(self) -> String {
        format!("/.well-known/portcullis/problems#{}", self.as_str())
    }

    /// Whether the gateway answers with this code before forwarding (stages 1
    /// to 9, a request refused); the others report on the upstream's answer
    /// or the gateway's own health.
    pub fn refused_before_forwarding(self) -> bool {
        match self {
            Self::MalformedRequest
            | Self::Unauthenticated
            | Self::AmbiguousPath
            | Self::UndeclaredRoute
            | Self::MethodNotAllowed
            | Self::IdentitySuspended
            | Self::InsufficientScope
            | Self::InvalidRequest
            | Self::UnsupportedMediaType
            | Self::PayloadTooLarge
            | Self::HeadersTooLarge
            | Self::RequestTimeout
            | Self::Forbidden
            | Self::ContractChanged
            | Self::RateLimited => true,
            Self::UpstreamUnavailable
            | Self::UpstreamTimeout
            | Self::ResponseContractViolation
            | Self::SecretInResponse
            | Self::Unavailable => false,
        }
    }

    /// Looks a code up by its public string.
    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == code)
    }

    /// The catalogue as served at `/.well-known/portcullis/problems`.
    pub fn catalogue() -> Value {
        let problems: Vec<Value> = Self::ALL
            .iter()
            .map(|c| {
                let e = c.entry();
                json!({
                    "code": e.code,
                    "status": e.status,
                    "title": e.title,
                    "type": c.type_uri(),
                    "meaning": e.meaning,
                })
            })
            .collect();
        json!({ "problems": problems })
    }
}

impl std::fmt::Display for ProblemCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn codes_are_unique_and_round_trip() {
        let mut seen = HashSet::new();
        for code in ProblemCode::ALL {
            assert!(seen.insert(code.as_str()), "duplicate {code}");
            assert_eq!(ProblemCode::from_code(code.as_str()), Some(code));
            assert!((400..600).contains(&code.status()));
        }
    }

    #[test]
    fn catalogue_lists_every_code_in_order() {
        // Key order depends on serde_json's `preserve_order`, which another crate
        // in the build may switch on: snapshots compare sorted maps.
        let mut settings = insta::Settings::clone_current();
        settings.set_sort_maps(true);
        let _sorted = settings.bind_to_scope();
        insta::assert_json_snapshot!(ProblemCode::catalogue());
    }
}
