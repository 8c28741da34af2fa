//! Opening a store only to read it, for commands that must leave it as
//! they found it (`explain`, `verify`, `audit verify`): never created,
//! never migrated, never written.
//!
//! The connection is opened read-write without the create flag and then
//! set `query_only`, rather than opened read-only: a read-only connection
//! cannot checkpoint, so when it is the last to close it leaves the `-wal`
//! and `-shm` files behind, while this one removes them as any last
//! connection does. SQLite refuses every statement that would write
//! (`Unavailable`), and opening never creates the file.

use std::path::Path;

use rusqlite::{Connection, OpenFlags};

use super::fault::Fault;
use super::{BUSY_TIMEOUT, SqliteStore, migrations};
use crate::StoreError;

const OPENING: &str = "opening the database to read it";

impl SqliteStore {
    /// Opens an existing database file to read it, as it is. A missing
    /// file, or one at another schema version than this build's, is
    /// `Unavailable`: a newer one needs a newer build, an older one is
    /// upgraded by a command that writes the store (`portcullis serve`).
    pub fn open_read_only(path: &Path) -> Result<Self, StoreError> {
        // No URI flag: the path is a file name, never `file:...?mode=...`.
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags)
            .map_err(|e| Fault::from(e).into_store_error(OPENING))?;
        configure(&conn).map_err(|f| f.into_store_error(OPENING))?;
        let current =
            migrations::current_version(&conn).map_err(|f| f.into_store_error(OPENING))?;
        migrations::require_latest(current).map_err(|f| f.into_store_error(OPENING))?;
        Ok(Self {
            conn: std::sync::Mutex::new(conn),
            location: path.display().to_string(),
        })
    }
}

/// Reading pragmas only: the journal mode is the file's own, whatever it
/// is (setting it would write).
fn configure(conn: &Connection) -> Result<(), Fault> {
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.pragma_update(None, "query_only", "ON")?;
    let query_only: bool = conn.pragma_query_value(None, "query_only", |row| row.get(0))?;
    if !query_only {
        return Err(Fault::Store(StoreError::unavailable(
            OPENING,
            "the connection could not be made read-only",
        )));
    }
    conn.pragma_update(None, "foreign_keys", "ON")?;
    Ok(())
}

#[cfg(test)]
mod tests;
