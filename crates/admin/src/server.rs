//! Starting and stopping the admin listener on its own address.
//!
//! It must never share the gateway's listener: it binds the address it is
//! given and serves only the admin router.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use portcullis_proxy::authority::Authority;
use portcullis_proxy::{Observer, Reloader};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::routes;

/// How long [`AdminServer::stop`] waits for open requests before cutting them.
const DRAIN: Duration = Duration::from_secs(5);

/// A running admin listener.
#[derive(Debug)]
pub struct AdminServer {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl AdminServer {
    /// Binds `addr` and serves `/admin/v1` over `authority` (and reloads
    /// through `reloader`, when the gateway has a file to reload) until
    /// [`AdminServer::stop`].
    pub async fn start(
        addr: SocketAddr,
        authority: Arc<Authority>,
        reloader: Option<Reloader>,
        observer: Option<Observer>,
    ) -> std::io::Result<Self> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let (stop, stopped) = oneshot::channel::<()>();
        let app = routes::router(authority, reloader, observer)
            .into_make_service_with_connect_info::<SocketAddr>();
        let serve = axum::serve(listener, app).with_graceful_shutdown(async move {
            let _ = stopped.await;
        });
        let task = tokio::spawn(async move {
            if let Err(e) = serve.await {
                tracing::error!(error = %e, "admin listener failed");
            }
        });
        tracing::info!(%addr, "admin listener started");
        Ok(Self {
            addr,
            stop: Some(stop),
            task,
        })
    }

    /// The address actually bound (useful with port 0).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops accepting, lets open requests finish for up to five seconds,
    /// then cuts the rest.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if tokio::time::timeout(DRAIN, &mut self.task).await.is_err() {
            tracing::warn!("admin listener did not drain in time; closing open connections");
            self.task.abort();
        }
    }
}

impl Drop for AdminServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
