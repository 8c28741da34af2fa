//! Neither the caller's token or secret nor the upstream's credential ever
//! reaches a response, a log line or the per-request record. Its own test
//! binary: it installs a process-wide log subscriber to capture every line.

#![allow(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::panic,
    reason = "test code: a missing value should fail the test"
)]

use std::io::Write;
use std::sync::{Arc, Mutex};

use base64::Engine;
use portcullis_store::CredentialKind;
use portcullis_testkit::raw::{get, request, with_header};
use portcullis_testkit::spawn_echo;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn no_secret_reaches_a_response_or_a_log_line() {
    let logs = Captured::default();
    let writer = logs.clone();
    tracing_subscriber::fmt()
        .json()
        .with_max_level(tracing_subscriber::filter::LevelFilter::DEBUG)
        .with_writer(move || writer.clone())
        .init();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut seen = Vec::new();
    let (client_secret, token, upstream_secret) = runtime.block_on(async {
        let world = spawn_echo("    upstream_auth: {bearer: 'file:upstream-secret.txt'}\n").await;
        let authority = world.gateway.authority();
        let secret = authority
            .create_secret("tester", CredentialKind::ClientSecret, 600, None)
            .unwrap()
            .secret;
        let basic = base64::engine::general_purpose::STANDARD.encode(format!("tester:{secret}"));
        let form = [
            ("Authorization", format!("Basic {basic}")),
            ("Content-Type", "application/x-www-form-urlencoded".into()),
        ];
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let issued = world
            .gateway(&request(
                "POST",
                "/oauth/token",
                &form,
                b"grant_type=client_credentials&scope=",
            ))
            .await;
        seen.push(issued.text());
        let r = portcullis_testkit::send(
            world.gateway.addr(),
            &request(
                "POST",
                "/oauth/token",
                &form,
                b"grant_type=client_credentials&scope=none:such",
            ),
        )
        .await;
        seen.push(r.text());
        let (token, _) = authority.issue_for("tester", &[], 300, "echo").unwrap();
        let bearer = |req: Vec<u8>| with_header(&req, "Authorization", &format!("Bearer {token}"));
        for req in [
            bearer(get("/echo-api/echo")),
            bearer(get("/echo-api/fail")),
            bearer(get("/echo-api/nope")),
            bearer(get("/echo-api/../x")),
            bearer(request(
                "POST",
                "/echo-api/echo",
                &[("Content-Type", "application/json")],
                b"{bad",
            )),
            with_header(&bearer(get("/echo-api/echo")), "X-Api-Key", "pck_also"),
            with_header(
                &get("/echo-api/echo"),
                "Authorization",
                &format!("Bearer {token}x"),
            ),
        ] {
            let r = portcullis_testkit::send(world.gateway.addr(), &req).await;
            seen.push(format!("{:?} {}", r.headers, r.text()));
        }
        world.stop().await;
        (secret, token, "upstream-secret".to_owned())
    });
    let logs = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("\"message\":\"request\""),
        "the per-request record was logged"
    );
    assert!(
        logs.contains("\"identity\":\"tester\""),
        "the record names the identity"
    );
    for (name, value) in [
        ("client secret", &client_secret),
        ("token", &token),
        ("upstream credential", &upstream_secret),
    ] {
        assert!(
            !logs.contains(value.as_str()),
            "the {name} reached a log line"
        );
        for body in &seen {
            assert!(
                !body.contains(value.as_str()),
                "the {name} reached a response: {body}"
            );
        }
    }
    // The signature part alone must not leak either.
    let signature = token.rsplit('.').next().unwrap();
    assert!(!logs.contains(signature));
}
