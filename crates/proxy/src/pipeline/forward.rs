//! Stage 10: forward. Strip what only the caller may say, inject the
//! upstream's credential, send on a pooled connection, read the answer
//! bounded in bytes and time. An upstream 5xx or failure becomes
//! `upstream-unavailable` / `upstream-timeout`; its text never reaches the
//! caller.

use std::sync::Arc;

use bytes::Bytes;
use http::header::{self, HeaderValue};
use http::{HeaderMap, Method, Request, StatusCode, Uri, Version};
use http_body_util::{BodyExt, Full, Limited};
use portcullis_core::ProblemCode;

use crate::exchange::Exchange;
use crate::headers::strip_caller_only;
use crate::refusal::Refusal;
use crate::snapshot::{MountedApi, Snapshot};
use crate::upstream::{Injection, Place};

/// The upstream's answer, fully read.
#[derive(Debug, Clone)]
pub(crate) struct UpstreamResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
    /// The credential sent upstream, which must never come back.
    pub injected: Option<Arc<Injection>>,
}

/// Where a request goes: an API's upstream, the path after its mount, and
/// whose upstream credential to use. Made only from an [`Authorized`]
/// request, or by the pipeline driver for a request it observes.
///
/// [`Authorized`]: super::authorize::Authorized
#[derive(Debug)]
pub(crate) struct Destination<'s, 'p> {
    api: &'s MountedApi,
    rest: &'p str,
    identity: Option<&'p str>,
}

impl<'s, 'p> Destination<'s, 'p> {
    pub(super) fn new(api: &'s MountedApi, rest: &'p str, identity: Option<&'p str>) -> Self {
        Self {
            api,
            rest,
            identity,
        }
    }

    pub(crate) fn api(&self) -> &'s MountedApi {
        self.api
    }
}

/// The upstream credential for this request: the caller's own for this API
/// if it holds one, else the API's. Both were prepared ahead of time.
fn credential_for(
    snapshot: &Snapshot,
    destination: &Destination<'_, '_>,
) -> Result<Option<Arc<Injection>>, Refusal> {
    let api = destination.api;
    let Some(identity) = destination.identity else {
        return Ok(api.injection.clone());
    };
    let own = snapshot
        .authority
        .upstream_credential(identity, &api.config.name)
        .map_err(|_| {
            Refusal::new(
                ProblemCode::Unavailable,
                "the gateway could not read the upstream credential",
            )
        })?;
    Ok(own.or_else(|| api.injection.clone()))
}

pub(crate) async fn send(
    snapshot: &Snapshot,
    ex: &mut Exchange,
    destination: &Destination<'_, '_>,
    outgoing: Outgoing<'_>,
) -> Result<UpstreamResponse, Refusal> {
    let mounted = destination.api;
    let api = &mounted.config;
    let injected = credential_for(snapshot, destination)?;
    let request = build_request(ex, destination, injected.as_deref(), outgoing)?;
    let response_limit = usize::try_from(snapshot.limits.response_bytes).unwrap_or(usize::MAX);
    let exchange = async {
        let response = mounted.client.request(request).await.map_err(|e| {
            tracing::warn!(request_id = %ex.request_id, api = %api.name, error = %e, "upstream request failed");
            unavailable("the upstream could not be reached")
        })?;
        let (head, body) = response.into_parts();
        ex.upstream_status = Some(head.status.as_u16());
        if head.status.is_server_error() {
            tracing::warn!(request_id = %ex.request_id, api = %api.name, status = head.status.as_u16(), "upstream answered with a server error");
            return Err(unavailable("the upstream failed to answer the request"));
        }
        let body = Limited::new(body, response_limit)
            .collect()
            .await
            .map_err(|_| {
                unavailable("the upstream's response could not be read within the size limit")
            })?
            .to_bytes();
        Ok(UpstreamResponse {
            status: head.status,
            headers: head.headers,
            body,
            injected,
        })
    };
    match tokio::time::timeout(api.timeouts.response, exchange).await {
        Ok(result) => result,
        Err(_) => Err(Refusal::new(
            ProblemCode::UpstreamTimeout,
            "the upstream did not answer in time",
        )),
    }
}

fn unavailable(detail: &str) -> Refusal {
    Refusal::new(ProblemCode::UpstreamUnavailable, detail)
}

/// What the caller sent that goes upstream. The headers are taken, not
/// copied: nothing after forwarding reads them.
pub(crate) struct Outgoing<'a> {
    pub method: &'a Method,
    pub query: Option<&'a str>,
    pub headers: HeaderMap,
    pub body: Bytes,
}

/// The upstream request: same method, the exact path bytes that were
/// matched (after the upstream's base path), the exact query bytes.
fn build_request(
    ex: &Exchange,
    destination: &Destination<'_, '_>,
    injected: Option<&Injection>,
    outgoing: Outgoing<'_>,
) -> Result<Request<Full<Bytes>>, Refusal> {
    let api = &destination.api.config;
    let upstream = &api.upstream;
    let query = outgoing.query;
    let mut target = String::with_capacity(
        16 + upstream.authority.len()
            + upstream.base_path.len()
            + destination.rest.len()
            + query.map_or(0, str::len),
    );
    target.push_str("http://");
    target.push_str(&upstream.authority);
    target.push_str(&upstream.base_path);
    target.push_str(destination.rest);
    if let Some(q) = query {
        target.push('?');
        target.push_str(q);
    }
    if let Some(Place::Query(pair)) = injected.map(|i| &i.place) {
        target.push(if query.is_some() { '&' } else { '?' });
        target.push_str(pair);
    }
    let fault = || {
        Refusal::new(
            ProblemCode::Unavailable,
            "the gateway could not build the upstream request",
        )
    };
    let uri: Uri = target.parse().map_err(|_| fault())?;
    let mut headers = outgoing.headers;
    let caller_authorization = headers.get(header::AUTHORIZATION).cloned();
    strip_caller_only(&mut headers);
    if api.forward_caller_credential
        && let Some(value) = caller_authorization
    {
        headers.insert(header::AUTHORIZATION, value);
    }
    let value = |s: &str| HeaderValue::from_str(s).map_err(|_| fault());
    headers.insert(header::HOST, value(&upstream.authority)?);
    headers.insert("x-request-id", value(&ex.request_id)?);
    headers.insert("traceparent", value(&ex.traceparent())?);
    headers.insert("x-forwarded-for", value(&ex.peer.ip().to_string())?);
    headers.insert("x-forwarded-proto", HeaderValue::from_static("http"));
    if let Some(Place::Header(name, secret)) = injected.map(|i| &i.place) {
        headers.insert(name.clone(), secret.clone());
    }
    let mut request = Request::new(Full::new(outgoing.body));
    *request.method_mut() = outgoing.method.clone();
    *request.uri_mut() = uri;
    *request.version_mut() = Version::HTTP_11;
    *request.headers_mut() = headers;
    Ok(request)
}
