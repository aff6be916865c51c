//! License operations: their JSON body, the worker's lease, the events
//! they sent, and the notifications already seen.

use haishin_domain::audit::AuditRecord;
use haishin_domain::auth::Actor;
use haishin_domain::ids::{AccountId, VppOperationId, VppTokenId};
use haishin_domain::time_util::Timestamp;
use haishin_domain::vpp::{LicenseOperation, OperationStatus};

use crate::Backend;
use crate::SqlStore;
use crate::audit::record;
use crate::sql::{Arg, DbResult, Query, Result, text};

#[derive(sqlx::FromRow)]
struct OperationRow {
    id: i64,
    account_id: i64,
    body: String,
    notified_at: Option<i64>,
}

impl OperationRow {
    fn decode(self) -> Option<(AccountId, LicenseOperation)> {
        let mut operation: LicenseOperation = match serde_json::from_str(&self.body) {
            Ok(op) => op,
            Err(e) => {
                tracing::error!(operation = self.id, "undecodable license operation: {e}");
                return None;
            }
        };
        operation.id = VppOperationId(self.id);
        operation.notified_at = self.notified_at.map(Timestamp);
        Some((AccountId(self.account_id), operation))
    }
}

fn body_of(operation: &LicenseOperation) -> Arg {
    Arg::Text(serde_json::to_string(operation).unwrap_or_default())
}

impl SqlStore {
    pub(crate) async fn insert_operation(
        &self,
        actor: &Actor,
        account: AccountId,
        operation: &LicenseOperation,
    ) -> Result<VppOperationId> {
        let mut tx = self.write.begin().await.db()?;
        let id = insert_operation_in(&mut tx, actor, account, operation, None).await?;
        tx.commit().await.db()?;
        Ok(id)
    }

    /// Operations a deployment wrote.
    pub(crate) async fn select_deployment_operations(
        &self,
        deployment: haishin_domain::ids::DeploymentId,
    ) -> Result<Vec<LicenseOperation>> {
        let mut q = Query::new("SELECT id, account_id, body, notified_at FROM vpp_operations WHERE ");
        q.push_arg("deployment_id = {} ORDER BY id", Arg::Int(deployment.0));
        let rows: Vec<OperationRow> = q.as_query_as().fetch_all(&self.write).await.db()?;
        Ok(rows
            .into_iter()
            .filter_map(OperationRow::decode)
            .map(|(_, op)| op)
            .collect())
    }

    pub(crate) async fn update_operation(&self, operation: &LicenseOperation) -> Result<()> {
        let mut q = Query::new("UPDATE vpp_operations SET ");
        let next = q.arg(Arg::Int(operation.next_check_at.0));
        q.push_arg("status = {}", text(operation.status.as_str()))
            .push_arg(", body = {}", body_of(operation))
            // A notification that arrived while this worker held the
            // operation asks for a look now; the worker's own schedule
            // must not push it back.
            .push(&format!(
                ", next_check_at = CASE WHEN notified_at IS NOT NULL AND notified_at >= leased_at \
                 AND leased_at > 0 THEN notified_at ELSE {next} END, lease_until = 0, leased_at = 0"
            ))
            .push_arg(" WHERE id = {}", Arg::Int(operation.id.0));
        q.as_query().execute(&self.write).await.db()?;
        Ok(())
    }

    pub(crate) async fn select_operation(
        &self,
        account: AccountId,
        id: VppOperationId,
    ) -> Result<Option<LicenseOperation>> {
        let mut q = Query::new("SELECT id, account_id, body, notified_at FROM vpp_operations WHERE ");
        q.push_arg("id = {}", Arg::Int(id.0))
            .push_arg(" AND account_id = {}", Arg::Int(account.0));
        let row: Option<OperationRow> = q.as_query_as().fetch_optional(&self.read).await.db()?;
        Ok(row.and_then(OperationRow::decode).map(|(_, op)| op))
    }

    pub(crate) async fn select_operations(
        &self,
        account: AccountId,
        token: VppTokenId,
    ) -> Result<Vec<LicenseOperation>> {
        let mut q = Query::new("SELECT id, account_id, body, notified_at FROM vpp_operations WHERE ");
        q.push_arg("token_id = {}", Arg::Int(token.0))
            .push_arg(" AND account_id = {}", Arg::Int(account.0))
            .push(" ORDER BY id DESC LIMIT 200");
        let rows: Vec<OperationRow> = q.as_query_as().fetch_all(&self.read).await.db()?;
        Ok(rows
            .into_iter()
            .filter_map(OperationRow::decode)
            .map(|(_, op)| op)
            .collect())
    }

    pub(crate) async fn lease_operations(
        &self,
        now: Timestamp,
        lease_millis: i64,
        limit: i64,
    ) -> Result<Vec<(AccountId, LicenseOperation)>> {
        let lock = match self.backend {
            Backend::Postgres => " FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        };
        let mut q = Query::new("");
        let now_arg = q.arg(Arg::Int(now.0));
        let pending = q.arg(text(OperationStatus::Pending.as_str()));
        let submitted = q.arg(text(OperationStatus::Submitted.as_str()));
        let until_arg = q.arg(Arg::Int(now.0 + lease_millis));
        let limit_arg = q.arg(Arg::Int(limit));
        // A materialized pick, as in the job queue's claim (jobs.rs): an
        // `id IN (... LIMIT n FOR UPDATE SKIP LOCKED)` may be run again per
        // updated row by PostgreSQL and take more than n.
        q.push(&format!(
            "WITH picked AS MATERIALIZED (SELECT id FROM vpp_operations WHERE status IN ({pending}, {submitted}) \
             AND next_check_at <= {now_arg} AND lease_until <= {now_arg} ORDER BY id LIMIT {limit_arg}{lock}) \
             UPDATE vpp_operations SET lease_until = {until_arg}, leased_at = {now_arg} \
             WHERE id IN (SELECT id FROM picked) AND lease_until <= {now_arg} RETURNING id, account_id, body, notified_at"
        ));
        let rows: Vec<OperationRow> = q.as_query_as().fetch_all(&self.write).await.db()?;
        let mut out: Vec<(AccountId, LicenseOperation)> = rows.into_iter().filter_map(OperationRow::decode).collect();
        out.sort_by_key(|(_, op)| op.id);
        Ok(out)
    }

    pub(crate) async fn insert_event_link(
        &self,
        token: VppTokenId,
        event_id: &str,
        operation: VppOperationId,
    ) -> Result<()> {
        let mut q = Query::new("INSERT INTO vpp_operation_events (token_id, event_id, operation_id) VALUES (");
        let values = q.args([Arg::Int(token.0), text(event_id), Arg::Int(operation.0)]);
        q.push(&values).push(") ON CONFLICT (token_id, event_id) DO NOTHING");
        q.as_query().execute(&self.write).await.db()?;
        Ok(())
    }

    pub(crate) async fn select_event_operation(
        &self,
        token: VppTokenId,
        event_id: &str,
    ) -> Result<Option<VppOperationId>> {
        let mut q = Query::new("SELECT operation_id FROM vpp_operation_events WHERE ");
        q.push_arg("token_id = {}", Arg::Int(token.0))
            .push_arg(" AND event_id = {}", text(event_id));
        let id: Option<i64> = q.as_scalar().fetch_optional(&self.read).await.db()?;
        Ok(id.map(VppOperationId))
    }

    pub(crate) async fn note_event_notified(&self, token: VppTokenId, event_id: &str, now: Timestamp) -> Result<()> {
        let mut q = Query::new("UPDATE vpp_operations SET ");
        q.push_arg("notified_at = {}", Arg::Int(now.0))
            .push_arg(", next_check_at = {}", Arg::Int(now.0))
            .push(" WHERE id IN (SELECT operation_id FROM vpp_operation_events WHERE ")
            .push_arg("token_id = {}", Arg::Int(token.0))
            .push_arg(" AND event_id = {})", text(event_id));
        q.as_query().execute(&self.write).await.db()?;
        Ok(())
    }

    pub(crate) async fn insert_notification_seen(
        &self,
        token: VppTokenId,
        notification_id: &str,
        now: Timestamp,
    ) -> Result<bool> {
        let mut q = Query::new("INSERT INTO vpp_notifications_seen (token_id, notification_id, received_at) VALUES (");
        let values = q.args([Arg::Int(token.0), text(notification_id), Arg::Int(now.0)]);
        q.push(&values)
            .push(") ON CONFLICT (token_id, notification_id) DO NOTHING");
        Ok(q.as_query().execute(&self.write).await.db()?.rows_affected() == 1)
    }
}

impl SqlStore {
    pub(crate) async fn claim_notice(
        &self,
        token: VppTokenId,
        threshold: &str,
        expires_at: Timestamp,
        now: Timestamp,
        stale_millis: i64,
    ) -> Result<bool> {
        let mut q = Query::new("INSERT INTO vpp_expiry_notices (token_id, threshold, expires_at, claimed_at) VALUES (");
        let values = q.args([
            Arg::Int(token.0),
            text(threshold),
            Arg::Int(expires_at.0),
            Arg::Int(now.0),
        ]);
        q.push(&values)
            .push(") ON CONFLICT (token_id, threshold, expires_at) DO NOTHING");
        if q.as_query().execute(&self.write).await.db()?.rows_affected() == 1 {
            return Ok(true);
        }
        let mut q = Query::new("UPDATE vpp_expiry_notices SET ");
        q.push_arg("claimed_at = {}", Arg::Int(now.0))
            .push_arg(" WHERE token_id = {}", Arg::Int(token.0))
            .push_arg(" AND threshold = {}", text(threshold))
            .push_arg(" AND expires_at = {}", Arg::Int(expires_at.0))
            .push_arg(
                " AND sent_at IS NULL AND claimed_at < {}",
                Arg::Int(now.0 - stale_millis),
            );
        Ok(q.as_query().execute(&self.write).await.db()?.rows_affected() == 1)
    }

    pub(crate) async fn finish_notice(
        &self,
        token: VppTokenId,
        threshold: &str,
        expires_at: Timestamp,
        sent_at: Option<Timestamp>,
    ) -> Result<()> {
        let mut q = match sent_at {
            Some(at) => {
                let mut q = Query::new("UPDATE vpp_expiry_notices SET ");
                q.push_arg("sent_at = {} WHERE ", Arg::Int(at.0));
                q
            }
            None => Query::new("DELETE FROM vpp_expiry_notices WHERE "),
        };
        q.push_arg("token_id = {}", Arg::Int(token.0))
            .push_arg(" AND threshold = {}", text(threshold))
            .push_arg(" AND expires_at = {}", Arg::Int(expires_at.0));
        q.as_query().execute(&self.write).await.db()?;
        Ok(())
    }
}

/// Writes a pending operation (and its audit entry) in the caller's
/// transaction, so a deployment can write its operations atomically with
/// its own progress.
pub(crate) async fn insert_operation_in(
    conn: &mut sqlx::AnyConnection,
    actor: &Actor,
    account: AccountId,
    operation: &LicenseOperation,
    deployment: Option<haishin_domain::ids::DeploymentId>,
) -> Result<VppOperationId> {
    let mut q = Query::new(
        "INSERT INTO vpp_operations (account_id, token_id, status, body, created_at, next_check_at, deployment_id) \
         VALUES (",
    );
    let values = q.args([
        Arg::Int(account.0),
        Arg::Int(operation.token_id.0),
        text(operation.status.as_str()),
        body_of(operation),
        Arg::Int(operation.created_at.0),
        Arg::Int(operation.next_check_at.0),
        Arg::OptInt(deployment.map(|d| d.0)),
    ]);
    q.push(&values).push(") RETURNING id");
    let id: i64 = q.as_scalar().fetch_one(&mut *conn).await.db()?;
    let summary = serde_json::json!({
        "token_id": operation.token_id,
        "kind": operation.kind,
        "assets": operation.assets,
        "targets": operation.targets.len(),
        "auto_assigned": operation.auto_assigned,
        "deployment_id": deployment,
    });
    record(
        conn,
        actor,
        AuditRecord::new("vpp_license.operation", "vpp_operation", Some(id)).after(&summary),
    )
    .await?;
    Ok(VppOperationId(id))
}
