//! A hand-written MCP client over the raw HTTP client: every message's
//! exact bytes are the test's, so bad input can be sent as easily as good.
//! (The Python SDK test, `tests/mcp_sdk.rs`, drives a real client.)

use std::net::SocketAddr;

use serde_json::{Value, json};

use crate::raw::{self, RawResponse};

/// One MCP session's client side.
#[derive(Debug, Clone)]
pub struct McpClient {
    pub addr: SocketAddr,
    /// The credential header sent with every request.
    pub credential: (String, String),
    pub session: Option<String>,
    next_id: u64,
}

impl McpClient {
    /// A client sending `X-Api-Key: key`.
    pub fn with_key(addr: SocketAddr, key: &str) -> Self {
        Self {
            addr,
            credential: ("X-Api-Key".to_owned(), key.to_owned()),
            session: None,
            next_id: 1,
        }
    }

    /// POSTs `body` to `/mcp` as JSON, with the session (if any) and `extra` headers.
    pub async fn post_raw(&self, body: &str, extra: &[(&str, &str)]) -> RawResponse {
        let mut headers: Vec<(&str, &str)> = vec![
            ("Content-Type", "application/json"),
            ("Accept", "application/json, text/event-stream"),
            (&self.credential.0, &self.credential.1),
        ];
        if let Some(s) = &self.session {
            headers.push(("Mcp-Session-Id", s));
        }
        headers.extend_from_slice(extra);
        raw::send(
            self.addr,
            &raw::request("POST", "/mcp", &headers, body.as_bytes()),
        )
        .await
    }

    /// Sends a request `method` with `params`; the whole HTTP response.
    pub async fn request(&mut self, method: &str, params: Value) -> RawResponse {
        let id = self.next_id;
        self.next_id += 1;
        let body = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        self.post_raw(&body.to_string(), &[]).await
    }

    /// `initialize` alone: the whole answer, nothing kept.
    pub async fn initialize_raw(&mut self) -> RawResponse {
        self.request(
            "initialize",
            json!({
                "protocolVersion": "2025-11-25",
                "capabilities": {},
                "clientInfo": {"name": "testkit", "version": "1"},
            }),
        )
        .await
    }

    /// `initialize` then `notifications/initialized`; keeps the session id.
    pub async fn initialize(&mut self) -> RawResponse {
        let answer = self
            .request(
                "initialize",
                json!({
                    "protocolVersion": "2025-11-25",
                    "capabilities": {},
                    "clientInfo": {"name": "testkit", "version": "1"},
                }),
            )
            .await;
        self.session = answer.header("mcp-session-id").map(str::to_owned);
        let note = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
        let accepted = self.post_raw(&note.to_string(), &[]).await;
        assert_eq!(accepted.status, 202, "{}", accepted.text());
        answer
    }

    /// Every tool name `tools/list` shows, following cursors.
    pub async fn tool_names(&mut self) -> Vec<String> {
        let mut names = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let params = match &cursor {
                Some(c) => json!({"cursor": c}),
                None => json!({}),
            };
            let page = self.request("tools/list", params).await.json();
            let result = page.get("result");
            let tools = result
                .and_then(|r| r.get("tools"))
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            names.extend(
                tools
                    .iter()
                    .filter_map(|t| t.get("name").and_then(Value::as_str).map(str::to_owned)),
            );
            match result
                .and_then(|r| r.get("nextCursor"))
                .and_then(Value::as_str)
            {
                Some(c) => cursor = Some(c.to_owned()),
                None => return names,
            }
        }
    }

    /// `tools/call`; the JSON-RPC answer.
    pub async fn call(&mut self, name: &str, arguments: Value) -> Value {
        self.request("tools/call", json!({"name": name, "arguments": arguments}))
            .await
            .json()
    }
}
