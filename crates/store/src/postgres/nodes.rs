//! The fleet register in PostgreSQL, judged by PostgreSQL's clock: a
//! heartbeat is `now()` there, and a node's age is measured there too.

use std::time::Duration;

use super::pool::{About, BoxFuture};
use super::{PostgresStore, col};
use crate::{NodeRecord, NodeSeen, NodeStore, StoreError};

impl NodeStore for PostgresStore {
    fn heartbeat_node(&self, node: &NodeRecord, live: Duration) -> Result<(), StoreError> {
        let about = About {
            action: "renewing this node's heartbeat",
            what: "live node",
            id: &node.id,
        };
        let node_owned = node.clone();
        let live_secs = live.as_secs_f64();
        let renewed = self.pool.run(about, move |c| -> BoxFuture<'_, _> {
            Box::pin(async move {
                let n = &node_owned;
                c.execute(
                    "INSERT INTO nodes (id, instance, version, config_digest, address, started, heartbeat) \
                     VALUES ($1, $2, $3, $4, $5, now(), now()) \
                     ON CONFLICT (id) DO UPDATE SET \
                       started = CASE WHEN nodes.instance = excluded.instance THEN nodes.started ELSE now() END, \
                       instance = excluded.instance, version = excluded.version, \
                       config_digest = excluded.config_digest, address = excluded.address, \
                       heartbeat = now() \
                     WHERE nodes.instance = excluded.instance \
                        OR nodes.heartbeat < now() - make_interval(secs => $6)",
                    &[&n.id, &n.instance, &n.version, &n.config_digest, &n.address, &live_secs],
                )
                .await
            })
        })?;
        if renewed == 0 {
            return Err(StoreError::conflict("live node", &node.id));
        }
        Ok(())
    }

    fn list_nodes(&self) -> Result<Vec<NodeSeen>, StoreError> {
        let about = About {
            action: "listing the fleet's nodes",
            what: "node",
            id: "",
        };
        let rows = self.pool.run(about, move |c| -> BoxFuture<'_, _> {
            Box::pin(async move {
                c.query(
                    "SELECT id, instance, version, config_digest, address, \
                       EXTRACT(EPOCH FROM started)::BIGINT, \
                       GREATEST(0, (EXTRACT(EPOCH FROM (now() - heartbeat)) * 1000))::BIGINT \
                     FROM nodes ORDER BY id",
                    &[],
                )
                .await
            })
        })?;
        rows.iter()
            .map(|r| {
                Ok(NodeSeen {
                    node: NodeRecord {
                        id: col(r, 0, "node")?,
                        instance: col(r, 1, "node")?,
                        version: col(r, 2, "node")?,
                        config_digest: col(r, 3, "node")?,
                        address: col(r, 4, "node")?,
                    },
                    started: col(r, 5, "node")?,
                    heard_ms_ago: col(r, 6, "node")?,
                })
            })
            .collect()
    }

    fn remove_node(&self, id: &str, instance: &str) -> Result<(), StoreError> {
        let about = About {
            action: "leaving the fleet",
            what: "node",
            id,
        };
        let (id, instance) = (id.to_owned(), instance.to_owned());
        self.pool.run(about, move |c| -> BoxFuture<'_, _> {
            Box::pin(async move {
                c.execute(
                    "DELETE FROM nodes WHERE id = $1 AND instance = $2",
                    &[&id, &instance],
                )
                .await
                .map(|_| ())
            })
        })
    }
}
