//! Observe mode: every stage still decides and each refusal is recorded
//! with the code it would have sent, but the request reaches the upstream;
//! the gateway's own limits still hold; the mode is per API.

#![allow(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::panic,
    reason = "test code: a missing value should fail the test"
)]

use portcullis_proxy::DecisionEvent;
use portcullis_testkit::raw::{get, request};
use portcullis_testkit::{World, example_config, seed, spawn_with};
use tokio::sync::broadcast::Receiver;

fn observing_orders() -> String {
    let text = example_config();
    assert!(text.contains("  - name: orders\n"));
    text.replace(
        "  - name: orders\n",
        "  - name: orders\n    mode: observe\n",
    )
}

async fn bearer(world: &World, identity: &str, path: &str) -> Vec<u8> {
    let authority = world.gateway.authority();
    let scopes = authority.identity(identity).unwrap().unwrap().scopes;
    let (token, _) = authority
        .issue_for(identity, &scopes, 600, "orders")
        .unwrap();
    portcullis_testkit::raw::with_header(&get(path), "Authorization", &format!("Bearer {token}"))
}

async fn next(decisions: &mut Receiver<DecisionEvent>) -> DecisionEvent {
    decisions.recv().await.unwrap()
}

#[tokio::test]
async fn refusals_are_recorded_and_the_request_still_goes_upstream() {
    let world = spawn_with(&observing_orders()).await;
    let mut decisions = world.gateway.decisions();

    // No credential: would be 401; the upstream answers instead.
    let r = world.gateway_anonymous(&get("/orders/v1/orders")).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let d = next(&mut decisions).await;
    assert_eq!(
        (d.observed, d.stage, d.code),
        (Some("unauthenticated"), "authenticate", None)
    );

    // An undeclared debug route: forwarded, but the gateway's own upstream
    // credential is still never shown.
    let r = world.gateway(&get("/orders/debug/config")).await;
    assert_eq!(r.status, 200);
    assert!(
        r.text().contains("aws_secret_access_key"),
        "the upstream answered"
    );
    let key =
        std::fs::read_to_string(portcullis_testkit::examples_dir().join("upstream.key")).unwrap();
    assert!(
        !r.text().contains(key.trim()),
        "the gateway's credential stays hidden"
    );
    assert_eq!(
        next(&mut decisions).await.observed,
        Some("undeclared-route")
    );

    // Denied by the tenant rule: Cedar decided, the request went through.
    let other = format!("/orders/v1/customers/{}/orders", seed::CUSTOMER_INITECH);
    let r = world
        .gateway_anonymous(&bearer(&world, "partner-connector", &other).await)
        .await;
    assert_eq!(r.status, 200);
    let d = next(&mut decisions).await;
    assert_eq!((d.observed, d.stage), (Some("forbidden"), "authorize"));
    assert!(d.policies.is_empty() && d.policy_errors.is_empty());

    // Allowed: the normal path, undeclared response fields still stripped.
    let own = format!("/orders/v1/orders/{}", seed::ORDER_PAID);
    let r = world
        .gateway_anonymous(&bearer(&world, "reporting-agent", &own).await)
        .await;
    assert_eq!(r.status, 200);
    assert!(!r.text().contains("internalMarginCents"));
    let d = next(&mut decisions).await;
    assert_eq!((d.observed, d.stage), (None, "check_response"));
    assert_eq!(d.policies, ["reporting-reads"]);

    // A status the contract does not declare: passed through, recorded.
    let shipped = format!("/orders/v1/orders/{}", seed::ORDER_SHIPPED);
    let r = world.gateway(&request("DELETE", &shipped, &[], b"")).await;
    assert_eq!(r.status, 409);
    assert_eq!(
        next(&mut decisions).await.observed,
        Some("response-contract-violation")
    );

    // The gateway's own limits are not relaxed.
    let big = vec![b'x'; 70_000];
    let r = world
        .gateway(&request(
            "POST",
            "/orders/v1/orders",
            &[("Content-Type", "application/json")],
            &big,
        ))
        .await;
    assert_eq!(r.code().as_deref(), Some("payload-too-large"));
    let d = next(&mut decisions).await;
    assert_eq!((d.code, d.observed), (Some("payload-too-large"), None));
    world.stop().await;
}

#[tokio::test]
async fn an_api_can_enforce_under_a_global_observe() {
    let text = example_config()
        .replace("mode: enforce", "mode: observe")
        .replace(
            "  - name: orders\n",
            "  - name: orders\n    mode: enforce\n",
        );
    let world = spawn_with(&text).await;
    let r = world.gateway_anonymous(&get("/orders/v1/orders")).await;
    assert_eq!(r.code().as_deref(), Some("unauthenticated"));
    world.stop().await;
}
