//! Fresh databases for tests, on both backends: every test gets its own
//! SQLite file or its own PostgreSQL database, so runs never collide.

use crate::{SqlStore, StorageError};

/// The PostgreSQL server tests use; `HAISHIN_TEST_POSTGRES_URL` overrides it.
pub fn postgres_admin_url() -> String {
    std::env::var("HAISHIN_TEST_POSTGRES_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

/// A migrated store on a throw-away database.
pub struct TestDb {
    pub store: SqlStore,
    pub url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres { admin_url: String, name: String },
}

impl TestDb {
    pub async fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("haishin.db").display());
        let store = SqlStore::connect(&url, 4).await.expect("open sqlite");
        store.migrate().await.expect("migrate sqlite");
        Self {
            store,
            url,
            cleanup: Cleanup::Sqlite(dir),
        }
    }

    /// Creates `haishin_t_<random>` on the test server. Fails loudly when the
    /// server is down: storage tests must run against both backends.
    pub async fn postgres() -> Self {
        let admin_url = postgres_admin_url();
        let name = format!("haishin_t_{}", uuid::Uuid::new_v4().simple());
        let admin = SqlStore::connect(&admin_url, 1)
            .await
            .unwrap_or_else(|e| panic!("PostgreSQL for tests at {admin_url}: {e} (start it, see README)"));
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&admin.write)
            .await
            .expect("create test database");
        admin.close().await;
        let url = replace_database(&admin_url, &name);
        let store = SqlStore::connect(&url, 8).await.expect("open test database");
        store.migrate().await.expect("migrate postgres");
        Self {
            store,
            url,
            cleanup: Cleanup::Postgres { admin_url, name },
        }
    }

    /// Opens the backend named `sqlite` or `postgres`.
    pub async fn open(backend: &str) -> Self {
        match backend {
            "sqlite" => Self::sqlite().await,
            "postgres" => Self::postgres().await,
            other => panic!("unknown backend {other}"),
        }
    }

    /// Drops the database (PostgreSQL) or its directory (SQLite).
    pub async fn cleanup(self) -> Result<(), StorageError> {
        self.store.close().await;
        if let Cleanup::Postgres { admin_url, name } = self.cleanup {
            let admin = SqlStore::connect(&admin_url, 1).await?;
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
            )))
            .execute(&admin.write)
            .await?;
            admin.close().await;
        }
        Ok(())
    }
}

/// Swaps the database name at the end of a PostgreSQL URL.
pub fn replace_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let prefix = base.rsplit_once('/').map(|(p, _)| p).unwrap_or(base);
    match query {
        Some(q) => format!("{prefix}/{name}?{q}"),
        None => format!("{prefix}/{name}"),
    }
}

/// Declares `$name` as two tests, one per backend: `mod $name { sqlite, postgres }`
/// each calling `async fn $name(backend: &str)` from the enclosing module.
#[macro_export]
macro_rules! on_both_backends {
    ($name:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name("sqlite").await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$name("postgres").await;
            }
        }
    };
}
