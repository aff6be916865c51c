//! `haishin bench deploy`: one app deployed to N simulated devices with
//! automatic licenses (SPEC D1-D4, L1-L4, J7). The devices enroll first and
//! their inventory jobs finish; the clock starts at the create call and the
//! deployment is watched until every install is verified. The figures are
//! the moments each stage was first seen done, the outcome of the jobs, and
//! what the simulated Apps and Books service was asked: a deployment to
//! 10,000 devices should cost a handful of Apple calls, and no license may
//! be associated twice.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use apple_sim::vpp::{AppInfo, AssetSpec, LocationHandle, LocationSpec, VppSim, VppSimOptions};
use apple_sim::{ApnsSim, Behaviour, Fleet, HttpProfileSource, SimEnv};
use clap::Args;
use haishin_domain::deploy::{
    DeployItem, DeploymentProgress, DeploymentRequest, DeploymentStatus, DeviceSelection, LicenseMode, TargetOs,
};
use haishin_domain::jobs::{JobQuery, JobStatus};
use haishin_secrets::MasterKey;
use haishin_storage::SqlStore;
use haishin_storage::testing::TestDb;

use crate::bench_mdm::{BenchAccount, bench_account, dom, wait_until_idle};
use crate::config::Config;
use crate::server::{self, RunningServer};

/// The app deployed (one paid app, a license per device).
const APP: &str = "1000001";
/// Records per page of the simulated service: Apple's (several hundred),
/// not the tests' 3, so syncs cost what they would.
const PAGE_SIZE: u32 = 500;
/// How often the deployment's progress is read: the figures' resolution.
const POLL: Duration = Duration::from_millis(50);

#[derive(Args, Debug, Clone)]
pub struct DeployBench {
    /// Simulated devices (enrolled afresh on every backend).
    #[arg(long, default_value_t = 10_000)]
    pub devices: usize,
    /// sqlite, postgres, or both.
    #[arg(long, default_value = "both")]
    pub backend: String,
    /// Enrollments in flight at once.
    #[arg(long, default_value_t = 64)]
    pub concurrency: usize,
    /// Stop watching the deployment after this long; stages not reached by
    /// then are shown as such.
    #[arg(long, default_value_t = 1800)]
    pub timeout_seconds: u64,
    /// The server's `max_pushes_in_flight` (a huge value turns the window
    /// off, to compare).
    #[arg(long, default_value_t = Config::default().max_pushes_in_flight)]
    pub max_pushes_in_flight: i64,
}

/// The server's knobs that set the pace (printed with the figures).
fn config(apns: &ApnsSim, ca_file: &str, vpp: &VppSim) -> Config {
    Config {
        listen: "127.0.0.1:0".into(),
        identity_key: "p256".into(),
        apns_url: apns.base_url().to_owned(),
        apns_ca_file: ca_file.to_owned(),
        push_interval_ms: 250,
        push_timeout_seconds: 5,
        repush_after_seconds: 10,
        vpp_url: vpp.base_url(),
        vpp_metadata_url: vpp.metadata_lookup_url(),
        vpp_allow_http_notifications: true,
        vpp_poll_after_seconds: 1,
        vpp_poll_every_seconds: 1,
        vpp_retry_initial_ms: 5,
        install_verify_first_check_ms: 500,
        install_verify_max_interval_seconds: 2,
        ..Config::default()
    }
}

/// One backend's run.
struct DeployFigures {
    backend: String,
    enrolled: usize,
    enroll_seconds: f64,
    jobs: i64,
    /// From the create call: it returned (deployment and jobs written).
    registered: Duration,
    /// The deployment left `licensing`: every held install released or failed.
    licensed: Option<Duration>,
    /// Every job running (delivered, possibly being verified) or finished.
    delivered: Option<Duration>,
    /// The first install verified: when the console shows its first success.
    first_verified: Option<Duration>,
    /// Half the jobs finished.
    half_verified: Option<Duration>,
    /// Every job finished.
    verified: Option<Duration>,
    succeeded: i64,
    failed: i64,
    /// Licenses Apple shows assigned for the app at the end.
    assigned_at_apple: i64,
    max_associations_per_pair: u32,
    /// Apple requests per endpoint: token registration and enrollment, then
    /// the deployment.
    setup_requests: BTreeMap<String, u64>,
    deploy_requests: BTreeMap<String, u64>,
    /// Notifications Apple delivered to haishin during the deployment.
    notifications: u64,
    problems: Vec<String>,
}

/// `sqlite`, `postgres`, or both for `both`.
pub(crate) fn backends(arg: &str) -> anyhow::Result<Vec<&'static str>> {
    Ok(match arg {
        "both" => vec!["sqlite", "postgres"],
        "sqlite" => vec!["sqlite"],
        "postgres" => vec!["postgres"],
        other => anyhow::bail!("--backend must be sqlite, postgres or both, not {other:?}"),
    })
}

pub async fn run(args: &DeployBench) -> anyhow::Result<()> {
    anyhow::ensure!(args.devices > 0, "--devices must be at least 1");
    let mut figures = Vec::new();
    for backend in backends(&args.backend)? {
        figures.push(run_backend(backend, args).await?);
    }
    print!("{}", to_text(args, &figures));
    Ok(())
}

async fn run_backend(backend: &str, args: &DeployBench) -> anyhow::Result<DeployFigures> {
    let vpp = VppSim::start(VppSimOptions::for_tests().page_size(PAGE_SIZE))
        .await
        .context("starting the VPP simulator")?;
    let mut info = AppInfo::app(APP);
    info.name = "勤怠管理".into();
    let location = vpp.add_location(
        LocationSpec::new("ベンチ株式会社", "本社").asset(AssetSpec::app(APP, args.devices as i64).metadata(info)),
    );
    let apns = ApnsSim::start_tls().await.context("starting the APNs simulator")?;
    let ca_file = tempfile::NamedTempFile::new()?;
    std::fs::write(
        ca_file.path(),
        apns.root_ca_pem().context("APNs simulator without TLS")?,
    )?;
    let db = TestDb::open(backend).await;
    let config = Config {
        max_pushes_in_flight: args.max_pushes_in_flight,
        ..config(&apns, &ca_file.path().display().to_string(), &vpp)
    };
    // The pool a server gets by default, not the test database's small one.
    let store = SqlStore::connect(&db.url, config.database_max_connections).await?;
    db.store.close().await;
    let running = server::start_with_store(&config, store.clone(), Arc::new(MasterKey::generate().0)).await?;
    let result = measure(backend, &running, &apns, (&vpp, &location), args).await;
    running.stop().await?;
    store.close().await;
    apns.stop();
    vpp.shutdown();
    db.cleanup().await?;
    result
}

async fn measure(
    backend: &str,
    running: &RunningServer,
    apns: &ApnsSim,
    (vpp, location): (&VppSim, &LocationHandle),
    args: &DeployBench,
) -> anyhow::Result<DeployFigures> {
    let services = &running.services;
    let BenchAccount {
        account,
        root,
        actor,
        api_token,
    } = bench_account(services).await?;
    let token = dom(services
        .register_vpp_token(&actor, root.id, &location.token_file_contents())
        .await)?;

    // Devices install only what Apple licensed to their serial number.
    let licenses = location.license_policy();
    let profiles = HttpProfileSource::for_group(&running.url(), root.id.0).with_bearer(api_token.secret.expose());
    let env = SimEnv::builder(profiles).apns(apns.clone()).build()?;
    eprintln!("[{backend}] enrolling {} devices…", args.devices);
    let fleet = Fleet::builder(env)
        .devices(args.devices)
        .concurrency(args.concurrency)
        .behaviour(move |_| {
            Behaviour::ipad()
                .with_licenses(licenses.clone())
                .with_install_timing(Duration::from_millis(50), Duration::from_millis(100))
        })
        .enroll()
        .await;
    let enroll_seconds = fleet.enroll_time().as_secs_f64();
    let mut problems: Vec<String> = fleet
        .failures()
        .iter()
        .take(5)
        .map(|(index, e)| format!("device {index}: enrollment failed: {e}"))
        .collect();
    let enrolled = fleet.len() - fleet.failures().len();
    eprintln!("[{backend}] {enrolled} enrolled in {enroll_seconds:.1} s");
    wait_until_idle(backend, services, account.id, &fleet, args.concurrency).await?;
    let setup_requests = location.snapshot().requests;
    let setup_notifications = vpp.counters().notifications.delivered;

    let request = one_app_to_every_device(token.id, APP);
    eprintln!("[{backend}] deploying to {enrolled} devices…");
    let started = Instant::now();
    let mut progress = dom(services.create_deployment(&actor, &request).await)?;
    let registered = started.elapsed();
    let id = progress.deployment.id;
    let deadline = Duration::from_secs(args.timeout_seconds);
    let (mut licensed, mut delivered, mut verified) = (None, None, None);
    let (mut first_verified, mut half_verified) = (None, None);
    let mut reported = Instant::now();
    loop {
        let now = started.elapsed();
        let done = progress.finished == progress.jobs;
        if licensed.is_none() && (done || !is_licensing(&progress)) {
            licensed = Some(now);
        }
        if licensed.is_some() && delivered.is_none() && (done || undelivered(&progress) == 0) {
            delivered = Some(now);
        }
        if first_verified.is_none() && progress.succeeded > 0 {
            first_verified = Some(now);
        }
        if half_verified.is_none() && progress.finished * 2 >= progress.jobs {
            half_verified = Some(now);
        }
        if done {
            verified = Some(now);
            break;
        }
        if now > deadline {
            problems.push(format!(
                "gave up after {} s: {}",
                args.timeout_seconds,
                by_status(&progress)
            ));
            break;
        }
        if reported.elapsed() > Duration::from_secs(10) {
            eprintln!("[{backend}] {:.0} s: {}", now.as_secs_f64(), by_status(&progress));
            reported = Instant::now();
        }
        tokio::time::sleep(POLL).await;
        progress = dom(services.deployment(&actor, id).await)?;
    }
    eprintln!("[{backend}] {}", by_status(&progress));
    for status in [JobStatus::DeviceError, JobStatus::LicenseFailed] {
        let query = JobQuery {
            deployment_id: Some(id),
            status: Some(status),
            limit: Some(3),
            ..JobQuery::default()
        };
        for job in dom(services.list_jobs(&actor, &query).await)? {
            let why = job
                .error_chain
                .or(job.detail)
                .map(|v| v.to_string())
                .unwrap_or_default();
            problems.push(format!(
                "job {} on {}: {} {why}",
                job.id.0,
                job.device_number,
                status.as_str()
            ));
        }
    }
    let apple = location.snapshot();
    let deploy_requests = apple
        .requests
        .iter()
        .map(|(endpoint, n)| (endpoint.clone(), n - setup_requests.get(endpoint).copied().unwrap_or(0)))
        .filter(|(_, n)| *n > 0)
        .collect();
    Ok(DeployFigures {
        backend: backend.to_owned(),
        enrolled,
        enroll_seconds,
        jobs: progress.jobs,
        registered,
        licensed,
        delivered,
        first_verified,
        half_verified,
        verified,
        succeeded: progress.succeeded,
        failed: progress.failed,
        notifications: vpp.counters().notifications.delivered - setup_notifications,
        assigned_at_apple: apple.asset(APP).map_or(0, |a| a.assigned_count),
        max_associations_per_pair: apple.max_associations_per_pair(),
        setup_requests,
        deploy_requests,
        problems,
    })
}

fn is_licensing(progress: &DeploymentProgress) -> bool {
    matches!(
        progress.deployment.status,
        DeploymentStatus::Scheduled | DeploymentStatus::Licensing
    )
}

/// Jobs not yet handed to their device: held for a license, or queued,
/// pushed for, or pushed without an answer.
fn undelivered(progress: &DeploymentProgress) -> i64 {
    progress
        .by_status
        .iter()
        .map(|c| {
            let queued = matches!(
                c.status,
                JobStatus::Scheduled | JobStatus::Waiting | JobStatus::PushSent | JobStatus::PushTimeout
            );
            if queued { c.count } else { c.waiting_for_license }
        })
        .sum()
}

fn by_status(progress: &DeploymentProgress) -> String {
    let counts: Vec<String> = progress
        .by_status
        .iter()
        .map(|c| {
            let mut text = format!("{} {}", c.status.as_str(), c.count);
            if c.waiting_for_license > 0 {
                text.push_str(&format!(" ({} for license)", c.waiting_for_license));
            }
            if c.verifying > 0 {
                text.push_str(&format!(" ({} verifying)", c.verifying));
            }
            text
        })
        .collect();
    format!("{}: {}", progress.deployment.status.as_str(), counts.join(", "))
}

/// One column per backend, in a fixed layout for comparing runs.
fn to_text(args: &DeployBench, figures: &[DeployFigures]) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "haishin bench deploy — 1 app to {} devices, automatic licenses, seconds from the create call",
        args.devices
    );
    let _ = writeln!(
        out,
        "(progress read every {} ms; push interval 250 ms, at most {} pushes in flight, first verification 500 ms; \
         VPP sim page size {PAGE_SIZE}, no rate limit)",
        POLL.as_millis(),
        args.max_pushes_in_flight
    );
    let mut row = |label: &str, cell: &dyn Fn(&DeployFigures) -> String| {
        let _ = write!(out, "{label:<36}");
        for f in figures {
            let _ = write!(out, "{:>14}", cell(f));
        }
        let _ = writeln!(out);
    };
    row("", &|f| f.backend.clone());
    let seconds =
        |d: Option<Duration>| d.map_or_else(|| "not reached".to_owned(), |d| format!("{:.2}", d.as_secs_f64()));
    row("registered (create returned) s", &|f| seconds(Some(f.registered)));
    row("licenses assigned s", &|f| seconds(f.licensed));
    row("commands delivered s", &|f| seconds(f.delivered));
    row("first install verified s", &|f| seconds(f.first_verified));
    row("half the jobs finished s", &|f| seconds(f.half_verified));
    row("installs verified s", &|f| seconds(f.verified));
    row("jobs", &|f| f.jobs.to_string());
    row("succeeded", &|f| f.succeeded.to_string());
    row("failed", &|f| f.failed.to_string());
    row("licenses assigned at Apple", &|f| f.assigned_at_apple.to_string());
    row("max associations per (app, serial)", &|f| {
        f.max_associations_per_pair.to_string()
    });
    let endpoints: BTreeSet<&String> = figures.iter().flat_map(|f| f.deploy_requests.keys()).collect();
    row("Apple requests, deployment", &|f| {
        f.deploy_requests.values().sum::<u64>().to_string()
    });
    for endpoint in endpoints {
        row(&format!("  {endpoint}"), &|f| {
            f.deploy_requests.get(endpoint).copied().unwrap_or(0).to_string()
        });
    }
    row("Apple notifications, deployment", &|f| f.notifications.to_string());
    row("Apple requests, registration", &|f| {
        f.setup_requests.values().sum::<u64>().to_string()
    });
    row("enrolled (not measured)", &|f| f.enrolled.to_string());
    row("enrollment s (not measured)", &|f| format!("{:.1}", f.enroll_seconds));
    for f in figures.iter().filter(|f| !f.problems.is_empty()) {
        let _ = writeln!(out, "problems ({}):", f.backend);
        for problem in &f.problems {
            let _ = writeln!(out, "  {problem}");
        }
    }
    out
}

/// One app to every device of the account, automatic licenses: what both
/// deployment benchmarks deploy.
pub(crate) fn one_app_to_every_device(token_id: haishin_domain::ids::VppTokenId, adam_id: &str) -> DeploymentRequest {
    DeploymentRequest {
        name: None,
        items: vec![DeployItem {
            token_id,
            adam_id: adam_id.into(),
        }],
        target_os: TargetOs::Ios,
        license_mode: LicenseMode::Auto,
        devices: DeviceSelection {
            all: true,
            ..Default::default()
        },
        options: Default::default(),
        run_at: None,
    }
}
