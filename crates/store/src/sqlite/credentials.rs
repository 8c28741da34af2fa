//! Credentials in SQLite: looked up by id, by identity, and by secret hash
//! (a UNIQUE, indexed column). A duplicate id or hash is `Conflict`; a
//! credential for a missing identity is `NotFound`.

use portcullis_core::UnixTime;
use rusqlite::{Row, params};

use super::SqliteStore;
use super::decode::{json, spelling};
use super::fault::{Fault, Violation, violation, violation_message};
use crate::{Credential, CredentialKind, CredentialStore, StoreError};

const WHAT: &str = "credential";

const COLUMNS: &str =
    "id, identity, kind, secret_hash, public_jwk, created, expires, revoked, label";

fn decode(row: &Row<'_>) -> Result<Credential, Fault> {
    Ok(Credential {
        id: row.get(0)?,
        identity: row.get(1)?,
        kind: spelling(row, 2, WHAT, "kind")?,
        secret_hash: row.get(3)?,
        public_jwk: json(row, 4, WHAT, "public_jwk")?,
        created: row.get(5)?,
        expires: row.get(6)?,
        revoked: row.get(7)?,
        label: row.get(8)?,
    })
}

/// Names the broken constraint of a failed insert, without the hash.
fn insert_fault(e: rusqlite::Error, credential: &Credential) -> Fault {
    match violation(&e) {
        Some(Violation::ForeignKey) => {
            Fault::Store(StoreError::not_found("identity", &credential.identity))
        }
        Some(Violation::Unique) if violation_message(&e).contains("secret_hash") => Fault::Store(
            StoreError::conflict_unnamed("credential with the same secret hash"),
        ),
        Some(Violation::Unique) => Fault::Store(StoreError::conflict(WHAT, &credential.id)),
        Some(Violation::Other) | None => Fault::Db(e),
    }
}

impl CredentialStore for SqliteStore {
    fn insert_credential(&self, credential: &Credential) -> Result<(), StoreError> {
        let public_jwk = credential.public_jwk.as_ref().map(ToString::to_string);
        self.run("saving a credential", |conn| {
            conn.execute(
                "INSERT INTO credentials \
                 (id, identity, kind, secret_hash, public_jwk, created, expires, revoked, label) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                params![
                    credential.id,
                    credential.identity,
                    credential.kind.as_str(),
                    credential.secret_hash,
                    public_jwk,
                    credential.created,
                    credential.expires,
                    credential.revoked,
                    credential.label,
                ],
            )
            .map_err(|e| insert_fault(e, credential))?;
            Ok(())
        })
    }

    fn list_credentials(&self, identity: &str) -> Result<Vec<Credential>, StoreError> {
        self.run("listing credentials", |conn| {
            let mut stmt = conn.prepare(&format!(
                "SELECT {COLUMNS} FROM credentials WHERE identity = ?1 ORDER BY created, id"
            ))?;
            let rows = stmt.query_and_then([identity], decode)?;
            rows.collect()
        })
    }

    fn find_credential_by_hash(
        &self,
        kind: CredentialKind,
        hash: &[u8; 32],
    ) -> Result<Option<Credential>, StoreError> {
        self.run("looking up a credential", |conn| {
            let mut stmt = conn.prepare(&format!(
                "SELECT {COLUMNS} FROM credentials WHERE secret_hash = ?1 AND kind = ?2"
            ))?;
            let mut rows = stmt.query_and_then(params![hash, kind.as_str()], decode)?;
            rows.next().transpose()
        })
    }

    fn revoke_credential(&self, id: &str, now: UnixTime) -> Result<(), StoreError> {
        self.change_one("revoking a credential", WHAT, id, |conn| {
            Ok(conn.execute(
                "UPDATE credentials SET revoked = COALESCE(revoked, ?2) WHERE id = ?1",
                params![id, now],
            )?)
        })
    }

    fn set_credential_expiry(&self, id: &str, expires: UnixTime) -> Result<(), StoreError> {
        self.change_one("changing a credential's expiry", WHAT, id, |conn| {
            Ok(conn.execute(
                "UPDATE credentials SET expires = ?2 WHERE id = ?1",
                params![id, expires],
            )?)
        })
    }
}

#[cfg(test)]
mod tests;
