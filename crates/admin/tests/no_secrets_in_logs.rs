//! Secrets appear in the one response that creates them and nowhere else:
//! not in the log (captured at every level, gateway included), not in a
//! listing. Its own binary, because it installs the process's subscriber.

#![allow(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    reason = "test code: a missing value should fail the test"
)]

use std::io::Write;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use portcullis_admin::{ADMIN_SCOPE, AdminServer, BOOTSTRAP_IDENTITY, bootstrap};
use portcullis_testkit::raw::{get, json, request, with_header};
use portcullis_testkit::{World, send, spawn};

const SECRET: &str = "bootstrap-secret-for-the-log-test-0123456789";

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

async fn token(world: &World, id: &str, secret: &str, scope: &str) -> String {
    let basic = format!("Basic {}", STANDARD.encode(format!("{id}:{secret}")));
    let r = world
        .gateway_anonymous(&request(
            "POST",
            "/oauth/token",
            &[
                ("Content-Type", "application/x-www-form-urlencoded"),
                ("Authorization", &basic),
            ],
            format!("grant_type=client_credentials&scope={scope}").as_bytes(),
        ))
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()["access_token"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_or_token_reaches_a_log_line_or_a_listing() {
    let capture = Capture::default();
    let writer = capture.clone();
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .init();

    let world = spawn().await;
    let authority = world.gateway.authority().clone();
    bootstrap(&authority, Some(SECRET)).unwrap();
    let server = AdminServer::start(SocketAddr::from(([127, 0, 0, 1], 0)), authority, None, None)
        .await
        .unwrap();
    let admin_token = token(&world, BOOTSTRAP_IDENTITY, SECRET, ADMIN_SCOPE).await;
    let addr = server.addr();
    let call = |req: Vec<u8>| {
        let req = with_header(&req, "Authorization", &format!("Bearer {admin_token}"));
        async move { send(addr, &req).await }
    };

    let mut secrets = vec![SECRET.to_owned(), admin_token.clone()];
    for kind in ["client-secret", "api-key"] {
        let body = format!(r#"{{"kind": "{kind}", "ttl_secs": 600}}"#);
        let r = call(json(
            "POST",
            "/admin/v1/identities/reporting-agent/credentials",
            &body,
        ))
        .await;
        assert_eq!(r.status, 201, "{}", r.text());
        secrets.push(r.json()["secret"].as_str().unwrap().to_owned());
        let id = r.json()["credential_id"]
            .as_str()
            .unwrap()
            .replace('/', "%2F");
        let rotated = call(json(
            "POST",
            &format!("/admin/v1/credentials/{id}/rotate"),
            r#"{"overlap_secs": 60}"#,
        ))
        .await;
        assert_eq!(rotated.status, 201, "{}", rotated.text());
        secrets.push(rotated.json()["secret"].as_str().unwrap().to_owned());
    }
    let agent = token(&world, "reporting-agent", &secrets[2], "orders:read").await;
    secrets.push(agent.clone());
    let orders = with_header(
        &get("/orders/v1/orders"),
        "Authorization",
        &format!("Bearer {agent}"),
    );
    assert_eq!(world.gateway_anonymous(&orders).await.status, 200);
    // Refused callers too: a wrong admin credential is not echoed.
    let wrong = with_header(&get("/admin/v1/identities"), "X-Api-Key", &secrets[5]);
    assert_eq!(send(addr, &wrong).await.status, 403);

    let listing = call(get("/admin/v1/identities/reporting-agent")).await;
    let all = call(get("/admin/v1/identities")).await;
    server.stop().await;
    world.stop().await;

    let log = String::from_utf8_lossy(&capture.0.lock().unwrap()).into_owned();
    assert!(log.contains("admin request"), "the log was captured");
    assert!(log.contains("credential rotated"), "the log was captured");
    for secret in &secrets {
        assert!(!log.contains(secret.as_str()), "a secret reached the log");
        assert!(!listing.text().contains(secret.as_str()));
        assert!(!all.text().contains(secret.as_str()));
    }
}
