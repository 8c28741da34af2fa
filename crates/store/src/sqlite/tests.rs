//! Tests of the store as a whole: files, migrations, faults. Per-record
//! behaviour is tested beside each record module.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use portcullis_core::{Identity, IdentityKind, IdentityState};

use super::migrations;
use crate::{
    Credential, CredentialKind, CredentialStore, IdentityStore, KeyStore, SqliteStore,
    StorageLocation, StoreError, StoredKey,
};

/// An active agent identity with tags and scopes.
pub(super) fn identity(id: &str) -> Identity {
    Identity {
        id: id.into(),
        kind: IdentityKind::Agent,
        owner: "team-data".into(),
        environment: "prod".into(),
        tags: vec!["reporting".into()],
        scopes: vec!["orders:read".into(), "orders:write".into()],
        state: IdentityState::Active,
        created: 100,
        expires: None,
        last_used: None,
    }
}

/// A fresh folder under the system temp dir, removed on drop.
pub(super) struct TempDir(pub(super) PathBuf);

impl TempDir {
    pub(super) fn new(name: &str) -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let unique = format!(
            "portcullis-store-{name}-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let path = std::env::temp_dir().join(unique);
        fs::create_dir_all(&path).unwrap();
        Self(path)
    }

    pub(super) fn db(&self) -> PathBuf {
        self.0.join("portcullis.db")
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::set_permissions(&self.0, fs::Permissions::from_mode(0o755));
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn schema_rows(path: &Path) -> i64 {
    rusqlite::Connection::open(path)
        .unwrap()
        .query_row("SELECT COUNT(*) FROM schema_version", [], |r| r.get(0))
        .unwrap()
}

#[test]
fn reopening_keeps_data_and_does_not_rerun_migrations() {
    let dir = TempDir::new("reopen");
    {
        let store = SqliteStore::open(&dir.db()).unwrap();
        assert_eq!(store.schema_version().unwrap(), migrations::latest());
        store.upsert_identity(&identity("bot")).unwrap();
    }
    let location = StorageLocation::parse("sqlite://portcullis.db")
        .unwrap()
        .resolve(&dir.0);
    let store = location.open().unwrap();
    assert_eq!(store.get_identity("bot").unwrap(), Some(identity("bot")));
    drop(store);
    let store = SqliteStore::open(&dir.db()).unwrap();
    assert_eq!(store.list_identities().unwrap().len(), 1);
    let mode: String = store
        .lock_for_test()
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    drop(store);
    // One row per applied migration, however often the file is opened.
    assert_eq!(schema_rows(&dir.db()), migrations::latest());
}

#[test]
fn a_newer_schema_is_refused_not_downgraded() {
    let dir = TempDir::new("newer");
    drop(SqliteStore::open(&dir.db()).unwrap());
    rusqlite::Connection::open(dir.db())
        .unwrap()
        .execute("INSERT INTO schema_version (version) VALUES (999)", [])
        .unwrap();
    let err = SqliteStore::open(&dir.db()).unwrap_err();
    assert!(matches!(err, StoreError::Unavailable(_)), "{err:?}");
    assert!(err.to_string().contains("999"), "{err}");
}

#[test]
fn a_file_that_is_not_a_database_is_unavailable() {
    let dir = TempDir::new("garbage");
    fs::write(dir.db(), vec![0x5A; 8192]).unwrap();
    let err = SqliteStore::open(&dir.db()).unwrap_err();
    assert!(matches!(err, StoreError::Unavailable(_)), "{err:?}");
}

/// Opens a read-only database and writes to it: either step may fail, and
/// either way the failure is `Unavailable`, never a panic.
fn assert_unavailable_on_write(path: &Path) {
    match SqliteStore::open(path) {
        Err(err) => assert!(matches!(err, StoreError::Unavailable(_)), "{err:?}"),
        Ok(store) => {
            let err = store.upsert_identity(&identity("new")).unwrap_err();
            assert!(matches!(err, StoreError::Unavailable(_)), "{err:?}");
            let err = store.touch_identity("bot", 5).unwrap_err();
            assert!(matches!(err, StoreError::Unavailable(_)), "{err:?}");
        }
    }
}

#[test]
fn a_read_only_database_is_unavailable_on_write() {
    let dir = TempDir::new("readonly");
    {
        let store = SqliteStore::open(&dir.db()).unwrap();
        store.upsert_identity(&identity("bot")).unwrap();
    }
    fs::set_permissions(dir.db(), fs::Permissions::from_mode(0o444)).unwrap();
    // Root (or CAP_DAC_OVERRIDE) ignores file modes, so there is nothing to
    // test: detect that by trying to write, and stop here.
    if fs::OpenOptions::new().append(true).open(dir.db()).is_ok() {
        return;
    }
    // The file read-only, its folder writable (WAL side files can be made).
    assert_unavailable_on_write(&dir.db());
    // The folder read-only too.
    let _ = fs::remove_file(dir.0.join("portcullis.db-wal"));
    let _ = fs::remove_file(dir.0.join("portcullis.db-shm"));
    fs::set_permissions(&dir.0, fs::Permissions::from_mode(0o555)).unwrap();
    assert_unavailable_on_write(&dir.db());
}

#[test]
fn a_read_only_connection_is_unavailable_on_write() {
    // The same failure as a read-only file, reproducible as root.
    let store = SqliteStore::open_in_memory().unwrap();
    store.upsert_identity(&identity("bot")).unwrap();
    store
        .lock_for_test()
        .pragma_update(None, "query_only", "ON")
        .unwrap();
    assert_eq!(store.get_identity("bot").unwrap(), Some(identity("bot")));
    let err = store.touch_identity("bot", 5).unwrap_err();
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

#[test]
fn an_unknown_enum_spelling_is_corrupt() {
    let store = SqliteStore::open_in_memory().unwrap();
    store.upsert_identity(&identity("bot")).unwrap();
    store.upsert_identity(&identity("ok")).unwrap();
    store
        .lock_for_test()
        .execute("UPDATE identities SET kind = 'robot' WHERE id = 'bot'", [])
        .unwrap();
    let err = store.get_identity("bot").unwrap_err();
    assert!(matches!(err, StoreError::Corrupt(_)), "{err:?}");
    assert!(err.to_string().contains("`kind`"), "{err}");
    assert!(matches!(
        store.list_identities(),
        Err(StoreError::Corrupt(_))
    ));
    // Other rows still read.
    assert!(store.get_identity("ok").unwrap().is_some());
}

#[test]
fn malformed_columns_are_corrupt() {
    let store = SqliteStore::open_in_memory().unwrap();
    store.upsert_identity(&identity("bot")).unwrap();
    let credential = Credential {
        id: "c1".into(),
        identity: "bot".into(),
        kind: CredentialKind::ApiKey,
        secret_hash: Some([1; 32]),
        public_jwk: None,
        created: 1,
        expires: 2,
        revoked: None,
        label: None,
    };
    store.insert_credential(&credential).unwrap();
    let corrupt = |sql: &str| {
        store.lock_for_test().execute(sql, []).unwrap();
    };

    corrupt("UPDATE credentials SET kind = 'password'");
    let err = store.list_credentials("bot").unwrap_err();
    assert!(matches!(err, StoreError::Corrupt(_)), "{err:?}");

    corrupt("UPDATE credentials SET kind = 'api-key', public_jwk = '{not json'");
    let err = store.list_credentials("bot").unwrap_err();
    assert!(matches!(err, StoreError::Corrupt(_)), "{err:?}");

    corrupt("UPDATE identities SET tags = '{\"a\": 1}'");
    let err = store.get_identity("bot").unwrap_err();
    assert!(matches!(err, StoreError::Corrupt(_)), "{err:?}");

    // STRICT tables and CHECK constraints stop most damage at write time;
    // with checks off, a hash of the wrong length still reads as corrupt.
    corrupt("UPDATE credentials SET public_jwk = NULL");
    corrupt("PRAGMA ignore_check_constraints = ON");
    corrupt("UPDATE credentials SET secret_hash = x'0102030405'");
    let err = store.list_credentials("bot").unwrap_err();
    assert!(matches!(err, StoreError::Corrupt(_)), "{err:?}");
}

#[test]
fn a_poisoned_lock_is_unavailable_not_a_panic() {
    let store = SqliteStore::open_in_memory().unwrap();
    std::thread::scope(|s| {
        let handle = s.spawn(|| {
            let _guard = store.conn.lock().unwrap();
            panic!("poison the connection lock");
        });
        assert!(handle.join().is_err());
    });
    let err = store.get_identity("bot").unwrap_err();
    assert!(matches!(err, StoreError::Unavailable(_)), "{err:?}");
}

#[test]
fn data_version_moves_when_another_connection_commits() {
    use crate::{ChangeStore, RevocationStore};
    let dir = std::env::temp_dir().join(format!("portcullis-store-dv-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("dv.db");
    let a = SqliteStore::open(&path).unwrap();
    let b = SqliteStore::open(&path).unwrap();
    let before = a.data_version().unwrap();
    a.revoke_token("own-write", 10).unwrap();
    assert_eq!(a.data_version().unwrap(), before, "own writes do not count");
    b.revoke_token("other-write", 10).unwrap();
    let mut seen = a.data_version().unwrap();
    assert_ne!(seen, before);
    // Every commit is seen on the very next ask, asks in between agree,
    // and a checkpoint that rewrites the database file and empties the
    // log changes none of that.
    for i in 0..20 {
        if i == 10 {
            b.lock_for_test()
                .execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")
                .unwrap();
        }
        b.revoke_token(&format!("other-{i}"), 10).unwrap();
        let now = a.data_version().unwrap();
        assert_ne!(now, seen, "commit {i} was not seen");
        assert_eq!(a.data_version().unwrap(), now);
        seen = now;
    }
    drop((a, b));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn sealed_upstream_credentials_round_trip_and_follow_their_identity() {
    use crate::{IdentityStore, SealedCredential, UpstreamCredentialStore};
    let store = SqliteStore::open_in_memory().unwrap();
    let mut identity = portcullis_core::Identity {
        id: "billing-sync".into(),
        kind: portcullis_core::IdentityKind::Service,
        owner: "o".into(),
        environment: "e".into(),
        tags: vec![],
        scopes: vec![],
        state: portcullis_core::IdentityState::Active,
        created: 1,
        expires: None,
        last_used: None,
    };
    store.upsert_identity(&identity).unwrap();
    let sealed = SealedCredential {
        identity: "billing-sync".into(),
        api: "orders".into(),
        nonce: [7; 12],
        sealed: vec![1, 2, 3],
        created: 5,
    };
    store.put_upstream_credential(&sealed).unwrap();
    store
        .put_upstream_credential(&SealedCredential {
            sealed: vec![9],
            ..sealed.clone()
        })
        .unwrap();
    let listed = store.list_upstream_credentials().unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].sealed, vec![9]);
    assert!(
        !format!("{:?}", listed[0]).contains('9'),
        "Debug hides the sealed bytes"
    );
    let orphan = SealedCredential {
        identity: "ghost".into(),
        ..sealed.clone()
    };
    assert!(matches!(
        store.put_upstream_credential(&orphan),
        Err(StoreError::NotFound(_))
    ));
    identity.id = "billing-sync".into();
    store.delete_identity(&identity.id).unwrap();
    assert!(store.list_upstream_credentials().unwrap().is_empty());
    assert!(matches!(
        store.delete_upstream_credential("billing-sync", "orders"),
        Err(StoreError::NotFound(_))
    ));
}

/// The behaviour every backend owes the store traits (`behaviour.rs`), on
/// SQLite: in memory, and in a file.
#[test]
fn the_shared_behaviour_suite_passes_on_sqlite() {
    crate::behaviour::all(|| Box::new(SqliteStore::open_in_memory().unwrap()));
    let dir = TempDir::new("behaviour");
    let n = AtomicUsize::new(0);
    crate::behaviour::all(|| {
        let path = dir
            .0
            .join(format!("store-{}.db", n.fetch_add(1, Ordering::Relaxed)));
        Box::new(SqliteStore::open(&path).unwrap())
    });
}
