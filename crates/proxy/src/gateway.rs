//! Starting and stopping a gateway on its listener.

use std::net::SocketAddr;
use std::sync::Arc;

use portcullis_config::Config;
use portcullis_core::{Clock, SystemClock};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::authority::{Authority, AuthorityError};
use crate::live::{ApplyError, DecisionEvent, Live};
use crate::reload::Reloader;
use crate::server;

/// Why the gateway did not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("{0}")]
    Live(#[from] crate::live::LiveError),
    #[error("identities and tokens: {0}")]
    Authority(#[from] AuthorityError),
    #[error(
        "joining the fleet as node `{node}`: {source} (another live gateway has this node id; give each its own with --node or PORTCULLIS_NODE)"
    )]
    Node {
        node: String,
        source: portcullis_store::StoreError,
    },
}

/// A running gateway.
#[derive(Debug)]
pub struct Gateway {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
    authority: Arc<Authority>,
    live: Arc<Live>,
    membership: Option<crate::fleet::Membership>,
}

impl Gateway {
    /// Binds the configured address and serves until [`Gateway::stop`].
    pub async fn start(config: Config) -> Result<Self, StartError> {
        Self::start_with_clock(config, Arc::new(SystemClock)).await
    }

    /// As [`Gateway::start`], with "now" for every decision taken from
    /// `clock` (tests, and `explain --at`).
    pub async fn start_with_clock(
        config: Config,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, StartError> {
        Self::start_answering(config, clock, server::Pipeline).await
    }

    /// As [`Gateway::start_with_clock`], with `handler` answering each
    /// request: the pipeline, or the load harness's forwarding-only
    /// handler (`crate::bench`).
    pub(crate) async fn start_answering(
        config: Config,
        clock: Arc<dyn Clock>,
        handler: impl server::Handler,
    ) -> Result<Self, StartError> {
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
        let authority = Arc::new(Authority::open(&config, &format!("http://{addr}"), clock)?);
        let node = config
            .node
            .clone()
            .unwrap_or_else(|| crate::fleet::default_node_id(addr.port()));
        let mut membership = crate::fleet::Membership::join(
            Arc::clone(authority.store()),
            node.clone(),
            addr.to_string(),
            config.digest.clone(),
        )
        .await
        .map_err(|source| StartError::Node {
            node: node.clone(),
            source,
        })?;
        let live = Arc::new(Live::start(
            config,
            Arc::clone(&authority),
            &node,
            membership.instance(),
        )?);
        membership.renew(&live, addr.to_string());
        if let Some(jobs) = live.take_watch_jobs() {
            tokio::spawn(crate::watch::respond::run(Arc::downgrade(&live), jobs));
        }
        let (stop, stopped) = oneshot::channel();
        let task = tokio::spawn(server::serve(listener, Arc::clone(&live), handler, stopped));
        Ok(Self {
            addr,
            stop: Some(stop),
            task,
            authority,
            live,
            membership: Some(membership),
        })
    }

    /// Applies a new configuration (contracts, policies, identities and the
    /// rest): built and validated off the request path, swapped atomically.
    /// Returns the new snapshot version.
    ///
    /// # Errors
    /// Nothing was applied; the running snapshot keeps serving.
    pub async fn apply(&self, config: Config) -> Result<u64, ApplyError> {
        self.live.apply(config).await
    }

    /// Reloads from `path` (with `overrides`) on demand: what SIGHUP, the
    /// file watcher and `POST /admin/v1/reload` call.
    pub fn reloader(
        &self,
        path: std::path::PathBuf,
        overrides: portcullis_config::Overrides,
    ) -> Reloader {
        Reloader::new(Arc::clone(&self.live), path, overrides)
    }

    /// The version of the snapshot requests arriving now run on.
    pub fn snapshot_version(&self) -> u64 {
        self.live.version()
    }

    /// Where the audit ledger is, for readers (queries, verification).
    pub fn ledger(&self) -> &portcullis_store::ledger::Location {
        &self.live.ledger
    }

    /// The audit writer's counters.
    pub fn audit_stats(&self) -> &std::sync::Arc<portcullis_store::ledger::writer::WriterStats> {
        self.live.audit.stats()
    }

    /// What the admin listener may see: ledger, metrics, readiness.
    pub fn observer(&self) -> crate::observer::Observer {
        crate::observer::Observer::new(Arc::clone(&self.live))
    }

    /// The gateway's metrics (served by the admin listener).
    pub fn metrics(&self) -> &std::sync::Arc<crate::metrics::Metrics> {
        &self.live.metrics
    }

    /// Waits until every decision made so far is in the ledger.
    pub async fn flush_audit(&self) {
        self.live.audit.flush().await;
    }

    /// Every decision from now on, as it is made.
    pub fn decisions(&self) -> tokio::sync::broadcast::Receiver<DecisionEvent> {
        self.live.subscribe()
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
        // Every record committed while this node still holds its id: the
        // fleet's ledger refuses a chain's records once its node has left.
        self.live.audit.flush().await;
        if let Some(membership) = self.membership.take() {
            membership.leave().await;
        }
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
