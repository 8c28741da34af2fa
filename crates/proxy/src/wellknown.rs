//! The gateway's own discovery documents: the problem catalogue and the
//! contracts as enforced. Answered before authentication, GET only.

use bytes::Bytes;
use http::{HeaderValue, Method, Response, header};
use http_body_util::Full;
use portcullis_core::ProblemCode;
use portcullis_token::metadata;
use serde_json::{Value, json};

use crate::refusal::Refusal;
use crate::snapshot::Snapshot;

const PROBLEMS: &str = "/.well-known/portcullis/problems";
const CONTRACTS: &str = "/.well-known/portcullis/contracts";
const JWKS: &str = "/.well-known/jwks.json";
const AS_METADATA: &str = "/.well-known/oauth-authorization-server";
const RESOURCE_METADATA: &str = "/.well-known/oauth-protected-resource";

/// Answers a discovery path, or `None` if `path` is not one. Matching is on
/// exact bytes: a non-canonical spelling falls through to the pipeline and is
/// refused there.
pub(crate) fn serve(
    snapshot: &Snapshot,
    method: &Method,
    path: &str,
) -> Option<Result<Response<Full<Bytes>>, Refusal>> {
    let authority = &snapshot.authority;
    let document = if path == PROBLEMS {
        ProblemCode::catalogue()
    } else if path == CONTRACTS {
        index(snapshot)
    } else if path == JWKS {
        match authority.jwks() {
            Ok(jwks) => jwks,
            Err(_) => {
                return Some(Err(Refusal::new(
                    portcullis_core::ProblemCode::Unavailable,
                    "the key set could not be read",
                )));
            }
        }
    } else if path == AS_METADATA {
        metadata::authorization_server(
            &authority.settings().issuer,
            authority.base_url(),
            authority.scopes(),
            authority.delegation().is_some(),
        )
    } else if path == RESOURCE_METADATA {
        metadata::protected_resource(authority.base_url(), authority.scopes())
    } else {
        let name = path.strip_prefix(CONTRACTS)?.strip_prefix('/')?;
        let api = snapshot.apis.iter().find(|a| a.config.name == name)?;
        api.config.contract.document().clone()
    };
    if method != Method::GET && method != Method::HEAD {
        return Some(Err(Refusal::method_not_allowed("GET, HEAD")));
    }
    Some(Ok(json_response(&document)))
}

fn index(snapshot: &Snapshot) -> Value {
    let apis: Vec<Value> = snapshot
        .apis
        .iter()
        .map(|a| {
            let c = &a.config.contract;
            json!({
                "name": a.config.name,
                "mount": a.config.mount,
                "version": c.version(),
                "sha256": c.digest(),
                "operations": c.operations().iter().map(|o| json!({
                    "operationId": o.id,
                    "method": o.method.as_str(),
                    "path": format!("{}{}", a.config.mount.trim_end_matches('/'), o.path),
                })).collect::<Vec<_>>(),
                "document": format!("{CONTRACTS}/{}", a.config.name),
            })
        })
        .collect();
    json!({ "apis": apis })
}

fn json_response(document: &Value) -> Response<Full<Bytes>> {
    let body = serde_json::to_vec_pretty(document).unwrap_or_default();
    let mut response = Response::new(Full::new(Bytes::from(body)));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}
