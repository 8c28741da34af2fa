//! Starting and stopping a gateway on its listener.

use std::net::SocketAddr;
use std::sync::Arc;

use portcullis_config::Config;
use portcullis_core::SystemClock;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::authority::{Authority, AuthorityError};
use crate::server;
use crate::snapshot::{Snapshot, SnapshotError};

/// Why the gateway did not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("{0}")]
    Snapshot(#[from] SnapshotError),
    #[error("identities and tokens: {0}")]
    Authority(#[from] AuthorityError),
}

/// A running gateway.
#[derive(Debug)]
pub struct Gateway {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
    authority: Arc<Authority>,
}

impl Gateway {
    /// Binds the configured address and serves until [`Gateway::stop`].
    pub async fn start(config: Config) -> Result<Self, StartError> {
        let listen = config.listen;
        let listener = TcpListener::bind(listen)
            .await
            .map_err(|source| StartError::Bind {
                addr: listen,
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| StartError::Bind {
            addr: listen,
            source,
        })?;
        let authority = Arc::new(Authority::open(
            &config,
            &format!("http://{addr}"),
            Arc::new(SystemClock),
        )?);
        let snapshot = Arc::new(Snapshot::build(config, Arc::clone(&authority), 1)?);
        let (stop, stopped) = oneshot::channel();
        let task = tokio::spawn(server::serve(listener, snapshot, stopped));
        Ok(Self {
            addr,
            stop: Some(stop),
            task,
            authority,
        })
    }

    /// Identities, credentials and tokens of this gateway.
    pub fn authority(&self) -> &Arc<Authority> {
        &self.authority
    }

    /// The address actually bound (useful with port 0).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops accepting, lets open requests finish (bounded), and returns.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = (&mut self.task).await;
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
