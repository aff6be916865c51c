//! Apple's Apps and Books program (VPP): content tokens (VPPトークン), the
//! assets and licenses of each location, and the operations that assign
//! and revoke licenses at Apple.
//!
//! Apple is reached only through `apple_vpp::VppClient`, at the base URL the
//! configuration names; the simulator is one such URL.

pub mod apple;
pub mod auto_assign;
pub mod expiry;
pub mod licenses;
pub mod notifications;
pub mod reclaim;
pub mod store;
pub mod sync;
pub mod tokens;
pub mod users;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};

pub use store::VppStore;

use crate::ids::{AccountId, GroupId, VppOperationId, VppTokenId};
use crate::time_util::Timestamp;

/// Where a token stands with Apple. Stored as text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TokenStatus {
    /// This server manages the location.
    Active,
    /// Another MDM product manages the location; haishin only reads until an
    /// admin confirms a takeover.
    OtherMdm,
    /// Another account of this server manages the location.
    OtherAccount,
    /// The token's expiry has passed (Apple: 9621).
    Expired,
    /// Apple revoked the token, e.g. its Managed Apple Account's password
    /// changed or a newer token was downloaded (Apple: 9625).
    Revoked,
}

impl TokenStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::OtherMdm => "other_mdm",
            Self::OtherAccount => "other_account",
            Self::Expired => "expired",
            Self::Revoked => "revoked",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "active" => Self::Active,
            "other_mdm" => Self::OtherMdm,
            "other_account" => Self::OtherAccount,
            "expired" => Self::Expired,
            "revoked" => Self::Revoked,
            _ => return None,
        })
    }
}

/// The MDM Apple says manages a location, when it is not this one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct OtherManager {
    pub name: String,
    pub metadata: String,
}

/// A registered content token as the console shows it. The token itself
/// never leaves the store unsealed except to call Apple.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct VppToken {
    pub id: VppTokenId,
    /// Apple's library id (`uId`): one per location.
    pub location_uid: String,
    pub location_name: String,
    pub org_name: String,
    /// 失効日時.
    pub expires_at: Timestamp,
    pub status: TokenStatus,
    pub other_manager: Option<OtherManager>,
    pub country: String,
    /// `volumestore` (education) or `enterprisestore` (business): the
    /// platform of the metadata lookup.
    pub default_platform: String,
    /// Groups using this token (ライセンス共有). The first is where it was registered.
    pub group_ids: Vec<GroupId>,
    /// Whether Apple posts notifications to this server (needs an HTTPS public URL).
    pub notifications: bool,
    pub expiry_notice: ExpiryNoticeSettings,
    pub last_sync_at: Option<Timestamp>,
    pub last_sync_error: Option<String>,
    pub registered_at: Timestamp,
    pub registered_by: String,
    pub renewed_at: Option<Timestamp>,
}

/// 失効通知: whether to mail, and to whom.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ExpiryNoticeSettings {
    pub enabled: bool,
    pub addresses: Vec<String>,
}

/// The stored form: the view plus the sealed secrets and sync cursors.
#[derive(Debug, Clone)]
pub struct StoredVppToken {
    pub account_id: AccountId,
    pub token: VppToken,
    pub sealed_token: haishin_secrets::Sealed,
    /// `mdmInfo.id` this server claims the location with; also the path of
    /// Apple's notifications for this token.
    pub mdm_id: String,
    pub sealed_notification_secret: Option<haishin_secrets::Sealed>,
    pub assignments_version: Option<String>,
}

/// An app or book of a location, with Apple's counts and cached metadata.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct VppAsset {
    pub adam_id: String,
    /// `STDQ` or `PLUS`.
    pub pricing_param: String,
    /// `App` or `Book`.
    pub product_type: String,
    pub revocable: bool,
    pub device_assignable: bool,
    pub platforms: Vec<String>,
    pub total_count: i64,
    pub assigned_count: i64,
    pub available_count: i64,
    pub retired_count: i64,
    pub metadata: Option<AssetMetadata>,
    /// Paid, and fewer licenses available than the configured threshold (T5's alert).
    pub low_on_licenses: bool,
    /// The licenses this server has recorded differ from Apple's assigned
    /// count: the console offers a sync (コンテンツの表示が正しくありませんか?).
    pub counts_differ: bool,
}

/// What Apple's lookup service says of an asset.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AssetMetadata {
    pub name: String,
    pub bundle_id: Option<String>,
    pub icon_url: Option<String>,
    pub version: Option<String>,
    pub size_bytes: Option<i64>,
    pub minimum_os: Option<String>,
    pub device_families: Vec<String>,
}

/// Who holds a license: a device by serial number, or a VPP user.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum LicenseTarget {
    Serial(String),
    User(String),
}

impl LicenseTarget {
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Serial(_) => "serial",
            Self::User(_) => "user",
        }
    }

    pub fn id(&self) -> &str {
        match self {
            Self::Serial(id) | Self::User(id) => id,
        }
    }

    pub fn from_parts(kind: &str, id: String) -> Option<Self> {
        match kind {
            "serial" => Some(Self::Serial(id)),
            "user" => Some(Self::User(id)),
            _ => None,
        }
    }
}

/// One license held at Apple, as this server knows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct License {
    pub token_id: VppTokenId,
    pub adam_id: String,
    pub pricing_param: String,
    pub target: LicenseTarget,
    /// Assigned by haishin on its own (a deployment in auto mode), so it is
    /// reclaimed automatically later (SPEC L3); licenses found at Apple or
    /// assigned by an admin are not.
    pub auto_assigned: bool,
    pub assigned_at: Timestamp,
}

/// What an operation asks of Apple.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OperationKind {
    Associate,
    Disassociate,
}

impl OperationKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Associate => "associate",
            Self::Disassociate => "disassociate",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "associate" => Some(Self::Associate),
            "disassociate" => Some(Self::Disassociate),
            _ => None,
        }
    }
}

/// Where an operation is. `Pending` is written before Apple is called, so
/// a crash leaves a record that is submitted again, never a lost request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OperationStatus {
    Pending,
    /// Apple accepted the batches; their events are being followed.
    Submitted,
    Complete,
    /// Finished with per-item failures (the rest applied), or refused.
    Failed,
}

impl OperationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Submitted => "submitted",
            Self::Complete => "complete",
            Self::Failed => "failed",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "pending" => Self::Pending,
            "submitted" => Self::Submitted,
            "complete" => Self::Complete,
            "failed" => Self::Failed,
            _ => return None,
        })
    }

    pub fn is_finished(self) -> bool {
        matches!(self, Self::Complete | Self::Failed)
    }
}

/// An item Apple could not apply, with its explanation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct OperationFailure {
    pub error_number: i32,
    pub message_ja: String,
    pub message_en: String,
    pub targets: Vec<LicenseTarget>,
    pub adam_ids: Vec<String>,
}

/// A batch sent to Apple and the event that follows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct OperationEvent {
    pub event_id: String,
    /// `(adamId, pricingParam)` pairs of this batch.
    pub assets: Vec<(String, String)>,
    pub targets: Vec<LicenseTarget>,
    /// `PENDING`, `COMPLETE` or `FAILED`, as Apple last said.
    pub status: String,
    pub num_requested: i64,
    pub num_completed: i64,
    pub submitted_at: Timestamp,
}

/// Assign or revoke licenses of some assets for some targets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LicenseOperation {
    pub id: VppOperationId,
    pub token_id: VppTokenId,
    pub kind: OperationKind,
    pub status: OperationStatus,
    /// `(adamId, pricingParam)` pairs.
    pub assets: Vec<(String, String)>,
    pub targets: Vec<LicenseTarget>,
    pub auto_assigned: bool,
    pub events: Vec<OperationEvent>,
    pub num_requested: i64,
    pub num_completed: i64,
    pub failures: Vec<OperationFailure>,
    pub created_at: Timestamp,
    pub created_by: String,
    pub submitted_at: Option<Timestamp>,
    pub finished_at: Option<Timestamp>,
    pub last_polled_at: Option<Timestamp>,
    /// The last transient problem (Apple busy, unreachable): the operation
    /// is retried, and the admin sees why it is slow.
    pub last_error: Option<String>,
    pub attempts: i64,
    /// When the worker looks at it next.
    pub next_check_at: Timestamp,
    /// When Apple last notified about one of its events (kept by the store
    /// apart from the rest, so a worker's save never loses it).
    pub notified_at: Option<Timestamp>,
}

impl LicenseOperation {
    /// A new operation, not yet sent to Apple.
    pub fn pending(
        token_id: VppTokenId,
        kind: OperationKind,
        assets: Vec<(String, String)>,
        targets: Vec<LicenseTarget>,
        auto_assigned: bool,
        created_by: &str,
        now: Timestamp,
    ) -> Self {
        Self {
            id: VppOperationId(0),
            token_id,
            kind,
            status: OperationStatus::Pending,
            num_requested: (assets.len() * targets.len()) as i64,
            assets,
            targets,
            auto_assigned,
            events: Vec::new(),
            num_completed: 0,
            failures: Vec::new(),
            created_at: now,
            created_by: created_by.to_owned(),
            submitted_at: None,
            finished_at: None,
            last_polled_at: None,
            last_error: None,
            attempts: 0,
            next_check_at: now,
            notified_at: None,
        }
    }
}

/// How haishin reaches Apple's Apps and Books service; from configuration.
#[derive(Debug, Clone)]
pub struct VppSettings {
    /// `https://vpp.itunes.apple.com/mdm/v2/` in production.
    pub base_url: String,
    /// Overrides service config's `contentMetadataLookup` (tests, proxies).
    pub metadata_url: Option<String>,
    pub retry: apple_vpp::RetryPolicy,
    /// Poll an event's status only after this long without a notification
    /// (Apple: 5 minutes) and then no more often than `poll_every_millis`
    /// (Apple: 30 s).
    pub poll_after_millis: i64,
    pub poll_every_millis: i64,
    /// Apple demands an HTTPS notification URL; the simulator can be told
    /// to accept plain HTTP on loopback.
    pub allow_http_notifications: bool,
    /// Warn when a paid asset's available licenses fall under this.
    pub low_license_threshold: i64,
    /// Metadata older than this is looked up again at the next sync: the
    /// store version moves (automatic updates, D5) and so do sizes.
    pub metadata_max_age_millis: i64,
}

impl Default for VppSettings {
    fn default() -> Self {
        Self {
            base_url: apple_vpp::DEFAULT_BASE_URL.to_owned(),
            metadata_url: None,
            retry: apple_vpp::RetryPolicy::default(),
            poll_after_millis: 5 * 60_000,
            poll_every_millis: 30_000,
            allow_http_notifications: false,
            low_license_threshold: 10,
            metadata_max_age_millis: 24 * 3_600_000,
        }
    }
}

/// Per-process state: settings, one HTTP client, and one rate limiter per
/// location so every request for a token shares Apple's per-second budget.
pub struct VppRuntime {
    pub settings: VppSettings,
    pub http: reqwest::Client,
    limiters: Mutex<HashMap<VppTokenId, Arc<apple_vpp::RateLimiter>>>,
    /// One client per token, kept with the sealed token it was built from:
    /// it holds Apple's service config (URLs, limits), which would otherwise
    /// be fetched again by every operation step. A renewal changes the
    /// sealed bytes and so builds a new client.
    clients: Mutex<HashMap<VppTokenId, (Vec<u8>, apple_vpp::VppClient)>>,
    /// Woken when an operation is queued, so the worker does not wait for its tick.
    pub operations_wake: tokio::sync::Notify,
    /// Sends expiry notices; none configured means no mail.
    pub mailer: Option<Arc<dyn haishin_mail::Mailer>>,
    /// The sender of notices.
    pub mail_from: String,
}

impl VppRuntime {
    pub fn new(settings: VppSettings) -> Self {
        Self {
            settings,
            http: reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(60))
                .build()
                .unwrap_or_default(),
            limiters: Mutex::new(HashMap::new()),
            clients: Mutex::new(HashMap::new()),
            operations_wake: tokio::sync::Notify::new(),
            mailer: None,
            mail_from: String::new(),
        }
    }

    pub(crate) fn cached_client(&self, token: VppTokenId, sealed: &[u8]) -> Option<apple_vpp::VppClient> {
        let clients = self.clients.lock().unwrap_or_else(|p| p.into_inner());
        clients
            .get(&token)
            .filter(|(built_from, _)| built_from == sealed)
            .map(|(_, client)| client.clone())
    }

    pub(crate) fn keep_client(&self, token: VppTokenId, sealed: &[u8], client: &apple_vpp::VppClient) {
        let mut clients = self.clients.lock().unwrap_or_else(|p| p.into_inner());
        clients.insert(token, (sealed.to_vec(), client.clone()));
    }

    pub(crate) fn limiter(&self, token: VppTokenId) -> Arc<apple_vpp::RateLimiter> {
        let mut limiters = self.limiters.lock().unwrap_or_else(|p| p.into_inner());
        limiters
            .entry(token)
            .or_insert_with(|| Arc::new(apple_vpp::RateLimiter::new(15)))
            .clone()
    }
}

impl std::fmt::Debug for VppRuntime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VppRuntime")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl Default for VppRuntime {
    fn default() -> Self {
        Self::new(VppSettings::default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_operation_survives_its_json_body() {
        let operation = LicenseOperation {
            id: VppOperationId(7),
            token_id: VppTokenId(3),
            kind: OperationKind::Associate,
            status: OperationStatus::Submitted,
            assets: vec![("1000001".into(), "STDQ".into())],
            targets: vec![LicenseTarget::Serial("C02X".into()), LicenseTarget::User("u-1".into())],
            auto_assigned: true,
            events: vec![OperationEvent {
                event_id: "e-1".into(),
                assets: vec![("1000001".into(), "STDQ".into())],
                targets: vec![LicenseTarget::Serial("C02X".into())],
                status: "PENDING".into(),
                num_requested: 1,
                num_completed: 0,
                submitted_at: Timestamp(1_800_000_000_000),
            }],
            num_requested: 2,
            num_completed: 0,
            failures: vec![],
            created_at: Timestamp(1_800_000_000_000),
            created_by: "admin".into(),
            submitted_at: Some(Timestamp(1_800_000_000_001)),
            finished_at: None,
            last_polled_at: None,
            last_error: None,
            attempts: 0,
            next_check_at: Timestamp(1_800_000_000_002),
            notified_at: None,
        };
        let json = serde_json::to_string(&operation).unwrap();
        let back: LicenseOperation = serde_json::from_str(&json).unwrap_or_else(|e| panic!("{e}: {json}"));
        assert_eq!(back, operation);
    }
}
