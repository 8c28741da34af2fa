//! Revoked tokens, seen client assertions and sealed upstream credentials
//! in PostgreSQL.

use portcullis_core::UnixTime;

use super::pool::{About, BoxFuture};
use super::{PostgresStore, col};
use crate::model::SealedCredential;
use crate::{RevocationStore, StoreError, UpstreamCredentialStore};

impl RevocationStore for PostgresStore {
    fn revoke_token(&self, jti: &str, expires: UnixTime) -> Result<(), StoreError> {
        let about = About {
            action: "revoking a token",
            what: "token",
            id: jti,
        };
        let key = jti.to_owned();
        self.pool.run(about, move |c| -> BoxFuture<'_, _> {
            Box::pin(async move {
                c.execute(
                    "INSERT INTO revoked_tokens (jti, expires) VALUES ($1, $2) \
                     ON CONFLICT (jti) DO UPDATE SET expires = GREATEST(revoked_tokens.expires, excluded.expires)",
                    &[&key, &expires],
                )
                .await
                .map(|_| ())
            })
        })
    }

    fn is_token_revoked(&self, jti: &str) -> Result<bool, StoreError> {
        let about = About {
            action: "checking a revocation",
            what: "token",
            id: jti,
        };
        let key = jti.to_owned();
        self.pool.run(about, move |c| -> BoxFuture<'_, _> {
            Box::pin(async move {
                c.query_one(
                    "SELECT EXISTS (SELECT 1 FROM revoked_tokens WHERE jti = $1)",
                    &[&key],
                )
                .await?
                .try_get(0)
            })
        })
    }

    fn revoked_tokens(&self, now: UnixTime) -> Result<Vec<(String, UnixTime)>, StoreError> {
        let about = About {
            action: "listing revocations",
            what: "token",
            id: "",
        };
        let rows = self.pool.run(about, move |c| -> BoxFuture<'_, _> {
            Box::pin(async move {
                c.query(
                    "SELECT jti, expires FROM revoked_tokens WHERE expires > $1 ORDER BY jti",
                    &[&now],
                )
                .await
            })
        })?;
        rows.iter()
            .map(|r| Ok((col(r, 0, "token")?, col(r, 1, "token")?)))
            .collect()
    }

    fn prune_revocations(&self, now: UnixTime) -> Result<usize, StoreError> {
        let about = About {
            action: "pruning revocations",
            what: "token",
            id: "",
        };
        let pruned = self.pool.run(about, move |c| -> BoxFuture<'_, _> {
            Box::pin(async move {
                c.execute("DELETE FROM revoked_tokens WHERE expires <= $1", &[&now])
                    .await
            })
        })?;
        Ok(usize::try_from(pruned).unwrap_or(usize::MAX))
    }

    fn record_assertion(
        &self,
        client_id: &str,
        jti: &str,
        expires: UnixTime,
        now: UnixTime,
    ) -> Result<bool, StoreError> {
        let about = About {
            action: "recording a client assertion",
            what: "client assertion",
            id: jti,
        };
        let (client, key) = (client_id.to_owned(), jti.to_owned());
        self.pool.run(about, move |c| -> BoxFuture<'_, _> {
            Box::pin(async move {
                let tx = c.transaction().await?;
                tx.execute("DELETE FROM seen_assertions WHERE expires <= $1", &[&now])
                    .await?;
                let inserted = tx
                    .execute(
                        "INSERT INTO seen_assertions (client_id, jti, expires) VALUES ($1, $2, $3) \
                         ON CONFLICT DO NOTHING",
                        &[&client, &key, &expires],
                    )
                    .await?;
                tx.commit().await?;
                Ok(inserted == 1)
            })
        })
    }
}

impl UpstreamCredentialStore for PostgresStore {
    fn put_upstream_credential(&self, s: &SealedCredential) -> Result<(), StoreError> {
        let about = About {
            action: "saving an upstream credential",
            what: "upstream credential",
            id: &s.identity,
        };
        let v = (
            s.identity.clone(),
            s.api.clone(),
            s.nonce.to_vec(),
            s.sealed.clone(),
            s.created,
        );
        self.pool.run(about, move |c| -> BoxFuture<'_, _> {
            Box::pin(async move {
                c.execute(
                    "INSERT INTO upstream_credentials (identity, api, nonce, sealed, created) \
                     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (identity, api) DO UPDATE SET \
                     nonce = excluded.nonce, sealed = excluded.sealed, created = excluded.created",
                    &[&v.0, &v.1, &v.2, &v.3, &v.4],
                )
                .await
                .map(|_| ())
            })
        })
    }

    fn list_upstream_credentials(&self) -> Result<Vec<SealedCredential>, StoreError> {
        const WHAT: &str = "upstream credential";
        let about = About {
            action: "listing upstream credentials",
            what: WHAT,
            id: "",
        };
        let rows = self.pool.run(about, |c| -> BoxFuture<'_, _> {
            Box::pin(async move {
                c.query("SELECT identity, api, nonce, sealed, created FROM upstream_credentials ORDER BY identity, api", &[])
                    .await
            })
        })?;
        rows.iter()
            .map(|r| {
                let nonce: Vec<u8> = col(r, 2, WHAT)?;
                Ok(SealedCredential {
                    identity: col(r, 0, WHAT)?,
                    api: col(r, 1, WHAT)?,
                    nonce: <[u8; 12]>::try_from(nonce.as_slice())
                        .map_err(|_| StoreError::corrupt(WHAT, "nonce is not 12 bytes"))?,
                    sealed: col(r, 3, WHAT)?,
                    created: col(r, 4, WHAT)?,
                })
            })
            .collect()
    }

    fn delete_upstream_credential(&self, identity: &str, api: &str) -> Result<(), StoreError> {
        let about = About {
            action: "deleting an upstream credential",
            what: "upstream credential",
            id: identity,
        };
        let (who, api) = (identity.to_owned(), api.to_owned());
        let deleted = self.pool.run(about, move |c| -> BoxFuture<'_, _> {
            Box::pin(async move {
                c.execute(
                    "DELETE FROM upstream_credentials WHERE identity = $1 AND api = $2",
                    &[&who, &api],
                )
                .await
            })
        })?;
        if deleted == 0 {
            Err(StoreError::not_found("upstream credential", identity))
        } else {
            Ok(())
        }
    }
}
