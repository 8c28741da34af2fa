//! A PostgreSQL database of its own for one test (the store's
//! [`TestDatabase`]), and the `storage:` setting that names it.

pub use portcullis_store::postgres::testing::TestDatabase;

/// The `storage:` setting for `db`.
pub fn storage(db: &TestDatabase) -> portcullis_config::Storage {
    match portcullis_store::StorageLocation::parse(&db.url()) {
        Ok(portcullis_store::StorageLocation::Postgres(url)) => {
            portcullis_config::Storage::Postgres(url)
        }
        other => panic!("not a PostgreSQL location: {other:?}"),
    }
}
