//! Who may use the admin listener: a credential the gateway's authority
//! accepts (bearer token or API key, exactly one), of an identity that is
//! usable now, holding [`ADMIN_SCOPE`]. Checked before the path is looked
//! at, so an anonymous caller learns nothing about which admin paths exist.
//!
//! The checks run in the gateway's order (authenticate, identity state,
//! scopes) and refuse with the gateway's codes. A store fault is 503, never
//! a pass.
//!
//! A token's audience is not checked beyond what the gateway's verifier
//! does (it must name one of the gateway's APIs): the token service has no
//! audience for the admin listener yet, so an admin token is one issued for
//! any API, and what makes it an admin token is the scope alone.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::HeaderMap;
use portcullis_core::ProblemCode;
use portcullis_proxy::authority::{AuthFailure, Authority, Principal};
use portcullis_token::{ChallengeError, challenge};

use crate::refusal::Refusal;

/// The scope an identity needs to use the admin listener.
pub use portcullis_proxy::ADMIN_SCOPE;

/// The realm named in challenges: the gateway's, whose token service
/// issues the admin's tokens.
const REALM: &str = "portcullis";

/// The admin making this request (request and response extensions).
#[derive(Debug, Clone)]
pub(crate) struct AdminCaller {
    pub identity: String,
}

pub(crate) async fn authenticate(
    State(authority): State<Arc<Authority>>,
    mut request: Request,
    next: Next,
) -> Response {
    match admit(&authority, request.headers()) {
        Ok(principal) => {
            let caller = AdminCaller {
                identity: principal.identity,
            };
            request.extensions_mut().insert(caller.clone());
            let mut response = next.run(request).await;
            response.extensions_mut().insert(caller);
            response
        }
        Err(refusal) => refusal.into_response(),
    }
}

/// The three checks, in the gateway's order.
fn admit(authority: &Authority, headers: &HeaderMap) -> Result<Principal, Refusal> {
    let metadata = format!(
        "{}/.well-known/oauth-protected-resource",
        authority.base_url()
    );
    let principal = match authority.authenticate_headers(headers) {
        Ok(principal) => principal,
        Err(AuthFailure::Unavailable) => return Err(Refusal::unavailable()),
        Err(failure) => {
            tracing::debug!(reason = %failure, "admin caller not authenticated");
            let kind = match failure {
                AuthFailure::Missing => ChallengeError::Missing,
                AuthFailure::Malformed(_) => ChallengeError::InvalidRequest,
                AuthFailure::Token(_)
                | AuthFailure::Revoked
                | AuthFailure::UnknownCredential
                | AuthFailure::Unavailable => ChallengeError::InvalidToken,
            };
            return Err(Refusal::new(
                ProblemCode::Unauthenticated,
                "a valid admin credential is required",
            )
            .with_challenge(challenge(REALM, kind, &metadata)));
        }
    };
    let identity = authority
        .identity(&principal.identity)
        .map_err(|_| Refusal::unavailable())?
        .ok_or_else(|| {
            Refusal::new(
                ProblemCode::IdentitySuspended,
                "the identity no longer exists",
            )
        })?;
    identity.check_usable(authority.now()).map_err(|why| {
        Refusal::new(ProblemCode::IdentitySuspended, format!("the calling {why}"))
    })?;
    if !principal.scopes.iter().any(|s| s == ADMIN_SCOPE) {
        return Err(Refusal::new(
            ProblemCode::InsufficientScope,
            format!("the admin listener requires scope `{ADMIN_SCOPE}`"),
        )
        .with_challenge(challenge(
            REALM,
            ChallengeError::InsufficientScope { scope: ADMIN_SCOPE },
            &metadata,
        )));
    }
    Ok(principal)
}
