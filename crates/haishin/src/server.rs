//! Starting and stopping the server: open the database, migrate, load the
//! master key, bind, serve until SIGTERM/SIGINT.

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use anyhow::Context;
use haishin_domain::mdm::MdmRuntime;
use haishin_domain::mdm::pusher::{ApnsSettings, Pusher};
use haishin_domain::service::Services;
use haishin_http::{AppState, HttpOptions};
use haishin_secrets::MasterKey;
use haishin_storage::SqlStore;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use tokio::sync::oneshot;

use crate::config::Config;

/// Opens (creating if needed) the data directory and the database, and
/// applies migrations.
pub async fn open_store(config: &Config) -> anyhow::Result<SqlStore> {
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("creating data directory {}", config.data_dir.display()))?;
    let url = config.database_url();
    let store = SqlStore::connect(&url, config.database_max_connections)
        .await
        .with_context(|| format!("opening database ({})", redact_url(&url)))?;
    store.migrate().await.context("applying migrations")?;
    Ok(store)
}

/// The master key from `HAISHIN_MASTER_KEY`/config, else from its file.
pub fn load_master_key(config: &Config) -> anyhow::Result<MasterKey> {
    if config.master_key.is_empty() {
        MasterKey::load_or_create(&config.master_key_file()).context("loading master key file")
    } else {
        MasterKey::from_base64(&config.master_key).context("HAISHIN_MASTER_KEY")
    }
}

/// The process-wide Prometheus recorder (installed once, shared by every
/// server started in this process, as tests do).
fn prometheus() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new().build_recorder();
            let handle = recorder.handle();
            // Fails only if another recorder is installed, in which case
            // metrics go there and /metrics shows what this one has.
            let _ = metrics::set_global_recorder(recorder);
            handle
        })
        .clone()
}

pub fn services(store: SqlStore, master_key: Arc<MasterKey>, config: &Config) -> anyhow::Result<Services> {
    let mut services = Services::new(Arc::new(store), master_key);
    services.session_ttl_millis = config.session_hours * 3600 * 1000;
    services.mdm = Arc::new(MdmRuntime {
        identity_key: config.identity_key_algorithm()?,
        profile_signer: config.profile_signer()?.map(Arc::new),
        verify: config.verify_settings(),
        ..MdmRuntime::default()
    });
    let mut vpp = haishin_domain::vpp::VppRuntime::new(config.vpp_settings());
    if !config.smtp_url.is_empty() {
        let mailer =
            haishin_mail::SmtpMailer::from_url(&config.smtp_url).map_err(|e| anyhow::anyhow!("smtp_url: {e}"))?;
        vpp.mailer = Some(Arc::new(mailer));
    }
    vpp.mail_from = config.mail_from.clone();
    services.vpp = Arc::new(vpp);
    Ok(services)
}

fn apns_settings(config: &Config) -> anyhow::Result<ApnsSettings> {
    let root_ca_pem = if config.apns_ca_file.is_empty() {
        None
    } else {
        Some(
            std::fs::read_to_string(&config.apns_ca_file)
                .with_context(|| format!("reading apns_ca_file {}", config.apns_ca_file))?,
        )
    };
    Ok(ApnsSettings {
        base_url: config.apns_url.clone(),
        root_ca_pem,
    })
}

/// A server running in the background of this process.
pub struct RunningServer {
    pub addr: SocketAddr,
    pub services: Services,
    shutdown: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl RunningServer {
    /// Where this server is reached (its public URL).
    pub fn url(&self) -> String {
        self.services.public_url.clone()
    }

    /// Serves until SIGTERM/SIGINT.
    pub async fn wait(self) -> anyhow::Result<()> {
        let RunningServer { shutdown, task, .. } = self;
        let result = task.await?;
        drop(shutdown);
        result
    }

    /// Stops accepting, finishes in-flight requests, and waits.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        self.task.await?
    }
}

/// Opens everything and starts serving; returns once the port is bound.
pub async fn start(config: &Config) -> anyhow::Result<RunningServer> {
    let store = open_store(config).await?;
    let master_key = Arc::new(load_master_key(config)?);
    start_with_store(config, store, master_key).await
}

pub async fn start_with_store(
    config: &Config,
    store: SqlStore,
    master_key: Arc<MasterKey>,
) -> anyhow::Result<RunningServer> {
    let listener = tokio::net::TcpListener::bind(&config.listen)
        .await
        .with_context(|| format!("binding {}", config.listen))?;
    let addr = listener.local_addr()?;
    let statistics_store = store.clone();
    let mut services = services(store, master_key, config)?;
    let tls = if config.tls_certificate_file.is_empty() && config.tls_key_file.is_empty() {
        None
    } else {
        Some(crate::tls::acceptor(
            &config.tls_certificate_file,
            &config.tls_key_file,
        )?)
    };
    let scheme = if tls.is_some() { "https" } else { "http" };
    services.public_url = if config.public_url.is_empty() {
        format!("{scheme}://{addr}")
    } else {
        config.public_url.clone()
    };
    let handle = prometheus();
    let state = AppState {
        services: services.clone(),
        options: Arc::new(HttpOptions {
            max_json_bytes: config.max_json_bytes,
            max_csv_bytes: config.max_csv_bytes,
            secure_cookies: config.secure_cookies,
            max_device_body_bytes: config.max_device_body_bytes,
            client_cert_header: Some(config.client_cert_header.clone()).filter(|h| !h.is_empty()),
        }),
        metrics: Arc::new(move || handle.render()),
    };
    let app = haishin_http::router(state);
    let (tx, rx) = oneshot::channel::<()>();
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let pusher = Arc::new(Pusher::new(
        services.clone(),
        apns_settings(config)?,
        config.push_policy(),
    ));
    let interval = Duration::from_millis(config.push_interval_ms.max(10));
    let mut pusher_stop = stop_rx.clone();
    let pusher_task = tokio::spawn(pusher.run(interval, async move {
        let _ = pusher_stop.wait_for(|stop| *stop).await;
    }));
    let vpp_task = tokio::spawn(crate::background::run_vpp(
        services.clone(),
        Duration::from_secs(config.vpp_sync_interval_minutes.max(1) as u64 * 60),
        Duration::from_secs(config.expiry_check_seconds.max(1)),
        stop_rx.clone(),
    ));
    let rules_task = {
        let services = services.clone();
        let every = Duration::from_secs(config.auto_install_check_seconds.max(1));
        let updates = config.auto_update_settings();
        let mut stop = stop_rx.clone();
        tokio::spawn(async move {
            services
                .run_app_rules(every, updates, async move {
                    let _ = stop.wait_for(|stop| *stop).await;
                })
                .await
        })
    };
    let retention_task = tokio::spawn(crate::background::purge_jobs_periodically(
        services.clone(),
        stop_rx.clone(),
    ));
    let statistics_task = tokio::spawn(crate::background::refresh_statistics_periodically(
        statistics_store,
        stop_rx.clone(),
    ));
    let task = tokio::spawn(async move {
        let shutdown = async move {
            tokio::select! {
                _ = rx => {},
                _ = termination_signal() => tracing::info!("shutting down"),
            }
        };
        let served = match tls {
            Some(acceptor) => crate::tls::serve(listener, acceptor, app, shutdown).await,
            None => axum::serve(listener, app)
                .with_graceful_shutdown(shutdown)
                .await
                .context("serving HTTP"),
        };
        let _ = stop_tx.send(true);
        let _ = pusher_task.await;
        let _ = statistics_task.await;
        let _ = vpp_task.await;
        let _ = rules_task.await;
        let _ = retention_task.await;
        served
    });
    tracing::info!(%addr, "haishin listening");
    Ok(RunningServer {
        addr,
        services,
        shutdown: Some(tx),
        task,
    })
}

/// Resolves on SIGTERM or SIGINT (Ctrl-C).
async fn termination_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("installing SIGTERM handler");
        tokio::select! {
            _ = ctrl_c => {},
            _ = term.recv() => {},
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}

/// Hides a password in a database URL before it reaches a log or an error.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let credentials = &url[scheme_end + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

pub fn init_logging(config: &Config) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(&config.log_level));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = if config.log_format == "json" {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}

#[cfg(test)]
mod tests {
    #[test]
    fn database_passwords_are_redacted() {
        assert_eq!(
            super::redact_url("postgres://app:s3cret@db:5432/haishin"),
            "postgres://app:***@db:5432/haishin"
        );
        assert_eq!(
            super::redact_url("postgres://app@db/haishin"),
            "postgres://app@db/haishin"
        );
        assert_eq!(
            super::redact_url("sqlite://data/haishin.db"),
            "sqlite://data/haishin.db"
        );
    }
}
