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
    // The upstream adds undeclared fields to an order; they are stripped,
    // as on HTTP.
    let id = items[0]["id"].as_str().unwrap();
    let bare = world
        .direct(&portcullis_testkit::raw::get(&format!("/v1/orders/{id}")))
        .await;
    assert!(
        bare.text().contains("internalMarginCents"),
        "{}",
        bare.text()
    );
    let order = c
        .call("orders_getOrder", json!({"path": {"orderId": id}}))
        .await;
    let text = order["result"]["content"][0]["text"].as_str().unwrap();
    assert_eq!(order["result"]["structuredContent"]["id"], id, "{order}");
    assert!(
        !text.contains("internalMarginCents") && !text.contains("fraudScore"),
        "{text}"
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
    assert_eq!(
        version.json()["error"]["data"]["supported"],
        json!(["2025-11-25", "2025-06-18"])
    );
    // A newer client's probe, before any session, learns the same.
    let mut probe = c.clone();
    probe.session = None;
    let discover = probe
        .post_raw(
            r#"{"jsonrpc":"2.0","id":1,"method":"server/discover"}"#,
            &[("MCP-Protocol-Version", "2026-07-28")],
        )
        .await;
    assert_eq!(discover.status, 400);
    assert_eq!(
        discover.json()["error"]["data"]["supported"][0],
        "2025-11-25"
    );
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

/// Every operation of the example × every identity of its inventory: the
/// tool is listed exactly when the policies permit that identity some
/// request. Two witnesses: the table below (what the example's policies say,
/// read by a person) and the policy analysis's coverage matrix, which
/// evaluates concrete requests (each identity's tag values and an outsider's,
/// a weekday morning and a weekend night): a cell it saw allowed must be
/// listed, and a listed tool must have been allowed for one of them.
#[tokio::test]
async fn the_listing_is_exactly_what_the_policies_permit() {
    use portcullis_policy::{Cell, analyze};

    const OPERATIONS: [&str; 12] = [
        "listCustomers",
        "createCustomer",
        "getCustomer",
        "listCustomerOrders",
        "listOrders",
        "createOrder",
        "getOrderSummary",
        "getOrder",
        "updateOrderStatus",
        "cancelOrder",
        "listOrderItems",
        "addOrderItem",
    ];
    // One row per identity, one letter per operation above: L listed, - not.
    let table = [
        // Reads orders (reporting-reads); customers forbidden to agents.
        ("reporting-agent", "---LL-LL--L-"),
        // Reads everything, moves orders along, new business in hours.
        ("fulfilment-service", "LLLLLLLLLLLL"),
        // Lists orders, nothing else.
        ("stale-bot", "----L-------"),
        // Its own customer's orders (tenant rule) and the summary.
        ("partner-connector", "---L--L-----"),
    ];
    let world = spawn().await;
    let config = portcullis_testkit::config(
        &portcullis_testkit::example_config(),
        &format!("http://{}", world.upstream_addr()),
    );
    let contracts: Vec<(&str, &portcullis_contract::Contract)> = config
        .apis
        .iter()
        .map(|a| (a.name.as_str(), a.contract.as_ref()))
        .collect();
    let identities: Vec<portcullis_core::Identity> = table
        .iter()
        .map(|(id, _)| {
            world
                .gateway
                .authority()
                .with_identity(id, Clone::clone)
                .unwrap()
                .unwrap()
        })
        .collect();
    let analysis = analyze(
        &config.policies.store,
        &config.policies.schema,
        &contracts,
        &identities,
    );
    let coverage = &analysis.coverage;
    // What `portcullis check` and `portcullis explain` report.
    let catalogue = portcullis_verify::tools(&config);
    let snapshot = portcullis_proxy::Snapshot::build(
        config.clone(),
        std::sync::Arc::clone(world.gateway.authority()),
        std::sync::Arc::clone(world.gateway.metrics()),
        1,
    )
    .unwrap();
    for (row, (identity, expected)) in table.iter().enumerate() {
        let mut c = client(&world, identity).await;
        let listed = c.tool_names().await;
        let checked: Vec<String> = catalogue
            .identities
            .iter()
            .find(|(id, _)| id == identity)
            .map(|(_, tools)| tools.iter().map(|(name, _)| name.clone()).collect())
            .unwrap();
        assert_eq!(checked, listed, "check's listing for {identity}");
        let explained = snapshot
            .explain(portcullis_proxy::ExplainRequest {
                identity: (*identity).to_owned(),
                method: "GET".into(),
                target: "/orders/v1/orders/summary".into(),
                headers: Vec::new(),
                body: None,
                scopes: None,
                delegation: None,
            })
            .await
            .unwrap();
        assert_eq!(explained.tools, listed, "explain's listing for {identity}");
        let column = coverage
            .identities
            .iter()
            .position(|i| i == identity)
            .unwrap();
        for (op, mark) in OPERATIONS.iter().zip(expected.chars()) {
            let tool = format!("orders_{op}");
            let is_listed = listed.contains(&tool);
            assert_eq!(
                is_listed,
                mark == 'L',
                "{identity} × {op}: listed {is_listed}"
            );
            let line = coverage
                .operations
                .iter()
                .position(|o| *o == format!("orders:{op}"))
                .unwrap();
            let seen_allowed = matches!(
                coverage.cells[line][column],
                Cell::Allow | Cell::Conditional
            );
            assert_eq!(
                is_listed, seen_allowed,
                "{identity} × {op}: listed {is_listed}, matrix {:?}",
                coverage.cells[line][column]
            );
        }
        assert_eq!(
            listed.len(),
            expected.matches('L').count(),
            "row {row}: {listed:?}"
        );
    }
    world.stop().await;
}

#[tokio::test]
async fn arguments_that_do_not_fit_are_refused_as_the_http_path_would() {
    let world = spawn().await;
    let mut c = client(&world, "reporting-agent").await;
    let wrong_type = c
        .call("orders_listOrders", json!({"query": {"limit": "5"}}))
        .await;
    let problem = &wrong_type["result"]["structuredContent"];
    assert_eq!(problem["code"], "invalid-request", "{wrong_type}");
    assert_eq!(problem["errors"][0]["pointer"], "/query/limit");
    assert_eq!(problem["errors"][0]["message"], "must be an integer");
    let unknown = c
        .call(
            "orders_listOrders",
            json!({"query": {"nope": 1}, "extra": true}),
        )
        .await;
    let pointers: Vec<&str> = unknown["result"]["structuredContent"]["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["pointer"].as_str().unwrap())
        .collect();
    assert_eq!(pointers, ["/extra", "/query/nope"]);
    // The HTTP path refuses the same undeclared query parameter the same way.
    let http = world
        .gateway(&portcullis_testkit::raw::get("/orders/v1/orders?nope=1"))
        .await;
    assert_eq!(http.code().as_deref(), Some("invalid-request"));
    assert_eq!(http.json()["errors"][0]["pointer"], "/query/nope");
    let params = c
        .request(
            "tools/call",
            json!({"name": "orders_listOrders", "arguments": [1]}),
        )
        .await;
    assert_eq!(rpc_code(&params.json()), -32602);
    world.stop().await;
}

#[tokio::test]
async fn an_oversized_message_is_refused_before_it_is_read() {
    let world = spawn().await;
    let c = client(&world, "reporting-agent").await;
    // The example's body limit is 64 KiB.
    let padding = "x".repeat(70_000);
    let big =
        format!(r#"{{"jsonrpc":"2.0","id":1,"method":"ping","params":{{"pad":"{padding}"}}}}"#);
    let answer = c.post_raw(&big, &[]).await;
    assert_eq!(
        (answer.status, answer.code().as_deref()),
        (413, Some("payload-too-large"))
    );
    let not_json = portcullis_testkit::raw::request(
        "POST",
        "/mcp",
        &[
            ("Content-Type", "text/plain"),
            ("X-Api-Key", &c.credential.1),
        ],
        b"{}",
    );
    let answer = portcullis_testkit::send(c.addr, &not_json).await;
    assert_eq!(answer.code().as_deref(), Some("unsupported-media-type"));
    let put =
        portcullis_testkit::raw::request("PUT", "/mcp", &[("X-Api-Key", &c.credential.1)], b"");
    let answer = portcullis_testkit::send(c.addr, &put).await;
    assert_eq!(
        (answer.status, answer.header("allow")),
        (405, Some("GET, POST, DELETE"))
    );
    world.stop().await;
}

#[tokio::test]
async fn an_unknown_version_is_answered_with_the_newest_and_a_stale_one_kept() {
    let world = spawn().await;
    let mut c = McpClient::with_key(world.gateway_addr(), &key(&world, "stale-bot"));
    let old = c
        .request("initialize", json!({"protocolVersion": "2024-11-05", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}))
        .await;
    assert_eq!(old.json()["result"]["protocolVersion"], "2025-11-25");
    let kept = c
        .request("initialize", json!({"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}))
        .await;
    assert_eq!(kept.json()["result"]["protocolVersion"], "2025-06-18");
    c.session = kept.header("mcp-session-id").map(str::to_owned);
    let ok = c
        .post_raw(
            r#"{"jsonrpc":"2.0","id":9,"method":"ping"}"#,
            &[("MCP-Protocol-Version", "2025-06-18")],
        )
        .await;
    assert_eq!(ok.status, 200);
    let other = c
        .post_raw(
            r#"{"jsonrpc":"2.0","id":9,"method":"ping"}"#,
            &[("MCP-Protocol-Version", "2025-11-25")],
        )
        .await;
    assert_eq!((other.status, rpc_code(&other.json())), (400, -32600));
    let no_version = c.request("initialize", json!({"capabilities": {}})).await;
    assert_eq!(
        rpc_code(&no_version.json()),
        -32600,
        "a session is open: initialize again is refused"
    );
    world.stop().await;
}

#[tokio::test]
async fn mcp_requests_are_recorded_and_counted() {
    use portcullis_store::ledger::{Filter, Ledger};
    let world = spawn().await;
    let mut c = client(&world, "reporting-agent").await;
    c.call("orders_getOrderSummary", json!({})).await;
    c.call(
        "orders_getCustomer",
        json!({"path": {"customerId": "5b8f1c2e-3a4d-4e6f-8a9b-0c1d2e3f4a01"}}),
    )
    .await;
    c.post_raw("{nope", &[]).await;
    world.gateway.flush_audit().await;
    let reader = Ledger::open_reader(world.gateway.ledger()).unwrap();
    let records = reader
        .query(&Filter {
            limit: 50,
            ..Filter::default()
        })
        .unwrap()
        .records;
    let session = c.session.clone().unwrap();
    let calls: Vec<&Value> = records
        .iter()
        .filter(|r| r["entry"]["mcp"]["method"] == "tools/call")
        .collect();
    assert_eq!(calls.len(), 2, "{records:#?}");
    let allowed = calls
        .iter()
        .find(|r| r["entry"]["mcp"]["tool"] == "orders_getOrderSummary")
        .unwrap();
    assert_eq!(allowed["entry"]["mcp"]["session"], session.as_str());
    assert_eq!(allowed["entry"]["decision"], "allow");
    assert_eq!(allowed["entry"]["operation"], "getOrderSummary");
    let denied = calls
        .iter()
        .find(|r| r["entry"]["mcp"]["tool"] == "orders_getCustomer")
        .unwrap();
    assert_eq!(denied["entry"]["code"], "forbidden");
    assert_eq!(denied["entry"]["stage"], "authorize");
    assert_eq!(
        denied["entry"]["policies"][0],
        "agents-never-read-customers"
    );
    let parse = records
        .iter()
        .find(|r| r["entry"]["mcp"]["rpc_error"] == -32700)
        .unwrap();
    assert_eq!(parse["entry"]["decision"], "deny");
    let metrics = world.gateway.metrics().render();
    assert!(
        metrics.contains(
            "portcullis_mcp_requests_total{method=\"tools/call\",outcome=\"forbidden\"} 1"
        ),
        "{metrics}"
    );
    assert!(
        metrics.contains("portcullis_mcp_requests_total{method=\"tools/call\",outcome=\"ok\"} 1")
    );
    assert!(metrics.contains("outcome=\"parse-error\"} 1"));
    world.stop().await;
}

#[tokio::test]
async fn only_the_configured_browser_origins_may_call() {
    let config = format!(
        "{}\nmcp:\n  allowed_origins: [\"http://localhost:6274\"]\n",
        portcullis_testkit::example_config()
    );
    let world = portcullis_testkit::spawn_with(&config).await;
    let c = client(&world, "reporting-agent").await;
    let ping = r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#;
    let allowed = c
        .post_raw(ping, &[("Origin", "http://localhost:6274")])
        .await;
    assert_eq!(allowed.status, 200, "{}", allowed.text());
    let other = c
        .post_raw(ping, &[("Origin", "http://localhost:6275")])
        .await;
    assert_eq!(other.code().as_deref(), Some("forbidden"));
    let own = format!("http://{}", world.gateway_addr());
    assert_eq!(c.post_raw(ping, &[("Origin", &own)]).await.status, 200);
    world.stop().await;
}
