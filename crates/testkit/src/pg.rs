//! A PostgreSQL database of its own for one test, on the server every
//! machine of this project runs (127.0.0.1:5432, trust auth, database
//! `test`), dropped when the value is, however the test ends.

use std::sync::atomic::{AtomicU64, Ordering};

use portcullis_store::postgres::connect;

static NEXT: AtomicU64 = AtomicU64::new(0);

const ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// A fresh, empty database.
#[derive(Debug)]
pub struct TestDatabase {
    name: String,
}

impl TestDatabase {
    pub async fn create(label: &str) -> Self {
        let name = format!(
            "portcullis_{label}_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let admin = connect(ADMIN_URL)
            .await
            .unwrap_or_else(|e| panic!("PostgreSQL on 127.0.0.1:5432 (database test): {e}"));
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await
            .unwrap_or_else(|e| panic!("creating {name}: {e}"));
        Self { name }
    }

    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:5432/{}", self.name)
    }

    /// The `storage:` setting for it.
    pub fn storage(&self) -> portcullis_config::Storage {
        match portcullis_store::StorageLocation::parse(&self.url()) {
            Ok(portcullis_store::StorageLocation::Postgres(url)) => {
                portcullis_config::Storage::Postgres(url)
            }
            other => panic!("not a PostgreSQL location: {other:?}"),
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        // Its own thread and runtime: the test's runtime may be gone.
        let name = self.name.clone();
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            runtime.block_on(async {
                let admin = connect(ADMIN_URL).await.ok()?;
                admin
                    .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .await
                    .ok()
            })
        })
        .join();
        if !matches!(dropped, Ok(Some(()))) {
            eprintln!("test database {} was not dropped", self.name);
        }
    }
}
