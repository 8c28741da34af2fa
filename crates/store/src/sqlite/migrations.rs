//! Versioned schema migrations. `schema_version` holds one row per applied
//! migration; the database is at the highest. Opening applies the missing
//! ones in one transaction, and refuses a database from a newer build rather
//! than run against a schema it does not know.
//!
//! A migration is append-only: never edit one that has shipped.

use rusqlite::{Connection, TransactionBehavior};

use super::fault::Fault;
use crate::StoreError;

/// Every migration, in order: (version, SQL).
const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("migrations/0001_initial.sql")),
    (2, include_str!("migrations/0002_upstream_credentials.sql")),
    (3, include_str!("migrations/0003_audit_key.sql")),
    (4, include_str!("migrations/0004_state_changes.sql")),
    (5, include_str!("migrations/0005_nodes.sql")),
];

/// The schema version this build writes.
pub(super) fn latest() -> i64 {
    MIGRATIONS.last().map_or(0, |(version, _)| *version)
}

/// The version the database is at: 0 for a fresh one.
pub(super) fn current_version(conn: &Connection) -> Result<i64, Fault> {
    let exists: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM sqlite_schema \
         WHERE type = 'table' AND name = 'schema_version')",
        [],
        |row| row.get(0),
    )?;
    if !exists {
        return Ok(0);
    }
    Ok(conn.query_row(
        "SELECT COALESCE(MAX(version), 0) FROM schema_version",
        [],
        |row| row.get(0),
    )?)
}

/// Brings the database to [`latest`]. Reads only when it is already there,
/// so a read-only database at the latest version still opens.
pub(super) fn migrate(conn: &mut Connection) -> Result<(), Fault> {
    if check(current_version(conn)?)? {
        return Ok(());
    }
    // IMMEDIATE: take the write lock before re-reading the version, so two
    // processes opening a fresh file cannot both apply migration 1.
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let current = current_version(&tx)?;
    if check(current)? {
        return Ok(());
    }
    tx.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_version \
         (version INTEGER PRIMARY KEY NOT NULL) STRICT",
    )?;
    for (version, sql) in MIGRATIONS.iter().filter(|(v, _)| *v > current) {
        tx.execute_batch(sql)?;
        tx.execute(
            "INSERT INTO schema_version (version) VALUES (?1)",
            [version],
        )?;
    }
    tx.commit()?;
    Ok(())
}

/// `Ok` when `current` is the latest version; otherwise why a store at
/// `current` cannot be read without migrating it.
pub(super) fn require_latest(current: i64) -> Result<(), Fault> {
    let latest = latest();
    if check(current)? {
        return Ok(());
    }
    let detail = if current == 0 {
        "the file holds no Portcullis store (it has no schema version)".to_owned()
    } else {
        format!(
            "the database schema is at version {current}, older than this build's ({latest}); \
             reading it would need a migration, which only a command that writes the store \
             does (`portcullis serve`)"
        )
    };
    Err(Fault::Store(StoreError::unavailable(
        "opening the database to read it",
        detail,
    )))
}

/// Whether `current` is the latest version; an error if it is newer.
fn check(current: i64) -> Result<bool, Fault> {
    let latest = latest();
    if current > latest {
        return Err(Fault::Store(StoreError::unavailable(
            "opening the database",
            format!(
                "the database schema is at version {current}, newer than this build \
                 supports ({latest}): upgrade Portcullis"
            ),
        )));
    }
    Ok(current == latest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_strictly_increasing_from_one() {
        let versions: Vec<i64> = MIGRATIONS.iter().map(|(v, _)| *v).collect();
        let expected: Vec<i64> = (1..=latest()).collect();
        assert_eq!(versions, expected);
    }
}
