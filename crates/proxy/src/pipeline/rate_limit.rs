//! Stage 9: rate limit per identity and per operation. Over the limit: 429
//! `rate-limited` with `Retry-After`. The buckets are in [`crate::rate`]
//! (the watch's throttle is checked earlier, in `identity_state`); with a
//! shared backend that does not answer and `on_unavailable: deny`, 503
//! `unavailable`. `explain` skips this stage, since a limit depends on live traffic and
//! asking must not spend anyone's allowance.

use portcullis_core::ProblemCode;

use super::authenticate::Caller;
use super::authorize::Authorized;
use crate::exchange::Exchange;
use crate::rate::{Exceeded, Limited, retry_after_secs};
use crate::refusal::Refusal;
use crate::snapshot::Snapshot;

/// The identity's own rate, for an MCP request that is not a tool call
/// (a tool call is counted by [`check`], per operation too, like HTTP).
pub(crate) async fn check_identity(
    snapshot: &Snapshot,
    ex: &Exchange,
    caller: &Caller,
) -> Result<(), Refusal> {
    if ex.offline {
        return Ok(());
    }
    let Caller::Identity(principal) = caller;
    snapshot
        .rates
        .check_identity(&principal.identity)
        .await
        .map_err(refusal)
}

pub(crate) async fn check(
    snapshot: &Snapshot,
    ex: &Exchange,
    caller: &Caller,
    authorized: &Authorized<'_, '_>,
) -> Result<(), Refusal> {
    if ex.offline {
        return Ok(());
    }
    let Caller::Identity(principal) = caller;
    let matched = authorized.matched();
    snapshot
        .rates
        .check(
            &principal.identity,
            &matched.api.config.name,
            &matched.operation.id,
        )
        .await
        .map_err(refusal)
}

fn refusal(limited: Limited) -> Refusal {
    match limited {
        Limited::Exceeded(exceeded, wait) => {
            let detail = match exceeded {
                Exceeded::Identity => "this identity is over its request rate",
                Exceeded::Operation => "this identity is over its request rate for this operation",
            };
            Refusal::new(ProblemCode::RateLimited, detail).with_retry_after(retry_after_secs(wait))
        }
        // Fail closed: without the shared count there is no knowing whether
        // this request is within the limit.
        Limited::Unavailable => Refusal::new(
            ProblemCode::Unavailable,
            "the shared rate-limit store does not answer; try again shortly",
        ),
    }
}
