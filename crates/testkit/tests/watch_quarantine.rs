//! The watch's quarantine end to end: from the first request after the
//! decision every path of the identity is refused (its API key, its
//! tokens, the token endpoint, MCP); an admin's resume restores it; the
//! ledger holds the alert and both state changes, with who made them, and
//! verifies. A quarantine decided while the store cannot be written holds
//! all the same and is written when it can be. A restart rebuilds the
//! detectors' state from the ledger.

#![allow(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::panic,
    reason = "test code: a missing value should fail the test"
)]

#[path = "support/watch.rs"]
mod support;

use std::time::Duration;

use portcullis_core::IdentityState;
use portcullis_store::ledger::{Filter, Ledger};
use portcullis_store::{ChangedBy, CredentialKind};
use portcullis_testkit::{ExampleCopy, World, raw, spawn_stored, spawn_with};
use serde_json::Value;
use support::{Client, alerts, only};

const LIST: &str = "/orders/v1/orders";

fn quarantining() -> String {
    only(
        "probing: {window: 10m, threshold: 3, respond: [quarantine]}",
        "",
    )
}

async fn probe(client: &Client<'_>, n: usize) {
    for i in 0..n {
        let r = client.get(&format!("/orders/v1/nothing-{i}")).await;
        assert_eq!(r.code().as_deref(), Some("undeclared-route"));
    }
}

/// The store's view of the identity, polled until it is `state`.
async fn stored_state(world: &World, id: &str, state: IdentityState) {
    for _ in 0..100 {
        let stored = world.gateway.authority().store().get_identity(id).unwrap();
        if stored.map(|i| i.state) == Some(state) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{id} never became {state} in the store");
}

fn ledger_events(world: &World, id: &str, decision: &str) -> Vec<Value> {
    let filter = Filter {
        identity: Some(id.to_owned()),
        decision: Some(decision.to_owned()),
        limit: 100,
        ..Filter::default()
    };
    let mut page = Ledger::open_reader(world.gateway.ledger())
        .unwrap()
        .query(&filter)
        .unwrap()
        .records;
    page.reverse();
    page
}

#[tokio::test]
async fn a_quarantined_identity_is_refused_everywhere_until_an_admin_resumes_it() {
    let world = spawn_with(&quarantining()).await;
    let bot = Client::new(&world, "bot", None);
    let authority = world.gateway.authority();
    let (token, _) = authority
        .issue_for("bot", &["orders:read".into()], 600, "orders")
        .unwrap();
    let secret = authority
        .create_secret("bot", CredentialKind::ClientSecret, 3600, None)
        .unwrap();
    assert_eq!(bot.get(LIST).await.status, 200);
    let basic = raw::basic("bot", &secret.secret);
    let form = "grant_type=client_credentials&scope=orders:read";
    assert_eq!(world.token_request(Some(&basic), form).await.status, 200);

    probe(&bot, 3).await;
    // The very next request, on every path and with every credential.
    for target in [LIST, "/orders/v1/orders/summary", "/orders/v1/customers"] {
        let r = bot.get(target).await;
        assert_eq!(
            (r.status, r.code().as_deref()),
            (403, Some("identity-suspended")),
            "{target}"
        );
        assert!(r.json()["detail"].as_str().unwrap().contains("quarantined"));
    }
    let with_token = raw::request(
        "GET",
        LIST,
        &[("Authorization", &format!("Bearer {token}"))],
        b"",
    );
    assert_eq!(world.gateway_anonymous(&with_token).await.status, 403);
    let grant = world.token_request(Some(&basic), form).await;
    assert_eq!(
        (grant.status, grant.json()["error"].as_str()),
        (400, Some("unauthorized_client"))
    );
    let mcp = raw::request(
        "POST",
        "/mcp",
        &[
            ("X-Api-Key", &bot.key),
            ("Content-Type", "application/json"),
            ("Accept", "application/json, text/event-stream"),
        ],
        br#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#,
    );
    assert_eq!(world.gateway_anonymous(&mcp).await.status, 403);

    let alert = &alerts(&world, "bot", 1).await[0];
    assert_eq!(
        (alert["action"].as_str(), alert["count"].as_u64()),
        (Some("quarantine"), Some(3))
    );
    stored_state(&world, "bot", IdentityState::Quarantined).await;

    let by = ChangedBy {
        by: "ops-admin",
        reason: Some("reviewed: a test harness"),
    };
    authority
        .set_state("bot", IdentityState::Active, by)
        .unwrap();
    assert_eq!(bot.get(LIST).await.status, 200);
    assert_eq!(world.gateway_anonymous(&with_token).await.status, 200);

    // Both changes reach the ledger, with who made them, and it verifies.
    let mut changes = Vec::new();
    for _ in 0..100 {
        changes = ledger_events(&world, "bot", "state");
        if changes.len() >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let change = |i: usize| changes[i]["entry"]["state_change"].clone();
    assert_eq!(change(0)["to"], "quarantined");
    assert_eq!(change(0)["by"], "watch:probing");
    assert_eq!(
        (change(1)["from"].as_str(), change(1)["to"].as_str()),
        (Some("quarantined"), Some("active"))
    );
    assert_eq!(change(1)["by"], "ops-admin");
    assert_eq!(change(1)["reason"], "reviewed: a test harness");
    world.gateway.flush_audit().await;
    let report = Ledger::open_reader(world.gateway.ledger())
        .unwrap()
        .verify(&[])
        .unwrap();
    assert_eq!(report.problem, None);

    // Released: the detectors start again from nothing, so the next three
    // probes fire at level 1 (without the release, level 2).
    probe(&bot, 3).await;
    let again = alerts(&world, "bot", 2).await;
    assert_eq!(again[1]["level"].as_u64(), Some(1));
    world.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quarantine_the_store_cannot_take_holds_and_is_written_later() {
    let dir = ExampleCopy::new("watch-locked");
    let world = spawn_stored(&dir, &quarantining()).await;
    let bot = Client::new(&world, "bot", None);
    assert_eq!(bot.get(LIST).await.status, 200);
    // Another process holds the store's write lock.
    let blocker = rusqlite::Connection::open(dir.join("portcullis.db")).unwrap();
    blocker.execute_batch("BEGIN IMMEDIATE").unwrap();
    probe(&bot, 3).await;
    let refused = bot.get(LIST).await;
    assert_eq!(
        (refused.status, refused.code().as_deref()),
        (403, Some("identity-suspended"))
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        world
            .gateway
            .authority()
            .store()
            .get_identity("bot")
            .unwrap()
            .unwrap()
            .state,
        IdentityState::Active,
        "the store could not take it yet"
    );
    assert_eq!(bot.get(LIST).await.status, 403, "still held");
    blocker.execute_batch("ROLLBACK").unwrap();
    drop(blocker);
    stored_state(&world, "bot", IdentityState::Quarantined).await;
    assert_eq!(bot.get(LIST).await.status, 403);
    world.stop().await;
}

/// A quarantine decided while the store could not take it, then the
/// gateway stopped before it could: the restart holds it again (from the
/// ledger's alert) and writes it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quarantine_never_written_before_a_restart_is_held_again() {
    let dir = ExampleCopy::new("watch-unwritten");
    let world = spawn_stored(&dir, &quarantining()).await;
    let key = portcullis_testkit::identity_with_key(&world.gateway, "bot", None);
    let bot = Client {
        world: &world,
        key: key.clone(),
    };
    let blocker = rusqlite::Connection::open(dir.join("portcullis.db")).unwrap();
    blocker.execute_batch("BEGIN IMMEDIATE").unwrap();
    probe(&bot, 3).await;
    assert_eq!(bot.get(LIST).await.status, 403);
    let _ = alerts(&world, "bot", 1).await;
    world.gateway.flush_audit().await;
    world.stop().await;
    blocker.execute_batch("ROLLBACK").unwrap();
    drop(blocker);

    let world = spawn_stored(&dir, &quarantining()).await;
    let bot = Client { world: &world, key };
    let refused = bot.get(LIST).await;
    assert_eq!(
        (refused.status, refused.code().as_deref()),
        (403, Some("identity-suspended"))
    );
    stored_state(&world, "bot", IdentityState::Quarantined).await;
    world.stop().await;
}

#[tokio::test]
async fn a_restart_rebuilds_the_detectors_from_the_ledger() {
    let dir = ExampleCopy::new("watch-restart");
    let config = only(
        "probing: {window: 10m, threshold: 3, respond: [alert, throttle, quarantine]}",
        "",
    );
    let world = spawn_stored(&dir, &config).await;
    let key = portcullis_testkit::identity_with_key(&world.gateway, "bot", None);
    let bot = Client {
        world: &world,
        key: key.clone(),
    };
    probe(&bot, 3).await;
    assert_eq!(alerts(&world, "bot", 1).await[0]["action"], "alert");
    probe(&bot, 2).await;
    world.gateway.flush_audit().await;
    world.stop().await;

    // Two probes in the window before the restart, one after: the third
    // fires, and it is the second firing, so it throttles.
    let world = spawn_stored(&dir, &config).await;
    let bot = Client { world: &world, key };
    probe(&bot, 1).await;
    let after = alerts(&world, "bot", 2).await;
    assert_eq!(
        (after[1]["action"].as_str(), after[1]["level"].as_u64()),
        (Some("throttle"), Some(2))
    );
    world.stop().await;
}
