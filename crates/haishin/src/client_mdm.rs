//! `haishin mdm …`: the MDM part of the REST API from the shell.

use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::Subcommand;
use reqwest::Method;
use serde_json::json;

use crate::client::{Api, read_text as read, write_stdout};

#[derive(Subcommand)]
pub enum MdmAction {
    /// Show the account's APNs push certificate (topic, expiry, days left).
    PushCertificate,
    /// Upload or renew the push certificate: PEM certificate and PKCS#8 key.
    UploadPushCertificate {
        #[arg(long)]
        certificate: PathBuf,
        #[arg(long)]
        key: PathBuf,
        /// Confirm a certificate with another topic (every device must enroll again).
        #[arg(long)]
        replace: bool,
    },
    /// Download an enrollment profile (.mobileconfig) with a fresh device identity.
    Profile {
        /// The group devices enrolling with it join (the top group when absent).
        #[arg(long)]
        group: Option<i64>,
        #[arg(long, short)]
        output: PathBuf,
    },
    /// A device's enrollment record and inventory.
    Device { id: i64 },
    /// Queue inventory commands for a device.
    Command {
        id: i64,
        /// DeviceInformation, InstalledApplicationList, ManagedApplicationList or ManagedMediaList.
        #[arg(long = "command", required = true)]
        commands: Vec<String>,
        /// Start no earlier than this (RFC 3339).
        #[arg(long)]
        at: Option<String>,
    },
    /// Erase a device (EraseDevice). Irreversible.
    Wipe {
        id: i64,
        /// Confirms the erase.
        #[arg(long)]
        yes: bool,
    },
    /// Jobs, newest first (SPEC J3).
    Jobs {
        #[arg(long)]
        device: Option<i64>,
        /// Only jobs not finished yet.
        #[arg(long)]
        active: bool,
        /// scheduled, waiting, push_sent, push_timeout, running, device_error, success, canceled...
        #[arg(long)]
        status: Option<String>,
        #[arg(long, default_value_t = 100)]
        limit: u32,
    },
}

pub(crate) async fn run(api: &Api, action: MdmAction) -> anyhow::Result<()> {
    match action {
        MdmAction::PushCertificate => api.json(api.request(Method::GET, "/mdm/push-certificate")?).await,
        MdmAction::UploadPushCertificate {
            certificate,
            key,
            replace,
        } => {
            let body = json!({
                "certificate_pem": read(&certificate)?,
                "private_key_pem": read(&key)?,
                "replace": replace,
            });
            api.json(api.request(Method::PUT, "/mdm/push-certificate")?.json(&body))
                .await
        }
        MdmAction::Profile { group, output } => {
            let mut request = api.request(Method::GET, "/mdm/enrollment-profile")?;
            if let Some(group) = group {
                request = request.query(&[("group_id", group)]);
            }
            let bytes = api.send(request).await?.bytes().await?;
            std::fs::write(&output, &bytes).with_context(|| format!("writing {}", output.display()))?;
            eprintln!("profile written to {} ({} bytes)", output.display(), bytes.len());
            Ok(())
        }
        MdmAction::Device { id } => api.json(api.request(Method::GET, &format!("/devices/{id}/mdm"))?).await,
        MdmAction::Command { id, commands, at } => {
            let body = json!({ "commands": commands, "run_at": at });
            api.json(
                api.request(Method::POST, &format!("/devices/{id}/commands"))?
                    .json(&body),
            )
            .await
        }
        MdmAction::Wipe { id, yes } => {
            if !yes {
                bail!(
                    "ワイプすると端末のデータはすべて消去されます。--yes を付けて実行してください。 / Wiping erases the device; add --yes to confirm."
                );
            }
            api.json(api.request(Method::POST, &format!("/devices/{id}/wipe"))?)
                .await
        }
        MdmAction::Jobs {
            device,
            active,
            status,
            limit,
        } => {
            let path = match device {
                Some(id) => format!("/devices/{id}/jobs"),
                None => "/jobs".to_owned(),
            };
            let mut query = vec![("limit", limit.to_string()), ("active_only", active.to_string())];
            query.extend(status.map(|s| ("status", s)));
            let response = api.send(api.request(Method::GET, &path)?.query(&query)).await?;
            let jobs: serde_json::Value = response.json().await?;
            let mut out = String::new();
            for job in jobs.as_array().into_iter().flatten() {
                out.push_str(&format!(
                    "{:>8}  {:<8}  {:<26}  {:<13}  {}\n",
                    job["id"],
                    job["device_number"].as_str().unwrap_or(""),
                    job["request_type"].as_str().unwrap_or(""),
                    job["status"].as_str().unwrap_or(""),
                    job["created_by_name"].as_str().unwrap_or(""),
                ));
            }
            write_stdout(out.as_bytes())
        }
    }
}
