//! Deployments: the record, its jobs written with it, the worker's lease,
//! and the transactions that move it through licensing.

use async_trait::async_trait;
use haishin_domain::audit::AuditRecord;
use haishin_domain::auth::Actor;
use haishin_domain::deploy::{Deployment, DeploymentStatus, DeploymentStore, HeldJob};
use haishin_domain::ids::{AccountId, AdminId, DeploymentId, JobId};
use haishin_domain::jobs::NewJob;
use haishin_domain::store::StoreResult;
use haishin_domain::time_util::Timestamp;
use haishin_domain::vpp::LicenseOperation;
use sqlx::AnyConnection;

use crate::audit::record;
use crate::job_content::target_of;
use crate::sql::{Arg, DbResult, Query, Result, text};
use crate::vpp::operations::insert_operation_in;
use crate::{Backend, SqlStore};

const SELECT: &str = "SELECT id, account_id, name, status, request, summary, run_at, created_by, created_by_name, \
    created_at, updated_at FROM deployments";

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    account_id: i64,
    name: String,
    status: String,
    request: String,
    summary: String,
    run_at: i64,
    created_by: Option<i64>,
    created_by_name: String,
    created_at: i64,
    updated_at: i64,
}

impl Row {
    fn decode(self) -> Option<Deployment> {
        let request = serde_json::from_str(&self.request)
            .map_err(|e| tracing::error!(deployment = self.id, "undecodable deployment: {e}"))
            .ok()?;
        Some(Deployment {
            id: DeploymentId(self.id),
            account_id: AccountId(self.account_id),
            name: self.name,
            status: DeploymentStatus::parse(&self.status)?,
            request,
            summary: serde_json::from_str(&self.summary).unwrap_or_default(),
            run_at: Timestamp(self.run_at),
            created_by: self.created_by.map(AdminId),
            created_by_name: self.created_by_name,
            created_at: Timestamp(self.created_at),
            updated_at: Timestamp(self.updated_at),
        })
    }
}

/// Fails held jobs as license-assignment-failed, each with its explanation.
async fn fail_held(
    conn: &mut AnyConnection,
    deployment: DeploymentId,
    fail: &[(JobId, serde_json::Value)],
    now: Timestamp,
) -> Result<()> {
    for (job, detail) in fail {
        let mut q = Query::new("UPDATE jobs SET status = 'license_failed', hold = NULL, ");
        q.push_arg("finished_at = {}", Arg::Int(now.0))
            .push_arg(", updated_at = {}", Arg::Int(now.0))
            .push_arg(", detail = {}", text(&detail.to_string()))
            .push_arg(" WHERE id = {}", Arg::Int(job.0))
            .push_arg(" AND deployment_id = {}", Arg::Int(deployment.0))
            .push(" AND hold = 'license' AND finished_at IS NULL");
        q.as_query().execute(&mut *conn).await.db()?;
    }
    Ok(())
}

#[async_trait]
impl DeploymentStore for SqlStore {
    async fn insert_deployment(
        &self,
        actor: &Actor,
        deployment: &Deployment,
        jobs: &[NewJob],
        now: Timestamp,
    ) -> StoreResult<DeploymentId> {
        let mut tx = self.write.begin().await.db()?;
        let mut q = Query::new(
            "INSERT INTO deployments (account_id, name, status, request, summary, run_at, created_by, \
             created_by_name, created_at, updated_at) VALUES (",
        );
        let values = q.args([
            Arg::Int(actor.account_id.0),
            text(&deployment.name),
            text(deployment.status.as_str()),
            Arg::Text(serde_json::to_string(&deployment.request).unwrap_or_default()),
            Arg::Text(serde_json::to_string(&deployment.summary).unwrap_or_default()),
            Arg::Int(deployment.run_at.0),
            Arg::OptInt(actor.admin_id.map(|a| a.0)),
            text(&actor.name),
            Arg::Int(now.0),
            Arg::Int(now.0),
        ]);
        q.push(&values).push(") RETURNING id");
        let id = DeploymentId(q.as_scalar().fetch_one(&mut *tx).await.db()?);
        self.insert_jobs(&mut tx, actor, jobs, now, Some(id)).await?;
        let details = serde_json::json!({
            "name": deployment.name,
            "items": deployment.request.items,
            "license_mode": deployment.request.license_mode,
            "jobs": jobs.len(),
            "skipped": deployment.summary.skipped.len(),
            "run_at": deployment.run_at,
        });
        record(
            &mut tx,
            actor,
            AuditRecord::new("deployment.create", "deployment", Some(id.0)).after(&details),
        )
        .await?;
        tx.commit().await.db()?;
        Ok(id)
    }

    async fn get_deployment(&self, account: AccountId, id: DeploymentId) -> StoreResult<Option<Deployment>> {
        let mut q = Query::new(SELECT);
        q.push_arg(" WHERE id = {}", Arg::Int(id.0))
            .push_arg(" AND account_id = {}", Arg::Int(account.0));
        let row: Option<Row> = q.as_query_as().fetch_optional(&self.read).await.db()?;
        Ok(row.and_then(Row::decode))
    }

    async fn list_deployments(&self, account: AccountId, limit: i64) -> StoreResult<Vec<Deployment>> {
        let mut q = Query::new(SELECT);
        q.push_arg(" WHERE account_id = {}", Arg::Int(account.0))
            .push_arg(" ORDER BY id DESC LIMIT {}", Arg::Int(limit.clamp(1, 1000)));
        let rows: Vec<Row> = q.as_query_as().fetch_all(&self.read).await.db()?;
        Ok(rows.into_iter().filter_map(Row::decode).collect())
    }

    async fn lease_deployments(&self, now: Timestamp, lease_millis: i64, limit: i64) -> StoreResult<Vec<Deployment>> {
        let lock = match self.backend {
            Backend::Postgres => " FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        };
        let mut q = Query::new("UPDATE deployments SET ");
        let now_arg = q.arg(Arg::Int(now.0));
        q.push_arg("lease_until = {}", Arg::Int(now.0 + lease_millis));
        let limit_arg = q.arg(Arg::Int(limit));
        q.push(&format!(
            " WHERE id IN (SELECT id FROM deployments WHERE status IN ('scheduled', 'licensing') \
             AND run_at <= {now_arg} AND lease_until <= {now_arg} ORDER BY id LIMIT {limit_arg}{lock}) \
             AND lease_until <= {now_arg} RETURNING id, account_id, name, status, request, summary, run_at, \
             created_by, created_by_name, created_at, updated_at"
        ));
        let rows: Vec<Row> = q.as_query_as().fetch_all(&self.write).await.db()?;
        let mut out: Vec<Deployment> = rows.into_iter().filter_map(Row::decode).collect();
        out.sort_by_key(|d| d.id);
        Ok(out)
    }

    async fn held_jobs(&self, deployment: DeploymentId) -> StoreResult<Vec<HeldJob>> {
        let mut q = Query::new("SELECT id, content_id, license_target FROM jobs WHERE ");
        q.push_arg("deployment_id = {}", Arg::Int(deployment.0))
            .push(" AND hold = 'license' AND finished_at IS NULL ORDER BY id");
        let rows: Vec<(i64, Option<String>, Option<String>)> = q.as_query_as().fetch_all(&self.write).await.db()?;
        Ok(rows
            .into_iter()
            .filter_map(|(id, content, target)| {
                Some(HeldJob {
                    job_id: JobId(id),
                    content_id: content?,
                    target: target_of(&target?)?,
                })
            })
            .collect())
    }

    async fn start_licensing(
        &self,
        deployment: &Deployment,
        operations: &[LicenseOperation],
        now: Timestamp,
    ) -> StoreResult<bool> {
        let mut tx = self.write.begin().await.db()?;
        // The lease is given up with the step done, so Apple's answer
        // (which wakes the worker) is acted on at once.
        let mut q = Query::new("UPDATE deployments SET status = 'licensing', lease_until = 0, ");
        q.push_arg("updated_at = {}", Arg::Int(now.0))
            .push_arg(" WHERE id = {} AND status = 'scheduled'", Arg::Int(deployment.id.0));
        if q.as_query().execute(&mut *tx).await.db()?.rows_affected() != 1 {
            return Ok(false);
        }
        let actor = Actor::system(deployment.account_id);
        for operation in operations {
            insert_operation_in(&mut tx, &actor, deployment.account_id, operation, Some(deployment.id)).await?;
        }
        tx.commit().await.db()?;
        Ok(true)
    }

    async fn deployment_operations(&self, deployment: DeploymentId) -> StoreResult<Vec<LicenseOperation>> {
        self.select_deployment_operations(deployment).await
    }

    async fn finish_licensing(
        &self,
        deployment: DeploymentId,
        release: &[JobId],
        fail: &[(JobId, serde_json::Value)],
        now: Timestamp,
    ) -> StoreResult<()> {
        let mut tx = self.write.begin().await.db()?;
        for chunk in release.chunks(self.backend.values_per_lookup()) {
            let mut q = Query::new("UPDATE jobs SET hold = NULL, ");
            q.push_arg("updated_at = {}", Arg::Int(now.0)).push_arg(
                " WHERE deployment_id = {} AND hold = 'license' AND id IN (",
                Arg::Int(deployment.0),
            );
            let ids = q.args(chunk.iter().map(|id| Arg::Int(id.0)));
            q.push(&ids).push(")");
            q.as_query().execute(&mut *tx).await.db()?;
        }
        fail_held(&mut tx, deployment, fail, now).await?;
        let mut q = Query::new("UPDATE deployments SET status = 'released', lease_until = 0, ");
        q.push_arg("updated_at = {}", Arg::Int(now.0)).push_arg(
            " WHERE id = {} AND status IN ('scheduled', 'licensing')",
            Arg::Int(deployment.0),
        );
        q.as_query().execute(&mut *tx).await.db()?;
        tx.commit().await.db()?;
        Ok(())
    }

    async fn fail_held_jobs(
        &self,
        deployment: DeploymentId,
        fail: &[(JobId, serde_json::Value)],
        now: Timestamp,
    ) -> StoreResult<()> {
        let mut tx = self.write.begin().await.db()?;
        fail_held(&mut tx, deployment, fail, now).await?;
        tx.commit().await.db()?;
        Ok(())
    }

    async fn set_deployment_status(
        &self,
        actor: Option<&Actor>,
        deployment: DeploymentId,
        status: DeploymentStatus,
        now: Timestamp,
    ) -> StoreResult<()> {
        let mut tx = self.write.begin().await.db()?;
        let mut q = Query::new("UPDATE deployments SET lease_until = 0, ");
        q.push_arg("status = {}", text(status.as_str()))
            .push_arg(", updated_at = {}", Arg::Int(now.0))
            .push_arg(" WHERE id = {}", Arg::Int(deployment.0));
        if let Some(actor) = actor {
            q.push_arg(" AND account_id = {}", Arg::Int(actor.account_id.0));
        }
        q.as_query().execute(&mut *tx).await.db()?;
        if let Some(actor) = actor {
            let details = serde_json::json!({ "status": status });
            record(
                &mut tx,
                actor,
                AuditRecord::new("deployment.status", "deployment", Some(deployment.0)).after(&details),
            )
            .await?;
        }
        tx.commit().await.db()?;
        Ok(())
    }
}
