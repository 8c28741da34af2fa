//! The demo's misbehaving client, as the banner shows it: `crawler-agent`
//! probed until the watch quarantined it, its next request is refused, the
//! admin listener lists its three alerts with evidence, and the printed
//! release works and is recorded with who made it.

#![allow(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::panic,
    reason = "test code: a missing value should fail the test"
)]

use std::net::SocketAddr;

use portcullis_testkit::process::{demo, quoted};

use portcullis_testkit::raw::{get, json, with_header};

const BIN: &str = env!("CARGO_BIN_EXE_portcullis");

/// The first `http://host:port` on a line that mentions `marker`.
fn address(lines: &[String], marker: &str) -> SocketAddr {
    let line = lines.iter().find(|l| l.contains(marker)).unwrap();
    let at = line.find("http://").unwrap() + 7;
    let rest = &line[at..];
    let end = rest.find('/').unwrap();
    rest[..end].parse().unwrap()
}

#[tokio::test]
async fn the_demo_quarantines_its_crawler_and_the_printed_release_works() {
    let (_demo, banner) = demo(BIN);
    let find = |name| quoted(&banner, name).unwrap().to_owned();
    let (crawler, admin_key) = (find("CRAWLER"), find("ADMIN"));
    let gateway = address(&banner, "$CRAWLER");
    let admin = address(&banner, "alerts?identity=crawler-agent");
    let as_crawler = |target: &str| with_header(&get(target), "X-Api-Key", &crawler);
    let as_admin = |request: &[u8]| with_header(request, "X-Api-Key", &admin_key);

    let held = portcullis_testkit::send(gateway, &as_crawler("/orders/v1/orders")).await;
    assert_eq!(
        (held.status, held.code().as_deref()),
        (403, Some("identity-suspended"))
    );
    assert!(
        held.json()["detail"]
            .as_str()
            .unwrap()
            .contains("quarantined")
    );
    let mut alerts = Vec::new();
    for _ in 0..100 {
        let page = portcullis_testkit::send(
            admin,
            &as_admin(&get("/admin/v1/alerts?identity=crawler-agent")),
        )
        .await;
        alerts = page.json()["alerts"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if alerts.len() == 3 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let actions: Vec<&str> = alerts
        .iter()
        .map(|a| a["alert"]["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["quarantine", "throttle", "alert"]);
    assert!(
        alerts
            .iter()
            .all(|a| a["alert"]["count"] == 10 && a["alert"]["detector"] == "probing")
    );

    let release = json(
        "POST",
        "/admin/v1/identities/crawler-agent/state",
        r#"{"state":"active","reason":"reviewed"}"#,
    );
    let mut released = portcullis_testkit::send(admin, &as_admin(&release)).await;
    for _ in 0..100 {
        // The quarantine reaches the store a moment after the decision.
        if released.status == 200 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        released = portcullis_testkit::send(admin, &as_admin(&release)).await;
    }
    assert_eq!(released.status, 200, "{}", released.text());
    let back = portcullis_testkit::send(gateway, &as_crawler("/orders/v1/orders")).await;
    assert_eq!(back.status, 200, "{}", back.text());
    let mut changes = Vec::new();
    for _ in 0..100 {
        let page = portcullis_testkit::send(
            admin,
            &as_admin(&get(
                "/admin/v1/decisions?identity=crawler-agent&decision=state",
            )),
        )
        .await;
        changes = page.json()["decisions"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if changes.len() == 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(changes[0]["entry"]["state_change"]["by"], "demo-admin");
    assert_eq!(changes[1]["entry"]["state_change"]["by"], "watch:probing");
}
