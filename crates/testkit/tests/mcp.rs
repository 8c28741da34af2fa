//! The MCP face (`/mcp`) driven by hand-written JSON-RPC: the listing per
//! identity, a call through the pipeline, and every bad input's exact answer.

#![allow(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::panic,
    reason = "test code: a missing value should fail the test"
)]

use portcullis_store::CredentialKind;
use portcullis_testkit::mcp::McpClient;
use portcullis_testkit::{World, spawn};
use serde_json::{Value, json};

fn key(world: &World, identity: &str) -> String {
    world
        .gateway
        .authority()
        .create_secret(identity, CredentialKind::ApiKey, 3600, None)
        .unwrap()
        .secret
}

async fn client(world: &World, identity: &str) -> McpClient {
    let mut c = McpClient::with_key(world.gateway_addr(), &key(world, identity));
    let init = c.initialize().await;
    assert_eq!(init.status, 200, "{}", init.text());
    c
}

#[tokio::test]
async fn initialize_offers_tools_and_a_session() {
    let world = spawn().await;
    let mut c = McpClient::with_key(world.gateway_addr(), &key(&world, "reporting-agent"));
    let init = c.initialize().await;
    assert_eq!(init.header("content-type"), Some("application/json"));
    let result = &init.json()["result"];
    assert_eq!(result["protocolVersion"], "2025-11-25");
    assert_eq!(result["capabilities"]["tools"]["listChanged"], true);
    assert_eq!(result["serverInfo"]["name"], "portcullis");
    assert_eq!(c.session.as_ref().map(String::len), Some(32));
    let pong = c.request("ping", json!({})).await;
    assert_eq!(pong.json()["result"], json!({}));
    world.stop().await;
}

#[tokio::test]
async fn each_identity_sees_only_the_tools_it_may_call() {
    let world = spawn().await;
    let mut reporting = client(&world, "reporting-agent").await;
    let mut names = reporting.tool_names().await;
    names.sort();
    // Reads only; customers are forbidden to agents whatever else permits.
    assert_eq!(
        names,
        [
            "orders_getOrder",
            "orders_getOrderSummary",
            "orders_listCustomerOrders",
            "orders_listOrderItems",
            "orders_listOrders",
        ]
    );
    let mut partner = client(&world, "partner-connector").await;
    let mut names = partner.tool_names().await;
    names.sort();
    assert_eq!(
        names,
        ["orders_getOrderSummary", "orders_listCustomerOrders"]
    );
    world.stop().await;
}

#[tokio::test]
async fn a_call_runs_the_pipeline_and_returns_the_checked_body() {
    let world = spawn().await;
    let mut c = client(&world, "reporting-agent").await;
    let answer = c
        .call("orders_listOrders", json!({"query": {"limit": 2}}))
        .await;
    let result = &answer["result"];
    assert_eq!(result["isError"], false, "{answer}");
    let items = result["structuredContent"]["items"].as_array().unwrap();
    assert!(items.len() <= 2);
    // The upstream's undeclared field is stripped, as on HTTP.
    assert!(
        !result["content"][0]["text"]
            .as_str()
            .unwrap()
            .contains("internalNotes")
    );
    let refused = c
        .call("orders_listOrders", json!({"query": {"limit": 0}}))
        .await;
    let result = &refused["result"];
    assert_eq!(result["isError"], true);
    assert_eq!(result["structuredContent"]["code"], "invalid-request");
    assert_eq!(
        result["structuredContent"]["errors"][0]["pointer"],
        "/query/limit"
    );
    let forbidden = c
        .call(
            "orders_getCustomer",
            json!({"path": {"customerId": "5b8f1c2e-3a4d-4e6f-8a9b-0c1d2e3f4a01"}}),
        )
        .await;
    assert_eq!(
        forbidden["result"]["structuredContent"]["code"], "forbidden",
        "{forbidden}"
    );
    world.stop().await;
}

fn rpc_code(v: &Value) -> i64 {
    v["error"]["code"].as_i64().unwrap_or(0)
}

#[tokio::test]
async fn bad_messages_get_the_specified_answers() {
    let world = spawn().await;
    let mut c = client(&world, "reporting-agent").await;
    let parse = c.post_raw("{nope", &[]).await;
    assert_eq!((parse.status, rpc_code(&parse.json())), (400, -32700));
    let batch = c
        .post_raw(r#"[{"jsonrpc":"2.0","id":1,"method":"ping"}]"#, &[])
        .await;
    assert_eq!((batch.status, rpc_code(&batch.json())), (400, -32600));
    let note_with_id = c
        .post_raw(
            r#"{"jsonrpc":"2.0","id":5,"method":"notifications/initialized"}"#,
            &[],
        )
        .await;
    assert_eq!(
        (note_with_id.status, rpc_code(&note_with_id.json())),
        (400, -32600)
    );
    assert_eq!(note_with_id.json()["id"], 5);
    let unknown = c.request("resources/list", json!({})).await;
    assert_eq!((unknown.status, rpc_code(&unknown.json())), (200, -32601));
    let no_tool = c.call("orders_nope", json!({})).await;
    assert_eq!(rpc_code(&no_tool), -32602);
    let version = c
        .post_raw(
            r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#,
            &[("MCP-Protocol-Version", "1999-01-01")],
        )
        .await;
    assert_eq!((version.status, rpc_code(&version.json())), (400, -32600));
    let mut stranger = c.clone();
    stranger.session = Some("0".repeat(32));
    let unknown_session = stranger.request("ping", json!({})).await;
    assert_eq!(
        (unknown_session.status, rpc_code(&unknown_session.json())),
        (404, -32600)
    );
    let mut none = c.clone();
    none.session = None;
    let missing = none.request("tools/list", json!({})).await;
    assert_eq!((missing.status, rpc_code(&missing.json())), (400, -32600));
    let origin = c
        .post_raw(
            r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#,
            &[("Origin", "http://evil.example")],
        )
        .await;
    assert_eq!(
        (origin.status, origin.code().as_deref()),
        (403, Some("forbidden"))
    );
    world.stop().await;
}

#[tokio::test]
async fn without_a_credential_mcp_answers_the_gateways_401() {
    let world = spawn().await;
    let mut c = McpClient::with_key(world.gateway_addr(), "pck_wrong");
    let answer = c.initialize_raw().await;
    assert_eq!(answer.status, 401);
    assert_eq!(answer.code().as_deref(), Some("unauthenticated"));
    assert!(
        answer
            .header("www-authenticate")
            .unwrap()
            .contains("/.well-known/oauth-protected-resource")
    );
    world.stop().await;
}
