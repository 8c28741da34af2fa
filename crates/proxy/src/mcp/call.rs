//! `tools/call`: the arguments become the HTTP request the contract
//! describes, which then runs `pipeline::decide` (canonical path to rate
//! limit), `forward` and `check_response` as that request would on the
//! HTTP path, with the same Cedar request. A refusal is a tool result with
//! `isError` and the problem document; only a message the server cannot
//! act on (no such tool, params that are not a call) is a JSON-RPC error.
//!
//! Before anything runs, the call is checked against the session's pins: a
//! tool whose contract changed since the session listed it is refused with
//! `contract-changed`, so an agent never calls an operation whose meaning
//! changed under a name it learned earlier.

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Method, Uri, header};
use http_body_util::BodyExt;
use portcullis_core::{FieldError, Problem, ProblemCode};
use portcullis_mcp::jsonrpc::{ErrorCode, RpcError};
use portcullis_mcp::{Tool, protocol, to_http};
use serde_json::{Map, Value};

use crate::exchange::{Exchange, Stage};
use crate::live::Live;
use crate::pipeline::authenticate::Caller;
use crate::pipeline::{self, check_response, forward, limits};
use crate::refusal::Refusal;
use crate::snapshot::Snapshot;

/// Runs one `tools/call`; `Ok` is the tool result (refusals included).
#[allow(clippy::too_many_arguments, reason = "one request's whole context")]
pub(super) async fn run(
    live: &Live,
    snapshot: &Snapshot,
    ex: &mut Exchange,
    caller: &Caller,
    session: &str,
    id: &Value,
    params: Map<String, Value>,
    incoming: &HeaderMap,
) -> Result<String, RpcError> {
    let invalid =
        |message: String| RpcError::new(Some(id.clone()), ErrorCode::InvalidParams, message);
    let call = protocol::call_params(params).map_err(invalid)?;
    if let Some(note) = ex.mcp.as_mut() {
        note.tool = Some(call.name.clone());
    }
    let Some(tool) = snapshot.mcp.tools.get(&call.name) else {
        return Err(invalid(format!(
            "`{}` is not a tool of this server",
            call.name
        )));
    };
    let Caller::Identity(principal) = caller;
    let pinned = live
        .sessions
        .with(session, &principal.identity, |s| {
            s.pins.get(&tool.api).cloned()
        })
        .ok()
        .flatten();
    let outcome = if pinned.as_deref() != Some(tool.contract_digest.as_str())
        || call
            .pinned
            .as_deref()
            .is_some_and(|p| p != tool.contract_digest)
    {
        Err(Refusal::new(
            ProblemCode::ContractChanged,
            format!(
                "the contract of `{}` changed since this session listed its tools; list them again",
                tool.api
            ),
        ))
    } else {
        execute(snapshot, ex, caller, tool, &call.arguments, incoming).await
    };
    Ok(match outcome {
        Ok((status, body)) => protocol::call_result(status, &body),
        Err(refusal) => {
            ex.refused_as = Some(refusal.code());
            let status = refusal.problem.status();
            let problem = serde_json::from_slice(&refusal.problem.to_json(&ex.request_id))
                .unwrap_or(Value::Null);
            protocol::refusal_result(status, &problem)
        }
    })
}

/// The call as its HTTP request, through the stages; the checked answer.
async fn execute(
    snapshot: &Snapshot,
    ex: &mut Exchange,
    caller: &Caller,
    tool: &Tool,
    arguments: &Map<String, Value>,
    incoming: &HeaderMap,
) -> Result<(u16, Bytes), Refusal> {
    let unavailable = || {
        Refusal::new(
            ProblemCode::Unavailable,
            "the tool's operation is not loaded",
        )
    };
    let api = snapshot
        .apis
        .iter()
        .find(|a| a.config.name == tool.api)
        .ok_or_else(unavailable)?;
    let operation = api
        .config
        .contract
        .operation(tool.index)
        .ok_or_else(unavailable)?;
    let http = to_http(operation, arguments).map_err(invalid_arguments)?;
    let mount = api.config.mount.trim_end_matches('/');
    let target = match &http.query {
        Some(q) => format!("{mount}{}?{q}", http.path),
        None => format!("{mount}{}", http.path),
    };
    let uri: Uri = target.parse().map_err(|_| {
        invalid_arguments(vec![FieldError::new(
            "/path",
            "cannot be written as a request target",
        )])
    })?;
    let method =
        Method::from_bytes(operation.method.as_str().as_bytes()).map_err(|_| unavailable())?;
    let mut headers = HeaderMap::new();
    for (name, value) in &http.headers {
        let pointer = || {
            FieldError::new(
                format!("/header/{name}"),
                "cannot be sent as an HTTP header",
            )
        };
        let name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| invalid_arguments(vec![pointer()]))?;
        let value = HeaderValue::from_str(value).map_err(|_| invalid_arguments(vec![pointer()]))?;
        headers.append(name, value);
    }
    let body = match http.body {
        Some((media, bytes)) => {
            let media = HeaderValue::from_str(&media).map_err(|_| unavailable())?;
            headers.insert(header::CONTENT_TYPE, media);
            Bytes::from(bytes)
        }
        None => Bytes::new(),
    };
    // The caller's credential travels as on the HTTP path: `forward`
    // removes it unless the API forwards caller credentials.
    if let Some(auth) = incoming.get(header::AUTHORIZATION) {
        headers.insert(header::AUTHORIZATION, auth.clone());
    }
    // The record counts the MCP message's bytes, not the call's body.
    let message_bytes = ex.bytes_in;
    let decided = pipeline::decide(
        snapshot,
        ex,
        caller,
        &method,
        &uri,
        &headers,
        limits::Body::Ready(body),
    )
    .await;
    ex.bytes_in = message_bytes;
    let decided = decided?;
    ex.enter(Stage::Forward);
    let outgoing = forward::Outgoing {
        method: &method,
        query: uri.query(),
        headers,
        body: decided.body,
    };
    let authorized = decided.authorized;
    let destination = authorized.destination(caller);
    let upstream = forward::send(snapshot, ex, &destination, outgoing).await?;
    ex.enter(Stage::CheckResponse);
    let response = check_response::check(snapshot, ex, &authorized, &method, upstream)?;
    let status = response.status().as_u16();
    let body = response
        .into_body()
        .collect()
        .await
        .map(http_body_util::Collected::to_bytes)
        .unwrap_or_default();
    Ok((status, body))
}

fn invalid_arguments(errors: Vec<FieldError>) -> Refusal {
    Refusal {
        problem: Problem::new(
            ProblemCode::InvalidRequest,
            "the arguments do not match the operation's contract",
        )
        .with_errors(errors),
        allow: None,
        challenge: None,
        retry_after: None,
    }
}
