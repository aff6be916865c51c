//! The [`Store`] trait, wired to the per-topic modules.

use std::collections::HashMap;

use async_trait::async_trait;
use haishin_domain::audit::{AuditEntry, AuditQuery};
use haishin_domain::auth::{Account, Actor, Admin, ApiToken};
use haishin_domain::csv::devices::{DeviceUpsert, ExistingDevice};
use haishin_domain::csv::users::UserUpsert;
use haishin_domain::ids::*;
use haishin_domain::mdm::StoredEnrollmentIdentity;
use haishin_domain::mdm::store::{
    DeviceFacts, EnrollmentRecord, IdentityRecord, Inventory, InventoryKind, MdmStore, PushChannel, PushChannelUpdate,
};
use haishin_domain::org::search::GroupScope;
use haishin_domain::org::*;
use haishin_domain::store::{AdminUpdate, NewAdmin, Store, StoreResult};
use haishin_domain::time_util::Timestamp;
use haishin_domain::vpp::store::{LicenseFilter, LicenseKey};
use haishin_domain::vpp::{AssetMetadata, License, LicenseOperation, StoredVppToken, VppAsset};

use crate::SqlStore;
use crate::sql::DbResult;

#[async_trait]
impl Store for SqlStore {
    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(&self.read).await.db().map(|_| ())
    }

    async fn create_account(&self, name: &str) -> StoreResult<(Account, Group)> {
        self.insert_account(name).await
    }
    async fn list_accounts(&self) -> StoreResult<Vec<Account>> {
        self.select_accounts(None).await
    }
    async fn get_account(&self, id: AccountId) -> StoreResult<Option<Account>> {
        Ok(self.select_accounts(Some(id)).await?.pop())
    }
    async fn create_admin(&self, actor: &Actor, admin: NewAdmin) -> StoreResult<Admin> {
        self.insert_admin(actor, admin).await
    }
    async fn list_admins(&self, account: AccountId) -> StoreResult<Vec<Admin>> {
        self.select_admins(account, None).await
    }
    async fn get_admin(&self, account: AccountId, id: AdminId) -> StoreResult<Option<Admin>> {
        Ok(self.select_admins(account, Some(id)).await?.pop())
    }
    async fn update_admin(&self, actor: &Actor, before: &Admin, update: AdminUpdate) -> StoreResult<Admin> {
        self.change_admin(actor, before, update).await
    }
    async fn delete_admin(&self, actor: &Actor, admin: &Admin) -> StoreResult<()> {
        self.remove_admin(actor, admin).await
    }
    async fn admin_credentials(&self, login: &str) -> StoreResult<Option<(Admin, String)>> {
        self.credentials(login).await
    }

    async fn create_api_token(
        &self,
        actor: &Actor,
        admin: AdminId,
        name: &str,
        prefix: &str,
        digest: &str,
    ) -> StoreResult<ApiToken> {
        self.insert_api_token(actor, admin, name, prefix, digest).await
    }
    async fn list_api_tokens(&self, account: AccountId, admin: Option<AdminId>) -> StoreResult<Vec<ApiToken>> {
        self.select_api_tokens(account, admin, None).await
    }
    async fn get_api_token(&self, account: AccountId, id: ApiTokenId) -> StoreResult<Option<ApiToken>> {
        Ok(self.select_api_tokens(account, None, Some(id)).await?.pop())
    }
    async fn delete_api_token(&self, actor: &Actor, token: &ApiToken) -> StoreResult<()> {
        self.remove_api_token(actor, token).await
    }
    async fn admin_by_api_token(&self, digest: &str, now: Timestamp) -> StoreResult<Option<Admin>> {
        self.admin_for_token(digest, now).await
    }
    async fn create_session(&self, admin: &Admin, digest: &str, expires_at: Timestamp) -> StoreResult<()> {
        self.insert_session(admin, digest, expires_at).await
    }
    async fn admin_by_session(&self, digest: &str, now: Timestamp) -> StoreResult<Option<Admin>> {
        self.admin_for_session(digest, now).await
    }
    async fn delete_session(&self, digest: &str) -> StoreResult<()> {
        self.remove_session(digest).await
    }

    async fn list_groups(&self, account: AccountId) -> StoreResult<Vec<Group>> {
        self.select_groups(account, None).await
    }
    async fn get_group(&self, account: AccountId, id: GroupId) -> StoreResult<Option<Group>> {
        Ok(self.select_groups(account, Some(id)).await?.pop())
    }
    async fn create_group(&self, actor: &Actor, parent: &Group, name: &str) -> StoreResult<Group> {
        self.insert_group(actor, parent, name).await
    }
    async fn update_group(&self, actor: &Actor, before: &Group, name: &str, parent: &Group) -> StoreResult<Group> {
        self.change_group(actor, before, name, parent).await
    }
    async fn group_contents(&self, account: AccountId, id: GroupId) -> StoreResult<(i64, i64, i64)> {
        self.count_group_contents(account, id).await
    }
    async fn delete_group(&self, actor: &Actor, group: &Group) -> StoreResult<()> {
        self.remove_group(actor, group).await
    }

    async fn search_users(
        &self,
        account: AccountId,
        search: &UserSearch,
        scope: &GroupScope,
    ) -> StoreResult<Page<User>> {
        self.find_users(account, search, scope).await
    }
    async fn get_user(&self, account: AccountId, id: UserId) -> StoreResult<Option<User>> {
        Ok(self.select_users(account, &GroupScope::All, Some(id)).await?.pop())
    }
    async fn create_user(&self, actor: &Actor, input: &UserInput) -> StoreResult<User> {
        self.insert_user(actor, input).await
    }
    async fn update_user(&self, actor: &Actor, before: &User, input: &UserInput) -> StoreResult<User> {
        self.change_user(actor, before, input).await
    }
    async fn delete_user(&self, actor: &Actor, user: &User) -> StoreResult<()> {
        self.remove_user(actor, user).await
    }
    async fn user_ids_by_employee_number(&self, account: AccountId) -> StoreResult<HashMap<String, UserId>> {
        self.employee_numbers(account).await
    }
    async fn export_users(&self, account: AccountId, scope: &GroupScope) -> StoreResult<Vec<User>> {
        self.select_users(account, scope, None).await
    }
    async fn import_users(&self, actor: &Actor, rows: &[UserUpsert]) -> StoreResult<ImportSummary> {
        self.apply_user_import(actor, rows).await
    }

    async fn search_devices(
        &self,
        account: AccountId,
        search: &DeviceSearch,
        scope: &GroupScope,
    ) -> StoreResult<Page<Device>> {
        self.find_devices(account, search, scope).await
    }
    async fn get_device(&self, account: AccountId, id: DeviceId) -> StoreResult<Option<Device>> {
        Ok(self.select_devices(account, &GroupScope::All, Some(id)).await?.pop())
    }
    async fn create_device(&self, actor: &Actor, input: &DeviceInput) -> StoreResult<Device> {
        self.insert_device(actor, input).await
    }
    async fn update_device(&self, actor: &Actor, before: &Device, input: &DeviceInput) -> StoreResult<Device> {
        self.change_device(actor, before, input).await
    }
    async fn delete_device(&self, actor: &Actor, device: &Device) -> StoreResult<()> {
        self.remove_device(actor, device).await
    }
    async fn existing_devices(&self, account: AccountId) -> StoreResult<Vec<ExistingDevice>> {
        self.device_keys(account).await
    }
    async fn export_devices(&self, account: AccountId, scope: &GroupScope) -> StoreResult<Vec<Device>> {
        self.select_devices(account, scope, None).await
    }
    async fn import_devices(&self, actor: &Actor, rows: &[DeviceUpsert]) -> StoreResult<ImportSummary> {
        self.apply_device_import(actor, rows).await
    }

    async fn put_push_certificate(
        &self,
        actor: &Actor,
        certificate: &haishin_domain::mdm::StoredPushCertificate,
    ) -> StoreResult<()> {
        self.upsert_push_certificate(actor, certificate).await
    }
    async fn get_push_certificate(
        &self,
        account: AccountId,
    ) -> StoreResult<Option<haishin_domain::mdm::StoredPushCertificate>> {
        self.select_push_certificate(account).await
    }

    async fn get_device_ca(&self, account: AccountId) -> StoreResult<Option<haishin_domain::mdm::StoredDeviceCa>> {
        self.select_device_ca(account).await
    }
    async fn create_device_ca_once(
        &self,
        ca: &haishin_domain::mdm::StoredDeviceCa,
    ) -> StoreResult<haishin_domain::mdm::StoredDeviceCa> {
        self.insert_device_ca_once(ca).await
    }
    async fn record_enrollment_identity(
        &self,
        actor: &Actor,
        identity: &haishin_domain::mdm::StoredEnrollmentIdentity,
    ) -> StoreResult<()> {
        self.insert_enrollment_identity(actor, identity).await
    }
    async fn get_enrollment_identity(
        &self,
        account: AccountId,
        enrollment_id: &str,
    ) -> StoreResult<Option<haishin_domain::mdm::StoredEnrollmentIdentity>> {
        self.select_enrollment_identity(account, enrollment_id).await
    }

    async fn list_audit(&self, account: AccountId, query: &AuditQuery) -> StoreResult<Vec<AuditEntry>> {
        self.list_audit_entries(account, query).await
    }
}

#[async_trait]
impl MdmStore for SqlStore {
    async fn find_enrollment_identity(&self, enrollment_id: &str) -> StoreResult<Option<IdentityRecord>> {
        self.select_identity_record(enrollment_id).await
    }
    async fn enrolling_device(
        &self,
        account: AccountId,
        udid: &str,
        serial: Option<&str>,
    ) -> StoreResult<Option<DeviceId>> {
        self.select_enrolling_device(account, udid, serial).await
    }
    async fn bind_enrollment(
        &self,
        identity: &StoredEnrollmentIdentity,
        device: DeviceId,
        topic: &str,
        now: Timestamp,
    ) -> StoreResult<bool> {
        self.bind_identity(identity, device, topic, now).await
    }
    async fn record_device_facts(
        &self,
        account: AccountId,
        device: DeviceId,
        facts: &DeviceFacts,
        now: Timestamp,
    ) -> StoreResult<()> {
        self.apply_device_facts(account, device, facts, now).await
    }
    async fn update_push_channel(
        &self,
        account: AccountId,
        device: DeviceId,
        update: &PushChannelUpdate,
        now: Timestamp,
    ) -> StoreResult<bool> {
        self.apply_push_channel(account, device, update, now).await
    }
    async fn unenroll_device(&self, account: AccountId, device: DeviceId, now: Timestamp) -> StoreResult<bool> {
        self.unenroll(account, device, now).await
    }
    async fn touch_device(&self, account: AccountId, device: DeviceId, now: Timestamp) -> StoreResult<()> {
        self.touch(account, device, now).await
    }
    async fn get_enrollment_record(
        &self,
        account: AccountId,
        device: DeviceId,
    ) -> StoreResult<Option<EnrollmentRecord>> {
        self.select_enrollment_record(account, device).await
    }
    async fn push_channels(&self, devices: &[DeviceId]) -> StoreResult<Vec<PushChannel>> {
        self.select_push_channels(devices).await
    }
    async fn mark_push_failed(&self, device: DeviceId, reason: &str, now: Timestamp) -> StoreResult<()> {
        self.set_push_failed(device, reason, now).await
    }
    async fn put_inventory(
        &self,
        account: AccountId,
        device: DeviceId,
        kind: InventoryKind,
        items: &serde_json::Value,
        now: Timestamp,
    ) -> StoreResult<()> {
        self.upsert_inventory(account, device, kind, items, now).await
    }
    async fn get_inventory(&self, account: AccountId, device: DeviceId) -> StoreResult<Vec<Inventory>> {
        self.select_inventory(account, device).await
    }
    async fn inventories_of(
        &self,
        account: AccountId,
        devices: &[DeviceId],
    ) -> StoreResult<Vec<(DeviceId, Inventory)>> {
        self.select_inventories(account, devices).await
    }
}

#[async_trait]
impl haishin_domain::vpp::VppStore for SqlStore {
    async fn insert_vpp_token(&self, actor: &Actor, token: &StoredVppToken) -> StoreResult<VppTokenId> {
        self.insert_vpp_token_row(actor, token).await
    }
    async fn save_vpp_token(
        &self,
        actor: Option<&Actor>,
        action: &'static str,
        token: &StoredVppToken,
    ) -> StoreResult<()> {
        self.update_vpp_token_row(actor, action, token).await
    }
    async fn get_vpp_token(&self, account: AccountId, id: VppTokenId) -> StoreResult<Option<StoredVppToken>> {
        Ok(self
            .select_vpp_tokens("id = {}", crate::sql::Arg::Int(id.0))
            .await?
            .into_iter()
            .find(|t| t.account_id == account))
    }
    async fn list_vpp_tokens(&self, account: AccountId) -> StoreResult<Vec<StoredVppToken>> {
        self.select_vpp_tokens("account_id = {}", crate::sql::Arg::Int(account.0))
            .await
    }
    async fn all_vpp_tokens(&self) -> StoreResult<Vec<StoredVppToken>> {
        self.select_vpp_tokens("id > {}", crate::sql::Arg::Int(0)).await
    }
    async fn vpp_token_by_mdm_id(&self, mdm_id: &str) -> StoreResult<Option<StoredVppToken>> {
        Ok(self
            .select_vpp_tokens("mdm_id = {}", crate::sql::Arg::Text(mdm_id.to_owned()))
            .await?
            .pop())
    }
    async fn vpp_location_accounts(&self, location_uid: &str) -> StoreResult<Vec<AccountId>> {
        self.select_location_accounts(location_uid).await
    }
    async fn vpp_mdm_id_account(&self, mdm_id: &str) -> StoreResult<Option<AccountId>> {
        self.select_mdm_id_account(mdm_id).await
    }
    async fn delete_vpp_token(&self, actor: &Actor, id: VppTokenId) -> StoreResult<bool> {
        self.delete_vpp_token_row(actor, id).await
    }
    async fn replace_vpp_assets(&self, token: VppTokenId, assets: &[VppAsset]) -> StoreResult<()> {
        self.write_vpp_assets(token, assets).await
    }
    async fn stale_asset_metadata(&self, token: VppTokenId, before: Timestamp) -> StoreResult<Vec<String>> {
        self.select_stale_metadata(token, before).await
    }
    async fn set_asset_metadata(
        &self,
        token: VppTokenId,
        adam_id: &str,
        metadata: &AssetMetadata,
        fetched_at: Timestamp,
    ) -> StoreResult<()> {
        self.write_asset_metadata(token, adam_id, metadata, fetched_at).await
    }
    async fn set_asset_counts(
        &self,
        token: VppTokenId,
        adam_id: &str,
        pricing_param: &str,
        counts: &haishin_domain::vpp::store::AssetCounts,
    ) -> StoreResult<()> {
        self.write_asset_counts(token, adam_id, pricing_param, counts).await
    }
    async fn list_vpp_assets(&self, account: AccountId, token: VppTokenId) -> StoreResult<Vec<VppAsset>> {
        self.select_vpp_assets(account, token).await
    }
    async fn add_licenses(&self, account: AccountId, licenses: &[License]) -> StoreResult<u64> {
        self.insert_licenses(account, licenses).await
    }
    async fn remove_licenses(&self, token: VppTokenId, keys: &[LicenseKey]) -> StoreResult<u64> {
        self.delete_licenses(token, keys).await
    }
    async fn replace_licenses(
        &self,
        account: AccountId,
        token: VppTokenId,
        licenses: &[LicenseKey],
    ) -> StoreResult<(u64, u64)> {
        self.sync_licenses(account, token, licenses).await
    }
    async fn list_licenses(&self, account: AccountId, filter: &LicenseFilter) -> StoreResult<Vec<License>> {
        self.select_licenses(account, filter).await
    }
    async fn license_counts(&self, account: AccountId, token: VppTokenId) -> StoreResult<Vec<(String, String, i64)>> {
        self.count_licenses(account, token).await
    }
    async fn insert_vpp_operation(
        &self,
        actor: &Actor,
        account: AccountId,
        operation: &LicenseOperation,
    ) -> StoreResult<VppOperationId> {
        self.insert_operation(actor, account, operation).await
    }
    async fn save_vpp_operation(&self, operation: &LicenseOperation) -> StoreResult<()> {
        self.update_operation(operation).await
    }
    async fn get_vpp_operation(&self, account: AccountId, id: VppOperationId) -> StoreResult<Option<LicenseOperation>> {
        self.select_operation(account, id).await
    }
    async fn list_vpp_operations(&self, account: AccountId, token: VppTokenId) -> StoreResult<Vec<LicenseOperation>> {
        self.select_operations(account, token).await
    }
    async fn lease_vpp_operations(
        &self,
        now: Timestamp,
        lease_millis: i64,
        limit: i64,
    ) -> StoreResult<Vec<(AccountId, LicenseOperation)>> {
        self.lease_operations(now, lease_millis, limit).await
    }
    async fn vpp_operation_by_event(&self, token: VppTokenId, event_id: &str) -> StoreResult<Option<VppOperationId>> {
        self.select_event_operation(token, event_id).await
    }
    async fn link_vpp_event(&self, token: VppTokenId, event_id: &str, operation: VppOperationId) -> StoreResult<()> {
        self.insert_event_link(token, event_id, operation).await
    }
    async fn mark_vpp_event_notified(&self, token: VppTokenId, event_id: &str) -> StoreResult<()> {
        self.note_event_notified(token, event_id, Timestamp::now()).await
    }
    async fn claim_expiry_notice(
        &self,
        token: VppTokenId,
        threshold: &str,
        expires_at: Timestamp,
        now: Timestamp,
        stale_millis: i64,
    ) -> StoreResult<bool> {
        self.claim_notice(token, threshold, expires_at, now, stale_millis).await
    }
    async fn finish_expiry_notice(
        &self,
        token: VppTokenId,
        threshold: &str,
        expires_at: Timestamp,
        sent_at: Option<Timestamp>,
    ) -> StoreResult<()> {
        self.finish_notice(token, threshold, expires_at, sent_at).await
    }
    async fn put_vpp_user(
        &self,
        actor: Option<&Actor>,
        account: AccountId,
        user: &haishin_domain::vpp::users::VppUser,
    ) -> StoreResult<()> {
        self.upsert_vpp_user(actor, account, user).await
    }
    async fn vpp_users(
        &self,
        account: AccountId,
        token: VppTokenId,
    ) -> StoreResult<Vec<haishin_domain::vpp::users::VppUser>> {
        self.select_vpp_users(account, token).await
    }
    async fn devices_of_owner(&self, account: AccountId, owner: UserId) -> StoreResult<Vec<Device>> {
        self.select_devices_of_owner(account, owner).await
    }
    async fn devices_with_apple_account(&self, account: AccountId, hash: &str) -> StoreResult<Vec<DeviceId>> {
        self.select_devices_with_apple_account(account, hash).await
    }
    async fn set_group_auto_assign(&self, actor: &Actor, group: GroupId, token: Option<VppTokenId>) -> StoreResult<()> {
        self.write_auto_assign(actor, group, token).await
    }
    async fn group_auto_assign(&self, account: AccountId) -> StoreResult<Vec<(GroupId, VppTokenId)>> {
        self.select_auto_assign(account).await
    }
    async fn first_vpp_notification(
        &self,
        token: VppTokenId,
        notification_id: &str,
        now: Timestamp,
    ) -> StoreResult<bool> {
        self.insert_notification_seen(token, notification_id, now).await
    }
}
