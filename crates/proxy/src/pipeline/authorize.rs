//! Stage 8: authorize with Cedar, deny by default.
//!
//! PASS-THROUGH in this build: policies arrive with the authorization issue.
//! It already produces the [`Authorized`] proof that `forward` requires, so
//! that issue changes this function and nothing downstream.

use portcullis_contract::request::ValidatedRequest;

use super::authenticate::Caller;
use super::route::Matched;
use crate::refusal::Refusal;

/// Proof that a matched request was authorized. Only this module makes one.
#[derive(Debug)]
pub(crate) struct Authorized<'s, 'p> {
    matched: Matched<'s, 'p>,
}

impl<'s, 'p> Authorized<'s, 'p> {
    pub(crate) fn matched(&self) -> &Matched<'s, 'p> {
        &self.matched
    }
}

pub(crate) fn check<'s, 'p>(
    caller: &Caller,
    matched: Matched<'s, 'p>,
    _validated: &ValidatedRequest,
) -> Result<Authorized<'s, 'p>, Refusal> {
    match caller {
        Caller::Identity(_) => Ok(Authorized { matched }),
    }
}
