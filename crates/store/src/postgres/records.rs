//! Credentials in PostgreSQL, and what the other record modules share,
//! with the same promises as SQLite's (`behaviour.rs` holds both to them).

use portcullis_core::UnixTime;
use tokio_postgres::Row;

use super::pool::{About, BoxFuture};
use super::{PostgresStore, col};
use crate::{Credential, CredentialKind, CredentialStore, StoreError};

const CREDENTIAL: &str = "credential";
const COLUMNS: &str =
    "id, identity, kind, secret_hash, public_jwk, created, expires, revoked, label";

fn credential(row: &Row) -> Result<Credential, StoreError> {
    let kind: String = col(row, 2, CREDENTIAL)?;
    let hash: Option<Vec<u8>> = col(row, 3, CREDENTIAL)?;
    let jwk: Option<String> = col(row, 4, CREDENTIAL)?;
    Ok(Credential {
        id: col(row, 0, CREDENTIAL)?,
        identity: col(row, 1, CREDENTIAL)?,
        kind: kind
            .parse()
            .map_err(|_| StoreError::corrupt(CREDENTIAL, format!("unknown kind `{kind}`")))?,
        secret_hash: hash
            .map(|h| <[u8; 32]>::try_from(h.as_slice()))
            .transpose()
            .map_err(|_| StoreError::corrupt(CREDENTIAL, "secret_hash is not 32 bytes"))?,
        public_jwk: jwk
            .map(|j| serde_json::from_str(&j))
            .transpose()
            .map_err(|_| StoreError::corrupt(CREDENTIAL, "public_jwk is not JSON"))?,
        created: col(row, 5, CREDENTIAL)?,
        expires: col(row, 6, CREDENTIAL)?,
        revoked: col(row, 7, CREDENTIAL)?,
        label: col(row, 8, CREDENTIAL)?,
    })
}

/// Runs one statement changing the row of `what` named `id` (`$1`, and a
/// time as `$2` when given); `NotFound` when it changed none.
pub(super) fn change_one(
    store: &PostgresStore,
    about: About<'_>,
    sql: &'static str,
    id: &str,
    time: Option<i64>,
) -> Result<(), StoreError> {
    let key = id.to_owned();
    let changed = store.pool.run(about, move |c| -> BoxFuture<'_, _> {
        Box::pin(async move {
            match time {
                Some(time) => c.execute(sql, &[&key, &time]).await,
                None => c.execute(sql, &[&key]).await,
            }
        })
    })?;
    if changed == 0 {
        Err(StoreError::not_found(about.what, id))
    } else {
        Ok(())
    }
}

impl CredentialStore for PostgresStore {
    fn insert_credential(&self, c: &Credential) -> Result<(), StoreError> {
        let about = About {
            action: "saving a credential",
            what: CREDENTIAL,
            id: &c.id,
        };
        let v = (
            c.id.clone(),
            c.identity.clone(),
            c.kind.as_str().to_owned(),
            c.secret_hash.map(|h| h.to_vec()),
            c.public_jwk.as_ref().map(ToString::to_string),
            c.created,
            c.expires,
            c.revoked,
            c.label.clone(),
        );
        let identity = c.identity.clone();
        let inserted = self.pool.run(about, move |db| -> BoxFuture<'_, _> {
            Box::pin(async move {
                db.execute(
                    &format!("INSERT INTO credentials ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"),
                    &[&v.0, &v.1, &v.2, &v.3, &v.4, &v.5, &v.6, &v.7, &v.8],
                )
                .await
            })
        });
        match inserted {
            // The pool names the credential; a missing identity is the identity's.
            Err(StoreError::NotFound(_)) => Err(StoreError::not_found("identity", &identity)),
            other => other.map(|_| ()),
        }
    }

    fn list_credentials(&self, identity: &str) -> Result<Vec<Credential>, StoreError> {
        let about = About {
            action: "listing credentials",
            what: CREDENTIAL,
            id: identity,
        };
        let key = identity.to_owned();
        let rows = self.pool.run(about, move |c| -> BoxFuture<'_, _> {
            Box::pin(async move {
                c.query(
                    &format!(
                        "SELECT {COLUMNS} FROM credentials WHERE identity = $1 ORDER BY created, id"
                    ),
                    &[&key],
                )
                .await
            })
        })?;
        rows.iter().map(credential).collect()
    }

    fn find_credential_by_hash(
        &self,
        kind: CredentialKind,
        hash: &[u8; 32],
    ) -> Result<Option<Credential>, StoreError> {
        let about = About {
            action: "finding a credential",
            what: CREDENTIAL,
            id: "",
        };
        let (kind, hash) = (kind.as_str().to_owned(), hash.to_vec());
        let row = self.pool.run(about, move |c| -> BoxFuture<'_, _> {
            Box::pin(async move {
                c.query_opt(
                    &format!(
                        "SELECT {COLUMNS} FROM credentials WHERE kind = $1 AND secret_hash = $2"
                    ),
                    &[&kind, &hash],
                )
                .await
            })
        })?;
        row.as_ref().map(credential).transpose()
    }

    fn revoke_credential(&self, id: &str, now: UnixTime) -> Result<(), StoreError> {
        let about = About {
            action: "revoking a credential",
            what: CREDENTIAL,
            id,
        };
        change_one(
            self,
            about,
            "UPDATE credentials SET revoked = COALESCE(revoked, $2) WHERE id = $1",
            id,
            Some(now),
        )
    }

    fn set_credential_expiry(&self, id: &str, expires: UnixTime) -> Result<(), StoreError> {
        let about = About {
            action: "setting a credential's expiry",
            what: CREDENTIAL,
            id,
        };
        change_one(
            self,
            about,
            "UPDATE credentials SET expires = $2 WHERE id = $1",
            id,
            Some(expires),
        )
    }
}
