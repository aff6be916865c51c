//! Deployments (配信, SPEC D1-D10, L4, L5): apps and books from a content
//! token, sent to a selection of devices with the options of seed 001's
//! wizard, optionally on a schedule.
//!
//! How one runs:
//! 1. [`plan`] decides per device and item: install, update, take
//!    management, or skip with a reason (platform, device family, minimum OS,
//!    up to date, user-installed). In auto license mode each install needs a
//!    license unless the device already holds one (L4: reused, and not marked
//!    for automatic reclaim); installs beyond the licenses available end as
//!    license-assignment-failed at once with the counts and the remedy (L5).
//! 2. The deployment and all its jobs are written in one transaction. Jobs
//!    that wait for a license are *held*: visible in the console, never
//!    delivered.
//! 3. At its start time the worker writes the license operations (as few
//!    Apple calls as the limits allow) in the same transaction that moves the
//!    deployment on, so a crash can neither lose them nor send them twice.
//! 4. When the operations are finished, held jobs whose device got its
//!    license are released; the others end as license-assignment-failed with
//!    Apple's reason.
//! 5. Each install is verified against the managed app list (J7, [`verify`]).

mod auto;
mod plan;
pub mod portal;
pub mod removal;
pub mod rules;
mod run;
mod select;
mod store;
pub mod verify;
mod worker;

use serde::{Deserialize, Serialize};

pub use auto::{AutoUpdateSettings, IdleUpdates, PassOutcome};
pub use plan::{Action, DeviceApps, LicenseNeed, PlanInput, PlannedInstall, Skip, SkipReason, plan};
pub use rules::{AppRule, AppRuleInput, AppRuleView, AutoUpdateSetting, DeploymentClaims, DeploymentOrigin, RuleMode};
pub use store::{DeploymentStore, HeldJob};

use crate::ids::{AccountId, AdminId, DeploymentId, DeviceId, GroupId, VppTokenId};
use crate::org::search::SearchField;
use crate::time_util::Timestamp;

/// The wizard's first choice: which devices the apps are for (iOS端末 /
/// macOS端末). iOS covers iPhone and iPad.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TargetOs {
    Ios,
    Macos,
}

/// How licenses are had (ライセンスの割当方法).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LicenseMode {
    /// ライセンスを自動割当する: assigned to the serial number now, reclaimed
    /// automatically later.
    Auto,
    /// ライセンスを手動割当する: already assigned to the serial number or the
    /// device's VPP user.
    Manual,
}

/// One app or book of a content token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DeployItem {
    pub token_id: VppTokenId,
    pub adam_id: String,
}

/// The install-status search of seed 001 (インストール状況).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum InstallStatus {
    /// 取得履歴なし: the installed-app list was never fetched.
    NeverInventoried,
    /// 未インストール: fetched, and the app is not in it.
    NotInstalled,
    /// インストール済み: fetched, and the app is in it (optionally at one version).
    Installed,
}

/// Which devices (the wizard's device step).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct DeviceSelection {
    /// The group; the account's top group when absent.
    pub group_id: Option<GroupId>,
    /// サブグループを含める
    pub include_subgroups: bool,
    /// Devices picked one by one (within the group).
    pub device_ids: Vec<DeviceId>,
    /// 全選択: every device of the group (and subgroups), or of the search.
    pub all: bool,
    /// 端末の検索: a keyword, in one field or all of them.
    pub search: Option<String>,
    pub search_field: Option<SearchField>,
    /// Search by install status of the first item.
    pub install_status: Option<InstallStatus>,
    /// With `installed`: only this app version.
    pub installed_version: Option<String>,
    /// Only devices whose installed-app list is older than this.
    pub inventory_older_than: Option<Timestamp>,
}

fn yes() -> bool {
    true
}

/// The wizard's options.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DeployOptions {
    /// Managed App Configuration: the app's initial configuration dictionary.
    /// Readable by the app and stored unencrypted, so never secrets.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub configuration: Option<serde_json::Map<String, serde_json::Value>>,
    /// The per-app VPN (VPNUUID of a VPN payload on the device).
    #[serde(default)]
    pub vpn_uuid: Option<String>,
    /// Remove the app when the MDM profile is removed.
    #[serde(default)]
    pub remove_on_mdm_removal: bool,
    /// Keep the app's data out of iTunes and iCloud backups.
    #[serde(default)]
    pub prevent_backup: bool,
    /// The user may delete the app (iOS 14+; on by default).
    #[serde(default = "yes")]
    pub removable: bool,
    /// Take management of the app where the user installed it already (D7).
    #[serde(default)]
    pub take_management: bool,
}

impl Default for DeployOptions {
    fn default() -> Self {
        Self {
            configuration: None,
            vpn_uuid: None,
            remove_on_mdm_removal: false,
            prevent_backup: false,
            removable: true,
            take_management: false,
        }
    }
}

/// A deployment as the wizard submits it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DeploymentRequest {
    #[serde(default)]
    pub name: Option<String>,
    pub items: Vec<DeployItem>,
    pub target_os: TargetOs,
    pub license_mode: LicenseMode,
    pub devices: DeviceSelection,
    #[serde(default)]
    pub options: DeployOptions,
    /// 予約配信: when to start; now when absent. At most the day before the
    /// token expires.
    #[serde(default)]
    pub run_at: Option<Timestamp>,
}

/// Where a deployment is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeploymentStatus {
    /// Waiting for its start time (予約中), or just registered.
    Scheduled,
    /// Licenses are being assigned; the installs that need them are held.
    Licensing,
    /// Every install is released to its device (or ended without a license).
    Released,
    Canceled,
}

impl DeploymentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Scheduled => "scheduled",
            Self::Licensing => "licensing",
            Self::Released => "released",
            Self::Canceled => "canceled",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [Self::Scheduled, Self::Licensing, Self::Released, Self::Canceled]
            .into_iter()
            .find(|s| s.as_str() == text)
    }

    pub fn label_ja(self) -> &'static str {
        match self {
            Self::Scheduled => "予約中",
            Self::Licensing => "ライセンス割り当て中",
            Self::Released => "配信中",
            Self::Canceled => "キャンセル",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            Self::Scheduled => "Scheduled",
            Self::Licensing => "Assigning licenses",
            Self::Released => "Distributing",
            Self::Canceled => "Canceled",
        }
    }
}

/// Licenses of one item: what the deployment needed and had.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LicenseSummary {
    pub token_id: VppTokenId,
    pub adam_id: String,
    pub name: String,
    /// Installs of this item.
    pub installs: i64,
    /// Devices that held a license already (reused, L4).
    pub already_held: i64,
    /// Licenses to assign now.
    pub to_assign: i64,
    /// Apple's available count when the deployment was planned.
    pub available: i64,
    /// Installs without a license (L5).
    pub short: i64,
}

/// What the plan decided, kept with the deployment.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DeploymentSummary {
    pub devices_selected: i64,
    pub installs: i64,
    pub licenses: Vec<LicenseSummary>,
    /// Devices and items that got no job, with why.
    pub skipped: Vec<Skip>,
    /// D9: installs on shared iPads with a user logged in; they wait until
    /// the user logs out (each install names the user).
    #[serde(default)]
    pub waiting_for_logout: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Deployment {
    pub id: DeploymentId,
    pub account_id: AccountId,
    pub name: String,
    pub status: DeploymentStatus,
    pub request: DeploymentRequest,
    pub summary: DeploymentSummary,
    pub run_at: Timestamp,
    pub created_by: Option<AdminId>,
    pub created_by_name: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// Why it exists when no admin made it: an auto-install rule, a portal
    /// tap, an automatic update.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<DeploymentOrigin>,
}

/// A dry run (配信の確認): who gets a job, who is skipped and why.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct DeploymentPreview {
    pub summary: DeploymentSummary,
    pub installs: Vec<PlannedInstall>,
}

/// Jobs of one status in a deployment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct StatusCount {
    pub status: crate::jobs::JobStatus,
    pub label_ja: &'static str,
    pub label_en: &'static str,
    pub count: i64,
    /// Of these, waiting for their license.
    pub waiting_for_license: i64,
    /// Of these, acknowledged and being verified (J7).
    pub verifying: i64,
}

/// A deployment with its progress (per-deployment counts of the job console).
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct DeploymentProgress {
    #[serde(flatten)]
    pub deployment: Deployment,
    pub status_label: String,
    pub jobs: i64,
    pub finished: i64,
    pub succeeded: i64,
    pub failed: i64,
    pub by_status: Vec<StatusCount>,
}
