//! Stage 6: the operation's declared OAuth scopes must be in the token.
//!
//! PASS-THROUGH in this build: no tokens are issued yet. The contract already
//! carries each operation's security requirements for this stage to use.

use super::authenticate::Caller;
use super::route::Matched;
use crate::refusal::Refusal;

pub(crate) fn check(caller: &Caller, _matched: &Matched<'_, '_>) -> Result<(), Refusal> {
    match caller {
        Caller::Anonymous => Ok(()),
    }
}
