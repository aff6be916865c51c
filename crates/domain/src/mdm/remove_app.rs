//! Uninstalling an app (SPEC D8): only apps the MDM manages can be removed
//! by command. An app the user installed from the App Store is not managed,
//! so the refusal explains what can be done instead (seed 000).

use apple_mdm::command::RemoveApplication;

use super::commands::job_for;
use super::store::InventoryKind;
use crate::DomainError;
use crate::auth::Actor;
use crate::ids::{DeviceId, JobId};
use crate::org::EnrollmentState;
use crate::service::Services;

fn listed(items: &serde_json::Value, identifier: &str) -> bool {
    items.as_array().is_some_and(|apps| {
        apps.iter()
            .any(|app| app.get("Identifier").and_then(|i| i.as_str()) == Some(identifier))
    })
}

impl Services {
    /// Queues RemoveApplication for a managed app of the device.
    pub async fn remove_app(&self, actor: &Actor, device: DeviceId, identifier: &str) -> Result<JobId, DomainError> {
        actor.require_write()?;
        let found = self.get_device(actor, device).await?;
        if found.enrollment_state != EnrollmentState::Enrolled {
            return Err(DomainError::conflict(
                "device_not_enrolled",
                "この端末はMDMに登録されていないため、アプリを削除できません。",
                "This device is not enrolled, so no app can be removed from it.",
            ));
        }
        let identifier = identifier.trim();
        if identifier.is_empty() {
            return Err(DomainError::invalid(
                "identifier",
                "削除するアプリのバンドルIDを指定してください。",
                "Name the bundle id of the app to remove.",
            ));
        }
        let inventory = self.store.get_inventory(actor.account_id, device).await?;
        let of_kind = |kind: InventoryKind| inventory.iter().find(|i| i.kind == kind);
        let Some(managed) = of_kind(InventoryKind::ManagedApps) else {
            return Err(DomainError::conflict(
                "managed_apps_unknown",
                "この端末の管理対象アプリ一覧がまだ取得されていません。管理対象アプリ一覧(ManagedApplicationList)を取得してから、再度お試しください。",
                "The device's managed app list has not been fetched yet. Fetch it (ManagedApplicationList) and try again.",
            ));
        };
        if !listed(&managed.items, identifier) {
            let installed = of_kind(InventoryKind::InstalledApps).is_some_and(|i| listed(&i.items, identifier));
            return Err(if installed {
                DomainError::conflict(
                    "app_not_managed",
                    format!(
                        "{identifier} はMDMで管理されていないため、アンインストールできません。MDMから強制アンインストールできるのは、MDMから配布したアプリのみです。App Store からインストールしたアプリは管理されていない状態のため、先に管理状態を変更(管理対象に移行)してください。管理対象に移行するには、そのアプリのVPPライセンスの割り当てが必要です。"
                    ),
                    format!(
                        "{identifier} is not managed by the MDM, so it cannot be uninstalled. Only apps the MDM distributed can be removed by command; an app installed from the App Store is unmanaged. Take it under management first (which needs a VPP license for it)."
                    ),
                )
            } else {
                DomainError::conflict(
                    "app_not_on_device",
                    format!(
                        "{identifier} は、最後に取得したこの端末のアプリ一覧にありません。一覧を取得し直してから、再度お試しください。"
                    ),
                    format!("{identifier} is not in the device's last app lists. Fetch them again and retry."),
                )
            });
        }
        let job = job_for(device, RemoveApplication::new(identifier), None)?;
        let ids = self.enqueue(actor, &[job]).await?;
        Ok(ids[0])
    }
}
