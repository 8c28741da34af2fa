//! A store opened to read is left exactly as it was found.

use std::fs;
use std::path::{Path, PathBuf};

use crate::sqlite::migrations;
use crate::sqlite::tests::{TempDir, identity};
use crate::{IdentityStore, KeyStore, SqliteStore, StoreError, StoredKey};

/// The folder's files, with their bytes.
fn files(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out: Vec<(PathBuf, Vec<u8>)> = fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let path = e.unwrap().path();
            let bytes = fs::read(&path).unwrap();
            (path, bytes)
        })
        .collect();
    out.sort();
    out
}

fn assert_unavailable(err: &StoreError, says: &str) {
    assert!(matches!(err, StoreError::Unavailable(_)), "{err:?}");
    assert!(err.to_string().contains(says), "{err}");
}

#[test]
fn a_missing_store_is_not_created() {
    let dir = TempDir::new("ro-missing");
    let err = SqliteStore::open_read_only(&dir.db()).unwrap_err();
    assert!(matches!(err, StoreError::Unavailable(_)), "{err:?}");
    assert!(files(&dir.0).is_empty());
}

#[test]
fn reading_leaves_the_file_as_it_was_and_nothing_beside_it() {
    let dir = TempDir::new("ro-bytes");
    {
        let store = SqliteStore::open(&dir.db()).unwrap();
        store.upsert_identity(&identity("bot")).unwrap();
    }
    let before = files(&dir.0);
    assert_eq!(before.len(), 1, "a closed store is one file");
    {
        let store = SqliteStore::open_read_only(&dir.db()).unwrap();
        assert_eq!(store.get_identity("bot").unwrap(), Some(identity("bot")));
        assert_eq!(store.schema_version().unwrap(), migrations::latest());
        let err = store.upsert_identity(&identity("new")).unwrap_err();
        assert!(matches!(err, StoreError::Unavailable(_)), "{err:?}");
        let key = StoredKey {
            kid: "k".into(),
            created: 1,
            retired: None,
            pkcs8: vec![7; 16],
        };
        let err = store.insert_key(&key).unwrap_err();
        assert!(matches!(err, StoreError::Unavailable(_)), "{err:?}");
    }
    assert_eq!(files(&dir.0), before);
}

#[test]
fn a_reader_beside_a_writer_sees_its_commits() {
    let dir = TempDir::new("ro-live");
    let writer = SqliteStore::open(&dir.db()).unwrap();
    let reader = SqliteStore::open_read_only(&dir.db()).unwrap();
    assert_eq!(reader.get_identity("bot").unwrap(), None);
    writer.upsert_identity(&identity("bot")).unwrap();
    assert_eq!(reader.get_identity("bot").unwrap(), Some(identity("bot")));
    drop(reader);
    // The writer's own side files are still there for it.
    assert!(dir.0.join("portcullis.db-wal").exists());
    writer.upsert_identity(&identity("other")).unwrap();
}

#[test]
fn an_older_schema_is_refused_not_migrated() {
    let dir = TempDir::new("ro-older");
    drop(SqliteStore::open(&dir.db()).unwrap());
    rusqlite::Connection::open(dir.db())
        .unwrap()
        .execute("DELETE FROM schema_version WHERE version > 1", [])
        .unwrap();
    let before = files(&dir.0);
    let err = SqliteStore::open_read_only(&dir.db()).unwrap_err();
    assert_unavailable(&err, "version 1, older than this build's");
    assert_eq!(files(&dir.0), before);
}

#[test]
fn a_newer_schema_or_no_store_at_all_is_refused() {
    let dir = TempDir::new("ro-newer");
    drop(SqliteStore::open(&dir.db()).unwrap());
    rusqlite::Connection::open(dir.db())
        .unwrap()
        .execute("INSERT INTO schema_version (version) VALUES (999)", [])
        .unwrap();
    let err = SqliteStore::open_read_only(&dir.db()).unwrap_err();
    assert_unavailable(&err, "999");
    let empty = dir.0.join("empty.db");
    fs::write(&empty, b"").unwrap();
    let err = SqliteStore::open_read_only(&empty).unwrap_err();
    assert_unavailable(&err, "no Portcullis store");
    assert_eq!(fs::read(&empty).unwrap(), b"");
}
