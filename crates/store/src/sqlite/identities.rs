//! The identity inventory in SQLite. Tags and scopes are JSON arrays; an
//! unknown kind or state spelling reads back as `Corrupt`.

use portcullis_core::{Identity, IdentityState, UnixTime};
use rusqlite::{OptionalExtension, Row, params};

use super::SqliteStore;
use super::decode::{encode_strings, spelling, strings};
use super::fault::Fault;
use crate::store::{ChangedBy, StateChange};
use crate::{IdentityStore, StoreError};

const WHAT: &str = "identity";

const COLUMNS: &str =
    "id, kind, owner, environment, tags, scopes, state, created, expires, last_used";

fn decode(row: &Row<'_>) -> Result<Identity, Fault> {
    Ok(Identity {
        id: row.get(0)?,
        kind: spelling(row, 1, WHAT, "kind")?,
        owner: row.get(2)?,
        environment: row.get(3)?,
        tags: strings(row, 4, WHAT, "tags")?,
        scopes: strings(row, 5, WHAT, "scopes")?,
        state: spelling(row, 6, WHAT, "state")?,
        created: row.get(7)?,
        expires: row.get(8)?,
        last_used: row.get(9)?,
    })
}

const UPSERT: &str = "INSERT INTO identities \
         (id, kind, owner, environment, tags, scopes, state, created, expires, last_used) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) \
         ON CONFLICT (id) DO UPDATE SET \
         kind = excluded.kind, owner = excluded.owner, \
         environment = excluded.environment, tags = excluded.tags, \
         scopes = excluded.scopes, state = excluded.state, \
         expires = excluded.expires";

fn upsert(statement: &mut rusqlite::Statement<'_>, identity: &Identity) -> Result<(), Fault> {
    statement.execute(params![
        identity.id,
        identity.kind.as_str(),
        identity.owner,
        identity.environment,
        encode_strings(&identity.tags),
        encode_strings(&identity.scopes),
        identity.state.as_str(),
        identity.created,
        identity.expires,
        identity.last_used,
    ])?;
    Ok(())
}

/// Sets the state (when it is `expected`, if given) and records the change
/// for the ledger, in one transaction that takes the write lock first (a
/// deferred one could fail to upgrade while another writer holds it):
/// `None` if the identity does not exist, `Some(false)` if it was not in
/// `expected`.
fn change_state(
    conn: &mut rusqlite::Connection,
    id: &str,
    expected: Option<IdentityState>,
    state: IdentityState,
    now: UnixTime,
    by: &ChangedBy<'_>,
) -> Result<Option<bool>, Fault> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let from: Option<String> = tx
        .query_row("SELECT state FROM identities WHERE id = ?1", [id], |r| {
            r.get(0)
        })
        .optional()?;
    let Some(from) = from else { return Ok(None) };
    if expected.is_some_and(|e| e.as_str() != from) {
        return Ok(Some(false));
    }
    tx.execute(
        "UPDATE identities SET state = ?2, state_changed = ?3 WHERE id = ?1",
        params![id, state.as_str(), now],
    )?;
    tx.execute(
        "INSERT INTO state_changes (time, identity, from_state, to_state, changed_by, reason) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![now, id, from, state.as_str(), by.by, by.reason],
    )?;
    tx.commit()?;
    Ok(Some(true))
}

impl IdentityStore for SqliteStore {
    fn upsert_identity(&self, identity: &Identity) -> Result<(), StoreError> {
        self.run("saving an identity", |conn| {
            let mut statement = conn.prepare_cached(UPSERT)?;
            upsert(&mut statement, identity)
        })
    }

    fn upsert_identities(&self, identities: &[Identity]) -> Result<(), StoreError> {
        self.run("saving identities", |conn| {
            let tx = conn.transaction()?;
            {
                let mut statement = tx.prepare(UPSERT)?;
                for identity in identities {
                    upsert(&mut statement, identity)?;
                }
            }
            tx.commit()?;
            Ok(())
        })
    }

    fn get_identity(&self, id: &str) -> Result<Option<Identity>, StoreError> {
        self.run("reading an identity", |conn| {
            let mut stmt =
                conn.prepare(&format!("SELECT {COLUMNS} FROM identities WHERE id = ?1"))?;
            let mut rows = stmt.query_and_then([id], decode)?;
            rows.next().transpose()
        })
    }

    fn list_identities(&self) -> Result<Vec<Identity>, StoreError> {
        self.run("listing identities", |conn| {
            let mut stmt =
                conn.prepare(&format!("SELECT {COLUMNS} FROM identities ORDER BY id"))?;
            let rows = stmt.query_and_then([], decode)?;
            rows.collect()
        })
    }

    fn set_identity_state(
        &self,
        id: &str,
        state: IdentityState,
        now: UnixTime,
        by: &ChangedBy<'_>,
    ) -> Result<(), StoreError> {
        self.change_one("changing an identity's state", WHAT, id, |conn| {
            Ok(usize::from(
                change_state(conn, id, None, state, now, by)?.is_some(),
            ))
        })
    }

    fn set_identity_state_if(
        &self,
        id: &str,
        expected: IdentityState,
        state: IdentityState,
        now: UnixTime,
        by: &ChangedBy<'_>,
    ) -> Result<bool, StoreError> {
        let changed = self.run("changing an identity's state", |conn| {
            conn.busy_timeout(std::time::Duration::ZERO)?;
            let changed = change_state(conn, id, Some(expected), state, now, by);
            conn.busy_timeout(super::BUSY_TIMEOUT)?;
            changed
        })?;
        match changed {
            None => Err(StoreError::not_found(WHAT, id)),
            Some(changed) => Ok(changed),
        }
    }

    fn pending_state_changes(&self, limit: u32) -> Result<Vec<StateChange>, StoreError> {
        self.run("reading state changes", |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT seq, time, identity, from_state, to_state, changed_by, reason \
                 FROM state_changes WHERE recorded = 0 ORDER BY seq LIMIT ?1",
            )?;
            let rows = stmt.query_and_then([limit], |row| -> Result<StateChange, Fault> {
                let from: Option<String> = row.get(3)?;
                Ok(StateChange {
                    seq: row.get(0)?,
                    time: row.get(1)?,
                    identity: row.get(2)?,
                    from: match from {
                        Some(_) => Some(spelling(row, 3, "state change", "from_state")?),
                        None => None,
                    },
                    to: spelling(row, 4, "state change", "to_state")?,
                    by: row.get(5)?,
                    reason: row.get(6)?,
                })
            })?;
            rows.collect()
        })
    }

    fn mark_state_changes_recorded(&self, seq: i64) -> Result<(), StoreError> {
        self.run("marking state changes recorded", |conn| {
            conn.execute(
                "UPDATE state_changes SET recorded = 1 WHERE recorded = 0 AND seq <= ?1",
                [seq],
            )?;
            Ok(())
        })
    }

    fn touch_identity(&self, id: &str, now: UnixTime) -> Result<(), StoreError> {
        self.change_one("recording an identity's use", WHAT, id, |conn| {
            // MAX: a clock stepping backwards never moves last_used back.
            Ok(conn.execute(
                "UPDATE identities SET last_used = MAX(COALESCE(last_used, ?2), ?2) \
                 WHERE id = ?1",
                params![id, now],
            )?)
        })
    }

    fn delete_identity(&self, id: &str) -> Result<(), StoreError> {
        // Credentials go with it: ON DELETE CASCADE.
        self.change_one("deleting an identity", WHAT, id, |conn| {
            Ok(conn.execute("DELETE FROM identities WHERE id = ?1", [id])?)
        })
    }
}

#[cfg(test)]
mod tests;
