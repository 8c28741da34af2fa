//! `/mcp`: the contract's operations as MCP tools (Streamable HTTP,
//! protocol versions in `portcullis_mcp::protocol`), on the gateway
//! listener and under the same pipeline.
//!
//! An MCP request is an HTTP request first: `limits`, the `Origin` check
//! (DNS rebinding), `authenticate` (the same 401 and challenge as every
//! path) and `identity_state` run before the message is read. Refusals at
//! that level are problem+json, like anywhere on the gateway; a message
//! that is not valid JSON-RPC, or not valid in its session, gets the
//! JSON-RPC error the specification gives. A `tools/call` becomes the HTTP
//! request its arguments describe and runs `pipeline::decide`, `forward`
//! and `check_response` exactly as that request would (`call.rs`).
//!
//! `POST` carries one message (answered as `application/json`), `GET` opens
//! the session's event stream (`notifications/tools/list_changed` after a
//! reload that changes what tools there are), `DELETE` ends the session.

mod call;
mod events;
mod session;

use std::collections::HashMap;
use std::hash::{Hash, Hasher};

use bytes::Bytes;
use http::request::Parts;
use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode, header};
use http_body_util::{Either, Full};
use hyper::body::Incoming;
use portcullis_audit::McpCall;
use portcullis_core::ProblemCode;
use portcullis_mcp::jsonrpc::{self, ErrorCode, Message, RpcError};
use portcullis_mcp::{ToolSet, Viewer, protocol, visible};
use serde_json::{Map, Value, json};

pub(crate) use events::Events;
pub(crate) use session::Sessions;

use crate::exchange::{Exchange, Stage};
use crate::live::Live;
use crate::pipeline::authenticate::{self, Caller};
use crate::pipeline::{identity_state, limits, rate_limit};
use crate::refusal::Refusal;
use crate::server::Body;
use crate::snapshot::{MountedApi, Snapshot};

/// Where the MCP face is served: exactly this path.
pub(crate) const PATH: &str = "/mcp";

const SESSION_HEADER: &str = "mcp-session-id";
const VERSION_HEADER: &str = "mcp-protocol-version";

/// A snapshot's tools, made once when it is built.
#[derive(Debug)]
pub(crate) struct Face {
    pub tools: ToolSet,
    /// Changes whenever what any caller may be shown could change (a
    /// contract or the policies): a new value tells open streams.
    pub fingerprint: u64,
}

impl Face {
    pub(crate) fn build(apis: &[MountedApi], policies: &portcullis_config::Policies) -> Self {
        let tools = ToolSet::from_contracts(
            apis.iter()
                .map(|a| (a.config.name.as_str(), a.config.contract.as_ref())),
        );
        // Not a security property: only "did anything change".
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        for api in apis {
            api.config.name.hash(&mut hasher);
            api.config.contract.digest().hash(&mut hasher);
        }
        policies.store.policies().to_string().hash(&mut hasher);
        Self {
            tools,
            fingerprint: hasher.finish(),
        }
    }
}

/// Answers one request to [`PATH`].
pub(crate) async fn serve(
    live: &Live,
    snapshot: &Snapshot,
    ex: &mut Exchange,
    request: Request<Incoming>,
) -> Result<Response<Body>, Refusal> {
    let (parts, body) = request.into_parts();
    ex.enter(Stage::Limits);
    limits::check_head(snapshot, &parts)?;
    ex.mcp = Some(McpCall {
        method: match parts.method {
            Method::GET => "open-stream",
            Method::DELETE => "end-session",
            _ => "-",
        }
        .to_owned(),
        tool: None,
        session: header_text(&parts.headers, SESSION_HEADER).map(str::to_owned),
        rpc_error: None,
    });
    check_origin(snapshot, &parts.headers)?;
    ex.enter(Stage::Authenticate);
    let caller = authenticate::check(snapshot, ex, &parts)?;
    ex.enter(Stage::IdentityState);
    identity_state::check(snapshot, ex, &caller)?;
    match parts.method {
        Method::POST => post(live, snapshot, ex, &caller, &parts, body).await,
        Method::GET => {
            rate_limit::check_identity(snapshot, ex, &caller).await?;
            Ok(open_stream(live, ex, &caller, &parts.headers))
        }
        Method::DELETE => {
            rate_limit::check_identity(snapshot, ex, &caller).await?;
            Ok(end_session(live, ex, &caller, &parts.headers))
        }
        _ => Err(Refusal::method_not_allowed("GET, POST, DELETE")),
    }
}

/// One JSON-RPC message.
async fn post(
    live: &Live,
    snapshot: &Snapshot,
    ex: &mut Exchange,
    caller: &Caller,
    parts: &Parts,
    body: Incoming,
) -> Result<Response<Body>, Refusal> {
    let json_body = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
    if !json_body {
        return Err(Refusal::new(
            ProblemCode::UnsupportedMediaType,
            "an MCP message is sent as `application/json`",
        ));
    }
    ex.enter(Stage::Validate);
    let bytes = limits::read_body(snapshot, limits::Body::Incoming(body)).await?;
    ex.bytes_in = bytes.len() as u64;
    let message = match jsonrpc::parse(&bytes) {
        Ok(m) => m,
        Err(e) => return Ok(rpc_error(ex, StatusCode::BAD_REQUEST, e)),
    };
    let id = match &message {
        Message::Request { id, .. } | Message::Response { id } => Some(id.clone()),
        Message::Notification { .. } => None,
    };
    if let Some(note) = ex.mcp.as_mut() {
        note.method = message.method().unwrap_or("response").to_owned();
    }
    let Caller::Identity(principal) = caller;
    let session = header_text(&parts.headers, SESSION_HEADER);
    if let Message::Request { method, params, id } = &message
        && method == "initialize"
    {
        if session.is_some() {
            let e = RpcError::new(
                Some(id.clone()),
                ErrorCode::InvalidRequest,
                "`initialize` starts a session: send it without `Mcp-Session-Id`",
            );
            return Ok(rpc_error(ex, StatusCode::BAD_REQUEST, e));
        }
        rate_limit::check_identity(snapshot, ex, caller).await?;
        return initialize(live, snapshot, ex, &principal.identity, id, params);
    }
    // A version this server does not speak is named first, with the ones
    // it does: a client probing with a newer revision learns to fall back.
    if let Some(asked) = header_text(&parts.headers, VERSION_HEADER)
        && !protocol::is_supported(asked)
    {
        let e = RpcError::new(
            id,
            ErrorCode::InvalidRequest,
            format!("`MCP-Protocol-Version: {asked}` is not a version this server speaks"),
        )
        .with_data(json!({"supported": protocol::SUPPORTED_VERSIONS}));
        return Ok(rpc_error(ex, StatusCode::BAD_REQUEST, e));
    }
    let Some(session) = session else {
        let e = RpcError::new(
            id,
            ErrorCode::InvalidRequest,
            "`Mcp-Session-Id` is required: call `initialize` first",
        );
        return Ok(rpc_error(ex, StatusCode::BAD_REQUEST, e));
    };
    let Ok(version) = live
        .sessions
        .with(session, &principal.identity, |s| s.version)
    else {
        let e = RpcError::new(
            id,
            ErrorCode::InvalidRequest,
            "no such session: it ended, idled out, or is another identity's; call `initialize`",
        );
        return Ok(rpc_error(ex, StatusCode::NOT_FOUND, e));
    };
    if let Some(asked) = header_text(&parts.headers, VERSION_HEADER)
        && asked != version
    {
        let e = RpcError::new(
            id,
            ErrorCode::InvalidRequest,
            format!("`MCP-Protocol-Version: {asked}` is not this session's version ({version})"),
        )
        .with_data(json!({"supported": [version]}));
        return Ok(rpc_error(ex, StatusCode::BAD_REQUEST, e));
    }
    let Message::Request { id, method, params } = message else {
        rate_limit::check_identity(snapshot, ex, caller).await?;
        return Ok(accepted());
    };
    if method != "tools/call" {
        rate_limit::check_identity(snapshot, ex, caller).await?;
    }
    match method.as_str() {
        "ping" => Ok(json_response(
            StatusCode::OK,
            &jsonrpc::result(&id, json!({})),
            None,
        )),
        "tools/list" => list(live, snapshot, ex, principal, session, &id, &params),
        "tools/call" => {
            let answer = call::run(
                live,
                snapshot,
                ex,
                caller,
                session,
                &id,
                params,
                &parts.headers,
            )
            .await;
            Ok(match answer {
                Ok(result) => text_response(StatusCode::OK, jsonrpc::result_text(&id, &result)),
                Err(e) => rpc_error(ex, StatusCode::OK, e),
            })
        }
        _ => {
            let e = RpcError::new(
                Some(id),
                ErrorCode::MethodNotFound,
                format!("`{method}` is not a method of this server"),
            );
            Ok(rpc_error(ex, StatusCode::OK, e))
        }
    }
}

fn initialize(
    live: &Live,
    snapshot: &Snapshot,
    ex: &mut Exchange,
    identity: &str,
    id: &Value,
    params: &Map<String, Value>,
) -> Result<Response<Body>, Refusal> {
    let Some(asked) = params.get("protocolVersion").and_then(Value::as_str) else {
        let e = RpcError::new(
            Some(id.clone()),
            ErrorCode::InvalidParams,
            "`protocolVersion` must be a string",
        );
        return Ok(rpc_error(ex, StatusCode::OK, e));
    };
    let version = protocol::negotiate(Some(asked));
    let session = live
        .sessions
        .open(identity, version, pins(snapshot))
        .ok_or_else(|| {
            Refusal::new(
                ProblemCode::Unavailable,
                "the gateway holds as many MCP sessions as it will; try again later",
            )
        })?;
    if let Some(note) = ex.mcp.as_mut() {
        note.session = Some(session.clone());
    }
    let result = protocol::initialize_result(version, env!("CARGO_PKG_VERSION"));
    Ok(json_response(
        StatusCode::OK,
        &jsonrpc::result(id, result),
        Some(&session),
    ))
}

/// `tools/list`: what this caller may call, one page; listing pins the
/// session to the contracts the tools came from.
fn list(
    live: &Live,
    snapshot: &Snapshot,
    ex: &mut Exchange,
    principal: &crate::authority::Principal,
    session: &str,
    id: &Value,
    params: &Map<String, Value>,
) -> Result<Response<Body>, Refusal> {
    let cursor = match params.get("cursor") {
        None | Some(Value::Null) => None,
        Some(Value::String(c)) => Some(c.as_str()),
        Some(_) => {
            let e = RpcError::new(
                Some(id.clone()),
                ErrorCode::InvalidParams,
                "`cursor` must be a string",
            );
            return Ok(rpc_error(ex, StatusCode::OK, e));
        }
    };
    let page = snapshot
        .authority
        .with_identity(&principal.identity, |identity| {
            let viewer = Viewer {
                identity,
                scopes: &principal.scopes,
                audience: principal.audience.as_deref(),
            };
            let listed = visible(
                &snapshot.mcp.tools,
                |api, op| snapshot.operation(api, op),
                &snapshot.policies.store,
                &viewer,
            );
            protocol::list_page(&listed, cursor)
        })
        .map_err(|_| {
            Refusal::new(
                ProblemCode::Unavailable,
                "the gateway could not read the identity",
            )
        })?
        .ok_or_else(|| {
            Refusal::new(
                ProblemCode::IdentitySuspended,
                "the identity no longer exists",
            )
        })?;
    let Ok(page) = page else {
        let e = RpcError::new(
            Some(id.clone()),
            ErrorCode::InvalidParams,
            "`cursor` is not one this server handed out",
        );
        return Ok(rpc_error(ex, StatusCode::OK, e));
    };
    let pins = pins(snapshot);
    let _ = live
        .sessions
        .with(session, &principal.identity, |s| s.pins = pins);
    Ok(json_response(
        StatusCode::OK,
        &jsonrpc::result(id, page),
        None,
    ))
}

fn open_stream(
    live: &Live,
    ex: &mut Exchange,
    caller: &Caller,
    headers: &HeaderMap,
) -> Response<Body> {
    let Caller::Identity(principal) = caller;
    let Some(session) = header_text(headers, SESSION_HEADER) else {
        let e = RpcError::new(
            None,
            ErrorCode::InvalidRequest,
            "`Mcp-Session-Id` is required",
        );
        return rpc_error(ex, StatusCode::BAD_REQUEST, e);
    };
    let (tx, events) = events::channel();
    match live
        .sessions
        .with(session, &principal.identity, |s| s.stream = Some(tx))
    {
        Ok(()) => {
            let mut response = Response::new(Either::Right(events));
            let h = response.headers_mut();
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/event-stream"),
            );
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
        Err(_) => {
            let e = RpcError::new(None, ErrorCode::InvalidRequest, "no such session");
            rpc_error(ex, StatusCode::NOT_FOUND, e)
        }
    }
}

fn end_session(
    live: &Live,
    ex: &mut Exchange,
    caller: &Caller,
    headers: &HeaderMap,
) -> Response<Body> {
    let Caller::Identity(principal) = caller;
    let ended = header_text(headers, SESSION_HEADER)
        .map(|session| live.sessions.end(session, &principal.identity));
    match ended {
        Some(Ok(())) => {
            let mut response = Response::new(Either::Left(Full::new(Bytes::new())));
            *response.status_mut() = StatusCode::NO_CONTENT;
            response
        }
        Some(Err(_)) => rpc_error(
            ex,
            StatusCode::NOT_FOUND,
            RpcError::new(None, ErrorCode::InvalidRequest, "no such session"),
        ),
        None => rpc_error(
            ex,
            StatusCode::BAD_REQUEST,
            RpcError::new(
                None,
                ErrorCode::InvalidRequest,
                "`Mcp-Session-Id` is required",
            ),
        ),
    }
}

/// DNS-rebinding protection, as the transport specification asks: a
/// request carrying `Origin` must come from the gateway's own origin or one
/// `mcp.allowed_origins` names. Agents that are not browsers send none.
fn check_origin(snapshot: &Snapshot, headers: &HeaderMap) -> Result<(), Refusal> {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return Ok(());
    };
    let own = snapshot.authority.base_url().trim_end_matches('/');
    let allowed = std::iter::once(own)
        .chain(snapshot.mcp_origins.iter().map(String::as_str))
        .any(|o| origin.as_bytes().eq_ignore_ascii_case(o.as_bytes()));
    if allowed {
        return Ok(());
    }
    Err(Refusal::new(
        ProblemCode::Forbidden,
        "this page's origin may not call /mcp (DNS-rebinding protection); `mcp.allowed_origins` lists the ones that may",
    ))
}

/// API name → the digest of the contract it is enforced with now.
fn pins(snapshot: &Snapshot) -> HashMap<String, String> {
    snapshot
        .apis
        .iter()
        .map(|a| (a.config.name.clone(), a.config.contract.digest().to_owned()))
        .collect()
}

fn header_text<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn text_response(status: StatusCode, body: String) -> Response<Body> {
    let mut response = Response::new(Either::Left(Full::new(Bytes::from(body))));
    *response.status_mut() = status;
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn json_response(status: StatusCode, body: &Value, session: Option<&str>) -> Response<Body> {
    let mut response = text_response(status, body.to_string());
    if let Some(id) = session.and_then(|s| HeaderValue::from_str(s).ok()) {
        response.headers_mut().insert(SESSION_HEADER, id);
    }
    response
}

/// A JSON-RPC error answer; recorded as a refusal (`invalid-request`) with
/// the JSON-RPC code beside it.
fn rpc_error(ex: &mut Exchange, status: StatusCode, error: RpcError) -> Response<Body> {
    ex.refused_as = Some(ProblemCode::InvalidRequest);
    if let Some(note) = ex.mcp.as_mut() {
        note.rpc_error = Some(error.code.code());
    }
    json_response(status, &error.to_json(), None)
}

/// A notification or a client's response: taken, nothing to answer.
fn accepted() -> Response<Body> {
    let mut response = Response::new(Either::Left(Full::new(Bytes::new())));
    *response.status_mut() = StatusCode::ACCEPTED;
    response
}
