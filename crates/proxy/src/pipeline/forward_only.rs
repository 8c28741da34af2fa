//! The load harness's forwarding-only driver (see `crate::bench`), never a
//! gateway's: the head checks and bounded body read of stage 1, the mount's
//! upstream, stage 10 as the pipeline runs it (header stripping and
//! injection, the pooled client, the bounded answer) and the response's
//! header hygiene. Every deciding stage (2 to 9), the response check (11)
//! and the record (12) are left out, so the harness can tell the data
//! plane's cost from theirs. The path is forwarded unchecked: this must
//! never face a caller.

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::Full;
use hyper::body::Incoming;
use portcullis_core::ProblemCode;

use super::forward::{self, Destination};
use super::{check_response, limits};
use crate::exchange::{Exchange, Stage};
use crate::refusal::Refusal;
use crate::snapshot::Snapshot;

pub(crate) async fn run(
    snapshot: &Snapshot,
    ex: &mut Exchange,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Refusal> {
    let (mut parts, body) = request.into_parts();
    ex.enter(Stage::Limits);
    limits::check_head(snapshot, &parts)?;
    let body = limits::read_body(snapshot, limits::Body::Incoming(body)).await?;
    ex.bytes_in = body.len() as u64;
    let (api, rest) = snapshot
        .mounted(parts.uri.path())
        .ok_or_else(|| Refusal::new(ProblemCode::UndeclaredRoute, "no API is mounted here"))?;
    ex.enter(Stage::Forward);
    let outgoing = forward::Outgoing {
        method: &parts.method,
        query: parts.uri.query(),
        headers: std::mem::take(&mut parts.headers),
        body,
    };
    let destination = Destination::new(api, rest, None);
    let upstream = forward::send(snapshot, ex, &destination, outgoing).await?;
    Ok(check_response::pass_through(api, None, upstream))
}
