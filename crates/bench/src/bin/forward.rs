//! `bench-forward LISTEN UPSTREAM`: the floor the load harness sets beside
//! Portcullis, a bare hyper 1 reverse proxy that decides nothing. HTTP/1.1
//! in, with keep-alive; each request (method, path and query, the headers
//! but the hop-by-hop ones, the body streamed) goes to UPSTREAM on a pooled
//! keep-alive client of the kind Portcullis's upstream pool is (hyper-util's
//! legacy client, no-delay, 30 s idle), and the answer is streamed back.
//! No logging, no policy, no buffering.
//!
//! The runtime (tokio multi-thread, a worker per core it may run on) and
//! the allocator (mimalloc) are the `portcullis` binary's, so what separates
//! this row from Portcullis's is Portcullis's own work.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use bytes::Bytes;
use http::header::{CONNECTION, HOST};
use http::uri::{Authority, Scheme};
use http::{HeaderMap, HeaderName, Request, Response, StatusCode, Uri, Version};
use http_body_util::{Either, Empty};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

type Upstream = Client<HttpConnector, Incoming>;
type Answer = Response<Either<Incoming, Empty<Bytes>>>;

/// Hop-by-hop headers (RFC 9110 section 7.6.1, and the older spellings):
/// they describe one connection, so a proxy never passes them on.
const HOP_BY_HOP: [&str; 9] = [
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

/// Removes the hop-by-hop headers and any header `Connection` names.
fn strip_hop_by_hop(headers: &mut HeaderMap) {
    let named: Vec<HeaderName> = headers
        .get_all(CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|name| HeaderName::from_bytes(name.trim().as_bytes()).ok())
        .collect();
    for name in named {
        headers.remove(name);
    }
    for name in HOP_BY_HOP {
        headers.remove(name);
    }
}

fn status(code: StatusCode) -> Answer {
    let mut response = Response::new(Either::Right(Empty::new()));
    *response.status_mut() = code;
    response
}

async fn forward(
    client: Upstream,
    upstream: Authority,
    request: Request<Incoming>,
) -> Result<Answer, Infallible> {
    let (mut head, body) = request.into_parts();
    let mut target = std::mem::take(&mut head.uri).into_parts();
    target.scheme = Some(Scheme::HTTP);
    target.authority = Some(upstream);
    let Ok(uri) = Uri::from_parts(target) else {
        return Ok(status(StatusCode::BAD_REQUEST));
    };
    head.uri = uri;
    head.version = Version::HTTP_11;
    strip_hop_by_hop(&mut head.headers);
    // The client writes the upstream's own `Host` from the URI.
    head.headers.remove(HOST);
    match client.request(Request::from_parts(head, body)).await {
        Ok(response) => {
            let (mut head, body) = response.into_parts();
            strip_hop_by_hop(&mut head.headers);
            Ok(Response::from_parts(head, Either::Left(body)))
        }
        Err(_) => Ok(status(StatusCode::BAD_GATEWAY)),
    }
}

/// The pool: as Portcullis's `upstream::client` builds it.
fn upstream_client() -> Upstream {
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    connector.set_connect_timeout(Some(Duration::from_secs(2)));
    connector.enforce_http(true);
    Client::builder(TokioExecutor::new())
        .pool_idle_timeout(Duration::from_secs(30))
        .pool_timer(TokioTimer::new())
        .timer(TokioTimer::new())
        .build(connector)
}

async fn serve(listen: SocketAddr, upstream: Authority) -> Result<(), String> {
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| format!("cannot listen on {listen}: {e}"))?;
    let client = upstream_client();
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(_) => {
                // Out of file descriptors and similar: back off, keep serving.
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let client = client.clone();
        let upstream = upstream.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req| forward(client.clone(), upstream.clone(), req));
            // Keep-alive is hyper's default; the header timeout needs the timer.
            let _ = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(Duration::from_secs(10))
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let (Some(listen), Some(upstream)) = (
        args.get(1).and_then(|a| a.parse::<SocketAddr>().ok()),
        args.get(2).and_then(|a| a.parse::<Authority>().ok()),
    ) else {
        eprintln!("usage: bench-forward 127.0.0.1:PORT UPSTREAM_HOST:PORT");
        return ExitCode::from(2);
    };
    portcullis_bench::on_gateway_runtime("bench-forward", async move {
        match serve(listen, upstream).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("bench-forward: {e}");
                ExitCode::FAILURE
            }
        }
    })
}
