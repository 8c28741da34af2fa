//! Token-signing keys in SQLite, private halves as PKCS#8 DER. Deleted rows
//! are overwritten on disk (`secure_delete`), not left in free pages.

use portcullis_core::UnixTime;
use rusqlite::{Row, params};

use super::SqliteStore;
use super::fault::{Fault, Violation, violation};
use crate::{KeyStore, StoreError, StoredKey};

const WHAT: &str = "signing key";

fn decode(row: &Row<'_>) -> Result<StoredKey, Fault> {
    Ok(StoredKey {
        kid: row.get(0)?,
        created: row.get(1)?,
        retired: row.get(2)?,
        pkcs8: row.get(3)?,
    })
}

impl KeyStore for SqliteStore {
    fn audit_key(&self) -> Result<Option<(String, Vec<u8>)>, StoreError> {
        self.run("reading the audit key", |conn| {
            let mut stmt = conn
                .prepare("SELECT kid, pkcs8 FROM audit_keys ORDER BY created DESC, kid LIMIT 1")?;
            let mut rows = stmt.query([])?;
            Ok(match rows.next()? {
                Some(row) => Some((row.get(0)?, row.get(1)?)),
                None => None,
            })
        })
    }

    fn insert_audit_key(
        &self,
        kid: &str,
        created: UnixTime,
        pkcs8: &[u8],
    ) -> Result<(), StoreError> {
        self.run("saving the audit key", |conn| {
            conn.execute(
                "INSERT INTO audit_keys (kid, created, pkcs8) VALUES (?1, ?2, ?3)",
                params![kid, created, pkcs8],
            )
            .map_err(|e| match violation(&e) {
                Some(Violation::Unique) => Fault::Store(StoreError::conflict("audit key", kid)),
                _ => Fault::Db(e),
            })?;
            Ok(())
        })
    }

    fn insert_key(&self, key: &StoredKey) -> Result<(), StoreError> {
        self.run("saving a signing key", |conn| {
            conn.execute(
                "INSERT INTO signing_keys (kid, created, retired, pkcs8) VALUES (?1, ?2, ?3, ?4)",
                params![key.kid, key.created, key.retired, key.pkcs8],
            )
            .map_err(|e| match violation(&e) {
                Some(Violation::Unique) => Fault::Store(StoreError::conflict(WHAT, &key.kid)),
                _ => Fault::Db(e),
            })?;
            Ok(())
        })
    }

    fn list_keys(&self) -> Result<Vec<StoredKey>, StoreError> {
        self.run("listing signing keys", |conn| {
            let mut stmt = conn.prepare(
                "SELECT kid, created, retired, pkcs8 FROM signing_keys ORDER BY created, kid",
            )?;
            let rows = stmt.query_and_then([], decode)?;
            rows.collect()
        })
    }

    fn retire_key(&self, kid: &str, now: UnixTime) -> Result<(), StoreError> {
        self.change_one("retiring a signing key", WHAT, kid, |conn| {
            Ok(conn.execute(
                "UPDATE signing_keys SET retired = COALESCE(retired, ?2) WHERE kid = ?1",
                params![kid, now],
            )?)
        })
    }

    fn delete_key(&self, kid: &str) -> Result<(), StoreError> {
        self.change_one("deleting a signing key", WHAT, kid, |conn| {
            Ok(conn.execute("DELETE FROM signing_keys WHERE kid = ?1", [kid])?)
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::{KeyStore, SqliteStore, StoreError, StoredKey};

    fn key(kid: &str, created: i64) -> StoredKey {
        StoredKey {
            kid: kid.into(),
            created,
            retired: None,
            pkcs8: vec![1, 2, 3, created as u8],
        }
    }

    #[test]
    fn insert_list_retire_delete() {
        let store = SqliteStore::open_in_memory().unwrap();
        store.insert_key(&key("b", 20)).unwrap();
        store.insert_key(&key("a", 10)).unwrap();
        assert!(matches!(
            store.insert_key(&key("a", 30)),
            Err(StoreError::Conflict(_))
        ));
        let kids: Vec<_> = store
            .list_keys()
            .unwrap()
            .into_iter()
            .map(|k| k.kid)
            .collect();
        assert_eq!(kids, ["a", "b"]);

        store.retire_key("a", 100).unwrap();
        store.retire_key("a", 200).unwrap();
        let keys = store.list_keys().unwrap();
        assert_eq!(keys[0].retired, Some(100));
        assert_eq!(keys[0].pkcs8, vec![1, 2, 3, 10]);
        assert_eq!(keys[1].retired, None);

        store.delete_key("a").unwrap();
        assert_eq!(store.list_keys().unwrap(), vec![key("b", 20)]);
        assert!(matches!(
            store.delete_key("a"),
            Err(StoreError::NotFound(_))
        ));
        assert!(matches!(
            store.retire_key("zz", 1),
            Err(StoreError::NotFound(_))
        ));
    }
}
