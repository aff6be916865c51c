//! Configuration: defaults, then a TOML file, then `HAISHIN_*` environment
//! variables (each key below upper-cased: `HAISHIN_DATABASE_URL`, ...).

use std::path::{Path, PathBuf};

use anyhow::Context;
use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Address the HTTP server listens on.
    pub listen: String,
    /// The base URL devices reach haishin at (`https://mdm.example.jp`), for
    /// enrollment profiles; empty means `http://<listen address>`.
    pub public_url: String,
    /// Where the SQLite database and the master key live; created on first run.
    pub data_dir: PathBuf,
    /// `sqlite://…` or `postgres://…`; empty means `sqlite://<data_dir>/haishin.db`.
    pub database_url: String,
    pub database_max_connections: u32,
    /// Base64 of 32 bytes. Empty means the key file `<data_dir>/master.key`
    /// (generated on first run). Several replicas must share one key.
    pub master_key: String,
    /// `text` or `json`.
    pub log_format: String,
    /// A tracing filter such as `info` or `haishin=debug,info`; `RUST_LOG` wins.
    pub log_level: String,
    /// Console session lifetime.
    pub session_hours: i64,
    pub max_json_bytes: usize,
    pub max_csv_bytes: usize,
    /// Set the session cookie's `Secure` flag (serve over HTTPS, or behind a TLS proxy).
    pub secure_cookies: bool,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".into(),
            public_url: String::new(),
            data_dir: PathBuf::from("haishin-data"),
            database_url: String::new(),
            database_max_connections: 16,
            master_key: String::new(),
            log_format: "text".into(),
            log_level: "info".into(),
            session_hours: 12,
            max_json_bytes: 1024 * 1024,
            max_csv_bytes: 64 * 1024 * 1024,
            secure_cookies: false,
        }
    }
}

impl Config {
    /// Loads defaults ← file (if given) ← environment.
    pub fn load(file: Option<&Path>) -> anyhow::Result<Self> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Some(file) = file {
            anyhow::ensure!(file.exists(), "configuration file {} does not exist", file.display());
            figment = figment.merge(Toml::file(file));
        }
        figment = figment.merge(Env::prefixed("HAISHIN_").ignore(&["URL", "TOKEN", "TEST_POSTGRES_URL"]));
        figment.extract().context("invalid configuration")
    }

    pub fn database_url(&self) -> String {
        if self.database_url.is_empty() {
            format!("sqlite://{}", self.data_dir.join("haishin.db").display())
        } else {
            self.database_url.clone()
        }
    }

    pub fn master_key_file(&self) -> PathBuf {
        self.data_dir.join("master.key")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // figment's Jail fixes the closure's error type; its size is not ours to change.
    #[allow(clippy::result_large_err)]
    #[test]
    fn file_then_environment_override_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("haishin.toml");
        std::fs::write(&file, "listen = \"0.0.0.0:9000\"\nsession_hours = 4\n").unwrap();
        figment::Jail::expect_with(|jail| {
            jail.set_env("HAISHIN_SESSION_HOURS", "2");
            let config = Config::load(Some(&file)).unwrap();
            assert_eq!(config.listen, "0.0.0.0:9000");
            assert_eq!(config.session_hours, 2);
            assert!(config.database_url().starts_with("sqlite://"));
            Ok(())
        });
    }

    #[test]
    fn unknown_keys_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("haishin.toml");
        std::fs::write(&file, "lisen = \"0.0.0.0:9000\"\n").unwrap();
        let err = Config::load(Some(&file)).unwrap_err();
        assert!(format!("{err:#}").contains("lisen"), "{err:#}");
    }
}
