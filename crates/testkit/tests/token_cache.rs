//! A token's signature is checked once and remembered; everything else is
//! still checked on every request: expiry, revocation, the identity's state,
//! and a store change forgets what was remembered.

#![allow(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::panic,
    reason = "test code: a missing value should fail the test"
)]

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use portcullis_core::{Clock, IdentityState, UnixTime};
use portcullis_proxy::Gateway;
use portcullis_testkit::raw::{get, with_header};
use portcullis_testkit::{config, example_config, send};

#[derive(Debug)]
struct Movable(AtomicI64);

impl Clock for Movable {
    fn now(&self) -> UnixTime {
        self.0.load(Ordering::Relaxed)
    }
}

#[tokio::test]
async fn a_remembered_token_still_expires_is_revoked_and_follows_its_identity() {
    let orders = portcullis_example_orders::OrdersApi::start("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let clock = Arc::new(Movable(AtomicI64::new(1_795_514_400)));
    let gateway = Gateway::start_with_clock(
        config(&example_config(), &format!("http://{}", orders.addr())),
        Arc::clone(&clock) as Arc<dyn Clock>,
    )
    .await
    .unwrap();
    let authority = gateway.authority();
    let call = |token: String| {
        let addr = gateway.addr();
        async move {
            send(
                addr,
                &with_header(
                    &get("/orders/v1/orders"),
                    "Authorization",
                    &format!("Bearer {token}"),
                ),
            )
            .await
        }
    };
    let (token, claims) = authority
        .issue_for("reporting-agent", &["orders:read".into()], 300, "orders")
        .unwrap();
    assert_eq!(call(token.clone()).await.status, 200);
    assert_eq!(call(token.clone()).await.status, 200, "remembered");

    // Expiry is checked on every request, remembered or not.
    clock.0.store(claims.exp + 31, Ordering::Relaxed);
    assert_eq!(
        call(token.clone()).await.code().as_deref(),
        Some("unauthenticated")
    );
    clock.0.store(1_795_514_400, Ordering::Relaxed);
    assert_eq!(call(token.clone()).await.status, 200);

    // The identity's state too.
    authority
        .set_state(
            "reporting-agent",
            IdentityState::Suspended,
            portcullis_store::ChangedBy::who("test"),
        )
        .unwrap();
    assert_eq!(
        call(token.clone()).await.code().as_deref(),
        Some("identity-suspended")
    );
    authority
        .set_state(
            "reporting-agent",
            IdentityState::Active,
            portcullis_store::ChangedBy::who("test"),
        )
        .unwrap();
    assert_eq!(call(token.clone()).await.status, 200);

    // And revocation.
    authority.revoke_token(&claims.jti, claims.exp).unwrap();
    assert_eq!(call(token).await.code().as_deref(), Some("unauthenticated"));
    gateway.stop().await;
    orders.stop().await;
}
