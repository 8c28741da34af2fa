//! Accepting connections and turning each request into one pipeline run.
//!
//! HTTP/1.1 and HTTP/2 (prior knowledge) on one listener. Connection-level
//! bounds (header read time, header buffer) are set here; everything about
//! the request itself is the pipeline's.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::FutureExt;
use http::{HeaderValue, Request, Response};
use http_body_util::{Either, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use portcullis_config::Limits;
use portcullis_core::ProblemCode;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use crate::exchange::Exchange;
use crate::framing::{self, guard::Guarded};
use crate::live::{DecisionEvent, Live};
use crate::pipeline::{self, record::Record};
use crate::refusal::Refusal;

/// A response body: whole (every answer but one), or an MCP session's
/// event stream.
pub(crate) type Body = Either<Full<Bytes>, crate::mcp::Events>;

/// How long open connections get to finish after shutdown begins.
const DRAIN: Duration = Duration::from_secs(5);

/// What answers each request a connection reads: [`Pipeline`] in every
/// gateway. The seam exists for the load harness alone, whose
/// forwarding-only row (`crate::bench`) answers on this same listener, so
/// the two rows differ by the stages and nothing else. A type parameter
/// rather than a value: the gateway's request path is compiled exactly as
/// if the seam were not there.
pub(crate) trait Handler: Copy + Send + Sync + 'static {
    fn answer(
        self,
        live: Arc<Live>,
        request: Request<Incoming>,
        peer: SocketAddr,
    ) -> impl Future<Output = Result<Response<Body>, Infallible>> + Send + 'static;
}

/// Every request through the pipeline: the gateway.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Pipeline;

impl Handler for Pipeline {
    fn answer(
        self,
        live: Arc<Live>,
        request: Request<Incoming>,
        peer: SocketAddr,
    ) -> impl Future<Output = Result<Response<Body>, Infallible>> + Send + 'static {
        handle(live, request, peer)
    }
}

pub(crate) async fn serve(
    listener: TcpListener,
    live: Arc<Live>,
    handler: impl Handler,
    mut stop: oneshot::Receiver<()>,
) {
    let graceful = GracefulShutdown::new();
    // Connection-level bounds come from the starting snapshot; the `limits`
    // stage applies each snapshot's own limits per request.
    let limits = live.snapshot().limits;
    let builder = connection_builder(&limits);
    let max_head = head_room(&limits);
    let keep_alive = tokio::spawn(keep_streams_alive(Arc::clone(&live)));
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    let _ = stream.set_nodelay(true);
                    let live = Arc::clone(&live);
                    let service = service_fn(move |req| handler.answer(Arc::clone(&live), req, peer));
                    // Every request head is checked before hyper reads it, so
                    // hyper never answers a malformed one with its bare 400.
                    let stream = Guarded::new(stream, max_head);
                    let conn = builder.serve_connection(TokioIo::new(stream), service).into_owned();
                    let conn = graceful.watch(conn);
                    tokio::spawn(async move {
                        if let Err(e) = conn.await {
                            tracing::debug!(%peer, error = %e, "connection ended with an error");
                        }
                    });
                }
                Err(e) => {
                    // Out of file descriptors and similar: back off, keep serving.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            _ = &mut stop => break,
        }
    }
    drop(listener);
    keep_alive.abort();
    // An open MCP event stream would hold its connection to the drain limit.
    live.sessions.close_streams();
    if tokio::time::timeout(DRAIN, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("connections still open after {DRAIN:?}; closing them");
    }
}

/// Every 25 seconds, a comment on each open MCP event stream.
async fn keep_streams_alive(live: Arc<Live>) {
    let mut every = tokio::time::interval(Duration::from_secs(25));
    loop {
        every.tick().await;
        live.sessions.keep_alive();
    }
}

/// The JSON-RPC error's name, for the MCP metric's `outcome`.
fn rpc_error_name(code: i64) -> Option<&'static str> {
    use portcullis_mcp::jsonrpc::ErrorCode;
    [
        ErrorCode::Parse,
        ErrorCode::InvalidRequest,
        ErrorCode::MethodNotFound,
        ErrorCode::InvalidParams,
        ErrorCode::Internal,
    ]
    .into_iter()
    .find(|e| e.code() == code)
    .map(ErrorCode::as_str)
}

/// The largest request head read: room above the configured limit, so an
/// oversized header block still reaches the `limits` stage and its answer
/// names the limit.
fn head_room(limits: &Limits) -> usize {
    let header_bytes = usize::try_from(limits.header_bytes).unwrap_or(16 * 1024);
    (header_bytes + 64 * 1024).max(8192)
}

fn connection_builder(limits: &Limits) -> auto::Builder<TokioExecutor> {
    let head_room = head_room(limits);
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.request_timeout)
        // Past the guard's own bound (it refuses larger heads first), but
        // hyper's buffer also holds body bytes read ahead.
        .max_buf_size(head_room + 16 * 1024)
        .max_headers(framing::MAX_HEADERS);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(256)
        .max_header_list_size(u32::try_from(head_room).unwrap_or(u32::MAX));
    builder
}

async fn handle(
    live: Arc<Live>,
    request: Request<Incoming>,
    peer: SocketAddr,
) -> Result<Response<Body>, Infallible> {
    // Loaded once: the whole request runs on this snapshot, whatever reloads.
    let snapshot = live.snapshot();
    let mut ex = Exchange::begin(request.headers(), peer, snapshot.version);
    let record = Record::start(request.method(), request.uri());
    // A fault inside a stage must deny, never crash the connection or allow.
    let run = async {
        if request.uri().path() == crate::mcp::PATH {
            crate::mcp::serve(&live, &snapshot, &mut ex, request).await
        } else {
            pipeline::run(&snapshot, &mut ex, request)
                .await
                .map(|r| r.map(Either::Left))
        }
    };
    let outcome = AssertUnwindSafe(run)
        .catch_unwind()
        .await
        .unwrap_or_else(|_| {
            tracing::error!("pipeline fault; refusing");
            Err(Refusal::new(
                ProblemCode::Unavailable,
                "the gateway could not reach a decision",
            ))
        });
    let (response, code) = match outcome {
        Ok(response) => (response, ex.refused_as),
        Err(refusal) => {
            let code = refusal.code();
            (refusal.into_response(&ex).map(Either::Left), Some(code))
        }
    };
    // The record takes the MCP note; its metric labels are read first.
    let mcp = ex
        .mcp
        .as_ref()
        .map(|m| (m.method.clone(), m.rpc_error.and_then(rpc_error_name)));
    let (mut response, code) = record.finish(&live, &mut ex, response, code).await;
    if let Some((method, rpc_error)) = mcp {
        let outcome = rpc_error.unwrap_or_else(|| code.map_or("ok", ProblemCode::as_str));
        live.metrics.mcp_request(&method, outcome);
    }
    live.metrics.request(
        &ex,
        crate::pipeline::record::decision(code, ex.observed),
        code.map_or("-", ProblemCode::as_str),
    );
    if let Ok(id) = HeaderValue::from_str(&ex.request_id) {
        response.headers_mut().insert("x-request-id", id);
    }
    let status = response.status().as_u16();
    live.publish(|| DecisionEvent {
        request_id: ex.request_id.clone(),
        snapshot: ex.snapshot,
        api: ex.api.clone(),
        operation: ex.operation.clone(),
        identity: ex.identity.clone(),
        stage: ex.stage.as_str(),
        status,
        code: code.map(ProblemCode::as_str),
        observed: ex.observed.map(ProblemCode::as_str),
        policies: ex
            .decision
            .as_ref()
            .map(|d| d.determining.clone())
            .unwrap_or_default(),
        policy_errors: ex
            .decision
            .as_ref()
            .map(|d| d.errors.clone())
            .unwrap_or_default(),
    });
    Ok(response)
}
