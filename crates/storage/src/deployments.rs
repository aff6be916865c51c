//! Deployments: the record, its jobs written with it, the worker's lease,
//! and the transactions that move it through licensing.

use async_trait::async_trait;
use haishin_domain::audit::AuditRecord;
use haishin_domain::auth::Actor;
use std::collections::HashSet;

use haishin_domain::deploy::{AppRule, Deployment, DeploymentClaims, DeploymentStatus, DeploymentStore, HeldJob};
use haishin_domain::ids::{AccountId, AdminId, AppRuleId, DeploymentId, DeviceId, JobId, VppTokenId};
use haishin_domain::jobs::{JobHold, JobStatus, NewJob};
use haishin_domain::org::Device;
use haishin_domain::org::search::GroupScope;
use haishin_domain::store::StoreResult;
use haishin_domain::time_util::Timestamp;
use haishin_domain::vpp::LicenseOperation;
use sqlx::AnyConnection;

use crate::app_rules::insert_claims;
use crate::audit::record;
use crate::job_content::target_of;
use crate::sql::{Arg, DbResult, Query, Result, text};
use crate::vpp::operations::insert_operation_in;
use crate::{Backend, SqlStore};

/// The columns [`Row`] reads, for SELECT and RETURNING alike.
macro_rules! columns {
    () => {
        "id, account_id, name, status, request, summary, run_at, created_by, created_by_name, created_at, updated_at, origin"
    };
}
const COLUMNS: &str = columns!();
const SELECT: &str = concat!("SELECT ", columns!(), " FROM deployments");

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
    origin: Option<String>,
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
            origin: self.origin.as_deref().and_then(|o| serde_json::from_str(o).ok()),
        })
    }
}

fn held_rows(rows: Vec<(i64, Option<String>, Option<String>)>) -> Vec<HeldJob> {
    rows.into_iter()
        .filter_map(|(id, content, target)| {
            Some(HeldJob {
                job_id: JobId(id),
                content_id: content?,
                target: target_of(&target?)?,
            })
        })
        .collect()
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
        claims: Option<&DeploymentClaims>,
        now: Timestamp,
    ) -> StoreResult<DeploymentId> {
        let mut tx = self.write.begin().await.db()?;
        let mut q = Query::new(
            "INSERT INTO deployments (account_id, name, status, request, summary, run_at, created_by, \
             created_by_name, created_at, updated_at, origin) VALUES (",
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
            Arg::OptText(deployment.origin.as_ref().and_then(|o| serde_json::to_string(o).ok())),
        ]);
        q.push(&values).push(") RETURNING id");
        let id = DeploymentId(q.as_scalar().fetch_one(&mut *tx).await.db()?);
        if let Some(claims) = claims {
            insert_claims(&mut tx, actor.account_id, claims, Some(id), now).await?;
        }
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
        let mut q = Query::new("");
        let now_arg = q.arg(Arg::Int(now.0));
        let until_arg = q.arg(Arg::Int(now.0 + lease_millis));
        let limit_arg = q.arg(Arg::Int(limit));
        // A materialized pick, as in the job queue's claim (jobs.rs): an
        // `id IN (... LIMIT n FOR UPDATE SKIP LOCKED)` may be run again per
        // updated row by PostgreSQL and take more than n.
        q.push(&format!(
            "WITH picked AS MATERIALIZED (SELECT id FROM deployments d WHERE ((status IN ('scheduled', 'licensing') \
             AND run_at <= {now_arg}) OR (status = 'canceled' AND EXISTS (SELECT 1 FROM jobs j \
             WHERE j.deployment_id = d.id AND j.hold = 'license' AND j.status = 'canceled'))) \
             AND lease_until <= {now_arg} ORDER BY id LIMIT {limit_arg}{lock}) \
             UPDATE deployments SET lease_until = {until_arg} \
             WHERE id IN (SELECT id FROM picked) AND lease_until <= {now_arg} RETURNING {COLUMNS}"
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
        Ok(held_rows(rows))
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

    async fn canceled_holds(&self, deployment: DeploymentId) -> StoreResult<Vec<HeldJob>> {
        let mut q = Query::new("SELECT id, content_id, license_target FROM jobs WHERE ");
        q.push_arg("deployment_id = {}", Arg::Int(deployment.0))
            .push(" AND hold = 'license' AND status = 'canceled' ORDER BY id");
        let rows: Vec<(i64, Option<String>, Option<String>)> = q.as_query_as().fetch_all(&self.write).await.db()?;
        Ok(held_rows(rows))
    }

    async fn settle_canceled_holds(
        &self,
        deployment: &Deployment,
        reclaim: &[LicenseOperation],
        jobs: &[JobId],
        now: Timestamp,
    ) -> StoreResult<()> {
        let mut tx = self.write.begin().await.db()?;
        for chunk in jobs.chunks(self.backend.values_per_lookup()) {
            let mut q = Query::new("UPDATE jobs SET hold = NULL, ");
            q.push_arg("updated_at = {}", Arg::Int(now.0)).push_arg(
                " WHERE deployment_id = {} AND hold = 'license' AND status = 'canceled' AND id IN (",
                Arg::Int(deployment.id.0),
            );
            let list = q.args(chunk.iter().map(|id| Arg::Int(id.0)));
            q.push(&list).push(")");
            q.as_query().execute(&mut *tx).await.db()?;
        }
        let actor = Actor::system(deployment.account_id);
        for operation in reclaim {
            insert_operation_in(&mut tx, &actor, deployment.account_id, operation, Some(deployment.id)).await?;
        }
        tx.commit().await.db()?;
        Ok(())
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

    async fn deployments_job_counts(
        &self,
        account: AccountId,
        deployments: &[DeploymentId],
    ) -> StoreResult<Vec<(DeploymentId, JobStatus, Option<JobHold>, i64)>> {
        self.count_jobs_of_deployments(account, deployments).await
    }

    async fn devices_by_ids(&self, account: AccountId, ids: &[DeviceId]) -> StoreResult<Vec<Device>> {
        self.select_devices_by_ids(account, ids).await
    }

    async fn claim_devices(
        &self,
        actor: &Actor,
        claims: &DeploymentClaims,
        deployment: Option<DeploymentId>,
        now: Timestamp,
    ) -> StoreResult<()> {
        self.write_claims(actor, claims, deployment, now).await
    }

    async fn release_claims(&self, actor: &Actor, key: &str) -> StoreResult<u64> {
        self.drop_claims(actor, key).await
    }

    async fn claim_count(&self, account: AccountId, key: &str) -> StoreResult<i64> {
        self.count_claims(account, key).await
    }

    async fn claimed_devices(&self, account: AccountId, key: &str) -> StoreResult<HashSet<DeviceId>> {
        self.select_claimed(account, key).await
    }

    async fn devices_with_unfinished(&self, account: AccountId, content_id: &str) -> StoreResult<HashSet<DeviceId>> {
        self.select_unfinished_devices(account, content_id).await
    }

    async fn insert_app_rule(&self, actor: &Actor, rule: &AppRule) -> StoreResult<AppRuleId> {
        self.write_new_rule(actor, rule).await
    }

    async fn update_app_rule(&self, actor: &Actor, rule: &AppRule) -> StoreResult<()> {
        self.write_rule(actor, rule).await
    }

    async fn delete_app_rule(&self, actor: &Actor, rule: &AppRule) -> StoreResult<()> {
        self.remove_rule(actor, rule).await
    }

    async fn get_app_rule(&self, account: AccountId, id: AppRuleId) -> StoreResult<Option<AppRule>> {
        self.select_rule(account, id).await
    }

    async fn list_app_rules(&self, account: AccountId) -> StoreResult<Vec<AppRule>> {
        self.select_rules(Some(account), false).await
    }

    async fn enabled_auto_install_rules(&self) -> StoreResult<Vec<AppRule>> {
        self.select_rules(None, true).await
    }

    async fn rule_candidates(
        &self,
        account: AccountId,
        scope: &GroupScope,
        key: &str,
        limit: i64,
    ) -> StoreResult<Vec<DeviceId>> {
        self.select_rule_candidates(account, scope, key, limit).await
    }

    async fn mark_device_for_deletion(
        &self,
        actor: &Actor,
        device: DeviceId,
        delete_at: Timestamp,
        jobs: &[NewJob],
        now: Timestamp,
    ) -> StoreResult<Option<Vec<JobId>>> {
        self.set_delete_at(actor, device, delete_at, jobs, now).await
    }

    async fn devices_to_delete(&self, now: Timestamp, limit: i64) -> StoreResult<Vec<(AccountId, DeviceId)>> {
        self.select_devices_to_delete(now, limit).await
    }

    async fn auto_update_opt_outs(&self, account: AccountId) -> StoreResult<HashSet<(VppTokenId, String)>> {
        self.select_update_opt_outs(account).await
    }

    async fn set_auto_update(&self, actor: &Actor, token: VppTokenId, adam_id: &str, enabled: bool) -> StoreResult<()> {
        self.write_auto_update(actor, token, adam_id, enabled).await
    }
}
