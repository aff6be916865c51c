use haishin_domain::audit::{AuditEntry, AuditQuery, AuditRecord};
use haishin_domain::auth::Actor;
use haishin_domain::ids::AccountId;
use haishin_domain::time_util::now_millis;
use sqlx::AnyConnection;

use crate::SqlStore;
use crate::rows::AuditRow;
use crate::sql::{Arg, DbResult, Query, Result, opt_text};

/// Records a change inside the caller's transaction, so the entry commits or
/// rolls back with the change it describes.
pub async fn record(conn: &mut AnyConnection, actor: &Actor, record: AuditRecord) -> Result<()> {
    let json = |v: &Option<serde_json::Value>| v.as_ref().map(|v| v.to_string());
    let mut q = Query::new(
        "INSERT INTO audit_log (account_id, at, actor_admin_id, actor_name, action, target_type, target_id, before_json, after_json) VALUES (",
    );
    let args = [
        Arg::Int(actor.account_id.0),
        Arg::Int(now_millis()),
        Arg::OptInt(actor.admin_id.map(|a| a.0)),
        Arg::Text(actor.name.clone()),
        Arg::Text(record.action.to_owned()),
        Arg::Text(record.target_type.to_owned()),
        Arg::OptInt(record.target_id),
        opt_text(&json(&record.before)),
        opt_text(&json(&record.after)),
    ];
    let placeholders = q.args(args);
    q.push(&placeholders).push(")");
    q.as_query().execute(conn).await.db()?;
    Ok(())
}

impl SqlStore {
    pub(crate) async fn list_audit_entries(&self, account: AccountId, query: &AuditQuery) -> Result<Vec<AuditEntry>> {
        let mut q = Query::new(
            "SELECT id, account_id, at, actor_admin_id, actor_name, action, target_type, target_id, before_json, after_json \
             FROM audit_log WHERE ",
        );
        q.push_arg("account_id = {}", Arg::Int(account.0));
        if let Some(before) = query.before_id {
            q.push_arg(" AND id < {}", Arg::Int(before));
        }
        if let Some(target_type) = &query.target_type {
            q.push_arg(" AND target_type = {}", Arg::Text(target_type.clone()));
        }
        if let Some(target_id) = query.target_id {
            q.push_arg(" AND target_id = {}", Arg::Int(target_id));
        }
        let limit = query.limit.unwrap_or(100).clamp(1, 1000);
        q.push_arg(" ORDER BY id DESC LIMIT {}", Arg::Int(limit));
        let rows: Vec<AuditRow> = q.as_query_as().fetch_all(&self.read).await.db()?;
        Ok(rows.into_iter().map(Into::into).collect())
    }
}
