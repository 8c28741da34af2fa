//! What `portcullis demo` shows of the MCP face: where to point an MCP
//! client, and the same session by hand (initialize, list, two calls), as
//! curl lines a test runs step by step (`crates/portcullis/tests/demo.rs`).

/// One JSON-RPC step of the demo's MCP session, as the reader's token.
#[derive(Debug, Clone, Copy)]
pub struct McpStep {
    pub title: &'static str,
    /// The JSON-RPC message sent.
    pub body: &'static str,
    /// Whose answer is a tool error with this problem code (`None`: a result
    /// without `isError`).
    pub refused_with: Option<&'static str>,
}

/// The session's steps after `initialize`.
pub const STEPS: [McpStep; 3] = [
    McpStep {
        title: "the tools reporting-agent may call (reads; no customers, no writes)",
        body: r#"{"jsonrpc":"2.0","id":2,"method":"tools/list"}"#,
        refused_with: None,
    },
    McpStep {
        title: "a call runs the same pipeline: validated, authorized, undeclared fields stripped",
        body: r#"{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"orders_listOrders","arguments":{"query":{"limit":2}}}}"#,
        refused_with: None,
    },
    McpStep {
        title: "a tool it is not shown is refused exactly as on HTTP (agents never read customers)",
        body: r#"{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"orders_getCustomer","arguments":{"path":{"customerId":"5b8f1c2e-3a4d-4e6f-8a9b-0c1d2e3f4a01"}}}}"#,
        refused_with: Some("forbidden"),
    },
];

/// The `initialize` message.
pub const INITIALIZE: &str = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"curl","version":"1"}}}"#;

/// The demo's MCP lines for the gateway at `base` (`http://127.0.0.1:8080`).
pub fn lines(base: &str) -> Vec<String> {
    let headers = "-H \"Authorization: Bearer $READER\" -H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream'";
    let mut out = vec![
        format!(
            "# MCP: the same operations as tools at {base}/mcp (Streamable HTTP), each identity shown only what it may call."
        ),
        "# Point an MCP client there with the header `Authorization: Bearer <token>` (or `X-Api-Key`), or by hand:"
            .to_owned(),
        format!(
            "SESSION=$(curl -si {headers} --data '{INITIALIZE}' {base}/mcp | sed -nE 's/^mcp-session-id: ([0-9a-f]+).*/\\1/Ip')"
        ),
    ];
    for step in STEPS {
        out.push(format!("# {}", step.title));
        out.push(format!(
            "curl -s {headers} -H \"Mcp-Session-Id: $SESSION\" --data '{}' {base}/mcp",
            step.body
        ));
    }
    out
}
