//! Stage 11: the upstream's answer against the contract: an operation's
//! uniform failure answer put in place of a matching failure first; then
//! status declared, body validated, undeclared fields stripped or refused,
//! secrets redacted or the response blocked; and only the headers the
//! contract declares for the response, plus a safe set, passed on (unless
//! the API allows them all). (5xx masking happened in `forward`.)

use bytes::Bytes;
use http::{Method, Response, StatusCode, header};
use http_body_util::Full;
use memchr::memmem;
use portcullis_config::{HeaderPolicy, UniformFailure};
use portcullis_contract::Operation;
use portcullis_contract::response::{self, SecretsMode};
use portcullis_core::ProblemCode;

use super::authorize::Authorized;
use super::forward::UpstreamResponse;
use crate::exchange::Exchange;
use crate::headers::{keep_declared, strip_hop_by_hop};
use crate::refusal::Refusal;
use crate::snapshot::{MountedApi, Snapshot};

pub(crate) fn check(
    snapshot: &Snapshot,
    ex: &mut Exchange,
    authorized: &Authorized<'_, '_>,
    method: &Method,
    upstream: UpstreamResponse,
) -> Result<Response<Full<Bytes>>, Refusal> {
    let matched = authorized.matched();
    check_operation(
        snapshot,
        ex,
        matched.api,
        matched.operation,
        method,
        upstream,
    )
}

/// The check itself, for an operation known by other means (observe mode
/// routes the request again when it was not authorized).
pub(crate) fn check_operation(
    snapshot: &Snapshot,
    ex: &mut Exchange,
    api: &MountedApi,
    operation: &Operation,
    method: &Method,
    mut upstream: UpstreamResponse,
) -> Result<Response<Full<Bytes>>, Refusal> {
    if let Some(uniform) = api.config.uniform_failures.get(&operation.id)
        && uniform.matches(upstream.status.as_u16(), &upstream.body)
    {
        tracing::debug!(request_id = %ex.request_id, operation = %operation.id, "failure answer made uniform");
        make_uniform(uniform, &mut upstream);
    }
    let content_type = upstream
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let outcome = response::check(
        operation,
        upstream.status.as_u16(),
        content_type,
        &upstream.body,
        method != Method::HEAD,
        api.config.responses,
        &snapshot.scanner,
    )?;
    ex.fields_stripped = u32::try_from(outcome.fields_stripped).unwrap_or(u32::MAX);
    ex.secrets_redacted = u32::try_from(outcome.secrets_redacted).unwrap_or(u32::MAX);
    if outcome.fields_stripped > 0 || outcome.secrets_redacted > 0 {
        tracing::debug!(
            fields_stripped = outcome.fields_stripped,
            secrets_redacted = outcome.secrets_redacted,
            "response rewritten"
        );
    }
    let mut body = outcome.body.map_or(upstream.body, Bytes::from);
    let mut headers = upstream.headers;
    strip_hop_by_hop(&mut headers);
    limit_headers(api, Some(operation), upstream.status.as_u16(), &mut headers);
    if let Some(injected) = &upstream.injected {
        let mode = api.config.responses.secrets;
        body = scrub_upstream_credential(&injected.secrets, body, &mut headers, mode)?;
    }
    let mut response = Response::new(Full::new(body));
    *response.status_mut() = upstream.status;
    *response.headers_mut() = headers;
    Ok(response)
}

/// The upstream's answer as it came, for observe mode when the check would
/// have refused it: hop-by-hop headers dropped and the gateway's own
/// credential redacted all the same (that is the gateway's secret, not the
/// API's, and observing never lets it out).
pub(crate) fn pass_through(
    api: &MountedApi,
    operation: Option<&Operation>,
    upstream: UpstreamResponse,
) -> Response<Full<Bytes>> {
    let mut headers = upstream.headers;
    strip_hop_by_hop(&mut headers);
    limit_headers(api, operation, upstream.status.as_u16(), &mut headers);
    let mut body = upstream.body;
    if let Some(injected) = &upstream.injected {
        // Redact mode cannot refuse.
        body = scrub_upstream_credential(
            &injected.secrets,
            body.clone(),
            &mut headers,
            SecretsMode::Redact,
        )
        .unwrap_or(body);
    }
    let mut response = Response::new(Full::new(body));
    *response.status_mut() = upstream.status;
    *response.headers_mut() = headers;
    response
}

/// The strict header policy: what the contract declares for this status
/// (nothing, for an answer observed without a route), and the safe set;
/// `allow` passes the rest too.
fn limit_headers(
    api: &MountedApi,
    op: Option<&Operation>,
    status: u16,
    headers: &mut http::HeaderMap,
) {
    if api.config.response_headers == HeaderPolicy::Allow {
        return;
    }
    let declared = op
        .and_then(|op| op.response_for(status))
        .map_or(&[][..], |r| &r.headers);
    keep_declared(headers, declared);
}

/// The operation's one failure answer in place of the upstream's: its
/// status and fixed JSON body, and none of the upstream's headers but
/// caching ones (the content type is the fixed body's).
fn make_uniform(uniform: &UniformFailure, upstream: &mut UpstreamResponse) {
    upstream.status = StatusCode::from_u16(uniform.status).unwrap_or(upstream.status);
    upstream.body = Bytes::from(uniform.body.clone());
    let cache = upstream.headers.remove(header::CACHE_CONTROL);
    upstream.headers.clear();
    upstream.headers.insert(
        header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    if let Some(cache) = cache {
        upstream.headers.insert(header::CACHE_CONTROL, cache);
    }
}

/// The gateway's own upstream credential never leaves, even when an upstream
/// echoes it back (debug endpoints, error pages that print request headers):
/// it is redacted from the body, and a header carrying it is dropped; with
/// `secrets: block` the response is refused instead.
fn scrub_upstream_credential(
    secrets: &[String],
    body: Bytes,
    headers: &mut http::HeaderMap,
    mode: SecretsMode,
) -> Result<Bytes, Refusal> {
    let leaking: Vec<http::HeaderName> = headers
        .iter()
        .filter(|(_, v)| {
            secrets
                .iter()
                .any(|s| memmem::find(v.as_bytes(), s.as_bytes()).is_some())
        })
        .map(|(k, _)| k.clone())
        .collect();
    let in_body = secrets
        .iter()
        .any(|s| memmem::find(&body, s.as_bytes()).is_some());
    if (in_body || !leaking.is_empty()) && mode == SecretsMode::Block {
        return Err(Refusal::new(
            ProblemCode::SecretInResponse,
            "the response contained the gateway's own upstream credential and was withheld",
        ));
    }
    for name in leaking {
        headers.remove(name);
    }
    if !in_body {
        return Ok(body);
    }
    let mut out = body.to_vec();
    for secret in secrets.iter().filter(|s| !s.is_empty()) {
        let finder = memmem::Finder::new(secret.as_bytes());
        let mut replaced = Vec::with_capacity(out.len());
        let mut at = 0;
        while let Some(found) = out.get(at..).and_then(|rest| finder.find(rest)) {
            replaced.extend_from_slice(out.get(at..at + found).unwrap_or_default());
            replaced.extend_from_slice(b"[REDACTED:upstream-credential]");
            at += found + secret.len();
        }
        replaced.extend_from_slice(out.get(at..).unwrap_or_default());
        out = replaced;
    }
    tracing::warn!("the upstream echoed the gateway's credential; redacted");
    Ok(Bytes::from(out))
}
