//! The PostgreSQL store's migrations on a real PostgreSQL: applied once
//! when several nodes race them, and a database from a newer build refused.

use super::connect;
use super::migrations::{current_version, latest, migrate};
use super::testdb::TestDatabase;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_racing_the_migration_apply_it_once() {
    let db = TestDatabase::create().await;
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
    let db = TestDatabase::create().await;
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
