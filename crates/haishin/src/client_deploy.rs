//! `haishin deploy …`: the distribution wizard from the shell. A request is
//! a JSON file (the body of `POST /api/v1/deployments`); `preview` shows who
//! gets a job and who is skipped and why, `create` registers it and follows
//! its progress with a bar per status until every job has finished.

use std::path::PathBuf;
use std::time::Duration;

use clap::Subcommand;
use reqwest::Method;
use serde_json::Value;

use crate::client::{Api, read_text};

#[derive(Subcommand)]
pub enum DeployAction {
    /// The dry run: installs, license needs and skipped devices with reasons.
    Preview { file: PathBuf },
    /// Register the deployment and follow it (unless --no-wait).
    Create {
        file: PathBuf,
        #[arg(long)]
        no_wait: bool,
    },
    /// The latest deployments with their progress.
    List,
    /// One deployment; --watch follows it until every job has finished.
    Show {
        id: i64,
        #[arg(long)]
        watch: bool,
    },
    /// Cancel the deployment's unfinished jobs.
    Cancel { id: i64 },
    /// Send an install again that the user refused or that failed (再送).
    Resend { job: i64 },
    /// Auto-install and self-service rules (自動インストールアプリケーション, ポータル).
    Rules {
        #[command(subcommand)]
        action: RuleAction,
    },
    /// Turn automatic updates of one app on or off.
    AutoUpdate {
        token: i64,
        adam_id: String,
        #[arg(value_parser = ["on", "off"])]
        state: String,
    },
    /// A signed link to a device's self-service portal.
    PortalLink {
        device: i64,
        /// Days the link is valid (1-366, 30 by default).
        #[arg(long)]
        days: Option<i64>,
    },
}

#[derive(Subcommand)]
pub enum RuleAction {
    /// Every rule, with how many devices each was applied to.
    List,
    /// Create a rule from a JSON file (the body of `POST /api/v1/app-rules`).
    Create { file: PathBuf },
    /// Delete a rule; installed apps and their licenses stay.
    Delete { id: i64 },
    /// Look at every device of the rule's group again.
    Reapply { id: i64 },
}

fn request_body(file: &std::path::Path) -> anyhow::Result<Value> {
    let text = read_text(file)?;
    serde_json::from_str(&text)
        .map_err(|e| anyhow::anyhow!("{}: JSONとして読めません / not valid JSON: {e}", file.display()))
}

/// A bar of `width` cells for `part` of `whole`.
fn bar(part: i64, whole: i64, width: usize) -> String {
    let filled = if whole > 0 {
        ((part as f64 / whole as f64) * width as f64).round() as usize
    } else {
        0
    };
    format!(
        "{}{}",
        "█".repeat(filled.min(width)),
        "░".repeat(width - filled.min(width))
    )
}

/// The progress of a deployment, one line per status.
fn render(progress: &Value) -> String {
    let jobs = progress["jobs"].as_i64().unwrap_or(0);
    let finished = progress["finished"].as_i64().unwrap_or(0);
    let mut out = format!(
        "配信 {} 「{}」 {} — {finished}/{jobs} 完了 {}\n",
        progress["id"],
        progress["name"].as_str().unwrap_or(""),
        progress["status_label"].as_str().unwrap_or(""),
        bar(finished, jobs, 30)
    );
    for status in progress["by_status"].as_array().into_iter().flatten() {
        let count = status["count"].as_i64().unwrap_or(0);
        let mut note = String::new();
        if status["waiting_for_license"].as_i64().unwrap_or(0) > 0 {
            note = format!(" (ライセンス待ち {})", status["waiting_for_license"]);
        }
        if status["verifying"].as_i64().unwrap_or(0) > 0 {
            note = format!(" (インストール確認中 {})", status["verifying"]);
        }
        out.push_str(&format!(
            "  {:<22} {:>7} {}{note}\n",
            format!(
                "{} / {}",
                status["label_ja"].as_str().unwrap_or(""),
                status["label_en"].as_str().unwrap_or("")
            ),
            count,
            bar(count, jobs, 20)
        ));
    }
    out
}

async fn fetch(api: &Api, id: i64) -> anyhow::Result<Value> {
    let response = api
        .send(api.request(Method::GET, &format!("/deployments/{id}"))?)
        .await?;
    Ok(response.json().await?)
}

/// Redraws the progress until every job has finished. Jobs of devices that
/// are off stay unfinished, so Ctrl-C leaves the deployment running.
async fn follow(api: &Api, id: i64) -> anyhow::Result<()> {
    let mut lines = 0;
    loop {
        let progress = fetch(api, id).await?;
        let text = render(&progress);
        if lines > 0 {
            eprint!("\x1b[{lines}A\x1b[J");
        }
        eprint!("{text}");
        lines = text.lines().count();
        if progress["jobs"] == progress["finished"] {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

pub(crate) async fn run(api: &Api, action: DeployAction) -> anyhow::Result<()> {
    match action {
        DeployAction::Preview { file } => {
            let body = request_body(&file)?;
            let response = api
                .send(api.request(Method::POST, "/deployments/preview")?.json(&body))
                .await?;
            let preview: Value = response.json().await?;
            let summary = &preview["summary"];
            eprintln!(
                "対象端末 {} 台 / インストール {} 件 / 対象外 {} 件",
                summary["devices_selected"],
                summary["installs"],
                summary["skipped"].as_array().map_or(0, Vec::len)
            );
            for license in summary["licenses"].as_array().into_iter().flatten() {
                eprintln!(
                    "  {} ({}): 割り当て済み {} / 新規割り当て {} / 利用可能 {} / 不足 {}",
                    license["name"].as_str().unwrap_or(""),
                    license["adam_id"].as_str().unwrap_or(""),
                    license["already_held"],
                    license["to_assign"],
                    license["available"],
                    license["short"]
                );
            }
            println!("{}", serde_json::to_string_pretty(&preview)?);
            Ok(())
        }
        DeployAction::Create { file, no_wait } => {
            let body = request_body(&file)?;
            let response = api.send(api.request(Method::POST, "/deployments")?.json(&body)).await?;
            let created: Value = response.json().await?;
            let id = created["id"].as_i64().unwrap_or_default();
            if no_wait {
                println!("{}", serde_json::to_string_pretty(&created)?);
                return Ok(());
            }
            follow(api, id).await
        }
        DeployAction::List => api.json(api.request(Method::GET, "/deployments")?).await,
        DeployAction::Show { id, watch } => {
            if watch {
                follow(api, id).await
            } else {
                api.json(api.request(Method::GET, &format!("/deployments/{id}"))?).await
            }
        }
        DeployAction::Cancel { id } => {
            api.json(api.request(Method::POST, &format!("/deployments/{id}/cancel"))?)
                .await
        }
        DeployAction::Resend { job } => {
            api.json(api.request(Method::POST, &format!("/jobs/{job}/resend"))?)
                .await
        }
        DeployAction::Rules { action } => run_rules(api, action).await,
        DeployAction::AutoUpdate { token, adam_id, state } => {
            let path = format!("/vpp/tokens/{token}/assets/{adam_id}/auto-update");
            let body = serde_json::json!({ "enabled": state == "on" });
            api.json(api.request(Method::PUT, &path)?.json(&body)).await
        }
        DeployAction::PortalLink { device, days } => {
            let query = days.map(|d| format!("?days={d}")).unwrap_or_default();
            let response = api
                .send(api.request(Method::POST, &format!("/devices/{device}/portal-link{query}"))?)
                .await?;
            let link: Value = response.json().await?;
            eprintln!("有効期限 / expires: {}", link["expires_at"]);
            println!("{}{}", api.base_url(), link["path"].as_str().unwrap_or_default());
            Ok(())
        }
    }
}

async fn run_rules(api: &Api, action: RuleAction) -> anyhow::Result<()> {
    match action {
        RuleAction::List => api.json(api.request(Method::GET, "/app-rules")?).await,
        RuleAction::Create { file } => {
            let body = request_body(&file)?;
            api.json(api.request(Method::POST, "/app-rules")?.json(&body)).await
        }
        RuleAction::Delete { id } => {
            api.send(api.request(Method::DELETE, &format!("/app-rules/{id}"))?)
                .await?;
            eprintln!("削除しました / deleted");
            Ok(())
        }
        RuleAction::Reapply { id } => {
            api.json(api.request(Method::POST, &format!("/app-rules/{id}/reapply"))?)
                .await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_renders_a_line_per_status() {
        let progress = serde_json::json!({
            "id": 7, "name": "勤怠", "status_label": "配信中 / Distributing", "jobs": 10, "finished": 5,
            "by_status": [
                { "label_ja": "成功", "label_en": "Success", "count": 5, "waiting_for_license": 0, "verifying": 0 },
                { "label_ja": "実行中", "label_en": "Running", "count": 5, "waiting_for_license": 0, "verifying": 3 },
            ]
        });
        let text = render(&progress);
        assert_eq!(text.lines().count(), 3);
        assert!(text.contains("5/10"));
        assert!(text.contains("インストール確認中 3"));
        assert_eq!(bar(1, 2, 4), "██░░");
        assert_eq!(bar(0, 0, 3), "░░░");
    }
}
