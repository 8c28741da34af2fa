//! Stage 2: authenticate.
//!
//! PASS-THROUGH in this build: every caller is anonymous. The issue
//! "Machine identities" replaces this with bearer-token and API-key checks;
//! its place in the order (before the canonical check, so an unauthenticated
//! caller learns nothing about paths) is fixed here.

use http::request::Parts;

use crate::refusal::Refusal;

/// Who is calling.
#[derive(Debug)]
pub(crate) enum Caller {
    /// No authentication is configured yet.
    Anonymous,
}

pub(crate) fn check(_parts: &Parts) -> Result<Caller, Refusal> {
    Ok(Caller::Anonymous)
}
