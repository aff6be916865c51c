//! The distribution story `haishin demo` tells once its fleet is enrolled
//! and inventoried: one deployment (配信) of two apps to the whole fleet,
//! with licenses assigned automatically by the server's worker. One app has
//! licenses for everyone; the other has only five, so most of its installs
//! end honestly as license-assignment-failed, with the remedy. The demo
//! watches the job counts, then says what happened and why, and how to look
//! at the same through the API.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use haishin_domain::auth::Actor;
use haishin_domain::deploy::{
    DeployItem, DeployOptions, DeploymentProgress, DeploymentRequest, DeploymentStatus, DeviceSelection, LicenseMode,
    TargetOs,
};
use haishin_domain::ids::{DeploymentId, DeviceId, GroupId, JobId, VppTokenId};
use haishin_domain::jobs::{Job, JobQuery, JobStatus};
use haishin_domain::service::Services;

use crate::domain_error;

/// The longest the demo waits for the first inventory of its fleet.
const INVENTORY_WAIT: Duration = Duration::from_secs(30);
/// The longest the demo watches its deployment before it says where it is.
const WATCH: Duration = Duration::from_secs(60);
/// How long nothing may change before the jobs still open are taken to be
/// the unreachable devices' (offline, locked), which may take days.
const SETTLED: Duration = Duration::from_secs(4);

/// Every job the query selects, a page at a time (newest first).
async fn all_jobs(services: &Services, actor: &Actor, query: JobQuery) -> anyhow::Result<Vec<Job>> {
    let mut all: Vec<Job> = Vec::new();
    loop {
        let page = JobQuery {
            before_id: all.last().map(|j| j.id),
            limit: Some(1000),
            ..query.clone()
        };
        let page = services.list_jobs(actor, &page).await.map_err(domain_error)?;
        if page.is_empty() {
            return Ok(all);
        }
        all.extend(page);
    }
}

/// Waits until every device that can answer has answered the inventory the
/// server asks for at enrollment (SYSTEM DeviceInformation and
/// InstalledApplicationList): the deployment's plan reads it (OS version,
/// installed apps). `offline` devices never answer.
pub async fn wait_for_first_inventory(services: &Services, actor: &Actor, offline: usize) -> anyhow::Result<()> {
    let started = Instant::now();
    loop {
        let open = all_jobs(
            services,
            actor,
            JobQuery {
                created_by: Some("SYSTEM".into()),
                active_only: true,
                ..Default::default()
            },
        )
        .await?;
        let mut devices: Vec<DeviceId> = open.iter().map(|j| j.device_id).collect();
        devices.sort();
        devices.dedup();
        let done = devices.len() <= offline;
        if done || started.elapsed() >= INVENTORY_WAIT {
            if done {
                eprintln!(
                    "\r  first inventory (DeviceInformation, InstalledApplicationList) in; {} offline devices have not answered",
                    devices.len()
                );
            } else {
                eprintln!(
                    "\r  first inventory: {} devices have not answered after {:.0?}; deploying anyway",
                    devices.len(),
                    started.elapsed()
                );
            }
            return Ok(());
        }
        eprint!(
            "\r  waiting for the first inventory... {} devices to answer",
            devices.len()
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Registers the deployment of `apps` for `target_os` to every device of
/// `group` and its subgroups, licenses assigned automatically: the story's
/// [`crate::sim_vpp::DEMO_APP`] (1,000 licenses) and [`crate::sim_vpp::SCARCE_APP`] (5
/// licenses) for iOS, then [`crate::sim_vpp::MAC_APP`] for the Macs.
pub async fn deploy(
    services: &Services,
    actor: &Actor,
    token: VppTokenId,
    group: GroupId,
    (target_os, apps): (TargetOs, &[&str]),
) -> anyhow::Result<DeploymentProgress> {
    let request = DeploymentRequest {
        // The server names it after the apps: 「勤怠管理Pro ほか1件の配信」.
        name: None,
        items: apps
            .iter()
            .map(|adam_id| DeployItem {
                token_id: token,
                adam_id: (*adam_id).to_owned(),
            })
            .collect(),
        target_os,
        license_mode: LicenseMode::Auto,
        devices: DeviceSelection {
            group_id: Some(group),
            include_subgroups: true,
            all: true,
            ..Default::default()
        },
        options: DeployOptions::default(),
        run_at: None,
    };
    let progress = services
        .create_deployment(actor, &request)
        .await
        .map_err(domain_error)?;
    let summary = &progress.deployment.summary;
    println!();
    println!(
        "配信 / Deployment {}: 「{}」, {} devices selected, {} install jobs",
        progress.deployment.id.0, progress.deployment.name, summary.devices_selected, summary.installs
    );
    for license in &summary.licenses {
        println!(
            "  {}: {} installs; licenses already held {}, to assign {}, available {}{}",
            license.name,
            license.installs,
            license.already_held,
            license.to_assign,
            license.available,
            if license.short > 0 {
                format!(", short {} / ライセンス不足 {}", license.short, license.short)
            } else {
                String::new()
            }
        );
    }
    for (reason, (devices, message)) in skips(&progress) {
        println!("  skipped {devices} devices ({reason}): {message}");
    }
    Ok(progress)
}

/// Skipped devices by reason, with the first message.
fn skips(progress: &DeploymentProgress) -> BTreeMap<String, (usize, String)> {
    let mut by_reason: BTreeMap<String, (Vec<DeviceId>, String)> = BTreeMap::new();
    for skip in &progress.deployment.summary.skipped {
        let reason = serde_json::to_value(skip.reason)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_else(|| format!("{:?}", skip.reason));
        let entry = by_reason
            .entry(reason)
            .or_insert_with(|| (Vec::new(), format!("{} / {}", skip.message_ja, skip.message_en)));
        entry.0.push(skip.device_id);
    }
    by_reason
        .into_iter()
        .map(|(reason, (mut devices, message))| {
            devices.sort();
            devices.dedup();
            (reason, (devices.len(), message))
        })
        .collect()
}

/// The counts by status in one line, in both languages.
fn counts_line(progress: &DeploymentProgress) -> String {
    progress
        .by_status
        .iter()
        .map(|c| {
            let mut text = format!("{} {} {}", c.label_ja, c.label_en, c.count);
            if c.waiting_for_license > 0 {
                text.push_str(&format!(
                    " (ライセンス待ち waiting for license {})",
                    c.waiting_for_license
                ));
            }
            if c.verifying > 0 {
                text.push_str(&format!(" (インストール確認中 verifying {})", c.verifying));
            }
            text
        })
        .collect::<Vec<_>>()
        .join(" · ")
}

/// Prints the deployment's counts every 1.5 s until every job that can
/// finish has finished: all of them, or all but at most two per
/// `unreachable` device (offline or locked) with nothing changing for a
/// while; or until a minute has passed. Returns the last progress.
pub async fn watch(
    services: &Services,
    actor: &Actor,
    id: DeploymentId,
    unreachable: usize,
) -> anyhow::Result<DeploymentProgress> {
    let started = Instant::now();
    let mut last_change = Instant::now();
    let mut last_counts = Vec::new();
    loop {
        let progress = services.deployment(actor, id).await.map_err(domain_error)?;
        println!(
            "  [{:>4.1}s] {} — {}",
            started.elapsed().as_secs_f64(),
            progress.status_label,
            counts_line(&progress)
        );
        let counts: Vec<(JobStatus, i64, i64, i64)> = progress
            .by_status
            .iter()
            .map(|c| (c.status, c.count, c.waiting_for_license, c.verifying))
            .collect();
        if counts != last_counts {
            last_counts = counts;
            last_change = Instant::now();
        }
        let open = (progress.jobs - progress.finished) as usize;
        let released = progress.deployment.status == DeploymentStatus::Released;
        let settled = open <= 2 * unreachable && last_change.elapsed() >= SETTLED;
        if (released && (open == 0 || settled)) || started.elapsed() >= WATCH {
            return Ok(progress);
        }
        tokio::time::sleep(Duration::from_millis(1500)).await;
    }
}

fn jobs_of(id: DeploymentId, status: JobStatus) -> JobQuery {
    JobQuery {
        deployment_id: Some(id),
        status: Some(status),
        ..Default::default()
    }
}

/// What happened, why, and how to see it through the API.
pub async fn print_summary(
    services: &Services,
    actor: &Actor,
    progress: &DeploymentProgress,
    url: &str,
    api_token: Option<&str>,
) -> anyhow::Result<()> {
    let id = progress.deployment.id;
    let count = |status: JobStatus| {
        progress
            .by_status
            .iter()
            .find(|c| c.status == status)
            .map_or(0, |c| c.count)
    };
    println!();
    println!(
        "配信結果 / Deployment result: 「{}」 ({} jobs, {} finished)",
        progress.deployment.name, progress.jobs, progress.finished
    );
    println!(
        "  成功 / succeeded (installed and confirmed in the managed app list): {}",
        progress.succeeded
    );
    let license_failed = count(JobStatus::LicenseFailed);
    println!("  ライセンス割り当て失敗 / license assignment failed: {license_failed}");
    let mut example_job: Option<JobId> = None;
    if license_failed > 0 {
        let query = JobQuery {
            limit: Some(1),
            ..jobs_of(id, JobStatus::LicenseFailed)
        };
        let jobs = services.list_jobs(actor, &query).await.map_err(domain_error)?;
        if let Some(detail) = jobs.first().and_then(|j| j.detail.as_ref()) {
            let text = |key: &str| detail.get(key).and_then(|v| v.as_str()).unwrap_or("").to_owned();
            println!("    対処: {}", text("message_ja"));
            println!("    Remedy: {}", text("message_en"));
        }
        example_job = jobs.first().map(|j| j.id);
    }
    let device_errors = all_jobs(services, actor, jobs_of(id, JobStatus::DeviceError)).await?;
    println!("  端末エラー / device errors: {}", device_errors.len());
    let mut shown_rows: Vec<&'static str> = Vec::new();
    for job in device_errors.iter().rev() {
        if shown_rows.len() == 2 {
            break;
        }
        let detail = services.job_detail(actor, job.id).await.map_err(domain_error)?;
        let Some(first) = detail.diagnosis.matches.first() else {
            continue;
        };
        if shown_rows.contains(&first.row.id) {
            continue;
        }
        shown_rows.push(first.row.id);
        example_job = Some(job.id);
        // What the device said: its ErrorChain, or the status the managed
        // app list showed (a failed install has no chain).
        let said = detail.diagnosis.error_chain.clone().or_else(|| {
            job.error_chain
                .as_ref()
                .and_then(|e| e.get("ManagedStatus"))
                .and_then(|s| s.as_str())
                .map(|s| format!("ManagedApplicationList: {s}"))
        });
        println!(
            "    例 / e.g. job {} (端末 {} {}){}:",
            job.id.0,
            job.device_number,
            job.device_name,
            said.map(|c| format!(" {c}")).unwrap_or_default()
        );
        println!("      原因: {}", first.row.cause.ja);
        println!("      対処: {}", first.row.remedy.ja);
        let findings: Vec<&str> = detail.diagnosis.findings.iter().map(|f| f.ja.as_str()).collect();
        if !findings.is_empty() {
            println!("      サーバーの所見: {}", findings.join(" "));
        }
    }
    let open: Vec<String> = progress
        .by_status
        .iter()
        .filter(|c| !c.status.is_final())
        .map(|c| format!("{} {} {}", c.label_ja, c.label_en, c.count))
        .collect();
    if open.is_empty() {
        println!("  未完了 / unfinished: 0");
    } else {
        println!(
            "  未完了 / unfinished: {} ({}): offline or locked devices. Their jobs stay queued and run when the device is back online or unlocked (オフライン・ロック中の端末は、復帰時に実行されます).",
            progress.jobs - progress.finished,
            open.join(", ")
        );
    }
    let token = api_token.unwrap_or("<API token>");
    let auth = format!("curl -H 'Authorization: Bearer {token}'");
    println!("See it through the API:");
    println!("  {auth} '{url}/api/v1/deployments/{}'", id.0);
    println!("  {auth} '{url}/api/v1/jobs?deployment_id={}&limit=1000'", id.0);
    println!(
        "  {auth} '{url}/api/v1/jobs?deployment_id={}&status=device_error'",
        id.0
    );
    if let Some(job) = example_job {
        println!("  {auth} '{url}/api/v1/jobs/{}'   # one job with its diagnosis", job.0);
    }
    Ok(())
}

/// D5 to try after the story: 社内ポータル is installed automatically on
/// devices moved into a new group 新入社員, and 乗換案内ナビ is offered in the
/// self-service portal of the fleet's group, with a link for one device.
pub async fn offer_apps_by_themselves(
    services: &Services,
    actor: &Actor,
    token: VppTokenId,
    group: GroupId,
    url: &str,
    api_token: Option<&str>,
) -> anyhow::Result<()> {
    use haishin_domain::deploy::{AppRuleInput, RuleMode, TargetOs};
    let newcomers = services.create_group(actor, None, "新入社員").await?;
    let rule = |adam_id: &str, mode, group_id| AppRuleInput {
        token_id: token,
        adam_id: adam_id.to_owned(),
        mode,
        target_os: TargetOs::Ios,
        group_id: Some(group_id),
        include_subgroups: true,
        options: Default::default(),
        enabled: true,
    };
    services
        .create_app_rule(actor, &rule("1500000401", RuleMode::AutoInstall, newcomers.id))
        .await?;
    services
        .create_app_rule(actor, &rule("1500000402", RuleMode::SelfService, group))
        .await?;
    let device = services
        .search_devices(
            actor,
            &haishin_domain::org::DeviceSearch {
                group_id: Some(group),
                per_page: Some(1),
                ..Default::default()
            },
        )
        .await?
        .items
        .into_iter()
        .next();
    let auth = format!("curl -H 'Authorization: Bearer {}'", api_token.unwrap_or("<API token>"));
    println!();
    println!("Apps that go by themselves (自動インストール・ポータル):");
    println!(
        "  社内ポータル is installed on every device moved into group {} (新入社員), by SYSTEM:",
        newcomers.id
    );
    if let Some(device) = &device {
        println!(
            "  {auth} -X PATCH -H 'Content-Type: application/json' -d '{{\"group_id\": {}}}' '{url}/api/v1/devices/{}'",
            newcomers.id, device.id
        );
        let link = services.portal_link(actor, device.id, Some(30)).await?;
        println!(
            "  乗換案内ナビ is offered in the self-service portal of every device of group {group}; 端末 {}'s portal (open it in a browser):",
            device.device_number
        );
        println!("  {url}{}", link.path);
    }
    println!("  {auth} '{url}/api/v1/app-rules'");
    Ok(())
}
