//! A test upstream that reports what it received, so tests can prove what
//! the gateway forwarded: `/echo` answers `{"method", "target", "headers",
//! "body"}`; `/slow` waits 2 s; `/fail` answers 500 with a stack trace;
//! `/text` answers text with a credential in it; `/big` answers 2 MiB.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use serde_json::{Map, Value, json};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// A running echo upstream; aborted when dropped.
#[derive(Debug)]
pub struct Echo {
    pub addr: SocketAddr,
    task: JoinHandle<()>,
    last: Arc<Mutex<Option<Value>>>,
}

impl Drop for Echo {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Echo {
    pub async fn start() -> std::io::Result<Self> {
        let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
        let addr = listener.local_addr()?;
        let last = Arc::new(Mutex::new(None));
        let record = Arc::clone(&last);
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let record = Arc::clone(&record);
                tokio::spawn(async move {
                    let service = service_fn(move |req| answer(Arc::clone(&record), req));
                    let _ = auto::Builder::new(TokioExecutor::new())
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Ok(Self { addr, task, last })
    }

    /// What the upstream itself last received (method, target, headers,
    /// body), seen here rather than through the gateway's response checks.
    pub fn last(&self) -> Option<Value> {
        self.last.lock().ok().and_then(|l| l.clone())
    }
}

async fn answer(
    last: Arc<Mutex<Option<Value>>>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let (parts, body) = req.into_parts();
    let body = body
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let seen = received(&parts, &body);
    if let Ok(mut l) = last.lock() {
        *l = Some(seen.clone());
    }
    let reply = |status: StatusCode, ct: &str, body: Vec<u8>| {
        let mut r = Response::new(Full::new(Bytes::from(body)));
        *r.status_mut() = status;
        if let Ok(v) = ct.parse() {
            r.headers_mut().insert(http::header::CONTENT_TYPE, v);
        }
        Ok(r)
    };
    match parts.uri.path() {
        "/slow" => {
            tokio::time::sleep(Duration::from_secs(2)).await;
            reply(StatusCode::OK, "text/plain", Vec::new())
        }
        "/fail" => reply(
            StatusCode::INTERNAL_SERVER_ERROR,
            "text/plain",
            b"thread 'main' panicked at src/db.rs:42: connection to postgres://admin:hunter2@db failed".to_vec(),
        ),
        "/text" => reply(StatusCode::OK, "text/plain", b"deploy key: AKIAIOSFODNN7EXAMPLE".to_vec()),
        "/big" => {
            let filler = "x".repeat(2 * 1024 * 1024);
            reply(StatusCode::OK, "application/json", json!({ "filler": filler }).to_string().into_bytes())
        }
        _ => reply(StatusCode::OK, "application/json", seen.to_string().into_bytes()),
    }
}

fn received(parts: &http::request::Parts, body: &[u8]) -> Value {
    let mut headers = Map::new();
    for (k, v) in &parts.headers {
        headers.insert(
            k.as_str().to_owned(),
            Value::String(String::from_utf8_lossy(v.as_bytes()).into_owned()),
        );
    }
    let target = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_default();
    json!({
        "method": parts.method.as_str(),
        "target": target,
        "headers": headers,
        "body": String::from_utf8_lossy(body),
    })
}
