//! The fixed family of requests every operation must refuse, each with the
//! code the gateway must answer: a required parameter missing, a value of
//! the wrong type, an undeclared body field, the wrong content type, a body
//! over the limit, the path-trick spellings of the operation's own path,
//! each method the path does not declare, and the credential cases (none,
//! expired, lacking the scope). Method and URL override headers are not
//! refused but dropped, so the request must be answered exactly as without
//! them. Each variant starts from the operation's valid request.

use portcullis_contract::{Method, Operation};

use crate::request::{Built, Probe};

mod kinds;

#[cfg(test)]
use kinds::{oversized, without_query_param};

/// What the gateway must answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expect {
    /// Refused with this code.
    Refused(&'static str),
    /// Answered as the valid request is (allowed or refused alike).
    SameAsValid,
}

/// The credential a variant is sent with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credential {
    /// The identity's token for the operation.
    Valid,
    /// No credential at all.
    None,
    /// A token of the identity that has expired.
    Expired,
    /// A token of the identity without the operation's scopes.
    WithoutScope,
}

/// One negative request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Negative {
    /// A stable name for the kind of variant (`missing-parameter`, ...).
    pub kind: &'static str,
    /// What was changed, for a reader.
    pub detail: String,
    pub probe: Probe,
    pub credential: Credential,
    pub expect: Expect,
}

/// The family for `op`, from its valid request `built`. `declared` lists the
/// methods the contract declares on the same path; `body_limit` is the
/// gateway's `limits.body_bytes`. One kind after another, in this order.
pub fn family(
    op: &Operation,
    built: &Built,
    declared: &[Method],
    body_limit: u64,
) -> Vec<Negative> {
    [
        kinds::missing_parameters(op, built),
        kinds::wrong_types(op, built),
        kinds::unknown_field(op, built),
        kinds::wrong_content_type(op, built),
        kinds::oversized_body(built, body_limit),
        kinds::path_tricks(&built.probe),
        kinds::undeclared_methods(&built.probe, declared),
        kinds::override_headers(&built.probe),
        kinds::credentials(op, &built.probe),
    ]
    .concat()
}

impl Negative {
    /// A variant of `valid` sent with the operation's own token.
    fn with_token(kind: &'static str, detail: String, probe: Probe, expect: Expect) -> Self {
        Self {
            kind,
            detail,
            probe,
            credential: Credential::Valid,
            expect,
        }
    }
}

#[cfg(test)]
mod tests;
