//! The HTTP server: accept loop, per-connection hyper (HTTP/1 + HTTP/2 via
//! the auto builder), graceful shutdown, and the request wrapper that reads
//! the body, applies method override and path normalisation, dispatches, and
//! stamps the echo header on every response.

use std::convert::Infallible;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use bytes::Bytes;
use http::header::SERVER;
use http::{HeaderValue, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::data::Store;
use crate::normalize::{effective_method, normalize_path};
use crate::respond::error;
use crate::{ECHO_TARGET_HEADER, FINGERPRINT_SERVER, leaks, routes};

/// Largest request body the service reads.
const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Shared server state. The mutex is never held across an `.await`.
#[derive(Debug)]
pub(crate) struct AppState {
    store: Mutex<Store>,
}

impl AppState {
    pub(crate) fn seeded() -> Arc<AppState> {
        Arc::new(AppState {
            store: Mutex::new(crate::seed::store()),
        })
    }

    /// Locks the store; a poisoned lock is recovered (the data stays usable).
    pub(crate) fn store(&self) -> MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Accepts connections until `shutdown` flips (or its sender is dropped), then
/// lets open connections finish gracefully for at most `grace`.
pub(crate) async fn serve(
    listener: TcpListener,
    state: Arc<AppState>,
    mut shutdown: watch::Receiver<bool>,
    grace: Duration,
) {
    let mut conns = JoinSet::new();
    loop {
        tokio::select! {
            _ = wait_for_shutdown(&mut shutdown) => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => {
                    conns.spawn(serve_conn(stream, Arc::clone(&state), shutdown.clone()));
                }
                // Transient accept errors (EMFILE, aborted handshakes): back off briefly.
                Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
            },
        }
        while conns.try_join_next().is_some() {}
    }
    drop(listener);
    let drained =
        tokio::time::timeout(grace, async { while conns.join_next().await.is_some() {} }).await;
    if drained.is_err() {
        conns.abort_all();
    }
}

/// Resolves once shutdown is requested or the handle is gone.
async fn wait_for_shutdown(rx: &mut watch::Receiver<bool>) {
    if *rx.borrow_and_update() {
        return;
    }
    while rx.changed().await.is_ok() {
        if *rx.borrow_and_update() {
            return;
        }
    }
}

async fn serve_conn(stream: TcpStream, state: Arc<AppState>, mut shutdown: watch::Receiver<bool>) {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder.http1().timer(TokioTimer::new());
    builder.http2().timer(TokioTimer::new());
    let service = service_fn(move |req: Request<Incoming>| {
        let state = Arc::clone(&state);
        async move { Ok::<_, Infallible>(handle(&state, req).await) }
    });
    let conn = builder.serve_connection(TokioIo::new(stream), service);
    tokio::pin!(conn);
    tokio::select! {
        // Connection errors (client went away, malformed request) end the connection.
        _ = conn.as_mut() => {}
        _ = wait_for_shutdown(&mut shutdown) => {
            conn.as_mut().graceful_shutdown();
            let _ = conn.await;
        }
    }
}

/// Handles one request: every response leaves with the echo header, and
/// with the headers that tell a caller what runs here (as real frameworks
/// send them; the gateway's strict header policy drops them).
async fn handle(state: &AppState, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let target = req
        .uri()
        .path_and_query()
        .map_or_else(|| req.uri().to_string(), |pq| pq.as_str().to_owned());
    let mut response = route(state, req).await;
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&target) {
        headers.insert(ECHO_TARGET_HEADER, value);
    }
    headers.insert(SERVER, HeaderValue::from_static(FINGERPRINT_SERVER));
    headers.insert(
        "x-powered-by",
        HeaderValue::from_static("orders-framework/0.9 (debug)"),
    );
    response
}

async fn route(state: &AppState, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let method = effective_method(req.method(), req.headers());
    let path = normalize_path(req.uri().path());
    let query = req.uri().query().map(str::to_owned);
    let body = match Limited::new(req.into_body(), MAX_BODY_BYTES)
        .collect()
        .await
    {
        Ok(collected) => collected.to_bytes(),
        Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => {
            return error(StatusCode::PAYLOAD_TOO_LARGE, "request body too large");
        }
        Err(_) => return error(StatusCode::BAD_REQUEST, "could not read request body"),
    };
    let segments: Vec<&str> = path.iter().map(String::as_str).collect();
    let ctx = routes::Ctx {
        state,
        method: &method,
        segments: &segments,
        query: query.as_deref(),
        body: &body,
    };
    if let Some(response) = routes::declared(&ctx) {
        return response;
    }
    if let Some(response) = leaks::undeclared(&ctx) {
        return response;
    }
    error(StatusCode::NOT_FOUND, "not found")
}
