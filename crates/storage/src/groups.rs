//! The group tree. Each group stores its ancestors' ids as a path so that a
//! subtree is one prefix match; moving a group rewrites its subtree's paths
//! in the same transaction.

use haishin_domain::DomainError;
use haishin_domain::audit::AuditRecord;
use haishin_domain::auth::Actor;
use haishin_domain::ids::{AccountId, GroupId};
use haishin_domain::org::Group;
use haishin_domain::org::search::GroupScope;
use haishin_domain::time_util::now_millis;

use crate::SqlStore;
use crate::audit::record;
use crate::rows::{GROUP_COLUMNS, GroupRow};
use crate::sql::{Arg, DbResult, Query, Result, text};

impl SqlStore {
    pub(crate) async fn select_groups(&self, account: AccountId, id: Option<GroupId>) -> Result<Vec<Group>> {
        let mut q = Query::new(&format!("SELECT {GROUP_COLUMNS} FROM org_groups WHERE "));
        q.push_arg("account_id = {}", Arg::Int(account.0));
        if let Some(id) = id {
            q.push_arg(" AND id = {}", Arg::Int(id.0));
        }
        q.push(" ORDER BY id_path");
        let rows: Vec<GroupRow> = q.as_query_as().fetch_all(&self.read).await.db()?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    pub(crate) async fn insert_group(&self, actor: &Actor, parent: &Group, name: &str) -> Result<Group> {
        let mut tx = self.write.begin().await.db()?;
        let mut q = Query::new("INSERT INTO org_groups (account_id, parent_id, name, id_path, created_at) VALUES (");
        q.push_arg("{}, ", Arg::Int(actor.account_id.0))
            .push_arg("{}, ", Arg::Int(parent.id.0))
            .push_arg("{}, '', ", text(name))
            .push_arg("{}) RETURNING id", Arg::Int(now_millis()));
        let id: i64 = q.as_scalar().fetch_one(&mut *tx).await.db()?;
        let mut q = Query::new("UPDATE org_groups SET ");
        q.push_arg("id_path = {}", Arg::Text(parent.child_id_path(GroupId(id))))
            .push_arg(" WHERE id = {} RETURNING ", Arg::Int(id))
            .push(GROUP_COLUMNS);
        let group: Group = q.as_query_as::<GroupRow>().fetch_one(&mut *tx).await.db()?.into();
        record(
            &mut tx,
            actor,
            AuditRecord::new("group.create", "group", Some(id)).after(&audit_view(&group)),
        )
        .await?;
        tx.commit().await.db()?;
        Ok(group)
    }

    pub(crate) async fn change_group(
        &self,
        actor: &Actor,
        before: &Group,
        name: &str,
        parent: &Group,
    ) -> Result<Group> {
        let mut tx = self.write.begin().await.db()?;
        let moving = before.parent_id.is_some() && before.parent_id != Some(parent.id);
        let new_path = if moving {
            parent.child_id_path(before.id)
        } else {
            before.id_path.clone()
        };
        if moving {
            // Re-prefix the whole subtree, the group itself included.
            let mut q = Query::new("UPDATE org_groups SET id_path = ");
            let new_prefix = q.arg(Arg::Text(new_path.clone()));
            let cut = q.arg(Arg::Int(before.id_path.len() as i64 + 1));
            q.push(&format!(
                "{new_prefix} || SUBSTR(id_path, CAST({cut} AS INTEGER)) WHERE "
            ))
            .push_arg("account_id = {}", Arg::Int(actor.account_id.0))
            .push_arg(" AND id_path LIKE {}", Arg::Text(format!("{}%", before.id_path)));
            q.as_query().execute(&mut *tx).await.db()?;
        }
        let mut q = Query::new("UPDATE org_groups SET ");
        q.push_arg("name = {}", text(name));
        if before.parent_id.is_some() {
            q.push_arg(", parent_id = {}", Arg::Int(parent.id.0));
        }
        q.push_arg(" WHERE id = {}", Arg::Int(before.id.0))
            .push_arg(" AND account_id = {} RETURNING ", Arg::Int(actor.account_id.0))
            .push(GROUP_COLUMNS);
        let after: Group = q.as_query_as::<GroupRow>().fetch_one(&mut *tx).await.db()?.into();
        debug_assert_eq!(after.id_path, new_path);
        let action = if moving { "group.move" } else { "group.rename" };
        record(
            &mut tx,
            actor,
            AuditRecord::new(action, "group", Some(before.id.0))
                .before(&audit_view(before))
                .after(&audit_view(&after)),
        )
        .await?;
        tx.commit().await.db()?;
        Ok(after)
    }

    pub(crate) async fn count_group_contents(&self, account: AccountId, id: GroupId) -> Result<(i64, i64, i64)> {
        contents_query(account, id)
            .as_query_as()
            .fetch_one(&self.read)
            .await
            .db()
    }

    pub(crate) async fn remove_group(&self, actor: &Actor, group: &Group) -> Result<()> {
        let mut tx = self.write.begin().await.db()?;
        // Checked again inside the transaction: a device may have been added
        // since the service looked.
        let (subgroups, users, devices): (i64, i64, i64) = contents_query(actor.account_id, group.id)
            .as_query_as()
            .fetch_one(&mut *tx)
            .await
            .db()?;
        if subgroups + users + devices > 0 {
            return Err(DomainError::GroupNotEmpty {
                subgroups,
                users,
                devices,
            });
        }
        let mut q = Query::new("DELETE FROM org_groups WHERE ");
        q.push_arg("id = {}", Arg::Int(group.id.0))
            .push_arg(" AND account_id = {}", Arg::Int(actor.account_id.0));
        q.as_query().execute(&mut *tx).await.db()?;
        record(
            &mut tx,
            actor,
            AuditRecord::new("group.delete", "group", Some(group.id.0)).before(&audit_view(group)),
        )
        .await?;
        tx.commit().await.db()
    }
}

/// (subgroups, users, devices) directly in a group.
fn contents_query(account: AccountId, id: GroupId) -> Query {
    let mut q = Query::new("SELECT ");
    let account_arg = q.arg(Arg::Int(account.0));
    let id_arg = q.arg(Arg::Int(id.0));
    q.push(&format!(
        "(SELECT COUNT(*) FROM org_groups WHERE account_id = {account_arg} AND parent_id = {id_arg}), \
         (SELECT COUNT(*) FROM users WHERE account_id = {account_arg} AND group_id = {id_arg}), \
         (SELECT COUNT(*) FROM devices WHERE account_id = {account_arg} AND group_id = {id_arg})"
    ));
    q
}

/// The audit log shows a group's parent along with its name (the id path is
/// an internal detail and is not serialised).
fn audit_view(group: &Group) -> serde_json::Value {
    serde_json::json!({ "id": group.id, "name": group.name, "parent_id": group.parent_id })
}

/// Appends the SQL condition for a group scope on `column` (a group id).
pub(crate) fn push_scope(q: &mut Query, account: AccountId, scope: &GroupScope, column: &str) {
    match scope {
        GroupScope::All => {}
        GroupScope::Exactly(id) => {
            q.push_arg(&format!(" AND {column} = {{}}"), Arg::Int(id.0));
        }
        GroupScope::Subtree(path) => {
            let account_arg = q.arg(Arg::Int(account.0));
            let path_arg = q.arg(Arg::Text(format!("{path}%")));
            q.push(&format!(
                " AND {column} IN (SELECT id FROM org_groups WHERE account_id = {account_arg} AND id_path LIKE {path_arg})"
            ));
        }
    }
}
