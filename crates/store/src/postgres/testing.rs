//! A PostgreSQL database of its own for one test, on the server every
//! machine of this project runs (127.0.0.1:5432, trust auth, database
//! `test`), dropped when the value is, however the test ends. For this
//! crate's tests and, through the `testing` feature, testkit's.

#![allow(
    clippy::panic,
    reason = "test support: no database to test on fails the test that asked"
)]

use std::sync::atomic::{AtomicU64, Ordering};

use super::connect;

static NEXT: AtomicU64 = AtomicU64::new(0);

/// The database every machine has, to make and drop the tests' ones from.
pub const ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// A fresh, empty database.
#[derive(Debug)]
pub struct TestDatabase {
    name: String,
}

impl TestDatabase {
    /// A database named after `label`, this process and a counter.
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

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:5432/{}", self.name)
    }

    /// What a server stopped looks like to its clients, for this database
    /// only: every connection ended and every new one refused.
    pub async fn refuse_connections(&self) {
        self.admin(&format!(
            "ALTER DATABASE {0} WITH ALLOW_CONNECTIONS false; \
             SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{0}'",
            self.name
        ))
        .await;
    }

    /// Connections accepted again (the server back).
    pub async fn allow_connections(&self) {
        self.admin(&format!(
            "ALTER DATABASE {} WITH ALLOW_CONNECTIONS true",
            self.name
        ))
        .await;
    }

    async fn admin(&self, sql: &str) {
        let admin = connect(ADMIN_URL)
            .await
            .unwrap_or_else(|e| panic!("PostgreSQL on 127.0.0.1:5432 (database test): {e}"));
        admin
            .batch_execute(sql)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
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
