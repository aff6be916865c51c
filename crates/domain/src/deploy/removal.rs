//! Deleting a device with "remove auto-installed apps" (SPEC L3, seed 000:
//! 自動インストールしたアプリを削除する): the apps its auto-install rules put on
//! it are uninstalled first (RemoveApplication), then the device goes and
//! its automatic licenses are reclaimed. The device stays, marked, until
//! those jobs are finished, or for a day at the most when it is offline.

use apple_mdm::command::RemoveApplication;
use serde::Serialize;

use super::rules::RuleMode;
use crate::DomainError;
use crate::auth::Actor;
use crate::ids::{DeviceId, JobId};
use crate::mdm::commands::job_for;
use crate::org::{Device, EnrollmentState};
use crate::service::Services;
use crate::time_util::Timestamp;

/// How long a device waits for its removals before it is deleted anyway.
const REMOVAL_WAIT_MILLIS: i64 = 24 * 3_600_000;

/// What a delete did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum DeviceDeletion {
    /// Gone, and its automatic licenses queued for reclaim.
    Deleted,
    /// Uninstalling these apps first; deleted when they are done, or at
    /// `delete_at` at the latest.
    RemovingApps {
        bundle_ids: Vec<String>,
        jobs: Vec<JobId>,
        delete_at: Timestamp,
    },
}

impl Services {
    /// Deletes a device; with `remove_auto_installed_apps`, after
    /// uninstalling the apps of the auto-install rules that cover it.
    pub async fn delete_device_with(
        &self,
        actor: &Actor,
        id: DeviceId,
        remove_auto_installed_apps: bool,
    ) -> Result<DeviceDeletion, DomainError> {
        actor.require_write()?;
        let device = self.get_device(actor, id).await?;
        let bundle_ids = if remove_auto_installed_apps && device.enrollment_state == EnrollmentState::Enrolled {
            self.auto_installed_apps(actor, &device).await?
        } else {
            Vec::new()
        };
        if bundle_ids.is_empty() {
            self.delete_device(actor, id).await?;
            return Ok(DeviceDeletion::Deleted);
        }
        let now = Timestamp::now();
        let delete_at = Timestamp(now.0 + REMOVAL_WAIT_MILLIS);
        let mut commands = Vec::with_capacity(bundle_ids.len());
        for bundle_id in &bundle_ids {
            commands.push(job_for(id, RemoveApplication::new(bundle_id), None)?);
        }
        // The mark and the removals in one transaction, and only once: a
        // second delete changes nothing, and the sweep never sees a marked
        // device before its removals are queued.
        let Some(jobs) = self
            .store
            .mark_device_for_deletion(actor, id, delete_at, &commands, now)
            .await?
        else {
            return Err(DomainError::conflict(
                "device_being_deleted",
                "この端末は、自動インストールしたアプリの削除を待って削除される予定です。",
                "This device is already being deleted once its auto-installed apps are removed.",
            ));
        };
        self.mdm.push_wake.notify_one();
        tracing::info!(device = %id, apps = bundle_ids.len(), "removing auto-installed apps before deleting");
        Ok(DeviceDeletion::RemovingApps {
            bundle_ids,
            jobs,
            delete_at,
        })
    }

    /// Apps of the auto-install rules whose group holds the device, as its
    /// managed app list shows them (only managed apps can be removed, D8).
    async fn auto_installed_apps(&self, actor: &Actor, device: &Device) -> Result<Vec<String>, DomainError> {
        let managed = self.managed_apps_of(actor.account_id, device.id).await?;
        let mut bundle_ids = Vec::new();
        for rule in self.rules_covering(actor, device, RuleMode::AutoInstall).await? {
            let bundle = self.rule_app(&rule).await?.bundle_id;
            if let Some(bundle) = bundle
                && managed.contains_key(&bundle)
                && !bundle_ids.contains(&bundle)
            {
                bundle_ids.push(bundle);
            }
        }
        Ok(bundle_ids)
    }

    /// Deletes the marked devices whose removals are finished or whose
    /// time is up, reclaiming their automatic licenses.
    pub async fn finish_device_deletions(&self) -> Result<usize, DomainError> {
        let due = self.store.devices_to_delete(Timestamp::now(), 100).await?;
        let count = due.len();
        for (account, device) in due {
            let actor = Actor::system(account);
            if let Err(e) = self.delete_device(&actor, device).await {
                tracing::warn!(%device, "deleting after app removal: {}", e.message(crate::Lang::En));
            }
        }
        Ok(count)
    }
}
