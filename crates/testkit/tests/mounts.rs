//! Several APIs on one gateway, each at its prefix, each with its own contract,
//! upstream and response policy.

use portcullis_example_orders::OrdersApi;
use portcullis_proxy::Gateway;
use portcullis_testkit::echo::Echo;
use portcullis_testkit::raw::{get, request, with_header};
use portcullis_testkit::{config_with, examples_dir, seed, send, tester};

#[tokio::test]
async fn each_api_answers_at_its_own_mount() {
    let orders = OrdersApi::start("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let echo = Echo::start().await.unwrap();
    let text = "apis:
  - {name: orders, contract: openapi.yaml, mount: /orders, upstream: 'http://127.0.0.1:1'}
  - name: echo
    contract: ../../crates/testkit/fixtures/echo.yaml
    mount: /tools/echo
    upstream: http://127.0.0.1:1
    responses: {secrets: block}
";
    let orders_url = format!("http://{}", orders.addr());
    let echo_url = format!("http://{}", echo.addr);
    let config = config_with(
        &examples_dir(),
        text,
        &[("orders", &orders_url), ("echo", &echo_url)],
    );
    let gateway = Gateway::start(config).await.unwrap();
    let at = gateway.addr();
    let key = tester(&gateway);
    let call = |request: Vec<u8>| {
        let request = with_header(&request, "X-Api-Key", &key);
        async move { send(at, &request).await }
    };

    let r = call(get(&format!("/orders/v1/orders/{}", seed::ORDER_PAID))).await;
    assert_eq!(r.status, 200);
    let r = call(get("/tools/echo/echo?q=1")).await;
    assert_eq!(r.json()["target"], "/echo?q=1");
    // Each API's own contract: echo's paths do not exist under /orders, and back.
    let r = call(get("/orders/echo")).await;
    assert_eq!(r.code().as_deref(), Some("undeclared-route"));
    let r = call(get("/tools/echo/v1/orders/summary")).await;
    assert_eq!(r.code().as_deref(), Some("undeclared-route"));
    // A prefix of a mount is not the mount.
    let r = call(get("/tools/echoes/echo")).await;
    assert_eq!(r.code().as_deref(), Some("undeclared-route"));
    // Each API's own response policy.
    let r = call(get("/tools/echo/text")).await;
    assert_eq!(r.code().as_deref(), Some("secret-in-response"));
    let r = call(get(&format!(
        "/orders/v1/customers/{}",
        seed::CUSTOMER_INITECH
    )))
    .await;
    assert_eq!(r.status, 200);
    // CONNECT is never served, whatever the target.
    let r = call(request("CONNECT", "127.0.0.1:22", &[], b"")).await;
    assert_eq!(r.code().as_deref(), Some("method-not-allowed"));

    let listed = call(get("/.well-known/portcullis/contracts")).await.json();
    let mounts: Vec<&str> = listed["apis"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["mount"].as_str().unwrap())
        .collect();
    assert_eq!(mounts, ["/orders", "/tools/echo"]);
    gateway.stop().await;
    orders.stop().await;
}
