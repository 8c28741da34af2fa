use serde_json::json;

use super::*;

fn error(body: &str) -> RpcError {
    parse(body.as_bytes()).unwrap_err()
}

#[test]
fn requests_notifications_and_responses_are_told_apart() {
    assert_eq!(
        parse(br#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#).unwrap(),
        Message::Request {
            id: json!(1),
            method: "ping".into(),
            params: Map::new()
        }
    );
    assert_eq!(
        parse(br#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#).unwrap(),
        Message::Notification {
            method: "notifications/initialized".into(),
            params: Map::new()
        }
    );
    assert_eq!(
        parse(br#"{"jsonrpc":"2.0","id":"a","result":{}}"#).unwrap(),
        Message::Response { id: json!("a") }
    );
}

#[test]
fn malformed_messages_get_the_specified_codes() {
    assert_eq!(error("{not json").code, ErrorCode::Parse);
    assert_eq!(error("{not json").to_json()["id"], Value::Null);
    let batch = error(r#"[{"jsonrpc":"2.0","id":1,"method":"ping"}]"#);
    assert_eq!(batch.code, ErrorCode::InvalidRequest);
    assert!(batch.message.contains("batches"), "{}", batch.message);
    assert_eq!(error("7").code, ErrorCode::InvalidRequest);
    let version = error(r#"{"jsonrpc":"1.0","id":4,"method":"ping"}"#);
    assert_eq!(
        (version.code, version.id),
        (ErrorCode::InvalidRequest, Some(json!(4)))
    );
    assert_eq!(
        error(r#"{"jsonrpc":"2.0","id":null,"method":"ping"}"#).code,
        ErrorCode::InvalidRequest
    );
    assert_eq!(
        error(r#"{"jsonrpc":"2.0","id":1.5,"method":"ping"}"#).code,
        ErrorCode::InvalidRequest
    );
    assert_eq!(
        error(r#"{"jsonrpc":"2.0","id":1,"method":3}"#).code,
        ErrorCode::InvalidRequest
    );
    assert_eq!(
        error(r#"{"jsonrpc":"2.0","id":1,"method":"ping","params":[1]}"#).code,
        ErrorCode::InvalidRequest
    );
    assert_eq!(
        error(r#"{"jsonrpc":"2.0","id":1}"#).code,
        ErrorCode::InvalidRequest
    );
    assert_eq!(
        error(r#"{"jsonrpc":"2.0","id":1,"method":"ping","extra":1}"#).code,
        ErrorCode::InvalidRequest
    );
}

#[test]
fn a_notification_with_an_id_is_refused_with_its_id() {
    let e = error(r#"{"jsonrpc":"2.0","id":9,"method":"notifications/initialized"}"#);
    assert_eq!(e.code, ErrorCode::InvalidRequest);
    assert_eq!(
        e.to_json(),
        json!({"jsonrpc":"2.0","id":9,"error":{"code":-32600,"message":"`notifications/initialized` is a notification: it must not carry an id"}})
    );
}
