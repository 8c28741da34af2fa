//! The PostgreSQL store's migrations on a real PostgreSQL: applied once
//! when several nodes race them, and a database from a newer build refused.

use super::connect;
use super::migrations::{current_version, latest, migrate};
use super::testing::{ADMIN_URL, TestDatabase};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_racing_the_migration_apply_it_once() {
    let db = TestDatabase::create("store").await;
    let mut racers = tokio::task::JoinSet::new();
    for _ in 0..6 {
        let url = db.url();
        racers.spawn(async move {
            let mut client = connect(&url).await?;
            migrate(&mut client).await
        });
    }
    while let Some(result) = racers.join_next().await {
        result.unwrap().unwrap();
    }
    let client = connect(&db.url()).await.unwrap();
    assert_eq!(current_version(&client).await.unwrap(), latest());
    let applied: i64 = client
        .query_one("SELECT count(*) FROM portcullis_schema_version", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(applied, latest(), "each migration recorded once");
    // Every table the store needs is there, once.
    for table in [
        "identities",
        "credentials",
        "signing_keys",
        "revoked_tokens",
        "seen_assertions",
        "upstream_credentials",
        "audit_keys",
        "state_changes",
    ] {
        let found: bool = client
            .query_one("SELECT to_regclass($1) IS NOT NULL", &[&table])
            .await
            .unwrap()
            .get(0);
        assert!(found, "{table}");
    }
    // Migrating again changes nothing.
    let mut again = connect(&db.url()).await.unwrap();
    migrate(&mut again).await.unwrap();
    assert_eq!(current_version(&again).await.unwrap(), latest());
}

#[tokio::test]
async fn a_database_from_a_newer_build_is_refused_and_left_alone() {
    let db = TestDatabase::create("store").await;
    let mut client = connect(&db.url()).await.unwrap();
    migrate(&mut client).await.unwrap();
    let newer = latest() + 1;
    client
        .execute(
            "INSERT INTO portcullis_schema_version (version) VALUES ($1)",
            &[&newer],
        )
        .await
        .unwrap();
    let refused = migrate(&mut client).await.unwrap_err().to_string();
    assert!(
        refused.contains(&format!(
            "schema version {newer}, newer than this build's {}",
            latest()
        )),
        "{refused}"
    );
    assert_eq!(
        current_version(&client).await.unwrap(),
        newer,
        "left as it was"
    );
}

#[tokio::test]
async fn an_unreachable_database_is_unavailable() {
    let refused = connect("postgres://postgres@127.0.0.1:9/test")
        .await
        .unwrap_err();
    assert!(
        matches!(refused, crate::StoreError::Unavailable(_)),
        "{refused}"
    );
}

/// Runs `sql` on the server's own database, as the tests' administrator.
fn as_admin(runtime: &tokio::runtime::Runtime, sql: &str) {
    runtime.block_on(async {
        let admin = connect(ADMIN_URL).await.unwrap();
        admin.batch_execute(sql).await.unwrap();
    });
}

/// The statement that ends every connection to `db`.
fn terminate(db: &TestDatabase) -> String {
    format!(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{}'",
        db.name()
    )
}

/// A store on a database of its own, and the database (dropped after it).
fn store_on_fresh_database(
    runtime: &tokio::runtime::Runtime,
) -> (super::PostgresStore, TestDatabase) {
    let db = runtime.block_on(TestDatabase::create("store"));
    let store = super::PostgresStore::open(&db.url()).unwrap();
    (store, db)
}

/// The behaviour every backend owes the store traits (`behaviour.rs`), the
/// same suite SQLite passes.
#[test]
fn the_shared_behaviour_suite_passes_on_postgresql() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let databases = std::sync::Mutex::new(Vec::new());
    crate::behaviour::all(|| {
        let (store, db) = store_on_fresh_database(&runtime);
        databases.lock().unwrap().push(db);
        Box::new(store)
    });
}

/// The version the store's change feed reports once it moves past
/// `before` (within two seconds: a notification arrives in milliseconds).
fn moved_from(store: &super::PostgresStore, before: i64) -> i64 {
    use crate::ChangeStore;
    for _ in 0..200 {
        let now = store.data_version().unwrap();
        if now != before {
            return now;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    panic!("the data version stayed at {before}")
}

/// The data version moves for what nodes keep in memory, not for a use;
/// the change feed reports it without a query per call.
#[test]
fn the_data_version_moves_on_changes_but_not_on_use() {
    use crate::{ChangeStore, IdentityStore, RevocationStore};
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (store, _db) = store_on_fresh_database(&runtime);
    let v0 = store.data_version().unwrap();
    let mut bot = portcullis_core::Identity {
        id: "bot".into(),
        kind: portcullis_core::IdentityKind::Agent,
        owner: "o".into(),
        environment: "e".into(),
        tags: vec![],
        scopes: vec![],
        state: portcullis_core::IdentityState::Active,
        created: 1,
        expires: None,
        last_used: None,
    };
    store.upsert_identity(&bot).unwrap();
    let v1 = moved_from(&store, v0);
    store.touch_identity("bot", 50).unwrap();
    store.upsert_identity(&bot).unwrap();
    // Past a poll of the feed: nothing moved it.
    std::thread::sleep(std::time::Duration::from_millis(700));
    assert_eq!(
        store.data_version().unwrap(),
        v1,
        "a use, or the same row again, is not a change"
    );
    bot.owner = "p".into();
    store.upsert_identity(&bot).unwrap();
    let v2 = moved_from(&store, v1);
    store.revoke_token("t", 100).unwrap();
    moved_from(&store, v2);
    store.check_writable().unwrap();
}

/// A store another node changes: this one's feed hears it without being
/// asked; a feed cut off from PostgreSQL goes stale and refuses.
#[test]
fn the_change_feed_hears_other_nodes_and_goes_stale_when_cut_off() {
    use crate::{ChangeStore, RevocationStore};
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (here, db) = store_on_fresh_database(&runtime);
    let there = super::PostgresStore::open(&db.url()).unwrap();
    // `fleet.stale_after: 1s`: refuses sooner than the default 3 s.
    let strict =
        super::PostgresStore::open_stale_after(&db.url(), std::time::Duration::from_secs(1))
            .unwrap();
    let before = here.data_version().unwrap();
    let told = std::time::Instant::now();
    there.revoke_token("t", 100).unwrap();
    moved_from(&here, before);
    assert!(
        told.elapsed() < std::time::Duration::from_secs(1),
        "{:?}",
        told.elapsed()
    );
    // Every connection to the database refused from now on: the feed
    // cannot reconnect, and past its bound the version is unavailable.
    as_admin(
        &runtime,
        &format!(
            "ALTER DATABASE {0} WITH ALLOW_CONNECTIONS false; {1}",
            db.name(),
            terminate(&db)
        ),
    );
    let cut = std::time::Instant::now();
    std::thread::sleep(std::time::Duration::from_millis(1_600));
    assert!(strict.data_version().is_err());
    if cut.elapsed() < std::time::Duration::from_millis(2_200) {
        // Heard at most 500 ms before the cut: within the default bound.
        assert!(here.data_version().is_ok());
    }
    std::thread::sleep(
        (super::feed::STALE + std::time::Duration::from_millis(800)).saturating_sub(cut.elapsed()),
    );
    let refused = here.data_version().unwrap_err();
    assert!(
        matches!(refused, crate::StoreError::Unavailable(_)),
        "{refused}"
    );
    as_admin(
        &runtime,
        &format!("ALTER DATABASE {} WITH ALLOW_CONNECTIONS true", db.name()),
    );
    // Back: the feed reconnects (its back-off is at most two seconds).
    let mut back = false;
    for _ in 0..50 {
        if here.data_version().is_ok() {
            back = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(back, "the feed came back");
}

/// Connections killed under it: a call may fail `Unavailable` (never a
/// wrong answer), and the store recovers without a restart.
#[test]
fn terminated_connections_fail_closed_and_recover() {
    use crate::IdentityStore;
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (store, db) = store_on_fresh_database(&runtime);
    assert!(store.list_identities().unwrap().is_empty());
    as_admin(&runtime, &terminate(&db));
    // Each connection thread finds its connection dead at most once.
    let mut answers = Vec::new();
    for _ in 0..40 {
        match store.list_identities() {
            Ok(list) => {
                assert!(list.is_empty());
                answers.push("ok");
            }
            Err(e) => {
                assert!(matches!(e, crate::StoreError::Unavailable(_)), "{e}");
                answers.push("unavailable");
            }
        }
    }
    let failed = answers.iter().filter(|a| **a == "unavailable").count();
    assert!(failed <= super::CONNECTIONS, "{answers:?}");
    assert!(answers.ends_with(&["ok"; 16]), "recovered: {answers:?}");
}

#[test]
fn an_unreachable_database_cannot_be_opened() {
    let refused = super::PostgresStore::open("postgres://postgres@127.0.0.1:9/test").unwrap_err();
    assert!(
        matches!(refused, crate::StoreError::Unavailable(_)),
        "{refused}"
    );
}
