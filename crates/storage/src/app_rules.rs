//! App rules (auto-install and self-service, SPEC D5), the claims that say
//! which devices a rule or an automatic update was applied to, and the
//! per-app opt-out of automatic updates.

use std::collections::HashSet;

use haishin_domain::audit::AuditRecord;
use haishin_domain::auth::Actor;
use haishin_domain::deploy::{AppRule, AppRuleInput, DeploymentClaims, RuleMode, TargetOs};
use haishin_domain::ids::{AccountId, AppRuleId, DeploymentId, DeviceId, GroupId, JobId, VppTokenId};
use haishin_domain::jobs::NewJob;
use haishin_domain::org::Device;
use haishin_domain::org::search::GroupScope;
use haishin_domain::time_util::Timestamp;
use sqlx::AnyConnection;

use crate::SqlStore;
use crate::audit::record;
use crate::groups::push_scope;
use crate::rows::{DEVICE_SELECT, DeviceRow};
use crate::sql::{Arg, DbResult, Query, Result, text};

const RULE_SELECT: &str = "SELECT id, account_id, token_id, adam_id, mode, target_os, group_id, include_subgroups, \
    options, enabled, created_by_name, created_at, updated_at FROM app_rules";

/// Ids per `IN (...)` list, well under both databases' parameter limits.
const IDS_PER_QUERY: usize = 500;

#[derive(sqlx::FromRow)]
struct RuleRow {
    id: i64,
    account_id: i64,
    token_id: i64,
    adam_id: String,
    mode: String,
    target_os: String,
    group_id: Option<i64>,
    include_subgroups: i64,
    options: String,
    enabled: i64,
    created_by_name: String,
    created_at: i64,
    updated_at: i64,
}

impl RuleRow {
    fn decode(self) -> Option<AppRule> {
        let target_os: TargetOs = serde_json::from_value(serde_json::Value::String(self.target_os)).ok()?;
        Some(AppRule {
            id: AppRuleId(self.id),
            account_id: AccountId(self.account_id),
            input: AppRuleInput {
                token_id: VppTokenId(self.token_id),
                adam_id: self.adam_id,
                mode: RuleMode::parse(&self.mode)?,
                target_os,
                group_id: self.group_id.map(GroupId),
                include_subgroups: self.include_subgroups != 0,
                options: serde_json::from_str(&self.options)
                    .map_err(|e| tracing::error!(rule = self.id, "undecodable rule options: {e}"))
                    .ok()?,
                enabled: self.enabled != 0,
            },
            created_by_name: self.created_by_name,
            created_at: Timestamp(self.created_at),
            updated_at: Timestamp(self.updated_at),
        })
    }
}

fn target_os_text(os: TargetOs) -> String {
    match os {
        TargetOs::Ios => "ios",
        TargetOs::Macos => "macos",
    }
    .to_owned()
}

fn rule_details(rule: &AppRule) -> serde_json::Value {
    serde_json::json!({
        "adam_id": rule.input.adam_id,
        "mode": rule.input.mode,
        "group_id": rule.input.group_id,
        "include_subgroups": rule.input.include_subgroups,
        "enabled": rule.input.enabled,
    })
}

/// Writes claims in the caller's transaction. With `renew_finished`, a
/// device's earlier claim under the key goes first when none of its jobs is
/// unfinished; an unfinished one stays and the insert fails, so two taps
/// never make two deployments.
pub(crate) async fn insert_claims(
    conn: &mut AnyConnection,
    account: AccountId,
    claims: &DeploymentClaims,
    deployment: Option<DeploymentId>,
    now: Timestamp,
) -> Result<()> {
    for device in &claims.devices {
        if claims.renew_finished {
            let mut q = Query::new("DELETE FROM deployment_claims WHERE ");
            q.push_arg("claim_key = {}", text(&claims.key))
                .push_arg(" AND device_id = {}", Arg::Int(device.0))
                .push(
                    " AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.deployment_id = deployment_claims.deployment_id \
                     AND j.device_id = deployment_claims.device_id AND j.finished_at IS NULL)",
                );
            q.as_query().execute(&mut *conn).await.db()?;
        }
    }
    for chunk in claims.devices.chunks(IDS_PER_QUERY / 5) {
        let mut q = Query::new(
            "INSERT INTO deployment_claims (account_id, claim_key, device_id, deployment_id, claimed_at) VALUES ",
        );
        let rows: Vec<String> = chunk
            .iter()
            .map(|device| {
                format!(
                    "({})",
                    q.args([
                        Arg::Int(account.0),
                        text(&claims.key),
                        Arg::Int(device.0),
                        Arg::OptInt(deployment.map(|d| d.0)),
                        Arg::Int(now.0),
                    ])
                )
            })
            .collect();
        q.push(&rows.join(", "));
        q.as_query().execute(&mut *conn).await.db()?;
    }
    Ok(())
}

impl SqlStore {
    pub(crate) async fn select_devices_by_ids(&self, account: AccountId, ids: &[DeviceId]) -> Result<Vec<Device>> {
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(IDS_PER_QUERY) {
            let mut q = Query::new(DEVICE_SELECT);
            q.push_arg(" WHERE d.account_id = {}", Arg::Int(account.0));
            let list = q.args(chunk.iter().map(|id| Arg::Int(id.0)));
            q.push(&format!(" AND d.id IN ({list})"));
            let rows: Vec<DeviceRow> = q.as_query_as().fetch_all(&self.read).await.db()?;
            out.extend(rows.into_iter().map(Device::from));
        }
        Ok(out)
    }

    pub(crate) async fn write_claims(
        &self,
        actor: &Actor,
        claims: &DeploymentClaims,
        deployment: Option<DeploymentId>,
        now: Timestamp,
    ) -> Result<()> {
        let mut tx = self.write.begin().await.db()?;
        insert_claims(&mut tx, actor.account_id, claims, deployment, now).await?;
        tx.commit().await.db()?;
        Ok(())
    }

    pub(crate) async fn drop_claims(&self, actor: &Actor, key: &str) -> Result<u64> {
        let mut tx = self.write.begin().await.db()?;
        let mut q = Query::new("DELETE FROM deployment_claims WHERE ");
        q.push_arg("account_id = {}", Arg::Int(actor.account_id.0))
            .push_arg(" AND claim_key = {}", text(key));
        let released = q.as_query().execute(&mut *tx).await.db()?.rows_affected();
        let details = serde_json::json!({ "claim_key": key, "released": released });
        record(
            &mut tx,
            actor,
            AuditRecord::new("app_rule.reapply", "app_rule", None).after(&details),
        )
        .await?;
        tx.commit().await.db()?;
        Ok(released)
    }

    pub(crate) async fn count_claims(&self, account: AccountId, key: &str) -> Result<i64> {
        let mut q = Query::new("SELECT COUNT(*) FROM deployment_claims WHERE ");
        q.push_arg("account_id = {}", Arg::Int(account.0))
            .push_arg(" AND claim_key = {}", text(key));
        q.as_scalar().fetch_one(&self.read).await.db()
    }

    pub(crate) async fn select_claimed(&self, account: AccountId, key: &str) -> Result<HashSet<DeviceId>> {
        let mut q = Query::new("SELECT device_id FROM deployment_claims WHERE ");
        q.push_arg("account_id = {}", Arg::Int(account.0))
            .push_arg(" AND claim_key = {}", text(key));
        let ids: Vec<i64> = q.as_scalar().fetch_all(&self.read).await.db()?;
        Ok(ids.into_iter().map(DeviceId).collect())
    }

    pub(crate) async fn select_unfinished_devices(
        &self,
        account: AccountId,
        content_id: &str,
    ) -> Result<HashSet<DeviceId>> {
        let mut q = Query::new("SELECT DISTINCT device_id FROM jobs WHERE ");
        q.push_arg("account_id = {}", Arg::Int(account.0))
            .push_arg(" AND content_id = {}", text(content_id))
            .push(" AND finished_at IS NULL");
        let ids: Vec<i64> = q.as_scalar().fetch_all(&self.read).await.db()?;
        Ok(ids.into_iter().map(DeviceId).collect())
    }

    pub(crate) async fn write_new_rule(&self, actor: &Actor, rule: &AppRule) -> Result<AppRuleId> {
        let mut tx = self.write.begin().await.db()?;
        let mut q = Query::new(
            "INSERT INTO app_rules (account_id, token_id, adam_id, mode, target_os, group_id, include_subgroups, \
             options, enabled, created_by_name, created_at, updated_at) VALUES (",
        );
        let input = &rule.input;
        let values = q.args([
            Arg::Int(actor.account_id.0),
            Arg::Int(input.token_id.0),
            text(&input.adam_id),
            text(input.mode.as_str()),
            Arg::Text(target_os_text(input.target_os)),
            Arg::OptInt(input.group_id.map(|g| g.0)),
            Arg::Int(input.include_subgroups.into()),
            Arg::Text(serde_json::to_string(&input.options).unwrap_or_default()),
            Arg::Int(input.enabled.into()),
            text(&actor.name),
            Arg::Int(rule.created_at.0),
            Arg::Int(rule.updated_at.0),
        ]);
        q.push(&values).push(") RETURNING id");
        let id = AppRuleId(q.as_scalar().fetch_one(&mut *tx).await.db()?);
        record(
            &mut tx,
            actor,
            AuditRecord::new("app_rule.create", "app_rule", Some(id.0)).after(&rule_details(rule)),
        )
        .await?;
        tx.commit().await.db()?;
        Ok(id)
    }

    pub(crate) async fn write_rule(&self, actor: &Actor, rule: &AppRule) -> Result<()> {
        let mut tx = self.write.begin().await.db()?;
        let input = &rule.input;
        let mut q = Query::new("UPDATE app_rules SET ");
        q.push_arg("token_id = {}", Arg::Int(input.token_id.0))
            .push_arg(", adam_id = {}", text(&input.adam_id))
            .push_arg(", mode = {}", text(input.mode.as_str()))
            .push_arg(", target_os = {}", Arg::Text(target_os_text(input.target_os)))
            .push_arg(", group_id = {}", Arg::OptInt(input.group_id.map(|g| g.0)))
            .push_arg(", include_subgroups = {}", Arg::Int(input.include_subgroups.into()))
            .push_arg(
                ", options = {}",
                Arg::Text(serde_json::to_string(&input.options).unwrap_or_default()),
            )
            .push_arg(", enabled = {}", Arg::Int(input.enabled.into()))
            .push_arg(", updated_at = {}", Arg::Int(rule.updated_at.0))
            .push_arg(" WHERE id = {}", Arg::Int(rule.id.0))
            .push_arg(" AND account_id = {}", Arg::Int(actor.account_id.0));
        q.as_query().execute(&mut *tx).await.db()?;
        record(
            &mut tx,
            actor,
            AuditRecord::new("app_rule.update", "app_rule", Some(rule.id.0)).after(&rule_details(rule)),
        )
        .await?;
        tx.commit().await.db()?;
        Ok(())
    }

    pub(crate) async fn remove_rule(&self, actor: &Actor, rule: &AppRule) -> Result<()> {
        let mut tx = self.write.begin().await.db()?;
        let mut q = Query::new("DELETE FROM deployment_claims WHERE ");
        q.push_arg("account_id = {}", Arg::Int(actor.account_id.0))
            .push_arg(" AND claim_key = {}", text(&rule.claim_key()));
        q.as_query().execute(&mut *tx).await.db()?;
        let mut q = Query::new("DELETE FROM app_rules WHERE ");
        q.push_arg("id = {}", Arg::Int(rule.id.0))
            .push_arg(" AND account_id = {}", Arg::Int(actor.account_id.0));
        q.as_query().execute(&mut *tx).await.db()?;
        record(
            &mut tx,
            actor,
            AuditRecord::new("app_rule.delete", "app_rule", Some(rule.id.0)).before(&rule_details(rule)),
        )
        .await?;
        tx.commit().await.db()?;
        Ok(())
    }

    pub(crate) async fn select_rule(&self, account: AccountId, id: AppRuleId) -> Result<Option<AppRule>> {
        let mut q = Query::new(RULE_SELECT);
        q.push_arg(" WHERE id = {}", Arg::Int(id.0))
            .push_arg(" AND account_id = {}", Arg::Int(account.0));
        let row: Option<RuleRow> = q.as_query_as().fetch_optional(&self.read).await.db()?;
        Ok(row.and_then(RuleRow::decode))
    }

    pub(crate) async fn select_rules(
        &self,
        account: Option<AccountId>,
        auto_enabled_only: bool,
    ) -> Result<Vec<AppRule>> {
        let mut q = Query::new(RULE_SELECT);
        q.push(" WHERE 1 = 1");
        if let Some(account) = account {
            q.push_arg(" AND account_id = {}", Arg::Int(account.0));
        }
        if auto_enabled_only {
            q.push_arg(" AND enabled = 1 AND mode = {}", text(RuleMode::AutoInstall.as_str()));
        }
        q.push(" ORDER BY id");
        let rows: Vec<RuleRow> = q.as_query_as().fetch_all(&self.read).await.db()?;
        Ok(rows.into_iter().filter_map(RuleRow::decode).collect())
    }

    pub(crate) async fn select_rule_candidates(
        &self,
        account: AccountId,
        scope: &GroupScope,
        key: &str,
        limit: i64,
    ) -> Result<Vec<DeviceId>> {
        let mut q = Query::new("SELECT d.id FROM devices d WHERE ");
        q.push_arg("d.account_id = {}", Arg::Int(account.0));
        push_scope(&mut q, account, scope, "d.group_id");
        q.push(" AND d.enrollment_state = 'enrolled' AND d.delete_at IS NULL")
            .push(
                " AND EXISTS (SELECT 1 FROM device_inventory i WHERE i.device_id = d.id AND i.kind = 'installed_apps')",
            )
            .push_arg(
                " AND NOT EXISTS (SELECT 1 FROM deployment_claims c WHERE c.claim_key = {} AND c.device_id = d.id)",
                text(key),
            )
            .push_arg(" ORDER BY d.id LIMIT {}", Arg::Int(limit));
        let ids: Vec<i64> = q.as_scalar().fetch_all(&self.read).await.db()?;
        Ok(ids.into_iter().map(DeviceId).collect())
    }

    pub(crate) async fn set_delete_at(
        &self,
        actor: &Actor,
        device: DeviceId,
        delete_at: Timestamp,
        jobs: &[NewJob],
        now: Timestamp,
    ) -> Result<Option<Vec<JobId>>> {
        let mut tx = self.write.begin().await.db()?;
        let mut q = Query::new("UPDATE devices SET ");
        q.push_arg("delete_at = {}", Arg::Int(delete_at.0))
            .push_arg(" WHERE id = {}", Arg::Int(device.0))
            .push_arg(" AND account_id = {}", Arg::Int(actor.account_id.0))
            .push(" AND delete_at IS NULL");
        if q.as_query().execute(&mut *tx).await.db()?.rows_affected() != 1 {
            return Ok(None);
        }
        let ids = self.insert_jobs(&mut tx, actor, jobs, now, None).await?;
        let details = serde_json::json!({ "remove_auto_installed_apps": true, "delete_at": delete_at });
        record(
            &mut tx,
            actor,
            AuditRecord::new("device.delete_requested", "device", Some(device.0)).after(&details),
        )
        .await?;
        tx.commit().await.db()?;
        Ok(Some(ids))
    }

    pub(crate) async fn select_devices_to_delete(
        &self,
        now: Timestamp,
        limit: i64,
    ) -> Result<Vec<(AccountId, DeviceId)>> {
        let mut q = Query::new("SELECT d.account_id, d.id FROM devices d WHERE d.delete_at IS NOT NULL AND (");
        q.push_arg("d.delete_at <= {}", Arg::Int(now.0))
            .push(" OR NOT EXISTS (SELECT 1 FROM jobs j WHERE j.device_id = d.id AND j.finished_at IS NULL))")
            .push_arg(" ORDER BY d.id LIMIT {}", Arg::Int(limit));
        let rows: Vec<(i64, i64)> = q.as_query_as().fetch_all(&self.read).await.db()?;
        Ok(rows.into_iter().map(|(a, d)| (AccountId(a), DeviceId(d))).collect())
    }

    pub(crate) async fn select_update_opt_outs(&self, account: AccountId) -> Result<HashSet<(VppTokenId, String)>> {
        let mut q = Query::new("SELECT token_id, adam_id FROM app_update_opt_outs WHERE ");
        q.push_arg("account_id = {}", Arg::Int(account.0));
        let rows: Vec<(i64, String)> = q.as_query_as().fetch_all(&self.read).await.db()?;
        Ok(rows.into_iter().map(|(t, a)| (VppTokenId(t), a)).collect())
    }

    pub(crate) async fn write_auto_update(
        &self,
        actor: &Actor,
        token: VppTokenId,
        adam_id: &str,
        enabled: bool,
    ) -> Result<()> {
        let mut tx = self.write.begin().await.db()?;
        let mut q = Query::new("DELETE FROM app_update_opt_outs WHERE ");
        q.push_arg("token_id = {}", Arg::Int(token.0))
            .push_arg(" AND adam_id = {}", text(adam_id))
            .push_arg(" AND account_id = {}", Arg::Int(actor.account_id.0));
        q.as_query().execute(&mut *tx).await.db()?;
        if !enabled {
            let mut q = Query::new("INSERT INTO app_update_opt_outs (account_id, token_id, adam_id) VALUES (");
            let values = q.args([Arg::Int(actor.account_id.0), Arg::Int(token.0), text(adam_id)]);
            q.push(&values).push(")");
            q.as_query().execute(&mut *tx).await.db()?;
        }
        let details = serde_json::json!({ "token_id": token, "adam_id": adam_id, "auto_update": enabled });
        record(
            &mut tx,
            actor,
            AuditRecord::new("app.auto_update", "vpp_token", Some(token.0)).after(&details),
        )
        .await?;
        tx.commit().await.db()?;
        Ok(())
    }
}
