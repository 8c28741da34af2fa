//! The audit ledger of a fleet, in PostgreSQL (migration 5's tables): each
//! node writes its own chain, `(node, seq)`, so no node waits on another to
//! record a request, and checkpoints are signed per chain. A writer is one
//! node's chain; a reader is one node's, or every node's (`node: None`):
//! queries then span the fleet newest first in time order, and verification
//! walks each chain on its own (`Ledger::verify_each`).
//!
//! A batch is one statement (the rows as arrays, `UNNEST`ed) in one
//! transaction: one round trip whatever its size, and all or nothing.

use std::sync::Arc;

use portcullis_audit::{Anchor, Checkpoint, Entry, Hash, LedgerRead, PublicKey, Sealed};
use serde_json::Value;
use tokio_postgres::types::ToSql;

use super::pool::{About, BoxFuture, Pool};
use crate::ledger::row::{Columns, checked};
use crate::ledger::{Filter, LedgerError, Page, to_i64, to_u64};

/// Records a query returns at most.
const MAX_PAGE: u32 = crate::ledger::MAX_PAGE;

/// One chain (`node`) or every chain of the fleet's ledger.
#[derive(Debug, Clone)]
pub(crate) struct PgLedger {
    pool: Arc<Pool>,
    node: Option<String>,
    /// The register's instance that must hold `node` for an append to land.
    fence: Option<String>,
}

/// Where `node`'s chain starts before anything is pruned: a hash of its
/// name, so a chain's records cannot be passed off as another node's (they
/// chain to their own node's start and to no other).
pub(crate) fn genesis(node: &str) -> Hash {
    Hash::of(format!("portcullis-chain\0{node}").as_bytes())
}

fn about(action: &'static str) -> About<'static> {
    About {
        action,
        what: "audit record",
        id: "",
    }
}

impl PgLedger {
    /// A connection to the ledger at `url`, for `node`'s chain or (readers)
    /// every node's.
    pub(crate) fn open(url: &str, node: Option<&str>) -> Result<Self, LedgerError> {
        Ok(Self {
            pool: Arc::new(Pool::start(url, 1)?),
            node: node.map(str::to_owned),
            fence: None,
        })
    }

    /// Appends land only while `fence` (a register instance) holds the node.
    pub(crate) fn fenced(mut self, fence: Option<String>) -> Self {
        self.fence = fence;
        self
    }

    /// The same connection, narrowed to `node`'s chain (to read).
    pub(crate) fn narrowed(&self, node: &str) -> Self {
        Self {
            pool: Arc::clone(&self.pool),
            node: Some(node.to_owned()),
            fence: None,
        }
    }

    fn node(&self) -> Result<String, LedgerError> {
        self.node.clone().ok_or(LedgerError::Unsupported(
            "this needs one node's chain: name the node",
        ))
    }

    /// The chains: this one, or every node that has written one.
    pub(crate) fn nodes(&self) -> Result<Vec<Option<String>>, LedgerError> {
        if let Some(node) = &self.node {
            return Ok(vec![Some(node.clone())]);
        }
        let rows = self.pool.run(
            about("listing the ledger's nodes"),
            |c| -> BoxFuture<'_, _> {
                Box::pin(async move {
                    c.query(
                        "SELECT node FROM ledger_records GROUP BY node \
                     UNION SELECT node FROM ledger_anchors ORDER BY 1",
                        &[],
                    )
                    .await
                })
            },
        )?;
        rows.iter()
            .map(|r| r.try_get::<_, String>(0).map(Some).map_err(corrupt))
            .collect()
    }

    pub(crate) fn anchor(&self) -> Result<Anchor, LedgerError> {
        let node = self.node()?;
        let row = self.pool.run(
            about("reading the ledger's anchor"),
            move |c| -> BoxFuture<'_, _> {
                Box::pin(async move {
                    c.query_opt(
                        "SELECT seq, hash FROM ledger_anchors WHERE node = $1",
                        &[&node],
                    )
                    .await
                })
            },
        )?;
        match row {
            None => Ok(Anchor {
                seq: 0,
                hash: genesis(&self.node()?),
            }),
            Some(r) => Ok(Anchor {
                seq: to_u64(r.try_get(0).map_err(corrupt)?)?,
                hash: Hash::from_hex(&r.try_get::<_, String>(1).map_err(corrupt)?)
                    .ok_or_else(|| LedgerError::Corrupt("anchor hash".into()))?,
            }),
        }
    }

    /// The last record's sequence number and hash, if any record is left.
    pub(crate) fn last(&self) -> Result<Option<(u64, Hash)>, LedgerError> {
        let node = self.node()?;
        let row = self.pool.run(about("reading the ledger's head"), move |c| -> BoxFuture<'_, _> {
            Box::pin(async move {
                c.query_opt(
                    "SELECT seq, hash FROM ledger_records WHERE node = $1 ORDER BY seq DESC LIMIT 1",
                    &[&node],
                )
                .await
            })
        })?;
        row.map(|r| {
            Ok((
                to_u64(r.try_get(0).map_err(corrupt)?)?,
                crate::ledger::to_hash(&r.try_get::<_, Vec<u8>>(1).map_err(corrupt)?)?,
            ))
        })
        .transpose()
    }

    pub(crate) fn append<E: std::borrow::Borrow<Entry>>(
        &mut self,
        batch: &[(Sealed, E)],
    ) -> Result<(), LedgerError> {
        let node = self.node()?;
        let mut rows = Rows::default();
        for (sealed, entry) in batch {
            let e: &Entry = entry.borrow();
            rows.seq.push(to_i64(sealed.seq)?);
            rows.time_ms.push(e.time_ms);
            rows.identity.push(e.identity.clone());
            rows.api.push(e.api.clone());
            rows.operation.push(e.operation.clone());
            rows.decision.push(e.decision.to_string());
            rows.code.push(e.code.as_ref().map(ToString::to_string));
            rows.person
                .push(e.on_behalf_of.as_ref().map(|o| o.person.clone()));
            rows.body.push(sealed.body.clone());
            rows.hash.push(sealed.hash.0.to_vec());
        }
        let fence = self.fence.clone();
        let seqs = rows.seq.clone();
        let hashes = rows.hash.clone();
        let inserted = self.pool.run(about("appending to the ledger"), move |c| -> BoxFuture<'_, _> {
            Box::pin(async move {
                let r = &rows;
                let tx = c.transaction().await?;
                // Cancelled by the server before the caller gives up waiting
                // (the pool's deadline is 5 s): a batch the writer counts as
                // failed is never committed afterwards.
                tx.batch_execute("SET LOCAL statement_timeout = '4s'").await?;
                let n = tx
                    .execute(
                        "INSERT INTO ledger_records \
                           (node, seq, time_ms, identity, api, operation, decision, code, person, body, hash) \
                         SELECT $1, * FROM UNNEST($2::BIGINT[], $3::BIGINT[], $4::TEXT[], $5::TEXT[], \
                           $6::TEXT[], $7::TEXT[], $8::TEXT[], $9::TEXT[], $10::TEXT[], $11::BYTEA[]) \
                         WHERE $12::TEXT IS NULL \
                            OR EXISTS (SELECT 1 FROM nodes WHERE id = $1 AND instance = $12)",
                        &[
                            &node,
                            &r.seq,
                            &r.time_ms,
                            &r.identity,
                            &r.api,
                            &r.operation,
                            &r.decision,
                            &r.code,
                            &r.person,
                            &r.body,
                            &r.hash,
                            &fence,
                        ],
                    )
                    .await?;
                tx.commit().await?;
                Ok(n)
            })
        });
        match inserted {
            Ok(n) if n == seqs.len() as u64 => Ok(()),
            Ok(_) => Err(LedgerError::Fenced(
                "another process holds this node's id in the fleet register".into(),
            )),
            // Already there: a batch whose commit landed after its caller
            // stopped waiting. The same records are no conflict.
            Err(crate::StoreError::Conflict(_)) if self.holds(&seqs, &hashes)? => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Whether this chain already holds exactly these records.
    fn holds(&self, seqs: &[i64], hashes: &[Vec<u8>]) -> Result<bool, LedgerError> {
        let node = self.node()?;
        let wanted: Vec<i64> = seqs.to_vec();
        let rows = self.pool.run(about("reading the ledger"), move |c| -> BoxFuture<'_, _> {
            Box::pin(async move {
                c.query(
                    "SELECT seq, hash FROM ledger_records WHERE node = $1 AND seq = ANY($2) ORDER BY seq",
                    &[&node, &wanted],
                )
                .await
            })
        })?;
        let stored: Vec<(i64, Vec<u8>)> = rows
            .iter()
            .map(|r| {
                Ok((
                    r.try_get(0).map_err(corrupt)?,
                    r.try_get(1).map_err(corrupt)?,
                ))
            })
            .collect::<Result<_, LedgerError>>()?;
        let mut expected: Vec<(i64, Vec<u8>)> =
            seqs.iter().copied().zip(hashes.iter().cloned()).collect();
        expected.sort();
        Ok(stored == expected)
    }

    pub(crate) fn add_checkpoint(&self, checkpoint: &Checkpoint) -> Result<(), LedgerError> {
        let node = self.node()?;
        let seq = to_i64(checkpoint.seq)?;
        let cp = checkpoint.clone();
        self.pool.run(
            about("signing a checkpoint"),
            move |c| -> BoxFuture<'_, _> {
                Box::pin(async move {
                    c.execute(
                        "INSERT INTO ledger_checkpoints (node, seq, hash, time_ms, kid, signature) \
                     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (node, seq) DO UPDATE SET \
                     hash = excluded.hash, time_ms = excluded.time_ms, kid = excluded.kid, \
                     signature = excluded.signature",
                        &[&node, &seq, &cp.hash, &cp.time_ms, &cp.kid, &cp.signature],
                    )
                    .await
                    .map(|_| ())
                })
            },
        )?;
        Ok(())
    }

    pub(crate) fn checkpoints(&self) -> Result<Vec<Checkpoint>, LedgerError> {
        let node = self.node()?;
        let rows = self
            .pool
            .run(about("reading checkpoints"), move |c| -> BoxFuture<'_, _> {
                Box::pin(async move {
                    c.query(
                        "SELECT seq, hash, time_ms, kid, signature FROM ledger_checkpoints \
                     WHERE node = $1 ORDER BY seq",
                        &[&node],
                    )
                    .await
                })
            })?;
        rows.iter()
            .map(|r| {
                Ok(Checkpoint {
                    seq: to_u64(r.try_get(0).map_err(corrupt)?)?,
                    hash: r.try_get(1).map_err(corrupt)?,
                    time_ms: r.try_get(2).map_err(corrupt)?,
                    kid: r.try_get(3).map_err(corrupt)?,
                    signature: r.try_get(4).map_err(corrupt)?,
                })
            })
            .collect()
    }

    pub(crate) fn checkpoint_before(
        &self,
        before_ms: i64,
    ) -> Result<Option<(u64, Hash)>, LedgerError> {
        self.one_checkpoint("r.time_ms < $2 ORDER BY c.seq DESC", before_ms)
    }

    /// The first checkpoint of this chain, still covering a record, that
    /// `condition` (on `c`, the checkpoint, and `r`, its record, with `$2`
    /// bound to `value`) picks in its order.
    fn one_checkpoint(
        &self,
        condition: &'static str,
        value: i64,
    ) -> Result<Option<(u64, Hash)>, LedgerError> {
        let node = self.node()?;
        let sql = format!(
            "SELECT c.seq, c.hash FROM ledger_checkpoints c \
             JOIN ledger_records r ON r.node = c.node AND r.seq = c.seq \
             WHERE c.node = $1 AND {condition} LIMIT 1"
        );
        let row = self
            .pool
            .run(about("reading checkpoints"), move |c| -> BoxFuture<'_, _> {
                Box::pin(async move { c.query_opt(&sql, &[&node, &value]).await })
            })?;
        checkpoint_at(row)
    }

    pub(crate) fn put_key(&self, key: &PublicKey) -> Result<(), LedgerError> {
        let (kid, jwk) = (key.kid.clone(), key.to_jwk().to_string());
        let stored = self.pool.run(about("publishing a key"), move |c| -> BoxFuture<'_, _> {
            Box::pin(async move {
                c.execute(
                    "INSERT INTO ledger_keys (kid, jwk) VALUES ($1, $2) ON CONFLICT (kid) DO NOTHING",
                    &[&kid, &jwk],
                )
                .await?;
                c.query_one("SELECT jwk FROM ledger_keys WHERE kid = $1", &[&kid])
                    .await?
                    .try_get::<_, String>(0)
            })
        })?;
        crate::ledger::published_as(&stored, key)
    }

    pub(crate) fn keys(&self) -> Result<Vec<PublicKey>, LedgerError> {
        let rows = self
            .pool
            .run(about("reading keys"), |c| -> BoxFuture<'_, _> {
                Box::pin(async move {
                    c.query("SELECT jwk FROM ledger_keys ORDER BY kid", &[])
                        .await
                })
            })?;
        let texts = rows
            .iter()
            .map(|r| r.try_get::<_, String>(0).map_err(corrupt))
            .collect::<Result<Vec<_>, _>>()?;
        crate::ledger::keys_from_jwks(texts)
    }

    /// The oldest checkpoint at or after record `floor` (still in the
    /// chain): where pruning to a size stops.
    pub(crate) fn checkpoint_from(&self, floor: u64) -> Result<Option<(u64, Hash)>, LedgerError> {
        self.one_checkpoint("c.seq >= $2 ORDER BY c.seq", to_i64(floor)?)
    }

    pub(crate) fn prune_through(
        &mut self,
        target: Option<(u64, Hash)>,
    ) -> Result<Option<u64>, LedgerError> {
        let Some((seq, hash)) = target else {
            return Ok(None);
        };
        if seq <= self.anchor()?.seq {
            return Ok(None);
        }
        let node = self.node()?;
        let (at, hash) = (to_i64(seq)?, hash.to_hex());
        self.pool
            .run(about("pruning the ledger"), move |c| -> BoxFuture<'_, _> {
                Box::pin(async move {
                    let tx = c.transaction().await?;
                    tx.execute(
                        "DELETE FROM ledger_records WHERE node = $1 AND seq <= $2",
                        &[&node, &at],
                    )
                    .await?;
                    tx.execute(
                        "DELETE FROM ledger_checkpoints WHERE node = $1 AND seq < $2",
                        &[&node, &at],
                    )
                    .await?;
                    tx.execute(
                        "INSERT INTO ledger_anchors (node, seq, hash) VALUES ($1, $2, $3) \
                     ON CONFLICT (node) DO UPDATE SET seq = excluded.seq, hash = excluded.hash",
                        &[&node, &at, &hash],
                    )
                    .await?;
                    tx.commit().await
                })
            })?;
        Ok(Some(seq))
    }

    /// Newest first by time across the chains this reader sees (the row id
    /// breaks ties); the cursor is the last row's id. Each record comes with
    /// the node whose chain holds it (`node`, beside the signed fields).
    pub(crate) fn query(&self, filter: &Filter) -> Result<Page, LedgerError> {
        let limit = filter.limit.clamp(1, MAX_PAGE);
        let mut sql = String::from("SELECT id, body, node FROM ledger_records WHERE TRUE");
        let mut values: Vec<Box<dyn ToSql + Sync + Send>> = Vec::new();
        let mut text = |sql: &mut String, column: &str, value: Option<&String>| {
            if let Some(v) = value {
                values.push(Box::new(v.clone()));
                sql.push_str(&format!(" AND {column} = ${}", values.len()));
            }
        };
        text(&mut sql, "node", self.node.as_ref());
        text(&mut sql, "identity", filter.identity.as_ref());
        text(&mut sql, "person", filter.person.as_ref());
        text(&mut sql, "api", filter.api.as_ref());
        text(&mut sql, "operation", filter.operation.as_ref());
        text(&mut sql, "decision", filter.decision.as_ref());
        text(&mut sql, "code", filter.code.as_ref());
        text(
            &mut sql,
            "(body::jsonb #>> '{entry,alert,detector}')",
            filter.detector.as_ref(),
        );
        text(
            &mut sql,
            "(body::jsonb #>> '{entry,alert,action}')",
            filter.action.as_ref(),
        );
        if let Some(since) = filter.since_ms {
            values.push(Box::new(since));
            sql.push_str(&format!(" AND time_ms >= ${}", values.len()));
        }
        if let Some(until) = filter.until_ms {
            values.push(Box::new(until));
            sql.push_str(&format!(" AND time_ms < ${}", values.len()));
        }
        if let Some(before) = filter.before_seq {
            values.push(Box::new(to_i64(before)?));
            let n = values.len();
            sql.push_str(&format!(
                " AND (time_ms, id) < ((SELECT time_ms FROM ledger_records WHERE id = ${n}), ${n})"
            ));
        }
        values.push(Box::new(i64::from(limit)));
        sql.push_str(&format!(
            " ORDER BY time_ms DESC, id DESC LIMIT ${}",
            values.len()
        ));
        let rows = self
            .pool
            .run(about("querying the ledger"), move |c| -> BoxFuture<'_, _> {
                Box::pin(async move {
                    let params: Vec<&(dyn ToSql + Sync)> = values
                        .iter()
                        .map(|v| v.as_ref() as &(dyn ToSql + Sync))
                        .collect();
                    c.query(&sql, &params).await
                })
            })?;
        let mut records = Vec::new();
        let mut last = None;
        for r in &rows {
            let id: i64 = r.try_get(0).map_err(corrupt)?;
            let body: String = r.try_get(1).map_err(corrupt)?;
            let node: String = r.try_get(2).map_err(corrupt)?;
            let mut value: Value = serde_json::from_str(&body)
                .map_err(|_| LedgerError::Corrupt(format!("row {id} is not a record")))?;
            // Which chain it is in: beside the record, not part of what was signed.
            if let Some(fields) = value.as_object_mut() {
                fields.insert("node".into(), Value::String(node));
            }
            records.push(value);
            last = Some(to_u64(id)?);
        }
        let full = records.len() == usize::try_from(limit).unwrap_or(usize::MAX);
        Ok(Page {
            records,
            next: if full { last } else { None },
        })
    }

    pub(crate) fn first_since(&self, since_ms: i64) -> Result<Option<u64>, LedgerError> {
        let node = self.node()?;
        let seq: Option<i64> =
            self.pool
                .run(about("reading the ledger"), move |c| -> BoxFuture<'_, _> {
                    Box::pin(async move {
                        c.query_one(
                            "SELECT MIN(seq) FROM ledger_records WHERE node = $1 AND time_ms >= $2",
                            &[&node, &since_ms],
                        )
                        .await?
                        .try_get(0)
                    })
                })?;
        seq.map(to_u64).transpose()
    }
}

impl LedgerRead for PgLedger {
    type Error = LedgerError;

    fn anchor(&self) -> Result<Anchor, LedgerError> {
        PgLedger::anchor(self)
    }

    fn read_range(&self, after: u64, limit: u32) -> Result<Vec<Result<Sealed, u64>>, LedgerError> {
        let node = self.node()?;
        let (after, limit) = (to_i64(after)?, i64::from(limit));
        let rows = self.pool.run(about("reading the ledger"), move |c| -> BoxFuture<'_, _> {
            Box::pin(async move {
                c.query(
                    "SELECT seq, body, hash, time_ms, identity, api, operation, decision, code, person \
                     FROM ledger_records WHERE node = $1 AND seq > $2 ORDER BY seq LIMIT $3",
                    &[&node, &after, &limit],
                )
                .await
            })
        })?;
        Ok(rows.iter().map(stored).collect())
    }

    fn checkpoints(&self) -> Result<Vec<Checkpoint>, LedgerError> {
        PgLedger::checkpoints(self)
    }

    fn latest_checkpoint_before(&self, before_ms: i64) -> Result<Option<(u64, Hash)>, LedgerError> {
        self.checkpoint_before(before_ms)
    }

    fn keys(&self) -> Result<Vec<PublicKey>, LedgerError> {
        PgLedger::keys(self)
    }
}

/// A batch as columns, for `UNNEST`.
#[derive(Debug, Default)]
struct Rows {
    seq: Vec<i64>,
    time_ms: Vec<i64>,
    identity: Vec<Option<String>>,
    api: Vec<Option<String>>,
    operation: Vec<Option<String>>,
    decision: Vec<String>,
    code: Vec<Option<String>>,
    person: Vec<Option<String>>,
    body: Vec<String>,
    hash: Vec<Vec<u8>>,
}

/// A row as a record, or its sequence number when it is not one.
fn stored(row: &tokio_postgres::Row) -> Result<Sealed, u64> {
    let seq = row
        .try_get::<_, i64>(0)
        .ok()
        .and_then(|s| u64::try_from(s).ok())
        .unwrap_or(0);
    let read = (|| {
        let body: String = row.try_get(1).ok()?;
        let hash: Vec<u8> = row.try_get(2).ok()?;
        let columns: Columns = (
            row.try_get(3).ok()?,
            row.try_get(4).ok()?,
            row.try_get(5).ok()?,
            row.try_get(6).ok()?,
            row.try_get(7).ok()?,
            row.try_get(8).ok()?,
            row.try_get(9).ok()?,
        );
        Some((body, hash, columns))
    })();
    let Some((body, hash, columns)) = read else {
        return Err(seq);
    };
    checked(seq, body, &hash, columns)
}

fn checkpoint_at(row: Option<tokio_postgres::Row>) -> Result<Option<(u64, Hash)>, LedgerError> {
    let Some(r) = row else { return Ok(None) };
    let seq = to_u64(r.try_get(0).map_err(corrupt)?)?;
    let hash = Hash::from_hex(&r.try_get::<_, String>(1).map_err(corrupt)?)
        .ok_or_else(|| LedgerError::Corrupt("a checkpoint hash".into()))?;
    Ok(Some((seq, hash)))
}

fn corrupt(e: tokio_postgres::Error) -> LedgerError {
    LedgerError::Corrupt(e.to_string())
}

#[cfg(test)]
#[path = "ledger_tests.rs"]
mod tests;
