//! The `storage:` setting: which backend and where, parsed from a URL
//! (`sqlite://portcullis.db`, `postgres://...`).
//!
//! Parsing has no side effects and never echoes a URL back in an error (a
//! PostgreSQL URL may hold a password). Relative SQLite paths are resolved by
//! the caller, against the configuration file's folder.

use std::path::{Path, PathBuf};

use crate::{SqliteStore, Store, StoreError};

/// Where the store lives.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum StorageLocation {
    /// An embedded SQLite database file; the path is taken literally.
    Sqlite(PathBuf),
    /// A PostgreSQL database, shared by a fleet of gateways.
    Postgres(PostgresUrl),
}

/// A PostgreSQL URL: it may hold a password, so it is never shown
/// (`Debug` prints only that it is one).
#[derive(Clone, PartialEq, Eq)]
pub struct PostgresUrl(String);

impl PostgresUrl {
    /// The URL itself, to connect with; never for logs or errors.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for PostgresUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PostgresUrl(..)")
    }
}

/// Why a storage URL is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StorageUrlError {
    #[error("storage url must start with `sqlite://` or `postgres://`")]
    MissingScheme,
    #[error(transparent)]
    UnsupportedScheme(UnsupportedScheme),
    #[error("storage url `sqlite://` names no database file")]
    EmptyPath,
}

/// A URL scheme that names no backend.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("storage url scheme `{scheme}` is not supported (expected `sqlite` or `postgres`)")]
pub struct UnsupportedScheme {
    scheme: String,
}

impl StorageLocation {
    /// Parses a `storage:` value.
    pub fn parse(url: &str) -> Result<Self, StorageUrlError> {
        let Some((scheme, rest)) = url.split_once("://") else {
            return Err(StorageUrlError::MissingScheme);
        };
        if scheme.eq_ignore_ascii_case("sqlite") {
            if rest.is_empty() {
                return Err(StorageUrlError::EmptyPath);
            }
            return Ok(Self::Sqlite(PathBuf::from(rest)));
        }
        if scheme.eq_ignore_ascii_case("postgres") || scheme.eq_ignore_ascii_case("postgresql") {
            return Ok(Self::Postgres(PostgresUrl(url.to_owned())));
        }
        // Echo the scheme only when it looks like one: anything else may be
        // part of a credential pasted in the wrong place.
        let shown = if !scheme.is_empty()
            && scheme.len() <= 32
            && scheme
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
        {
            scheme.to_owned()
        } else {
            "?".to_owned()
        };
        Err(StorageUrlError::UnsupportedScheme(UnsupportedScheme {
            scheme: shown,
        }))
    }

    /// Resolves a relative SQLite path against `base` (the configuration
    /// file's folder); absolute paths are kept.
    #[must_use]
    pub fn resolve(self, base: &Path) -> Self {
        match self {
            Self::Sqlite(path) if path.is_relative() => Self::Sqlite(base.join(path)),
            other => other,
        }
    }

    /// Opens (creating and migrating if needed) the store this names.
    pub fn open(&self) -> Result<Box<dyn Store>, StoreError> {
        match self {
            Self::Sqlite(path) => Ok(Box::new(SqliteStore::open(path)?)),
            Self::Postgres(url) => Ok(Box::new(crate::postgres::PostgresStore::open(
                url.expose(),
            )?)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_paths() {
        assert_eq!(
            StorageLocation::parse("sqlite://portcullis.db"),
            Ok(StorageLocation::Sqlite("portcullis.db".into()))
        );
        assert_eq!(
            StorageLocation::parse("sqlite:///var/lib/portcullis/db.sqlite"),
            Ok(StorageLocation::Sqlite(
                "/var/lib/portcullis/db.sqlite".into()
            ))
        );
        assert_eq!(
            StorageLocation::parse("sqlite://data/p.db")
                .map(|l| l.resolve(Path::new("/etc/portcullis"))),
            Ok(StorageLocation::Sqlite("/etc/portcullis/data/p.db".into()))
        );
        assert_eq!(
            StorageLocation::parse("sqlite:///abs.db").map(|l| l.resolve(Path::new("/etc"))),
            Ok(StorageLocation::Sqlite("/abs.db".into()))
        );
        assert_eq!(
            StorageLocation::parse("sqlite://"),
            Err(StorageUrlError::EmptyPath)
        );
    }

    #[test]
    fn postgres_urls_are_kept_and_never_shown() {
        for url in [
            "postgres://admin:hunter2@db/portcullis",
            "postgresql://admin:hunter2@db/portcullis",
        ] {
            let location = StorageLocation::parse(url).unwrap();
            let StorageLocation::Postgres(kept) = &location else {
                panic!("{location:?}");
            };
            assert_eq!(kept.expose(), url);
            assert!(!format!("{location:?}").contains("hunter2"));
            assert_eq!(location.clone().resolve(Path::new("/etc")), location);
        }
    }

    #[test]
    fn other_schemes_and_bare_paths() {
        assert_eq!(
            StorageLocation::parse("portcullis.db"),
            Err(StorageUrlError::MissingScheme)
        );
        let err = StorageLocation::parse("mysql://x").unwrap_err();
        assert!(err.to_string().contains("`mysql`"));
        let err = StorageLocation::parse("admin:hunter2@db://x").unwrap_err();
        assert!(!err.to_string().contains("hunter2"), "{err}");
    }
}
