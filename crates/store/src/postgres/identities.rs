//! The identity inventory and its state changes in PostgreSQL, with the
//! same promises as SQLite's (`behaviour.rs` holds both to them).

use portcullis_core::{Identity, IdentityState, UnixTime};
use tokio_postgres::Row;

use super::pool::{About, BoxFuture};
use super::records::change_one;
use super::{PostgresStore, col};
use crate::store::{ChangedBy, StateChange};
use crate::{IdentityStore, StoreError};

const WHAT: &str = "identity";
const COLUMNS: &str =
    "id, kind, owner, environment, tags, scopes, state, created, expires, last_used";
const UPSERT: &str = "INSERT INTO identities \
     (id, kind, owner, environment, tags, scopes, state, created, expires, last_used) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
     ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, owner = excluded.owner, \
     environment = excluded.environment, tags = excluded.tags, scopes = excluded.scopes, \
     state = excluded.state, expires = excluded.expires \
     WHERE (identities.kind, identities.owner, identities.environment, identities.tags, \
     identities.scopes, identities.state, identities.expires) IS DISTINCT FROM \
     (excluded.kind, excluded.owner, excluded.environment, excluded.tags, excluded.scopes, \
     excluded.state, excluded.expires)";

fn strings(text: &str, field: &'static str) -> Result<Vec<String>, StoreError> {
    serde_json::from_str(text)
        .map_err(|_| StoreError::corrupt(WHAT, format!("{field} is not a JSON array of strings")))
}

fn spelled<T: std::str::FromStr>(text: &str, field: &'static str) -> Result<T, StoreError> {
    text.parse()
        .map_err(|_| StoreError::corrupt(WHAT, format!("unknown {field} `{text}`")))
}

fn decode(row: &Row) -> Result<Identity, StoreError> {
    let text = |i: usize| -> Result<String, StoreError> { col(row, i, WHAT) };
    let time = |i: usize| -> Result<Option<i64>, StoreError> { col(row, i, WHAT) };
    Ok(Identity {
        id: text(0)?,
        kind: spelled(&text(1)?, "kind")?,
        owner: text(2)?,
        environment: text(3)?,
        tags: strings(&text(4)?, "tags")?,
        scopes: strings(&text(5)?, "scopes")?,
        state: spelled(&text(6)?, "state")?,
        created: time(7)?.unwrap_or_default(),
        expires: time(8)?,
        last_used: time(9)?,
    })
}

/// An identity's values in `UPSERT`'s order, owned (a job outlives the
/// borrowed identity).
type Values = (
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    i64,
    Option<i64>,
    Option<i64>,
);

/// An identity's values, for `UPSERT`.
fn values(i: &Identity) -> Values {
    let json = |v: &[String]| serde_json::to_string(v).unwrap_or_else(|_| "[]".into());
    (
        i.id.clone(),
        i.kind.as_str().to_owned(),
        i.owner.clone(),
        i.environment.clone(),
        json(&i.tags),
        json(&i.scopes),
        i.state.as_str().to_owned(),
        i.created,
        i.expires,
        i.last_used,
    )
}

impl PostgresStore {
    /// Sets the state (when it is `expected`, if given) and records the
    /// change, in one transaction that locks the row: `None` if the
    /// identity does not exist, `Some(false)` if it was not in `expected`.
    fn change_state(
        &self,
        id: &str,
        expected: Option<IdentityState>,
        state: IdentityState,
        now: UnixTime,
        by: &ChangedBy<'_>,
    ) -> Result<Option<bool>, StoreError> {
        let about = About {
            action: "changing an identity's state",
            what: WHAT,
            id,
        };
        let (id, by, reason) = (
            id.to_owned(),
            by.by.to_owned(),
            by.reason.map(str::to_owned),
        );
        self.pool.run(about, move |c| -> BoxFuture<'_, _> {
            Box::pin(async move {
                let tx = c.transaction().await?;
                let from: Option<String> = tx
                    .query_opt("SELECT state FROM identities WHERE id = $1 FOR UPDATE", &[&id])
                    .await?
                    .map(|r| r.try_get(0))
                    .transpose()?;
                let Some(from) = from else {
                    tx.rollback().await?;
                    return Ok(None);
                };
                if expected.is_some_and(|e| e.as_str() != from) {
                    tx.rollback().await?;
                    return Ok(Some(false));
                }
                tx.execute(
                    "UPDATE identities SET state = $2, state_changed = $3 WHERE id = $1",
                    &[&id, &state.as_str(), &now],
                )
                .await?;
                tx.execute(
                    "INSERT INTO state_changes (time, identity, from_state, to_state, changed_by, reason) \
                     VALUES ($1, $2, $3, $4, $5, $6)",
                    &[&now, &id, &from, &state.as_str(), &by, &reason],
                )
                .await?;
                tx.commit().await?;
                Ok(Some(true))
            })
        })
    }
}

impl IdentityStore for PostgresStore {
    fn upsert_identity(&self, identity: &Identity) -> Result<(), StoreError> {
        self.upsert_identities(std::slice::from_ref(identity))
    }

    fn upsert_identities(&self, identities: &[Identity]) -> Result<(), StoreError> {
        let rows: Vec<_> = identities.iter().map(values).collect();
        let about = About {
            action: "saving identities",
            what: WHAT,
            id: "",
        };
        self.pool.run(about, move |c| -> BoxFuture<'_, _> {
            Box::pin(async move {
                let tx = c.transaction().await?;
                let statement = tx.prepare(UPSERT).await?;
                for v in &rows {
                    tx.execute(
                        &statement,
                        &[&v.0, &v.1, &v.2, &v.3, &v.4, &v.5, &v.6, &v.7, &v.8, &v.9],
                    )
                    .await?;
                }
                tx.commit().await
            })
        })
    }

    fn get_identity(&self, id: &str) -> Result<Option<Identity>, StoreError> {
        let about = About {
            action: "reading an identity",
            what: WHAT,
            id,
        };
        let key = id.to_owned();
        let row = self.pool.run(about, move |c| -> BoxFuture<'_, _> {
            Box::pin(async move {
                c.query_opt(
                    &format!("SELECT {COLUMNS} FROM identities WHERE id = $1"),
                    &[&key],
                )
                .await
            })
        })?;
        row.as_ref().map(decode).transpose()
    }

    fn list_identities(&self) -> Result<Vec<Identity>, StoreError> {
        let about = About {
            action: "listing identities",
            what: WHAT,
            id: "",
        };
        let rows = self.pool.run(about, |c| -> BoxFuture<'_, _> {
            Box::pin(async move {
                c.query(
                    &format!("SELECT {COLUMNS} FROM identities ORDER BY id"),
                    &[],
                )
                .await
            })
        })?;
        rows.iter().map(decode).collect()
    }

    fn set_identity_state(
        &self,
        id: &str,
        state: IdentityState,
        now: UnixTime,
        by: &ChangedBy<'_>,
    ) -> Result<(), StoreError> {
        match self.change_state(id, None, state, now, by)? {
            None => Err(StoreError::not_found(WHAT, id)),
            Some(_) => Ok(()),
        }
    }

    fn set_identity_state_if(
        &self,
        id: &str,
        expected: IdentityState,
        state: IdentityState,
        now: UnixTime,
        by: &ChangedBy<'_>,
    ) -> Result<bool, StoreError> {
        self.change_state(id, Some(expected), state, now, by)?
            .ok_or_else(|| StoreError::not_found(WHAT, id))
    }

    fn pending_state_changes(&self, limit: u32) -> Result<Vec<StateChange>, StoreError> {
        let about = About {
            action: "reading state changes",
            what: "state change",
            id: "",
        };
        let limit = i64::from(limit);
        let rows = self.pool.run(about, move |c| -> BoxFuture<'_, _> {
            Box::pin(async move {
                c.query(
                    "SELECT seq, time, identity, from_state, to_state, changed_by, reason \
                     FROM state_changes WHERE NOT recorded ORDER BY seq LIMIT $1",
                    &[&limit],
                )
                .await
            })
        })?;
        const CHANGE: &str = "state change";
        rows.iter()
            .map(|r| {
                let from: Option<String> = col(r, 3, CHANGE)?;
                let to: String = col(r, 4, CHANGE)?;
                Ok(StateChange {
                    seq: col(r, 0, CHANGE)?,
                    time: col(r, 1, CHANGE)?,
                    identity: col(r, 2, CHANGE)?,
                    from: from.map(|f| spelled(&f, "from_state")).transpose()?,
                    to: spelled(&to, "to_state")?,
                    by: col(r, 5, CHANGE)?,
                    reason: col(r, 6, CHANGE)?,
                })
            })
            .collect()
    }

    fn mark_state_changes_recorded(&self, seq: i64) -> Result<(), StoreError> {
        let about = About {
            action: "marking state changes recorded",
            what: "state change",
            id: "",
        };
        self.pool.run(about, move |c| -> BoxFuture<'_, _> {
            Box::pin(async move {
                c.execute(
                    "UPDATE state_changes SET recorded = TRUE WHERE NOT recorded AND seq <= $1",
                    &[&seq],
                )
                .await
                .map(|_| ())
            })
        })
    }

    fn touch_identity(&self, id: &str, now: UnixTime) -> Result<(), StoreError> {
        let about = About {
            action: "recording an identity's use",
            what: WHAT,
            id,
        };
        // GREATEST: a clock stepping backwards never moves it back.
        let sql =
            "UPDATE identities SET last_used = GREATEST(COALESCE(last_used, $2), $2) WHERE id = $1";
        change_one(self, about, sql, id, Some(now))
    }

    fn delete_identity(&self, id: &str) -> Result<(), StoreError> {
        let about = About {
            action: "deleting an identity",
            what: WHAT,
            id,
        };
        change_one(
            self,
            about,
            "DELETE FROM identities WHERE id = $1",
            id,
            None,
        )
    }
}
