//! The audit ledger behind the live gateway: one record for every request,
//! allowed or refused at any stage, with ids, counts and codes but never a
//! secret; a chain that verifies; and strict durability failing closed.

#![allow(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::panic,
    reason = "test code: a missing value should fail the test"
)]

use portcullis_store::ledger::{Filter, Ledger, Location};
use portcullis_testkit::raw::{get, request};
use portcullis_testkit::{World, example_config, seed, spawn, spawn_with};
use serde_json::Value;

fn all(world: &World) -> Vec<Value> {
    let reader = Ledger::open_reader(world.gateway.ledger()).unwrap();
    let mut page = reader
        .query(&Filter {
            limit: 500,
            ..Filter::default()
        })
        .unwrap()
        .records;
    page.reverse();
    page
}

#[tokio::test]
async fn every_request_is_recorded_and_the_chain_verifies() {
    let world = spawn().await;
    let order = format!("/orders/v1/orders/{}", seed::ORDER_PAID);
    let ok = world.gateway(&get(&order)).await;
    assert_eq!(ok.status, 200);
    let refused = world.gateway_anonymous(&get("/orders/v1/orders")).await;
    assert_eq!(refused.status, 401);
    let undeclared = world
        .gateway(&get("/orders/v1/orders?api_key=sk-live-1234567890&limit=5"))
        .await;
    assert_eq!(undeclared.code().as_deref(), Some("invalid-request"));
    let body = format!(
        r#"{{"customerId":"{}","deliverBy":"2030-01-01T00:00:00Z","items":[{{"sku":"WID-0001","quantity":2}}]}}"#,
        seed::CUSTOMER_ACME
    );
    let created = world
        .gateway(&request(
            "POST",
            "/orders/v1/orders",
            &[("Content-Type", "application/json")],
            body.as_bytes(),
        ))
        .await;
    assert_eq!(created.status, 201);
    world.gateway.flush_audit().await;

    let records = all(&world);
    assert_eq!(records.len(), 4);
    let seqs: Vec<u64> = records.iter().map(|r| r["seq"].as_u64().unwrap()).collect();
    assert_eq!(seqs, [1, 2, 3, 4]);
    let e = &records[0]["entry"];
    assert_eq!(e["request_id"], ok.header("x-request-id").unwrap());
    assert_eq!(
        (
            &e["decision"],
            &e["stage"],
            &e["status"],
            &e["upstream_status"]
        ),
        (
            &"allow".into(),
            &"check_response".into(),
            &200.into(),
            &200.into()
        )
    );
    assert_eq!(
        (&e["identity"], &e["api"], &e["operation"]),
        (&"tester".into(), &"orders".into(), &"getOrder".into())
    );
    assert_eq!(e["policies"], serde_json::json!(["testkit-test-suite"]));
    assert_eq!(e["contract"].as_str().unwrap().len(), 64);
    assert!(e["credential"].as_str().unwrap().starts_with("tester/"));
    assert!(e["bytes_out"].as_u64().unwrap() > 100);
    assert!(
        e["fields_stripped"].as_u64().unwrap() > 0,
        "internalMarginCents and friends"
    );
    let stages: Vec<&str> = e["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["stage"].as_str().unwrap())
        .collect();
    assert_eq!(stages.first(), Some(&"limits"));
    assert_eq!(stages.last(), Some(&"check_response"));

    let e = &records[1]["entry"];
    assert_eq!(
        (&e["decision"], &e["stage"], &e["code"], &e["identity"]),
        (
            &"deny".into(),
            &"authenticate".into(),
            &"unauthenticated".into(),
            &Value::Null
        )
    );
    let e = &records[2]["entry"];
    assert_eq!(e["path"], "/orders/v1/orders?api_key=[REDACTED]&limit=5");
    assert_eq!(records[3]["entry"]["bytes_in"], body.len());

    let text = serde_json::to_string(&records).unwrap();
    for secret in [world.key.as_str(), "sk-live-1234567890", "WID-0001"] {
        assert!(!text.contains(secret), "`{secret}` is in the ledger");
    }
    let reader = Ledger::open_reader(world.gateway.ledger()).unwrap();
    let report = reader.verify(&[]).unwrap();
    assert_eq!((report.problem, report.records), (None, 4));
    world.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn strict_durability_refuses_when_the_ledger_cannot_be_written() {
    let world = spawn_with(&format!(
        "{}\naudit: {{durability: strict}}\n",
        example_config()
    ))
    .await;
    let order = format!("/orders/v1/orders/{}", seed::ORDER_PAID);
    assert_eq!(world.gateway(&get(&order)).await.status, 200);
    let Location::Memory(name) = world.gateway.ledger() else {
        panic!("tests keep the ledger in memory")
    };
    let ledger = rusqlite::Connection::open_with_flags(
        format!("file:{name}?mode=memory&cache=shared"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE | rusqlite::OpenFlags::SQLITE_OPEN_URI,
    )
    .unwrap();
    ledger
        .execute_batch("CREATE TRIGGER full BEFORE INSERT ON records BEGIN SELECT RAISE(ABORT, 'disk full'); END;")
        .unwrap();
    let refused = world.gateway(&get(&order)).await;
    assert_eq!(refused.code().as_deref(), Some("unavailable"));
    let not_ready = world.gateway.observer().ready().await.unwrap_err();
    assert_eq!(not_ready, ["the audit ledger does not accept writes"]);
    assert!(
        !refused.text().contains("Acme"),
        "the upstream's answer is withheld"
    );
    ledger.execute_batch("DROP TRIGGER full;").unwrap();
    world.gateway.flush_audit().await;
    let records = all(&world);
    assert_eq!(
        records.len(),
        2,
        "the refused request is recorded once the ledger recovers"
    );
    assert_eq!(
        (&records[1]["entry"]["status"], &records[1]["entry"]["code"]),
        (&503.into(), &"unavailable".into())
    );
    assert_eq!(world.gateway(&get(&order)).await.status, 200);
    assert_eq!(world.gateway.observer().ready().await, Ok(Vec::new()));
    world.stop().await;
}
