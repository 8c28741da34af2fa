//! Every call the demo prints does what the demo says it does, through the
//! gateway and on the bare API.

#![allow(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::panic,
    reason = "test code: a missing value should fail the test"
)]

use portcullis::demo_script::calls;
use portcullis_testkit::{raw, spawn};

#[tokio::test]
async fn every_demo_call_does_what_it_says() {
    let world = spawn().await;
    for call in calls() {
        let body = call.body.unwrap_or("").as_bytes();
        let through = world
            .gateway(&raw::request(call.method, &call.path, &call.headers, body))
            .await;
        assert_eq!(
            through.status,
            call.gateway_status,
            "{}: {}",
            call.title,
            through.text()
        );
        assert_eq!(
            through.code().as_deref(),
            call.gateway_code,
            "{}",
            call.title
        );
        if !call.bare_leak.is_empty() {
            assert!(
                !through.text().contains(call.bare_leak),
                "{}: gateway leaked {}",
                call.title,
                call.bare_leak
            );
        }
        let bare = world
            .direct(&raw::request(
                call.method,
                call.bare_path(),
                &call.headers,
                body,
            ))
            .await;
        assert_eq!(
            bare.status,
            call.bare_status,
            "{} (bare): {}",
            call.title,
            bare.text()
        );
        assert!(
            bare.text().contains(call.bare_leak),
            "{} (bare) does not show {}",
            call.title,
            call.bare_leak
        );
    }
    world.stop().await;
}

#[test]
fn curl_lines_keep_the_path_as_written() {
    let c = calls()
        .into_iter()
        .find(|c| c.path.contains("%2E"))
        .unwrap();
    let line = c.curl("http://127.0.0.1:8080", &c.path);
    assert!(line.contains("--path-as-is"));
    assert!(
        line.ends_with("'http://127.0.0.1:8080/orders/v1/customers/%2E%2E/%2E%2E/debug/config'")
    );
}
