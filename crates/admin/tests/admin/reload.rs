//! `POST /admin/v1/reload` and `GET /admin/v1/reload`: a valid change is
//! applied and named by its version, a bad one is refused in the one
//! problem shape with each error located, and the status says so.

use std::net::SocketAddr;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use portcullis_admin::{ADMIN_SCOPE, AdminServer, BOOTSTRAP_IDENTITY, bootstrap};
use portcullis_config::{Overrides, Storage};
use portcullis_example_orders::OrdersApi;
use portcullis_proxy::Gateway;
use portcullis_testkit::raw::{get, request};
use portcullis_testkit::{copy_example, send};

use crate::support::{SECRET, assert_problem, bearer, loopback, pointers};

#[tokio::test]
async fn reload_applies_a_good_change_and_refuses_a_bad_one() {
    let orders = OrdersApi::start(loopback()).await.unwrap();
    let dir = std::env::temp_dir().join(format!("portcullis-admin-reload-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    copy_example(&dir);
    let path = dir.join("portcullis.yaml");
    let overrides = Overrides {
        listen: Some(loopback()),
        storage: Some(Storage::Memory),
        admin: Some(loopback()),
        sealing_key: None,
        upstreams: vec![("orders".into(), format!("http://{}", orders.addr()))],
    };
    let (config, _) = portcullis_config::load(&path, &overrides).unwrap();
    let gateway = Gateway::start(config).await.unwrap();
    let authority = gateway.authority().clone();
    bootstrap(&authority, Some(SECRET)).unwrap();
    let reloader = gateway.reloader(path, overrides);
    let server = AdminServer::start(
        loopback(),
        authority,
        Some(reloader),
        Some(gateway.observer()),
    )
    .await
    .unwrap();
    let token = admin_token(gateway.addr()).await;
    let call = |req: Vec<u8>| {
        let req = bearer(&req, &token);
        let addr = server.addr();
        async move { send(addr, &req).await }
    };

    let applied = call(request("POST", "/admin/v1/reload", &[], b"")).await;
    assert_eq!(applied.status, 200, "{}", applied.text());
    assert_eq!(applied.json()["version"], 2);
    assert_eq!(gateway.snapshot_version(), 2);

    std::fs::write(
        dir.join("policies/zz-bad.cedar"),
        "permit(principal, action, resource) when { principal.nmae == \"x\" };\n",
    )
    .unwrap();
    let refused = call(request("POST", "/admin/v1/reload", &[], b"")).await;
    let body = assert_problem(&refused, 400, "invalid-request");
    assert_eq!(pointers(&body), ["/config"]);
    let message = body["errors"][0]["message"].as_str().unwrap();
    assert!(
        message.starts_with("policies/zz-bad.cedar:1: error:") && message.contains("nmae"),
        "{message}"
    );
    assert_eq!(gateway.snapshot_version(), 2, "the bad set was not applied");

    let status = call(get("/admin/v1/reload")).await.json();
    assert_eq!(
        (&status["version"], &status["applied"], &status["failed"]),
        (&2.into(), &1.into(), &1.into())
    );
    assert_eq!(status["last_trigger"], "admin-api");
    assert_eq!(status["last_errors"][0], message);

    server.stop().await;
    gateway.stop().await;
    orders.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_gateway_without_a_file_says_it_has_nothing_to_reload() {
    let admin = crate::support::Admin::start().await;
    let r = admin
        .call(&request("POST", "/admin/v1/reload", &[], b""))
        .await;
    assert_problem(&r, 503, "unavailable");
    admin.stop().await;
}

async fn admin_token(gateway: SocketAddr) -> String {
    let basic = format!(
        "Basic {}",
        STANDARD.encode(format!("{BOOTSTRAP_IDENTITY}:{SECRET}"))
    );
    let body = format!("grant_type=client_credentials&scope={ADMIN_SCOPE}");
    let r = send(
        gateway,
        &request(
            "POST",
            "/oauth/token",
            &[
                ("Content-Type", "application/x-www-form-urlencoded"),
                ("Authorization", &basic),
            ],
            body.as_bytes(),
        ),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()["access_token"].as_str().unwrap().to_owned()
}
