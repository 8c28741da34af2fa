//! One MCP session with the gateway's `/mcp`, over the byte-exact client
//! (`crate::wire`): `initialize` (then `notifications/initialized`),
//! `tools/list` following cursors, `tools/call` with any credential, and
//! `DELETE` at the end. Every answer is checked against the protocol as
//! the gateway speaks it (one JSON-RPC message per POST, answered as
//! `application/json`, the session in `Mcp-Session-Id`).

use serde_json::{Map, Value, json};

use crate::wire::{self, Answer, Target};

/// The protocol revision asked for.
pub const PROTOCOL_VERSION: &str = "2025-11-25";
/// Where the gateway serves MCP.
const PATH: &str = "/mcp";
/// At most this many `tools/list` pages (a gateway handing out cursors
/// forever is a failure, not a hang).
const MAX_PAGES: usize = 1000;

/// Why a step of a session did not go as the protocol says.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// No answer at all (recorded as skipped, as on the HTTP path).
    #[error("{step}: no answer: {why}")]
    NoAnswer { step: &'static str, why: String },
    /// An answer, but not the protocol's (a finding).
    #[error("{what}")]
    Protocol { step: &'static str, what: String },
}

/// An open session.
#[derive(Debug)]
pub struct Session<'g> {
    gateway: &'g Target,
    /// The bearer token it was opened with.
    token: String,
    id: String,
    next_id: u64,
}

/// Sends one message to `/mcp`.
async fn post(
    gateway: &Target,
    token: Option<&str>,
    session: Option<&str>,
    body: &Value,
) -> Result<Answer, String> {
    let mut headers = vec![(
        "Accept".to_owned(),
        "application/json, text/event-stream".to_owned(),
    )];
    if let Some(token) = token {
        headers.push(("Authorization".into(), format!("Bearer {token}")));
    }
    if let Some(session) = session {
        headers.push(("Mcp-Session-Id".into(), session.to_owned()));
        headers.push(("MCP-Protocol-Version".into(), PROTOCOL_VERSION.to_owned()));
    }
    let bytes = body.to_string().into_bytes();
    wire::send(
        gateway,
        "POST",
        PATH,
        &headers,
        Some(("application/json", &bytes)),
    )
    .await
}

/// A request message.
fn request(id: u64, method: &str, params: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params})
}

/// The `result` of a JSON-RPC answer to request `id`.
fn result(step: &'static str, id: u64, answer: &Answer) -> Result<Value, SessionError> {
    let protocol = |what: String| SessionError::Protocol { step, what };
    let content_type = answer.header("content-type").unwrap_or_default();
    if content_type.starts_with("application/problem+json") {
        let code = serde_json::from_slice::<Value>(&answer.body)
            .ok()
            .and_then(|d| d.get("code").and_then(Value::as_str).map(str::to_owned))
            .unwrap_or_default();
        return Err(protocol(format!("refused with {} `{code}`", answer.status)));
    }
    if answer.status != 200 || !content_type.starts_with("application/json") {
        return Err(protocol(format!(
            "answered {} `{content_type}`, not a JSON-RPC answer",
            answer.status
        )));
    }
    let doc: Value = serde_json::from_slice(&answer.body)
        .map_err(|_| protocol("the answer is not JSON".into()))?;
    if doc.get("jsonrpc") != Some(&json!("2.0")) || doc.get("id") != Some(&json!(id)) {
        return Err(protocol(format!(
            "not the JSON-RPC 2.0 answer to request {id}"
        )));
    }
    if let Some(error) = doc.get("error") {
        return Err(protocol(format!("JSON-RPC error {error}")));
    }
    doc.get("result")
        .cloned()
        .ok_or_else(|| protocol("a JSON-RPC answer without `result`".into()))
}

impl<'g> Session<'g> {
    /// `initialize` with `token`, then `notifications/initialized`.
    ///
    /// # Errors
    /// No answer, or one that does not open a session as the protocol says.
    pub async fn open(gateway: &'g Target, token: &str) -> Result<Self, SessionError> {
        const STEP: &str = "initialize";
        let protocol = |what: String| SessionError::Protocol { step: STEP, what };
        let params = json!({
            "protocolVersion": PROTOCOL_VERSION,
            "capabilities": {},
            "clientInfo": {"name": "portcullis-verify", "version": env!("CARGO_PKG_VERSION")},
        });
        let answer = post(gateway, Some(token), None, &request(1, STEP, params))
            .await
            .map_err(|why| SessionError::NoAnswer { step: STEP, why })?;
        let result = result(STEP, 1, &answer)?;
        let version = result.get("protocolVersion").and_then(Value::as_str);
        if version != Some(PROTOCOL_VERSION) {
            return Err(protocol(format!(
                "asked for {PROTOCOL_VERSION}, answered {version:?}"
            )));
        }
        if result.pointer("/capabilities/tools").is_none() {
            return Err(protocol("no `tools` capability".into()));
        }
        let id = answer
            .header("mcp-session-id")
            .filter(|s| !s.is_empty() && s.bytes().all(|b| (0x21..0x7f).contains(&b)))
            .ok_or_else(|| protocol("no `Mcp-Session-Id` header (visible ASCII)".into()))?
            .to_owned();
        let session = Self {
            gateway,
            token: token.to_owned(),
            id,
            next_id: 2,
        };
        let note = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
        let step = "notifications/initialized";
        let accepted = post(gateway, Some(token), Some(&session.id), &note)
            .await
            .map_err(|why| SessionError::NoAnswer { step, why })?;
        if accepted.status != 202 {
            return Err(SessionError::Protocol {
                step,
                what: format!("answered {}, not 202 Accepted", accepted.status),
            });
        }
        Ok(session)
    }

    /// Every tool definition `tools/list` gives, following `nextCursor`.
    ///
    /// # Errors
    /// No answer, an answer that is not a page of tools, a cursor handed
    /// out twice, more than [`MAX_PAGES`] pages, or a tool listed twice.
    pub async fn list(&mut self) -> Result<Vec<Value>, SessionError> {
        const STEP: &str = "tools/list";
        let protocol = |what: String| SessionError::Protocol { step: STEP, what };
        let mut tools: Vec<Value> = Vec::new();
        let mut cursors: Vec<String> = Vec::new();
        for _ in 0..MAX_PAGES {
            let params = match cursors.last() {
                Some(c) => json!({"cursor": c}),
                None => json!({}),
            };
            let id = self.take_id();
            let message = request(id, STEP, params);
            let answer = post(self.gateway, Some(&self.token), Some(&self.id), &message)
                .await
                .map_err(|why| SessionError::NoAnswer { step: STEP, why })?;
            let page = result(STEP, id, &answer)?;
            let Some(listed) = page.get("tools").and_then(Value::as_array) else {
                return Err(protocol("a page without a `tools` array".into()));
            };
            for tool in listed {
                let name = tool.get("name").and_then(Value::as_str);
                let Some(name) = name else {
                    return Err(protocol("a tool without a `name`".into()));
                };
                if tools.iter().any(|t| t.get("name") == tool.get("name")) {
                    return Err(protocol(format!("`{name}` is listed twice")));
                }
                tools.push(tool.clone());
            }
            match page.get("nextCursor") {
                None | Some(Value::Null) => return Ok(tools),
                Some(Value::String(next)) if !cursors.contains(next) => cursors.push(next.clone()),
                Some(other) => {
                    return Err(protocol(format!(
                        "`nextCursor` {other} is not a new cursor"
                    )));
                }
            }
        }
        Err(protocol(format!("more than {MAX_PAGES} pages")))
    }

    /// `tools/call` of `tool` with `arguments`, sent with `token` (`None`:
    /// no credential at all) on this session; the whole answer.
    ///
    /// # Errors
    /// No answer.
    pub async fn call(
        &mut self,
        token: Option<&str>,
        tool: &str,
        arguments: &Map<String, Value>,
    ) -> Result<Answer, String> {
        let id = self.take_id();
        let message = request(
            id,
            "tools/call",
            json!({"name": tool, "arguments": arguments}),
        );
        post(self.gateway, token, Some(&self.id), &message).await
    }

    /// Ends the session (`DELETE /mcp`); best effort: the gateway also
    /// ends idle sessions.
    pub async fn end(self) {
        let headers = [
            ("Authorization".to_owned(), format!("Bearer {}", self.token)),
            ("Mcp-Session-Id".to_owned(), self.id.clone()),
            (
                "MCP-Protocol-Version".to_owned(),
                PROTOCOL_VERSION.to_owned(),
            ),
        ];
        if let Err(e) = wire::send(self.gateway, "DELETE", PATH, &headers, None).await {
            tracing::debug!(error = %e, "ending the MCP session");
        }
    }

    fn take_id(&mut self) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }
}
