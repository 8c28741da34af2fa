//! Stage 2: authenticate. Exactly one credential: a bearer token from the
//! token service or an API key. None, two, or a bad one: 401
//! `unauthenticated` with `WWW-Authenticate`, the same body whatever the
//! path, before anything about the path is looked at. The discovery and
//! token endpoints are answered before this stage.

use http::request::Parts;
use portcullis_core::ProblemCode;
use portcullis_token::{ChallengeError, challenge};

use crate::authority::{AuthFailure, Principal};
use crate::exchange::Exchange;
use crate::refusal::Refusal;
use crate::snapshot::Snapshot;

/// Who is calling.
#[derive(Debug)]
pub(crate) enum Caller {
    Identity(Principal),
}

/// The realm named in challenges.
pub(crate) const REALM: &str = "portcullis";

pub(crate) fn check(
    snapshot: &Snapshot,
    ex: &mut Exchange,
    parts: &Parts,
) -> Result<Caller, Refusal> {
    let authority = &snapshot.authority;
    match authority.authenticate_headers(&parts.headers) {
        Ok(principal) => {
            ex.identity = Some(principal.identity.clone());
            ex.credential.clone_from(&principal.credential_id);
            ex.token.clone_from(&principal.token_id);
            ex.delegation.clone_from(&principal.delegation);
            Ok(Caller::Identity(principal))
        }
        Err(AuthFailure::Unavailable) => Err(Refusal::new(
            ProblemCode::Unavailable,
            "the gateway could not check the credential",
        )),
        Err(failure) => {
            tracing::debug!(request_id = %ex.request_id, reason = %failure, "not authenticated");
            let kind = match failure {
                AuthFailure::Missing => ChallengeError::Missing,
                AuthFailure::Malformed(_) => ChallengeError::InvalidRequest,
                _ => ChallengeError::InvalidToken,
            };
            Err(unauthenticated(authority.base_url(), kind))
        }
    }
}

/// The one 401: same body for every path and every reason; the reason class
/// is only in the challenge, as RFC 6750 asks.
pub(crate) fn unauthenticated(base_url: &str, kind: ChallengeError<'_>) -> Refusal {
    Refusal::new(
        ProblemCode::Unauthenticated,
        "a valid credential is required",
    )
    .with_challenge(challenge(
        REALM,
        kind,
        &format!("{base_url}/.well-known/oauth-protected-resource"),
    ))
}
