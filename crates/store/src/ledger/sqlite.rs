//! The audit ledger in a SQLite file, in WAL mode (or a named in-memory
//! database for the demo and tests): one node's chain. Records are stored
//! as their canonical text with its hash; a few fields are copied into
//! indexed columns for queries, and reading a row checks those copies
//! against the text, so editing a column is caught like editing the record.

use std::time::Duration;

use rusqlite::{Connection, OpenFlags, OptionalExtension, params};

use portcullis_audit::{Anchor, Checkpoint, Entry, Hash, LedgerRead, PublicKey, Sealed};

use super::{LedgerError, Location, Sync, row, to_hash, to_i64, to_u64};

const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Copy the log into the database file every this many pages (SQLite's
/// default is 1,000). The copy is a burst of CPU on the writer's thread, and
/// on a gateway sharing its core a 4 MB burst showed as its requests' tail:
/// at 32 connections p99 4.8-5.6 ms against 6.7-7.2 ms with the default, at
/// one connection 1.5-1.6 ms against 2.2-2.9 ms (BENCHMARKS.md, 2026-12-04).
/// Each copy moves fewer pages (a page rewritten between two copies is
/// copied twice) and ends with an fsync, so there are more, shorter bursts;
/// the log file stays near 400 KB.
const CHECKPOINT_PAGES: u32 = 100;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;
CREATE TABLE IF NOT EXISTS records (
    seq INTEGER PRIMARY KEY,
    time_ms INTEGER NOT NULL,
    identity TEXT,
    api TEXT,
    operation TEXT,
    decision TEXT NOT NULL,
    code TEXT,
    body TEXT NOT NULL,
    hash BLOB NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS records_time ON records (time_ms);
CREATE INDEX IF NOT EXISTS records_identity ON records (identity, seq);
-- `person` (whom a delegated request acted for) is added by `row::add_person`,
-- which also indexes it: a ledger from before it gains the column there.
CREATE TABLE IF NOT EXISTS checkpoints (
    seq INTEGER PRIMARY KEY,
    hash TEXT NOT NULL,
    time_ms INTEGER NOT NULL,
    kid TEXT NOT NULL,
    signature TEXT NOT NULL
) STRICT;
CREATE TABLE IF NOT EXISTS keys (kid TEXT PRIMARY KEY, jwk TEXT NOT NULL) STRICT;
";

/// One connection to a SQLite ledger.
#[derive(Debug)]
pub(crate) struct SqliteLedger {
    conn: Connection,
    /// Whether `records` has the `person` column (a ledger written before
    /// delegation, opened to read, does not).
    has_person: bool,
}

impl SqliteLedger {
    /// Opens (creating if needed) the ledger for writing.
    ///
    /// # Errors
    /// The file cannot be opened, created or configured.
    pub(crate) fn open(location: &Location, sync: Sync) -> Result<Self, LedgerError> {
        let conn = connect(location, false)?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        if matches!(location, Location::File(_)) {
            conn.pragma_update(None, "journal_mode", "WAL")?;
        }
        let level = match sync {
            Sync::Normal => "NORMAL",
            Sync::Full => "FULL",
        };
        conn.pragma_update(None, "synchronous", level)?;
        conn.pragma_update(None, "wal_autocheckpoint", CHECKPOINT_PAGES)?;
        conn.execute_batch(SCHEMA)?;
        row::add_person(&conn)?;
        Ok(Self {
            conn,
            has_person: true,
        })
    }

    /// Opens an existing ledger to read (queries, verification, tail).
    ///
    /// # Errors
    /// The ledger does not exist or cannot be read.
    pub(crate) fn open_reader(location: &Location) -> Result<Self, LedgerError> {
        let conn = connect(location, true)?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        let has_person = row::has_person(&conn)?;
        Ok(Self { conn, has_person })
    }

    /// Where the chain starts: genesis, or the checkpoint it was pruned at.
    ///
    /// # Errors
    /// The ledger cannot be read, or its anchor is not a hash.
    pub(crate) fn anchor(&self) -> Result<Anchor, LedgerError> {
        let get = |key: &str| -> Result<Option<String>, LedgerError> {
            Ok(self
                .conn
                .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
                .optional()?)
        };
        match (get("anchor_seq")?, get("anchor_hash")?) {
            (Some(seq), Some(hash)) => Ok(Anchor {
                seq: seq
                    .parse()
                    .map_err(|_| LedgerError::Corrupt("anchor_seq".into()))?,
                hash: Hash::from_hex(&hash)
                    .ok_or_else(|| LedgerError::Corrupt("anchor_hash".into()))?,
            }),
            _ => Ok(Anchor::GENESIS),
        }
    }

    /// The last record's sequence number and hash, if any record is left.
    pub(crate) fn last(&self) -> Result<Option<(u64, Hash)>, LedgerError> {
        let last: Option<(i64, Vec<u8>)> = self
            .conn
            .query_row(
                "SELECT seq, hash FROM records ORDER BY seq DESC LIMIT 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        last.map(|(seq, hash)| Ok((to_u64(seq)?, to_hash(&hash)?)))
            .transpose()
    }

    /// Writes sealed records (with the entries they seal) in one transaction.
    ///
    /// # Errors
    /// Nothing of the batch is written.
    pub(crate) fn append<E: std::borrow::Borrow<Entry>>(
        &mut self,
        batch: &[(Sealed, E)],
    ) -> Result<(), LedgerError> {
        let tx = self.conn.transaction()?;
        {
            // Cached: the writer appends many times a second, and parsing
            // the statement each time showed in its profile.
            let mut insert = tx.prepare_cached(
                "INSERT INTO records (seq, time_ms, identity, api, operation, decision, code, body, hash, person)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            )?;
            for (sealed, entry) in batch {
                let entry: &Entry = entry.borrow();
                insert.execute(params![
                    to_i64(sealed.seq)?,
                    entry.time_ms,
                    entry.identity,
                    entry.api,
                    entry.operation,
                    entry.decision,
                    entry.code,
                    sealed.body,
                    sealed.hash.0.as_slice(),
                    entry.on_behalf_of.as_ref().map(|o| o.person.as_str()),
                ])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Stores a signed checkpoint.
    ///
    /// # Errors
    /// It could not be written.
    pub(crate) fn add_checkpoint(&self, checkpoint: &Checkpoint) -> Result<(), LedgerError> {
        self.conn.execute(
            "INSERT OR REPLACE INTO checkpoints (seq, hash, time_ms, kid, signature) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                to_i64(checkpoint.seq)?,
                checkpoint.hash,
                checkpoint.time_ms,
                checkpoint.kid,
                checkpoint.signature
            ],
        )?;
        Ok(())
    }

    /// Every checkpoint, in sequence order.
    ///
    /// # Errors
    /// The ledger cannot be read.
    pub(crate) fn checkpoints(&self) -> Result<Vec<Checkpoint>, LedgerError> {
        let mut stmt = self
            .conn
            .prepare("SELECT seq, hash, time_ms, kid, signature FROM checkpoints ORDER BY seq")?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (seq, hash, time_ms, kid, signature) = row?;
            out.push(Checkpoint {
                seq: to_u64(seq)?,
                hash,
                time_ms,
                kid,
                signature,
            });
        }
        Ok(out)
    }

    /// The newest checkpoint whose record is older than `before_ms`:
    /// where an export from `before_ms` starts.
    ///
    /// # Errors
    /// The ledger cannot be read.
    pub(crate) fn checkpoint_before(
        &self,
        before_ms: i64,
    ) -> Result<Option<(u64, Hash)>, LedgerError> {
        let found: Option<(i64, String)> = self
            .conn
            .query_row(
                "SELECT c.seq, c.hash FROM checkpoints c JOIN records r ON r.seq = c.seq
                 WHERE r.time_ms < ?1 ORDER BY c.seq DESC LIMIT 1",
                [before_ms],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        match found {
            None => Ok(None),
            Some((seq, hash)) => Ok(Some((
                to_u64(seq)?,
                Hash::from_hex(&hash)
                    .ok_or_else(|| LedgerError::Corrupt("a checkpoint hash".into()))?,
            ))),
        }
    }

    /// Publishes a public key in the ledger, for offline verification.
    ///
    /// # Errors
    /// It could not be written.
    /// # Errors
    /// (Also) another key is already published under the same `kid`.
    pub(crate) fn put_key(&self, key: &PublicKey) -> Result<(), LedgerError> {
        let jwk = key.to_jwk().to_string();
        self.conn.execute(
            "INSERT OR IGNORE INTO keys (kid, jwk) VALUES (?1, ?2)",
            params![key.kid, jwk],
        )?;
        let stored: String =
            self.conn
                .query_row("SELECT jwk FROM keys WHERE kid = ?1", [&key.kid], |r| {
                    r.get(0)
                })?;
        crate::ledger::published_as(&stored, key)
    }

    /// The public keys the ledger names.
    ///
    /// # Errors
    /// The ledger cannot be read or holds a key that is not a JWK.
    pub(crate) fn keys(&self) -> Result<Vec<PublicKey>, LedgerError> {
        let mut stmt = self.conn.prepare("SELECT jwk FROM keys ORDER BY kid")?;
        let texts = stmt.query_map([], |r| r.get::<_, String>(0))?;
        super::keys_from_jwks(texts.collect::<Result<Vec<_>, _>>()?)
    }

    /// The oldest checkpoint at or after record `floor` (still in the
    /// chain): where pruning to a size stops.
    pub(crate) fn checkpoint_from(&self, floor: u64) -> Result<Option<(u64, Hash)>, LedgerError> {
        let target: Option<(i64, String)> = self
            .conn
            .query_row(
                "SELECT c.seq, c.hash FROM checkpoints c JOIN records r ON r.seq = c.seq
                 WHERE c.seq >= ?1 ORDER BY c.seq LIMIT 1",
                [to_i64(floor)?],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        match target {
            None => Ok(None),
            Some((seq, hash)) => Ok(Some((
                to_u64(seq)?,
                Hash::from_hex(&hash)
                    .ok_or_else(|| LedgerError::Corrupt("a checkpoint hash".into()))?,
            ))),
        }
    }

    /// Drops the records through `target` (a checkpoint), which becomes
    /// the anchor; nothing when it is not past the anchor.
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
        let at = to_i64(seq)?;
        let tx = self.conn.transaction()?;
        tx.execute("DELETE FROM records WHERE seq <= ?1", [at])?;
        tx.execute("DELETE FROM checkpoints WHERE seq < ?1", [at])?;
        tx.execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES ('anchor_seq', ?1), ('anchor_hash', ?2)",
            params![seq.to_string(), hash.to_hex()],
        )?;
        tx.commit()?;
        Ok(Some(seq))
    }

    pub(super) fn conn(&self) -> &Connection {
        &self.conn
    }

    /// Whether the `person` column is there to filter on.
    pub(super) fn has_person(&self) -> bool {
        self.has_person
    }
}

impl LedgerRead for SqliteLedger {
    type Error = LedgerError;

    fn anchor(&self) -> Result<Anchor, LedgerError> {
        SqliteLedger::anchor(self)
    }

    fn read_range(&self, after: u64, limit: u32) -> Result<Vec<Result<Sealed, u64>>, LedgerError> {
        let mut stmt = self.conn.prepare_cached(if self.has_person {
            "SELECT seq, body, hash, time_ms, identity, api, operation, decision, code, person
             FROM records WHERE seq > ?1 ORDER BY seq LIMIT ?2"
        } else {
            "SELECT seq, body, hash, time_ms, identity, api, operation, decision, code, NULL
             FROM records WHERE seq > ?1 ORDER BY seq LIMIT ?2"
        })?;
        let rows = stmt.query_map(params![to_i64(after)?, limit], |r| Ok(row::stored(r)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn checkpoints(&self) -> Result<Vec<Checkpoint>, LedgerError> {
        SqliteLedger::checkpoints(self)
    }

    fn latest_checkpoint_before(&self, before_ms: i64) -> Result<Option<(u64, Hash)>, LedgerError> {
        self.checkpoint_before(before_ms)
    }

    fn keys(&self) -> Result<Vec<PublicKey>, LedgerError> {
        SqliteLedger::keys(self)
    }
}

fn connect(location: &Location, read_only: bool) -> Result<Connection, LedgerError> {
    let base = if read_only {
        OpenFlags::SQLITE_OPEN_READ_ONLY
    } else {
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE
    } | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    Ok(match location {
        Location::File(path) => Connection::open_with_flags(path, base)?,
        // A named in-memory database, shared by every connection of this
        // process that names it.
        Location::Memory(name) => Connection::open_with_flags(
            format!("file:{name}?mode=memory&cache=shared"),
            base | OpenFlags::SQLITE_OPEN_URI,
        )?,
        Location::Postgres { .. } => {
            return Err(LedgerError::Corrupt(
                "a PostgreSQL ledger is not a SQLite file".into(),
            ));
        }
    })
}
