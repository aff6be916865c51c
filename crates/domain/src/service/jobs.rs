use super::Services;
use crate::DomainError;
use crate::auth::Actor;
use crate::ids::DeviceId;
use crate::jobs::{Job, JobQuery, JobSelection};
use crate::time_util::Timestamp;

impl Services {
    /// The job console (SPEC J3): newest first, 100 by default.
    pub async fn list_jobs(&self, actor: &Actor, query: &JobQuery) -> Result<Vec<Job>, DomainError> {
        self.store.list_jobs(actor.account_id, query).await
    }

    /// One device's jobs; a device of another account is "not found".
    pub async fn device_jobs(
        &self,
        actor: &Actor,
        device: DeviceId,
        limit: Option<i64>,
    ) -> Result<Vec<Job>, DomainError> {
        self.get_device(actor, device).await?;
        let query = JobQuery {
            device_id: Some(device),
            limit,
            ..Default::default()
        };
        self.store.list_jobs(actor.account_id, &query).await
    }

    /// Cancels unfinished jobs (SPEC J4); returns how many were canceled.
    pub async fn cancel_jobs(&self, actor: &Actor, selection: &JobSelection) -> Result<u64, DomainError> {
        actor.require_write()?;
        self.store.cancel_jobs(actor, selection, Timestamp::now()).await
    }
}
