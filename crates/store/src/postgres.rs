//! The PostgreSQL store, for a fleet of gateways on one database (issue 18,
//! being built): every store trait (`identities.rs`, `records.rs`, `keys.rs`, `revocations.rs`) over a
//! few connection threads (`pool.rs`), the schema and its migrations,
//! applied once under an advisory lock however many nodes start together,
//! refusing a database from a newer build. It passes the same behaviour
//! suite as SQLite. Every node learns of another's change through its
//! change feed (`feed.rs`: LISTEN/NOTIFY, with a poll as the safety net),
//! and refuses once the feed has not heard from PostgreSQL for a while.

mod feed;
mod identities;
mod keys;
pub(crate) mod ledger;
pub mod migrations;
mod nodes;
mod pool;
mod records;
mod revocations;

use tokio_postgres::types::FromSql;
use tokio_postgres::{Client, NoTls, Row};

use crate::StoreError;
use pool::{About, BoxFuture, Pool};

/// Connection threads per store.
const CONNECTIONS: usize = 4;

/// Every store trait on one PostgreSQL database.
pub struct PostgresStore {
    pool: Pool,
    /// The store's version as the change feed last read it (`None` for a
    /// store attached by a read-only command, which asks each time).
    feed: Option<std::sync::Arc<feed::Feed>>,
}

impl Drop for PostgresStore {
    fn drop(&mut self) {
        if let Some(feed) = &self.feed {
            feed.stop();
        }
    }
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the URL: it may carry a password.
        f.debug_struct("PostgresStore").finish_non_exhaustive()
    }
}

impl PostgresStore {
    /// Opens the store at `url`: migrates the database (once, however many
    /// nodes do this together) and starts the connection threads.
    ///
    /// # Errors
    /// PostgreSQL cannot be reached, or holds a newer build's schema.
    pub fn open(url: &str) -> Result<Self, StoreError> {
        Self::open_stale_after(url, feed::STALE)
    }

    /// As [`PostgresStore::open`], refusing (`unavailable`) once the change
    /// feed has not heard from PostgreSQL for `stale_after` (`fleet.stale_after`).
    ///
    /// # Errors
    /// PostgreSQL cannot be reached, or holds a newer build's schema.
    pub fn open_stale_after(
        url: &str,
        stale_after: std::time::Duration,
    ) -> Result<Self, StoreError> {
        let pool = Pool::start(url, CONNECTIONS)?;
        let about = About {
            action: "migrating the PostgreSQL store",
            what: "schema",
            id: "",
        };
        let migrated = pool.run(about, |c| -> BoxFuture<'_, _> {
            Box::pin(async move { Ok(migrations::migrate(c).await) })
        })?;
        migrated?;
        let feed = feed::Feed::start(url, stale_after)?;
        feed.wait_first(std::time::Duration::from_secs(2));
        Ok(Self {
            pool,
            feed: Some(feed),
        })
    }
}

impl PostgresStore {
    /// Opens the store at `url` as it is, for commands that only read:
    /// never migrated, and refused unless its schema is this build's.
    ///
    /// # Errors
    /// PostgreSQL cannot be reached, or holds another build's schema.
    pub fn attach(url: &str) -> Result<Self, StoreError> {
        let pool = Pool::start(url, 1)?;
        let about = About {
            action: "reading the PostgreSQL store's schema version",
            what: "schema",
            id: "",
        };
        let version = pool.run(about, |c| -> BoxFuture<'_, _> {
            Box::pin(async move { Ok(migrations::current_version(c).await) })
        })??;
        let latest = migrations::latest();
        if version != latest {
            return Err(StoreError::unavailable(
                about.action,
                format!(
                    "the database is at schema version {version}, this build reads {latest}: start the gateway (`serve`) to upgrade an older one"
                ),
            ));
        }
        Ok(Self { pool, feed: None })
    }
}

/// Column `i` of `row`, or `Corrupt` naming `what` (never a panic).
fn col<'a, T: FromSql<'a>>(row: &'a Row, i: usize, what: &'static str) -> Result<T, StoreError> {
    row.try_get(i)
        .map_err(|e| StoreError::corrupt(what, e.to_string()))
}

impl crate::store::ChangeStore for PostgresStore {
    fn data_version(&self) -> Result<i64, StoreError> {
        // Asked on every request: a gateway answers from its change feed.
        if let Some(feed) = &self.feed {
            return feed.version();
        }
        let about = About {
            action: "reading the data version",
            what: "store version",
            id: "",
        };
        self.pool.run(about, |c| -> BoxFuture<'_, _> {
            Box::pin(async move {
                c.query_one(
                    "SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM store_version",
                    &[],
                )
                .await?
                .try_get(0)
            })
        })
    }

    fn check_writable(&self) -> Result<(), StoreError> {
        let about = About {
            action: "checking the store is writable",
            what: "store version",
            id: "",
        };
        let writable = self.pool.run(about, |c| -> BoxFuture<'_, _> {
            Box::pin(async move {
                // Not a replica, and not read-only by default.
                let read_only: String = c
                    .query_one("SHOW transaction_read_only", &[])
                    .await?
                    .try_get(0)?;
                let recovering: bool = c
                    .query_one("SELECT pg_is_in_recovery()", &[])
                    .await?
                    .try_get(0)?;
                Ok(read_only == "off" && !recovering)
            })
        })?;
        if writable {
            Ok(())
        } else {
            Err(StoreError::unavailable(
                about.action,
                "PostgreSQL is read-only here (a replica, or read-only by default)",
            ))
        }
    }
}

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

#[cfg(any(test, feature = "testing"))]
pub mod testing;
#[cfg(test)]
mod tests;
