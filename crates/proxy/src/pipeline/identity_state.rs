//! Stage 5: a suspended, quarantined, retired or expired identity is refused
//! on its very next request, tokens it already holds included.

use portcullis_core::ProblemCode;

use super::authenticate::Caller;
use crate::authority::Standing;
use crate::exchange::Exchange;
use crate::refusal::Refusal;
use crate::snapshot::Snapshot;

pub(crate) fn check(snapshot: &Snapshot, ex: &Exchange, caller: &Caller) -> Result<(), Refusal> {
    let Caller::Identity(principal) = caller;
    let authority = &snapshot.authority;
    let now = authority.now();
    let standing = authority.standing(&principal.identity, now).map_err(|_| {
        Refusal::new(
            ProblemCode::Unavailable,
            "the gateway could not check the identity",
        )
    })?;
    match standing {
        Standing::Usable => {
            // An offline explanation is not a use of the identity.
            if !ex.offline {
                authority.touch(&principal.identity, now);
            }
            Ok(())
        }
        Standing::Unusable(why) => Err(Refusal::new(
            ProblemCode::IdentitySuspended,
            format!("the calling {why}"),
        )),
        Standing::Gone => Err(Refusal::new(
            ProblemCode::IdentitySuspended,
            "the identity no longer exists",
        )),
    }
}
