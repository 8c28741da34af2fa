//! The watch on the admin listener: `GET /admin/v1/alerts` (the admin
//! credential, filters, paging, every value checked) and a release through
//! `POST /admin/v1/identities/{id}/state`, recorded in the ledger with the
//! admin who made it and why.

use std::time::Duration;

use portcullis_testkit::raw::{get, json, with_header};
use portcullis_testkit::{example_config, identity_with_key, send};
use serde_json::Value;

use crate::support::{Admin, assert_problem, pointers};

const WATCH: &str = "watch:\n  detectors:\n    probing: {window: 10m, threshold: 3, respond: [alert, quarantine]}\n    enumeration: {enabled: false}\n    deny_spike: {enabled: false}\n    novelty: {enabled: false}\n    volume: {enabled: false}\n";

async fn until(admin: &Admin, target: &str, key: &str, n: usize) -> Vec<Value> {
    for _ in 0..200 {
        let page = admin.call(&get(target)).await.json();
        let found = page[key].as_array().cloned().unwrap_or_default();
        if found.len() >= n {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("fewer than {n} {key} at {target}")
}

#[tokio::test]
async fn alerts_are_listed_filtered_and_released_by_an_admin() {
    let admin = Admin::start_with(&format!("{}\n{WATCH}", example_config())).await;
    let key = identity_with_key(&admin.world.gateway, "prober", None);
    let probe = || async {
        for i in 0..3 {
            let r = send(
                admin.world.gateway_addr(),
                &with_header(&get(&format!("/orders/v1/x{i}")), "X-Api-Key", &key),
            )
            .await;
            assert_eq!(r.status, 404);
        }
    };
    probe().await;
    probe().await;
    let alerts = until(&admin, "/admin/v1/alerts?identity=prober", "alerts", 2).await;
    // Newest first, with where each is in the ledger.
    assert_eq!(alerts[0]["alert"]["action"], "quarantine");
    assert_eq!(alerts[1]["alert"]["action"], "alert");
    assert_eq!(alerts[1]["identity"], "prober");
    assert!(alerts[0]["seq"].as_u64() > alerts[1]["seq"].as_u64());
    let only = admin
        .call(&get("/admin/v1/alerts?detector=probing&action=alert"))
        .await
        .json();
    assert_eq!(only["alerts"].as_array().unwrap().len(), 1);
    let none = admin
        .call(&get("/admin/v1/alerts?detector=volume"))
        .await
        .json();
    assert!(none["alerts"].as_array().unwrap().is_empty());
    let paged = admin.call(&get("/admin/v1/alerts?limit=1")).await.json();
    let next = paged["next"].as_u64().unwrap();
    let older = admin
        .call(&get(&format!("/admin/v1/alerts?limit=1&before={next}")))
        .await
        .json();
    assert_eq!(older["alerts"][0]["alert"]["action"], "alert");

    let bad = admin
        .call(&get(
            "/admin/v1/alerts?detector=magic&action=ban&since=then",
        ))
        .await;
    let problem = assert_problem(&bad, 400, "invalid-request");
    assert_eq!(
        pointers(&problem),
        ["/query/since", "/query/detector", "/query/action"]
    );
    assert_problem(
        &send(admin.addr(), &get("/admin/v1/alerts")).await,
        401,
        "unauthenticated",
    );

    // Quarantined; an admin releases it, saying why.
    let held = send(
        admin.world.gateway_addr(),
        &with_header(&get("/orders/v1/orders"), "X-Api-Key", &key),
    )
    .await;
    assert_eq!(held.status, 403);
    for _ in 0..100 {
        let shown = admin.call(&get("/admin/v1/identities/prober")).await.json();
        if shown["state"] == "quarantined" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let release = admin
        .call(&json(
            "POST",
            "/admin/v1/identities/prober/state",
            r#"{"state":"active","reason":"a load test, agreed with its owner"}"#,
        ))
        .await;
    assert_eq!(release.status, 200, "{}", release.text());
    let back = send(
        admin.world.gateway_addr(),
        &with_header(&get("/orders/v1/orders"), "X-Api-Key", &key),
    )
    .await;
    assert_eq!(back.status, 200);
    let changes = until(
        &admin,
        "/admin/v1/decisions?identity=prober&decision=state",
        "decisions",
        2,
    )
    .await;
    let released = &changes[0]["entry"]["state_change"];
    assert_eq!(released["to"], "active");
    assert_eq!(released["by"], "portcullis-admin");
    assert_eq!(released["reason"], "a load test, agreed with its owner");
    assert_eq!(changes[1]["entry"]["state_change"]["by"], "watch:probing");
    admin.stop().await;
}

#[tokio::test]
async fn the_posture_report_is_served_in_every_format_to_the_admin_only() {
    let admin = Admin::start_with(&format!("{}\n{WATCH}", example_config())).await;
    let key = identity_with_key(&admin.world.gateway, "prober", None);
    for i in 0..3 {
        send(
            admin.world.gateway_addr(),
            &with_header(&get(&format!("/orders/v1/x{i}")), "X-Api-Key", &key),
        )
        .await;
    }
    let _ = until(&admin, "/admin/v1/alerts?identity=prober", "alerts", 1).await;
    admin.world.gateway.flush_audit().await;

    let report = admin.call(&get("/admin/v1/posture?environment=prod")).await;
    assert_eq!(report.status, 200, "{}", report.text());
    assert!(
        report
            .header("content-type")
            .unwrap()
            .starts_with("application/json")
    );
    let doc = report.json();
    let ids: Vec<&str> = doc["inventory"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert!(
        ids.contains(&"prober") && ids.contains(&"reporting-agent"),
        "{ids:?}"
    );
    let findings = doc["findings"].as_array().unwrap();
    assert!(
        findings.iter().any(|f| f["rule"] == "posture/open-alert"
            && f["subject"] == "prober"
            && f["nhi"] == "NHI2:2025"),
        "{doc:#}"
    );
    assert!(
        findings
            .iter()
            .any(|f| f["rule"] == "posture/cross-environment" && f["nhi"] == "NHI8:2025"),
        "tester is of environment test"
    );

    for (format, kind) in [
        ("html", "text/html"),
        ("sarif", "application/sarif+json"),
        ("text", "text/plain"),
    ] {
        let r = admin
            .call(&get(&format!("/admin/v1/posture?format={format}")))
            .await;
        assert_eq!(r.status, 200);
        assert!(
            r.header("content-type").unwrap().starts_with(kind),
            "{format}"
        );
    }
    let bad = admin
        .call(&get("/admin/v1/posture?format=pdf&days=0"))
        .await;
    let problem = assert_problem(&bad, 400, "invalid-request");
    assert_eq!(pointers(&problem), ["/query/format", "/query/days"]);
    assert_problem(
        &send(admin.addr(), &get("/admin/v1/posture")).await,
        401,
        "unauthenticated",
    );
    admin.stop().await;
}
