//! The embedded SQLite store: one database file in WAL mode, one connection
//! behind a mutex, versioned migrations applied at open (or, opened only to
//! read, none: `read_only`).
//!
//! Every failure becomes a [`StoreError`]; a poisoned lock or a database
//! from a newer build is `Unavailable`, never a panic and never a silent
//! downgrade.

mod credentials;
mod decode;
mod fault;
mod identities;
mod keys;
mod migrations;
mod nodes;
mod read_only;
mod revocations;
#[cfg(test)]
mod tests;
mod upstream;

use std::fmt;
use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use crate::StoreError;
use fault::Fault;

/// How long a statement waits for another process's write lock before the
/// store reports `Unavailable`.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The embedded SQLite implementation of [`crate::Store`].
pub struct SqliteStore {
    // INVARIANT: configured (pragmas) and migrated to the latest schema.
    conn: Mutex<Connection>,
    /// For `Debug` only: the file path, or `:memory:`.
    location: String,
}

impl fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqliteStore")
            .field("location", &self.location)
            .finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// Opens the database file, creating it if missing, and migrates it.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        // No URI flag: the path is a file name, never `file:...?mode=...`.
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags)
            .map_err(|e| Fault::from(e).into_store_error(OPENING))?;
        Self::init(conn, path.display().to_string(), true)
    }

    /// A private database that lives as long as the store (tests, demo).
    pub fn open_in_memory() -> Result<Self, StoreError> {
        let conn =
            Connection::open_in_memory().map_err(|e| Fault::from(e).into_store_error(OPENING))?;
        Self::init(conn, ":memory:".to_owned(), false)
    }

    /// The schema version the database is at.
    pub fn schema_version(&self) -> Result<i64, StoreError> {
        self.run("reading the schema version", |conn| {
            migrations::current_version(conn)
        })
    }

    fn init(mut conn: Connection, location: String, file: bool) -> Result<Self, StoreError> {
        configure(&conn, file).map_err(|f| f.into_store_error(OPENING))?;
        migrations::migrate(&mut conn).map_err(|f| f.into_store_error(OPENING))?;
        Ok(Self {
            conn: Mutex::new(conn),
            location,
        })
    }

    /// Runs `f` on the connection, naming `action` in any error.
    fn run<T>(
        &self,
        action: &'static str,
        f: impl FnOnce(&mut Connection) -> Result<T, Fault>,
    ) -> Result<T, StoreError> {
        // A panic while the lock was held cannot have left a half-applied
        // change (SQLite rolls back), but the caller asked for a clean stop:
        // report it rather than guess.
        let mut conn = self
            .conn
            .lock()
            .map_err(|_| StoreError::unavailable(action, "the connection lock is poisoned"))?;
        f(&mut conn).map_err(|fault| fault.into_store_error(action))
    }

    /// Runs `f` and reports `NotFound` when it changed no row.
    fn change_one(
        &self,
        action: &'static str,
        what: &'static str,
        id: &str,
        f: impl FnOnce(&mut Connection) -> Result<usize, Fault>,
    ) -> Result<(), StoreError> {
        match self.run(action, f)? {
            0 => Err(StoreError::not_found(what, id)),
            _ => Ok(()),
        }
    }

    #[cfg(test)]
    fn lock_for_test(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.conn
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl crate::store::ChangeStore for SqliteStore {
    fn data_version(&self) -> Result<i64, StoreError> {
        // Asked on every request: the statement is prepared once and kept.
        // SQLite itself is asked each time. A watch on the files cannot
        // stand in for it: a commit writes its log frames (the file event)
        // before it publishes them in the shared-memory index (no event),
        // so a look between the two would take the event, read the old
        // version and keep serving it (tried on 2026-12-04 and taken out).
        self.run("reading the data version", |conn| {
            Ok(conn
                .prepare_cached("PRAGMA data_version")?
                .query_row([], |row| row.get(0))?)
        })
    }

    fn check_writable(&self) -> Result<(), StoreError> {
        // Taking the write lock and letting it go proves a write would be
        // accepted, without writing anything.
        self.run("checking the store is writable", |conn| {
            conn.execute_batch("BEGIN IMMEDIATE; ROLLBACK;")?;
            Ok(())
        })
    }
}

const OPENING: &str = "opening the database";

fn configure(conn: &Connection, file: bool) -> Result<(), Fault> {
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    // Overwrite deleted content (retired private keys, revoked credentials)
    // rather than leave it in free pages.
    conn.pragma_update(None, "secure_delete", "ON")?;
    let mode: String =
        conn.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))?;
    // An in-memory database has no WAL; a file must have one, or readers
    // would block on the writer.
    if file && !mode.eq_ignore_ascii_case("wal") {
        return Err(Fault::Store(StoreError::unavailable(
            OPENING,
            format!("the journal mode could not be set to wal (it is `{mode}`)"),
        )));
    }
    // NORMAL is durable across application crashes in WAL mode; a power
    // loss may roll back the last transactions, never corrupt the file.
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    let foreign_keys: bool = conn.pragma_query_value(None, "foreign_keys", |row| row.get(0))?;
    if !foreign_keys {
        return Err(Fault::Store(StoreError::unavailable(
            OPENING,
            "foreign keys could not be enabled",
        )));
    }
    Ok(())
}
