//! `haishin demo`: a real server on SQLite with a demo account, an admin,
//! a group tree, users and a few hundred registered devices, plus the Apple
//! simulator: a simulated APNs, a simulated Apps and Books service with a
//! registered content token, and a fleet of iPhones and iPads that enroll
//! through the real protocol. Then it deploys two apps to the fleet and
//! tells how that went (module `demo_story`), so a newcomer sees the
//! whole distribution story and can try the API and CLI within a minute or
//! two of cloning.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Args;
use haishin_domain::auth::{Actor, Role};
use haishin_domain::csv::EncodingChoice;
use haishin_domain::deploy::TargetOs;
use haishin_domain::ids::GroupId;
use haishin_domain::service::{CsvOptions, Services};
use haishin_domain::vpp::licenses::LicenseRequest;
use haishin_domain::vpp::{LicenseOperation, VppAsset, VppToken};

use crate::config::Config;
use crate::sim::{self, SimulatedApple};
use crate::{demo_story, domain_error, sample, server, sim_vpp};

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
    /// protocol, woken by the simulated APNs: a realistic mix (a few
    /// percent locked, offline, App Store disabled, shared iPads, storage
    /// full, users who cancel prompts, slow devices).
    #[arg(long, default_value_t = 500)]
    pub fleet: usize,
}

const DEMO_LOGIN: &str = "demo-admin";
/// Devices that hold the demo app's license before the deployment, assigned
/// on their own: the deployment reuses them (L4) instead of assigning again.
const ASSIGNED_BEFORE: usize = 50;

pub async fn run(args: DemoArgs) -> anyhow::Result<()> {
    let temp = match &args.dir {
        Some(_) => None,
        None => Some(tempfile::tempdir().context("creating a temporary directory")?),
    };
    let data_dir = args
        .dir
        .clone()
        .unwrap_or_else(|| temp.as_ref().expect("temp dir").path().to_path_buf());
    // `--dir` names where the data goes; a first run creates it.
    std::fs::create_dir_all(&data_dir).with_context(|| format!("creating {}", data_dir.display()))?;
    let apple = SimulatedApple::start(&data_dir.join("simulated-apns-ca.pem")).await?;
    let (vpp, location) = sim_vpp::start().await?;
    let config = Config {
        data_dir: data_dir.clone(),
        listen: args.listen.clone(),
        apns_url: apple.apns.base_url().to_owned(),
        apns_ca_file: apple.ca_file.display().to_string(),
        // Demo fleets enroll in seconds with P-256 identities.
        identity_key: "p256".into(),
        vpp_url: vpp.base_url(),
        vpp_metadata_url: vpp.metadata_lookup_url(),
        vpp_allow_http_notifications: true,
        // Notifications end operations at once; polling is only the
        // fallback, kept short so a lost one does not hold the demo up.
        vpp_poll_after_seconds: 5,
        vpp_poll_every_seconds: 2,
        // Demo devices answer within a second: push, verify and give up
        // waiting for an offline one quickly, so the deployment's story
        // is told within a minute.
        push_interval_ms: 250,
        push_timeout_seconds: 10,
        repush_after_seconds: 30,
        install_verify_first_check_ms: 500,
        install_verify_max_interval_seconds: 2,
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
    let actor = demo_actor(&services).await?;
    let (fleet_token, fleet_group) = fleet_access(&services, &actor).await?;
    let running = server::start_with_store(&config, store, master_key).await?;
    let fleet = if args.fleet > 0 {
        Some(
            sim::enroll_fleet(
                &apple,
                &running.url(),
                &fleet_token,
                fleet_group,
                args.fleet,
                sim::licensed_behaviour(apple_sim::Behaviour::realistic, &location),
            )
            .await?,
        )
    } else {
        None
    };
    let serials: Vec<String> = fleet
        .iter()
        .flat_map(|f| f.enrolled())
        .take(ASSIGNED_BEFORE)
        .map(|d| d.serial_number().to_owned())
        .collect();
    // The running server's services: they know the public URL Apple posts
    // notifications to, which the seeding services did not.
    // The server is worth trying without Apps and Books, so a failure here
    // is shown rather than ending the demo.
    let apps_and_books = set_up_vpp(
        &running.services,
        &actor,
        GroupId(fleet_group),
        &location.token_file_contents(),
        &serials,
    )
    .await
    .inspect_err(|e| eprintln!("  Apps and Books set-up failed: {e:#}"))
    .ok();
    println!();
    println!("haishin demo is running at {}", running.url());
    println!("  data directory: {}", data_dir.display());
    if let Some((password, token)) = &login {
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
    let api_token = login.as_ref().map(|(_, token)| token.as_str());
    if let Some(apps_and_books) = &apps_and_books {
        print_vpp(apps_and_books, &running.url(), api_token);
    }
    if let (Some(fleet), Some(apps_and_books)) = (&fleet, &apps_and_books) {
        // The story is worth telling, not worth stopping the server for;
        // Ctrl-C while it is told stops both.
        tokio::select! {
            told = tell_story(&running, &actor, fleet, apps_and_books, GroupId(fleet_group), api_token) => {
                if let Err(e) = told {
                    eprintln!("  the demo deployment failed: {e:#}");
                }
            }
            _ = tokio::signal::ctrl_c() => {}
        }
    }
    println!();
    println!("Press Ctrl-C to stop.");
    let result = running.wait().await;
    drop(fleet);
    vpp.shutdown();
    apple.apns.stop();
    result
}

/// Deploys two apps to the enrolled fleet once its first inventory is in,
/// watches the jobs and says how it went.
async fn tell_story(
    running: &server::RunningServer,
    actor: &Actor,
    fleet: &apple_sim::Fleet,
    vpp: &DemoVpp,
    group: GroupId,
    api_token: Option<&str>,
) -> anyhow::Result<()> {
    let enrolled = fleet.enrolled();
    let behaviours: Vec<_> = enrolled.iter().map(|d| d.behaviour()).collect();
    let offline = behaviours.iter().filter(|b| b.offline).count();
    let locked = behaviours.iter().filter(|b| b.locked && !b.offline).count();
    let services = &running.services;
    demo_story::wait_for_first_inventory(services, actor, offline).await?;
    let for_ios = (TargetOs::Ios, &[sim_vpp::DEMO_APP, sim_vpp::SCARCE_APP][..]);
    let deployment = demo_story::deploy(services, actor, vpp.token.id, group, for_ios).await?;
    println!(
        "  licenses are assigned by the server's worker, then the installs are released and verified against each device's managed app list; {offline} devices are offline and {locked} locked:"
    );
    let progress = demo_story::watch(services, actor, deployment.deployment.id, offline + locked).await?;
    demo_story::print_summary(services, actor, &progress, &running.url(), api_token).await?;
    // The Macs were skipped for iOS: their own app, for macOS.
    let for_macs = (TargetOs::Macos, &[sim_vpp::MAC_APP][..]);
    let macs = demo_story::deploy(services, actor, vpp.token.id, group, for_macs).await?;
    demo_story::watch(services, actor, macs.deployment.id, 0).await?;
    demo_story::offer_apps_by_themselves(services, actor, vpp.token.id, group, &running.url(), api_token).await
}

fn print_vpp(demo: &DemoVpp, url: &str, api_token: Option<&str>) {
    let token = &demo.token;
    println!();
    println!(
        "Apps and Books (simulated): VPP token {} of {} / {}, {}, expires {}",
        token.id.0,
        token.org_name,
        token.location_name,
        if demo.reused {
            "already registered (renewed with the simulator's new token)"
        } else {
            "registered"
        },
        haishin_domain::time_util::millis_to_rfc3339(token.expires_at.0),
    );
    println!("  {} apps and books synced", demo.assets.len());
    match &demo.operation {
        Some(operation) => println!(
            "  licenses of {} assigned beforehand to {} devices: operation {} {} ({} of {} done{})",
            asset_name(&demo.assets, sim_vpp::DEMO_APP),
            operation.targets.len(),
            operation.id.0,
            operation.status.as_str(),
            operation.num_completed,
            operation.num_requested,
            if operation.failures.is_empty() {
                String::new()
            } else {
                format!(
                    ", {} failed: {}",
                    operation.failures.len(),
                    operation.failures[0].message_ja
                )
            }
        ),
        None => println!("  no simulated devices, so no licenses assigned (--fleet 0)"),
    }
    println!("Try:");
    println!(
        "  export HAISHIN_URL={url} HAISHIN_TOKEN={}",
        api_token.unwrap_or("<API token>")
    );
    println!("  haishin vpp tokens");
    println!("  haishin vpp assets {}", token.id.0);
    println!(
        "  haishin vpp licenses --token-id {} --adam-id {}",
        token.id.0,
        sim_vpp::DEMO_APP
    );
    println!(
        "  haishin vpp assign {} --adam-id {} --serial C02DEMO00001 --serial C02DEMO00002 ...   # {} has only 5 licenses",
        token.id.0,
        sim_vpp::SCARCE_APP,
        asset_name(&demo.assets, sim_vpp::SCARCE_APP),
    );
}

fn asset_name(assets: &[VppAsset], adam_id: &str) -> String {
    assets
        .iter()
        .find(|a| a.adam_id == adam_id)
        .and_then(|a| a.metadata.as_ref())
        .map_or_else(|| adam_id.to_owned(), |m| m.name.clone())
}

/// What the demo's Apps and Books set-up left behind.
pub struct DemoVpp {
    pub token: VppToken,
    /// The token was registered by an earlier run with the same `--dir`.
    pub reused: bool,
    pub assets: Vec<VppAsset>,
    /// Licenses of [`sim_vpp::DEMO_APP`] for the serials, as far as they got.
    pub operation: Option<LicenseOperation>,
}

/// Registers the simulated location's token to `group` (claiming and
/// syncing it) and assigns [`sim_vpp::DEMO_APP`] to `serials`, printing
/// progress until the operation ends. `services` must be a running
/// server's, whose public URL Apple's notifications go to.
pub async fn set_up_vpp(
    services: &Services,
    actor: &Actor,
    group: GroupId,
    token_file: &str,
    serials: &[String],
) -> anyhow::Result<DemoVpp> {
    let (token, reused) = match services.register_vpp_token(actor, group, token_file).await {
        Ok(token) => (token, false),
        Err(e) if e.code() == "vpp_token_already_registered" => {
            (renew_existing(services, actor, token_file).await?, true)
        }
        Err(e) => return Err(domain_error(e)).context("registering the simulated VPP token"),
    };
    if reused {
        // A renewal only swaps the token; the simulator started empty, so
        // what the last run recorded must be replaced by what it says now.
        services
            .sync_vpp_token(actor, token.id)
            .await
            .map_err(domain_error)
            .context("syncing the VPP token")?;
    }
    let token = services.vpp_token(actor, token.id).await.map_err(domain_error)?;
    let assets = services.vpp_assets(actor, token.id).await.map_err(domain_error)?;
    anyhow::ensure!(
        !assets.is_empty(),
        "the VPP token synced no assets: {}",
        token.last_sync_error.as_deref().unwrap_or("no error recorded")
    );
    let operation = if serials.is_empty() {
        None
    } else {
        let request = LicenseRequest {
            adam_ids: vec![sim_vpp::DEMO_APP.to_owned()],
            serial_numbers: serials.to_vec(),
            client_user_ids: Vec::new(),
        };
        let queued = services
            .assign_licenses(actor, token.id, &request, false)
            .await
            .map_err(domain_error)
            .context("assigning the demo app's licenses")?;
        Some(follow(services, actor, queued, &asset_name(&assets, sim_vpp::DEMO_APP)).await?)
    };
    Ok(DemoVpp {
        token,
        reused,
        assets,
        operation,
    })
}

/// The simulator is new on every run, so the token a kept `--dir` holds is
/// unknown to it; the same location comes back with a later-expiring token,
/// which is exactly a renewal (サーバトークンの更新).
async fn renew_existing(services: &Services, actor: &Actor, token_file: &str) -> anyhow::Result<VppToken> {
    for token in services.list_vpp_tokens(actor, None).await.map_err(domain_error)? {
        match services.renew_vpp_token(actor, token.id, token_file).await {
            Ok(renewed) => return Ok(renewed),
            Err(e) if e.code() == "vpp_renew_other_location" => continue,
            Err(e) => return Err(domain_error(e)).context("renewing the demo's VPP token"),
        }
    }
    anyhow::bail!("the simulated location is registered, but no listed token belongs to it")
}

/// Waits for the operation, with a progress line. Gives up waiting (not
/// the operation) after a minute, so the demo still starts if Apple's side
/// is slow; the operation goes on in the server.
async fn follow(
    services: &Services,
    actor: &Actor,
    mut operation: LicenseOperation,
    name: &str,
) -> anyhow::Result<LicenseOperation> {
    let started = Instant::now();
    while !operation.status.is_finished() && started.elapsed() < Duration::from_secs(60) {
        eprint!(
            "\r  assigning {name} to {} devices... {} of {} ({})",
            operation.targets.len(),
            operation.num_completed,
            operation.num_requested,
            operation.status.as_str()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
        operation = services
            .vpp_operation(actor, operation.id)
            .await
            .map_err(domain_error)?;
    }
    eprintln!(
        "\r  assigning {name} to {} devices: {} of {} ({}) in {:.1?}",
        operation.targets.len(),
        operation.num_completed,
        operation.num_requested,
        operation.status.as_str(),
        started.elapsed()
    );
    Ok(operation)
}

/// The demo's account admin, as the actor of what the demo does for it.
async fn demo_actor(services: &Services) -> anyhow::Result<Actor> {
    let (admin, _) = services
        .store
        .admin_credentials(DEMO_LOGIN)
        .await
        .map_err(domain_error)?
        .context("the demo admin")?;
    Ok(Actor::admin(&admin))
}

/// A token for the simulated devices to fetch enrollment profiles with, and
/// the group they enroll into (東京営業所).
async fn fleet_access(services: &Services, actor: &Actor) -> anyhow::Result<(String, i64)> {
    let token = services
        .create_api_token(actor, "simulated fleet", None)
        .await
        .map_err(domain_error)?;
    let groups = services
        .store
        .list_groups(actor.account_id)
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
