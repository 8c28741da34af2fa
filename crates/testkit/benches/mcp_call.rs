//! What a `tools/call` on `/mcp` costs over the HTTP request it stands for
//! (issue 14: within 1.2× of the HTTP path's in-process cost).
//!
//! One world (the orders API and a gateway on 127.0.0.1:0, the example's
//! configuration and policies, identities and ledger in memory, its rate
//! limits raised out of reach) and, per operation, two cases measured in
//! the same run:
//! - **HTTP:** `GET /orders/v1/orders/{id}` (and `GET /orders/v1/orders?limit=2`)
//!   as `reporting-agent`, with its API key;
//! - **MCP:** the same operation as `tools/call` (`orders_getOrder`,
//!   `orders_listOrders`) on a session that identity opened with
//!   `initialize`, the same credential on every message.
//!
//! Each case uses its own kept-alive HTTP/1.1 connection (hyper's client),
//! opened just before it is measured, so neither pays a connect; an
//! iteration is one request written and its whole answer read. Everything
//! (client, gateway, upstream) runs on one current-thread runtime with the
//! gateway binary's allocator, so an iteration's time is the CPU the three
//! spend on it plus the loopback round trips, both cases alike (the audit
//! writer's thread runs beside it): the difference is what `tools/call`
//! adds (JSON-RPC, the session, the arguments written as the HTTP request,
//! the answer wrapped as a tool result) to the same stages. Before
//! measuring, each case's answer is checked (200 and the order for HTTP;
//! `isError: false` and the order as structured content for MCP), and every
//! measured answer's status and marker are checked again, so a bench of
//! refusals cannot pass.
//!
//! This machine is shared, and load from outside moves between one case's
//! seconds and the next's; so a third case runs the two interleaved (an
//! HTTP request and a call per iteration, each timed on its own; criterion
//! reports the pair) and prints, after the group, the medians over its
//! batches of each side's time and of their ratio: the ratio to compare
//! with the target.
//!
//! A last group times, alone, the steps only `tools/call` takes (the pure
//! `portcullis-mcp` functions `/mcp` calls, on the same message and the
//! same checked answer): reading the call (`jsonrpc::parse`, `call_params`,
//! `to_http`), and writing the answer (`call_result`, the checked body
//! spliced in as text, and `jsonrpc::result_text`).
//!
//! Run: `cargo bench -p portcullis-testkit --bench mcp_call -- --measurement-time 5`
//! (CI compiles and runs it once as a test through `--all-targets`).
//! Figures: BENCHMARKS.md, "MCP tools/call vs HTTP (issue 14)".

#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "bench setup: a world that cannot start or answer must fail loudly"
)]

use std::hint::black_box;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use criterion::{Criterion, criterion_group, criterion_main};
use http::{HeaderValue, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::{self, SendRequest};
use hyper_util::rt::TokioIo;
use memchr::memmem;
use portcullis_contract::Contract;
use portcullis_example_orders::OrdersApi;
use portcullis_mcp::jsonrpc::{self, Message};
use portcullis_mcp::{ToolSet, protocol, to_http};
use portcullis_proxy::Gateway;
use portcullis_store::CredentialKind;
use portcullis_testkit::{World, example_config, seed, tester};
use serde_json::{Value, json};
use tokio::net::TcpStream;

// The gateway binary's allocator, so allocation costs what it costs in
// `portcullis serve` (the JSON trees `tools/call` builds allocate a lot).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The identity both cases call as: the example's reporting agent, decided
/// by the example's own policies.
const IDENTITY: &str = "reporting-agent";

/// The example's configuration with its rate limits out of the bench's reach
/// (both buckets are still checked on every request).
fn config_text() -> String {
    let text = example_config();
    let raised = text
        .replace("per_identity: 500/s", "per_identity: 1000000/s")
        .replace("burst: 1000\n", "burst: 1000000\n");
    assert_ne!(text, raised, "the example's rate limits moved");
    raised
}

/// The example world (as `portcullis_testkit::spawn_with` makes it) and the
/// orders contract the gateway enforces.
async fn world() -> (World, Arc<Contract>) {
    let orders = OrdersApi::start(SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .unwrap();
    let config = portcullis_testkit::config(&config_text(), &format!("http://{}", orders.addr()));
    let contract = Arc::clone(&config.apis[0].contract);
    let gateway = Gateway::start(config).await.unwrap();
    let key = tester(&gateway);
    let world = World {
        gateway,
        orders,
        key,
    };
    (world, contract)
}

/// One kept-alive HTTP/1.1 connection to the gateway.
struct Conn {
    sender: SendRequest<Full<Bytes>>,
    host: HeaderValue,
}

impl Conn {
    async fn open(world: &World) -> Self {
        let addr = world.gateway_addr();
        let stream = TcpStream::connect(addr).await.unwrap();
        stream.set_nodelay(true).unwrap();
        let (sender, connection) = http1::handshake(TokioIo::new(stream)).await.unwrap();
        tokio::spawn(connection);
        Self {
            sender,
            host: HeaderValue::from_str(&addr.to_string()).unwrap(),
        }
    }

    /// Sends `request` (the Host header added) and reads the whole answer.
    async fn send(&mut self, mut request: Request<Full<Bytes>>) -> Response<Bytes> {
        request
            .headers_mut()
            .insert(http::header::HOST, self.host.clone());
        self.sender.ready().await.unwrap();
        let (parts, body) = self
            .sender
            .send_request(request)
            .await
            .unwrap()
            .into_parts();
        let body = body.collect().await.unwrap().to_bytes();
        Response::from_parts(parts, body)
    }
}

/// One operation, as an HTTP request and as a tool call.
struct Case {
    name: &'static str,
    /// The request target on the gateway.
    target: String,
    tool: &'static str,
    arguments: Value,
    /// A field the answer must hold (in the body, or as structured content).
    check: fn(&Value) -> bool,
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "getOrder",
            target: format!("/orders/v1/orders/{}", seed::ORDER_PAID),
            tool: "orders_getOrder",
            arguments: json!({"path": {"orderId": seed::ORDER_PAID}}),
            check: |v| v["id"] == seed::ORDER_PAID,
        },
        Case {
            name: "listOrders",
            target: "/orders/v1/orders?limit=2".to_owned(),
            tool: "orders_listOrders",
            arguments: json!({"query": {"limit": 2}}),
            check: |v| v["items"].as_array().is_some_and(|items| items.len() == 2),
        },
    ]
}

/// The HTTP request for `target`, as `key`'s holder.
fn http_request(key: &HeaderValue, target: &str) -> Request<Full<Bytes>> {
    let mut request = Request::get(target).body(Full::new(Bytes::new())).unwrap();
    let h = request.headers_mut();
    h.insert("x-api-key", key.clone());
    h.insert(
        http::header::ACCEPT,
        HeaderValue::from_static("application/json"),
    );
    request
}

/// An MCP session this identity opened (`initialize`, then
/// `notifications/initialized`), as a client keeps it.
struct Session {
    key: HeaderValue,
    id: HeaderValue,
    version: HeaderValue,
}

impl Session {
    async fn open(conn: &mut Conn, key: &HeaderValue) -> Self {
        let init = json!({
            "jsonrpc": "2.0", "id": 1, "method": "initialize",
            "params": {
                "protocolVersion": "2025-11-25",
                "capabilities": {},
                "clientInfo": {"name": "mcp_call bench", "version": "1"},
            },
        });
        let mut request = Request::post("/mcp")
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .body(Full::new(Bytes::from(init.to_string())))
            .unwrap();
        request.headers_mut().insert("x-api-key", key.clone());
        let answer = conn.send(request).await;
        assert_eq!(answer.status(), StatusCode::OK, "{answer:?}");
        let result: Value = serde_json::from_slice(answer.body()).unwrap();
        let session = Self {
            key: key.clone(),
            id: answer.headers()["mcp-session-id"].clone(),
            version: HeaderValue::from_str(result["result"]["protocolVersion"].as_str().unwrap())
                .unwrap(),
        };
        let note = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
        let accepted = conn
            .send(session.request(Bytes::from(note.to_string())))
            .await;
        assert_eq!(accepted.status(), StatusCode::ACCEPTED, "{accepted:?}");
        session
    }

    /// A message on this session.
    fn request(&self, body: Bytes) -> Request<Full<Bytes>> {
        let mut request = Request::post("/mcp").body(Full::new(body)).unwrap();
        let h = request.headers_mut();
        h.insert("x-api-key", self.key.clone());
        h.insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        h.insert(
            http::header::ACCEPT,
            HeaderValue::from_static("application/json, text/event-stream"),
        );
        h.insert("mcp-session-id", self.id.clone());
        h.insert("mcp-protocol-version", self.version.clone());
        request
    }
}

/// `iters` requests made by `make` on `conn`, each answer checked (200 and
/// `marker` in the body); the time they took.
async fn run(
    conn: &mut Conn,
    iters: u64,
    make: impl Fn() -> Request<Full<Bytes>>,
    marker: &memmem::Finder<'_>,
) -> Duration {
    let start = Instant::now();
    for _ in 0..iters {
        one(conn, make(), marker).await;
    }
    start.elapsed()
}

/// One request on `conn`, its answer checked (200 and `marker` in the body).
async fn one(conn: &mut Conn, request: Request<Full<Bytes>>, marker: &memmem::Finder<'_>) {
    let answer = conn.send(request).await;
    assert!(
        answer.status() == StatusCode::OK && marker.find(answer.body()).is_some(),
        "{answer:?}"
    );
    black_box(answer);
}

/// The paired case's samples: per request, the HTTP side's and the
/// call's mean time in each batch criterion ran.
#[derive(Default)]
struct Paired {
    /// (HTTP µs, tools/call µs) per batch.
    batches: Vec<(f64, f64)>,
}

impl Paired {
    /// The median of `f` over the batches.
    fn median(&self, f: impl Fn(&(f64, f64)) -> f64) -> f64 {
        let mut values: Vec<f64> = self.batches.iter().map(f).collect();
        values.sort_by(f64::total_cmp);
        values.get(values.len() / 2).copied().unwrap_or(f64::NAN)
    }
}

/// `iters` pairs, one HTTP request and one `tools/call` each (which goes
/// first alternates), each timed on its own; both sides' means go to
/// `batches`, and criterion gets the pairs' whole time.
async fn paired(
    http: (&mut Conn, &memmem::Finder<'_>),
    mcp: (&mut Conn, &memmem::Finder<'_>),
    iters: u64,
    make_http: impl Fn() -> Request<Full<Bytes>>,
    make_mcp: impl Fn() -> Request<Full<Bytes>>,
    batches: &mut Paired,
) -> Duration {
    let (http_conn, http_ok) = http;
    let (mcp_conn, mcp_ok) = mcp;
    let (mut on_http, mut on_mcp) = (Duration::ZERO, Duration::ZERO);
    for i in 0..iters {
        for side in [i % 2, (i + 1) % 2] {
            let start = Instant::now();
            if side == 0 {
                one(http_conn, make_http(), http_ok).await;
                on_http += start.elapsed();
            } else {
                one(mcp_conn, make_mcp(), mcp_ok).await;
                on_mcp += start.elapsed();
            }
        }
    }
    let per = |d: Duration| d.as_secs_f64() * 1e6 / iters as f64;
    batches.batches.push((per(on_http), per(on_mcp)));
    on_http + on_mcp
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (world, contract) = rt.block_on(world());
    let key = world
        .gateway
        .authority()
        .create_secret(IDENTITY, CredentialKind::ApiKey, 3600, None)
        .unwrap()
        .secret;
    let key = HeaderValue::from_str(&key).unwrap();
    let session = rt.block_on(async {
        let mut conn = Conn::open(&world).await;
        Session::open(&mut conn, &key).await
    });
    let http_ok = memmem::Finder::new(b"\"id\"");
    let mcp_ok = memmem::Finder::new(b"\"isError\":false");
    // The first case's message and checked answer, for the steps' group.
    let mut first: Option<(Bytes, Bytes)> = None;

    for case in cases() {
        let call = json!({
            "jsonrpc": "2.0", "id": 2, "method": "tools/call",
            "params": {"name": case.tool, "arguments": case.arguments},
        });
        let call = Bytes::from(call.to_string());
        let mut group = c.benchmark_group(format!("{} ({IDENTITY})", case.name));
        // Each connection is opened just before its case: the gateway
        // closes one left idle for its header read timeout (the
        // configuration's `request_timeout`, 10 s), as long as a case runs.
        let mut conn = rt.block_on(Conn::open(&world));
        let answer = rt.block_on(conn.send(http_request(&key, &case.target)));
        first.get_or_insert((call.clone(), check_http(&case, answer)));
        group.bench_function("HTTP", |b| {
            b.iter_custom(|iters| {
                let make = || http_request(&key, &case.target);
                rt.block_on(run(&mut conn, iters, make, &http_ok))
            })
        });
        let mut conn = rt.block_on(Conn::open(&world));
        check_mcp(&case, rt.block_on(conn.send(session.request(call.clone()))));
        group.bench_function("MCP tools/call", |b| {
            b.iter_custom(|iters| {
                let make = || session.request(call.clone());
                rt.block_on(run(&mut conn, iters, make, &mcp_ok))
            })
        });
        // The two interleaved, so that load from outside the bench (this
        // machine is shared) weighs on both alike: the medians printed after
        // the group are the ones to compare with the target.
        let mut http_conn = rt.block_on(Conn::open(&world));
        let mut mcp_conn = rt.block_on(Conn::open(&world));
        let mut batches = Paired::default();
        group.bench_function("HTTP + tools/call, paired", |b| {
            b.iter_custom(|iters| {
                rt.block_on(paired(
                    (&mut http_conn, &http_ok),
                    (&mut mcp_conn, &mcp_ok),
                    iters,
                    || http_request(&key, &case.target),
                    || session.request(call.clone()),
                    &mut batches,
                ))
            })
        });
        group.finish();
        // Not after the single pass of a test run (`cargo test --benches`).
        if batches.batches.len() > 1 {
            println!(
                "{} paired, medians of {} batches: HTTP {:.2} µs, tools/call {:.2} µs, ratio {:.3}\n",
                case.name,
                batches.batches.len(),
                batches.median(|b| b.0),
                batches.median(|b| b.1),
                batches.median(|b| b.1 / b.0),
            );
        }
    }
    rt.block_on(world.stop());
    if let Some((call, answer)) = first {
        steps(c, &contract, &call, &answer);
    }
}

/// The steps only `tools/call` takes, each alone, as `/mcp` calls them
/// (`crates/proxy/src/mcp.rs` and `mcp/call.rs`) on `call` and the checked
/// `answer` of the same operation.
fn steps(c: &mut Criterion, contract: &Contract, call: &[u8], answer: &Bytes) {
    let tools = ToolSet::from_contracts([("orders", contract)]);
    let tool = tools.get("orders_getOrder").unwrap();
    let operation = contract.operation(tool.index).unwrap();
    let read = || {
        let Ok(Message::Request { params, .. }) = jsonrpc::parse(black_box(call)) else {
            unreachable!("the bench's own message")
        };
        let call = protocol::call_params(params).unwrap();
        let http = to_http(operation, &call.arguments).unwrap();
        format!("/orders{}", http.path)
            .parse::<http::Uri>()
            .unwrap()
    };
    assert_eq!(
        read().path(),
        format!("/orders/v1/orders/{}", seed::ORDER_PAID)
    );
    let id = json!(2);
    let result = protocol::call_result(200, answer);
    let parsed: Value = serde_json::from_str(&jsonrpc::result_text(&id, &result)).unwrap();
    assert_eq!(parsed["result"]["isError"], false);

    let mut group = c.benchmark_group("tools/call steps (getOrder)");
    group.bench_function("read the call (parse, call_params, to_http)", |b| {
        b.iter(read)
    });
    group.bench_function("tool result text (protocol::call_result)", |b| {
        b.iter(|| protocol::call_result(200, black_box(answer)))
    });
    group.bench_function("JSON-RPC envelope (jsonrpc::result_text)", |b| {
        b.iter(|| Bytes::from(jsonrpc::result_text(&id, black_box(&result))))
    });
    group.finish();
}

/// The HTTP answer is the operation's, not a refusal; its body.
fn check_http(case: &Case, answer: Response<Bytes>) -> Bytes {
    let body: Value = serde_json::from_slice(answer.body()).unwrap();
    assert_eq!(answer.status(), StatusCode::OK, "{body}");
    assert!((case.check)(&body), "{body}");
    answer.into_body()
}

/// The tool result is the operation's answer, not a refusal.
fn check_mcp(case: &Case, answer: Response<Bytes>) {
    let body: Value = serde_json::from_slice(answer.body()).unwrap();
    assert_eq!(answer.status(), StatusCode::OK, "{body}");
    let result = &body["result"];
    assert_eq!(result["isError"], false, "{body}");
    assert_eq!(result["_meta"]["portcullis/status"], 200, "{body}");
    assert!((case.check)(&result["structuredContent"]), "{body}");
}

criterion_group!(benches, bench);
criterion_main!(benches);
