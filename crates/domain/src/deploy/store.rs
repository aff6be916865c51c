use async_trait::async_trait;

use super::{Deployment, DeploymentStatus};
use crate::auth::Actor;
use crate::ids::{AccountId, DeploymentId, JobId};
use crate::jobs::NewJob;
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
}
