//! Probes, metrics and decisions on the admin listener: `/healthz`,
//! `/readyz` and `/metrics` answer without a credential (and parse as
//! OpenMetrics); `/admin/v1/decisions` needs the admin credential, filters,
//! pages, and binds every value.

use portcullis_testkit::raw::get;
use portcullis_testkit::send;

use crate::support::{Admin, assert_problem, pointers};

#[tokio::test]
async fn probes_and_metrics_answer_without_a_credential() {
    let admin = Admin::start().await;
    let allowed = admin.world.gateway(&get("/orders/v1/orders")).await;
    assert_eq!(allowed.status, 200);
    let refused = admin
        .world
        .gateway_anonymous(&get("/orders/v1/orders"))
        .await;
    assert_eq!(refused.status, 401);
    admin.world.gateway.flush_audit().await;

    let health = send(admin.addr(), &get("/healthz")).await;
    assert_eq!(
        (health.status, health.json()["status"].as_str()),
        (200, Some("alive"))
    );
    let ready = send(admin.addr(), &get("/readyz")).await;
    assert_eq!(ready.status, 200, "{}", ready.text());

    let metrics = send(admin.addr(), &get("/metrics")).await;
    assert_eq!(metrics.status, 200);
    assert!(
        metrics
            .header("content-type")
            .unwrap()
            .starts_with("application/openmetrics-text")
    );
    let text = metrics.text();
    let parsed = openmetrics_parser::openmetrics::parse_openmetrics(&text)
        .unwrap_or_else(|e| panic!("{e:?}\n{text}"));
    for family in [
        "portcullis_requests",
        "portcullis_request_duration_seconds",
        "portcullis_stage_duration_seconds",
        "portcullis_tokens",
        "portcullis_audit_commit_seconds",
        "portcullis_audit_queue_depth",
        "portcullis_audit_records",
    ] {
        assert!(
            parsed.families.contains_key(family),
            "{family} missing:\n{text}"
        );
    }
    assert!(text.contains(r#"portcullis_requests_total{api="orders",operation="listOrders",decision="allow",code="-"} 1"#), "{text}");
    assert!(
        text.contains(r#"decision="deny",code="unauthenticated"} 1"#),
        "{text}"
    );
    assert!(!text.contains("tester"), "no identity in labels");
    admin.stop().await;
}

#[tokio::test]
async fn decisions_are_queried_with_the_admin_credential_only() {
    let admin = Admin::start().await;
    for _ in 0..3 {
        assert_eq!(
            admin.world.gateway(&get("/orders/v1/orders")).await.status,
            200
        );
    }
    assert_eq!(
        admin
            .world
            .gateway_anonymous(&get("/orders/v1/orders"))
            .await
            .status,
        401
    );
    admin.world.gateway.flush_audit().await;

    let anonymous = send(admin.addr(), &get("/admin/v1/decisions")).await;
    assert_problem(&anonymous, 401, "unauthenticated");

    let page = admin
        .call(&get("/admin/v1/decisions?identity=tester&limit=2"))
        .await;
    assert_eq!(page.status, 200, "{}", page.text());
    let body = page.json();
    let decisions = body["decisions"].as_array().unwrap();
    assert_eq!(decisions.len(), 2);
    assert!(decisions.iter().all(|d| d["entry"]["identity"] == "tester"));
    let next = body["next"].as_u64().unwrap();
    let older = admin
        .call(&get(&format!(
            "/admin/v1/decisions?identity=tester&limit=2&before={next}"
        )))
        .await
        .json();
    assert_eq!(older["decisions"].as_array().unwrap().len(), 1);

    let denied = admin
        .call(&get(
            "/admin/v1/decisions?decision=deny&code=unauthenticated",
        ))
        .await
        .json();
    assert_eq!(denied["decisions"].as_array().unwrap().len(), 1);
    let injected = admin
        .call(&get(
            "/admin/v1/decisions?identity=tester%27%20OR%20%271%27%3D%271",
        ))
        .await
        .json();
    assert!(injected["decisions"].as_array().unwrap().is_empty());
    let huge = admin
        .call(&get("/admin/v1/decisions?limit=4000000000"))
        .await;
    assert_eq!(huge.status, 200);
    let bad = admin
        .call(&get("/admin/v1/decisions?since=yesterday&decision=maybe"))
        .await;
    let problem = assert_problem(&bad, 400, "invalid-request");
    assert_eq!(pointers(&problem), ["/query/since", "/query/decision"]);
    let unknown = admin.call(&get("/admin/v1/decisions?colour=red")).await;
    assert_problem(&unknown, 400, "invalid-request");
    admin.stop().await;
}

/// `GET /admin/v1/fleet`: this gateway in the register, alive, no drift;
/// the admin credential required.
#[tokio::test]
async fn the_fleet_lists_this_node_with_the_admin_credential_only() {
    let admin = Admin::start().await;
    let fleet = admin.call(&get("/admin/v1/fleet")).await;
    assert_eq!(fleet.status, 200, "{}", fleet.text());
    let view = fleet.json();
    assert_eq!(
        (view["live"].as_u64(), view["drift"].as_bool()),
        (Some(1), Some(false))
    );
    let node = &view["nodes"][0];
    assert_eq!(node["address"], admin.world.gateway_addr().to_string());
    assert!(
        node["id"]
            .as_str()
            .unwrap()
            .ends_with(&format!("-{}", admin.world.gateway_addr().port()))
    );
    assert_eq!(node["config_digest"].as_str().map(str::len), Some(64));
    assert_eq!(
        (node["live"].as_bool(), node["drift"].as_bool()),
        (Some(true), Some(false))
    );
    assert_problem(
        &send(admin.addr(), &get("/admin/v1/fleet")).await,
        401,
        "unauthenticated",
    );
    admin.stop().await;
}
