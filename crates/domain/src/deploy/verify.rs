//! Verified installs (SPEC J7): an acknowledged InstallApplication or
//! InstallMedia only says the device accepted it. The job stays 実行中,
//! held, until the managed app (or media) list shows the app Managed (the
//! book Installed); the server asks for that list as SYSTEM, backing off
//! between asks, and gives up after a configurable time.
//!
//! Statuses such as UserRejected and Failed are reported once (reference
//! §7.4), so every list the device sends, whoever asked for it, settles
//! all of its verifying jobs.

use apple_mdm::command::{InstalledApplicationList, ManagedApplicationList, ManagedMediaList};
use serde_json::json;

use crate::DomainError;
use crate::auth::Actor;
use crate::ids::{AccountId, DeviceId};
use crate::jobs::{Verdict, VerifyingJob};
use crate::mdm::InventoryKind;
use crate::mdm::commands::job_for;
use crate::service::Services;
use crate::time_util::Timestamp;

/// How verification backs off and when it gives up; from configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VerifySettings {
    /// The first look after the acknowledgement.
    pub first_check_millis: i64,
    /// Looks double in interval up to this.
    pub max_interval_millis: i64,
    /// An install not confirmed this long after delivery is a device error.
    pub timeout_millis: i64,
}

impl Default for VerifySettings {
    fn default() -> Self {
        Self {
            first_check_millis: 2_000,
            max_interval_millis: 5 * 60_000,
            timeout_millis: 24 * 3_600_000,
        }
    }
}

impl VerifySettings {
    fn delay(&self, checks: i64) -> i64 {
        (self.first_check_millis << checks.clamp(0, 20)).min(self.max_interval_millis)
    }
}

/// The request that verifies an install of this type.
fn list_for(request_type: &str) -> Option<InventoryKind> {
    match request_type {
        "InstallApplication" => Some(InventoryKind::ManagedApps),
        "InstallMedia" => Some(InventoryKind::ManagedMedia),
        _ => None,
    }
}

/// Apple's code for a user's refusal (12063 "The item was rejected by the
/// user"): the status is turned into the chain the knowledge base knows.
fn refused_chain(identifier: &str, status: &str, code: i64, text: &str) -> serde_json::Value {
    json!({
        "ErrorChain": [{
            "ErrorCode": code,
            "ErrorDomain": "MCMDMErrorDomain",
            "LocalizedDescription": text,
            "USEnglishDescription": text,
        }],
        "Source": "ManagedApplicationList",
        "Identifier": identifier,
        "ManagedStatus": status,
    })
}

fn status_only(identifier: &str, status: &str) -> serde_json::Value {
    json!({ "ErrorChain": [], "Source": "ManagedApplicationList", "Identifier": identifier, "ManagedStatus": status })
}

/// What the list says of one app.
fn app_verdict(identifier: &str, status: Option<&str>) -> Verdict {
    match status {
        Some("Managed") => Verdict::Installed,
        Some("UserRejected") => Verdict::Failed {
            error_chain: refused_chain(identifier, "UserRejected", 12063, "The item was rejected by the user."),
        },
        Some("UpdateRejected") => Verdict::Failed {
            error_chain: refused_chain(
                identifier,
                "UpdateRejected",
                12063,
                "The update was rejected by the user.",
            ),
        },
        Some("ManagementRejected") => Verdict::Failed {
            error_chain: refused_chain(
                identifier,
                "ManagementRejected",
                12063,
                "The user declined to let the app be managed.",
            ),
        },
        Some(status @ ("Failed" | "ManagedButUninstalled" | "UserInstalledApp")) => Verdict::Failed {
            error_chain: status_only(identifier, status),
        },
        other => Verdict::Pending {
            status: other.map(str::to_owned),
        },
    }
}

fn book_verdict(identifier: &str, state: Option<&str>) -> Verdict {
    match state {
        Some("Installed" | "Managed") => Verdict::Installed,
        Some(state @ ("Failed" | "Uninstalled" | "ManagedButUninstalled")) => Verdict::Failed {
            error_chain: status_only(identifier, state),
        },
        other => Verdict::Pending {
            status: other.map(str::to_owned),
        },
    }
}

/// The status of `identifier` in a stored list.
fn status_in(kind: InventoryKind, items: &serde_json::Value, identifier: &str) -> Option<String> {
    let items = items.as_array()?;
    let (id_key, status_key) = match kind {
        InventoryKind::ManagedMedia => ("iTunesStoreID", "State"),
        _ => ("Identifier", "Status"),
    };
    items
        .iter()
        .find(|item| match item.get(id_key) {
            Some(serde_json::Value::String(s)) => s == identifier,
            Some(serde_json::Value::Number(n)) => n.to_string() == identifier,
            _ => false,
        })
        .and_then(|item| item.get(status_key))
        .and_then(|s| s.as_str())
        .map(str::to_owned)
}

impl Services {
    /// Queues the list that verifies installs, unless one is queued already.
    pub(crate) async fn schedule_verification(
        &self,
        account: AccountId,
        device: DeviceId,
        kind: InventoryKind,
        checks: i64,
        now: Timestamp,
    ) -> Result<(), DomainError> {
        let job = match kind {
            InventoryKind::ManagedMedia => job_for(
                device,
                ManagedMediaList::default(),
                Some(Timestamp(now.0 + self.mdm.verify.delay(checks))),
            )?,
            _ => job_for(
                device,
                ManagedApplicationList::all(),
                Some(Timestamp(now.0 + self.mdm.verify.delay(checks))),
            )?,
        };
        if self.store.has_unfinished(account, device, &job.request_type).await? {
            return Ok(());
        }
        self.store.enqueue_jobs(&Actor::system(account), &[job], now).await?;
        self.mdm.push_wake.notify_one();
        Ok(())
    }

    /// Queues the managed-list query for verifying installs that have none
    /// (a crash between an acknowledgement and its query); run by the
    /// deployment worker. Returns how many devices it looked at.
    pub async fn resume_verifications(&self) -> Result<usize, DomainError> {
        let now = Timestamp::now();
        let quiet_since = Timestamp(now.0 - self.mdm.verify.max_interval_millis.max(10_000));
        let orphans = self.store.orphaned_verifications(quiet_since, 500).await?;
        for (account, device, request_type, checks) in &orphans {
            if let Some(kind) = list_for(request_type) {
                self.schedule_verification(*account, *device, kind, *checks, now)
                    .await?;
            }
        }
        Ok(orphans.len())
    }

    /// An install was acknowledged: look at the managed list soon.
    pub(crate) async fn install_acknowledged(
        &self,
        account: AccountId,
        device: DeviceId,
        request_type: &str,
        now: Timestamp,
    ) -> Result<(), DomainError> {
        match list_for(request_type) {
            Some(kind) => self.schedule_verification(account, device, kind, 0, now).await,
            None => Ok(()),
        }
    }

    /// A managed list arrived: settle the device's verifying installs of
    /// that kind, and look again later for those still on their way.
    pub(crate) async fn verify_installs(
        &self,
        account: AccountId,
        device: DeviceId,
        kind: InventoryKind,
        items: &serde_json::Value,
        now: Timestamp,
    ) -> Result<(), DomainError> {
        let jobs: Vec<VerifyingJob> = self
            .store
            .verifying_jobs(account, device)
            .await?
            .into_iter()
            .filter(|j| list_for(&j.request_type) == Some(kind))
            .collect();
        if jobs.is_empty() {
            return Ok(());
        }
        let settings = self.mdm.verify;
        let mut verdicts = Vec::with_capacity(jobs.len());
        let mut fewest_checks: Option<i64> = None;
        for job in &jobs {
            let identifier = job.identifier.clone().unwrap_or_default();
            let status = status_in(kind, items, &identifier);
            let mut verdict = match kind {
                InventoryKind::ManagedMedia => book_verdict(&identifier, status.as_deref()),
                _ => app_verdict(&identifier, status.as_deref()),
            };
            let started = job.delivered_at.unwrap_or(now);
            if matches!(verdict, Verdict::Pending { .. }) && now.0 - started.0 >= settings.timeout_millis {
                verdict = Verdict::Failed {
                    error_chain: json!({
                        "ErrorChain": [],
                        "Source": "ManagedApplicationList",
                        "Identifier": identifier,
                        "ManagedStatus": status,
                        "TimedOut": true,
                    }),
                };
            }
            if matches!(verdict, Verdict::Pending { .. }) {
                fewest_checks = Some(fewest_checks.map_or(job.checks, |c| c.min(job.checks)));
            }
            verdicts.push((job.id, verdict));
        }
        self.store.settle_verifications(account, device, &verdicts, now).await?;
        if let Some(checks) = fewest_checks {
            self.schedule_verification(account, device, kind, checks + 1, now)
                .await?;
        } else if kind == InventoryKind::ManagedApps && verdicts.iter().any(|(_, v)| *v == Verdict::Installed) {
            // SPEC J3: the app list after an install, so versions (D2, D4)
            // are current for the next deployment.
            let job = job_for(device, InstalledApplicationList::all(), None)?;
            if !self.store.has_unfinished(account, device, &job.request_type).await? {
                self.store.enqueue_jobs(&Actor::system(account), &[job], now).await?;
                self.mdm.push_wake.notify_one();
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_become_verdicts() {
        assert_eq!(app_verdict("a", Some("Managed")), Verdict::Installed);
        let Verdict::Failed { error_chain } = app_verdict("a", Some("UserRejected")) else {
            panic!("a refusal fails");
        };
        assert_eq!(error_chain["ErrorChain"][0]["ErrorCode"], 12063);
        assert!(matches!(app_verdict("a", Some("Failed")), Verdict::Failed { .. }));
        assert!(matches!(app_verdict("a", Some("Installing")), Verdict::Pending { .. }));
        assert!(matches!(app_verdict("a", None), Verdict::Pending { status: None }));
        assert_eq!(book_verdict("1", Some("Installed")), Verdict::Installed);
    }

    #[test]
    fn lists_are_searched_by_their_own_keys() {
        let apps = json!([{ "Identifier": "com.a", "Status": "Installing" }]);
        assert_eq!(
            status_in(InventoryKind::ManagedApps, &apps, "com.a").as_deref(),
            Some("Installing")
        );
        let books = json!([{ "iTunesStoreID": 42, "State": "Installed" }]);
        assert_eq!(
            status_in(InventoryKind::ManagedMedia, &books, "42").as_deref(),
            Some("Installed")
        );
    }

    #[test]
    fn back_off_doubles_to_its_cap() {
        let s = VerifySettings {
            first_check_millis: 1_000,
            max_interval_millis: 5_000,
            timeout_millis: 1,
        };
        assert_eq!(s.delay(0), 1_000);
        assert_eq!(s.delay(2), 4_000);
        assert_eq!(s.delay(9), 5_000);
    }
}
