//! What the Apps and Books features need from storage.

use async_trait::async_trait;

use super::{License, LicenseOperation, LicenseTarget, StoredVppToken, VppAsset};
use crate::auth::Actor;
use crate::ids::{AccountId, VppOperationId, VppTokenId};
use crate::store::StoreResult;
use crate::time_util::Timestamp;

/// Which licenses to list (SPEC L6: per device, per user, per asset).
#[derive(Debug, Clone, Default)]
pub struct LicenseFilter {
    pub token_id: Option<VppTokenId>,
    pub adam_id: Option<String>,
    pub target: Option<LicenseTarget>,
    pub limit: Option<i64>,
}

/// A license identified without its flags.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LicenseKey {
    pub adam_id: String,
    pub pricing_param: String,
    pub target: LicenseTarget,
}

/// Apple's license counts of one asset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AssetCounts {
    pub total: i64,
    pub assigned: i64,
    pub available: i64,
    pub retired: i64,
}

impl LicenseKey {
    /// An assignment as Apple lists it (exactly one of serial or user).
    pub fn from_assignment(a: &apple_vpp::Assignment) -> Option<Self> {
        let target = match (&a.serial_number, &a.client_user_id) {
            (Some(serial), _) => LicenseTarget::Serial(serial.clone()),
            (None, Some(user)) => LicenseTarget::User(user.clone()),
            (None, None) => return None,
        };
        Some(Self {
            adam_id: a.adam_id.clone(),
            pricing_param: a.pricing_param.as_str().to_owned(),
            target,
        })
    }
}

impl License {
    pub fn key(&self) -> LicenseKey {
        LicenseKey {
            adam_id: self.adam_id.clone(),
            pricing_param: self.pricing_param.clone(),
            target: self.target.clone(),
        }
    }
}

#[async_trait]
pub trait VppStore: Send + Sync {
    /// Inserts a token with its groups; audited.
    async fn insert_vpp_token(&self, actor: &Actor, token: &StoredVppToken) -> StoreResult<VppTokenId>;
    /// Writes every mutable field and the group list. Audited under `action`
    /// when an admin did it; background updates (sync, status) pass `None`.
    async fn save_vpp_token(
        &self,
        actor: Option<&Actor>,
        action: &'static str,
        token: &StoredVppToken,
    ) -> StoreResult<()>;
    async fn get_vpp_token(&self, account: AccountId, id: VppTokenId) -> StoreResult<Option<StoredVppToken>>;
    async fn list_vpp_tokens(&self, account: AccountId) -> StoreResult<Vec<StoredVppToken>>;
    /// Every account's tokens, for the periodic tasks.
    async fn all_vpp_tokens(&self) -> StoreResult<Vec<StoredVppToken>>;
    /// The token Apple's notifications for `mdm_id` are about, in any account.
    async fn vpp_token_by_mdm_id(&self, mdm_id: &str) -> StoreResult<Option<StoredVppToken>>;
    /// Which accounts of this server hold a token of this location. Only
    /// used to refuse a second registration; nothing else of the other
    /// account is read.
    async fn vpp_location_accounts(&self, location_uid: &str) -> StoreResult<Vec<AccountId>>;
    /// Whether this server issued `mdm_id`, and to which account.
    async fn vpp_mdm_id_account(&self, mdm_id: &str) -> StoreResult<Option<AccountId>>;
    /// Deletes the token with its assets, licenses and operations.
    async fn delete_vpp_token(&self, actor: &Actor, id: VppTokenId) -> StoreResult<bool>;

    /// Replaces the token's assets with what Apple listed, keeping cached
    /// metadata of assets that stay.
    async fn replace_vpp_assets(&self, token: VppTokenId, assets: &[VppAsset]) -> StoreResult<()>;
    /// Assets of the token whose metadata was fetched before `before`.
    async fn stale_asset_metadata(&self, token: VppTokenId, before: Timestamp) -> StoreResult<Vec<String>>;
    async fn set_asset_metadata(
        &self,
        token: VppTokenId,
        adam_id: &str,
        metadata: &super::AssetMetadata,
        fetched_at: Timestamp,
    ) -> StoreResult<()>;
    /// Updates one asset's counts (after an operation), leaving the rest.
    async fn set_asset_counts(
        &self,
        token: VppTokenId,
        adam_id: &str,
        pricing_param: &str,
        counts: &AssetCounts,
    ) -> StoreResult<()>;
    async fn list_vpp_assets(&self, account: AccountId, token: VppTokenId) -> StoreResult<Vec<VppAsset>>;

    /// Records licenses Apple confirmed; a license already recorded is left
    /// as it is (its `auto_assigned` flag included). Returns how many were new.
    async fn add_licenses(&self, account: AccountId, licenses: &[License]) -> StoreResult<u64>;
    /// Forgets licenses Apple released. Returns how many were recorded.
    async fn remove_licenses(&self, token: VppTokenId, keys: &[LicenseKey]) -> StoreResult<u64>;
    /// Makes the token's licenses exactly `licenses` (a full sync): the
    /// missing are added (not auto-assigned), the gone removed.
    async fn replace_licenses(
        &self,
        account: AccountId,
        token: VppTokenId,
        licenses: &[LicenseKey],
    ) -> StoreResult<(u64, u64)>;
    async fn list_licenses(&self, account: AccountId, filter: &LicenseFilter) -> StoreResult<Vec<License>>;
    /// Recorded licenses per `(adamId, pricingParam)` of a token.
    async fn license_counts(&self, account: AccountId, token: VppTokenId) -> StoreResult<Vec<(String, String, i64)>>;

    /// Writes a new operation as pending, before Apple is called.
    async fn insert_vpp_operation(
        &self,
        actor: &Actor,
        account: AccountId,
        operation: &LicenseOperation,
    ) -> StoreResult<VppOperationId>;
    /// Writes the operation's progress and releases its lease.
    async fn save_vpp_operation(&self, operation: &LicenseOperation) -> StoreResult<()>;
    async fn get_vpp_operation(&self, account: AccountId, id: VppOperationId) -> StoreResult<Option<LicenseOperation>>;
    async fn list_vpp_operations(&self, account: AccountId, token: VppTokenId) -> StoreResult<Vec<LicenseOperation>>;
    /// Leases unfinished operations whose lease has run out, oldest first:
    /// one server process works on an operation at a time.
    async fn lease_vpp_operations(
        &self,
        now: Timestamp,
        lease_millis: i64,
        limit: i64,
    ) -> StoreResult<Vec<(AccountId, LicenseOperation)>>;
    /// The operation that sent `event_id`.
    async fn vpp_operation_by_event(&self, token: VppTokenId, event_id: &str) -> StoreResult<Option<VppOperationId>>;
    async fn link_vpp_event(&self, token: VppTokenId, event_id: &str, operation: VppOperationId) -> StoreResult<()>;

    /// Apple notified about `event_id`: its operation is looked at now.
    async fn mark_vpp_event_notified(&self, token: VppTokenId, event_id: &str) -> StoreResult<()>;

    /// Claims the right to send one expiry notice: true for exactly one
    /// caller, unless a claim older than `stale_millis` was never marked
    /// sent (its process died), which may be claimed again.
    async fn claim_expiry_notice(
        &self,
        token: VppTokenId,
        threshold: &str,
        expires_at: Timestamp,
        now: Timestamp,
        stale_millis: i64,
    ) -> StoreResult<bool>;
    /// Marks a claimed notice sent, or gives the claim up when sending failed.
    async fn finish_expiry_notice(
        &self,
        token: VppTokenId,
        threshold: &str,
        expires_at: Timestamp,
        sent_at: Option<Timestamp>,
    ) -> StoreResult<()>;

    /// Inserts or updates a VPP user; audited when an admin did it.
    async fn put_vpp_user(
        &self,
        actor: Option<&Actor>,
        account: AccountId,
        user: &super::users::VppUser,
    ) -> StoreResult<()>;
    async fn vpp_users(&self, account: AccountId, token: VppTokenId) -> StoreResult<Vec<super::users::VppUser>>;
    /// Devices whose owner (利用者) is this user.
    async fn devices_of_owner(
        &self,
        account: AccountId,
        owner: crate::ids::UserId,
    ) -> StoreResult<Vec<crate::org::Device>>;
    /// Devices signed in to the App Store with this Apple Account hash.
    async fn devices_with_apple_account(
        &self,
        account: AccountId,
        hash: &str,
    ) -> StoreResult<Vec<crate::ids::DeviceId>>;

    /// Sets (or clears) a group's license auto-assignment token (T7).
    async fn set_group_auto_assign(
        &self,
        actor: &Actor,
        group: crate::ids::GroupId,
        token: Option<VppTokenId>,
    ) -> StoreResult<()>;
    /// Every group's own auto-assignment token in the account.
    async fn group_auto_assign(&self, account: AccountId) -> StoreResult<Vec<(crate::ids::GroupId, VppTokenId)>>;

    /// True the first time a notification id is seen for this token.
    async fn first_vpp_notification(
        &self,
        token: VppTokenId,
        notification_id: &str,
        now: Timestamp,
    ) -> StoreResult<bool>;
}
