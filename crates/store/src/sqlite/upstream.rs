//! Per-identity upstream credentials in SQLite: sealed bytes only.

use rusqlite::{Row, params};

use super::SqliteStore;
use super::fault::{Fault, Violation, violation};
use crate::{SealedCredential, StoreError, UpstreamCredentialStore};

const WHAT: &str = "upstream credential";

fn decode(row: &Row<'_>) -> Result<SealedCredential, Fault> {
    let nonce: Vec<u8> = row.get(2)?;
    let nonce: [u8; 12] = nonce
        .try_into()
        .map_err(|_| Fault::Store(StoreError::corrupt(WHAT, "nonce is not 12 bytes")))?;
    Ok(SealedCredential {
        identity: row.get(0)?,
        api: row.get(1)?,
        nonce,
        sealed: row.get(3)?,
        created: row.get(4)?,
    })
}

impl UpstreamCredentialStore for SqliteStore {
    fn put_upstream_credential(&self, c: &SealedCredential) -> Result<(), StoreError> {
        self.run("saving an upstream credential", |conn| {
            conn.execute(
                "INSERT INTO upstream_credentials (identity, api, nonce, sealed, created) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (identity, api) DO UPDATE SET nonce = excluded.nonce, sealed = excluded.sealed, created = excluded.created",
                params![c.identity, c.api, c.nonce.as_slice(), c.sealed, c.created],
            )
            .map_err(|e| match violation(&e) {
                Some(Violation::ForeignKey) => Fault::Store(StoreError::not_found("identity", &c.identity)),
                _ => Fault::Db(e),
            })?;
            Ok(())
        })
    }

    fn list_upstream_credentials(&self) -> Result<Vec<SealedCredential>, StoreError> {
        self.run("listing upstream credentials", |conn| {
            let mut stmt = conn.prepare(
                "SELECT identity, api, nonce, sealed, created FROM upstream_credentials ORDER BY identity, api",
            )?;
            let rows = stmt.query_and_then([], decode)?;
            rows.collect()
        })
    }

    fn delete_upstream_credential(&self, identity: &str, api: &str) -> Result<(), StoreError> {
        self.change_one("deleting an upstream credential", WHAT, identity, |conn| {
            Ok(conn.execute(
                "DELETE FROM upstream_credentials WHERE identity = ?1 AND api = ?2",
                params![identity, api],
            )?)
        })
    }
}
