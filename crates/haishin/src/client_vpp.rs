//! `haishin vpp …`: Apps and Books from the shell: tokens, sync, assets,
//! licenses, and operations followed with a progress line.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::Subcommand;
use reqwest::Method;
use serde_json::{Value, json};

use crate::client::{Api, read_text as read};

#[derive(Subcommand)]
pub enum VppAction {
    /// Registered tokens with expiry, status and last sync.
    Tokens {
        /// Only tokens this group uses.
        #[arg(long)]
        group: Option<i64>,
    },
    /// Register a content token (.vpptoken) to a group and claim its location.
    Register {
        #[arg(long)]
        group: i64,
        file: PathBuf,
    },
    /// Renew a token with a newer file of the same location (サーバトークンの更新).
    Renew { id: i64, file: PathBuf },
    /// Take a location over from another MDM or account.
    Takeover {
        id: i64,
        /// Confirms the takeover.
        #[arg(long)]
        yes: bool,
    },
    /// Set the groups that use a token (ライセンス共有).
    Share {
        id: i64,
        #[arg(long = "group", required = true)]
        groups: Vec<i64>,
    },
    /// Expiry notice mails (失効通知).
    ExpiryNotice {
        id: i64,
        #[arg(long)]
        enable: bool,
        #[arg(long = "address")]
        addresses: Vec<String>,
    },
    /// Sync assets, counts and licenses from Apple now (同期).
    Sync { id: i64 },
    /// Apps and books of a token with their license counts.
    Assets { id: i64 },
    /// Licenses, by token, asset, device serial or VPP user.
    Licenses {
        /// The VPP token (the global --token is the API token).
        #[arg(long = "token-id")]
        token: Option<i64>,
        #[arg(long)]
        adam_id: Option<String>,
        #[arg(long)]
        serial: Option<String>,
        #[arg(long)]
        user: Option<String>,
    },
    /// Assign licenses of apps/books to serial numbers or VPP users, and wait.
    Assign(LicenseArgs),
    /// Revoke licenses, and wait.
    Revoke(LicenseArgs),
    /// One license operation.
    Operation { id: i64 },
    /// VPP users of a token, with their status and Apple ID checks.
    Users { id: i64 },
    /// Create and register a VPP account for a user (VPPアカウントの作成と登録).
    CreateUser {
        id: i64,
        #[arg(long)]
        user: i64,
    },
    /// Invite a registered VPP user by mail or through their devices.
    Invite {
        id: i64,
        client_user_id: String,
        /// mail or device.
        #[arg(long, default_value = "mail")]
        by: String,
    },
    /// Read the VPP users' status from Apple now (VPPアカウントの状態取得).
    RefreshUsers { id: i64 },
    /// Retire a VPP user; revocable licenses return to the pool.
    RetireUser { id: i64, client_user_id: String },
    /// Show or set a group's license auto-assignment token.
    AutoAssign {
        group: i64,
        /// The VPP token to set; `none` stops setting one on this group.
        #[arg(long = "token-id")]
        token: Option<String>,
    },
}

/// Which licenses an assign or revoke is about.
#[derive(clap::Args)]
pub struct LicenseArgs {
    /// The token.
    id: i64,
    #[arg(long = "adam-id", required = true)]
    adam_ids: Vec<String>,
    #[arg(long = "serial")]
    serials: Vec<String>,
    /// A file of serial numbers, one per line.
    #[arg(long)]
    serials_file: Option<PathBuf>,
    #[arg(long = "user")]
    users: Vec<String>,
    /// Return at once instead of following the operation.
    #[arg(long)]
    no_wait: bool,
}

fn serials(mut listed: Vec<String>, file: Option<PathBuf>) -> anyhow::Result<Vec<String>> {
    if let Some(file) = file {
        listed.extend(
            read(&file)?
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_owned),
        );
    }
    Ok(listed)
}

pub(crate) async fn run(api: &Api, action: VppAction) -> anyhow::Result<()> {
    match action {
        VppAction::Tokens { group } => {
            let mut request = api.request(Method::GET, "/vpp/tokens")?;
            if let Some(group) = group {
                request = request.query(&[("group_id", group)]);
            }
            api.json(request).await
        }
        VppAction::Register { group, file } => {
            let body = json!({ "group_id": group, "token_file": read(&file)? });
            api.json(api.request(Method::POST, "/vpp/tokens")?.json(&body)).await
        }
        VppAction::Renew { id, file } => {
            let body = json!({ "token_file": read(&file)? });
            api.json(
                api.request(Method::POST, &format!("/vpp/tokens/{id}/renew"))?
                    .json(&body),
            )
            .await
        }
        VppAction::Takeover { id, yes } => {
            if !yes {
                bail!(
                    "引き継ぐと、これまでのMDMはこのロケーションのライセンスを正しく扱えなくなります。--yes を付けて実行してください。 / The previous MDM will no longer handle this location's licenses correctly; add --yes to confirm."
                );
            }
            let body = json!({ "confirm": true });
            api.json(
                api.request(Method::POST, &format!("/vpp/tokens/{id}/takeover"))?
                    .json(&body),
            )
            .await
        }
        VppAction::Share { id, groups } => {
            let body = json!({ "group_ids": groups });
            api.json(
                api.request(Method::PUT, &format!("/vpp/tokens/{id}/groups"))?
                    .json(&body),
            )
            .await
        }
        VppAction::ExpiryNotice { id, enable, addresses } => {
            let body = json!({ "enabled": enable, "addresses": addresses });
            api.json(
                api.request(Method::PUT, &format!("/vpp/tokens/{id}/expiry-notice"))?
                    .json(&body),
            )
            .await
        }
        VppAction::Sync { id } => {
            eprintln!("同期しています… / syncing…");
            api.json(api.request(Method::POST, &format!("/vpp/tokens/{id}/sync"))?)
                .await
        }
        VppAction::Assets { id } => {
            api.json(api.request(Method::GET, &format!("/vpp/tokens/{id}/assets"))?)
                .await
        }
        VppAction::Licenses {
            token,
            adam_id,
            serial,
            user,
        } => {
            let mut query: Vec<(&str, String)> = Vec::new();
            query.extend(token.map(|t| ("token_id", t.to_string())));
            query.extend(adam_id.map(|a| ("adam_id", a)));
            query.extend(serial.map(|s| ("serial_number", s)));
            query.extend(user.map(|u| ("client_user_id", u)));
            api.json(api.request(Method::GET, "/vpp/licenses")?.query(&query)).await
        }
        VppAction::Assign(args) => operate(api, "assign", args).await,
        VppAction::Revoke(args) => operate(api, "revoke", args).await,
        VppAction::Operation { id } => {
            api.json(api.request(Method::GET, &format!("/vpp/operations/{id}"))?)
                .await
        }
        VppAction::Users { id } => {
            api.json(api.request(Method::GET, &format!("/vpp/tokens/{id}/users"))?)
                .await
        }
        VppAction::CreateUser { id, user } => {
            let body = json!({ "user_id": user });
            api.json(
                api.request(Method::POST, &format!("/vpp/tokens/{id}/users"))?
                    .json(&body),
            )
            .await
        }
        VppAction::Invite { id, client_user_id, by } => {
            let body = json!({ "by": by });
            let path = format!("/vpp/tokens/{id}/users/{client_user_id}/invite");
            api.json(api.request(Method::POST, &path)?.json(&body)).await
        }
        VppAction::RefreshUsers { id } => {
            api.json(api.request(Method::POST, &format!("/vpp/tokens/{id}/users/refresh"))?)
                .await
        }
        VppAction::RetireUser { id, client_user_id } => {
            let path = format!("/vpp/tokens/{id}/users/{client_user_id}/retire");
            api.json(api.request(Method::POST, &path)?).await
        }
        VppAction::AutoAssign { group, token } => {
            let path = format!("/groups/{group}/vpp-auto-assign");
            match token {
                None => api.json(api.request(Method::GET, &path)?).await,
                Some(token) => {
                    let token: Option<i64> = match token.as_str() {
                        "none" => None,
                        other => Some(other.parse().context("--token-id takes a token id or none")?),
                    };
                    api.json(api.request(Method::PUT, &path)?.json(&json!({ "token_id": token })))
                        .await
                }
            }
        }
    }
}

async fn operate(api: &Api, verb: &str, args: LicenseArgs) -> anyhow::Result<()> {
    let serials = serials(args.serials, args.serials_file)?;
    let body = json!({ "adam_ids": args.adam_ids, "serial_numbers": serials, "client_user_ids": args.users });
    let request = api
        .request(Method::POST, &format!("/vpp/tokens/{}/licenses/{verb}", args.id))?
        .json(&body);
    let operation: Value = api.send(request).await?.json().await?;
    let id = operation["id"]
        .as_i64()
        .context("the server returned no operation id")?;
    if args.no_wait {
        println!("{}", serde_json::to_string_pretty(&operation)?);
        return Ok(());
    }
    follow(api, id).await
}

/// Prints a progress line until the operation ends, then its result.
async fn follow(api: &Api, id: i64) -> anyhow::Result<()> {
    loop {
        let response = api
            .send(api.request(Method::GET, &format!("/vpp/operations/{id}"))?)
            .await?;
        let operation: Value = response.json().await?;
        let status = operation["status"].as_str().unwrap_or("");
        let requested = operation["num_requested"].as_i64().unwrap_or(0);
        let events = operation["events"].as_array().map(Vec::len).unwrap_or(0);
        let completed: i64 = operation["events"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|e| e["num_completed"].as_i64().unwrap_or(0))
            .sum();
        eprint!("\r操作 {id}: {status:<10} Appleへの送信 {events} 件, 完了 {completed}/{requested}   ");
        if matches!(status, "complete" | "failed") {
            eprintln!();
            println!("{}", serde_json::to_string_pretty(&operation)?);
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}
