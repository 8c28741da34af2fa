//! The SQLite store's internal error: a driver error not yet classified, or
//! a [`StoreError`] already decided. Classification into `Conflict`,
//! `Corrupt` and `Unavailable` happens in one place, here.

use rusqlite::ErrorCode;
use rusqlite::types::Type;

use crate::StoreError;

#[derive(Debug)]
pub(super) enum Fault {
    Db(rusqlite::Error),
    Store(StoreError),
}

impl From<rusqlite::Error> for Fault {
    fn from(e: rusqlite::Error) -> Self {
        Self::Db(e)
    }
}

impl From<StoreError> for Fault {
    fn from(e: StoreError) -> Self {
        Self::Store(e)
    }
}

impl Fault {
    /// The error a caller sees, naming `action` if storage is unavailable.
    pub(super) fn into_store_error(self, action: &'static str) -> StoreError {
        match self {
            Self::Store(e) => e,
            Self::Db(e) => classify(&e, action),
        }
    }
}

/// Which constraint a failed write broke, if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Violation {
    /// A UNIQUE or PRIMARY KEY constraint.
    Unique,
    /// A FOREIGN KEY constraint: the referenced row does not exist.
    ForeignKey,
    Other,
}

/// The constraint `e` reports as broken, if it is a constraint violation.
pub(super) fn violation(e: &rusqlite::Error) -> Option<Violation> {
    let err = e.sqlite_error()?;
    if err.code != ErrorCode::ConstraintViolation {
        return None;
    }
    Some(match err.extended_code {
        rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE | rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY => {
            Violation::Unique
        }
        rusqlite::ffi::SQLITE_CONSTRAINT_FOREIGNKEY => Violation::ForeignKey,
        _ => Violation::Other,
    })
}

/// The message SQLite gave with a constraint violation (names the columns,
/// never the values).
pub(super) fn violation_message(e: &rusqlite::Error) -> &str {
    match e {
        rusqlite::Error::SqliteFailure(_, Some(message)) => message,
        _ => "",
    }
}

fn classify(e: &rusqlite::Error, action: &'static str) -> StoreError {
    use rusqlite::Error as E;
    match e {
        E::FromSqlConversionFailure(column, ty, _) => StoreError::corrupt(
            "row",
            format!(
                "column {column} holds {} of the wrong shape",
                type_name(*ty)
            ),
        ),
        E::InvalidColumnType(_, name, ty) => {
            StoreError::corrupt("row", format!("column `{name}` holds {}", type_name(*ty)))
        }
        E::IntegralValueOutOfRange(column, _) => {
            StoreError::corrupt("row", format!("column {column} is out of range"))
        }
        _ if violation(e).is_some() => StoreError::conflict_unnamed("conflicting record"),
        // SQLite's own messages ("database is locked", "attempt to write a
        // readonly database", "disk I/O error") hold no parameter values.
        _ => StoreError::unavailable(action, e.to_string()),
    }
}

fn type_name(ty: Type) -> &'static str {
    match ty {
        Type::Null => "null",
        Type::Integer => "an integer",
        Type::Real => "a real",
        Type::Text => "text",
        Type::Blob => "a blob",
    }
}
