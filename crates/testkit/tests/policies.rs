//! The demo's Cedar policies through the live gateway, as a table:
//! (identity, method, path, body) at a fixed time → (status, code,
//! determining policy ids), read from the decision each request produced.
//! Covers the tenant rule on both sides, the business-hours rule on both
//! sides, a forbid overriding a permit, and deny by default.

#![allow(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::panic,
    reason = "test code: a missing value should fail the test"
)]

use portcullis_testkit::raw::request;
use portcullis_testkit::{World, seed, spawn_at};

/// Tuesday 2026-11-24 10:00 UTC.
const TUESDAY_10: i64 = 1_795_514_400;
/// Tuesday 2026-11-24 20:00 UTC.
const TUESDAY_20: i64 = 1_795_550_400;
/// Saturday 2026-11-28 10:00 UTC.
const SATURDAY_10: i64 = 1_795_860_000;

struct Row {
    identity: &'static str,
    method: &'static str,
    path: String,
    body: Option<String>,
    status: u16,
    code: Option<&'static str>,
    /// The stage that decided, when not the whole pipeline.
    stage: &'static str,
    policies: &'static [&'static str],
}

fn row(
    identity: &'static str,
    method: &'static str,
    path: String,
    status: u16,
    code: Option<&'static str>,
    policies: &'static [&'static str],
) -> Row {
    Row {
        identity,
        method,
        path,
        body: None,
        status,
        code,
        stage: if code.is_some() {
            "authorize"
        } else {
            "check_response"
        },
        policies,
    }
}

fn new_order() -> String {
    format!(
        r#"{{"customerId":"{}","deliverBy":"2030-01-01T00:00:00Z","items":[{{"sku":"WID-0001","quantity":2}}]}}"#,
        seed::CUSTOMER_ACME
    )
}

fn create_order(identity: &'static str, status: u16, policies: &'static [&'static str]) -> Row {
    let code = (status == 403).then_some("forbidden");
    Row {
        body: Some(new_order()),
        ..row(
            identity,
            "POST",
            "/orders/v1/orders".into(),
            status,
            code,
            policies,
        )
    }
}

fn mark_paid() -> Row {
    Row {
        body: Some(r#"{"status":"paid"}"#.into()),
        ..row(
            "fulfilment-service",
            "PATCH",
            format!("/orders/v1/orders/{}", seed::ORDER_PENDING),
            200,
            None,
            &["fulfilment-changes-orders"],
        )
    }
}

/// Every scope the identity's inventory grants, in one token.
async fn token(world: &World, identity: &str) -> String {
    let authority = world.gateway.authority();
    let scopes = authority.identity(identity).unwrap().unwrap().scopes;
    authority
        .issue_for(identity, &scopes, 600, "orders")
        .unwrap()
        .0
}

async fn check(time: i64, rows: Vec<Row>) {
    let world = spawn_at(time).await;
    let mut decisions = world.gateway.decisions();
    for row in rows {
        let token = token(&world, row.identity).await;
        let mut headers = vec![("Authorization", format!("Bearer {token}"))];
        if row.body.is_some() {
            headers.push(("Content-Type", "application/json".into()));
        }
        let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let body = row.body.clone().unwrap_or_default();
        let r = world
            .gateway_anonymous(&request(row.method, &row.path, &headers, body.as_bytes()))
            .await;
        let what = format!("{} {} {} at {time}", row.identity, row.method, row.path);
        assert_eq!(
            (r.status, r.code().as_deref()),
            (row.status, row.code),
            "{what}: {}",
            r.text()
        );
        let decided = decisions.recv().await.unwrap();
        assert_eq!(decided.request_id, r.header("x-request-id").unwrap());
        assert_eq!(decided.identity.as_deref(), Some(row.identity), "{what}");
        assert_eq!(decided.stage, row.stage, "{what}");
        assert_eq!(decided.policies, row.policies, "{what}");
        assert!(decided.policy_errors.is_empty(), "{what}");
    }
    world.stop().await;
}

#[tokio::test]
async fn demo_policies_on_a_tuesday_morning() {
    let acme_orders = format!("/orders/v1/customers/{}/orders", seed::CUSTOMER_ACME);
    let initech_orders = format!("/orders/v1/customers/{}/orders", seed::CUSTOMER_INITECH);
    let acme = format!("/orders/v1/customers/{}", seed::CUSTOMER_ACME);
    // One row a request: identity, method, path, status, code, determining policies.
    #[rustfmt::skip]
    let rows = vec![
        // Reporting reads every order endpoint...
        row("reporting-agent", "GET", "/orders/v1/orders".into(), 200, None, &["reporting-reads"]),
        row("reporting-agent", "GET", "/orders/v1/orders/summary".into(), 200, None, &["reporting-reads"]),
        row("reporting-agent", "GET", acme_orders.clone(), 200, None, &["reporting-reads"]),
        // ...but a forbid overrides that permit for customer records.
        row("reporting-agent", "GET", acme.clone(), 403, Some("forbidden"), &["agents-never-read-customers"]),
        row("reporting-agent", "GET", "/orders/v1/customers".into(), 403, Some("forbidden"), &["agents-never-read-customers"]),
        // The tenant rule, both sides: its own customer, then another.
        row("partner-connector", "GET", acme_orders.clone(), 200, None, &["partner-own-customer-orders"]),
        row("partner-connector", "GET", initech_orders, 403, Some("forbidden"), &[]),
        // Deny by default: nothing permits a partner to list every order.
        row("partner-connector", "GET", "/orders/v1/orders".into(), 403, Some("forbidden"), &[]),
        row("partner-connector", "GET", "/orders/v1/orders/summary".into(), 200, None, &["partner-order-summary"]),
        row("stale-bot", "GET", "/orders/v1/orders".into(), 200, None, &["experiments-list-orders"]),
        row("stale-bot", "GET", "/orders/v1/orders/summary".into(), 403, Some("forbidden"), &[]),
        row("fulfilment-service", "GET", acme, 200, None, &["fulfilment-reads"]),
        // Business hours, the open side.
        create_order("fulfilment-service", 201, &["new-business-in-business-hours"]),
        mark_paid(),
        // A customer id that is not a UUID never reaches the policies: the
        // contract refuses it, so Cedar only ever sees typed values.
        Row {
            stage: "validate",
            ..row("partner-connector", "GET", "/orders/v1/customers/not-a-uuid/orders".into(), 400, Some("invalid-request"), &[])
        },
        Row {
            stage: "validate",
            ..row("partner-connector", "GET", format!("{acme_orders}?limit=ten"), 400, Some("invalid-request"), &[])
        },
    ];
    check(TUESDAY_10, rows).await;
}

#[tokio::test]
async fn new_business_waits_for_business_hours() {
    for time in [TUESDAY_20, SATURDAY_10] {
        // Closed side: no permit applies, so the default deny decides.
        check(
            time,
            vec![create_order("fulfilment-service", 403, &[]), mark_paid()],
        )
        .await;
    }
}
