//! What can go wrong in storage, in terms a caller can act on: a record that
//! is missing, a record that already exists, storage that cannot be used
//! (fail closed), or a stored row that does not decode.
//!
//! Messages never carry secret material: no hashes, keys, tokens or SQL
//! parameter values, only kinds of record and their public ids.

use std::fmt;

/// Why a storage operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The record the operation names does not exist.
    #[error(transparent)]
    NotFound(NotFound),
    /// A record with the same unique key (id, secret hash) already exists.
    #[error(transparent)]
    Conflict(Conflict),
    /// Storage cannot be used: I/O error, locked, corrupt file, read-only,
    /// a schema from a newer build. The gateway fails closed on this.
    #[error(transparent)]
    Unavailable(Unavailable),
    /// A stored row does not decode (an unknown enum spelling, bad JSON, a
    /// value of the wrong type).
    #[error(transparent)]
    Corrupt(Corrupt),
}

/// A named record that does not exist.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what} `{id}` not found")]
pub struct NotFound {
    what: &'static str,
    id: String,
}

impl NotFound {
    /// The kind of record: `identity`, `credential`, `signing key`.
    pub fn what(&self) -> &'static str {
        self.what
    }

    /// The id that was looked for.
    pub fn id(&self) -> &str {
        &self.id
    }
}

/// A record that collides with one already stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    what: &'static str,
    id: Option<String>,
}

impl Conflict {
    /// The kind of record that collided.
    pub fn what(&self) -> &'static str {
        self.what
    }
}

impl fmt::Display for Conflict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.id {
            Some(id) => write!(f, "{} `{id}` already exists", self.what),
            None => write!(f, "{} already exists", self.what),
        }
    }
}

impl std::error::Error for Conflict {}

/// Storage that cannot be used right now.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("storage unavailable while {action}: {detail}")]
pub struct Unavailable {
    action: &'static str,
    detail: String,
}

/// A stored row that does not decode.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("stored {what} does not decode: {detail}")]
pub struct Corrupt {
    what: &'static str,
    detail: String,
}

impl StoreError {
    pub(crate) fn not_found(what: &'static str, id: &str) -> Self {
        Self::NotFound(NotFound {
            what,
            id: id.to_owned(),
        })
    }

    /// A collision on a record whose id may be shown.
    pub(crate) fn conflict(what: &'static str, id: &str) -> Self {
        Self::Conflict(Conflict {
            what,
            id: Some(id.to_owned()),
        })
    }

    /// A collision on a key that must not be shown (a secret hash).
    pub(crate) fn conflict_unnamed(what: &'static str) -> Self {
        Self::Conflict(Conflict { what, id: None })
    }

    /// Storage that cannot be used now, while `action`.
    pub fn unavailable(action: &'static str, detail: impl Into<String>) -> Self {
        Self::Unavailable(Unavailable {
            action,
            detail: detail.into(),
        })
    }

    pub(crate) fn corrupt(what: &'static str, detail: impl Into<String>) -> Self {
        Self::Corrupt(Corrupt {
            what,
            detail: detail.into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_lowercase_without_final_period() {
        let errors = [
            StoreError::not_found("identity", "bot"),
            StoreError::conflict("credential", "c1"),
            StoreError::conflict_unnamed("credential with the same secret hash"),
            StoreError::unavailable("writing", "database is locked"),
            StoreError::corrupt("identity", "column `kind`: `robot` is not known"),
        ];
        for e in errors {
            let text = e.to_string();
            assert!(text.starts_with(|c: char| c.is_lowercase()), "{text}");
            assert!(!text.ends_with('.'), "{text}");
        }
        assert_eq!(
            StoreError::not_found("identity", "bot").to_string(),
            "identity `bot` not found"
        );
    }
}
