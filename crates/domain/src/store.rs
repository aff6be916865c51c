//! The persistence interface the domain needs. One implementation serves
//! SQLite and PostgreSQL (crate `haishin-storage`); tests may add others.
//!
//! Every read takes the account it reads from, and every write takes the
//! [`Actor`] (which carries the account): no method can reach another
//! account's rows. Writes record their audit entry in the same transaction.

use std::collections::HashMap;

use async_trait::async_trait;

use crate::DomainError;
use crate::audit::{AuditEntry, AuditQuery};
use crate::auth::{Account, Actor, Admin, ApiToken, Role};
use crate::csv::devices::{DeviceUpsert, ExistingDevice};
use crate::csv::users::UserUpsert;
use crate::ids::{AccountId, AdminId, ApiTokenId, DeviceId, GroupId, UserId};
use crate::org::search::GroupScope;
use crate::org::{Device, DeviceInput, DeviceSearch, Group, ImportSummary, Page, User, UserInput, UserSearch};
use crate::time_util::Timestamp;

pub type StoreResult<T> = Result<T, DomainError>;

#[derive(Debug, Clone)]
pub struct NewAdmin {
    pub account_id: AccountId,
    pub login: String,
    pub display_name: String,
    pub role: Role,
    pub password_hash: String,
}

#[derive(Debug, Clone)]
pub struct AdminUpdate {
    pub display_name: String,
    pub role: Role,
    pub password_hash: Option<String>,
}

#[async_trait]
pub trait Store:
    crate::jobs::JobStore + crate::mdm::MdmStore + crate::vpp::VppStore + crate::deploy::DeploymentStore + Send + Sync
{
    /// A cheap round trip, for `/healthz`.
    async fn ping(&self) -> StoreResult<()>;

    // Accounts and admins.
    /// Creates an account together with its top group (named like the account).
    async fn create_account(&self, name: &str) -> StoreResult<(Account, Group)>;
    async fn list_accounts(&self) -> StoreResult<Vec<Account>>;
    async fn get_account(&self, id: AccountId) -> StoreResult<Option<Account>>;
    async fn create_admin(&self, actor: &Actor, admin: NewAdmin) -> StoreResult<Admin>;
    async fn list_admins(&self, account: AccountId) -> StoreResult<Vec<Admin>>;
    async fn get_admin(&self, account: AccountId, id: AdminId) -> StoreResult<Option<Admin>>;
    async fn update_admin(&self, actor: &Actor, before: &Admin, update: AdminUpdate) -> StoreResult<Admin>;
    async fn delete_admin(&self, actor: &Actor, admin: &Admin) -> StoreResult<()>;
    /// The admin with this login and their password hash, in any account.
    async fn admin_credentials(&self, login: &str) -> StoreResult<Option<(Admin, String)>>;

    // Bearer credentials: API tokens and console sessions, looked up by digest.
    async fn create_api_token(
        &self,
        actor: &Actor,
        admin: AdminId,
        name: &str,
        prefix: &str,
        digest: &str,
    ) -> StoreResult<ApiToken>;
    async fn list_api_tokens(&self, account: AccountId, admin: Option<AdminId>) -> StoreResult<Vec<ApiToken>>;
    async fn get_api_token(&self, account: AccountId, id: ApiTokenId) -> StoreResult<Option<ApiToken>>;
    async fn delete_api_token(&self, actor: &Actor, token: &ApiToken) -> StoreResult<()>;
    async fn admin_by_api_token(&self, digest: &str, now: Timestamp) -> StoreResult<Option<Admin>>;
    async fn create_session(&self, admin: &Admin, digest: &str, expires_at: Timestamp) -> StoreResult<()>;
    async fn admin_by_session(&self, digest: &str, now: Timestamp) -> StoreResult<Option<Admin>>;
    async fn delete_session(&self, digest: &str) -> StoreResult<()>;

    // Groups.
    async fn list_groups(&self, account: AccountId) -> StoreResult<Vec<Group>>;
    async fn get_group(&self, account: AccountId, id: GroupId) -> StoreResult<Option<Group>>;
    async fn create_group(&self, actor: &Actor, parent: &Group, name: &str) -> StoreResult<Group>;
    /// Renames and/or moves a group; the service has checked the new parent
    /// is not inside the group.
    async fn update_group(&self, actor: &Actor, before: &Group, name: &str, parent: &Group) -> StoreResult<Group>;
    /// (subgroups, users, devices) directly in the group.
    async fn group_contents(&self, account: AccountId, id: GroupId) -> StoreResult<(i64, i64, i64)>;
    /// Deletes an empty group; refuses with [`DomainError::GroupNotEmpty`] if
    /// something was added since the service looked.
    async fn delete_group(&self, actor: &Actor, group: &Group) -> StoreResult<()>;

    // Users.
    async fn search_users(
        &self,
        account: AccountId,
        search: &UserSearch,
        scope: &GroupScope,
    ) -> StoreResult<Page<User>>;
    async fn get_user(&self, account: AccountId, id: UserId) -> StoreResult<Option<User>>;
    async fn create_user(&self, actor: &Actor, input: &UserInput) -> StoreResult<User>;
    async fn update_user(&self, actor: &Actor, before: &User, input: &UserInput) -> StoreResult<User>;
    async fn delete_user(&self, actor: &Actor, user: &User) -> StoreResult<()>;
    async fn user_ids_by_employee_number(&self, account: AccountId) -> StoreResult<HashMap<String, UserId>>;
    async fn export_users(&self, account: AccountId, scope: &GroupScope) -> StoreResult<Vec<User>>;
    async fn import_users(&self, actor: &Actor, rows: &[UserUpsert]) -> StoreResult<ImportSummary>;

    // Devices.
    async fn search_devices(
        &self,
        account: AccountId,
        search: &DeviceSearch,
        scope: &GroupScope,
    ) -> StoreResult<Page<Device>>;
    async fn get_device(&self, account: AccountId, id: DeviceId) -> StoreResult<Option<Device>>;
    async fn create_device(&self, actor: &Actor, input: &DeviceInput) -> StoreResult<Device>;
    async fn update_device(&self, actor: &Actor, before: &Device, input: &DeviceInput) -> StoreResult<Device>;
    async fn delete_device(&self, actor: &Actor, device: &Device) -> StoreResult<()>;
    async fn existing_devices(&self, account: AccountId) -> StoreResult<Vec<ExistingDevice>>;
    async fn export_devices(&self, account: AccountId, scope: &GroupScope) -> StoreResult<Vec<Device>>;
    async fn import_devices(&self, actor: &Actor, rows: &[DeviceUpsert]) -> StoreResult<ImportSummary>;

    // MDM.
    /// Stores (replacing) the account's push certificate, audited without its key.
    async fn put_push_certificate(
        &self,
        actor: &Actor,
        certificate: &crate::mdm::StoredPushCertificate,
    ) -> StoreResult<()>;
    async fn get_push_certificate(&self, account: AccountId) -> StoreResult<Option<crate::mdm::StoredPushCertificate>>;

    async fn get_device_ca(&self, account: AccountId) -> StoreResult<Option<crate::mdm::StoredDeviceCa>>;
    /// Stores the account's device CA unless one exists already (two servers
    /// may race to create it); either way returns the one stored.
    async fn create_device_ca_once(&self, ca: &crate::mdm::StoredDeviceCa) -> StoreResult<crate::mdm::StoredDeviceCa>;
    /// Records a device identity handed out in an enrollment profile.
    async fn record_enrollment_identity(
        &self,
        actor: &Actor,
        identity: &crate::mdm::StoredEnrollmentIdentity,
    ) -> StoreResult<()>;
    async fn get_enrollment_identity(
        &self,
        account: AccountId,
        enrollment_id: &str,
    ) -> StoreResult<Option<crate::mdm::StoredEnrollmentIdentity>>;

    // Audit.
    async fn list_audit(&self, account: AccountId, query: &AuditQuery) -> StoreResult<Vec<AuditEntry>>;
}
