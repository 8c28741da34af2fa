//! The MCP face (`/mcp`) driven by a real MCP client: the official Python
//! SDK (`mcp` on PyPI, its Streamable HTTP client), run by
//! `tests/mcp_sdk/client.py` against the example world. Each identity lists
//! exactly the tools it may call; a permitted call returns what the same
//! request through the HTTP path returns (stripped and redacted alike); a
//! forbidden, invalid or rate-limited call carries the HTTP path's problem.
//!
//! The SDK is installed from `tests/mcp_sdk/requirements.txt` into a
//! virtualenv under the target folder (`CARGO_TARGET_TMPDIR/mcp-sdk-venv`)
//! the first time a test needs it, under a file lock; `.ci/run` makes the
//! same one up front. `PORTCULLIS_MCP_PYTHON` names another interpreter to
//! use instead. An SDK that cannot be installed fails the tests: they never
//! skip.

#![allow(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::panic,
    reason = "test code: a missing value should fail the test"
)]

#[path = "mcp_sdk/harness.rs"]
mod harness;

use harness::*;
use portcullis_testkit::raw;
use portcullis_testkit::{example_config, seed, spawn, spawn_with};
use serde_json::json;

#[tokio::test]
async fn the_sdk_lists_exactly_each_identitys_tools() {
    let world = spawn().await;
    let observed = drive(
        &world,
        vec![
            Session {
                label: "reporting",
                identity: "reporting-agent",
                mode: "auto",
                steps: vec![list()],
            },
            Session {
                label: "partner",
                identity: "partner-connector",
                mode: "legacy",
                steps: vec![list()],
            },
            Session {
                label: "fulfilment",
                identity: "fulfilment-service",
                mode: "legacy",
                steps: vec![list()],
            },
        ],
    )
    .await;
    let index = world
        .gateway_anonymous(&raw::get("/.well-known/portcullis/contracts"))
        .await
        .json();
    let digest = index["apis"][0]["sha256"].as_str().unwrap().to_owned();
    assert_eq!(index["apis"][0]["name"], "orders");

    for label in ["reporting", "partner", "fulfilment"] {
        let session = observed.session(label);
        // Both modes end in the initialize handshake at the newest version
        // the gateway speaks.
        assert_eq!(session["protocol_version"], "2025-11-25", "{label}");
        assert_eq!(session["server_info"]["name"], "portcullis", "{label}");
        assert_eq!(
            session["capabilities"]["tools"]["listChanged"], true,
            "{label}"
        );
        for tool in observed.step(label, 0)["tools"].as_array().unwrap() {
            let name = tool["name"].as_str().unwrap();
            assert_eq!(tool["inputSchema"]["type"], "object", "{name}");
            assert_eq!(
                tool["_meta"]["portcullis/contract"],
                digest.as_str(),
                "{name}"
            );
            let operation = name.strip_prefix("orders_").unwrap();
            assert_eq!(
                tool["_meta"]["portcullis/operation"],
                format!("orders:{operation}"),
                "{name}"
            );
            let annotations = &tool["annotations"];
            assert_eq!(annotations["openWorldHint"], false, "{name}");
            assert!(annotations["readOnlyHint"].is_boolean(), "{name}");
        }
    }

    assert_eq!(
        tool_names(observed.step("reporting", 0)),
        names(&READER_TOOLS)
    );
    for tool in observed.step("reporting", 0)["tools"].as_array().unwrap() {
        assert_eq!(tool["annotations"]["readOnlyHint"], true, "{tool}");
        assert_eq!(tool["annotations"]["destructiveHint"], false, "{tool}");
    }
    assert_eq!(
        tool_names(observed.step("partner", 0)),
        names(&PARTNER_TOOLS)
    );
    // The partner's listing tool takes the customer in its path.
    let partner_tools = observed.step("partner", 0)["tools"].as_array().unwrap();
    let customer_orders = partner_tools
        .iter()
        .find(|t| t["name"] == "orders_listCustomerOrders")
        .unwrap();
    assert!(
        customer_orders["inputSchema"]["properties"]["path"]["properties"]
            .get("customerId")
            .is_some(),
        "{customer_orders}"
    );
    assert!(customer_orders.get("outputSchema").is_some());

    // The writer sees the readers' tools and its writes, which say so.
    let fulfilment = tool_names(observed.step("fulfilment", 0));
    assert!(
        fulfilment.is_superset(&names(&READER_TOOLS)),
        "{fulfilment:?}"
    );
    let tools = observed.step("fulfilment", 0)["tools"].as_array().unwrap();
    let tool = |name: &str| {
        tools
            .iter()
            .find(|t| t["name"] == name)
            .unwrap_or_else(|| panic!("fulfilment-service does not see {name}: {fulfilment:?}"))
    };
    assert_eq!(
        tool("orders_updateOrderStatus")["annotations"]["readOnlyHint"],
        false
    );
    assert_eq!(
        tool("orders_cancelOrder")["annotations"]["destructiveHint"],
        true
    );
    assert_eq!(
        tool("orders_getCustomer")["annotations"]["readOnlyHint"],
        true
    );

    // What the SDK did on the wire. `auto` probed `server/discover` first:
    // the gateway answers a message without a session with a JSON-RPC
    // error (400), and the SDK fell back to `initialize`.
    let http = observed.session("reporting")["http"].as_array().unwrap();
    assert_eq!(http[0]["rpc"], "server/discover", "{http:?}");
    assert_eq!(http[0]["status"], 400, "{http:?}");
    assert_eq!(http[1]["rpc"], "initialize", "{http:?}");
    assert_eq!(http[1]["status"], 200, "{http:?}");
    // `legacy` starts with `initialize`.
    let http = observed.session("partner")["http"].as_array().unwrap();
    assert_eq!(http[0]["rpc"], "initialize", "{http:?}");
    for label in ["reporting", "partner", "fulfilment"] {
        let http = observed.session(label)["http"].as_array().unwrap();
        let after_initialize = http.iter().skip_while(|e| e["rpc"] != "initialize").skip(1);
        for exchange in after_initialize {
            // Every request after the handshake names the session and version.
            assert_eq!(exchange["session"], true, "{label}: {exchange}");
            assert_eq!(
                exchange["protocol_version"], "2025-11-25",
                "{label}: {exchange}"
            );
            match exchange["method"].as_str().unwrap() {
                "POST" if exchange["rpc"] == "notifications/initialized" => {
                    assert_eq!(exchange["status"], 202, "{label}: {exchange}");
                }
                "POST" => {
                    assert_eq!(exchange["status"], 200, "{label}: {exchange}");
                    assert_eq!(exchange["content_type"], "application/json", "{label}");
                }
                // The event stream, when the SDK got to open it before closing.
                "GET" => {
                    if !exchange["status"].is_null() {
                        assert_eq!(exchange["status"], 200, "{label}: {exchange}");
                        assert_eq!(exchange["content_type"], "text/event-stream", "{label}");
                    }
                }
                "DELETE" => assert_eq!(exchange["status"], 204, "{label}: {exchange}"),
                other => panic!("{label}: the SDK sent {other}: {exchange}"),
            }
        }
        // The SDK ends its session when it closes.
        assert_eq!(
            http.iter().filter(|e| e["method"] == "DELETE").count(),
            1,
            "{label}: {http:?}"
        );
        assert_eq!(
            http.last().unwrap()["method"],
            "DELETE",
            "{label}: {http:?}"
        );
    }
    eprintln!("SDK {}", observed.sdk);
    world.stop().await;
}

#[tokio::test]
async fn a_permitted_call_returns_what_the_http_path_returns() {
    let world = spawn().await;
    let acme = seed::CUSTOMER_ACME;
    let initech = seed::CUSTOMER_INITECH;
    let observed = drive(
        &world,
        vec![
            Session {
                label: "reporting",
                identity: "reporting-agent",
                mode: "auto",
                steps: vec![
                    call("orders_listOrders", json!({"query": {"limit": 2}})),
                    call("orders_getOrder", json!({"path": {"orderId": seed::ORDER_PAID}})),
                ],
            },
            Session {
                label: "partner",
                identity: "partner-connector",
                mode: "legacy",
                steps: vec![call(
                    "orders_listCustomerOrders",
                    json!({"path": {"customerId": acme}, "query": {"limit": 5}}),
                )],
            },
            Session {
                label: "fulfilment",
                identity: "fulfilment-service",
                mode: "auto",
                steps: vec![
                    call("orders_getCustomer", json!({"path": {"customerId": initech}})),
                    call(
                        "orders_updateOrderStatus",
                        json!({"path": {"orderId": seed::ORDER_PENDING}, "body": {"status": "paid"}}),
                    ),
                ],
            },
        ],
    )
    .await;

    let reporting = observed.key("reporting");
    let listed = http(&world, reporting, "GET", "/orders/v1/orders?limit=2", None).await;
    assert_same_answer("listOrders", observed.result("reporting", 0), &listed);
    assert_eq!(listed.json()["items"].as_array().unwrap().len(), 2);

    // getOrder: the upstream adds undeclared fields; both paths strip them.
    let order_path = format!("/orders/v1/orders/{}", seed::ORDER_PAID);
    let bare = world
        .direct(&raw::get(&format!("/v1/orders/{}", seed::ORDER_PAID)))
        .await
        .json();
    for undeclared in ["internalMarginCents", "fraudScore"] {
        assert!(
            bare.get(undeclared).is_some(),
            "the upstream no longer sends {undeclared}"
        );
    }
    let order = http(&world, reporting, "GET", &order_path, None).await;
    let result = observed.result("reporting", 1);
    assert_same_answer("getOrder", result, &order);
    for undeclared in ["internalMarginCents", "fraudScore", "internalNotes"] {
        assert!(
            result["structuredContent"].get(undeclared).is_none(),
            "{result}"
        );
        assert!(
            !result["content"][0]["text"]
                .as_str()
                .unwrap()
                .contains(undeclared)
        );
    }

    let partner = observed.key("partner");
    let own = http(
        &world,
        partner,
        "GET",
        &format!("/orders/v1/customers/{acme}/orders?limit=5"),
        None,
    )
    .await;
    let result = observed.result("partner", 0);
    assert_same_answer("listCustomerOrders (own customer)", result, &own);
    let items = result["structuredContent"]["items"].as_array().unwrap();
    assert!(!items.is_empty());
    assert!(items.iter().all(|o| o["customerId"] == acme), "{result}");

    // A secret in a declared field is redacted on both paths.
    let fulfilment = observed.key("fulfilment");
    let bare = world
        .direct(&raw::get(&format!("/v1/customers/{initech}")))
        .await
        .text();
    assert!(bare.contains("AKIAIOSFODNN7EXAMPLE"));
    let customer = http(
        &world,
        fulfilment,
        "GET",
        &format!("/orders/v1/customers/{initech}"),
        None,
    )
    .await;
    let result = observed.result("fulfilment", 0);
    assert_same_answer("getCustomer", result, &customer);
    let text = result["content"][0]["text"].as_str().unwrap();
    assert!(text.contains("[REDACTED:aws-access-key]"), "{text}");
    assert!(!text.contains("AKIAIOSFODNN7EXAMPLE"), "{text}");

    // The write went through: the order now reads as the call answered.
    let result = observed.result("fulfilment", 1);
    assert_eq!(result["structuredContent"]["status"], "paid", "{result}");
    let written = http(
        &world,
        fulfilment,
        "GET",
        &format!("/orders/v1/orders/{}", seed::ORDER_PENDING),
        None,
    )
    .await;
    assert_same_answer("updateOrderStatus, read back", result, &written);
    world.stop().await;
}

#[tokio::test]
async fn refusals_carry_the_http_paths_problem() {
    let world = spawn().await;
    let initech = seed::CUSTOMER_INITECH;
    let observed = drive(
        &world,
        vec![
            Session {
                label: "partner",
                identity: "partner-connector",
                mode: "legacy",
                steps: vec![
                    // Another customer's orders: the tenant rule refuses.
                    call(
                        "orders_listCustomerOrders",
                        json!({"path": {"customerId": initech}}),
                    ),
                    // A tool it is not shown: still refused by the pipeline.
                    call("orders_listOrders", json!({})),
                    // A customer id that is not a UUID never reaches policy.
                    call(
                        "orders_listCustomerOrders",
                        json!({"path": {"customerId": "not-a-uuid"}}),
                    ),
                ],
            },
            Session {
                label: "reporting",
                identity: "reporting-agent",
                mode: "auto",
                steps: vec![
                    call("orders_listOrders", json!({"query": {"limit": 0}})),
                    // The forbid on customer records overrides its permit.
                    call(
                        "orders_getCustomer",
                        json!({"path": {"customerId": initech}}),
                    ),
                ],
            },
        ],
    )
    .await;

    let partner = observed.key("partner");
    let other = http(
        &world,
        partner,
        "GET",
        &format!("/orders/v1/customers/{initech}/orders"),
        None,
    )
    .await;
    assert_eq!(other.status, 403);
    assert_same_problem(
        "partner, another customer's orders",
        observed.result("partner", 0),
        &other,
        "forbidden",
    );
    let unlisted = http(&world, partner, "GET", "/orders/v1/orders", None).await;
    assert_same_problem(
        "partner, listOrders",
        observed.result("partner", 1),
        &unlisted,
        "forbidden",
    );
    let not_uuid = http(
        &world,
        partner,
        "GET",
        "/orders/v1/customers/not-a-uuid/orders",
        None,
    )
    .await;
    let result = observed.result("partner", 2);
    assert_same_problem("partner, not a UUID", result, &not_uuid, "invalid-request");
    assert_eq!(
        result["structuredContent"]["errors"][0]["pointer"],
        "/path/customerId"
    );

    let reporting = observed.key("reporting");
    let zero = http(&world, reporting, "GET", "/orders/v1/orders?limit=0", None).await;
    assert_eq!(zero.status, 400);
    let result = observed.result("reporting", 0);
    assert_same_problem("limit 0", result, &zero, "invalid-request");
    assert_eq!(
        result["structuredContent"]["errors"][0]["pointer"],
        "/query/limit"
    );
    let customer = http(
        &world,
        reporting,
        "GET",
        &format!("/orders/v1/customers/{initech}"),
        None,
    )
    .await;
    assert_same_problem(
        "reporting, getCustomer",
        observed.result("reporting", 1),
        &customer,
        "forbidden",
    );
    world.stop().await;
}

#[tokio::test]
async fn a_burst_of_calls_is_rate_limited_as_http_is() {
    // listOrders: two at once per identity, then one an hour.
    let example = example_config();
    let before = example.split("\nrate_limits:").next().unwrap();
    let config = format!(
        "{before}\nrate_limits:\n  per_identity: 500/s\n  burst: 1000\n  operations:\n    orders:listOrders: {{rate: 1/h, burst: 2}}\n"
    );
    let world = spawn_with(&config).await;
    let burst = || {
        (0..3)
            .map(|_| call("orders_listOrders", json!({"query": {"limit": 1}})))
            .collect::<Vec<_>>()
    };
    let observed = drive(
        &world,
        vec![Session {
            label: "reporting",
            identity: "reporting-agent",
            mode: "auto",
            steps: burst(),
        }],
    )
    .await;
    assert_eq!(observed.result("reporting", 0)["isError"], false);
    assert_eq!(observed.result("reporting", 1)["isError"], false);
    let refused = observed.result("reporting", 2);

    // The same burst on the HTTP path, by an identity whose bucket is full.
    let fulfilment = key(&world, "fulfilment-service");
    let mut answers = Vec::new();
    for _ in 0..3 {
        answers.push(
            http(
                &world,
                &fulfilment,
                "GET",
                "/orders/v1/orders?limit=1",
                None,
            )
            .await,
        );
    }
    let statuses: Vec<u16> = answers.iter().map(|a| a.status).collect();
    assert_eq!(statuses, [200, 200, 429]);
    assert!(answers[2].header("retry-after").is_some());
    assert_same_problem("the third listOrders", refused, &answers[2], "rate-limited");

    // One bucket per identity and operation, whichever face: the MCP calls
    // used reporting-agent's, so its first HTTP request is refused too.
    let reporting = observed.key("reporting");
    let after = http(&world, reporting, "GET", "/orders/v1/orders?limit=1", None).await;
    assert_eq!(
        after.code().as_deref(),
        Some("rate-limited"),
        "{}",
        after.text()
    );
    world.stop().await;
}
