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
    /// Largest check-in or command message a device may send.
    pub max_device_body_bytes: usize,
    /// When a TLS proxy terminates device connections: the header it puts
    /// the client certificate in (e.g. `X-SSL-Client-Cert`). Empty: devices
    /// prove themselves with the `Mdm-Signature` header.
    pub client_cert_header: String,
    /// APNs: `https://api.push.apple.com` in production.
    pub apns_url: String,
    /// A PEM file of extra roots to trust for APNs (the simulator's CA).
    pub apns_ca_file: String,
    /// How often the pusher looks for jobs to push (it also runs at once
    /// when jobs are queued).
    pub push_interval_ms: u64,
    /// A pushed job the device has not fetched after this long is PUSHタイムアウト.
    pub push_timeout_seconds: i64,
    /// Push again for a job not fetched (or refused with NotNow) after this long.
    pub repush_after_seconds: i64,
    /// Stop pushing for a job after this many pushes (it still runs when the device comes).
    pub max_pushes: i64,
    /// At most this many pushes wait for their device at once (a push
    /// unanswered for 30 s, or its timeout if shorter, no longer counts).
    pub max_pushes_in_flight: i64,
    /// Key type of device identities in new enrollment profiles: `rsa`
    /// (RSA-2048, what every Apple OS accepts) or `p256` (ECDSA, faster to
    /// issue; iOS 10+, macOS 10.12+).
    pub identity_key: String,
    /// Sign enrollment profiles with this certificate (PEM, e.g. the server's
    /// TLS certificate) so devices show them as verified. Empty: unsigned.
    pub profile_signing_certificate_file: String,
    /// Its private key, PKCS#8 PEM.
    pub profile_signing_key_file: String,
    /// Serve HTTPS with this certificate chain (PEM) instead of plain HTTP;
    /// devices may then prove themselves with TLS client certificates.
    pub tls_certificate_file: String,
    /// The TLS key (PEM).
    pub tls_key_file: String,
    /// Apple's Apps and Books API: `https://vpp.itunes.apple.com/mdm/v2/`.
    pub vpp_url: String,
    /// Overrides the metadata lookup URL Apple's service config names (empty: Apple's).
    pub vpp_metadata_url: String,
    /// Let Apple's notifications come over plain HTTP. Apple itself refuses
    /// non-HTTPS URLs; only the simulator (demo, tests) accepts this.
    pub vpp_allow_http_notifications: bool,
    /// Read an Apple event's status when no notification came for this long
    /// (Apple: 5 minutes) ...
    pub vpp_poll_after_seconds: i64,
    /// ... and then no more often than this (Apple: 30 s).
    pub vpp_poll_every_seconds: i64,
    /// Sync every token this often (besides on demand and on notifications).
    pub vpp_sync_interval_minutes: i64,
    /// First back-off when Apple answers 429/9646 or 5xx (doubling, 4 attempts per call).
    pub vpp_retry_initial_ms: u64,
    /// Flag a paid app or book when fewer licenses than this are available.
    pub vpp_low_license_threshold: i64,
    /// Where mail goes out: `smtp://host:25`, `smtp+starttls://user:pass@host:587`,
    /// `smtps://user:pass@host:465`. Empty: no mail (expiry notices are skipped).
    pub smtp_url: String,
    /// The sender of haishin's mails.
    pub mail_from: String,
    /// How often due expiry notices are looked for.
    pub expiry_check_seconds: u64,
    /// J7: the first look at the managed app list after an install is
    /// acknowledged; later looks double up to `install_verify_max_interval_seconds`.
    pub install_verify_first_check_ms: u64,
    pub install_verify_max_interval_seconds: u64,
    /// An install the managed app list has not confirmed after this long
    /// ends as a device error.
    pub install_verify_timeout_minutes: u64,
    /// D5: auto-install rules are looked at when a device's app list
    /// arrives, a device changes group or a rule changes, and at least
    /// this often.
    pub auto_install_check_seconds: u64,
    /// Automatic updates of apps whose store version moved: a pass this
    /// often ...
    pub auto_update_interval_seconds: u64,
    /// ... updating at most this many devices per account, so a fleet is
    /// not hit at once. 0 turns automatic updates off.
    pub auto_update_devices_per_pass: usize,
    /// App metadata (store version, size, minimum OS) older than this is
    /// looked up again at the next sync, so a new version is noticed.
    pub vpp_metadata_refresh_hours: i64,
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
            max_device_body_bytes: 8 * 1024 * 1024,
            client_cert_header: String::new(),
            apns_url: "https://api.push.apple.com".into(),
            apns_ca_file: String::new(),
            push_interval_ms: 1000,
            push_timeout_seconds: 300,
            repush_after_seconds: 3600,
            max_pushes: 24,
            max_pushes_in_flight: 2000,
            identity_key: "rsa".into(),
            profile_signing_certificate_file: String::new(),
            profile_signing_key_file: String::new(),
            tls_certificate_file: String::new(),
            tls_key_file: String::new(),
            vpp_url: apple_vpp::DEFAULT_BASE_URL.into(),
            vpp_metadata_url: String::new(),
            vpp_allow_http_notifications: false,
            vpp_poll_after_seconds: 300,
            vpp_poll_every_seconds: 30,
            vpp_sync_interval_minutes: 360,
            vpp_retry_initial_ms: 1000,
            vpp_low_license_threshold: 10,
            smtp_url: String::new(),
            mail_from: "haishin <haishin@localhost>".into(),
            expiry_check_seconds: 300,
            install_verify_first_check_ms: 2000,
            install_verify_max_interval_seconds: 300,
            install_verify_timeout_minutes: 24 * 60,
            auto_install_check_seconds: 30,
            auto_update_interval_seconds: 15 * 60,
            auto_update_devices_per_pass: 500,
            vpp_metadata_refresh_hours: 24,
        }
    }
}

impl Config {
    pub fn verify_settings(&self) -> haishin_domain::deploy::verify::VerifySettings {
        haishin_domain::deploy::verify::VerifySettings {
            first_check_millis: self.install_verify_first_check_ms.max(10) as i64,
            max_interval_millis: (self.install_verify_max_interval_seconds.max(1) * 1000) as i64,
            timeout_millis: (self.install_verify_timeout_minutes.max(1) * 60_000) as i64,
        }
    }

    pub fn auto_update_settings(&self) -> haishin_domain::deploy::AutoUpdateSettings {
        haishin_domain::deploy::AutoUpdateSettings {
            every: std::time::Duration::from_secs(self.auto_update_interval_seconds.max(1)),
            batch: self.auto_update_devices_per_pass,
        }
    }

    pub fn push_policy(&self) -> haishin_domain::jobs::PushPolicy {
        haishin_domain::jobs::PushPolicy {
            timeout_millis: self.push_timeout_seconds.max(1) * 1000,
            repush_after_millis: self.repush_after_seconds.max(1) * 1000,
            max_pushes: self.max_pushes.max(1),
            max_in_flight: self.max_pushes_in_flight.max(1),
        }
    }

    pub fn vpp_settings(&self) -> haishin_domain::vpp::VppSettings {
        haishin_domain::vpp::VppSettings {
            base_url: self.vpp_url.clone(),
            metadata_url: Some(self.vpp_metadata_url.clone()).filter(|u| !u.is_empty()),
            allow_http_notifications: self.vpp_allow_http_notifications,
            poll_after_millis: self.vpp_poll_after_seconds.max(0) * 1000,
            poll_every_millis: self.vpp_poll_every_seconds.max(0) * 1000,
            low_license_threshold: self.vpp_low_license_threshold,
            metadata_max_age_millis: self.vpp_metadata_refresh_hours.max(0) * 3_600_000,
            retry: apple_vpp::RetryPolicy {
                initial_delay: std::time::Duration::from_millis(self.vpp_retry_initial_ms),
                max_delay: std::time::Duration::from_millis(self.vpp_retry_initial_ms.saturating_mul(30)),
                ..Default::default()
            },
        }
    }

    pub fn identity_key_algorithm(&self) -> anyhow::Result<mdm_identity::KeyAlgorithm> {
        match self.identity_key.as_str() {
            "rsa" => Ok(mdm_identity::KeyAlgorithm::Rsa),
            "p256" => Ok(mdm_identity::KeyAlgorithm::EcdsaP256),
            other => anyhow::bail!("identity_key must be \"rsa\" or \"p256\", not {other:?}"),
        }
    }

    /// The enrollment-profile signer, when both files are configured.
    pub fn profile_signer(&self) -> anyhow::Result<Option<mdm_identity::Signer>> {
        use anyhow::Context as _;
        match (
            self.profile_signing_certificate_file.is_empty(),
            self.profile_signing_key_file.is_empty(),
        ) {
            (true, true) => Ok(None),
            (false, false) => {
                let certificate = std::fs::read(&self.profile_signing_certificate_file)
                    .with_context(|| format!("reading {}", self.profile_signing_certificate_file))?;
                let key = std::fs::read_to_string(&self.profile_signing_key_file)
                    .with_context(|| format!("reading {}", self.profile_signing_key_file))?;
                let certificate = mdm_identity::CertificateInfo::parse(&certificate)
                    .context("profile_signing_certificate_file is not a certificate")?;
                let key = mdm_identity::PrivateKey::from_pkcs8_pem(&key)
                    .context("profile_signing_key_file is not a PKCS#8 private key")?;
                Ok(Some(mdm_identity::Signer::new(certificate.der(), key).context(
                    "the profile signing key does not belong to the certificate",
                )?))
            }
            _ => anyhow::bail!("set both profile_signing_certificate_file and profile_signing_key_file, or neither"),
        }
    }

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
