use async_trait::async_trait;

use std::collections::HashSet;

use super::rules::{AppRule, DeploymentClaims};
use super::{Deployment, DeploymentStatus};
use crate::auth::Actor;
use crate::ids::{AccountId, AppRuleId, DeploymentId, DeviceId, JobId, VppTokenId};
use crate::jobs::{JobHold, JobStatus, NewJob};
use crate::org::Device;
use crate::org::search::GroupScope;
use crate::store::StoreResult;
use crate::time_util::Timestamp;
use crate::vpp::{LicenseOperation, LicenseTarget};

/// A job waiting for its license.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldJob {
    pub job_id: JobId,
    pub content_id: String,
    pub target: LicenseTarget,
}

#[async_trait]
pub trait DeploymentStore: Send + Sync {
    /// Writes the deployment and all its jobs in one transaction; audited.
    async fn insert_deployment(
        &self,
        actor: &Actor,
        deployment: &Deployment,
        jobs: &[NewJob],
        claims: Option<&DeploymentClaims>,
        now: Timestamp,
    ) -> StoreResult<DeploymentId>;
    async fn get_deployment(&self, account: AccountId, id: DeploymentId) -> StoreResult<Option<Deployment>>;
    /// Newest first.
    async fn list_deployments(&self, account: AccountId, limit: i64) -> StoreResult<Vec<Deployment>>;
    /// Leases deployments the worker has something to do for: scheduled ones
    /// whose time has come, and those assigning licenses.
    async fn lease_deployments(&self, now: Timestamp, lease_millis: i64, limit: i64) -> StoreResult<Vec<Deployment>>;
    async fn held_jobs(&self, deployment: DeploymentId) -> StoreResult<Vec<HeldJob>>;
    /// Writes the license operations and moves the deployment to licensing,
    /// in one transaction and only if it is still scheduled: a crash or a
    /// second server can never send them twice. False when it was not.
    async fn start_licensing(
        &self,
        deployment: &Deployment,
        operations: &[LicenseOperation],
        now: Timestamp,
    ) -> StoreResult<bool>;
    async fn deployment_operations(&self, deployment: DeploymentId) -> StoreResult<Vec<LicenseOperation>>;
    /// Installs canceled while they waited for their license, not settled yet.
    async fn canceled_holds(&self, deployment: DeploymentId) -> StoreResult<Vec<HeldJob>>;
    /// Writes the operations revoking what Apple assigned to canceled
    /// installs and clears their hold, in one transaction: done once.
    async fn settle_canceled_holds(
        &self,
        deployment: &Deployment,
        reclaim: &[LicenseOperation],
        jobs: &[JobId],
        now: Timestamp,
    ) -> StoreResult<()>;
    /// Releases the held jobs that got their license, fails the others as
    /// license-assignment-failed with their explanation, and marks the
    /// deployment released; one transaction.
    async fn finish_licensing(
        &self,
        deployment: DeploymentId,
        release: &[JobId],
        fail: &[(JobId, serde_json::Value)],
        now: Timestamp,
    ) -> StoreResult<()>;
    /// Fails held jobs now (their token cannot assign licenses), leaving
    /// the deployment's status as it is.
    async fn fail_held_jobs(
        &self,
        deployment: DeploymentId,
        fail: &[(JobId, serde_json::Value)],
        now: Timestamp,
    ) -> StoreResult<()>;
    /// Sets the status and gives the worker's lease up; audited when an
    /// admin did it.
    async fn set_deployment_status(
        &self,
        actor: Option<&Actor>,
        deployment: DeploymentId,
        status: DeploymentStatus,
        now: Timestamp,
    ) -> StoreResult<()>;

    /// Per-status job counts of several deployments in one query.
    async fn deployments_job_counts(
        &self,
        account: AccountId,
        deployments: &[DeploymentId],
    ) -> StoreResult<Vec<(DeploymentId, JobStatus, Option<JobHold>, i64)>>;
    /// The account's devices with these ids (any order; unknown ids left out).
    async fn devices_by_ids(&self, account: AccountId, ids: &[DeviceId]) -> StoreResult<Vec<Device>>;

    // Claims: which devices a rule or an automatic update was applied to.
    /// Records claims without a deployment (every device was skipped).
    async fn claim_devices(
        &self,
        actor: &Actor,
        claims: &DeploymentClaims,
        deployment: Option<DeploymentId>,
        now: Timestamp,
    ) -> StoreResult<()>;
    /// Drops every claim under `key`; audited.
    async fn release_claims(&self, actor: &Actor, key: &str) -> StoreResult<u64>;
    async fn claim_count(&self, account: AccountId, key: &str) -> StoreResult<i64>;
    async fn claimed_devices(&self, account: AccountId, key: &str) -> StoreResult<HashSet<DeviceId>>;
    /// Devices with an unfinished job for this app or book.
    async fn devices_with_unfinished(&self, account: AccountId, content_id: &str) -> StoreResult<HashSet<DeviceId>>;

    // App rules (D5).
    async fn insert_app_rule(&self, actor: &Actor, rule: &AppRule) -> StoreResult<AppRuleId>;
    async fn update_app_rule(&self, actor: &Actor, rule: &AppRule) -> StoreResult<()>;
    /// Deletes the rule and its claims; audited.
    async fn delete_app_rule(&self, actor: &Actor, rule: &AppRule) -> StoreResult<()>;
    async fn get_app_rule(&self, account: AccountId, id: AppRuleId) -> StoreResult<Option<AppRule>>;
    async fn list_app_rules(&self, account: AccountId) -> StoreResult<Vec<AppRule>>;
    /// Enabled auto-install rules of every account.
    async fn enabled_auto_install_rules(&self) -> StoreResult<Vec<AppRule>>;
    /// Enrolled devices in `scope` whose installed-app list has been
    /// fetched and that are not claimed under `key`, in id order.
    async fn rule_candidates(
        &self,
        account: AccountId,
        scope: &GroupScope,
        key: &str,
        limit: i64,
    ) -> StoreResult<Vec<DeviceId>>;

    // Devices deleted after their auto-installed apps are removed (L3).
    /// Sets the device's deadline and queues `jobs` (its removals) in one
    /// transaction; None when the deadline was set already.
    async fn mark_device_for_deletion(
        &self,
        actor: &Actor,
        device: DeviceId,
        delete_at: Timestamp,
        jobs: &[NewJob],
        now: Timestamp,
    ) -> StoreResult<Option<Vec<JobId>>>;
    /// Marked devices with no unfinished job, or past their deadline.
    async fn devices_to_delete(&self, now: Timestamp, limit: i64) -> StoreResult<Vec<(AccountId, DeviceId)>>;

    // Automatic updates: on unless opted out per app.
    async fn auto_update_opt_outs(&self, account: AccountId) -> StoreResult<HashSet<(VppTokenId, String)>>;
    async fn set_auto_update(&self, actor: &Actor, token: VppTokenId, adam_id: &str, enabled: bool) -> StoreResult<()>;
}
