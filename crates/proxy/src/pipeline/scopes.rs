//! Stage 6: the token must be for this API, and carry the scopes the
//! operation's OpenAPI security requirements name. Missing scope: 403
//! `insufficient-scope` with the required scope in `WWW-Authenticate`.

use portcullis_core::ProblemCode;
use portcullis_token::{ChallengeError, challenge};

use super::authenticate::{Caller, REALM, unauthenticated};
use super::route::Matched;
use crate::refusal::Refusal;
use crate::snapshot::Snapshot;

pub(crate) fn check(
    snapshot: &Snapshot,
    caller: &Caller,
    matched: &Matched<'_, '_>,
) -> Result<(), Refusal> {
    let Caller::Identity(principal) = caller;
    let base = snapshot.authority.base_url();
    // A token is issued for one API; it opens no other.
    if principal
        .audience
        .as_deref()
        .is_some_and(|aud| aud != matched.api.config.name)
    {
        return Err(unauthenticated(base, ChallengeError::InvalidToken));
    }
    matched
        .operation
        .check_scopes(&principal.scopes)
        .map_err(|needed| {
            let scope = needed.join(" ");
            Refusal::new(
                ProblemCode::InsufficientScope,
                format!("this operation needs the scope `{scope}`"),
            )
            .with_challenge(challenge(
                REALM,
                ChallengeError::InsufficientScope { scope: &scope },
                &format!("{base}/.well-known/oauth-protected-resource"),
            ))
        })
}
