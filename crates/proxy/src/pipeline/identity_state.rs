//! Stage 5: a suspended, quarantined, retired or expired identity is refused
//! on its very next request, tokens it already holds included.

use portcullis_core::ProblemCode;

use super::authenticate::Caller;
use crate::refusal::Refusal;
use crate::snapshot::Snapshot;

pub(crate) fn check(snapshot: &Snapshot, caller: &Caller) -> Result<(), Refusal> {
    let Caller::Identity(principal) = caller;
    let authority = &snapshot.authority;
    let identity = authority
        .identity(&principal.identity)
        .map_err(|_| {
            Refusal::new(
                ProblemCode::Unavailable,
                "the gateway could not check the identity",
            )
        })?
        .ok_or_else(|| {
            Refusal::new(
                ProblemCode::IdentitySuspended,
                "the identity no longer exists",
            )
        })?;
    let now = authority.now();
    identity.check_usable(now).map_err(|why| {
        Refusal::new(ProblemCode::IdentitySuspended, format!("the calling {why}"))
    })?;
    authority.touch(&identity.id, now);
    Ok(())
}
