//! Who gets a job and who is skipped, and why (SPEC D3, D4, D7, L4, L5).
//! Pure: everything it looks at is passed in, so a dry run and the real
//! run decide the same.

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};

use super::{DeployItem, DeploymentRequest, LicenseMode, LicenseSummary, TargetOs};
use crate::ids::{DeviceId, UserId, VppTokenId};
use crate::org::{Device, EnrollmentState, Platform};
use crate::version;
use crate::vpp::{LicenseTarget, VppAsset};

/// What the device's app lists say, by bundle id.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeviceApps {
    /// Installed apps and their short version.
    pub installed: HashMap<String, String>,
    /// Managed apps and their status (`Managed`, `Installing`, ...).
    pub managed: HashMap<String, String>,
    /// Book store ids in the managed media list.
    pub books: HashSet<String>,
}

/// Everything the plan looks at.
pub struct PlanInput<'a> {
    pub request: &'a DeploymentRequest,
    pub assets: &'a [(DeployItem, VppAsset)],
    pub devices: &'a [Device],
    pub apps: &'a HashMap<DeviceId, DeviceApps>,
    /// Licenses held now, as `(adamId, target)`.
    pub licensed: &'a HashSet<(String, LicenseTarget)>,
    /// The associated VPP user of each owner, per token (books go to users).
    pub vpp_users: &'a HashMap<(VppTokenId, UserId), String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Install,
    /// Installed and managed, and the store has a newer version (D4).
    Update,
    /// Installed by the user; MDM takes it over (D7, ChangeManagementState).
    TakeManagement,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum LicenseNeed {
    /// The device (or its user) holds one already: reused, not reclaimed
    /// automatically later (L4).
    Held,
    /// Assigned when the deployment starts.
    Assign,
    /// Fewer licenses available than installs (L5).
    Short { needed: i64, available: i64 },
    /// Manual mode, and none is assigned.
    NotAssigned,
}

impl LicenseNeed {
    pub fn fails(&self) -> bool {
        matches!(self, LicenseNeed::Short { .. } | LicenseNeed::NotAssigned)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PlannedInstall {
    pub device_id: DeviceId,
    pub device_number: String,
    pub token_id: VppTokenId,
    pub adam_id: String,
    pub is_book: bool,
    pub action: Action,
    pub license: LicenseNeed,
    pub license_target: LicenseTarget,
    /// What the managed list will show: the bundle id, or a book's store id.
    pub verify_identifier: Option<String>,
    pub os_version: Option<String>,
    /// D9: a shared iPad with this user logged in; the install waits until
    /// nobody is (the plan cannot know; the deployment fills it in).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waits_for_logout_of: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SkipReason {
    NotEnrolled,
    Platform,
    DeviceFamily,
    MinimumOs,
    UpToDate,
    UserInstalled,
    NoSerialNumber,
    NotDeviceAssignable,
    NoVppUser,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Skip {
    pub device_id: DeviceId,
    pub device_number: String,
    pub adam_id: String,
    pub reason: SkipReason,
    pub message_ja: String,
    pub message_en: String,
}

pub struct Plan {
    pub installs: Vec<PlannedInstall>,
    pub skipped: Vec<Skip>,
    pub licenses: Vec<LicenseSummary>,
}

fn asset_name(asset: &VppAsset) -> String {
    asset
        .metadata
        .as_ref()
        .map(|m| m.name.clone())
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| asset.adam_id.clone())
}

/// The device family the App Store lists for a platform.
fn family_of(platform: Platform) -> &'static str {
    match platform {
        Platform::Ios => "iphone",
        Platform::IpadOs => "ipad",
        Platform::MacOs => "mac",
        Platform::TvOs => "appletv",
        Platform::VisionOs => "vision",
    }
}

fn skip_message(reason: SkipReason, device: &Device, asset: &VppAsset) -> (String, String) {
    let name = asset_name(asset);
    let os = device.os_version.clone().unwrap_or_else(|| "?".into());
    let minimum = asset
        .metadata
        .as_ref()
        .and_then(|m| m.minimum_os.clone())
        .unwrap_or_default();
    match reason {
        SkipReason::NotEnrolled => (
            "MDMに登録されていない端末です。".into(),
            "The device is not enrolled.".into(),
        ),
        SkipReason::Platform => (
            format!(
                "配信先のOSと端末のOS({})が異なります。",
                device.platform.map_or("不明", |p| p.as_str())
            ),
            format!(
                "The device's platform ({}) is not the deployment's target.",
                device.platform.map_or("unknown", |p| p.as_str())
            ),
        ),
        SkipReason::DeviceFamily => (
            format!("「{name}」はこの端末の種類に対応していません(互換端末のみに配信されます)。"),
            format!("\"{name}\" does not support this kind of device; only compatible devices get it."),
        ),
        SkipReason::MinimumOs => (
            format!("「{name}」には OS {minimum} 以降が必要です(端末は {os})。"),
            format!("\"{name}\" needs OS {minimum} or later; the device runs {os}."),
        ),
        SkipReason::UpToDate => (
            format!("「{name}」は最新バージョンがインストール済みです。"),
            format!("The latest version of \"{name}\" is installed already."),
        ),
        SkipReason::UserInstalled => (
            format!(
                "「{name}」はユーザーが App Store からインストールしたため管理されていません。管理対象に移行する(take_management)を選ぶと、ライセンスを割り当てて管理対象にします。"
            ),
            format!(
                "\"{name}\" was installed by the user from the App Store, so it is unmanaged. Choose take_management to assign a license and take it under management."
            ),
        ),
        SkipReason::NoSerialNumber => (
            "シリアル番号が未取得のため、ライセンスを割り当てられません。端末情報を取得してください。".into(),
            "The serial number is unknown, so no license can be assigned. Fetch the device information.".into(),
        ),
        SkipReason::NotDeviceAssignable => (
            format!("「{name}」は端末(シリアル番号)に割り当てられません。VPPユーザーに割り当ててください。"),
            format!("\"{name}\" cannot be assigned to devices; assign it to VPP users."),
        ),
        SkipReason::NoVppUser => (
            "端末の利用者に、VPPサービスに参加済みのVPPユーザーがありません。ブックはVPPユーザーに割り当てます。先にVPPサービスへの参加招待を行ってください。".into(),
            "The device's user has no VPP user that joined the program; books are assigned to VPP users. Invite the user first.".into(),
        ),
    }
}

/// Whether the device can run the item at all (D3).
fn incompatibility(target: TargetOs, device: &Device, asset: &VppAsset, is_book: bool) -> Option<SkipReason> {
    if device.enrollment_state != EnrollmentState::Enrolled {
        return Some(SkipReason::NotEnrolled);
    }
    let platform_fits = matches!(
        (target, device.platform),
        (TargetOs::Ios, Some(Platform::Ios | Platform::IpadOs)) | (TargetOs::Macos, Some(Platform::MacOs))
    );
    if !platform_fits {
        return Some(SkipReason::Platform);
    }
    if is_book {
        return None;
    }
    let metadata = asset.metadata.as_ref()?;
    if let Some(platform) = device.platform
        && !metadata.device_families.is_empty()
        && !metadata
            .device_families
            .iter()
            .any(|f| f.eq_ignore_ascii_case(family_of(platform)))
    {
        return Some(SkipReason::DeviceFamily);
    }
    if let (Some(minimum), Some(os)) = (&metadata.minimum_os, &device.os_version)
        && version::lt(os, minimum) == Some(true)
    {
        return Some(SkipReason::MinimumOs);
    }
    None
}

/// Install, update, take over, or nothing to do (D4, D7).
fn action_for(
    apps: Option<&DeviceApps>,
    asset: &VppAsset,
    is_book: bool,
    take_management: bool,
) -> Result<Action, SkipReason> {
    let Some(apps) = apps else { return Ok(Action::Install) };
    if is_book {
        return if apps.books.contains(&asset.adam_id) {
            Err(SkipReason::UpToDate)
        } else {
            Ok(Action::Install)
        };
    }
    let Some(bundle_id) = asset.metadata.as_ref().and_then(|m| m.bundle_id.as_deref()) else {
        return Ok(Action::Install);
    };
    let store_version = asset.metadata.as_ref().and_then(|m| m.version.as_deref());
    let installed = apps.installed.get(bundle_id);
    match (apps.managed.get(bundle_id).map(String::as_str), installed) {
        (Some("Managed"), Some(version)) => match store_version.and_then(|s| version::lt(version, s)) {
            Some(true) => Ok(Action::Update),
            Some(false) => Err(SkipReason::UpToDate),
            None => Ok(Action::Install),
        },
        // UserInstalledApp: an earlier install found the user's own copy.
        (None | Some("UserInstalledApp"), Some(_)) if take_management => Ok(Action::TakeManagement),
        (None | Some("UserInstalledApp"), Some(_)) => Err(SkipReason::UserInstalled),
        _ => Ok(Action::Install),
    }
}

pub fn plan(input: &PlanInput<'_>) -> Plan {
    let request = input.request;
    let mut installs = Vec::new();
    let mut skipped = Vec::new();
    let mut licenses = Vec::new();
    for (item, asset) in input.assets {
        let is_book = asset.product_type.eq_ignore_ascii_case("book");
        let mut summary = LicenseSummary {
            token_id: item.token_id,
            adam_id: item.adam_id.clone(),
            name: asset_name(asset),
            installs: 0,
            already_held: 0,
            to_assign: 0,
            available: asset.available_count,
            short: 0,
        };
        let first = installs.len();
        for device in input.devices {
            let skip = |reason: SkipReason| {
                let (message_ja, message_en) = skip_message(reason, device, asset);
                Skip {
                    device_id: device.id,
                    device_number: device.device_number.clone(),
                    adam_id: item.adam_id.clone(),
                    reason,
                    message_ja,
                    message_en,
                }
            };
            if let Some(reason) = incompatibility(request.target_os, device, asset, is_book) {
                skipped.push(skip(reason));
                continue;
            }
            let action = match action_for(
                input.apps.get(&device.id),
                asset,
                is_book,
                request.options.take_management,
            ) {
                Ok(action) => action,
                Err(reason) => {
                    skipped.push(skip(reason));
                    continue;
                }
            };
            let target = if is_book {
                match device
                    .owner_id
                    .and_then(|owner| input.vpp_users.get(&(item.token_id, owner)))
                {
                    Some(user) => LicenseTarget::User(user.clone()),
                    None => {
                        skipped.push(skip(SkipReason::NoVppUser));
                        continue;
                    }
                }
            } else {
                if !asset.device_assignable {
                    skipped.push(skip(SkipReason::NotDeviceAssignable));
                    continue;
                }
                match &device.serial_number {
                    Some(serial) => LicenseTarget::Serial(serial.clone()),
                    None => {
                        skipped.push(skip(SkipReason::NoSerialNumber));
                        continue;
                    }
                }
            };
            // Manual mode (seed 001): the license may also be the owner's
            // VPP user's, for an app as for a book.
            let user_license = || {
                device
                    .owner_id
                    .and_then(|owner| input.vpp_users.get(&(item.token_id, owner)))
                    .map(|user| LicenseTarget::User(user.clone()))
                    .filter(|user| input.licensed.contains(&(item.adam_id.clone(), user.clone())))
            };
            let mut held = input.licensed.contains(&(item.adam_id.clone(), target.clone()));
            let mut target = target;
            if !held
                && !is_book
                && request.license_mode == LicenseMode::Manual
                && let Some(user) = user_license()
            {
                held = true;
                target = user;
            }
            let license = match (held, request.license_mode) {
                (true, _) => LicenseNeed::Held,
                (false, LicenseMode::Manual) => LicenseNeed::NotAssigned,
                (false, LicenseMode::Auto) => LicenseNeed::Assign,
            };
            let verify_identifier = if is_book {
                Some(item.adam_id.clone())
            } else {
                asset.metadata.as_ref().and_then(|m| m.bundle_id.clone())
            };
            installs.push(PlannedInstall {
                device_id: device.id,
                device_number: device.device_number.clone(),
                token_id: item.token_id,
                adam_id: item.adam_id.clone(),
                is_book,
                action,
                license,
                license_target: target,
                verify_identifier,
                os_version: device.os_version.clone(),
                waits_for_logout_of: None,
            });
        }
        // L5: licenses go to the first devices in order; the rest are short.
        let needed = installs[first..]
            .iter()
            .filter(|i| i.license == LicenseNeed::Assign)
            .count() as i64;
        let available = asset.available_count.max(0);
        let mut granted = 0;
        for install in &mut installs[first..] {
            summary.installs += 1;
            match install.license {
                LicenseNeed::Held => summary.already_held += 1,
                LicenseNeed::Assign if granted < available => {
                    granted += 1;
                    summary.to_assign += 1;
                }
                LicenseNeed::Assign => {
                    install.license = LicenseNeed::Short { needed, available };
                    summary.short += 1;
                }
                LicenseNeed::NotAssigned => summary.short += 1,
                LicenseNeed::Short { .. } => {}
            }
        }
        licenses.push(summary);
    }
    Plan {
        installs,
        skipped,
        licenses,
    }
}

/// The explanation a license-failed job carries (L5), with the counts.
pub fn license_failure_detail(need: &LicenseNeed, name: &str) -> serde_json::Value {
    let (reason, ja, en) = match need {
        LicenseNeed::Short { needed, available } => (
            "license_shortage",
            format!(
                "「{name}」のライセンスが不足しています(必要数: {needed}、利用可能: {available})。ライセンスを追加購入して同期するか、使用していない端末・ユーザーからライセンスを回収してから、再度配信してください。"
            ),
            format!(
                "Not enough licenses for \"{name}\" (needed {needed}, available {available}). Buy more and sync the token, or reclaim licenses from devices or users that no longer use the app, then deploy again."
            ),
        ),
        _ => (
            "license_not_assigned",
            format!(
                "「{name}」のライセンスがこの端末(シリアル番号)にもVPPユーザーにも割り当てられていません。手動割当では、配信前にライセンスを割り当てておく必要があります。ライセンスを割り当てるか、「ライセンスを自動割当する」で配信してください。"
            ),
            format!(
                "No license of \"{name}\" is assigned to this device's serial number or its VPP user. With manual assignment the license must be assigned before deploying; assign it, or deploy with automatic assignment."
            ),
        ),
    };
    let mut detail = serde_json::json!({ "reason": reason, "message_ja": ja, "message_en": en });
    if let LicenseNeed::Short { needed, available } = need {
        detail["needed"] = (*needed).into();
        detail["available"] = (*available).into();
    }
    detail
}

#[cfg(test)]
mod tests;
