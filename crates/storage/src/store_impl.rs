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
}
