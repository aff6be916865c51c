//! `haishin demo`: a real server on SQLite with a demo account, an admin,
//! a group tree, users and a few hundred devices, so a newcomer can try the
//! API and CLI within a minute of cloning.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use haishin_domain::auth::{Actor, Role};
use haishin_domain::csv::EncodingChoice;
use haishin_domain::service::{CsvOptions, Services};

use crate::config::Config;
use crate::{domain_error, sample, server};

#[derive(Args)]
pub struct DemoArgs {
    /// Keep the demo's data here (reused on the next run); a temporary
    /// directory when absent.
    #[arg(long)]
    pub dir: Option<PathBuf>,
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: String,
    /// How many demo devices to create.
    #[arg(long, default_value_t = 300)]
    pub devices: usize,
}

const DEMO_LOGIN: &str = "demo-admin";

pub async fn run(args: DemoArgs) -> anyhow::Result<()> {
    let temp = match &args.dir {
        Some(_) => None,
        None => Some(tempfile::tempdir().context("creating a temporary directory")?),
    };
    let data_dir = args
        .dir
        .clone()
        .unwrap_or_else(|| temp.as_ref().expect("temp dir").path().to_path_buf());
    let config = Config {
        data_dir: data_dir.clone(),
        listen: args.listen.clone(),
        ..Config::default()
    };
    server::init_logging(&Config {
        log_level: "warn".into(),
        ..config.clone()
    });
    let store = server::open_store(&config).await?;
    let master_key = std::sync::Arc::new(server::load_master_key(&config)?);
    let services = server::services(store.clone(), master_key.clone(), &config)?;
    let login = seed(&services, args.devices).await?;
    let running = server::start_with_store(&config, store, master_key).await?;
    println!();
    println!("haishin demo is running at {}", running.url());
    println!("  data directory: {}", data_dir.display());
    if let Some((password, token)) = login {
        println!("  console login:  {DEMO_LOGIN} / {password}");
        println!("  API token:      {token}");
        println!();
        println!("Try:");
        println!(
            "  curl -H 'Authorization: Bearer {token}' '{}/api/v1/devices?q=東京&per_page=5'",
            running.url()
        );
        println!(
            "  HAISHIN_URL={} HAISHIN_TOKEN={token} haishin groups list",
            running.url()
        );
    } else {
        println!("  (existing demo data reused; log in with the password printed on its first run)");
    }
    println!("  API document:   {}/api/openapi.json", running.url());
    println!("Press Ctrl-C to stop.");
    running.wait().await
}

/// Creates the demo organisation unless the data directory already has it.
/// Returns the admin's password and an API token when it was created.
async fn seed(services: &Services, devices: usize) -> anyhow::Result<Option<(String, String)>> {
    if !services.store.list_accounts().await.map_err(domain_error)?.is_empty() {
        return Ok(None);
    }
    let (account, root) = services.create_account("デモ株式会社").await.map_err(domain_error)?;
    let system = Actor::system(account.id);
    let password = haishin_secrets::random_token("").expose()[..16].to_owned();
    let admin = services
        .create_admin(&system, DEMO_LOGIN, "デモ管理者", Role::AccountAdmin, &password)
        .await
        .map_err(domain_error)?;
    let actor = Actor::admin(&admin);
    let mut leaves = Vec::new();
    for (department, sites) in [
        ("営業部", vec!["東京営業所", "大阪営業所", "名古屋営業所"]),
        ("開発部", vec!["iOSチーム"]),
        ("総務部", vec![]),
    ] {
        let parent = services
            .create_group(&actor, Some(root.id), department)
            .await
            .map_err(domain_error)?;
        if sites.is_empty() {
            leaves.push(format!("{}/{department}", root.name));
        }
        for site in sites {
            services
                .create_group(&actor, Some(parent.id), site)
                .await
                .map_err(domain_error)?;
            leaves.push(format!("{}/{department}/{site}", root.name));
        }
    }
    let users = (devices / 3).max(10);
    let csv_options = CsvOptions {
        encoding: EncodingChoice::Auto,
    };
    services
        .import_users(&actor, sample::users_csv(users, &leaves).as_bytes(), csv_options)
        .await
        .map_err(domain_error)?;
    services
        .import_devices(
            &actor,
            sample::devices_csv(devices, &leaves, users).as_bytes(),
            csv_options,
        )
        .await
        .map_err(domain_error)?;
    let token = services
        .create_api_token(&actor, "demo", None)
        .await
        .map_err(domain_error)?;
    Ok(Some((password, token.secret.expose().to_owned())))
}
