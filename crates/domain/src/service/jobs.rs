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

/// The first instant of history kept (SPEC J6): the current month and the
/// two before it, in UTC months like the console's month filter.
pub fn retention_cutoff(now: Timestamp) -> Timestamp {
    let date = now.to_datetime().date();
    let (mut year, mut month) = (date.year(), date.month());
    for _ in 0..2 {
        month = month.previous();
        if month == time::Month::December {
            year -= 1;
        }
    }
    let first = time::Date::from_calendar_date(year, month, 1).expect("the first of a month exists");
    Timestamp::from_datetime(first.midnight().assume_utc())
}

impl Services {
    /// Deletes finished jobs older than the retention window. Idempotent,
    /// so every replica may run it.
    pub async fn purge_expired_jobs(&self, now: Timestamp) -> Result<u64, DomainError> {
        self.store.purge_finished_jobs(retention_cutoff(now)).await
    }
}

#[cfg(test)]
mod retention_tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        let t = time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).unwrap();
        Timestamp(t.unix_timestamp() * 1000)
    }

    #[test]
    fn keeps_this_month_and_the_two_before() {
        assert_eq!(retention_cutoff(at("2026-11-24T03:00:00Z")), at("2026-09-01T00:00:00Z"));
        assert_eq!(retention_cutoff(at("2026-02-10T12:00:00Z")), at("2025-12-01T00:00:00Z"));
        assert_eq!(retention_cutoff(at("2026-01-01T00:00:00Z")), at("2025-11-01T00:00:00Z"));
        assert_eq!(retention_cutoff(at("2026-03-31T23:59:59Z")), at("2026-01-01T00:00:00Z"));
    }
}
