use async_trait::async_trait;

use super::{
    Delivery, Job, JobOutcome, JobQuery, JobSelection, JobStatus, NewJob, PushPolicy, PushTarget, ReportDisposition,
    StoredCommand, Verdict, VerifyingJob,
};
use crate::auth::Actor;
use crate::ids::{AccountId, DeploymentId, DeviceId, JobId};
use crate::store::StoreResult;
use crate::time_util::Timestamp;

/// The durable command queue. `now` is a parameter so the rules can be
/// tested at any point in time; servers pass the clock.
#[async_trait]
pub trait JobStore: Send + Sync {
    /// Queues jobs for devices of the actor's account (all or none: a device
    /// of another account, or a missing one, refuses the whole batch).
    async fn enqueue_jobs(&self, actor: &Actor, jobs: &[NewJob], now: Timestamp) -> StoreResult<Vec<JobId>>;
    /// The device's head job, marked running; `None` when it has nothing due.
    async fn next_delivery(
        &self,
        account: AccountId,
        device: DeviceId,
        now: Timestamp,
    ) -> StoreResult<Option<Delivery>>;
    /// Applies the device's answer to the job with this CommandUUID.
    async fn record_report(
        &self,
        account: AccountId,
        device: DeviceId,
        command_uuid: &str,
        outcome: &JobOutcome,
        now: Timestamp,
    ) -> StoreResult<ReportDisposition>;
    /// The request type of this device's job with this CommandUUID.
    async fn job_request_type(
        &self,
        account: AccountId,
        device: DeviceId,
        command_uuid: &str,
    ) -> StoreResult<Option<String>>;
    /// Claims head jobs that need a push now and marks them pushed. Safe with
    /// several servers: a job is claimed by one caller only.
    async fn claim_pushes(&self, policy: &PushPolicy, now: Timestamp, limit: i64) -> StoreResult<Vec<PushTarget>>;
    /// Jobs pushed at or after `since` whose device has not fetched them yet.
    async fn count_pushes_in_flight(&self, since: Timestamp) -> StoreResult<i64>;
    /// Marks pushed jobs the device has not fetched in time as push timeout.
    async fn mark_push_timeouts(&self, policy: &PushPolicy, now: Timestamp) -> StoreResult<u64>;
    async fn list_jobs(&self, account: AccountId, query: &JobQuery) -> StoreResult<Vec<Job>>;
    async fn get_job(&self, account: AccountId, id: crate::ids::JobId) -> StoreResult<Option<Job>>;
    /// Cancels unfinished jobs; returns how many.
    async fn cancel_jobs(&self, actor: &Actor, selection: &JobSelection, now: Timestamp) -> StoreResult<u64>;
    /// Deletes finished jobs registered before `created_before` (retention, J6).
    async fn purge_finished_jobs(&self, created_before: Timestamp) -> StoreResult<u64>;
    /// The device's acknowledged installs waiting for verification (J7).
    async fn verifying_jobs(&self, account: AccountId, device: DeviceId) -> StoreResult<Vec<VerifyingJob>>;
    /// Applies what a managed list said: installed ones succeed, failed ones
    /// end as device errors, pending ones count one more check.
    async fn settle_verifications(
        &self,
        account: AccountId,
        device: DeviceId,
        verdicts: &[(JobId, Verdict)],
        now: Timestamp,
    ) -> StoreResult<()>;
    /// Whether the device has an unfinished job of this request type.
    async fn has_unfinished(&self, account: AccountId, device: DeviceId, request_type: &str) -> StoreResult<bool>;
    async fn job_command(&self, account: AccountId, id: JobId) -> StoreResult<Option<StoredCommand>>;
    /// Jobs of a deployment per status, and how many of them are held.
    async fn deployment_job_counts(
        &self,
        account: AccountId,
        deployment: DeploymentId,
    ) -> StoreResult<Vec<(JobStatus, Option<super::JobHold>, i64)>>;
    /// Devices with installs verifying since before `quiet_since` and no
    /// managed-list query queued: a crash came between the acknowledgement
    /// and queuing the query. `(account, device, request type, fewest checks)`.
    async fn orphaned_verifications(
        &self,
        quiet_since: Timestamp,
        limit: i64,
    ) -> StoreResult<Vec<(AccountId, DeviceId, String, i64)>>;
}
