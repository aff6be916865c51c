//! What the MDM protocol needs from storage: enrollment records, push
//! channels, what devices report about themselves, and their inventory.

use async_trait::async_trait;
use serde::Serialize;

use super::StoredEnrollmentIdentity;
use crate::ids::{AccountId, DeviceId};
use crate::org::EnrollmentState;
use crate::store::StoreResult;
use crate::time_util::Timestamp;

/// An identity from a profile, and the device it is bound to, if any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityRecord {
    pub identity: StoredEnrollmentIdentity,
    pub bound: Option<BoundDevice>,
}

/// The device an identity belongs to, with what the endpoints check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoundDevice {
    pub device_id: DeviceId,
    pub udid: Option<String>,
    pub enrollment_state: EnrollmentState,
}

/// Hardware facts from Authenticate or DeviceInformation; `None` leaves a
/// field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeviceFacts {
    pub udid: Option<String>,
    pub display_name: Option<String>,
    pub serial_number: Option<String>,
    pub model: Option<String>,
    pub product_name: Option<String>,
    pub platform: Option<crate::org::Platform>,
    pub os_version: Option<String>,
    pub build_version: Option<String>,
    pub imei: Option<String>,
    pub wifi_mac: Option<String>,
    pub supervised: Option<bool>,
    pub shared_ipad: Option<bool>,
    pub itunes_store_account_hash: Option<String>,
    pub capacity_mb: Option<i64>,
    pub available_capacity_mb: Option<i64>,
}

/// A TokenUpdate, for the device channel or one user channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushChannelUpdate {
    pub user: Option<UserChannel>,
    pub push_token_hex: String,
    pub push_magic: String,
    /// Sealed with the master key; `None` keeps the one stored (an absent
    /// UnlockToken does not revoke an earlier one).
    pub sealed_unlock_token: Option<Vec<u8>>,
    pub awaiting_configuration: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserChannel {
    pub user_guid: String,
    pub short_name: String,
    pub long_name: String,
}

/// Where to push to wake a device's channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushChannel {
    pub account_id: AccountId,
    pub device_id: DeviceId,
    pub push_token_hex: String,
    pub push_magic: String,
}

/// The enrollment record of a device, as the console shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct EnrollmentRecord {
    pub enrollment_id: String,
    pub topic: String,
    pub has_push_token: bool,
    pub has_unlock_token: bool,
    pub awaiting_configuration: bool,
    /// Why pushes to this device stopped (e.g. APNs `Unregistered`), until
    /// the device sends a new TokenUpdate.
    pub push_failure: Option<String>,
    pub push_failed_at: Option<Timestamp>,
    pub authenticated_at: Timestamp,
    pub token_updated_at: Option<Timestamp>,
    pub checked_out_at: Option<Timestamp>,
    /// Shared iPad or macOS users with their own channel.
    pub user_channels: Vec<String>,
}

/// The inventory lists a device answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum InventoryKind {
    InstalledApps,
    ManagedApps,
    ManagedMedia,
}

impl InventoryKind {
    pub fn as_str(self) -> &'static str {
        match self {
            InventoryKind::InstalledApps => "installed_apps",
            InventoryKind::ManagedApps => "managed_apps",
            InventoryKind::ManagedMedia => "managed_media",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [Self::InstalledApps, Self::ManagedApps, Self::ManagedMedia]
            .into_iter()
            .find(|k| k.as_str() == text)
    }
}

/// One inventory list as last fetched.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Inventory {
    pub kind: InventoryKind,
    #[schema(value_type = Vec<Object>)]
    pub items: serde_json::Value,
    pub fetched_at: Timestamp,
}

#[async_trait]
pub trait MdmStore: Send + Sync {
    /// The identity with this enrollment id in any account (the id is
    /// random and global), with its bound device.
    async fn find_enrollment_identity(&self, enrollment_id: &str) -> StoreResult<Option<IdentityRecord>>;
    /// The account's device with this UDID, or else one registered with
    /// this serial number and no UDID yet.
    async fn enrolling_device(
        &self,
        account: AccountId,
        udid: &str,
        serial: Option<&str>,
    ) -> StoreResult<Option<DeviceId>>;
    /// Binds the identity to the device (refused with `false` when it is
    /// bound to another one) and resets the device's enrollment record for a
    /// new enrollment with this topic.
    async fn bind_enrollment(
        &self,
        identity: &StoredEnrollmentIdentity,
        device: DeviceId,
        topic: &str,
        now: Timestamp,
    ) -> StoreResult<bool>;
    /// Applies facts the device reported about itself.
    async fn record_device_facts(
        &self,
        account: AccountId,
        device: DeviceId,
        facts: &DeviceFacts,
        now: Timestamp,
    ) -> StoreResult<()>;
    /// Stores a TokenUpdate. For the device channel the device becomes
    /// enrolled; returns true when it was not enrolled before (a new
    /// enrollment, which queues the first inventory).
    async fn update_push_channel(
        &self,
        account: AccountId,
        device: DeviceId,
        update: &PushChannelUpdate,
        now: Timestamp,
    ) -> StoreResult<bool>;
    /// CheckOut, or a wipe: the device is unenrolled, its push channels are
    /// dropped and its unfinished jobs canceled. Returns whether it was
    /// enrolled.
    async fn unenroll_device(&self, account: AccountId, device: DeviceId, now: Timestamp) -> StoreResult<bool>;
    /// Records that the device was heard from.
    async fn touch_device(&self, account: AccountId, device: DeviceId, now: Timestamp) -> StoreResult<()>;
    async fn get_enrollment_record(
        &self,
        account: AccountId,
        device: DeviceId,
    ) -> StoreResult<Option<EnrollmentRecord>>;
    /// Device-channel push targets of these devices, skipping devices whose
    /// token APNs refused until they send a new one.
    async fn push_channels(&self, devices: &[DeviceId]) -> StoreResult<Vec<PushChannel>>;
    /// APNs refused the token for good (410, BadDeviceToken): stop pushing.
    async fn mark_push_failed(&self, device: DeviceId, reason: &str, now: Timestamp) -> StoreResult<()>;
    async fn put_inventory(
        &self,
        account: AccountId,
        device: DeviceId,
        kind: InventoryKind,
        items: &serde_json::Value,
        now: Timestamp,
    ) -> StoreResult<()>;
    async fn get_inventory(&self, account: AccountId, device: DeviceId) -> StoreResult<Vec<Inventory>>;
    /// The stored lists of many devices at once (deployment planning).
    async fn inventories_of(&self, account: AccountId, devices: &[DeviceId])
    -> StoreResult<Vec<(DeviceId, Inventory)>>;
}
