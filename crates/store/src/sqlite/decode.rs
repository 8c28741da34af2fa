//! Column decoding shared by the record modules: enum spellings and JSON
//! columns become `Corrupt` errors naming the record and column, never the
//! stored value when it could be sensitive.

use std::fmt::Display;
use std::str::FromStr;

use rusqlite::Row;

use super::fault::Fault;
use crate::StoreError;

/// A column holding one of an enum's spellings.
pub(super) fn spelling<T>(
    row: &Row<'_>,
    index: usize,
    what: &'static str,
    column: &str,
) -> Result<T, Fault>
where
    T: FromStr,
    T::Err: Display,
{
    let text: String = row.get(index)?;
    text.parse()
        .map_err(|e| Fault::Store(StoreError::corrupt(what, format!("column `{column}`: {e}"))))
}

/// A column holding a JSON array of strings (tags, scopes).
pub(super) fn strings(
    row: &Row<'_>,
    index: usize,
    what: &'static str,
    column: &str,
) -> Result<Vec<String>, Fault> {
    let text: String = row.get(index)?;
    serde_json::from_str(&text).map_err(|_| {
        Fault::Store(StoreError::corrupt(
            what,
            format!("column `{column}` is not a JSON array of strings"),
        ))
    })
}

/// A nullable column holding a JSON document.
pub(super) fn json(
    row: &Row<'_>,
    index: usize,
    what: &'static str,
    column: &str,
) -> Result<Option<serde_json::Value>, Fault> {
    let Some(text) = row.get::<_, Option<String>>(index)? else {
        return Ok(None);
    };
    serde_json::from_str(&text).map(Some).map_err(|_| {
        Fault::Store(StoreError::corrupt(
            what,
            format!("column `{column}` is not JSON"),
        ))
    })
}

/// JSON text for a list of strings.
pub(super) fn encode_strings(values: &[String]) -> String {
    serde_json::Value::from(values).to_string()
}
