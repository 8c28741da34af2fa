//! Token-signing keys and the audit key in PostgreSQL.

use portcullis_core::UnixTime;

use super::pool::{About, BoxFuture};
use super::records::change_one;
use super::{PostgresStore, col};
use crate::{KeyStore, StoreError, StoredKey};

impl KeyStore for PostgresStore {
    fn insert_key(&self, key: &StoredKey) -> Result<(), StoreError> {
        let about = About {
            action: "saving a signing key",
            what: "signing key",
            id: &key.kid,
        };
        let v = (key.kid.clone(), key.created, key.retired, key.pkcs8.clone());
        self.pool.run(about, move |c| -> BoxFuture<'_, _> {
            Box::pin(async move {
                c.execute(
                    "INSERT INTO signing_keys (kid, created, retired, pkcs8) VALUES ($1, $2, $3, $4)",
                    &[&v.0, &v.1, &v.2, &v.3],
                )
                .await
                .map(|_| ())
            })
        })
    }

    fn list_keys(&self) -> Result<Vec<StoredKey>, StoreError> {
        const KEY: &str = "signing key";
        let about = About {
            action: "listing signing keys",
            what: KEY,
            id: "",
        };
        let rows = self.pool.run(about, |c| -> BoxFuture<'_, _> {
            Box::pin(async move {
                c.query(
                    "SELECT kid, created, retired, pkcs8 FROM signing_keys ORDER BY created, kid",
                    &[],
                )
                .await
            })
        })?;
        rows.iter()
            .map(|r| {
                Ok(StoredKey {
                    kid: col(r, 0, KEY)?,
                    created: col(r, 1, KEY)?,
                    retired: col(r, 2, KEY)?,
                    pkcs8: col(r, 3, KEY)?,
                })
            })
            .collect()
    }

    fn retire_key(&self, kid: &str, now: UnixTime) -> Result<(), StoreError> {
        let about = About {
            action: "retiring a signing key",
            what: "signing key",
            id: kid,
        };
        change_one(
            self,
            about,
            "UPDATE signing_keys SET retired = COALESCE(retired, $2) WHERE kid = $1",
            kid,
            Some(now),
        )
    }

    fn delete_key(&self, kid: &str) -> Result<(), StoreError> {
        let about = About {
            action: "deleting a signing key",
            what: "signing key",
            id: kid,
        };
        change_one(
            self,
            about,
            "DELETE FROM signing_keys WHERE kid = $1",
            kid,
            None,
        )
    }

    fn audit_key(&self) -> Result<Option<(String, Vec<u8>)>, StoreError> {
        const KEY: &str = "audit key";
        let about = About {
            action: "reading the audit key",
            what: KEY,
            id: "",
        };
        let row = self.pool.run(about, |c| -> BoxFuture<'_, _> {
            Box::pin(async move {
                c.query_opt(
                    "SELECT kid, pkcs8 FROM audit_keys ORDER BY created DESC, kid LIMIT 1",
                    &[],
                )
                .await
            })
        })?;
        row.map(|r| Ok((col(&r, 0, KEY)?, col(&r, 1, KEY)?)))
            .transpose()
    }

    fn insert_audit_key(
        &self,
        kid: &str,
        created: UnixTime,
        pkcs8: &[u8],
    ) -> Result<(), StoreError> {
        let about = About {
            action: "saving the audit key",
            what: "audit key",
            id: kid,
        };
        let v = (kid.to_owned(), created, pkcs8.to_vec());
        self.pool.run(about, move |c| -> BoxFuture<'_, _> {
            Box::pin(async move {
                c.execute(
                    "INSERT INTO audit_keys (kid, created, pkcs8) VALUES ($1, $2, $3)",
                    &[&v.0, &v.1, &v.2],
                )
                .await
                .map(|_| ())
            })
        })
    }
}
