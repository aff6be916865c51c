//! `haishin bench …`: repeatable measurements on fresh databases, printed as
//! medians and tails so runs can be compared. No thresholds: the figures are
//! for people to read and track.

use std::time::{Duration, Instant};

use clap::{Args, Subcommand};
use haishin_domain::auth::{Actor, Role};
use haishin_domain::csv::{CsvEncoding, EncodingChoice, encode};
use haishin_domain::org::{DeviceSearch, SearchField};
use haishin_domain::service::{CsvOptions, Services};
use haishin_storage::testing::TestDb;

use crate::{domain_error, sample};

#[derive(Subcommand)]
pub enum BenchCommand {
    /// Import N devices (Shift_JIS CSV) and search them by every field.
    Org(OrgBench),
}

#[derive(Args)]
pub struct OrgBench {
    #[arg(long, default_value_t = 100_000)]
    pub devices: usize,
    /// sqlite, postgres, or both.
    #[arg(long, default_value = "both")]
    pub backend: String,
    /// Searches per field (each with another keyword).
    #[arg(long, default_value_t = 30)]
    pub searches: usize,
}

pub async fn run(command: BenchCommand) -> anyhow::Result<()> {
    match command {
        BenchCommand::Org(args) => {
            let backends: Vec<&str> = match args.backend.as_str() {
                "both" => vec!["sqlite", "postgres"],
                one => vec![one],
            };
            for backend in backends {
                org(backend, &args).await?;
            }
            Ok(())
        }
    }
}

async fn org(backend: &str, args: &OrgBench) -> anyhow::Result<()> {
    let db = TestDb::open(backend).await;
    let (master_key, _) = haishin_secrets::MasterKey::generate();
    let services = Services::new(std::sync::Arc::new(db.store.clone()), std::sync::Arc::new(master_key));
    let (account, root) = services.create_account("ベンチ株式会社").await.map_err(domain_error)?;
    let admin = services
        .create_admin(
            &Actor::system(account.id),
            "bench",
            "bench",
            Role::AccountAdmin,
            "bench-password",
        )
        .await
        .map_err(domain_error)?;
    let actor = Actor::admin(&admin);
    let mut leaves = Vec::new();
    let mut first_department = None;
    for department in ["営業部", "開発部", "製造部", "総務部", "経理部"] {
        let parent = services
            .create_group(&actor, Some(root.id), department)
            .await
            .map_err(domain_error)?;
        first_department.get_or_insert(parent.id);
        for site in ["東京", "大阪", "名古屋", "福岡"] {
            services
                .create_group(&actor, Some(parent.id), site)
                .await
                .map_err(domain_error)?;
            leaves.push(format!("{}/{department}/{site}", root.name));
        }
    }
    let users = (args.devices / 20).max(10);
    let options = CsvOptions {
        encoding: EncodingChoice::Auto,
    };
    services
        .import_users(&actor, sample::users_csv(users, &leaves).as_bytes(), options)
        .await
        .map_err(domain_error)?;
    let csv = encode(
        &sample::devices_csv(args.devices, &leaves, users),
        CsvEncoding::ShiftJis,
    )
    .map_err(domain_error)?;
    eprintln!(
        "[{backend}] importing {} devices ({:.1} MB Shift_JIS)…",
        args.devices,
        csv.len() as f64 / 1e6
    );
    let started = Instant::now();
    let summary = services
        .import_devices(&actor, &csv, options)
        .await
        .map_err(domain_error)?;
    let import = started.elapsed();
    anyhow::ensure!(
        summary.created == args.devices,
        "import created {} devices",
        summary.created
    );
    println!(
        "{backend:8} import {:>7} devices: {:>7.2} s ({:>6.0} devices/s)",
        args.devices,
        import.as_secs_f64(),
        args.devices as f64 / import.as_secs_f64()
    );
    let started = Instant::now();
    let again = services
        .import_devices(&actor, &csv, options)
        .await
        .map_err(domain_error)?;
    println!(
        "{backend:8} re-import (all unchanged {}): {:>7.2} s",
        again.unchanged,
        started.elapsed().as_secs_f64()
    );

    println!(
        "{backend:8} search at {} devices, {} searches each: p50 / p99 ms (rows matched, median)",
        args.devices, args.searches
    );
    let mut random = Lcg(7);
    let fields: Vec<Option<SearchField>> = std::iter::once(None)
        .chain(SearchField::ALL.into_iter().map(Some))
        .collect();
    for scope in [None, first_department] {
        for field in &fields {
            let mut times = Vec::with_capacity(args.searches);
            let mut matched = Vec::with_capacity(args.searches);
            for _ in 0..args.searches {
                let keyword = keyword_for(*field, random.below(args.devices), users);
                let search = DeviceSearch {
                    q: Some(keyword),
                    field: *field,
                    group_id: scope,
                    include_subgroups: scope.is_some(),
                    page: Some(1),
                    per_page: Some(50),
                };
                let started = Instant::now();
                let page = services.search_devices(&actor, &search).await.map_err(domain_error)?;
                times.push(started.elapsed());
                matched.push(page.total);
            }
            times.sort();
            matched.sort();
            println!(
                "{backend:8}   {:<16} {:<14} {:>8.2} / {:>8.2}  ({})",
                field.map(|f| format!("{f:?}")).unwrap_or_else(|| "any field".into()),
                if scope.is_some() {
                    "dept+subgroups"
                } else {
                    "whole account"
                },
                millis(percentile(&times, 0.50)),
                millis(percentile(&times, 0.99)),
                matched[matched.len() / 2]
            );
        }
    }
    db.cleanup().await?;
    Ok(())
}

fn keyword_for(field: Option<SearchField>, i: usize, users: usize) -> String {
    use SearchField::*;
    let user = i % users;
    match field {
        None | Some(DisplayName) => ["東京", "大阪", "iPad", "iPhone 0"][i % 4].into(),
        Some(DeviceNumber) => format!("D{i:06}"),
        Some(Udid) => format!("{:016X}", (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15))[..8].to_owned(),
        Some(WifiMac) => format!("{:02x}:{:02x}", (i >> 8) & 0xff, i & 0xff),
        Some(OsVersion) => ["17.5", "18.1"][i % 2].into(),
        Some(OwnerName) => sample::person_name(user),
        Some(SerialNumber) => format!("{:09X}", i * 7919 + 12345)[..6].to_owned(),
        Some(EmployeeNumber) => sample::employee_number(user),
        Some(Phone1) => format!("03-{:04}", user % 10000),
        Some(Phone2) => format!("090-{:04}", (user * 3) % 10000),
        Some(Email) => format!("user{user}@"),
        Some(Notes1) => format!("A-{i:06}"),
        Some(Notes2) => "リース".into(),
        Some(Notes3) => "未使用".into(),
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[index]
}

fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// A tiny deterministic generator: benchmark runs must pick the same keywords.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) as usize) % n.max(1)
    }
}
