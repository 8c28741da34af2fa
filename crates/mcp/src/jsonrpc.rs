//! JSON-RPC 2.0 as MCP uses it: one message per POST body, read into what
//! it is (request, notification, a client's response) or the error the
//! specification gives for it, and the answers written back.
//!
//! Written on serde_json rather than taken from an SDK: the gateway must
//! give every malformed message its exact answer (parse error, invalid
//! request, unknown method), record it, and run `tools/call` through its own
//! pipeline, which an SDK's server loop would stand between.

use serde_json::{Map, Value, json};

/// The error codes JSON-RPC 2.0 reserves, as MCP uses them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    /// The body is not JSON.
    Parse,
    /// JSON, but not a valid JSON-RPC message (or not one this version accepts).
    InvalidRequest,
    /// No such method.
    MethodNotFound,
    /// The method exists; its parameters do not fit (an unknown tool included).
    InvalidParams,
    /// The gateway could not answer; never for bad input.
    Internal,
}

impl ErrorCode {
    pub fn code(self) -> i64 {
        match self {
            ErrorCode::Parse => -32700,
            ErrorCode::InvalidRequest => -32600,
            ErrorCode::MethodNotFound => -32601,
            ErrorCode::InvalidParams => -32602,
            ErrorCode::Internal => -32603,
        }
    }

    /// The name metrics and logs use.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::Parse => "parse-error",
            ErrorCode::InvalidRequest => "invalid-request",
            ErrorCode::MethodNotFound => "method-not-found",
            ErrorCode::InvalidParams => "invalid-params",
            ErrorCode::Internal => "internal-error",
        }
    }
}

/// A JSON-RPC error answer, with the id of the request it answers (`None`
/// when the request's id could not be read: written as `null`).
#[derive(Debug, Clone, PartialEq)]
pub struct RpcError {
    pub id: Option<Value>,
    pub code: ErrorCode,
    pub message: String,
    pub data: Option<Box<Value>>,
}

impl RpcError {
    pub fn new(id: Option<Value>, code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            id,
            code,
            message: message.into(),
            data: None,
        }
    }

    pub fn with_data(mut self, data: Value) -> Self {
        self.data = Some(Box::new(data));
        self
    }

    pub fn to_json(&self) -> Value {
        let mut error = Map::new();
        error.insert("code".into(), json!(self.code.code()));
        error.insert("message".into(), json!(self.message));
        if let Some(data) = &self.data {
            error.insert("data".into(), Value::clone(data));
        }
        json!({"jsonrpc": "2.0", "id": self.id.clone().unwrap_or(Value::Null), "error": error})
    }
}

/// One message a client sent.
#[derive(Debug, Clone, PartialEq)]
pub enum Message {
    /// A call that wants an answer.
    Request {
        id: Value,
        method: String,
        params: Map<String, Value>,
    },
    /// A call that wants none.
    Notification {
        method: String,
        params: Map<String, Value>,
    },
    /// The client's answer to a request of the server's. This server sends
    /// none, so these are accepted and dropped.
    Response { id: Value },
}

impl Message {
    pub fn method(&self) -> Option<&str> {
        match self {
            Message::Request { method, .. } | Message::Notification { method, .. } => Some(method),
            Message::Response { .. } => None,
        }
    }
}

/// Reads one POST body.
///
/// # Errors
/// Not JSON: `Parse`. A batch (MCP 2025-06-18 removed them), a value that
/// is not a JSON-RPC 2.0 message, an id that is neither a string nor an
/// integer, params that are not an object, a notification method sent with
/// an id: `InvalidRequest`, with the id when one could be read.
pub fn parse(body: &[u8]) -> Result<Message, RpcError> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| RpcError::new(None, ErrorCode::Parse, format!("the body is not JSON: {e}")))?;
    let invalid = |id: Option<Value>, why: &str| RpcError::new(id, ErrorCode::InvalidRequest, why);
    let mut object = match value {
        Value::Object(o) => o,
        Value::Array(_) => {
            return Err(invalid(
                None,
                "JSON-RPC batches are not accepted: MCP since 2025-06-18 sends one message per request",
            ));
        }
        _ => return Err(invalid(None, "a JSON-RPC message is a JSON object")),
    };
    let id = match object.remove("id") {
        None => None,
        Some(id @ Value::String(_)) => Some(id),
        Some(Value::Number(n)) if n.is_i64() || n.is_u64() => Some(Value::Number(n)),
        Some(_) => {
            return Err(invalid(
                None,
                "`id` must be a string or an integer (MCP does not allow null)",
            ));
        }
    };
    if object.get("jsonrpc") != Some(&json!("2.0")) {
        return Err(invalid(id, "`jsonrpc` must be \"2.0\""));
    }
    let method = match object.remove("method") {
        Some(Value::String(m)) => Some(m),
        Some(_) => return Err(invalid(id, "`method` must be a string")),
        None => None,
    };
    let Some(method) = method else {
        // A client's answer to a server request: `result` or `error`, with an id.
        return match (
            id,
            object.contains_key("result") || object.contains_key("error"),
        ) {
            (Some(id), true) => Ok(Message::Response { id }),
            (id, _) => Err(invalid(id, "a request needs `method`")),
        };
    };
    let params = match object.remove("params") {
        None => Map::new(),
        Some(Value::Object(p)) => p,
        Some(_) => return Err(invalid(id, "`params` must be an object")),
    };
    if let Some(extra) = object.keys().find(|k| k.as_str() != "jsonrpc") {
        return Err(invalid(id, &format!("unknown member `{extra}`")));
    }
    match id {
        Some(id) if method.starts_with("notifications/") => Err(invalid(
            Some(id),
            &format!("`{method}` is a notification: it must not carry an id"),
        )),
        Some(id) => Ok(Message::Request { id, method, params }),
        None => Ok(Message::Notification { method, params }),
    }
}

/// A successful answer.
pub fn result(id: &Value, result: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "result": result})
}

/// A successful answer whose result is already JSON text.
pub fn result_text(id: &Value, result: &str) -> String {
    format!(r#"{{"jsonrpc":"2.0","id":{id},"result":{result}}}"#)
}

/// A server notification (no id).
pub fn notification(method: &str, params: Option<Value>) -> Value {
    match params {
        Some(p) => json!({"jsonrpc": "2.0", "method": method, "params": p}),
        None => json!({"jsonrpc": "2.0", "method": method}),
    }
}

#[cfg(test)]
mod tests;
