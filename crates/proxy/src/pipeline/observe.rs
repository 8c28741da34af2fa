//! Observe mode (`mode: observe`, for the whole gateway or one API): the same
//! stages run and decide, but a refusal is recorded with the code it would
//! have sent, and the request is forwarded anyway; a response the check would
//! have refused is passed through. This is how a team rolls a contract and
//! its policies out without breaking callers. Only the pipeline driver
//! chooses this path; the stages never know which mode they run in.
//!
//! Not relaxed, because they protect the gateway itself rather than the API:
//! the header and body limits and timeouts (the body is read, bounded, before
//! anything else), and upstream failures (unreachable, 5xx, timeout). The
//! gateway's own upstream credential never comes back in a response, in
//! either mode.

use bytes::Bytes;
use http::Response;
use http::request::Parts;
use http_body_util::Full;
use hyper::body::Incoming;
use portcullis_contract::RouteMatch;
use portcullis_core::ProblemCode;

use super::forward::{self, Destination};
use super::{authenticate, check_response, decide, limits};
use crate::exchange::{Exchange, Stage};
use crate::refusal::Refusal;
use crate::snapshot::Snapshot;

pub(super) async fn run(
    snapshot: &Snapshot,
    ex: &mut Exchange,
    mut parts: Parts,
    body: Incoming,
) -> Result<Response<Full<Bytes>>, Refusal> {
    ex.enter(Stage::Limits);
    let body = limits::read_body(snapshot, limits::Body::Incoming(body)).await?;
    ex.bytes_in = body.len() as u64;
    ex.enter(Stage::Authenticate);
    let verdict = match authenticate::check(snapshot, ex, &parts) {
        Err(refusal) => Err(refusal),
        Ok(caller) => decide(
            snapshot,
            ex,
            &caller,
            &parts.method,
            &parts.uri,
            &parts.headers,
            limits::Body::Ready(body.clone()),
        )
        .await
        .map(|decided| (decided.authorized, caller)),
    };
    let identity = ex.identity.clone();
    let (destination, operation) = match &verdict {
        Ok((authorized, caller)) => (
            authorized.destination(caller),
            Some(authorized.matched().operation),
        ),
        Err(refusal) => {
            ex.observed = Some(refusal.code());
            tracing::info!(
                request_id = %ex.request_id,
                would_refuse = refusal.code().as_str(),
                stage = ex.stage.as_str(),
                "observe mode: forwarding a request enforce mode would refuse"
            );
            let (api, rest) = snapshot.mounted(parts.uri.path()).ok_or_else(|| {
                Refusal::new(ProblemCode::UndeclaredRoute, "no API is mounted here")
            })?;
            let contract = &api.config.contract;
            let operation = match contract.route(parts.method.as_str(), rest) {
                RouteMatch::Found { operation, .. } => contract.operation(operation),
                _ => None,
            };
            (Destination::new(api, rest, identity.as_deref()), operation)
        }
    };
    if ex.observed.is_none() {
        ex.enter(Stage::Forward);
    }
    let outgoing = forward::Outgoing {
        method: &parts.method,
        query: parts.uri.query(),
        headers: std::mem::take(&mut parts.headers),
        body,
    };
    let upstream = forward::send(snapshot, ex, &destination, outgoing).await?;
    let Some(operation) = operation else {
        // Not a declared operation: there is no contract to check it against.
        return Ok(check_response::pass_through(
            destination.api(),
            None,
            upstream,
        ));
    };
    if ex.observed.is_none() {
        ex.enter(Stage::CheckResponse);
    }
    let raw = upstream.clone();
    match check_response::check_operation(
        snapshot,
        ex,
        destination.api(),
        operation,
        &parts.method,
        upstream,
    ) {
        Ok(response) => Ok(response),
        Err(refusal) => {
            if ex.observed.is_none() {
                ex.observed = Some(refusal.code());
                tracing::info!(
                    request_id = %ex.request_id,
                    would_refuse = refusal.code().as_str(),
                    "observe mode: passing through a response enforce mode would refuse"
                );
            }
            Ok(check_response::pass_through(
                destination.api(),
                Some(operation),
                raw,
            ))
        }
    }
}
