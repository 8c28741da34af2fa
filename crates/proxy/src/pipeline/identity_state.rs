//! Stage 5: identity state (suspended, quarantined, retired, expired).
//!
//! PASS-THROUGH in this build: there is no identity inventory yet.

use super::authenticate::Caller;
use crate::refusal::Refusal;

pub(crate) fn check(caller: &Caller) -> Result<(), Refusal> {
    match caller {
        Caller::Anonymous => Ok(()),
    }
}
