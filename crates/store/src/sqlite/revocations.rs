//! Revoked access tokens (RFC 7009) and seen client-assertion `jti`s
//! (RFC 7523) in SQLite. Both are kept only until the token or assertion
//! would have expired anyway.

use portcullis_core::UnixTime;
use rusqlite::{TransactionBehavior, params};

use super::SqliteStore;
use crate::{RevocationStore, StoreError};

impl RevocationStore for SqliteStore {
    fn revoke_token(&self, jti: &str, expires: UnixTime) -> Result<(), StoreError> {
        self.run("revoking a token", |conn| {
            conn.execute(
                "INSERT INTO revoked_tokens (jti, expires) VALUES (?1, ?2) \
                 ON CONFLICT (jti) DO UPDATE SET expires = MAX(expires, excluded.expires)",
                params![jti, expires],
            )?;
            Ok(())
        })
    }

    fn is_token_revoked(&self, jti: &str) -> Result<bool, StoreError> {
        self.run("checking a token's revocation", |conn| {
            Ok(conn.query_row(
                "SELECT EXISTS (SELECT 1 FROM revoked_tokens WHERE jti = ?1)",
                [jti],
                |row| row.get(0),
            )?)
        })
    }

    fn revoked_tokens(&self, now: UnixTime) -> Result<Vec<(String, UnixTime)>, StoreError> {
        self.run("listing revoked tokens", |conn| {
            let mut stmt = conn.prepare(
                "SELECT jti, expires FROM revoked_tokens WHERE expires > ?1 ORDER BY jti",
            )?;
            let rows = stmt.query_map([now], |row| Ok((row.get(0)?, row.get(1)?)))?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
    }

    fn prune_revocations(&self, now: UnixTime) -> Result<usize, StoreError> {
        self.run("pruning revoked tokens", |conn| {
            Ok(conn.execute("DELETE FROM revoked_tokens WHERE expires <= ?1", [now])?)
        })
    }

    fn record_assertion(
        &self,
        client_id: &str,
        jti: &str,
        expires: UnixTime,
        now: UnixTime,
    ) -> Result<bool, StoreError> {
        self.run("recording a client assertion", |conn| {
            // One transaction: the prune and the insert see the same state,
            // so an expired record is forgotten before the replay check.
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            tx.execute("DELETE FROM seen_assertions WHERE expires <= ?1", [now])?;
            let inserted = tx.execute(
                "INSERT INTO seen_assertions (client_id, jti, expires) VALUES (?1, ?2, ?3) \
                 ON CONFLICT (client_id, jti) DO NOTHING",
                params![client_id, jti, expires],
            )?;
            tx.commit()?;
            Ok(inserted == 1)
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::{RevocationStore, SqliteStore};

    #[test]
    fn revocations_until_expiry_then_pruned() {
        let store = SqliteStore::open_in_memory().unwrap();
        store.revoke_token("t1", 100).unwrap();
        store.revoke_token("t2", 200).unwrap();
        // Revoking again keeps the later expiry.
        store.revoke_token("t1", 50).unwrap();
        assert!(store.is_token_revoked("t1").unwrap());
        assert!(!store.is_token_revoked("t3").unwrap());
        assert_eq!(
            store.revoked_tokens(0).unwrap(),
            vec![("t1".to_owned(), 100), ("t2".to_owned(), 200)]
        );
        assert_eq!(
            store.revoked_tokens(100).unwrap(),
            vec![("t2".to_owned(), 200)]
        );

        assert_eq!(store.prune_revocations(100).unwrap(), 1);
        assert!(!store.is_token_revoked("t1").unwrap());
        assert!(store.is_token_revoked("t2").unwrap());
        assert_eq!(store.prune_revocations(100).unwrap(), 0);
        assert_eq!(store.prune_revocations(1_000).unwrap(), 1);
        assert!(store.revoked_tokens(0).unwrap().is_empty());
    }

    #[test]
    fn assertion_replay_is_detected_until_expiry() {
        let store = SqliteStore::open_in_memory().unwrap();
        assert!(store.record_assertion("bot", "j1", 100, 10).unwrap());
        assert!(!store.record_assertion("bot", "j1", 100, 20).unwrap());
        assert!(!store.record_assertion("bot", "j1", 300, 99).unwrap());
        // Same jti from another client is its own assertion.
        assert!(store.record_assertion("other", "j1", 100, 20).unwrap());
        // Once expired, the record is pruned and the jti is fresh again.
        assert!(store.record_assertion("bot", "j1", 200, 100).unwrap());
        assert!(!store.record_assertion("bot", "j1", 200, 150).unwrap());
        // Pruning as it goes: only live records stay.
        let count: i64 = store
            .lock_for_test()
            .query_row("SELECT COUNT(*) FROM seen_assertions", [], |r| r.get(0))
            .unwrap();
        assert_eq!(count, 1);
    }
}
