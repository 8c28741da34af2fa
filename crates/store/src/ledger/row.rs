//! A ledger row: reading one back as a record (its indexed columns checked
//! against its text), and the `person` column a ledger from before
//! delegation gains when a gateway next opens it to write.

use portcullis_audit::Sealed;
use rusqlite::Connection;

use super::{LedgerError, to_hash};

/// Whether `records` has the `person` column.
pub(super) fn has_person(conn: &Connection) -> Result<bool, LedgerError> {
    let found: i64 = conn.query_row(
        "SELECT COUNT(*) FROM pragma_table_info('records') WHERE name = 'person'",
        [],
        |r| r.get(0),
    )?;
    Ok(found > 0)
}

/// Adds and indexes `person` (whom a delegated request acted for) where it
/// is missing. Older rows keep it empty: they were written before
/// delegation, so none acted for anyone.
pub(super) fn add_person(conn: &Connection) -> Result<(), LedgerError> {
    if !has_person(conn)? {
        conn.execute_batch("ALTER TABLE records ADD COLUMN person TEXT")?;
    }
    conn.execute_batch("CREATE INDEX IF NOT EXISTS records_person ON records (person, seq)")?;
    Ok(())
}

/// The indexed copies stored beside a record's text: time, identity, api,
/// operation, decision, code, person.
pub(crate) type Columns = (
    i64,
    Option<String>,
    Option<String>,
    Option<String>,
    String,
    Option<String>,
    Option<String>,
);

/// A row as a record, or its sequence number when the row is not one: text
/// that does not decode, a hash of the wrong size, or indexed columns that do
/// not say what the record says.
pub(super) fn stored(row: &rusqlite::Row<'_>) -> Result<Sealed, u64> {
    let seq = row
        .get::<_, i64>(0)
        .ok()
        .and_then(|s| u64::try_from(s).ok())
        .unwrap_or(0);
    let read = (|| {
        let body: String = row.get(1).ok()?;
        let hash: Vec<u8> = row.get(2).ok()?;
        let columns: Columns = (
            row.get(3).ok()?,
            row.get(4).ok()?,
            row.get(5).ok()?,
            row.get(6).ok()?,
            row.get(7).ok()?,
            row.get(8).ok()?,
            row.get(9).ok()?,
        );
        Some((body, hash, columns))
    })();
    let Some((body, hash, columns)) = read else {
        return Err(seq);
    };
    checked(seq, body, &hash, columns)
}

/// A stored record checked: its text decodes, its hash is one, and its
/// indexed copies say what the text says (backend-neutral: SQLite and
/// PostgreSQL rows both come here).
pub(crate) fn checked(
    seq: u64,
    body: String,
    hash: &[u8],
    columns: Columns,
) -> Result<Sealed, u64> {
    let sealed = (|| {
        let hash = to_hash(hash).ok()?;
        let sealed = Sealed { seq, body, hash };
        let body = sealed.decode().ok()?;
        if body.seq != seq {
            // Moved whole: the walk names it as reordered.
            return Some(sealed);
        }
        let e = body.entry;
        let copied = (
            e.time_ms,
            e.identity,
            e.api,
            e.operation,
            e.decision.into_owned(),
            e.code.map(std::borrow::Cow::into_owned),
            e.on_behalf_of.map(|o| o.person),
        );
        (copied == columns).then_some(sealed)
    })();
    sealed.ok_or(seq)
}
