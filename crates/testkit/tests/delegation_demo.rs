//! The example's delegation policy (`examples/orders/policies/delegation.cedar`)
//! as a table of answers through the live gateway, with the demo's own IdP:
//! the support agent lists a customer's orders only for a person of that
//! customer, and does nothing else for anyone.

#![allow(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::panic,
    reason = "test code: a missing value should fail the test"
)]

use portcullis_example_orders::demo_idp::DemoIdp;
use portcullis_example_orders::seed::{
    CUSTOMER_ACME, CUSTOMER_GLOBEX, CUSTOMER_INITECH, ORDER_PENDING,
};
use portcullis_store::CredentialKind;
use portcullis_testkit::{World, raw, spawn_with_idp};

const EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";

/// The support agent's token acting for `person` of customer `tenant`, or
/// its own token when `person` is `None`.
async fn token(world: &World, idp: &DemoIdp, secret: &str, person: Option<(&str, &str)>) -> String {
    let body = match person {
        None => "grant_type=client_credentials&scope=orders:read+orders:write".to_owned(),
        Some((sub, tenant)) => {
            let now = world.gateway.authority().now();
            let subject = idp
                .person_token(sub, tenant, "orders:read orders:write", now)
                .unwrap();
            format!(
                "grant_type={EXCHANGE}&subject_token={subject}\
                 &subject_token_type=urn:ietf:params:oauth:token-type:jwt&scope=orders:read+orders:write"
            )
        }
    };
    let client = raw::basic("support-agent", secret);
    let r = world.token_request(Some(&client), &body).await;
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()["access_token"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn the_demo_delegation_policy_answers_as_its_table_says() {
    let idp = DemoIdp::start(([127, 0, 0, 1], 0).into()).await.unwrap();
    let world = spawn_with_idp(&idp.jwks_url()).await;
    let secret = world
        .gateway
        .authority()
        .create_secret("support-agent", CredentialKind::ClientSecret, 3600, None)
        .unwrap()
        .secret;
    let alice = token(&world, &idp, &secret, Some(("alice", CUSTOMER_ACME))).await;
    let bob = token(&world, &idp, &secret, Some(("bob", CUSTOMER_GLOBEX))).await;
    let alone = token(&world, &idp, &secret, None).await;
    let orders_of = |c: &str| format!("/orders/v1/customers/{c}/orders");
    let pending = format!("/orders/v1/orders/{ORDER_PENDING}");
    let table: [(&str, &str, &str, &String, Option<&str>); 9] = [
        (
            "alice, her customer",
            "GET",
            &orders_of(CUSTOMER_ACME),
            &alice,
            None,
        ),
        (
            "alice, another customer",
            "GET",
            &orders_of(CUSTOMER_GLOBEX),
            &alice,
            Some("forbidden"),
        ),
        (
            "alice, a third customer",
            "GET",
            &orders_of(CUSTOMER_INITECH),
            &alice,
            Some("forbidden"),
        ),
        (
            "bob, his customer",
            "GET",
            &orders_of(CUSTOMER_GLOBEX),
            &bob,
            None,
        ),
        (
            "bob, alice's customer",
            "GET",
            &orders_of(CUSTOMER_ACME),
            &bob,
            Some("forbidden"),
        ),
        (
            "the agent alone",
            "GET",
            &orders_of(CUSTOMER_ACME),
            &alone,
            Some("forbidden"),
        ),
        (
            "alice, another operation",
            "GET",
            &pending,
            &alice,
            Some("forbidden"),
        ),
        (
            "alice, a write",
            "DELETE",
            &pending,
            &alice,
            Some("forbidden"),
        ),
        (
            "the agent alone, a write",
            "DELETE",
            &pending,
            &alone,
            Some("forbidden"),
        ),
    ];
    for (case, method, path, token, refused) in table {
        let request = raw::with_header(
            &raw::request(method, path, &[], b""),
            "Authorization",
            &format!("Bearer {token}"),
        );
        let r = world.gateway_anonymous(&request).await;
        match refused {
            None => assert_eq!(r.status, 200, "{case}: {}", r.text()),
            Some(code) => assert_eq!(r.code().as_deref(), Some(code), "{case}: {}", r.text()),
        }
    }
    world.stop().await;
}
