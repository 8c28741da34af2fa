//! Stage 11: the upstream's answer against the contract: status declared,
//! body validated, undeclared fields stripped or refused, secrets redacted or
//! the response blocked. (5xx masking happened in `forward`.)

use bytes::Bytes;
use http::{Method, Response, header};
use http_body_util::Full;
use portcullis_contract::response;

use super::authorize::Authorized;
use super::forward::UpstreamResponse;
use crate::headers::strip_hop_by_hop;
use crate::refusal::Refusal;
use crate::snapshot::Snapshot;

pub(crate) fn check(
    snapshot: &Snapshot,
    authorized: &Authorized<'_, '_>,
    method: &Method,
    upstream: UpstreamResponse,
) -> Result<Response<Full<Bytes>>, Refusal> {
    let matched = authorized.matched();
    let content_type = upstream
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let outcome = response::check(
        matched.operation,
        upstream.status.as_u16(),
        content_type,
        &upstream.body,
        method != Method::HEAD,
        matched.api.config.responses,
        &snapshot.scanner,
    )?;
    if outcome.fields_stripped > 0 || outcome.secrets_redacted > 0 {
        tracing::debug!(
            fields_stripped = outcome.fields_stripped,
            secrets_redacted = outcome.secrets_redacted,
            "response rewritten"
        );
    }
    let body = outcome.body.map_or(upstream.body, Bytes::from);
    let mut headers = upstream.headers;
    strip_hop_by_hop(&mut headers);
    let mut response = Response::new(Full::new(body));
    *response.status_mut() = upstream.status;
    *response.headers_mut() = headers;
    Ok(response)
}
