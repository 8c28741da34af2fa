//! The bundled example API for Portcullis: an "orders" service (customers,
//! orders, line items; JSON over HTTP; in-memory data seeded at start).
//!
//! It behaves like real services do: it answers its contract
//! (`examples/orders/openapi.yaml`) and ALSO answers things the contract does
//! not declare (a debug dump, a legacy `/v0` API, extra response fields, stack
//! traces, lenient path decoding, method override), so the gateway has
//! something real to refuse.
//!
//! Every response carries [`ECHO_TARGET_HEADER`] with the request target
//! exactly as received, so tests can check what the gateway forwarded.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinHandle;

mod data;
pub mod demo_banner;
pub mod demo_idp;
pub mod demo_mcp;
pub mod demo_script;
pub mod demo_watch;
pub mod example_files;
mod formats;
mod input;
mod leaks;
mod normalize;
mod respond;
mod routes;
pub mod seed;
mod server;

/// Response header echoing the raw request target (path and query) as received.
pub const ECHO_TARGET_HEADER: &str = "x-echo-request-target";

/// The `Server` header the example API sends, naming its stack and versions.
pub const FINGERPRINT_SERVER: &str = "Werkzeug/2.2.3 Python/3.11.7";

/// How long [`OrdersApi::stop`] waits for open connections to finish.
const STOP_GRACE: Duration = Duration::from_secs(2);

/// A running orders server.
///
/// Dropping the handle without calling [`OrdersApi::stop`] also asks the
/// server to shut down, but does not wait for it.
#[derive(Debug)]
pub struct OrdersApi {
    addr: SocketAddr,
    shutdown: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl OrdersApi {
    /// Binds `addr` (use 127.0.0.1:0 in tests), seeds data, serves on the
    /// current tokio runtime.
    pub async fn start(addr: SocketAddr) -> std::io::Result<OrdersApi> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let (shutdown, shutdown_rx) = watch::channel(false);
        let state = server::AppState::seeded();
        let task = tokio::spawn(server::serve(listener, state, shutdown_rx, STOP_GRACE));
        Ok(OrdersApi {
            addr,
            shutdown,
            task,
        })
    }

    /// The address the server is listening on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops accepting and waits for the server task (graceful, bounded to ~2 s).
    pub async fn stop(self) {
        let OrdersApi { shutdown, task, .. } = self;
        // An error only means the server task is already gone.
        let _ = shutdown.send(true);
        let abort = task.abort_handle();
        if tokio::time::timeout(STOP_GRACE + Duration::from_millis(500), task)
            .await
            .is_err()
        {
            abort.abort();
        }
    }
}
