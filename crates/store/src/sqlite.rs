//! The embedded SQLite store: one database file in WAL mode, one connection
//! behind a mutex, versioned migrations applied at open (or, opened only to
//! read, none: `read_only`).
//!
//! Every failure becomes a [`StoreError`]; a poisoned lock or a database
//! from a newer build is `Unavailable`, never a panic and never a silent
//! downgrade.

mod changes;
mod credentials;
mod decode;
mod fault;
mod identities;
mod keys;
mod migrations;
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
use changes::{Changes, Seen};
use fault::Fault;

/// How long a statement waits for another process's write lock before the
/// store reports `Unavailable`.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The embedded SQLite implementation of [`crate::Store`].
pub struct SqliteStore {
    // INVARIANT: configured (pragmas) and migrated to the latest schema.
    conn: Mutex<Connection>,
    /// The data version last read, and what says whether it may have moved
    /// since (`changes.rs`). Locked before `conn`, never after.
    version: Mutex<Version>,
    /// For `Debug` only: the file path, or `:memory:`.
    location: String,
}

#[derive(Default)]
struct Version {
    changes: Option<Changes>,
    known: Option<i64>,
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
        let mut store = Self::init(conn, path.display().to_string(), true)?;
        // After `init`: its migrations have made the `-wal` file.
        if let Ok(version) = store.version.get_mut() {
            version.changes = Changes::watch(path);
        }
        Ok(store)
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
            version: Mutex::default(),
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
        const ACTION: &str = "reading the data version";
        let mut version = self
            .version
            .lock()
            .map_err(|_| StoreError::unavailable(ACTION, "the version lock is poisoned"))?;
        let Version { changes, known } = &mut *version;
        // The look comes first: a commit after it is either in what SQLite
        // answers next or queues an event the next look finds.
        let quiet = match changes.as_mut().map(Changes::look) {
            Some(Seen::Nothing) => true,
            Some(Seen::Something) | None => false,
            Some(Seen::Lost) => {
                tracing::info!(store = %self.location, "the store's files are no longer watched; reading its data version from SQLite on every request");
                *changes = None;
                false
            }
        };
        if let (true, Some(known)) = (quiet, *known) {
            return Ok(known);
        }
        // Forgotten first: if SQLite fails now, the next call asks again
        // rather than trusting a look that has already taken the event.
        *known = None;
        // Asked on most requests when unwatched: the statement is kept.
        let read = self.run(ACTION, |conn| {
            Ok(conn
                .prepare_cached("PRAGMA data_version")?
                .query_row([], |row| row.get(0))?)
        })?;
        *known = Some(read);
        Ok(read)
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
