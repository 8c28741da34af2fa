//! The gateway's live state: the snapshot each request starts on, replaced
//! atomically by a reload, and the stream of decisions observers follow.
//!
//! A request loads the current snapshot once, when it arrives, and keeps that
//! `Arc` to the end: a reload never changes the rules under a request in
//! flight, and every decision names the one snapshot version that made it.

use std::sync::Arc;

use arc_swap::ArcSwap;
use portcullis_config::Config;
use tokio::sync::broadcast;

use portcullis_config::{AuditDurability, AuditSettings, LedgerPlace, Storage};
use portcullis_store::ledger::writer::{AuditWriter, Durability, WriterConfig};
use portcullis_store::ledger::{Ledger, Location, Sync};

use crate::authority::Authority;
use crate::snapshot::{Snapshot, SnapshotError};

/// Names the in-memory ledgers of this process apart.
static MEMORY_LEDGERS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Opens the ledger the settings name and starts its writer.
/// Starts the ledger's writer on this node's chain. Returns it with where
/// readers find the ledger: the same place for a file or memory; every
/// node's chains for a fleet's ledger in PostgreSQL (queries span the
/// fleet), and this node's chain apart (what the watch replays).
fn open_ledger(
    settings: &AuditSettings,
    storage: &Storage,
    node: &str,
    instance: &str,
    authority: &Authority,
    commits: prometheus_client::metrics::histogram::Histogram,
) -> Result<(AuditWriter, Location, Location), LiveError> {
    let location = match (&settings.ledger, storage) {
        (LedgerPlace::File(path), _) => Location::File(path.clone()),
        (LedgerPlace::Postgres, Storage::Postgres(url)) => Location::Postgres {
            url: url.clone(),
            node: Some(node.to_owned()),
            fence: Some(instance.to_owned()),
        },
        (LedgerPlace::Memory | LedgerPlace::Postgres, _) => Location::Memory(format!(
            "portcullis-audit-{}-{}",
            std::process::id(),
            MEMORY_LEDGERS.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        )),
    };
    let readers = match &location {
        Location::Postgres { url, .. } => Location::Postgres {
            url: url.clone(),
            node: None,
            fence: None,
        },
        other => other.clone(),
    };
    let (durability, sync) = match settings.durability {
        AuditDurability::Batch => (Durability::Batch, Sync::Normal),
        AuditDurability::Strict => (Durability::Strict, Sync::Full),
    };
    let ledger = Ledger::open(&location, sync)?;
    let config = WriterConfig {
        durability,
        checkpoint_every: settings.checkpoint_every,
        checkpoint_interval: settings.checkpoint_interval,
        retention: settings.retention,
        max_records: settings.max_records,
        on_commit: Some(portcullis_store::ledger::writer::CommitHook(Arc::new(
            move |took| {
                commits.observe(took.as_secs_f64());
            },
        ))),
        ..WriterConfig::default()
    };
    let writer = AuditWriter::start(ledger, authority.audit_key()?, config)?;
    Ok((writer, readers, location))
}

/// Rebuilds the watch's state from the ledger's recent records; a ledger
/// that cannot be read starts the watch without its history (logged).
fn replay_watch(watch: &crate::watch::Watcher, ledger: &Location, config: &Config) {
    if config.watch.is_none() {
        return;
    }
    let started = std::time::Instant::now();
    let now = portcullis_store::ledger::writer::now_ms();
    let read = Ledger::open_reader(ledger)
        .and_then(|reader| crate::watch::replay::replay(watch, &reader, config, now));
    match read {
        Ok(records) => tracing::info!(
            records,
            ms = started.elapsed().as_millis() as u64,
            "watch state rebuilt from the ledger"
        ),
        Err(e) => {
            tracing::warn!(error = %e, "the watch starts without its history: the ledger could not be read")
        }
    }
}

/// How many decisions a slow observer may fall behind before it misses some
/// (it is told how many it missed).
const DECISION_BACKLOG: usize = 16_384;

/// One decided request, as observers see it. Never holds a secret, a
/// credential or body content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecisionEvent {
    pub request_id: String,
    /// The snapshot (configuration, contracts, policies) the request ran on.
    pub snapshot: u64,
    pub api: Option<String>,
    pub operation: Option<String>,
    pub identity: Option<String>,
    /// The stage that decided: the refusing one, or `check_response`.
    pub stage: &'static str,
    pub status: u16,
    /// The problem code sent, when refused.
    pub code: Option<&'static str>,
    /// In observe mode: the code the request would have been refused with.
    pub observed: Option<&'static str>,
    /// The determining policy ids, once the authorize stage ran.
    pub policies: Vec<String>,
    pub policy_errors: Vec<String>,
}

/// What restarting needs to change: settings a reload cannot apply, because
/// listeners, the store and the token service were built from them.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Fixed {
    listen: std::net::SocketAddr,
    admin: Option<std::net::SocketAddr>,
    storage: portcullis_config::Storage,
    sealing_key: Option<portcullis_config::SecretText>,
    tokens: portcullis_config::TokenSettings,
    delegation: Option<portcullis_config::DelegationSettings>,
    /// Each API's name, mount and upstream credential form (tokens are
    /// issued per API name; per-identity credentials follow the form).
    apis: Vec<(String, String, Option<portcullis_config::UpstreamAuth>)>,
    /// The ledger's writer was started with these.
    audit: portcullis_config::AuditSettings,
}

impl Fixed {
    fn of(config: &Config) -> Self {
        Self {
            listen: config.listen,
            admin: config.admin,
            storage: config.storage.clone(),
            sealing_key: config.sealing_key.clone(),
            tokens: config.tokens.clone(),
            delegation: config.delegation.clone(),
            apis: config
                .apis
                .iter()
                .map(|a| (a.name.clone(), a.mount.clone(), a.upstream_auth.clone()))
                .collect(),
            audit: config.audit.clone(),
        }
    }

    /// The settings of `other` that differ from these, by name.
    fn changed(&self, other: &Self) -> Vec<&'static str> {
        let mut changed = Vec::new();
        let mut check = |name, same: bool| {
            if !same {
                changed.push(name);
            }
        };
        check("listen", self.listen == other.listen);
        check("admin", self.admin == other.admin);
        check("storage", self.storage == other.storage);
        check("sealing_key", self.sealing_key == other.sealing_key);
        check("tokens", self.tokens == other.tokens);
        check("delegation", self.delegation == other.delegation);
        check(
            "apis (names, mounts, upstream_auth)",
            self.apis == other.apis,
        );
        check("audit", self.audit == other.audit);
        changed
    }
}

/// Why a new configuration was not applied. The running snapshot is untouched.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error("needs a restart to change: {}", .0.join(", "))]
    NeedsRestart(Vec<&'static str>),
    #[error("{0}")]
    Snapshot(#[from] SnapshotError),
    #[error("identities: {0}")]
    Inventory(#[from] crate::authority::AuthorityError),
}

/// Why the live state could not start.
#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    #[error("{0}")]
    Snapshot(#[from] SnapshotError),
    #[error("{0}")]
    Ledger(#[from] portcullis_store::ledger::LedgerError),
    #[error("the audit key: {0}")]
    Key(#[from] crate::authority::AuthorityError),
}

/// The state every connection shares.
#[derive(Debug)]
pub(crate) struct Live {
    current: ArcSwap<Snapshot>,
    decisions: broadcast::Sender<DecisionEvent>,
    /// The audit ledger's writer, and where readers find the ledger.
    pub(crate) audit: AuditWriter,
    pub(crate) ledger: Location,
    pub(crate) metrics: Arc<crate::metrics::Metrics>,
    pub(crate) authority: Arc<Authority>,
    fixed: Fixed,
    /// One reload at a time, so versions are applied in order.
    applying: tokio::sync::Mutex<()>,
    /// MCP sessions; they outlive snapshots (a reload is what they watch for).
    pub(crate) sessions: crate::mcp::Sessions,
    /// The anomaly watch; its state outlives snapshots too.
    pub(crate) watch: crate::watch::Watcher,
    /// The watch's alert queue, until the gateway starts its responder.
    watch_jobs: std::sync::Mutex<Option<tokio::sync::mpsc::Receiver<portcullis_watch::Firing>>>,
}

impl Live {
    /// The live state of node `node` (registered as `instance`): its
    /// ledger's writer started on its chain, fenced by that instance, the
    /// watch rebuilt from that chain, the first snapshot built.
    pub(crate) fn start(
        config: Config,
        authority: Arc<Authority>,
        node: &str,
        instance: &str,
    ) -> Result<Self, LiveError> {
        let fixed = Fixed::of(&config);
        let commits = crate::metrics::latency();
        let (audit, ledger, own_chain) = open_ledger(
            &config.audit,
            &config.storage,
            node,
            instance,
            &authority,
            commits.clone(),
        )?;
        let metrics = Arc::new(crate::metrics::Metrics::new(
            Some(Arc::clone(audit.stats())),
            commits,
        ));
        let (watch, watch_jobs) = crate::watch::Watcher::new(
            config.watch.clone(),
            Arc::clone(&authority),
            Arc::clone(&metrics),
        );
        replay_watch(&watch, &own_chain, &config);
        let snapshot = Snapshot::build(config, Arc::clone(&authority), Arc::clone(&metrics), 1)?;
        Ok(Self {
            current: ArcSwap::from_pointee(snapshot),
            decisions: broadcast::channel(DECISION_BACKLOG).0,
            audit,
            ledger,
            metrics,
            authority,
            fixed,
            applying: tokio::sync::Mutex::new(()),
            sessions: crate::mcp::Sessions::default(),
            watch,
            watch_jobs: std::sync::Mutex::new(Some(watch_jobs)),
        })
    }

    /// The watch's alert queue, once (for the responder task).
    pub(crate) fn take_watch_jobs(
        &self,
    ) -> Option<tokio::sync::mpsc::Receiver<portcullis_watch::Firing>> {
        self.watch_jobs.lock().ok().and_then(|mut j| j.take())
    }

    /// The snapshot a request arriving now runs on.
    pub(crate) fn snapshot(&self) -> Arc<Snapshot> {
        self.current.load_full()
    }

    pub(crate) fn version(&self) -> u64 {
        self.current.load().version
    }

    pub(crate) fn subscribe(&self) -> broadcast::Receiver<DecisionEvent> {
        self.decisions.subscribe()
    }

    /// Tells observers about a decision; costs nothing when nobody listens.
    pub(crate) fn publish(&self, event: impl FnOnce() -> DecisionEvent) {
        if self.decisions.receiver_count() > 0 {
            let _ = self.decisions.send(event());
        }
    }

    /// Builds a snapshot of `config` off the request path and, if it is
    /// whole, makes it the current one. Requests in flight finish on theirs.
    ///
    /// # Errors
    /// A setting only a restart can change, or a snapshot that cannot be
    /// built; nothing was applied.
    pub(crate) async fn apply(&self, config: Config) -> Result<u64, ApplyError> {
        let _one = self.applying.lock().await;
        let changed = self.fixed.changed(&Fixed::of(&config));
        if !changed.is_empty() {
            return Err(ApplyError::NeedsRestart(changed));
        }
        let version = self.version() + 1;
        let seeds = config.identities.clone();
        let watch = config.watch.clone();
        let mut snapshot = Snapshot::build(
            config,
            Arc::clone(&self.authority),
            Arc::clone(&self.metrics),
            version,
        )?;
        snapshot.keep_rate_buckets(&self.current.load());
        // The inventory goes to the store only once the rest has validated,
        // so a refused reload changes nothing.
        self.authority.apply_inventory(&seeds)?;
        let before = self.current.load().mcp.fingerprint;
        let after = snapshot.mcp.fingerprint;
        self.current.store(Arc::new(snapshot));
        self.watch.apply(watch);
        if before != after {
            // What tools a caller may be shown could have changed.
            self.sessions.tools_changed();
        }
        Ok(version)
    }
}
