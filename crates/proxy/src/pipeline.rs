//! The request pipeline: PRODUCT.md's stages, in its order, one module each.
//!
//! Every stage is a plain function taking the request context and returning
//! `Ok` to continue or a [`Refusal`]. Stages hand proofs forward: `route`
//! yields a [`route::Matched`] that `validate` needs, `authorize` yields an
//! [`authorize::Authorized`] that `forward` requires, so a stage cannot be
//! skipped without the code failing to compile.

use bytes::Bytes;
use http::{HeaderMap, Method, Request, Response, Uri};
use http_body_util::Full;
use hyper::body::Incoming;

use self::authenticate::Caller;
use self::authorize::Authorized;
use crate::exchange::{Exchange, Stage};
use crate::refusal::Refusal;
use crate::snapshot::Snapshot;
use crate::{oauth, wellknown};

pub(crate) mod authenticate;
pub(crate) mod authorize;
pub(crate) mod canonical;
pub(crate) mod check_response;
pub(crate) mod forward;
/// The load harness's forwarding-only driver (`crate::bench`).
pub(crate) mod forward_only;
pub(crate) mod identity_state;
pub(crate) mod limits;
mod observe;
pub(crate) mod rate_limit;
pub(crate) mod record;
pub(crate) mod route;
pub(crate) mod scopes;
pub(crate) mod validate;

/// Runs one request through every stage.
pub(crate) async fn run(
    snapshot: &Snapshot,
    ex: &mut Exchange,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Refusal> {
    let (mut parts, body) = request.into_parts();
    ex.enter(Stage::Limits);
    limits::check_head(snapshot, &parts)?;
    // Discovery documents are public: answered before authentication, on
    // exact paths only, so any trick spelling falls through and is refused.
    ex.enter(Stage::Discovery);
    if let Some(answer) = wellknown::serve(snapshot, &parts.method, parts.uri.path()) {
        return answer;
    }
    if let Some(endpoint) = oauth::Endpoint::for_path(parts.uri.path()) {
        return oauth::serve(snapshot, ex, endpoint, &parts, body).await;
    }
    // The one place the mode is decided: an API in observe mode takes the
    // same stages, with refusals recorded instead of sent.
    if snapshot.observes(parts.uri.path()) {
        return observe::run(snapshot, ex, parts, body).await;
    }
    ex.enter(Stage::Authenticate);
    let caller = authenticate::check(snapshot, ex, &parts)?;
    let decided = decide(
        snapshot,
        ex,
        &caller,
        &parts.method,
        &parts.uri,
        &parts.headers,
        limits::Body::Incoming(body),
    )
    .await?;
    ex.enter(Stage::Forward);
    // Nothing after forwarding reads the caller's headers: they are moved
    // into the upstream request, not copied.
    let outgoing = forward::Outgoing {
        method: &parts.method,
        query: parts.uri.query(),
        headers: std::mem::take(&mut parts.headers),
        body: decided.body,
    };
    let authorized = decided.authorized;
    let destination = authorized.destination(&caller);
    let upstream = forward::send(snapshot, ex, &destination, outgoing).await?;
    ex.enter(Stage::CheckResponse);
    check_response::check(snapshot, ex, &authorized, &parts.method, upstream)
}

/// A request every deciding stage allowed, ready to forward.
#[derive(Debug)]
pub(crate) struct Decided<'s, 'p> {
    pub authorized: Authorized<'s, 'p>,
    pub body: Bytes,
}

/// Stages 3 to 9, canonical path to rate limit: everything that decides
/// about an authenticated request before it is forwarded. `run` calls it on
/// live traffic and `explain` offline, so both decide the same way.
pub(crate) async fn decide<'s, 'p>(
    snapshot: &'s Snapshot,
    ex: &mut Exchange,
    caller: &Caller,
    method: &Method,
    uri: &'p Uri,
    headers: &HeaderMap,
    body: limits::Body,
) -> Result<Decided<'s, 'p>, Refusal> {
    ex.enter(Stage::Canonical);
    let path = canonical::check(uri)?;
    ex.enter(Stage::Route);
    let matched = route::find(snapshot, ex, method, path)?;
    ex.enter(Stage::IdentityState);
    identity_state::check(snapshot, ex, caller)?;
    ex.enter(Stage::Scopes);
    scopes::check(snapshot, caller, &matched)?;
    // The body is read only now, after the request is known to be routable,
    // so an undeclared route costs the gateway no body buffering.
    ex.enter(Stage::Validate);
    let body = limits::read_body(snapshot, body).await?;
    ex.bytes_in = body.len() as u64;
    let validated = validate::check(snapshot, &matched, uri, headers, &body)?;
    ex.enter(Stage::Authorize);
    let authorized = authorize::check(snapshot, ex, caller, matched, &validated)?;
    ex.enter(Stage::RateLimit);
    rate_limit::check(snapshot, ex, caller, &authorized).await?;
    Ok(Decided { authorized, body })
}
