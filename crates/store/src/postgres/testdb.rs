//! A database of its own for each test, on the PostgreSQL every machine of
//! this project runs (127.0.0.1:5432, trust auth, database `test`), dropped
//! when the test ends, however it ends.

use std::sync::atomic::{AtomicU64, Ordering};

static NEXT: AtomicU64 = AtomicU64::new(0);

const ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// A fresh, empty database; dropped with this value.
pub(super) struct TestDatabase {
    name: String,
}

impl TestDatabase {
    pub(super) async fn create() -> Self {
        let name = format!(
            "portcullis_test_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let admin = super::connect(ADMIN_URL)
            .await
            .unwrap_or_else(|e| panic!("PostgreSQL on 127.0.0.1:5432 (database test): {e}"));
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await
            .unwrap_or_else(|e| panic!("creating {name}: {e}"));
        Self { name }
    }

    pub(super) fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:5432/{}", self.name)
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        // Its own thread and runtime: a test's runtime may be gone already.
        let name = self.name.clone();
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            runtime.block_on(async {
                let admin = super::connect(ADMIN_URL).await.ok()?;
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
