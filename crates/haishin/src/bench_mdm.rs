//! `haishin bench mdm`: the MDM command path with N simulated devices. Each
//! device's session is `Idle` → a queued DeviceInformation → `Acknowledged`
//! with the result → an empty body: two round trips to `/mdm/connect`. The
//! same fleet runs against a server without a database ([`baseline`]) and
//! against haishin on SQLite and/or PostgreSQL, so the figures show what the
//! database and haishin's bookkeeping cost. Sessions are started with
//! `poll_now`, not by pushes, so the figure is the command path itself.

pub mod baseline;

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use apple_mdm::CommandStatus;
use apple_mdm::command::DeviceInformation;
use apple_sim::{ApnsSim, Behaviour, Endpoint, Fleet, HttpProfileSource, SimEnv};
use clap::{Args, Subcommand};
use haishin_domain::auth::{Actor, Role};
use haishin_domain::ids::AccountId;
use haishin_domain::jobs::{JobQuery, JobStatus};
use haishin_domain::mdm::commands::job_for;
use haishin_domain::service::Services;
use haishin_domain::time_util::Timestamp;
use haishin_secrets::MasterKey;
use haishin_storage::SqlStore;
use haishin_storage::testing::TestDb;
use serde::Serialize;

use crate::config::Config;
use crate::server::{self, RunningServer};
use crate::{bench, domain_error};

/// `haishin bench …`: `mdm` here, the others in [`bench`].
#[derive(Subcommand)]
pub enum BenchCommands {
    /// The MDM command path with N simulated devices: haishin on each
    /// backend next to a baseline server without a database.
    Mdm(MdmBench),
    /// One app to N simulated devices with automatic licenses: time to
    /// licenses assigned, commands delivered and installs verified.
    Deploy(crate::bench_deploy::DeployBench),
    /// Job console queries over N synthetic jobs, p50/p99 per filter.
    Console(crate::bench_console::ConsoleBench),
    #[command(flatten)]
    Other(bench::BenchCommand),
}

#[derive(Args, Debug, Clone)]
pub struct MdmBench {
    /// Simulated devices (enrolled afresh on every server).
    #[arg(long, default_value_t = 10_000)]
    pub devices: usize,
    /// sqlite, postgres, or both (the baseline always runs).
    #[arg(long, default_value = "both")]
    pub backend: String,
    /// Device sessions in flight at once (also enrollments).
    #[arg(long, default_value_t = 64)]
    pub concurrency: usize,
    /// Measured rounds: one DeviceInformation per device, one session each.
    #[arg(long, default_value_t = 1)]
    pub rounds: usize,
    /// Print the figures as JSON instead of the table.
    #[arg(long)]
    pub json: bool,
}

/// Everything one run measured.
#[derive(Debug, Clone, Serialize)]
pub struct MdmReport {
    pub devices: usize,
    pub rounds: usize,
    pub concurrency: usize,
    /// The baseline first, then haishin per backend.
    pub servers: Vec<ServerFigures>,
    /// haishin's round trips/s over the baseline's, by backend.
    pub ratio_to_baseline: BTreeMap<String, f64>,
}

/// One server's figures. Rates are over the wall time of the measured
/// sessions only (not enrollment, not queueing).
#[derive(Debug, Clone, Serialize)]
pub struct ServerFigures {
    /// `baseline`, `sqlite` or `postgres`.
    pub server: String,
    pub enrolled: usize,
    pub enroll_seconds: f64,
    /// Answered requests to `/mdm/connect` during the measurement.
    pub round_trips: usize,
    pub sessions: usize,
    pub measured_seconds: f64,
    pub round_trips_per_second: f64,
    pub sessions_per_second: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    /// Measured jobs that ended `success`, of devices × rounds.
    pub jobs_ok: usize,
    pub jobs_total: usize,
    /// How many problems (failed enrollments or sessions, jobs not ending
    /// success), and the first few.
    pub problem_count: usize,
    pub problems: Vec<String>,
}

impl ServerFigures {
    fn label(&self) -> String {
        match self.server.as_str() {
            "baseline" => "baseline (no database)".to_owned(),
            backend => format!("haishin {backend}"),
        }
    }
}

pub async fn run(command: BenchCommands) -> anyhow::Result<()> {
    match command {
        BenchCommands::Mdm(args) => {
            let report = measure(&args).await?;
            if args.json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                print!("{}", report.to_text());
            }
            Ok(())
        }
        BenchCommands::Deploy(args) => crate::bench_deploy::run(&args).await,
        BenchCommands::Console(args) => crate::bench_console::run(&args).await,
        BenchCommands::Other(command) => bench::run(command).await,
    }
}

/// Runs the baseline, then haishin on each backend asked for.
pub async fn measure(args: &MdmBench) -> anyhow::Result<MdmReport> {
    anyhow::ensure!(
        args.devices > 0 && args.rounds > 0,
        "--devices and --rounds must be at least 1"
    );
    let backends: Vec<&str> = match args.backend.as_str() {
        "both" => vec!["sqlite", "postgres"],
        one @ ("sqlite" | "postgres") => vec![one],
        other => anyhow::bail!("--backend must be sqlite, postgres or both, not {other:?}"),
    };
    let mut servers = vec![baseline::run(args).await?];
    for backend in backends {
        servers.push(run_haishin(backend, args).await?);
    }
    let baseline = servers[0].round_trips_per_second.max(f64::MIN_POSITIVE);
    let ratio_to_baseline = servers[1..]
        .iter()
        .map(|s| (s.server.clone(), s.round_trips_per_second / baseline))
        .collect();
    Ok(MdmReport {
        devices: args.devices,
        rounds: args.rounds,
        concurrency: args.concurrency,
        servers,
        ratio_to_baseline,
    })
}

impl MdmReport {
    /// The table, in a fixed layout for comparing runs.
    pub fn to_text(&self) -> String {
        use std::fmt::Write;
        let mut out = String::new();
        let plural = if self.rounds == 1 { "" } else { "s" };
        let (devices, rounds, concurrency) = (self.devices, self.rounds, self.concurrency);
        let _ = writeln!(
            out,
            "haishin bench mdm — {devices} devices, {rounds} round{plural}, concurrency {concurrency}"
        );
        let _ = writeln!(
            out,
            "{:<24}{:>15}{:>13}{:>9}{:>9}{:>15}",
            "", "round trips/s", "sessions/s", "p50 ms", "p99 ms", "jobs ok"
        );
        for s in &self.servers {
            let jobs = format!("{}/{}", s.jobs_ok, s.jobs_total);
            let (rate, sessions, p50, p99) = (s.round_trips_per_second, s.sessions_per_second, s.p50_ms, s.p99_ms);
            let _ = writeln!(
                out,
                "{:<24}{rate:>15.1}{sessions:>13.1}{p50:>9.2}{p99:>9.2}{jobs:>15}",
                s.label()
            );
        }
        let list = |each: &dyn Fn(&ServerFigures) -> Option<String>| -> String {
            self.servers.iter().filter_map(each).collect::<Vec<_>>().join(", ")
        };
        if !self.ratio_to_baseline.is_empty() {
            let ratios = list(&|s| {
                self.ratio_to_baseline
                    .get(&s.server)
                    .map(|r| format!("{} {r:.2}", s.server))
            });
            let _ = writeln!(out, "ratio haishin/baseline: {ratios} (round trips/s)");
        }
        let enrollment = list(&|s| Some(format!("{} {:.1} s", s.server, s.enroll_seconds)));
        let _ = writeln!(out, "enrollment (not measured): {enrollment}");
        for s in self.servers.iter().filter(|s| s.problem_count > 0) {
            let _ = writeln!(out, "problems ({}): {}", s.label(), s.problem_count);
            for problem in &s.problems {
                let _ = writeln!(out, "  {problem}");
            }
        }
        out
    }
}

/// A server's measured sessions over all rounds, and its problems (counted,
/// the first few kept).
#[derive(Default)]
struct Drive {
    elapsed: Duration,
    sessions: usize,
    problem_count: usize,
    problems: Vec<String>,
}

impl Drive {
    fn note(&mut self, problem: impl Into<String>) {
        self.problem_count += 1;
        if self.problems.len() < 10 {
            self.problems.push(problem.into());
        }
    }

    /// One session on every enrolled device, `concurrency` at a time; each
    /// should answer exactly one command with Acknowledged.
    async fn round(&mut self, fleet: &Fleet, concurrency: usize) {
        let started = Instant::now();
        let results = fleet.poll_all(concurrency).await;
        self.elapsed += started.elapsed();
        for (index, result) in results {
            let session = match result {
                Ok(session) => session,
                Err(e) => {
                    self.note(format!("device {index}: session failed: {e}"));
                    continue;
                }
            };
            self.sessions += 1;
            let answered: Vec<(&str, CommandStatus)> = session
                .commands
                .iter()
                .map(|c| (c.request_type.as_str(), c.status))
                .collect();
            if session.round_trips != 2 || answered != [("DeviceInformation", CommandStatus::Acknowledged)] {
                let trips = session.round_trips;
                self.note(format!("device {index}: {trips} round trips, answered {answered:?}"));
            }
        }
    }

    fn figures(self, server: &str, fleet: &Fleet, jobs_ok: usize, jobs_total: usize) -> ServerFigures {
        let latency = fleet.stats().summary(Endpoint::Connect);
        let round_trips = latency.as_ref().map_or(0, |l| l.count);
        let seconds = self.elapsed.as_secs_f64().max(1e-9);
        let millis = |d: Option<Duration>| d.map_or(0.0, |d| d.as_secs_f64() * 1000.0);
        ServerFigures {
            server: server.to_owned(),
            enrolled: fleet.len() - fleet.failures().len(),
            enroll_seconds: fleet.enroll_time().as_secs_f64(),
            round_trips,
            sessions: self.sessions,
            measured_seconds: self.elapsed.as_secs_f64(),
            round_trips_per_second: round_trips as f64 / seconds,
            sessions_per_second: self.sessions as f64 / seconds,
            p50_ms: millis(latency.as_ref().map(|l| l.p50)),
            p99_ms: millis(latency.as_ref().map(|l| l.p99)),
            jobs_ok,
            jobs_total,
            problem_count: self.problem_count,
            problems: self.problems,
        }
    }

    /// Enrolls the fleet, `concurrency` at a time.
    async fn enroll(&mut self, server: &str, env: SimEnv, args: &MdmBench) -> Fleet {
        eprintln!("[{server}] enrolling {} devices…", args.devices);
        let fleet = Fleet::builder(env)
            .devices(args.devices)
            .concurrency(args.concurrency)
            .behaviour(|_| Behaviour::ipad())
            .enroll()
            .await;
        let (seconds, failed) = (fleet.enroll_time().as_secs_f64(), fleet.failures().len());
        let rate = args.devices as f64 / seconds.max(1e-9);
        eprintln!("[{server}] enrolled in {seconds:.1} s ({rate:.0}/s), {failed} failed");
        for (index, error) in fleet.failures() {
            self.note(format!("device {index}: enrollment failed: {error}"));
        }
        fleet
    }
}

async fn run_haishin(backend: &str, args: &MdmBench) -> anyhow::Result<ServerFigures> {
    let apns = ApnsSim::start_tls().await.context("starting the APNs simulator")?;
    let ca_file = tempfile::NamedTempFile::new()?;
    std::fs::write(
        ca_file.path(),
        apns.root_ca_pem().context("APNs simulator without TLS")?,
    )?;
    let db = TestDb::open(backend).await;
    let config = Config {
        listen: "127.0.0.1:0".into(),
        identity_key: "p256".into(),
        apns_url: apns.base_url().to_owned(),
        apns_ca_file: ca_file.path().display().to_string(),
        // The pusher still runs at once when the services queue jobs (the
        // enrollment inventory), but never on its own during the measurement.
        push_interval_ms: 3_600_000,
        ..Config::default()
    };
    // The pool a server gets by default, not the test database's small one.
    let store = SqlStore::connect(&db.url, config.database_max_connections).await?;
    db.store.close().await;
    let running = server::start_with_store(&config, store.clone(), Arc::new(MasterKey::generate().0)).await?;
    let result = measure_haishin(backend, &running, &apns, args).await;
    running.stop().await?;
    store.close().await;
    apns.stop();
    db.cleanup().await?;
    result
}

pub(crate) fn dom<T>(result: Result<T, haishin_domain::DomainError>) -> anyhow::Result<T> {
    result.map_err(domain_error)
}

async fn measure_haishin(
    backend: &str,
    running: &RunningServer,
    apns: &ApnsSim,
    args: &MdmBench,
) -> anyhow::Result<ServerFigures> {
    let services = &running.services;
    let BenchAccount {
        account,
        root,
        actor,
        api_token: token,
    } = bench_account(services).await?;
    let profiles = HttpProfileSource::for_group(&running.url(), root.id.0).with_bearer(token.secret.expose());
    let env = SimEnv::builder(profiles).apns(apns.clone()).build()?;
    let mut drive = Drive::default();
    let fleet = drive.enroll(backend, env, args).await;
    wait_until_idle(backend, services, account.id, &fleet, args.concurrency).await?;
    fleet.stats().reset();

    let devices = dom(services.store.existing_devices(account.id).await)?;
    let mut ours = HashSet::new();
    for round in 1..=args.rounds {
        let jobs = devices
            .iter()
            .map(|d| job_for(d.id, DeviceInformation::for_app_distribution(), None))
            .collect::<Result<Vec<_>, _>>();
        let jobs = dom(jobs)?;
        ours.extend(jobs.iter().map(|j| j.command_uuid.clone()));
        // Straight into the store: no push wake-up, the devices poll.
        let ids = dom(services.store.enqueue_jobs(&actor, &jobs, Timestamp::now()).await)?;
        anyhow::ensure!(ids.len() == jobs.len(), "queued {} jobs of {}", ids.len(), jobs.len());
        eprintln!("[{backend}] round {round}: {} jobs queued, polling…", jobs.len());
        drive.round(&fleet, args.concurrency).await;
    }
    let ok = check_jobs(services, account.id, &ours, &mut drive).await?;
    Ok(drive.figures(backend, &fleet, ok, args.devices * args.rounds))
}

/// Enrollment queued two inventory jobs per device, run through pushes;
/// waits until none is unfinished, polling every device once if the pushes
/// leave some behind.
pub(crate) async fn wait_until_idle(
    backend: &str,
    services: &Services,
    account: AccountId,
    fleet: &Fleet,
    concurrency: usize,
) -> anyhow::Result<()> {
    let query = JobQuery {
        active_only: true,
        limit: Some(10),
        ..JobQuery::default()
    };
    let started = Instant::now();
    let mut polled = false;
    loop {
        let active = dom(services.store.list_jobs(account, &query).await)?;
        let waited = started.elapsed();
        if active.is_empty() {
            eprintln!(
                "[{backend}] enrollment inventory done {:.1} s after enrollment",
                waited.as_secs_f64()
            );
            return Ok(());
        } else if !polled && waited > Duration::from_secs(30) {
            eprintln!("[{backend}] inventory jobs still open after pushes; polling every device once");
            fleet.poll_all(concurrency).await;
            polled = true;
        } else if waited > Duration::from_secs(120) {
            let open: Vec<String> = active
                .iter()
                .map(|j| format!("{} {} {}", j.device_number, j.request_type, j.status.as_str()))
                .collect();
            anyhow::bail!("enrollment inventory jobs did not finish: {}", open.join("; "));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Counts the measured jobs that ended `success`: every measured job exists
/// (the queue returned an id for each), so those not listed under any
/// other status succeeded. Notes every job, measured or not, that did not.
async fn check_jobs(
    services: &Services,
    account: AccountId,
    ours: &HashSet<String>,
    drive: &mut Drive,
) -> anyhow::Result<usize> {
    const LIMIT: usize = 1000;
    let mut failed = 0;
    for status in JobStatus::ALL.into_iter().filter(|s| *s != JobStatus::Success) {
        let query = JobQuery {
            status: Some(status),
            limit: Some(LIMIT as i64),
            ..JobQuery::default()
        };
        let jobs = dom(services.store.list_jobs(account, &query).await)?;
        if jobs.len() == LIMIT {
            drive.note(format!(
                "{LIMIT}+ jobs are {}: jobs ok is an upper bound",
                status.as_str()
            ));
        }
        for job in jobs {
            let measured = ours.contains(&job.command_uuid);
            failed += usize::from(measured);
            let kind = if measured { "measured" } else { "enrollment" };
            let error = job.error_chain.map(|e| format!(" {e}")).unwrap_or_default();
            let (id, request, device) = (job.id.0, &job.request_type, &job.device_number);
            drive.note(format!(
                "{kind} job {id} ({request}) on device {device}: {}{error}",
                status.as_str()
            ));
        }
    }
    Ok(ours.len() - failed)
}

/// The account a benchmark drives: an admin, its API token, and a push
/// certificate so devices can be woken.
pub(crate) struct BenchAccount {
    pub account: haishin_domain::auth::Account,
    pub root: haishin_domain::org::Group,
    pub actor: Actor,
    pub api_token: haishin_domain::service::CreatedToken,
}

pub(crate) async fn bench_account(services: &Services) -> anyhow::Result<BenchAccount> {
    let (account, root) = dom(services.create_account("ベンチ株式会社").await)?;
    let system = Actor::system(account.id);
    let admin = dom(services
        .create_admin(&system, "bench", "bench", Role::AccountAdmin, "bench-pass")
        .await)?;
    let actor = Actor::admin(&admin);
    let api_token = dom(services.create_api_token(&actor, "bench", None).await)?;
    let (certificate, key) = push_certificate()?;
    dom(services
        .upload_push_certificate(&actor, &certificate, &key, false)
        .await)?;
    Ok(BenchAccount {
        account,
        root,
        actor,
        api_token,
    })
}

/// A push certificate like Apple's: the topic in the subject UID.
pub(crate) fn push_certificate() -> anyhow::Result<(String, String)> {
    const TOPIC: &str = "com.apple.mgmt.External.00000000-0000-4000-8000-0000000be4c0";
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?;
    let mut params = rcgen::CertificateParams::default();
    let mut name = rcgen::DistinguishedName::new();
    name.push(
        rcgen::DnType::CustomDnType(vec![0, 9, 2342, 19200300, 100, 1, 1]),
        rcgen::DnValue::Utf8String(TOPIC.into()),
    );
    name.push(
        rcgen::DnType::CommonName,
        format!("APSP:{}", &TOPIC[TOPIC.len() - 36..]),
    );
    params.distinguished_name = name;
    params.not_before = rcgen::date_time_ymd(2024, 1, 1);
    params.not_after = rcgen::date_time_ymd(2099, 1, 1);
    Ok((params.self_signed(&key)?.pem(), key.serialize_pem()))
}
