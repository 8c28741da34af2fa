//! The MCP methods' answers, as data: version negotiation, `initialize`,
//! `tools/list` pages, `tools/call` parameters and results.
//!
//! Protocol versions: the handshake revisions 2025-11-25 and 2025-06-18
//! (one JSON-RPC message per POST, `Mcp-Session-Id`,
//! `MCP-Protocol-Version`). 2025-03-26 allowed batches and is not offered;
//! the stateless 2026-07-28 revision (no `initialize`, no sessions) is not
//! offered either: contract pinning is bound to a session. A client asking
//! for any other version is answered with the newest one here, as the
//! specification's negotiation asks.

use serde_json::{Map, Value, json};

use crate::listing::Listed;

/// The versions this server speaks, newest first.
pub const SUPPORTED_VERSIONS: [&str; 2] = ["2025-11-25", "2025-06-18"];

/// How many tools one `tools/list` page holds.
pub const PAGE: usize = 100;

/// The `_meta` key that carries a tool's contract digest.
pub const CONTRACT_META: &str = "portcullis/contract";

/// The version to speak when the client asked for `requested`.
pub fn negotiate(requested: Option<&str>) -> &'static str {
    SUPPORTED_VERSIONS
        .into_iter()
        .find(|v| Some(*v) == requested)
        .unwrap_or(SUPPORTED_VERSIONS[0])
}

/// Whether `version` is one this server speaks.
pub fn is_supported(version: &str) -> bool {
    SUPPORTED_VERSIONS.contains(&version)
}

/// The `initialize` result.
pub fn initialize_result(version: &str, server_version: &str) -> Value {
    json!({
        "protocolVersion": version,
        "capabilities": {"tools": {"listChanged": true}},
        "serverInfo": {
            "name": "portcullis",
            "title": "Portcullis",
            "version": server_version,
        },
        "instructions": "Each tool is one operation of an API behind this gateway; \
    you see only the tools your identity may call. A call is checked exactly like \
    the HTTP request it stands for: a refusal comes back as a tool error whose \
    structured content is the gateway's problem document (`code` says why). \
    When the tool list changes, list the tools again before calling.",
    })
}

/// Why a `tools/list` cursor was not accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadCursor;

/// One `tools/list` page of `listed`, from `cursor` (the offset, as text,
/// that the previous page handed out).
///
/// # Errors
/// A cursor this server did not hand out.
pub fn list_page(listed: &[Listed<'_>], cursor: Option<&str>) -> Result<Value, BadCursor> {
    let start = match cursor {
        None => 0,
        Some(c) => c
            .parse::<usize>()
            .ok()
            .filter(|n| *n > 0 && *n < listed.len() && n % PAGE == 0)
            .ok_or(BadCursor)?,
    };
    let end = (start + PAGE).min(listed.len());
    let tools: Vec<Value> = listed
        .get(start..end)
        .unwrap_or_default()
        .iter()
        .map(|l| l.tool.to_json())
        .collect();
    let mut result = Map::new();
    result.insert("tools".into(), Value::Array(tools));
    if end < listed.len() {
        result.insert("nextCursor".into(), json!(end.to_string()));
    }
    Ok(Value::Object(result))
}

/// What a `tools/call` asks for.
#[derive(Debug, Clone, PartialEq)]
pub struct CallParams {
    pub name: String,
    pub arguments: Map<String, Value>,
    /// The contract digest the client saw the tool with, when it says.
    pub pinned: Option<String>,
}

/// Reads `tools/call`'s params.
///
/// # Errors
/// No tool name, or arguments that are not an object: the message for
/// JSON-RPC's invalid-params answer.
pub fn call_params(mut params: Map<String, Value>) -> Result<CallParams, String> {
    let name = match params.remove("name") {
        Some(Value::String(n)) => n,
        _ => return Err("`name` must be the tool's name".to_owned()),
    };
    let arguments = match params.remove("arguments") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(a)) => a,
        Some(_) => return Err("`arguments` must be an object".to_owned()),
    };
    let pinned = params
        .get("_meta")
        .and_then(|m| m.get(CONTRACT_META))
        .and_then(Value::as_str)
        .map(str::to_owned);
    Ok(CallParams {
        name,
        arguments,
        pinned,
    })
}

/// A tool result's JSON text: the operation's answer (`isError` when its
/// status is not 2xx) as text and, when it is a JSON object, as structured
/// content. The answer was already checked against the contract; it is
/// spliced in as written, not parsed into a tree and written again (the
/// largest cost `tools/call` adds to the HTTP path otherwise).
pub fn call_result(status: u16, body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let object = body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{')
        && serde_json::from_slice::<serde::de::IgnoredAny>(body).is_ok();
    result_text(
        !(200..300).contains(&status),
        status,
        &text,
        object.then_some(text.as_ref()),
    )
}

/// A refused call's JSON text: `isError`, the problem document as
/// structured content and as text.
pub fn refusal_result(status: u16, problem: &Value) -> String {
    let text = problem.to_string();
    result_text(true, status, &text, Some(&text))
}

/// `structured`, when given, is a JSON object's text.
fn result_text(is_error: bool, status: u16, text: &str, structured: Option<&str>) -> String {
    // Writing a string cannot fail.
    let escaped = serde_json::to_string(text).unwrap_or_default();
    let mut out = String::with_capacity(escaped.len() + structured.map_or(0, str::len) + 96);
    out.push_str(r#"{"content":[{"type":"text","text":"#);
    out.push_str(&escaped);
    out.push_str("}]");
    if let Some(structured) = structured {
        out.push_str(r#","structuredContent":"#);
        out.push_str(structured);
    }
    out.push_str(&format!(
        r#","isError":{is_error},"_meta":{{"portcullis/status":{status}}}}}"#
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negotiation_echoes_a_supported_version_and_offers_the_newest_otherwise() {
        assert_eq!(negotiate(Some("2025-06-18")), "2025-06-18");
        assert_eq!(negotiate(Some("2024-11-05")), "2025-11-25");
        assert_eq!(negotiate(None), "2025-11-25");
        assert!(!is_supported("2026-07-28"));
    }

    #[test]
    fn tools_are_listed_a_page_at_a_time_with_the_cursors_handed_out() {
        struct Text(String);
        impl portcullis_contract::Source for Text {
            fn read(&self, _: &str) -> Result<String, String> {
                Ok(self.0.clone())
            }
        }
        let mut doc = String::from("openapi: 3.1.0\ninfo: {title: t, version: '1'}\npaths:\n");
        for i in 0..250 {
            doc.push_str(&format!(
                "  /r{i}:\n    get:\n      operationId: op{i}\n      responses: {{'204': {{description: ok}}}}\n"
            ));
        }
        let contract = portcullis_contract::Contract::load("api.yaml", &Text(doc)).unwrap();
        let set = crate::ToolSet::from_contracts([("api", &contract)]);
        let listed: Vec<Listed<'_>> = set
            .tools
            .iter()
            .map(|tool| Listed {
                tool,
                reach: portcullis_policy::Reach::Always,
            })
            .collect();
        let first = list_page(&listed, None).unwrap();
        assert_eq!(first["tools"].as_array().unwrap().len(), PAGE);
        assert_eq!(first["tools"][0]["name"], "api_op0");
        assert_eq!(first["nextCursor"], "100");
        let second = list_page(&listed, Some("100")).unwrap();
        assert_eq!(second["tools"][0]["name"], "api_op100");
        let last = list_page(&listed, Some("200")).unwrap();
        assert_eq!(last["tools"].as_array().unwrap().len(), 50);
        assert!(last.get("nextCursor").is_none());
        for bad in ["0", "7", "250", "300", "x", "-100"] {
            assert_eq!(list_page(&listed, Some(bad)), Err(BadCursor), "{bad}");
        }
    }

    #[test]
    fn call_params_need_a_name_and_object_arguments() {
        let p = |v: Value| call_params(v.as_object().unwrap().clone());
        assert_eq!(
            p(json!({"name": "t", "_meta": {"portcullis/contract": "abc"}})).unwrap(),
            CallParams {
                name: "t".into(),
                arguments: Map::new(),
                pinned: Some("abc".into())
            }
        );
        assert!(p(json!({})).is_err());
        assert!(p(json!({"name": "t", "arguments": [1]})).is_err());
    }

    #[test]
    fn results_carry_the_status_and_structure_only_objects() {
        let parse = |text: String| serde_json::from_str::<Value>(&text).unwrap();
        let call_result = |status, body: &[u8]| parse(super::call_result(status, body));
        let refusal_result =
            |status, problem: Value| parse(super::refusal_result(status, &problem));
        let ok = call_result(200, br#"{"id":1}"#);
        assert_eq!(ok["isError"], false);
        assert_eq!(ok["structuredContent"], json!({"id": 1}));
        assert_eq!(ok["content"][0]["text"], r#"{"id":1}"#);
        let list = call_result(200, b"[1,2]");
        assert!(list.get("structuredContent").is_none());
        assert_eq!(call_result(404, b"{}")["isError"], true);
        let refused = refusal_result(403, json!({"code": "forbidden"}));
        assert_eq!(refused["isError"], true);
        assert_eq!(refused["structuredContent"]["code"], "forbidden");
        assert_eq!(refused["_meta"]["portcullis/status"], 403);
        // Text that only looks like an object is text.
        let broken = call_result(200, b"{\"id\": ");
        assert!(broken.get("structuredContent").is_none());
        assert_eq!(broken["content"][0]["text"], "{\"id\": ");
        let spaced = call_result(201, b"  {\"a\": \"\\u00e9\"}\n");
        assert_eq!(spaced["structuredContent"], json!({"a": "\u{e9}"}));
    }
}
