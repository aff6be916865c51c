//! The command queue's SQL. The rules are documented in
//! `haishin_domain::jobs`; this file keeps them in a few statements.

use async_trait::async_trait;
use haishin_domain::DomainError;
use haishin_domain::audit::AuditRecord;
use haishin_domain::auth::Actor;
use haishin_domain::ids::{AccountId, AdminId, DeploymentId, DeviceId, JobId};
use haishin_domain::jobs::*;
use haishin_domain::store::StoreResult;
use haishin_domain::time_util::Timestamp;

use crate::audit::record;
use crate::sql::{Arg, DbResult, Query, opt_text, text};
use crate::{Backend, SqlStore};

const JOB_SELECT: &str = "SELECT j.id, j.account_id, j.device_id, d.device_number, d.display_name AS device_name, \
    j.command_uuid, j.request_type, j.status, j.created_by, j.created_by_name, j.run_at, j.created_at, j.updated_at, \
    j.pushed_at, j.push_count, j.delivered_at, j.finished_at, j.not_now_count, j.error_chain, j.deployment_id, \
    j.content_id, j.hold, j.detail FROM jobs j JOIN devices d ON d.id = j.device_id";

#[derive(sqlx::FromRow)]
struct JobRow {
    id: i64,
    account_id: i64,
    device_id: i64,
    device_number: String,
    device_name: String,
    command_uuid: String,
    request_type: String,
    status: String,
    created_by: Option<i64>,
    created_by_name: String,
    run_at: i64,
    created_at: i64,
    updated_at: i64,
    pushed_at: Option<i64>,
    push_count: i64,
    delivered_at: Option<i64>,
    finished_at: Option<i64>,
    not_now_count: i64,
    error_chain: Option<String>,
    deployment_id: Option<i64>,
    content_id: Option<String>,
    hold: Option<String>,
    detail: Option<String>,
}

impl From<JobRow> for Job {
    fn from(r: JobRow) -> Self {
        Job {
            id: JobId(r.id),
            account_id: AccountId(r.account_id),
            device_id: DeviceId(r.device_id),
            device_number: r.device_number,
            device_name: r.device_name,
            command_uuid: r.command_uuid,
            request_type: r.request_type,
            // Written only from JobStatus; anything else is hand-edited data.
            status: JobStatus::parse(&r.status).unwrap_or(JobStatus::DeviceError),
            created_by: r.created_by.map(AdminId),
            created_by_name: r.created_by_name,
            run_at: Timestamp(r.run_at),
            created_at: Timestamp(r.created_at),
            updated_at: Timestamp(r.updated_at),
            pushed_at: r.pushed_at.map(Timestamp),
            push_count: r.push_count,
            delivered_at: r.delivered_at.map(Timestamp),
            finished_at: r.finished_at.map(Timestamp),
            not_now_count: r.not_now_count,
            error_chain: r.error_chain.and_then(|t| serde_json::from_str(&t).ok()),
            deployment_id: r.deployment_id.map(DeploymentId),
            content_id: r.content_id,
            hold: r.hold.as_deref().and_then(JobHold::parse),
            detail: r.detail.and_then(|t| serde_json::from_str(&t).ok()),
        }
    }
}

/// The SQL condition "job `j` is its device's head at `now`".
fn is_head(now_arg: &str) -> String {
    format!(
        "j.finished_at IS NULL AND j.hold IS NULL AND j.run_at <= {now_arg} AND NOT EXISTS (SELECT 1 FROM jobs h \
         WHERE h.device_id = j.device_id AND h.finished_at IS NULL AND h.hold IS NULL AND h.run_at <= {now_arg} \
         AND h.id < j.id)"
    )
}

/// The SQL condition "this job needs a push": never pushed (and past any
/// NotNow back-off), or pushed long enough ago without being fetched, or
/// delivered long ago without an answer (the device will resend it when
/// woken; also when it was delivered in a session nobody pushed for, and
/// the answer was lost with a crash); and not pushed too often already. `t` is the table alias with its dot, or empty.
fn needs_push(t: &str, repush_before: &str, max_pushes: &str) -> String {
    format!(
        "(({t}status IN ('scheduled', 'waiting') AND ({t}pushed_at IS NULL OR {t}pushed_at <= {repush_before}) \
           AND ({t}last_not_now_at IS NULL OR {t}last_not_now_at <= {repush_before})) \
         OR ({t}status IN ('push_sent', 'push_timeout') AND {t}pushed_at <= {repush_before}) \
         OR ({t}status = 'running' AND {t}delivered_at <= {repush_before} \
             AND ({t}pushed_at IS NULL OR {t}pushed_at <= {repush_before}))) \
         AND {t}push_count < {max_pushes}"
    )
}

/// The managed lists that verify installs (SPEC J7) are pushed for before
/// the rest of the queue: an install is only a success once its list has
/// come back, and in id order those lists would wait behind every install
/// still queued (at 100,000 devices, the first success came after the last
/// delivery). The partial index `jobs_follow_ups` (migration 0012) holds
/// exactly these jobs, so the condition must stay the same text as there.
const FOLLOW_UPS: &str = "j.request_type IN ('ManagedApplicationList', 'ManagedMediaList')";

impl SqlStore {
    /// Claims up to `limit` due jobs for a push, oldest first, only those
    /// matching `only` when given.
    async fn claim(
        &self,
        policy: &PushPolicy,
        now: Timestamp,
        limit: i64,
        only: Option<&str>,
    ) -> StoreResult<Vec<PushTarget>> {
        let mut q = Query::new("");
        let now_arg = q.arg(Arg::Int(now.0));
        let repush_arg = q.arg(Arg::Int(now.0 - policy.repush_after_millis));
        let max_arg = q.arg(Arg::Int(policy.max_pushes));
        let lock = match self.backend {
            Backend::Postgres => " FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        };
        let limit_arg = q.arg(Arg::Int(limit));
        let only = only.map(|condition| format!(" AND {condition}")).unwrap_or_default();
        // The pick is a materialized CTE, not `id IN (subquery)`: PostgreSQL
        // may run such a subquery again for every row it updates, and each
        // run skips the rows the statement already updated and locks the
        // next ones, so a LIMIT of 1 claimed every due job (found by
        // storage/tests/jobs.rs, verifying_lists_are_pushed_before_older_installs).
        q.push(&format!(
            "WITH picked AS MATERIALIZED (SELECT j.id FROM jobs j WHERE {} AND {}{only} \
             ORDER BY j.id LIMIT {limit_arg}{lock}) \
             UPDATE jobs SET status = 'push_sent', push_count = push_count + 1, \
             pushed_at = {now_arg}, updated_at = {now_arg} WHERE id IN (SELECT id FROM picked) \
             AND finished_at IS NULL AND {} \
             RETURNING id, account_id, device_id",
            is_head(&now_arg),
            needs_push("j.", &repush_arg, &max_arg),
            // Checked again on the row being updated: another server may have
            // claimed it since the subquery read it.
            needs_push("", &repush_arg, &max_arg),
        ));
        let rows: Vec<(i64, i64, i64)> = q.as_query_as().fetch_all(&self.write).await.db()?;
        Ok(rows
            .into_iter()
            .map(|(id, account, device)| PushTarget {
                job_id: JobId(id),
                account_id: AccountId(account),
                device_id: DeviceId(device),
            })
            .collect())
    }
}

#[async_trait]
impl JobStore for SqlStore {
    async fn enqueue_jobs(&self, actor: &Actor, jobs: &[NewJob], now: Timestamp) -> StoreResult<Vec<JobId>> {
        if jobs.is_empty() {
            return Ok(Vec::new());
        }
        let mut tx = self.write.begin().await.db()?;
        let ids = self.insert_jobs(&mut tx, actor, jobs, now, None).await?;
        tx.commit().await.db()?;
        Ok(ids)
    }

    async fn next_delivery(
        &self,
        account: AccountId,
        device: DeviceId,
        now: Timestamp,
    ) -> StoreResult<Option<Delivery>> {
        let mut tx = self.write.begin().await.db()?;
        // Filtering on the device alone: with `account_id` in the WHERE
        // clause, SQLite without statistics walks the account's index over
        // every job (measured: 14-18 ms per call at 30k jobs instead of
        // 0.1 ms). The account is checked on the row found instead.
        let mut q = Query::new("SELECT j.id, j.account_id, j.command_uuid, j.command, j.status FROM jobs j WHERE ");
        q.push_arg("j.device_id = {}", Arg::Int(device.0));
        let now_arg = q.arg(Arg::Int(now.0));
        q.push(&format!(
            " AND j.finished_at IS NULL AND j.hold IS NULL AND j.run_at <= {now_arg} ORDER BY j.id LIMIT 1"
        ));
        let head: Option<(i64, i64, String, String, String)> = q.as_query_as().fetch_optional(&mut *tx).await.db()?;
        let Some((id, job_account, command_uuid, command, status)) = head else {
            return Ok(None);
        };
        if job_account != account.0 {
            return Ok(None);
        }
        let mut q = Query::new("UPDATE jobs SET status = 'running', ");
        q.push_arg("delivered_at = {}", Arg::Int(now.0))
            .push_arg(", updated_at = {}", Arg::Int(now.0))
            .push_arg(" WHERE id = {}", Arg::Int(id))
            .push(" AND finished_at IS NULL");
        let updated = q.as_query().execute(&mut *tx).await.db()?.rows_affected();
        tx.commit().await.db()?;
        Ok((updated == 1).then(|| Delivery {
            job_id: JobId(id),
            command_uuid,
            command,
            redelivered: status == JobStatus::Running.as_str(),
        }))
    }

    async fn record_report(
        &self,
        account: AccountId,
        device: DeviceId,
        command_uuid: &str,
        outcome: &JobOutcome,
        now: Timestamp,
    ) -> StoreResult<ReportDisposition> {
        let (status, finished, error_chain, not_now) = match outcome {
            JobOutcome::Succeeded => (JobStatus::Success, true, None, false),
            JobOutcome::Verifying { .. } => (JobStatus::Running, false, None, false),
            JobOutcome::DeviceError { error_chain } => (
                JobStatus::DeviceError,
                true,
                error_chain.as_ref().map(|c| c.to_string()),
                false,
            ),
            JobOutcome::NotNow => (JobStatus::Waiting, false, None, true),
            JobOutcome::LicenseFailed => (JobStatus::LicenseFailed, true, None, false),
        };
        let mut q = Query::new("UPDATE jobs SET ");
        q.push_arg("status = {}", text(status.as_str()))
            .push_arg(", updated_at = {}", Arg::Int(now.0));
        if finished {
            q.push_arg(", finished_at = {}", Arg::Int(now.0));
        }
        if error_chain.is_some() {
            q.push_arg(", error_chain = {}", opt_text(&error_chain));
        }
        if not_now {
            q.push_arg(
                ", not_now_count = not_now_count + 1, last_not_now_at = {}",
                Arg::Int(now.0),
            );
        }
        if let JobOutcome::Verifying { identifier } = outcome {
            q.push(", hold = 'verifying', verify_checks = 0");
            if let Some(identifier) = identifier {
                q.push_arg(", verify_identifier = {}", text(identifier));
            }
        }
        q.push_arg(" WHERE account_id = {}", Arg::Int(account.0))
            .push_arg(" AND device_id = {}", Arg::Int(device.0))
            .push_arg(" AND command_uuid = {}", text(command_uuid))
            .push(" AND finished_at IS NULL");
        let updated = q.as_query().execute(&self.write).await.db()?.rows_affected();
        if updated == 1 {
            return Ok(ReportDisposition::Recorded(status));
        }
        let mut q = Query::new("SELECT COUNT(*) FROM jobs WHERE ");
        q.push_arg("account_id = {}", Arg::Int(account.0))
            .push_arg(" AND device_id = {}", Arg::Int(device.0))
            .push_arg(" AND command_uuid = {}", text(command_uuid));
        let known: i64 = q.as_scalar().fetch_one(&self.read).await.db()?;
        Ok(if known > 0 {
            ReportDisposition::AlreadyFinished
        } else {
            ReportDisposition::Unknown
        })
    }

    async fn job_request_type(
        &self,
        account: AccountId,
        device: DeviceId,
        command_uuid: &str,
    ) -> StoreResult<Option<String>> {
        let mut q = Query::new("SELECT request_type FROM jobs WHERE ");
        q.push_arg("command_uuid = {}", text(command_uuid))
            .push_arg(" AND device_id = {}", Arg::Int(device.0))
            .push_arg(" AND account_id = {}", Arg::Int(account.0));
        q.as_scalar().fetch_optional(&self.read).await.db()
    }

    async fn claim_pushes(&self, policy: &PushPolicy, now: Timestamp, limit: i64) -> StoreResult<Vec<PushTarget>> {
        let mut targets = self.claim(policy, now, limit, Some(FOLLOW_UPS)).await?;
        let room = limit - targets.len() as i64;
        if room > 0 {
            targets.extend(self.claim(policy, now, room, None).await?);
        }
        Ok(targets)
    }

    async fn count_pushes_in_flight(&self, since: Timestamp) -> StoreResult<i64> {
        let mut q = Query::new("SELECT COUNT(*) FROM jobs WHERE status = 'push_sent' AND finished_at IS NULL");
        q.push_arg(" AND pushed_at >= {}", Arg::Int(since.0));
        q.as_scalar().fetch_one(&self.write).await.db()
    }

    async fn mark_push_timeouts(&self, policy: &PushPolicy, now: Timestamp) -> StoreResult<u64> {
        let mut q = Query::new("UPDATE jobs SET status = 'push_timeout', ");
        q.push_arg("updated_at = {}", Arg::Int(now.0)).push_arg(
            " WHERE status = 'push_sent' AND finished_at IS NULL AND pushed_at <= {}",
            Arg::Int(now.0 - policy.timeout_millis),
        );
        Ok(q.as_query().execute(&self.write).await.db()?.rows_affected())
    }

    async fn get_job(&self, account: AccountId, id: JobId) -> StoreResult<Option<Job>> {
        let mut q = Query::new(JOB_SELECT);
        q.push_arg(" WHERE j.id = {}", Arg::Int(id.0))
            .push_arg(" AND j.account_id = {}", Arg::Int(account.0));
        let row: Option<JobRow> = q.as_query_as().fetch_optional(&self.read).await.db()?;
        Ok(row.map(Into::into))
    }

    async fn list_jobs(&self, account: AccountId, query: &JobQuery) -> StoreResult<Vec<Job>> {
        let mut q = Query::new(JOB_SELECT);
        q.push_arg(" WHERE j.account_id = {}", Arg::Int(account.0));
        if let Some((start, end)) = query.month.as_deref().map(month_range).transpose()? {
            q.push_arg(" AND j.created_at >= {}", Arg::Int(start))
                .push_arg(" AND j.created_at < {}", Arg::Int(end));
        }
        if query.active_only {
            q.push(" AND j.finished_at IS NULL");
        }
        if let Some(number) = &query.device_number {
            // Through the device's id, so the (device_id, id) index serves
            // the order (measured at 10M jobs: PostgreSQL 7.8 ms -> 1.1 ms).
            q.push_arg(
                " AND j.device_id = (SELECT s.id FROM devices s WHERE s.account_id = {}",
                Arg::Int(account.0),
            )
            .push_arg(" AND s.device_number = {})", text(number));
        }
        if let Some(device) = query.device_id {
            q.push_arg(" AND j.device_id = {}", Arg::Int(device.0));
        }
        if let Some(by) = &query.created_by {
            q.push_arg(" AND j.created_by_name = {}", text(by));
        }
        if let Some(status) = query.status {
            q.push_arg(" AND j.status = {}", text(status.as_str()));
        }
        if let Some(deployment) = query.deployment_id {
            q.push_arg(" AND j.deployment_id = {}", Arg::Int(deployment.0));
        }
        if let Some(before) = query.before_id {
            q.push_arg(" AND j.id < {}", Arg::Int(before.0));
        }
        // A past month is read through (account_id, created_at, id): ordering
        // by id alone walks back from the newest job (bench console: 3-13 s
        // on SQLite at 10M jobs). Ids grow with creation time, so the order
        // is the same.
        let order = if query.month.is_some() {
            " ORDER BY j.created_at DESC, j.id DESC LIMIT {}"
        } else {
            " ORDER BY j.id DESC LIMIT {}"
        };
        q.push_arg(order, Arg::Int(query.limit.unwrap_or(100).clamp(1, 1000)));
        let rows: Vec<JobRow> = q.as_query_as().fetch_all(&self.read).await.db()?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn cancel_jobs(&self, actor: &Actor, selection: &JobSelection, now: Timestamp) -> StoreResult<u64> {
        let mut tx = self.write.begin().await.db()?;
        let mut q = Query::new("UPDATE jobs SET status = 'canceled', ");
        q.push_arg("finished_at = {}", Arg::Int(now.0))
            .push_arg(", updated_at = {}", Arg::Int(now.0))
            .push_arg(
                " WHERE account_id = {} AND finished_at IS NULL",
                Arg::Int(actor.account_id.0),
            );
        match selection {
            JobSelection::Ids(ids) => {
                if ids.is_empty() {
                    return Ok(0);
                }
                let placeholders = q.args(ids.iter().map(|id| Arg::Int(id.0)));
                q.push(&format!(" AND id IN ({})", placeholders));
            }
            JobSelection::Deployment(deployment) => {
                q.push_arg(" AND deployment_id = {}", Arg::Int(deployment.0));
            }
            JobSelection::All => {}
        }
        let canceled = q.as_query().execute(&mut *tx).await.db()?.rows_affected();
        let details = match selection {
            JobSelection::Ids(ids) => serde_json::json!({ "canceled": canceled, "ids": ids }),
            JobSelection::All => serde_json::json!({ "canceled": canceled, "all": true }),
            JobSelection::Deployment(id) => serde_json::json!({ "canceled": canceled, "deployment_id": id }),
        };
        record(
            &mut tx,
            actor,
            AuditRecord::new("job.cancel", "job", None).after(&details),
        )
        .await?;
        tx.commit().await.db()?;
        Ok(canceled)
    }

    async fn verifying_jobs(&self, account: AccountId, device: DeviceId) -> StoreResult<Vec<VerifyingJob>> {
        self.select_verifying(account, device).await
    }

    async fn settle_verifications(
        &self,
        account: AccountId,
        device: DeviceId,
        verdicts: &[(JobId, Verdict)],
        now: Timestamp,
    ) -> StoreResult<()> {
        self.apply_verdicts(account, device, verdicts, now).await
    }

    async fn has_unfinished(&self, account: AccountId, device: DeviceId, request_type: &str) -> StoreResult<bool> {
        let mut q = Query::new("SELECT COUNT(*) FROM jobs WHERE ");
        q.push_arg("device_id = {}", Arg::Int(device.0))
            .push_arg(" AND account_id = {}", Arg::Int(account.0))
            .push_arg(" AND request_type = {} AND finished_at IS NULL", text(request_type));
        let count: i64 = q.as_scalar().fetch_one(&self.write).await.db()?;
        Ok(count > 0)
    }

    async fn job_command(&self, account: AccountId, id: JobId) -> StoreResult<Option<StoredCommand>> {
        self.select_job_command(account, id).await
    }

    async fn deployment_job_counts(
        &self,
        account: AccountId,
        deployment: DeploymentId,
    ) -> StoreResult<Vec<(JobStatus, Option<JobHold>, i64)>> {
        self.count_deployment_jobs(account, deployment).await
    }

    async fn orphaned_verifications(
        &self,
        quiet_since: Timestamp,
        limit: i64,
    ) -> StoreResult<Vec<(AccountId, DeviceId, String, i64)>> {
        self.select_orphaned_verifications(quiet_since, limit).await
    }

    async fn purge_finished_jobs(&self, created_before: Timestamp) -> StoreResult<u64> {
        let mut q = Query::new("DELETE FROM jobs WHERE finished_at IS NOT NULL AND ");
        q.push_arg("created_at < {}", Arg::Int(created_before.0));
        Ok(q.as_query().execute(&self.write).await.db()?.rows_affected())
    }
}

/// `YYYY-MM` as [first millisecond, first millisecond of the next month), UTC.
fn month_range(month: &str) -> StoreResult<(i64, i64)> {
    let invalid = || {
        DomainError::invalid(
            "month",
            format!("「{month}」は年月として不正です(例: 2026-11)。"),
            format!("'{month}' is not a month (e.g. 2026-11)."),
        )
    };
    let (year, mon) = month.split_once('-').ok_or_else(invalid)?;
    let year: i32 = year.parse().map_err(|_| invalid())?;
    let mon: u8 = mon.parse().map_err(|_| invalid())?;
    let start_month = time::Month::try_from(mon).map_err(|_| invalid())?;
    let start = time::Date::from_calendar_date(year, start_month, 1).map_err(|_| invalid())?;
    let (next_year, next_month) = if mon == 12 {
        (year + 1, time::Month::January)
    } else {
        (year, start_month.next())
    };
    let end = time::Date::from_calendar_date(next_year, next_month, 1).map_err(|_| invalid())?;
    let millis = |d: time::Date| d.midnight().assume_utc().unix_timestamp() * 1000;
    Ok((millis(start), millis(end)))
}

#[cfg(test)]
mod tests {
    #[test]
    fn month_ranges() {
        let (start, end) = super::month_range("2026-12").unwrap();
        assert_eq!(start, 1_796_083_200_000);
        assert_eq!(end - start, 31 * 86_400_000);
        assert!(super::month_range("2026-13").is_err());
        assert!(super::month_range("November").is_err());
    }
}
