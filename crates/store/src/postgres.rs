//! The PostgreSQL store, for a fleet of gateways on one database (issue 18,
//! being built): this step has the schema and its migrations, applied once
//! under an advisory lock however many nodes start together, and refusing
//! a database from a newer build. `storage: postgres://` is still refused
//! by the configuration until the store traits are implemented here.

pub mod migrations;

use tokio_postgres::{Client, NoTls};

use crate::StoreError;

/// Connects to `url` (`postgres://user@host:port/database`) and spawns the
/// connection's task on the current runtime.
///
/// # Errors
/// PostgreSQL cannot be reached, or refused the connection (`Unavailable`).
pub async fn connect(url: &str) -> Result<Client, StoreError> {
    let (client, connection) = tokio_postgres::connect(url, NoTls)
        .await
        .map_err(|e| StoreError::unavailable("connecting to PostgreSQL", e.to_string()))?;
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            tracing::warn!(error = %e, "the PostgreSQL connection ended");
        }
    });
    Ok(client)
}

#[cfg(test)]
mod testdb;
#[cfg(test)]
mod tests;
