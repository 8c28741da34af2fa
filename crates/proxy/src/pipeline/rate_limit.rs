//! Stage 9: rate limit per identity and per operation.
//!
//! PASS-THROUGH in this build: limits arrive with identities.

use super::authenticate::Caller;
use super::authorize::Authorized;
use crate::refusal::Refusal;

pub(crate) fn check(caller: &Caller, _authorized: &Authorized<'_, '_>) -> Result<(), Refusal> {
    match caller {
        Caller::Identity(_) => Ok(()),
    }
}
