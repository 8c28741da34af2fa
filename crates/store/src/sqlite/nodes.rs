//! The fleet register in SQLite: one gateway per file is the usual case,
//! but nothing stops two processes sharing one, and they then see each
//! other here as PostgreSQL nodes do. Times are this host's clock.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rusqlite::params;

use super::SqliteStore;
use crate::{NodeRecord, NodeSeen, NodeStore, StoreError};

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

impl NodeStore for SqliteStore {
    fn heartbeat_node(&self, node: &NodeRecord, live: Duration) -> Result<(), StoreError> {
        let now = now_ms();
        let live = i64::try_from(live.as_millis()).unwrap_or(i64::MAX);
        let renewed = self.run("renewing this node's heartbeat", |conn| {
            Ok(conn.execute(
                "INSERT INTO nodes (id, instance, version, config_digest, address, started_ms, heartbeat_ms) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6) \
                 ON CONFLICT (id) DO UPDATE SET \
                   started_ms = CASE WHEN nodes.instance = excluded.instance THEN nodes.started_ms ELSE excluded.started_ms END, \
                   instance = excluded.instance, version = excluded.version, \
                   config_digest = excluded.config_digest, address = excluded.address, \
                   heartbeat_ms = excluded.heartbeat_ms \
                 WHERE nodes.instance = excluded.instance OR nodes.heartbeat_ms < ?6 - ?7",
                params![
                    node.id,
                    node.instance,
                    node.version,
                    node.config_digest,
                    node.address,
                    now,
                    live
                ],
            )?)
        })?;
        if renewed == 0 {
            return Err(StoreError::conflict("live node", &node.id));
        }
        Ok(())
    }

    fn list_nodes(&self) -> Result<Vec<NodeSeen>, StoreError> {
        let now = now_ms();
        self.run("listing the fleet's nodes", |conn| {
            let mut stmt = conn.prepare(
                "SELECT id, instance, version, config_digest, address, started_ms, heartbeat_ms \
                 FROM nodes ORDER BY id",
            )?;
            let rows = stmt.query_map([], |row| {
                let started_ms: i64 = row.get(5)?;
                let heartbeat_ms: i64 = row.get(6)?;
                Ok(NodeSeen {
                    node: NodeRecord {
                        id: row.get(0)?,
                        instance: row.get(1)?,
                        version: row.get(2)?,
                        config_digest: row.get(3)?,
                        address: row.get(4)?,
                    },
                    started: started_ms / 1000,
                    heard_ms_ago: now.saturating_sub(heartbeat_ms).max(0),
                })
            })?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
    }

    fn remove_node(&self, id: &str, instance: &str) -> Result<(), StoreError> {
        self.run("leaving the fleet", |conn| {
            conn.execute(
                "DELETE FROM nodes WHERE id = ?1 AND instance = ?2",
                params![id, instance],
            )?;
            Ok(())
        })
    }
}
