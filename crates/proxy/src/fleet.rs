//! This node in the fleet register: it joins when the gateway starts
//! (refusing to start while another live process holds its node id),
//! renews its heartbeat every [`HEARTBEAT`] with the digest of the
//! configuration it runs now, learns from the register how many nodes are
//! alive (the share each takes of a rate limit while Redis is away), and
//! leaves when it stops cleanly. [`assess`] turns the register into what
//! `fleet status` and `GET /admin/v1/fleet` show, drift included.

use std::collections::HashMap;
use std::sync::{Arc, Weak};
use std::time::Duration;

use portcullis_store::{NodeRecord, NodeSeen, Store, StoreError};
use serde::Serialize;

use crate::live::Live;

/// How often a node renews its row.
pub const HEARTBEAT: Duration = Duration::from_secs(2);
/// A node not heard for this long is no longer counted alive.
pub const LIVE: Duration = Duration::from_secs(6);

/// This node's id when none is given: the host's name and the port it
/// serves on, which tells apart nodes on one host and stays the same
/// across a restart.
pub fn default_node_id(port: u16) -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| valid_node_id(h))
        .unwrap_or_else(|| "node".to_owned());
    format!("{host}-{port}")
}

/// 1 to 63 letters, digits, `.`, `_` or `-`.
pub fn valid_node_id(id: &str) -> bool {
    (1..=63).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// This node's place in the register while it runs.
#[derive(Debug)]
pub(crate) struct Membership {
    id: String,
    instance: String,
    store: Arc<dyn Store>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Membership {
    /// Registers this node, before its ledger's writer starts: its
    /// instance then fences the node's chain (a PostgreSQL ledger appends
    /// only while this instance holds the id). A live process with the
    /// same id is waited out for up to [`LIVE`] (it may be this node's own
    /// previous life, killed before it could leave), then refused.
    pub(crate) async fn join(
        store: Arc<dyn Store>,
        id: String,
        address: String,
        config_digest: String,
    ) -> Result<Self, StoreError> {
        let record = NodeRecord {
            id: id.clone(),
            instance: format!("{:016x}{:016x}", fastrand::u64(..), fastrand::u64(..)),
            version: env!("CARGO_PKG_VERSION").to_owned(),
            config_digest,
            address,
        };
        let deadline = tokio::time::Instant::now() + LIVE + HEARTBEAT;
        loop {
            match heartbeat(&store, record.clone()).await {
                Ok(()) => break,
                Err(StoreError::Conflict(_)) if tokio::time::Instant::now() < deadline => {
                    tracing::warn!(node = %id, "another process holds this node id; waiting to see whether it is alive");
                    tokio::time::sleep(HEARTBEAT / 4).await;
                }
                Err(e) => return Err(e),
            }
        }
        Ok(Self {
            id,
            instance: record.instance,
            store,
            task: None,
        })
    }

    /// The instance that holds this node's id (the ledger's fence).
    pub(crate) fn instance(&self) -> &str {
        &self.instance
    }

    /// Renews the heartbeat every [`HEARTBEAT`] from now on, with the
    /// digest of the configuration `live` runs.
    pub(crate) fn renew(&mut self, live: &Arc<Live>, address: String) {
        let record = NodeRecord {
            id: self.id.clone(),
            instance: self.instance.clone(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
            config_digest: live.snapshot().config_digest.clone(),
            address,
        };
        self.task = Some(tokio::spawn(renew(Arc::downgrade(live), record)));
    }

    /// Stops renewing and takes this node off the register.
    pub(crate) async fn leave(self) {
        if let Some(task) = &self.task {
            task.abort();
        }
        let (store, id, instance) = (self.store, self.id, self.instance);
        let left = tokio::task::spawn_blocking(move || store.remove_node(&id, &instance)).await;
        if !matches!(left, Ok(Ok(()))) {
            tracing::warn!("this node could not take itself off the fleet register");
        }
    }
}

async fn heartbeat(store: &Arc<dyn Store>, record: NodeRecord) -> Result<(), StoreError> {
    let store = Arc::clone(store);
    tokio::task::spawn_blocking(move || store.heartbeat_node(&record, LIVE))
        .await
        .unwrap_or_else(|_| {
            Err(StoreError::unavailable(
                "renewing this node's heartbeat",
                "the heartbeat task failed",
            ))
        })
}

/// Every [`HEARTBEAT`]: renew (with the digest of the configuration now
/// running), then count the live nodes for the rate limiter's share.
async fn renew(live: Weak<Live>, mut record: NodeRecord) {
    let mut tick = tokio::time::interval(HEARTBEAT);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await;
    loop {
        tick.tick().await;
        let Some(live) = live.upgrade() else { return };
        let snapshot = live.snapshot();
        record.config_digest.clone_from(&snapshot.config_digest);
        match heartbeat(live.authority.store(), record.clone()).await {
            Ok(()) => {}
            Err(StoreError::Conflict(_)) => {
                // The ledger's fence now refuses this instance's records.
                tracing::error!(node = %record.id, "another process has taken this node id: this node's ledger no longer accepts its records; give each gateway its own id (--node or PORTCULLIS_NODE)");
            }
            Err(e) => tracing::warn!(error = %e, "this node's heartbeat was not recorded"),
        }
        let store = Arc::clone(live.authority.store());
        if let Ok(Ok(nodes)) = tokio::task::spawn_blocking(move || store.list_nodes()).await {
            let alive = nodes.iter().filter(|n| is_live(n)).count();
            snapshot
                .rates
                .set_share(u32::try_from(alive).unwrap_or(u32::MAX));
        }
    }
}

fn is_live(node: &NodeSeen) -> bool {
    u128::try_from(node.heard_ms_ago).is_ok_and(|ms| ms < LIVE.as_millis())
}

/// One node as `fleet status` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NodeView {
    pub id: String,
    pub version: String,
    pub config_digest: String,
    pub address: String,
    /// Unix seconds.
    pub started: i64,
    pub heard_ms_ago: i64,
    pub live: bool,
    /// Live, and its configuration differs from most live nodes'.
    pub drift: bool,
}

/// The register, judged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FleetView {
    pub nodes: Vec<NodeView>,
    /// Live nodes.
    pub live: usize,
    /// Whether any live node's configuration differs.
    pub drift: bool,
}

/// Which nodes are alive, and which of them run a configuration other than
/// the one most live nodes run. With no single most common configuration
/// (two nodes, two digests), every live node is flagged: there is no
/// telling which is right.
pub fn assess(nodes: Vec<NodeSeen>) -> FleetView {
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for node in nodes.iter().filter(|n| is_live(n)) {
        *counts.entry(node.node.config_digest.as_str()).or_default() += 1;
    }
    let most = counts.values().copied().max().unwrap_or(0);
    let leaders: Vec<&str> = counts
        .iter()
        .filter(|(_, n)| **n == most)
        .map(|(d, _)| *d)
        .collect();
    let majority = match leaders.as_slice() {
        [one] => Some((*one).to_owned()),
        _ => None,
    };
    let agreed = counts.len() <= 1;
    let views: Vec<NodeView> = nodes
        .iter()
        .map(|n| {
            let live = is_live(n);
            NodeView {
                id: n.node.id.clone(),
                version: n.node.version.clone(),
                config_digest: n.node.config_digest.clone(),
                address: n.node.address.clone(),
                started: n.started,
                heard_ms_ago: n.heard_ms_ago,
                live,
                drift: live
                    && !agreed
                    && majority.as_deref() != Some(n.node.config_digest.as_str()),
            }
        })
        .collect();
    FleetView {
        live: views.iter().filter(|v| v.live).count(),
        drift: views.iter().any(|v| v.drift),
        nodes: views,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seen(id: &str, digest: &str, heard_ms_ago: i64) -> NodeSeen {
        NodeSeen {
            node: NodeRecord {
                id: id.into(),
                instance: "i".into(),
                version: "0.1.0".into(),
                config_digest: digest.into(),
                address: "127.0.0.1:8080".into(),
            },
            started: 0,
            heard_ms_ago,
        }
    }

    #[test]
    fn the_odd_one_out_drifts_and_the_dead_are_not_counted() {
        let view = assess(vec![
            seen("a", "d1", 100),
            seen("b", "d1", 100),
            seen("c", "d2", 100),
            seen("gone", "d3", 60_000),
        ]);
        let drift: Vec<_> = view
            .nodes
            .iter()
            .map(|n| (n.id.as_str(), n.live, n.drift))
            .collect();
        assert_eq!(
            drift,
            [
                ("a", true, false),
                ("b", true, false),
                ("c", true, true),
                ("gone", false, false)
            ]
        );
        assert_eq!((view.live, view.drift), (3, true));
    }

    #[test]
    fn agreement_is_no_drift_and_a_tie_flags_every_live_node() {
        let agreed = assess(vec![seen("a", "d1", 0), seen("b", "d1", 10)]);
        assert!(!agreed.drift);
        let tie = assess(vec![seen("a", "d1", 0), seen("b", "d2", 10)]);
        assert!(tie.nodes.iter().all(|n| n.drift));
    }

    #[test]
    fn node_ids_are_short_plain_names() {
        assert!(valid_node_id("gw-a.prod_1"));
        assert!(!valid_node_id(""));
        assert!(!valid_node_id("a b"));
        assert!(!valid_node_id(&"x".repeat(64)));
        assert!(default_node_id(8080).ends_with("-8080"));
    }
}
