//! haishin's [`Store`](haishin_domain::Store) on SQL databases: embedded
//! SQLite by default (zero set-up, one file in the data directory), and
//! PostgreSQL for production and several server replicas.
//!
//! Both run the same SQL text through sqlx's `Any` driver; schema types are
//! kept portable (BIGINT millisecond timestamps, TEXT, 0/1 flags) so only the
//! DDL differs, in `migrations/sqlite` and `migrations/postgres`.

mod accounts;
mod app_rules;
mod audit;
mod deployments;
mod devices;
mod enrollment;
mod groups;
mod import;
mod job_content;
mod jobs;
mod mdm;
mod push_certificates;
mod rows;
mod sql;
mod store_impl;
mod users;
mod vpp;

#[cfg(feature = "testing")]
pub mod testing;

use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, ConnectOptions, Executor};

pub use sql::StorageError;

/// Which database a URL points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn from_url(url: &str) -> Result<Self, StorageError> {
        if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Ok(Backend::Postgres)
        } else {
            Err(StorageError::UnsupportedUrl)
        }
    }

    /// Rows per multi-row INSERT. sqlx's SQLite driver binds parameters in
    /// time that grows faster than linearly with their number per statement
    /// (measured: 500-row batches ran at 6k devices/s, 20-row batches at 40k/s),
    /// while PostgreSQL gains from fewer round trips.
    pub(crate) fn rows_per_insert(self) -> usize {
        match self {
            Backend::Sqlite => 20,
            Backend::Postgres => 500,
        }
    }

    /// Values per `IN (…)` lookup, for the same reason.
    pub(crate) fn values_per_lookup(self) -> usize {
        match self {
            Backend::Sqlite => 200,
            Backend::Postgres => 5000,
        }
    }

    /// `LIKE` ignores ASCII case on SQLite; PostgreSQL needs `ILIKE`.
    pub(crate) fn case_insensitive_like(self) -> &'static str {
        match self {
            Backend::Sqlite => "LIKE",
            Backend::Postgres => "ILIKE",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// The SQL store. Reads and writes use separate pools: on SQLite the write
/// pool holds a single connection, so writers queue in the application
/// instead of failing with `SQLITE_BUSY` when two transactions both try to
/// upgrade their locks; on PostgreSQL both are the same pool.
#[derive(Clone, Debug)]
pub struct SqlStore {
    pub(crate) read: AnyPool,
    pub(crate) write: AnyPool,
    pub(crate) backend: Backend,
}

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

impl SqlStore {
    /// Connects to `url` (`sqlite://path/to/file.db` or `postgres://...`),
    /// creating a SQLite file if it does not exist. Does not migrate.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self, StorageError> {
        sqlx::any::install_default_drivers();
        let backend = Backend::from_url(url)?;
        let options = AnyConnectOptions::from_str(&with_sqlite_create(url, backend))?
            .log_statements(tracing::log::LevelFilter::Trace)
            .log_slow_statements(tracing::log::LevelFilter::Warn, Duration::from_secs(2));
        let pool = |max: u32| {
            AnyPoolOptions::new()
                .max_connections(max)
                .acquire_timeout(Duration::from_secs(30))
                .after_connect(move |conn, _| {
                    Box::pin(async move {
                        if backend == Backend::Sqlite {
                            conn.execute(
                                "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                                 PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000;",
                            )
                            .await?;
                        }
                        Ok(())
                    })
                })
                .connect_with(options.clone())
        };
        let store = match backend {
            Backend::Sqlite => {
                let write = pool(1).await?;
                let read = pool(max_connections.max(2)).await?;
                Self { read, write, backend }
            }
            Backend::Postgres => {
                let shared = pool(max_connections).await?;
                Self {
                    read: shared.clone(),
                    write: shared,
                    backend,
                }
            }
        };
        Ok(store)
    }

    /// Applies pending migrations of this backend's dialect.
    pub async fn migrate(&self) -> Result<(), StorageError> {
        let migrator = match self.backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrator.run(&self.write).await?;
        Ok(())
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Keeps the query planner's statistics current. SQLite never gathers
    /// statistics on its own, and without them it picked the account index
    /// over the per-device one once the job table grew (a 20x slowdown at
    /// 30k jobs in `haishin bench mdm`); `PRAGMA optimize` re-analyses only
    /// the tables whose size moved a lot, so calling it often is cheap.
    /// PostgreSQL's autovacuum already does this.
    pub async fn refresh_statistics(&self) -> Result<(), StorageError> {
        if self.backend == Backend::Sqlite {
            sqlx::raw_sql("PRAGMA analysis_limit = 1000; PRAGMA optimize = 0x10002;")
                .execute(&self.write)
                .await?;
        }
        Ok(())
    }

    pub async fn close(&self) {
        self.write.close().await;
        self.read.close().await;
    }
}

fn with_sqlite_create(url: &str, backend: Backend) -> String {
    if backend == Backend::Sqlite && !url.contains("mode=") && !url.contains(":memory:") {
        let separator = if url.contains('?') { '&' } else { '?' };
        format!("{url}{separator}mode=rwc")
    } else {
        url.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backend_from_url() {
        assert_eq!(Backend::from_url("sqlite://x.db").unwrap(), Backend::Sqlite);
        assert_eq!(Backend::from_url("postgres://h/db").unwrap(), Backend::Postgres);
        assert_eq!(Backend::from_url("postgresql://h/db").unwrap(), Backend::Postgres);
        assert!(Backend::from_url("mysql://h/db").is_err());
        assert_eq!(
            with_sqlite_create("sqlite://a.db", Backend::Sqlite),
            "sqlite://a.db?mode=rwc"
        );
    }
}
