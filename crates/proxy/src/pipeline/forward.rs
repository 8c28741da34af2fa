//! Stage 10: forward. Strip what only the caller may say, inject the
//! upstream's credential, send on a pooled connection, read the answer
//! bounded in bytes and time. An upstream 5xx or failure becomes
//! `upstream-unavailable` / `upstream-timeout`; its text never reaches the
//! caller.

use bytes::Bytes;
use http::header::{self, HeaderValue};
use http::request::Parts;
use http::{HeaderMap, Request, StatusCode, Uri, Version};
use http_body_util::{BodyExt, Full, Limited};
use portcullis_config::{Api, UpstreamAuth};
use portcullis_core::ProblemCode;

use super::authenticate::Caller;
use super::authorize::Authorized;
use crate::exchange::Exchange;
use crate::headers::strip_caller_only;
use crate::refusal::Refusal;
use crate::snapshot::Snapshot;

/// The upstream's answer, fully read.
#[derive(Debug)]
pub(crate) struct UpstreamResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
    /// The credential values sent upstream, which must never come back.
    pub injected_secrets: Vec<String>,
}

/// The upstream credential for this request: the caller's own for this API
/// if it holds one, else the API's.
fn credential_for(
    snapshot: &Snapshot,
    caller: &Caller,
    api: &Api,
) -> Result<Option<UpstreamAuth>, Refusal> {
    let Caller::Identity(principal) = caller;
    let own = snapshot
        .authority
        .upstream_credential(&principal.identity, &api.name)
        .map_err(|_| {
            Refusal::new(
                ProblemCode::Unavailable,
                "the gateway could not read the upstream credential",
            )
        })?;
    Ok(match (own, &api.upstream_auth) {
        (Some(value), Some(UpstreamAuth::Header { name, .. })) => Some(UpstreamAuth::Header {
            name: name.clone(),
            value,
        }),
        (Some(value), Some(UpstreamAuth::Query { name, .. })) => Some(UpstreamAuth::Query {
            name: name.clone(),
            value,
        }),
        (_, form) => form.clone(),
    })
}

pub(crate) async fn send(
    snapshot: &Snapshot,
    ex: &Exchange,
    caller: &Caller,
    authorized: &Authorized<'_, '_>,
    parts: &Parts,
    body: Bytes,
) -> Result<UpstreamResponse, Refusal> {
    let matched = authorized.matched();
    let api = &matched.api.config;
    let injected = credential_for(snapshot, caller, api)?;
    let request = build_request(ex, authorized, injected.as_ref(), parts, body)?;
    let injected_secrets = injected
        .as_ref()
        .map(UpstreamAuth::secrets)
        .unwrap_or_default();
    let response_limit = usize::try_from(snapshot.limits.response_bytes).unwrap_or(usize::MAX);
    let exchange = async {
        let response = matched.api.client.request(request).await.map_err(|e| {
            tracing::warn!(request_id = %ex.request_id, api = %api.name, error = %e, "upstream request failed");
            unavailable("the upstream could not be reached")
        })?;
        let (head, body) = response.into_parts();
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
            injected_secrets,
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

/// The upstream request: same method, the exact path bytes that were
/// matched (after the upstream's base path), the exact query bytes.
fn build_request(
    ex: &Exchange,
    authorized: &Authorized<'_, '_>,
    injected: Option<&UpstreamAuth>,
    parts: &Parts,
    body: Bytes,
) -> Result<Request<Full<Bytes>>, Refusal> {
    let matched = authorized.matched();
    let upstream = &matched.api.config.upstream;
    let query = parts.uri.query();
    let mut target = String::with_capacity(
        16 + upstream.authority.len()
            + upstream.base_path.len()
            + matched.rest.len()
            + query.map_or(0, str::len),
    );
    target.push_str("http://");
    target.push_str(&upstream.authority);
    target.push_str(&upstream.base_path);
    target.push_str(matched.rest);
    if let Some(q) = query {
        target.push('?');
        target.push_str(q);
    }
    let api = &matched.api.config;
    if let Some(UpstreamAuth::Query { name, value }) = injected {
        target.push(if query.is_some() { '&' } else { '?' });
        target.extend(form_urlencoded::byte_serialize(name.as_bytes()));
        target.push('=');
        target.extend(form_urlencoded::byte_serialize(value.as_bytes()));
    }
    let fault = || {
        Refusal::new(
            ProblemCode::Unavailable,
            "the gateway could not build the upstream request",
        )
    };
    let uri: Uri = target.parse().map_err(|_| fault())?;
    let mut headers = parts.headers.clone();
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
    if let Some(UpstreamAuth::Header {
        name,
        value: secret,
    }) = injected
    {
        let name = header::HeaderName::from_bytes(name.as_bytes()).map_err(|_| fault())?;
        let mut secret = value(secret)?;
        secret.set_sensitive(true);
        headers.insert(name, secret);
    }
    let mut request = Request::new(Full::new(body));
    *request.method_mut() = parts.method.clone();
    *request.uri_mut() = uri;
    *request.version_mut() = Version::HTTP_11;
    *request.headers_mut() = headers;
    Ok(request)
}
