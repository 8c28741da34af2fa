//! Stage 5: a suspended, quarantined, retired or expired identity is refused
//! on its very next request, tokens it already holds included. For a
//! delegated token, so is every identity it was delegated through (the rest
//! of its act chain, and the identity it acts for when an identity's own
//! token was exchanged): ending an agent ends every token exchanged from it.
//! An identity the watch throttled gets its lower rate here (429).

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
    let through = principal
        .delegation
        .iter()
        .flat_map(|d| authority.delegated_through(d));
    let calling = std::iter::once((principal.identity.as_str(), "calling"));
    for (id, role) in calling.chain(through.map(|id| (id, "delegating"))) {
        let standing = authority.standing(id, now).map_err(|_| {
            Refusal::new(
                ProblemCode::Unavailable,
                "the gateway could not check the identity",
            )
        })?;
        refuse(standing, role)?;
    }
    // An offline explanation is not a use of the identity, nor spends a
    // throttle's allowance.
    if !ex.offline {
        throttled(authority, &principal.identity)?;
        authority.touch(&principal.identity, now);
    }
    Ok(())
}

/// The watch's throttle: a lower rate for an identity it caught, on every
/// request its credential reaches an operation with (so the denials that
/// set it off slow down too), before scopes, validation and policy.
fn throttled(authority: &crate::authority::Authority, identity: &str) -> Result<(), Refusal> {
    authority.holds.check_throttle(identity).map_err(|wait| {
        Refusal::new(
            ProblemCode::RateLimited,
            "this identity is throttled by the watch after an alert",
        )
        .with_retry_after(crate::rate::retry_after_secs(wait))
    })
}

fn refuse(standing: Standing, role: &str) -> Result<(), Refusal> {
    match standing {
        Standing::Usable => Ok(()),
        Standing::Unusable(why) => Err(Refusal::new(
            ProblemCode::IdentitySuspended,
            format!("the {role} {why}"),
        )),
        Standing::Gone => Err(Refusal::new(
            ProblemCode::IdentitySuspended,
            format!("the {role} identity no longer exists"),
        )),
    }
}
