//! Stage 1: read with limits. The head's framing (checked on the wire by
//! `framing`), `Host`, header bytes, request-target form and method are
//! checked on arrival; the body is read later (see `pipeline.rs`) through
//! [`read_body`], bounded in bytes and time.

use bytes::Bytes;
use http::request::Parts;
use http::{Method, Version, header};
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use portcullis_core::ProblemCode;

use crate::framing::{MALFORMED_HEADER, Malformed};
use crate::refusal::Refusal;
use crate::snapshot::Snapshot;

/// Refuses what the connection guard found malformed, a wrong or repeated
/// `Host`, oversized headers, absolute-form targets and CONNECT/TRACE, and a
/// declared body length over the limit, before anything else runs.
pub(crate) fn check_head(snapshot: &Snapshot, parts: &Parts) -> Result<(), Refusal> {
    check_framing(parts)?;
    let limits = &snapshot.limits;
    let header_bytes: usize = parts
        .headers
        .iter()
        .map(|(k, v)| k.as_str().len() + v.len() + 4)
        .sum::<usize>()
        + parts.uri.path_and_query().map_or(0, |p| p.as_str().len());
    if header_bytes as u64 > limits.header_bytes {
        return Err(Refusal::new(
            ProblemCode::HeadersTooLarge,
            format!("request headers exceed {} bytes", limits.header_bytes),
        ));
    }
    if parts.method == Method::CONNECT || parts.method == Method::TRACE {
        return Err(Refusal::method_not_allowed(""));
    }
    // HTTP/2 always carries scheme and authority; in HTTP/1 a target with them
    // is absolute-form, which a server reads differently from the path alone.
    if parts.version < Version::HTTP_2
        && (parts.uri.scheme().is_some() || parts.uri.authority().is_some())
    {
        return Err(Refusal::new(
            ProblemCode::AmbiguousPath,
            "absolute-form request targets are refused; send the path only",
        ));
    }
    let declared = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limits.body_bytes) {
        return Err(too_large(limits.body_bytes));
    }
    Ok(())
}

/// The wire-level checks: a head the connection guard replaced, and `Host`
/// (RFC 9112 section 3.2: exactly one in HTTP/1.1, agreeing with any
/// authority the target or HTTP/2 carries).
fn check_framing(parts: &Parts) -> Result<(), Refusal> {
    if let Some(token) = parts.headers.get(&MALFORMED_HEADER) {
        let why = Malformed::from_token(token.as_bytes());
        return Err(Refusal::new(
            why.map_or(ProblemCode::MalformedRequest, Malformed::code),
            why.map_or("the request is not well-formed HTTP", Malformed::detail),
        ));
    }
    let mut hosts = parts.headers.get_all(header::HOST).iter();
    let host = hosts.next();
    if hosts.next().is_some() {
        return Err(malformed("a request may carry only one `Host` header"));
    }
    match (host, parts.uri.authority()) {
        (None, None) if parts.version == Version::HTTP_11 => {
            Err(malformed("an HTTP/1.1 request must carry a `Host` header"))
        }
        // CONNECT's target is the authority to tunnel to; it is refused below.
        (Some(host), Some(authority))
            if parts.method != Method::CONNECT
                && !host
                    .as_bytes()
                    .eq_ignore_ascii_case(authority.as_str().as_bytes()) =>
        {
            Err(malformed(
                "`Host` and the authority of the request target disagree",
            ))
        }
        _ => Ok(()),
    }
}

fn malformed(detail: &str) -> Refusal {
    Refusal::new(ProblemCode::MalformedRequest, detail)
}

/// A request body: arriving on the connection, or already in hand (`explain`).
#[derive(Debug)]
pub(crate) enum Body {
    Incoming(Incoming),
    Ready(Bytes),
}

/// Reads the whole body, refusing past the byte limit or the time limit.
pub(crate) async fn read_body(snapshot: &Snapshot, body: Body) -> Result<Bytes, Refusal> {
    let limits = &snapshot.limits;
    let body = match body {
        Body::Incoming(body) => body,
        Body::Ready(bytes) if bytes.len() as u64 > limits.body_bytes => {
            return Err(too_large(limits.body_bytes));
        }
        Body::Ready(bytes) => return Ok(bytes),
    };
    let max = usize::try_from(limits.body_bytes).unwrap_or(usize::MAX);
    let collect = Limited::new(body, max).collect();
    match tokio::time::timeout(limits.request_timeout, collect).await {
        Err(_) => Err(Refusal::new(
            ProblemCode::RequestTimeout,
            "the request body did not arrive in time",
        )),
        Ok(Ok(collected)) => Ok(collected.to_bytes()),
        Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => {
            Err(too_large(limits.body_bytes))
        }
        Ok(Err(_)) => Err(Refusal::new(
            ProblemCode::InvalidRequest,
            "the request body could not be read",
        )),
    }
}

fn too_large(limit: u64) -> Refusal {
    Refusal::new(
        ProblemCode::PayloadTooLarge,
        format!("the request body exceeds {limit} bytes"),
    )
}
