//! Querying decisions: filters on the indexed columns, newest first, paged
//! by a cursor (a SQLite ledger's sequence number; a PostgreSQL ledger's row
//! id, see `postgres::ledger`). Every value reaches the database as a bound
//! parameter, never as SQL text.

use rusqlite::types::Value as SqlValue;
use serde_json::Value;

use super::sqlite::SqliteLedger;
use super::{LedgerError, to_i64, to_u64};

/// The most records one page returns, whatever is asked.
pub const MAX_PAGE: u32 = 500;

/// What to look for; every field narrows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    pub identity: Option<String>,
    /// Whom the request acted for (delegated requests only).
    pub person: Option<String>,
    pub api: Option<String>,
    pub operation: Option<String>,
    /// `allow`, `deny` or `observe`.
    pub decision: Option<String>,
    pub code: Option<String>,
    /// Milliseconds since the epoch, inclusive.
    pub since_ms: Option<i64>,
    /// Milliseconds since the epoch, exclusive.
    pub until_ms: Option<i64>,
    /// Only records older than this cursor (the previous page's `next`).
    pub before_seq: Option<u64>,
    /// Page size, at most [`MAX_PAGE`].
    pub limit: u32,
    /// Alert records only: the detector that fired, and the action reached.
    pub detector: Option<String>,
    pub action: Option<String>,
}

/// One page of decisions.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    /// Each record's body (sequence, id, predecessor, entry), newest first.
    pub records: Vec<Value>,
    /// The cursor for the next (older) page, when there may be one.
    pub next: Option<u64>,
}

impl SqliteLedger {
    /// The decisions matching `filter`.
    ///
    /// # Errors
    /// The ledger cannot be read, or a matching row is not a record.
    pub(crate) fn query(&self, filter: &Filter) -> Result<Page, LedgerError> {
        let limit = filter.limit.clamp(1, MAX_PAGE);
        let mut sql = String::from("SELECT seq, body FROM records WHERE 1 = 1");
        let mut values: Vec<SqlValue> = Vec::new();
        let mut text = |column: &str, value: &Option<String>| {
            if let Some(v) = value {
                sql.push_str(&format!(" AND {column} = ?"));
                values.push(SqlValue::Text(v.clone()));
            }
        };
        if filter.person.is_some() && !self.has_person() {
            // Written before delegation: nothing in it acted for anyone.
            return Ok(Page {
                records: Vec::new(),
                next: None,
            });
        }
        text("identity", &filter.identity);
        text("person", &filter.person);
        text("api", &filter.api);
        text("operation", &filter.operation);
        text("decision", &filter.decision);
        text("code", &filter.code);
        text(
            "json_extract(body, '$.entry.alert.detector')",
            &filter.detector,
        );
        text("json_extract(body, '$.entry.alert.action')", &filter.action);
        if let Some(since) = filter.since_ms {
            sql.push_str(" AND time_ms >= ?");
            values.push(SqlValue::Integer(since));
        }
        if let Some(until) = filter.until_ms {
            sql.push_str(" AND time_ms < ?");
            values.push(SqlValue::Integer(until));
        }
        if let Some(before) = filter.before_seq {
            sql.push_str(" AND seq < ?");
            values.push(SqlValue::Integer(to_i64(before)?));
        }
        sql.push_str(" ORDER BY seq DESC LIMIT ?");
        values.push(SqlValue::Integer(i64::from(limit)));
        let mut stmt = self.conn().prepare(&sql)?;
        let rows = stmt.query_map(rusqlite::params_from_iter(values), |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
        })?;
        let mut records = Vec::new();
        let mut last = None;
        for row in rows {
            let (seq, body) = row?;
            let value: Value = serde_json::from_str(&body)
                .map_err(|_| LedgerError::Corrupt(format!("record {seq} is not a record")))?;
            records.push(value);
            last = Some(to_u64(seq)?);
        }
        let next = if records.len() == usize::try_from(limit).unwrap_or(usize::MAX) {
            last
        } else {
            None
        };
        Ok(Page { records, next })
    }
}

impl SqliteLedger {
    /// The sequence number of the first record written at or after
    /// `since_ms` (by the time index), if any.
    ///
    /// # Errors
    /// The ledger cannot be read.
    pub(crate) fn first_since(&self, since_ms: i64) -> Result<Option<u64>, LedgerError> {
        let seq: Option<i64> = self.conn().query_row(
            "SELECT MIN(seq) FROM records WHERE time_ms >= ?1",
            [since_ms],
            |r| r.get(0),
        )?;
        seq.map(to_u64).transpose()
    }
}
