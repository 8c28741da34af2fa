//! Versioned schema migrations for the PostgreSQL store, applied once
//! however many gateways start together: each start takes a transaction-
//! scoped advisory lock before it reads the version, so one node migrates
//! and the others find the work done. A database from a newer build (a
//! version this build does not know) is refused with the reason, never
//! written to.
//!
//! A migration is append-only: never edit one that has shipped.

use tokio_postgres::Client;

use crate::StoreError;

/// Every migration, in order: (version, SQL).
const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("migrations/0001_schema.sql")),
    (2, include_str!("migrations/0002_version.sql")),
    (3, include_str!("migrations/0003_notify.sql")),
    (4, include_str!("migrations/0004_nodes.sql")),
    (5, include_str!("migrations/0005_ledger.sql")),
];

/// The advisory lock every node takes to migrate: one number, the same in
/// every build ("portcull" in ASCII).
const LOCK: i64 = 0x706f_7274_6375_6c6c;

/// The schema version this build writes.
pub fn latest() -> i64 {
    MIGRATIONS.last().map_or(0, |(version, _)| *version)
}

fn unavailable(action: &'static str, e: &tokio_postgres::Error) -> StoreError {
    StoreError::unavailable(action, e.to_string())
}

/// Brings the database to [`latest`], or refuses one from a newer build.
///
/// # Errors
/// PostgreSQL cannot be reached or refused a statement (`Unavailable`); the
/// database is at a version this build does not know (`Unavailable`, saying
/// which, so a node running an older build never serves from it).
pub async fn migrate(client: &mut Client) -> Result<(), StoreError> {
    const ACTION: &str = "migrating the PostgreSQL store";
    let tx = client
        .transaction()
        .await
        .map_err(|e| unavailable(ACTION, &e))?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&LOCK])
        .await
        .map_err(|e| unavailable(ACTION, &e))?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS portcullis_schema_version (version BIGINT PRIMARY KEY)",
    )
    .await
    .map_err(|e| unavailable(ACTION, &e))?;
    let current: i64 = tx
        .query_one(
            "SELECT COALESCE(MAX(version), 0) FROM portcullis_schema_version",
            &[],
        )
        .await
        .map_err(|e| unavailable(ACTION, &e))?
        .get(0);
    let latest = latest();
    if current > latest {
        // Explicitly: the advisory lock goes with the transaction.
        tx.rollback().await.map_err(|e| unavailable(ACTION, &e))?;
        return Err(StoreError::unavailable(
            ACTION,
            format!(
                "the database is at schema version {current}, newer than this build's {latest}: run the Portcullis that wrote it, or a newer one"
            ),
        ));
    }
    for (version, sql) in MIGRATIONS.iter().filter(|(v, _)| *v > current) {
        tx.batch_execute(sql)
            .await
            .map_err(|e| unavailable(ACTION, &e))?;
        tx.execute(
            "INSERT INTO portcullis_schema_version (version) VALUES ($1)",
            &[version],
        )
        .await
        .map_err(|e| unavailable(ACTION, &e))?;
    }
    tx.commit().await.map_err(|e| unavailable(ACTION, &e))
}

/// The version the database is at (0 before the first migration).
///
/// # Errors
/// PostgreSQL cannot be reached.
pub async fn current_version(client: &Client) -> Result<i64, StoreError> {
    const ACTION: &str = "reading the PostgreSQL store's schema version";
    let exists: bool = client
        .query_one(
            "SELECT to_regclass('portcullis_schema_version') IS NOT NULL",
            &[],
        )
        .await
        .map_err(|e| unavailable(ACTION, &e))?
        .get(0);
    if !exists {
        return Ok(0);
    }
    Ok(client
        .query_one(
            "SELECT COALESCE(MAX(version), 0) FROM portcullis_schema_version",
            &[],
        )
        .await
        .map_err(|e| unavailable(ACTION, &e))?
        .get(0))
}
