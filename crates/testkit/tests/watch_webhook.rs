//! The watch's webhook: each alert POSTed as JSON once it is in the ledger;
//! an answer of 500 retried with back-off and then given up (the alert stays
//! in the ledger); a webhook that never answers slows no request.

#![allow(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::panic,
    reason = "test code: a missing value should fail the test"
)]

#[path = "support/watch.rs"]
mod support;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use portcullis_testkit::spawn_with;
use serde_json::Value;
use support::{Client, alerts, only};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

#[derive(Clone, Copy)]
enum Answer {
    NoContent,
    ServerError,
    Never,
}

/// A webhook receiver on loopback: every body it was sent, in order.
struct Receiver {
    addr: SocketAddr,
    bodies: Arc<Mutex<Vec<Value>>>,
}

impl Receiver {
    async fn start(answer: Answer) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let bodies = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&bodies);
        tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((stream, _)) = listener.accept().await {
                let seen = Arc::clone(&seen);
                let stream = serve(stream, answer, seen).await;
                // A webhook that never answers keeps the connection open.
                held.extend(stream);
            }
        });
        Self { addr, bodies }
    }

    fn url(&self) -> String {
        format!("http://{}/hook", self.addr)
    }

    fn bodies(&self) -> Vec<Value> {
        self.bodies.lock().unwrap().clone()
    }
}

/// Reads one request; answers it (or, for `Never`, returns the stream).
async fn serve(
    mut stream: TcpStream,
    answer: Answer,
    seen: Arc<Mutex<Vec<Value>>>,
) -> Option<TcpStream> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        let text = String::from_utf8_lossy(&buf).to_string();
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length: usize = head
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().parse().unwrap())
                })
                .unwrap_or(0);
            if body.len() >= length {
                seen.lock()
                    .unwrap()
                    .push(serde_json::from_str(body).unwrap());
                break;
            }
        }
    }
    let status = match answer {
        Answer::NoContent => "204 No Content",
        Answer::ServerError => "500 Internal Server Error",
        Answer::Never => return Some(stream),
    };
    let _ = stream
        .write_all(
            format!("HTTP/1.1 {status}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                .as_bytes(),
        )
        .await;
    None
}

fn config(url: &str, timeout: &str) -> String {
    only(
        "probing: {window: 10m, threshold: 2, respond: [alert]}",
        &format!("  webhook: {{url: '{url}', timeout: {timeout}, attempts: 3}}\n"),
    )
}

async fn probe(client: &Client<'_>, n: usize) {
    for i in 0..n {
        assert_eq!(
            client.get(&format!("/orders/v1/none-{i}")).await.status,
            404
        );
    }
}

async fn until(receiver: &Receiver, n: usize) -> Vec<Value> {
    for _ in 0..200 {
        let bodies = receiver.bodies();
        if bodies.len() >= n {
            return bodies;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the webhook got {} of {n}", receiver.bodies().len())
}

#[tokio::test]
async fn each_alert_is_posted_as_json() {
    let receiver = Receiver::start(Answer::NoContent).await;
    let world = spawn_with(&config(&receiver.url(), "2s")).await;
    let bot = Client::new(&world, "bot", None);
    probe(&bot, 2).await;
    let body = &until(&receiver, 1).await[0];
    assert_eq!(body["type"], "portcullis.alert");
    assert_eq!(body["identity"], "bot");
    assert_eq!(
        (
            body["alert"]["detector"].as_str(),
            body["alert"]["count"].as_u64()
        ),
        (Some("probing"), Some(2))
    );
    let ledger = alerts(&world, "bot", 1).await;
    assert_eq!(ledger[0], body["alert"]);
    let metrics = world.gateway.metrics().render();
    for _ in 0..50 {
        if world
            .gateway
            .metrics()
            .render()
            .contains(r#"portcullis_watch_webhook_total{outcome="delivered"} 1"#)
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        world
            .gateway
            .metrics()
            .render()
            .contains(r#"portcullis_watch_webhook_total{outcome="delivered"} 1"#),
        "{metrics}"
    );
    world.stop().await;
}

#[tokio::test]
async fn a_failing_webhook_is_retried_then_given_up_and_the_ledger_keeps_the_alert() {
    let receiver = Receiver::start(Answer::ServerError).await;
    let world = spawn_with(&config(&receiver.url(), "2s")).await;
    let bot = Client::new(&world, "bot", None);
    probe(&bot, 2).await;
    let attempts = until(&receiver, 3).await;
    assert!(
        attempts.iter().all(|a| *a == attempts[0]),
        "the same alert each time"
    );
    let mut failed = false;
    for _ in 0..100 {
        failed = world
            .gateway
            .metrics()
            .render()
            .contains(r#"portcullis_watch_webhook_total{outcome="failed"} 1"#);
        if failed {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(failed);
    assert_eq!(receiver.bodies().len(), 3, "three attempts, no more");
    assert_eq!(alerts(&world, "bot", 1).await.len(), 1);
    world.stop().await;
}

#[tokio::test]
async fn a_webhook_that_never_answers_slows_no_request_and_loses_no_alert() {
    let receiver = Receiver::start(Answer::Never).await;
    // Each attempt may wait a minute: a request waiting on it would show.
    let world = spawn_with(&config(&receiver.url(), "60s")).await;
    let bot = Client::new(&world, "bot", None);
    let answered = tokio::time::timeout(Duration::from_secs(20), async {
        for _ in 0..3 {
            probe(&bot, 2).await;
        }
        let other = Client::new(&world, "worker", None);
        for _ in 0..20 {
            assert_eq!(other.get("/orders/v1/orders").await.status, 200);
        }
    })
    .await;
    assert!(answered.is_ok(), "requests waited on the webhook");
    assert_eq!(
        until(&receiver, 1).await.len(),
        1,
        "the first alert is still being sent"
    );
    assert_eq!(
        alerts(&world, "bot", 3).await.len(),
        3,
        "every alert is in the ledger"
    );
    world.stop().await;
}
