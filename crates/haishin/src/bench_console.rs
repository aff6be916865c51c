//! `haishin bench console`: the job console's queries (SPEC J3) over N
//! synthetic jobs: the latest page, by month, unfinished only, by device,
//! by registering admin, by status, by deployment, the next page, and the
//! per-deployment counts. Each runs through the real store API, p50 and p99
//! printed per filter so runs can be compared.
//!
//! The jobs are written straight into the database in large batches by the
//! database's own command-line client (`sqlite3` or `psql`, which must be
//! on the PATH): this crate reaches the store only through its API, and
//! millions of rows through it would take hours. They spread over ~2,000
//! devices and three months, in waves: every wave is one command to every
//! device, every tenth wave a deployment (10% of the jobs). All statuses
//! occur: the newest 1% are unfinished, older ones mostly succeeded, with
//! some failed, canceled, or still waiting for a device that never came.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Args;
use haishin_domain::auth::{Actor, Role};
use haishin_domain::deploy::DeploymentSummary;
use haishin_domain::ids::{AccountId, DeploymentId, JobId, VppTokenId};
use haishin_domain::jobs::{JobQuery, JobStatus};
use haishin_domain::service::Services;
use haishin_domain::time_util::{Timestamp, millis_to_rfc3339};
use haishin_secrets::MasterKey;
use haishin_storage::testing::TestDb;
use haishin_storage::{Backend, SqlStore};

use crate::bench_deploy::backends;
use crate::bench_mdm::dom;

#[derive(Args, Debug, Clone)]
pub struct ConsoleBench {
    /// Synthetic jobs.
    #[arg(long, default_value_t = 10_000_000)]
    pub jobs: u64,
    /// sqlite, postgres, or both.
    #[arg(long, default_value = "both")]
    pub backend: String,
    /// Devices the jobs spread over.
    #[arg(long, default_value_t = 2000)]
    pub devices: u64,
    /// Times each query runs (after one untimed run).
    #[arg(long, default_value_t = 50)]
    pub queries: usize,
    /// Stop repeating one query after this many seconds: a pathologically
    /// slow filter then shows fewer runs (n=…) instead of holding the run up.
    #[arg(long, default_value_t = 60)]
    pub budget_seconds: u64,
}

const DAY_MILLIS: i64 = 86_400_000;
/// The jobs' `created_at` spans this many days up to now.
const SPAN_DAYS: i64 = 90;
/// Rows per INSERT … SELECT (one transaction each).
const CHUNK: u64 = 1_000_000;
const ADMINS: [&str; 3] = ["tanaka", "suzuki", "sato"];
const COMMAND: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><plist version=\"1.0\"><dict><key>Command</key>\
    <dict><key>RequestType</key><string>DeviceInformation</string></dict><key>CommandUUID</key>\
    <string>00000000-0000-4000-8000-000000000000</string></dict></plist>";
const ERROR_CHAIN: &str = "[{\"ErrorCode\":12064,\"ErrorDomain\":\"MCInstallationErrorDomain\",\
    \"LocalizedDescription\":\"ライセンスが見つかりません\"}]";

pub async fn run(args: &ConsoleBench) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.devices > 0 && args.jobs >= args.devices,
        "--jobs must be at least --devices, and --devices at least 1"
    );
    anyhow::ensure!(args.queries > 0, "--queries must be at least 1");
    let waves = args.jobs.div_ceil(args.devices);
    println!(
        "haishin bench console — {} jobs over {} devices and {SPAN_DAYS} days, {} deployments; \
         {} queries each after a warm-up: p50 / p99 ms (rows, median)",
        args.jobs,
        args.devices,
        waves.div_ceil(10),
        args.queries
    );
    for backend in backends(&args.backend)? {
        run_backend(backend, args).await?;
    }
    Ok(())
}

/// The database's command-line client.
enum Client {
    Sqlite(PathBuf),
    Postgres(String),
}

impl Client {
    fn for_url(url: &str) -> anyhow::Result<Self> {
        Ok(match Backend::from_url(url)? {
            Backend::Sqlite => Client::Sqlite(url.trim_start_matches("sqlite://").into()),
            Backend::Postgres => Client::Postgres(url.to_owned()),
        })
    }

    /// Runs `script`, stopping at the first error.
    async fn run(&self, script: String) -> anyhow::Result<()> {
        let (program, args): (&'static str, Vec<String>) = match self {
            Client::Sqlite(path) => ("sqlite3", vec!["-bail".into(), path.display().to_string()]),
            Client::Postgres(url) => (
                "psql",
                vec![
                    "-X".into(),
                    "-q".into(),
                    "-v".into(),
                    "ON_ERROR_STOP=1".into(),
                    url.clone(),
                ],
            ),
        };
        tokio::task::spawn_blocking(move || {
            let mut child = Command::new(program)
                .args(&args)
                .env("PGCLIENTENCODING", "UTF8")
                .stdin(Stdio::piped())
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .with_context(|| format!("running {program} (it writes the synthetic jobs; install it)"))?;
            child.stdin.take().context("stdin")?.write_all(script.as_bytes())?;
            let output = child.wait_with_output()?;
            let stderr = String::from_utf8_lossy(&output.stderr);
            anyhow::ensure!(
                output.status.success() && (program == "psql" || stderr.trim().is_empty()),
                "{program} failed: {stderr}"
            );
            Ok(())
        })
        .await?
    }

    fn postgres(&self) -> bool {
        matches!(self, Client::Postgres(_))
    }

    /// Rows `from..to` as a table of one column `i`.
    fn series(&self, from: u64, to: u64) -> String {
        let last = to - 1;
        match self {
            Client::Postgres(_) => format!("generate_series({from}::bigint, {last}::bigint) AS g(i)"),
            Client::Sqlite(_) => format!(
                "(WITH RECURSIVE s(i) AS (SELECT {from} UNION ALL SELECT i + 1 FROM s WHERE i < {last}) SELECT i FROM s)"
            ),
        }
    }

    /// `expr` as decimal digits, zero-padded to `width`.
    fn pad(&self, expr: &str, width: usize) -> String {
        match self {
            Client::Postgres(_) => format!("lpad(({expr})::text, {width}, '0')"),
            Client::Sqlite(_) => format!("printf('%0{width}d', {expr})"),
        }
    }
}

fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// What the synthetic data is made of.
struct Data {
    account: i64,
    group: i64,
    admins: Vec<i64>,
    jobs: u64,
    devices: u64,
    deployments: u64,
    start: i64,
}

impl Data {
    fn created_at(&self, i: &str) -> String {
        format!("{} + {i} * {} / {}", self.start, SPAN_DAYS * DAY_MILLIS, self.jobs)
    }

    /// Devices `C000001`…, and the deployments (one per tenth wave).
    fn setup_script(&self, client: &Client) -> anyhow::Result<String> {
        let (account, group, start) = (self.account, self.group, self.start);
        let request = crate::bench_deploy::one_app_to_every_device(VppTokenId(1), "1000001");
        let summary = DeploymentSummary {
            devices_selected: self.devices as i64,
            installs: self.devices as i64,
            ..Default::default()
        };
        let request = literal(&serde_json::to_string(&request)?);
        let summary = literal(&serde_json::to_string(&summary)?);
        let number = client.pad("i", 6);
        let serial = client.pad("i", 10);
        let (by, by_name) = (self.admin_case("(i % 3 + 1)"), self.admin_name_case("(i % 3 + 1)"));
        let created = self.created_at(&format!("i * 10 * {}", self.devices));
        Ok(format!(
            "INSERT INTO devices (account_id, group_id, device_number, display_name, serial_number, udid, platform, \
             os_version, created_at, updated_at) SELECT {account}, {group}, 'C' || {number}, 'iPad ' || {number}, \
             'F9' || {serial}, 'UDID-' || {serial}, 'iOS', '17.5.1', {start}, {start} FROM {};\n\
             INSERT INTO deployments (account_id, name, status, request, summary, run_at, created_by, created_by_name, \
             created_at, updated_at) SELECT {account}, '勤怠管理 の配信 ' || i, 'released', {request}, {summary}, t, \
             {by}, {by_name}, t, t FROM (SELECT i, {created} AS t FROM {}) s;\n",
            client.series(1, self.devices + 1),
            client.series(0, self.deployments),
        ))
    }

    fn admin_case(&self, who: &str) -> String {
        let arms: String = self
            .admins
            .iter()
            .enumerate()
            .map(|(n, id)| format!(" WHEN {} THEN {id}", n + 1))
            .collect();
        format!("CASE {who}{arms} END")
    }

    fn admin_name_case(&self, who: &str) -> String {
        let arms: String = ADMINS
            .iter()
            .enumerate()
            .map(|(n, login)| format!(" WHEN {} THEN '{login}'", n + 1))
            .collect();
        format!("CASE {who}{arms} ELSE 'SYSTEM' END")
    }

    /// Jobs `from..to`. Job `i` goes to device `i % devices` in wave
    /// `i / devices`; a tenth of the waves are deployments.
    fn jobs_script(&self, client: &Client, from: u64, to: u64) -> String {
        let (account, d, n) = (self.account, self.devices, self.jobs);
        let deployment = format!("((i / {d}) % 10 = 0)");
        // A hash of i in 0..1000: statuses scatter over devices and waves.
        let r = "(((i * 2654435761) % 1000003) % 1000)";
        let status = format!(
            "CASE WHEN i >= {active} THEN (CASE i % 5 WHEN 0 THEN 'waiting' WHEN 1 THEN 'push_sent' \
             WHEN 2 THEN 'push_timeout' WHEN 3 THEN 'running' ELSE 'scheduled' END) \
             WHEN {r} < 2 THEN 'push_timeout' WHEN {r} < 4 THEN 'waiting' \
             WHEN {r} < 24 AND {deployment} THEN 'license_failed' WHEN {r} < 74 THEN 'device_error' \
             WHEN {r} < 104 THEN 'canceled' ELSE 'success' END",
            active = n - n / 100
        );
        let who =
            format!("CASE WHEN {deployment} THEN 1 + (i / {d} / 10) % 3 WHEN i % 7 >= 4 THEN i % 7 - 3 ELSE 0 END");
        let inner = format!(
            "SELECT i, {} AS t, CASE WHEN {deployment} THEN 1 ELSE 0 END AS dep, {status} AS st, {who} AS who FROM {}",
            self.created_at("i"),
            client.series(from, to)
        );
        let pending = "st IN ('scheduled', 'waiting')";
        let prelude = if client.postgres() {
            "SET synchronous_commit = off;\n"
        } else {
            "PRAGMA cache_size = -1000000; PRAGMA synchronous = OFF;\n"
        };
        format!(
            "{prelude}INSERT INTO jobs (account_id, device_id, command_uuid, request_type, command, status, run_at, \
             created_by, created_by_name, created_at, updated_at, pushed_at, push_count, delivered_at, finished_at, \
             error_chain, deployment_id, content_id, hold) \
             SELECT {account}, (SELECT MIN(id) FROM devices WHERE account_id = {account}) + i % {d}, 'B' || {uuid}, \
             CASE WHEN dep = 1 THEN 'InstallApplication' ELSE (CASE (i / {d}) % 5 WHEN 0 THEN 'DeviceInformation' \
             WHEN 1 THEN 'InstalledApplicationList' WHEN 2 THEN 'ProfileList' WHEN 3 THEN 'SecurityInfo' \
             ELSE 'DeviceLock' END) END, {command}, st, CASE WHEN st = 'scheduled' THEN t + 604800000 ELSE t END, \
             {by}, {by_name}, t, CASE WHEN {pending} THEN t ELSE t + 5000 END, \
             CASE WHEN {pending} THEN NULL ELSE t + 100 END, CASE WHEN {pending} THEN 0 ELSE 1 END, \
             CASE WHEN st IN ('running', 'success', 'device_error') THEN t + 2000 END, \
             CASE WHEN st IN ('success', 'device_error', 'license_failed', 'canceled') THEN t + 5000 END, \
             CASE WHEN st = 'device_error' THEN {error} END, \
             CASE WHEN dep = 1 THEN (SELECT MIN(id) FROM deployments WHERE account_id = {account}) + i / {d} / 10 END, \
             CASE WHEN dep = 1 THEN '1000001' END, \
             CASE WHEN dep = 1 AND st = 'running' THEN 'verifying' WHEN dep = 1 AND st = 'waiting' THEN 'license' END \
             FROM ({inner}) s;\n",
            uuid = client.pad("i", 35),
            command = literal(COMMAND),
            by = self.admin_case("who"),
            by_name = self.admin_name_case("who"),
            error = literal(ERROR_CHAIN),
        )
    }
}

async fn run_backend(backend: &str, args: &ConsoleBench) -> anyhow::Result<()> {
    let db = TestDb::open(backend).await;
    let client = Client::for_url(&db.url)?;
    let master_key = Arc::new(MasterKey::generate().0);
    let services = Services::new(Arc::new(db.store.clone()), master_key.clone());
    let (account, root) = dom(services.create_account("ベンチ株式会社").await)?;
    let system = Actor::system(account.id);
    let mut admins = Vec::new();
    for login in ADMINS {
        admins.push(dom(services
            .create_admin(&system, login, login, Role::AccountAdmin, "bench-pass")
            .await)?);
    }
    let actor = Actor::admin(&admins[0]);
    // The client writes while no pool holds the SQLite file.
    db.store.close().await;
    let data = Data {
        account: account.id.0,
        group: root.id.0,
        admins: admins.iter().map(|a| a.id.0).collect(),
        jobs: args.jobs,
        devices: args.devices,
        deployments: args.jobs.div_ceil(args.devices).div_ceil(10),
        start: Timestamp::now().0 - SPAN_DAYS * DAY_MILLIS,
    };
    client.run(data.setup_script(&client)?).await?;
    let started = Instant::now();
    let mut from = 0;
    while from < args.jobs {
        let to = (from + CHUNK).min(args.jobs);
        client.run(data.jobs_script(&client, from, to)).await?;
        from = to;
        let seconds = started.elapsed().as_secs_f64();
        eprintln!("[{backend}] {to} jobs written, {seconds:.0} s");
    }
    let insert = started.elapsed();
    let started = Instant::now();
    if client.postgres() {
        // What autovacuum does to a table this size soon after: statistics
        // and the visibility map (index-only scans).
        client
            .run("VACUUM ANALYZE jobs;\nANALYZE devices;\nANALYZE deployments;\n".into())
            .await?;
    }
    let store = SqlStore::connect(&db.url, 16).await?;
    // What the server does at start-up and then periodically (SQLite only).
    store.refresh_statistics().await?;
    let statistics = started.elapsed();
    println!(
        "{backend:8} insert {} jobs: {:.1} s ({:.0} jobs/s); statistics: {:.1} s ({})",
        args.jobs,
        insert.as_secs_f64(),
        args.jobs as f64 / insert.as_secs_f64(),
        statistics.as_secs_f64(),
        if client.postgres() {
            "VACUUM ANALYZE"
        } else {
            "the server's PRAGMA optimize"
        }
    );
    let services = Services::new(Arc::new(store.clone()), master_key);
    let result = measure(backend, &services, &actor, account.id, &data, args).await;
    store.close().await;
    db.cleanup().await?;
    result
}

/// A tiny deterministic generator: every run asks for the same things.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n.max(1)
    }
}

type MakeQuery = Box<dyn Fn(&mut Lcg) -> JobQuery>;

async fn measure(
    backend: &str,
    services: &Services,
    actor: &Actor,
    account: AccountId,
    data: &Data,
    args: &ConsoleBench,
) -> anyhow::Result<()> {
    let devices = dom(services.store.existing_devices(account).await)?;
    let deployments = dom(services.store.list_deployments(account, 1000).await)?;
    let newest = dom(services.list_jobs(actor, &JobQuery::default()).await)?;
    anyhow::ensure!(
        devices.len() as u64 == data.devices && deployments.len() as u64 == data.deployments.min(1000),
        "expected {} devices and {} deployments, found {} and {}",
        data.devices,
        data.deployments,
        devices.len(),
        deployments.len()
    );
    let first_deployment = deployments.iter().map(|d| d.id.0).min().unwrap_or(0);
    let last_job = newest.first().map_or(0, |j| j.id.0);
    let month = |millis: i64| millis_to_rfc3339(millis)[..7].to_owned();
    let (oldest, middle, current) = (
        month(data.start),
        month(data.start + SPAN_DAYS * DAY_MILLIS / 2),
        month(Timestamp::now().0),
    );
    let (device_count, deployment_count, job_count) = (data.devices, data.deployments, data.jobs);
    let device = move |r: &mut Lcg| Some(format!("C{:06}", 1 + r.below(device_count)));
    let deployment = move |r: &mut Lcg| Some(DeploymentId(first_deployment + r.below(deployment_count) as i64));
    let status = |status: JobStatus| {
        move |_: &mut Lcg| JobQuery {
            status: Some(status),
            ..JobQuery::default()
        }
    };
    let by = |name: &'static str| {
        move |_: &mut Lcg| JobQuery {
            created_by: Some(name.into()),
            ..JobQuery::default()
        }
    };
    let in_month = |m: String| {
        move |_: &mut Lcg| JobQuery {
            month: Some(m.clone()),
            ..JobQuery::default()
        }
    };
    let filters: Vec<(String, MakeQuery)> = vec![
        (
            "latest 100 (default)".into(),
            Box::new(|_: &mut Lcg| JobQuery::default()),
        ),
        (
            format!("month {current} (current)"),
            Box::new(in_month(current.clone())),
        ),
        (format!("month {middle}"), Box::new(in_month(middle.clone()))),
        (format!("month {oldest} (oldest)"), Box::new(in_month(oldest.clone()))),
        (
            "active only".into(),
            Box::new(|_: &mut Lcg| JobQuery {
                active_only: true,
                ..JobQuery::default()
            }),
        ),
        (
            "device number".into(),
            Box::new(move |r: &mut Lcg| JobQuery {
                device_number: device(r),
                ..JobQuery::default()
            }),
        ),
        (
            "device number + active only".into(),
            Box::new(move |r: &mut Lcg| JobQuery {
                device_number: device(r),
                active_only: true,
                ..JobQuery::default()
            }),
        ),
        ("created by SYSTEM".into(), Box::new(by("SYSTEM"))),
        ("created by sato".into(), Box::new(by("sato"))),
        ("status success".into(), Box::new(status(JobStatus::Success))),
        ("status device_error".into(), Box::new(status(JobStatus::DeviceError))),
        (
            "status license_failed".into(),
            Box::new(status(JobStatus::LicenseFailed)),
        ),
        ("status push_timeout".into(), Box::new(status(JobStatus::PushTimeout))),
        ("status running".into(), Box::new(status(JobStatus::Running))),
        (
            "deployment".into(),
            Box::new(move |r: &mut Lcg| JobQuery {
                deployment_id: deployment(r),
                ..JobQuery::default()
            }),
        ),
        (
            "deployment + status device_error".into(),
            Box::new(move |r: &mut Lcg| JobQuery {
                deployment_id: deployment(r),
                status: Some(JobStatus::DeviceError),
                ..JobQuery::default()
            }),
        ),
        (
            format!("month {oldest} + status device_error"),
            Box::new(move |_: &mut Lcg| JobQuery {
                month: Some(oldest.clone()),
                status: Some(JobStatus::DeviceError),
                ..JobQuery::default()
            }),
        ),
        (
            "created by sato + active only".into(),
            Box::new(|_: &mut Lcg| JobQuery {
                created_by: Some("sato".into()),
                active_only: true,
                ..JobQuery::default()
            }),
        ),
        (
            "next page (before_id anywhere)".into(),
            Box::new(move |r: &mut Lcg| JobQuery {
                before_id: Some(JobId(last_job - r.below(job_count) as i64)),
                ..JobQuery::default()
            }),
        ),
    ];
    let budget = Duration::from_secs(args.budget_seconds);
    for (label, make) in &filters {
        let mut random = Lcg(7);
        let mut timing = Timing::default();
        dom(services.list_jobs(actor, &make(&mut random)).await)?;
        while timing.wants(args.queries, budget) {
            let query = make(&mut random);
            let started = Instant::now();
            let rows = dom(services.list_jobs(actor, &query).await)?.len();
            timing.add(started.elapsed(), rows as i64);
        }
        timing.print(backend, label, args.queries);
    }
    let mut random = Lcg(7);
    let mut timing = Timing::default();
    dom(services.deployment(actor, DeploymentId(first_deployment)).await)?;
    while timing.wants(args.queries, budget) {
        let id = deployment(&mut random).unwrap_or(DeploymentId(first_deployment));
        let started = Instant::now();
        let progress = dom(services.deployment(actor, id).await)?;
        timing.add(started.elapsed(), progress.jobs);
    }
    timing.print(backend, "deployment progress (counts)", args.queries);
    let mut timing = Timing::default();
    dom(services.deployments(actor).await)?;
    while timing.wants(args.queries, budget) {
        let started = Instant::now();
        let list = dom(services.deployments(actor).await)?;
        timing.add(started.elapsed(), list.len() as i64);
    }
    timing.print(backend, "deployments list (100, with counts)", args.queries);
    Ok(())
}

#[derive(Default)]
struct Timing {
    times: Vec<Duration>,
    rows: Vec<i64>,
    spent: Duration,
}

impl Timing {
    fn wants(&self, queries: usize, budget: Duration) -> bool {
        self.times.len() < queries && (self.spent < budget || self.times.is_empty())
    }

    fn add(&mut self, time: Duration, rows: i64) {
        self.times.push(time);
        self.rows.push(rows);
        self.spent += time;
    }

    fn print(mut self, backend: &str, label: &str, queries: usize) {
        self.times.sort();
        self.rows.sort();
        let percentile = |p: f64| {
            let index = ((self.times.len() as f64 * p).ceil() as usize).clamp(1, self.times.len()) - 1;
            self.times[index].as_secs_f64() * 1000.0
        };
        let short = if self.times.len() < queries {
            format!("  n={} (budget spent)", self.times.len())
        } else {
            String::new()
        };
        println!(
            "{backend:8}   {label:<40} {:>9.2} / {:>9.2}  ({}){short}",
            percentile(0.50),
            percentile(0.99),
            self.rows[self.rows.len() / 2]
        );
    }
}
