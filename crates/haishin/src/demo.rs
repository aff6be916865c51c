//! `haishin demo`: a real server on SQLite with a demo account, an admin,
//! a group tree, users and a few hundred registered devices, plus the Apple
//! simulator: a simulated APNs and a fleet of iPhones and iPads that enroll
//! through the real protocol, so a newcomer can try the API and CLI within a
//! minute of cloning.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use haishin_domain::auth::{Actor, Role};
use haishin_domain::csv::EncodingChoice;
use haishin_domain::service::{CsvOptions, Services};

use crate::config::Config;
use crate::sim::{self, SimulatedApple};
use crate::{domain_error, sample, server};

#[derive(Args)]
pub struct DemoArgs {
    /// Keep the demo's data here (reused on the next run); a temporary
    /// directory when absent.
    #[arg(long)]
    pub dir: Option<PathBuf>,
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: String,
    /// How many devices to register from CSV (not enrolled).
    #[arg(long, default_value_t = 300)]
    pub devices: usize,
    /// How many simulated iPhones and iPads enroll through the real MDM
    /// protocol, woken by the simulated APNs.
    #[arg(long, default_value_t = 200)]
    pub fleet: usize,
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
    let apple = SimulatedApple::start(&data_dir.join("simulated-apns-ca.pem")).await?;
    let config = Config {
        data_dir: data_dir.clone(),
        listen: args.listen.clone(),
        apns_url: apple.apns.base_url().to_owned(),
        apns_ca_file: apple.ca_file.display().to_string(),
        // Demo fleets enroll in seconds with P-256 identities.
        identity_key: "p256".into(),
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
    let (fleet_token, fleet_group) = fleet_access(&services).await?;
    let running = server::start_with_store(&config, store, master_key).await?;
    let fleet = if args.fleet > 0 {
        Some(
            sim::enroll_fleet(
                &apple,
                &running.url(),
                &fleet_token,
                fleet_group,
                args.fleet,
                "realistic",
            )
            .await?,
        )
    } else {
        None
    };
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
    if let Some(fleet) = &fleet {
        println!(
            "  {} simulated devices enrolled in group {fleet_group} (東京営業所); their jobs: /api/v1/jobs",
            fleet.enrolled().len()
        );
    }
    println!("Press Ctrl-C to stop.");
    let result = running.wait().await;
    drop(fleet);
    apple.apns.stop();
    result
}

/// A token for the simulated devices to fetch enrollment profiles with, and
/// the group they enroll into (東京営業所).
async fn fleet_access(services: &Services) -> anyhow::Result<(String, i64)> {
    let (admin, _) = services
        .store
        .admin_credentials(DEMO_LOGIN)
        .await
        .map_err(domain_error)?
        .context("the demo admin")?;
    let actor = Actor::admin(&admin);
    let token = services
        .create_api_token(&actor, "simulated fleet", None)
        .await
        .map_err(domain_error)?;
    let groups = services
        .store
        .list_groups(admin.account_id)
        .await
        .map_err(domain_error)?;
    let group = groups
        .iter()
        .find(|g| g.name == "東京営業所")
        .or_else(|| groups.first())
        .context("a group to enroll into")?;
    Ok((token.secret.expose().to_owned(), group.id.0))
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
    let (certificate, key) = sim::simulated_push_certificate()?;
    services
        .upload_push_certificate(&actor, &certificate, &key, false)
        .await
        .map_err(domain_error)?;
    let token = services
        .create_api_token(&actor, "demo", None)
        .await
        .map_err(domain_error)?;
    Ok(Some((password, token.secret.expose().to_owned())))
}
