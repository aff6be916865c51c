//! The distribution side of the job queue: inserting jobs with their
//! content (held for a license, or registered as license-failed), the
//! verification of installs (J7), and per-deployment counts.

use std::collections::BTreeSet;

use haishin_domain::DomainError;
use haishin_domain::auth::Actor;
use haishin_domain::error::Entity;
use haishin_domain::ids::{AccountId, DeploymentId, DeviceId, JobId};
use haishin_domain::jobs::{JobHold, JobStatus, NewJob, StoredCommand, Verdict, VerifyingJob};
use haishin_domain::time_util::Timestamp;
use haishin_domain::vpp::LicenseTarget;
use sqlx::AnyConnection;

use crate::SqlStore;
use crate::sql::{Arg, DbResult, Query, Result, text};

pub(crate) fn target_text(target: &LicenseTarget) -> String {
    format!("{}:{}", target.kind(), target.id())
}

pub(crate) fn target_of(text: &str) -> Option<LicenseTarget> {
    let (kind, id) = text.split_once(':')?;
    LicenseTarget::from_parts(kind, id.to_owned())
}

fn opt(value: Option<&str>) -> Arg {
    match value {
        Some(v) => text(v),
        None => Arg::OptText(None),
    }
}

impl SqlStore {
    /// Inserts jobs of the actor's account (all or none: a device of another
    /// account refuses the batch), tagged with `deployment` when given.
    pub(crate) async fn insert_jobs(
        &self,
        conn: &mut AnyConnection,
        actor: &Actor,
        jobs: &[NewJob],
        now: Timestamp,
        deployment: Option<DeploymentId>,
    ) -> Result<Vec<JobId>> {
        let devices: BTreeSet<i64> = jobs.iter().map(|j| j.device_id.0).collect();
        for chunk in devices
            .iter()
            .copied()
            .collect::<Vec<_>>()
            .chunks(self.backend.values_per_lookup())
        {
            let mut q = Query::new("SELECT COUNT(*) FROM devices WHERE ");
            q.push_arg("account_id = {}", Arg::Int(actor.account_id.0));
            let ids = q.args(chunk.iter().map(|id| Arg::Int(*id)));
            q.push(&format!(" AND id IN ({ids})"));
            let found: i64 = q.as_scalar().fetch_one(&mut *conn).await.db()?;
            if found != chunk.len() as i64 {
                return Err(DomainError::not_found(Entity::Device));
            }
        }
        for chunk in jobs.chunks(self.backend.rows_per_insert()) {
            let mut q = Query::new(
                "INSERT INTO jobs (account_id, device_id, command_uuid, request_type, command, status, run_at, \
                 created_by, created_by_name, created_at, updated_at, finished_at, deployment_id, content_id, hold, \
                 license_target, verify_identifier, detail) VALUES ",
            );
            for (i, job) in chunk.iter().enumerate() {
                let run_at = job.run_at.unwrap_or(now);
                let content = job.content.as_ref();
                let failed = content.and_then(|c| c.license_failed.as_ref());
                let status = match (failed, run_at > now) {
                    (Some(_), _) => JobStatus::LicenseFailed,
                    (None, true) => JobStatus::Scheduled,
                    (None, false) => JobStatus::Waiting,
                };
                let hold = content
                    .filter(|c| c.held_for_license && failed.is_none())
                    .map(|_| JobHold::License.as_str());
                let values = [
                    Arg::Int(actor.account_id.0),
                    Arg::Int(job.device_id.0),
                    text(&job.command_uuid),
                    text(&job.request_type),
                    text(&job.command),
                    text(status.as_str()),
                    Arg::Int(run_at.0),
                    Arg::OptInt(actor.admin_id.map(|a| a.0)),
                    text(&actor.name),
                    Arg::Int(now.0),
                    Arg::Int(now.0),
                    Arg::OptInt(failed.map(|_| now.0)),
                    Arg::OptInt(deployment.or(content.and_then(|c| c.deployment_id)).map(|d| d.0)),
                    opt(content.map(|c| c.content_id.as_str())),
                    opt(hold),
                    Arg::OptText(content.and_then(|c| c.license_target.as_ref()).map(target_text)),
                    opt(content.and_then(|c| c.verify_identifier.as_deref())),
                    Arg::OptText(failed.map(|f| f.to_string())),
                ];
                let placeholders = q.args(values);
                q.push(if i == 0 { "(" } else { ", (" }).push(&placeholders).push(")");
            }
            q.as_query().execute(&mut *conn).await.db()?;
        }
        let mut ids = Vec::with_capacity(jobs.len());
        for chunk in jobs.chunks(self.backend.values_per_lookup()) {
            let mut q = Query::new("SELECT id FROM jobs WHERE command_uuid IN (");
            let uuids = q.args(chunk.iter().map(|j| text(&j.command_uuid)));
            q.push(&uuids).push(") ORDER BY id");
            let found: Vec<i64> = q.as_scalar().fetch_all(&mut *conn).await.db()?;
            ids.extend(found.into_iter().map(JobId));
        }
        Ok(ids)
    }

    pub(crate) async fn select_verifying(&self, account: AccountId, device: DeviceId) -> Result<Vec<VerifyingJob>> {
        let mut q = Query::new(
            "SELECT id, request_type, verify_identifier, verify_checks, delivered_at FROM jobs WHERE \
             finished_at IS NULL AND hold = 'verifying' AND ",
        );
        q.push_arg("device_id = {}", Arg::Int(device.0))
            .push_arg(" AND account_id = {} ORDER BY id", Arg::Int(account.0));
        type Row = (i64, String, Option<String>, i64, Option<i64>);
        let rows: Vec<Row> = q.as_query_as().fetch_all(&self.write).await.db()?;
        Ok(rows
            .into_iter()
            .map(|(id, request_type, identifier, checks, delivered_at)| VerifyingJob {
                id: JobId(id),
                request_type,
                identifier,
                checks,
                delivered_at: delivered_at.map(Timestamp),
            })
            .collect())
    }

    pub(crate) async fn apply_verdicts(
        &self,
        account: AccountId,
        device: DeviceId,
        verdicts: &[(JobId, Verdict)],
        now: Timestamp,
    ) -> Result<()> {
        let mut tx = self.write.begin().await.db()?;
        for (job, verdict) in verdicts {
            let mut q = Query::new("UPDATE jobs SET ");
            q.push_arg("updated_at = {}", Arg::Int(now.0));
            match verdict {
                Verdict::Installed => {
                    q.push_arg(", status = 'success', hold = NULL, finished_at = {}", Arg::Int(now.0));
                }
                Verdict::Failed { error_chain } => {
                    q.push_arg(
                        ", status = 'device_error', hold = NULL, finished_at = {}",
                        Arg::Int(now.0),
                    )
                    .push_arg(", error_chain = {}", text(&error_chain.to_string()));
                }
                Verdict::Pending { status } => {
                    let detail = serde_json::json!({ "managed_status": status });
                    q.push(", verify_checks = verify_checks + 1")
                        .push_arg(", detail = {}", text(&detail.to_string()));
                }
            }
            q.push_arg(" WHERE id = {}", Arg::Int(job.0))
                .push_arg(" AND device_id = {}", Arg::Int(device.0))
                .push_arg(" AND account_id = {}", Arg::Int(account.0))
                .push(" AND finished_at IS NULL AND hold = 'verifying'");
            q.as_query().execute(&mut *tx).await.db()?;
        }
        tx.commit().await.db()?;
        Ok(())
    }

    pub(crate) async fn select_job_command(&self, account: AccountId, id: JobId) -> Result<Option<StoredCommand>> {
        let mut q = Query::new(
            "SELECT device_id, request_type, status, command, deployment_id, content_id, verify_identifier, detail \
             FROM jobs WHERE ",
        );
        q.push_arg("id = {}", Arg::Int(id.0))
            .push_arg(" AND account_id = {}", Arg::Int(account.0));
        type Row = (
            i64,
            String,
            String,
            String,
            Option<i64>,
            Option<String>,
            Option<String>,
            Option<String>,
        );
        let row: Option<Row> = q.as_query_as().fetch_optional(&self.read).await.db()?;
        Ok(row.map(
            |(device, request_type, status, command, deployment, content, identifier, detail)| StoredCommand {
                device_id: DeviceId(device),
                request_type,
                status: JobStatus::parse(&status).unwrap_or(JobStatus::DeviceError),
                command,
                deployment_id: deployment.map(DeploymentId),
                content_id: content,
                verify_identifier: identifier,
                detail: detail.and_then(|d| serde_json::from_str(&d).ok()),
            },
        ))
    }

    pub(crate) async fn count_deployment_jobs(
        &self,
        account: AccountId,
        deployment: DeploymentId,
    ) -> Result<Vec<(JobStatus, Option<JobHold>, i64)>> {
        // The account is checked on the deployment, so the count reads
        // the (deployment_id, status, hold) index alone.
        let mut q = Query::new("SELECT status, hold, COUNT(*) FROM jobs WHERE ");
        q.push_arg(
            "deployment_id IN (SELECT id FROM deployments WHERE id = {}",
            Arg::Int(deployment.0),
        )
        .push_arg(" AND account_id = {})", Arg::Int(account.0))
        .push(" GROUP BY status, hold");
        let rows: Vec<(String, Option<String>, i64)> = q.as_query_as().fetch_all(&self.read).await.db()?;
        Ok(rows
            .into_iter()
            .filter_map(|(status, hold, n)| {
                Some((JobStatus::parse(&status)?, hold.as_deref().and_then(JobHold::parse), n))
            })
            .collect())
    }

    /// One GROUP BY for a page of deployments (the list view).
    pub(crate) async fn count_jobs_of_deployments(
        &self,
        account: AccountId,
        deployments: &[DeploymentId],
    ) -> Result<Vec<(DeploymentId, JobStatus, Option<JobHold>, i64)>> {
        if deployments.is_empty() {
            return Ok(Vec::new());
        }
        let mut q = Query::new("SELECT deployment_id, status, hold, COUNT(*) FROM jobs WHERE deployment_id IN ");
        q.push_arg("(SELECT id FROM deployments WHERE account_id = {}", Arg::Int(account.0));
        let list = q.args(deployments.iter().map(|d| Arg::Int(d.0)));
        q.push(&format!(" AND id IN ({list})) GROUP BY deployment_id, status, hold"));
        let rows: Vec<(i64, String, Option<String>, i64)> = q.as_query_as().fetch_all(&self.read).await.db()?;
        Ok(rows
            .into_iter()
            .filter_map(|(id, status, hold, n)| {
                Some((
                    DeploymentId(id),
                    JobStatus::parse(&status)?,
                    hold.as_deref().and_then(JobHold::parse),
                    n,
                ))
            })
            .collect())
    }

    pub(crate) async fn select_orphaned_verifications(
        &self,
        quiet_since: Timestamp,
        limit: i64,
    ) -> Result<Vec<(AccountId, DeviceId, String, i64)>> {
        let mut q = Query::new(
            "SELECT j.account_id, j.device_id, j.request_type, MIN(j.verify_checks) FROM jobs j \
             WHERE j.hold = 'verifying' AND j.finished_at IS NULL AND ",
        );
        q.push_arg("j.updated_at <= {}", Arg::Int(quiet_since.0)).push(
            " AND NOT EXISTS (SELECT 1 FROM jobs l WHERE l.device_id = j.device_id AND l.finished_at IS NULL \
             AND l.request_type IN ('ManagedApplicationList', 'ManagedMediaList')) \
             GROUP BY j.account_id, j.device_id, j.request_type",
        );
        q.push_arg(" LIMIT {}", Arg::Int(limit));
        let rows: Vec<(i64, i64, String, i64)> = q.as_query_as().fetch_all(&self.write).await.db()?;
        Ok(rows
            .into_iter()
            .map(|(account, device, request_type, checks)| (AccountId(account), DeviceId(device), request_type, checks))
            .collect())
    }
}
