//! The audit ledger: the backend of `portcullis_audit`'s ledger seam, in a
//! SQLite file (one gateway's chain, [`sqlite`]) or in PostgreSQL (a
//! fleet's: one chain per node, every chain in one database, the store's
//! `postgres::ledger`). [`Ledger`] is the one face both wear; a writer is
//! always one node's chain, a reader may be every node's.
//!
//! One writer ([`writer`], the dedicated thread) per chain and any number of
//! readers (queries, `audit verify`, `audit tail`) on their own connections.
//! What a record means and whether the chain holds is `portcullis_audit`'s
//! to say.

mod query;
pub(crate) mod row;
mod sqlite;
pub mod writer;

use std::path::PathBuf;

use portcullis_audit::{
    Anchor, Checkpoint, Entry, Hash, LedgerRead, LedgerWrite, PublicKey, Report, Sealed,
};
pub use query::{Filter, MAX_PAGE, Page};

use crate::PostgresUrl;
use crate::postgres::ledger::PgLedger;
use sqlite::SqliteLedger;

/// Why the ledger could not be used. The gateway fails closed on it.
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    #[error("the audit ledger: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("the audit ledger: {0}")]
    Store(#[from] crate::StoreError),
    #[error("the audit ledger holds data this build cannot read: {0}")]
    Corrupt(String),
    #[error("the audit ledger: {0}")]
    Unsupported(&'static str),
    #[error("the audit ledger refuses this node's records: {0}")]
    Fenced(String),
}

/// Where the ledger lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    File(PathBuf),
    /// A private in-memory database shared by name within this process
    /// (the demo and tests); it ends when the last connection closes.
    Memory(String),
    /// A fleet's ledger in PostgreSQL: one node's chain (`node`), or every
    /// node's (`None`, readers only). A writer's `fence` is the fleet
    /// register's instance that must hold `node` for a batch to land, so
    /// two processes given one node id never write one chain.
    Postgres {
        url: PostgresUrl,
        node: Option<String>,
        fence: Option<String>,
    },
}

/// How hard a commit is pushed to disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sync {
    /// WAL with `synchronous=NORMAL`: a commit survives the process being
    /// killed; the last commits may be lost if the machine loses power.
    Normal,
    /// `synchronous=FULL`: every commit is on disk before it returns.
    Full,
}

/// One connection to a ledger (a SQLite file, or PostgreSQL).
#[derive(Debug)]
pub struct Ledger(Backend);

#[derive(Debug)]
enum Backend {
    Sqlite(SqliteLedger),
    Postgres(PgLedger),
}

/// Calls the same method on whichever backend this is.
macro_rules! each {
    ($self:expr, $ledger:ident => $call:expr) => {
        match &$self.0 {
            Backend::Sqlite($ledger) => $call,
            Backend::Postgres($ledger) => $call,
        }
    };
    (mut $self:expr, $ledger:ident => $call:expr) => {
        match &mut $self.0 {
            Backend::Sqlite($ledger) => $call,
            Backend::Postgres($ledger) => $call,
        }
    };
}

impl Ledger {
    /// Opens (creating if needed) one chain of the ledger for writing. In
    /// PostgreSQL that is this node's, and the tables are the store's
    /// (created by its migrations).
    ///
    /// # Errors
    /// The file cannot be opened, created or configured; PostgreSQL cannot
    /// be reached; a PostgreSQL location names no node.
    pub fn open(location: &Location, sync: Sync) -> Result<Self, LedgerError> {
        match location {
            Location::Postgres {
                url,
                node: Some(node),
                fence,
            } => Ok(Self(Backend::Postgres(
                PgLedger::open(url.expose(), Some(node))?.fenced(fence.clone()),
            ))),
            Location::Postgres { node: None, .. } => Err(LedgerError::Unsupported(
                "a PostgreSQL ledger is written one node's chain at a time",
            )),
            _ => Ok(Self(Backend::Sqlite(SqliteLedger::open(location, sync)?))),
        }
    }

    /// Opens an existing ledger to read (queries, verification, tail).
    ///
    /// # Errors
    /// The ledger does not exist or cannot be read.
    pub fn open_reader(location: &Location) -> Result<Self, LedgerError> {
        match location {
            Location::Postgres { url, node, .. } => Ok(Self(Backend::Postgres(PgLedger::open(
                url.expose(),
                node.as_deref(),
            )?))),
            _ => Ok(Self(Backend::Sqlite(SqliteLedger::open_reader(location)?))),
        }
    }

    /// The chains this ledger holds: one (`None`) for a SQLite file, each
    /// node's for a PostgreSQL reader of every node.
    ///
    /// # Errors
    /// The ledger cannot be read.
    pub fn nodes(&self) -> Result<Vec<Option<String>>, LedgerError> {
        match &self.0 {
            Backend::Sqlite(_) => Ok(vec![None]),
            Backend::Postgres(pg) => pg.nodes(),
        }
    }

    /// `node`'s chain of a PostgreSQL ledger, on the same connection; `None`
    /// for a SQLite file, which is one chain already.
    pub fn narrowed(&self, node: &str) -> Option<Self> {
        match &self.0 {
            Backend::Postgres(pg) => Some(Self(Backend::Postgres(pg.narrowed(node)))),
            Backend::Sqlite(_) => None,
        }
    }

    /// Where the chain starts: genesis, or the checkpoint it was pruned at.
    ///
    /// # Errors
    /// The ledger cannot be read, or its anchor is not a hash.
    pub fn anchor(&self) -> Result<Anchor, LedgerError> {
        each!(self, l => l.anchor())
    }

    /// The last record's sequence number and hash (the anchor's when empty).
    ///
    /// # Errors
    /// The ledger cannot be read.
    pub fn head(&self) -> Result<(u64, Hash), LedgerError> {
        match each!(self, l => l.last())? {
            Some(last) => Ok(last),
            None => {
                let anchor = self.anchor()?;
                Ok((anchor.seq, anchor.hash))
            }
        }
    }

    /// Writes sealed records (with the entries they seal) in one transaction.
    ///
    /// # Errors
    /// Nothing of the batch is written.
    pub fn append<E: std::borrow::Borrow<Entry>>(
        &mut self,
        batch: &[(Sealed, E)],
    ) -> Result<(), LedgerError> {
        each!(mut self, l => l.append(batch))
    }

    /// Stores a signed checkpoint.
    ///
    /// # Errors
    /// It could not be written.
    pub fn add_checkpoint(&self, checkpoint: &Checkpoint) -> Result<(), LedgerError> {
        each!(self, l => l.add_checkpoint(checkpoint))
    }

    /// Every checkpoint, in sequence order.
    ///
    /// # Errors
    /// The ledger cannot be read.
    pub fn checkpoints(&self) -> Result<Vec<Checkpoint>, LedgerError> {
        each!(self, l => l.checkpoints())
    }

    /// The newest checkpoint whose record is older than `before_ms`:
    /// where an export from `before_ms` starts.
    ///
    /// # Errors
    /// The ledger cannot be read.
    pub fn checkpoint_before(&self, before_ms: i64) -> Result<Option<(u64, Hash)>, LedgerError> {
        each!(self, l => l.checkpoint_before(before_ms))
    }

    /// Publishes a public key in the ledger, for offline verification.
    ///
    /// # Errors
    /// It could not be written, or another key is already published under
    /// the same `kid`.
    pub fn put_key(&self, key: &PublicKey) -> Result<(), LedgerError> {
        each!(self, l => l.put_key(key))
    }

    /// The public keys the ledger names.
    ///
    /// # Errors
    /// The ledger cannot be read or holds a key that is not a JWK.
    pub fn keys(&self) -> Result<Vec<PublicKey>, LedgerError> {
        each!(self, l => l.keys())
    }

    /// Verifies the whole chain with `keys` (the ledger's own when empty),
    /// a page at a time.
    ///
    /// # Errors
    /// The ledger cannot be read.
    pub fn verify(&self, keys: &[PublicKey]) -> Result<Report, LedgerError> {
        portcullis_audit::verify_ledger(self, keys)
    }

    /// Verifies every chain this ledger holds, each on its own: a report
    /// per node (one, `None`, for a SQLite file).
    ///
    /// # Errors
    /// The ledger cannot be read.
    pub fn verify_each(
        &self,
        keys: &[PublicKey],
    ) -> Result<Vec<(Option<String>, Report)>, LedgerError> {
        match &self.0 {
            Backend::Sqlite(_) => Ok(vec![(None, self.verify(keys)?)]),
            Backend::Postgres(pg) => pg
                .nodes()?
                .into_iter()
                .flatten()
                .map(|node| {
                    let chain = Self(Backend::Postgres(pg.narrowed(&node)));
                    Ok((Some(node), chain.verify(keys)?))
                })
                .collect(),
        }
    }

    /// Records after `after`, oldest first, at most `limit`, as stored.
    ///
    /// # Errors
    /// The ledger cannot be read, or a row is not a record.
    pub fn records_after(&self, after: u64, limit: u32) -> Result<Vec<Sealed>, LedgerError> {
        self.read_range(after, limit)?
            .into_iter()
            .map(|row| {
                row.map_err(|seq| LedgerError::Corrupt(format!("record {seq} is not a record")))
            })
            .collect()
    }

    /// Drops every record a checkpoint covers whose newest record is older
    /// than `before_ms`, keeping the chain verifiable: that checkpoint
    /// becomes the anchor. Returns the new anchor's sequence number, if any
    /// records were pruned.
    ///
    /// # Errors
    /// Nothing was pruned.
    pub fn prune(&mut self, before_ms: i64) -> Result<Option<u64>, LedgerError> {
        let target = self.checkpoint_before(before_ms)?;
        each!(mut self, l => l.prune_through(target))
    }

    /// Keeps at most `max` records: drops those up to the oldest checkpoint
    /// that leaves no more than `max` after it.
    ///
    /// # Errors
    /// Nothing was pruned.
    pub fn prune_to(&mut self, max: u64) -> Result<Option<u64>, LedgerError> {
        let (head, _) = self.head()?;
        let anchor = self.anchor()?.seq;
        if head.saturating_sub(anchor) <= max {
            return Ok(None);
        }
        let target = each!(self, l => l.checkpoint_from(head - max))?;
        each!(mut self, l => l.prune_through(target))
    }

    /// The decisions matching `filter`, newest first (across every node of
    /// a PostgreSQL reader, in time order).
    ///
    /// # Errors
    /// The ledger cannot be read, or a matching row is not a record.
    pub fn query(&self, filter: &Filter) -> Result<Page, LedgerError> {
        each!(self, l => l.query(filter))
    }

    /// The sequence number of the first record of this chain written at or
    /// after `since_ms` (by the time index), if any.
    ///
    /// # Errors
    /// The ledger cannot be read.
    pub fn first_since(&self, since_ms: i64) -> Result<Option<u64>, LedgerError> {
        each!(self, l => l.first_since(since_ms))
    }
}

impl LedgerRead for Ledger {
    type Error = LedgerError;

    fn anchor(&self) -> Result<Anchor, LedgerError> {
        Ledger::anchor(self)
    }

    fn read_range(&self, after: u64, limit: u32) -> Result<Vec<Result<Sealed, u64>>, LedgerError> {
        each!(self, l => l.read_range(after, limit))
    }

    fn checkpoints(&self) -> Result<Vec<Checkpoint>, LedgerError> {
        Ledger::checkpoints(self)
    }

    fn latest_checkpoint_before(&self, before_ms: i64) -> Result<Option<(u64, Hash)>, LedgerError> {
        self.checkpoint_before(before_ms)
    }

    fn keys(&self) -> Result<Vec<PublicKey>, LedgerError> {
        Ledger::keys(self)
    }
}

impl LedgerWrite for Ledger {
    fn head(&self) -> Result<(u64, Hash), LedgerError> {
        Ledger::head(self)
    }

    fn append_batch(&mut self, batch: &[(Sealed, &Entry)]) -> Result<(), LedgerError> {
        self.append(batch)
    }

    fn add_checkpoint(&mut self, checkpoint: &Checkpoint) -> Result<(), LedgerError> {
        Ledger::add_checkpoint(self, checkpoint)
    }

    fn publish_key(&mut self, key: &PublicKey) -> Result<(), LedgerError> {
        self.put_key(key)
    }
}

/// Whether the key stored under `key`'s kid (`stored`, a JWK) is `key`:
/// a ledger never holds two keys under one kid.
pub(crate) fn published_as(stored: &str, key: &PublicKey) -> Result<(), LedgerError> {
    let same = serde_json::from_str(stored)
        .ok()
        .and_then(|v| PublicKey::from_jwk(&v).ok())
        .is_some_and(|k| k == *key);
    if same {
        Ok(())
    } else {
        Err(LedgerError::Corrupt(format!(
            "another key is already published as `{}`",
            key.kid
        )))
    }
}

/// The public keys stored as JWK texts (either backend's `keys`).
pub(crate) fn keys_from_jwks(texts: Vec<String>) -> Result<Vec<PublicKey>, LedgerError> {
    texts
        .iter()
        .map(|t| {
            serde_json::from_str(t)
                .ok()
                .and_then(|v| PublicKey::from_jwk(&v).ok())
                .ok_or_else(|| LedgerError::Corrupt("a key is not an Ed25519 JWK".into()))
        })
        .collect()
}

pub(crate) fn to_i64(n: u64) -> Result<i64, LedgerError> {
    i64::try_from(n).map_err(|_| LedgerError::Corrupt("sequence number out of range".into()))
}

pub(crate) fn to_u64(n: i64) -> Result<u64, LedgerError> {
    u64::try_from(n).map_err(|_| LedgerError::Corrupt("negative sequence number".into()))
}

pub(crate) fn to_hash(bytes: &[u8]) -> Result<Hash, LedgerError> {
    let array: [u8; 32] = bytes
        .try_into()
        .map_err(|_| LedgerError::Corrupt("a hash is not 32 bytes".into()))?;
    Ok(Hash(array))
}

#[cfg(test)]
mod tests;
