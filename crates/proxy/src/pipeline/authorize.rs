//! Stage 8: authorize with Cedar, deny by default.
//!
//! The identity as the inventory holds it, the matched operation as the
//! action, the parameters as validation typed them, and the token's scopes,
//! the caller's address and the time as context. No permit: 403
//! `forbidden`. An evaluation error, or an identity that vanished since
//! authentication: 503 `unavailable`, never allow. The decision (determining
//! policy ids and errors) is kept on the exchange for the record.

use portcullis_contract::request::ValidatedRequest;
use portcullis_core::ProblemCode;
use portcullis_policy::AuthzRequest;

use super::authenticate::Caller;
use super::forward::Destination;
use super::route::Matched;
use crate::exchange::Exchange;
use crate::refusal::Refusal;
use crate::snapshot::Snapshot;

/// Proof that a matched request was authorized. Only this module makes one.
#[derive(Debug)]
pub(crate) struct Authorized<'s, 'p> {
    matched: Matched<'s, 'p>,
}

impl<'s, 'p> Authorized<'s, 'p> {
    pub(crate) fn matched(&self) -> &Matched<'s, 'p> {
        &self.matched
    }

    /// Where the authorized request goes, with the caller's own upstream
    /// credential if it holds one.
    pub(crate) fn destination<'c: 'p>(&self, caller: &'c Caller) -> Destination<'s, 'p> {
        let Caller::Identity(principal) = caller;
        Destination::new(
            self.matched.api,
            self.matched.rest,
            Some(principal.identity.as_str()),
        )
    }
}

pub(crate) fn check<'s, 'p>(
    snapshot: &Snapshot,
    ex: &mut Exchange,
    caller: &Caller,
    matched: Matched<'s, 'p>,
    validated: &ValidatedRequest,
) -> Result<Authorized<'s, 'p>, Refusal> {
    let Caller::Identity(principal) = caller;
    let authority = &snapshot.authority;
    let ip = ex.peer.ip().to_string();
    let time = authority.now();
    let offline = ex.offline;
    let decided = authority.with_identity(&principal.identity, |identity| {
        let request = AuthzRequest {
            identity,
            api: &matched.api.config.name,
            operation: &matched.operation.id,
            params: &validated.path,
            query: &validated.query,
            scopes: &principal.scopes,
            ip: &ip,
            time,
            delegation: principal.delegation.as_deref(),
        };
        let store = &snapshot.policies.store;
        let shown = offline.then(|| store.request_json(&request));
        (store.authorize(&request), shown)
    });
    let unavailable = || {
        Refusal::new(
            ProblemCode::Unavailable,
            "the gateway could not reach a policy decision",
        )
    };
    let Ok(Some((decision, shown))) = decided else {
        return Err(unavailable());
    };
    ex.cedar = shown;
    let outcome = if decision.allowed {
        Ok(Authorized { matched })
    } else if !decision.errors.is_empty() {
        tracing::warn!(
            request_id = %ex.request_id,
            errors = ?decision.errors,
            "policy evaluation failed; denied"
        );
        Err(unavailable())
    } else {
        // Which policy denied is for the operator (logs, audit, `explain`),
        // not for the caller probing the rules.
        Err(Refusal::new(
            ProblemCode::Forbidden,
            "no policy permits this operation for this identity",
        ))
    };
    ex.decision = Some(decision);
    outcome
}
