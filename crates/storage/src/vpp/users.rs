//! VPP users, and the device lookups their checks need.

use haishin_domain::audit::AuditRecord;
use haishin_domain::auth::Actor;
use haishin_domain::ids::{AccountId, DeviceId, UserId, VppTokenId};
use haishin_domain::org::Device;
use haishin_domain::time_util::Timestamp;
use haishin_domain::vpp::users::{VppUser, VppUserStatus};

use crate::SqlStore;
use crate::audit::record;
use crate::rows::{DEVICE_SELECT, DeviceRow};
use crate::sql::{Arg, DbResult, Query, Result, opt_text, text};

#[derive(sqlx::FromRow)]
struct UserRow {
    token_id: i64,
    client_user_id: String,
    user_id: Option<i64>,
    email: Option<String>,
    status: String,
    invite_code: Option<String>,
    id_hash: Option<String>,
    invited_at: Option<i64>,
    updated_at: i64,
}

impl From<UserRow> for VppUser {
    fn from(r: UserRow) -> Self {
        VppUser {
            token_id: VppTokenId(r.token_id),
            client_user_id: r.client_user_id,
            user_id: r.user_id.map(UserId),
            email: r.email,
            status: VppUserStatus::parse(&r.status),
            invite_code: r.invite_code,
            id_hash: r.id_hash,
            invited_at: r.invited_at.map(Timestamp),
            updated_at: Timestamp(r.updated_at),
        }
    }
}

impl SqlStore {
    pub(crate) async fn upsert_vpp_user(
        &self,
        actor: Option<&Actor>,
        account: AccountId,
        user: &VppUser,
    ) -> Result<()> {
        let mut tx = self.write.begin().await.db()?;
        let mut q = Query::new(
            "INSERT INTO vpp_users (token_id, account_id, client_user_id, user_id, email, status, invite_code, \
             id_hash, invited_at, updated_at) VALUES (",
        );
        let values = q.args([
            Arg::Int(user.token_id.0),
            Arg::Int(account.0),
            text(&user.client_user_id),
            Arg::OptInt(user.user_id.map(|u| u.0)),
            opt_text(&user.email),
            text(user.status.as_str()),
            opt_text(&user.invite_code),
            opt_text(&user.id_hash),
            Arg::OptInt(user.invited_at.map(|t| t.0)),
            Arg::Int(user.updated_at.0),
        ]);
        q.push(&values).push(
            ") ON CONFLICT (token_id, client_user_id) DO UPDATE SET \
             user_id = COALESCE(excluded.user_id, vpp_users.user_id), email = excluded.email, \
             status = excluded.status, invite_code = excluded.invite_code, id_hash = excluded.id_hash, \
             invited_at = excluded.invited_at, updated_at = excluded.updated_at",
        );
        q.as_query().execute(&mut *tx).await.db()?;
        if let Some(actor) = actor {
            let audit = AuditRecord::new("vpp_user.update", "vpp_user", user.user_id.map(|u| u.0)).after(user);
            record(&mut tx, actor, audit).await?;
        }
        tx.commit().await.db()
    }

    pub(crate) async fn select_vpp_users(&self, account: AccountId, token: VppTokenId) -> Result<Vec<VppUser>> {
        let mut q = Query::new(
            "SELECT token_id, client_user_id, user_id, email, status, invite_code, id_hash, invited_at, updated_at \
             FROM vpp_users WHERE ",
        );
        q.push_arg("account_id = {}", Arg::Int(account.0))
            .push_arg(" AND token_id = {}", Arg::Int(token.0))
            .push(" ORDER BY client_user_id");
        let rows: Vec<UserRow> = q.as_query_as().fetch_all(&self.read).await.db()?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    pub(crate) async fn select_devices_of_owner(&self, account: AccountId, owner: UserId) -> Result<Vec<Device>> {
        let mut q = Query::new(DEVICE_SELECT);
        q.push_arg(" WHERE d.account_id = {}", Arg::Int(account.0))
            .push_arg(" AND d.owner_id = {}", Arg::Int(owner.0))
            .push(" ORDER BY d.device_number");
        let rows: Vec<DeviceRow> = q.as_query_as().fetch_all(&self.read).await.db()?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    pub(crate) async fn select_devices_with_apple_account(
        &self,
        account: AccountId,
        hash: &str,
    ) -> Result<Vec<DeviceId>> {
        let mut q = Query::new("SELECT id FROM devices WHERE ");
        q.push_arg("account_id = {}", Arg::Int(account.0))
            .push_arg(" AND itunes_store_account_hash = {}", text(hash))
            .push(" ORDER BY id");
        let ids: Vec<i64> = q.as_scalar().fetch_all(&self.read).await.db()?;
        Ok(ids.into_iter().map(DeviceId).collect())
    }
}

impl SqlStore {
    pub(crate) async fn write_auto_assign(
        &self,
        actor: &Actor,
        group: haishin_domain::ids::GroupId,
        token: Option<VppTokenId>,
    ) -> Result<()> {
        let mut tx = self.write.begin().await.db()?;
        let mut q = Query::new("DELETE FROM vpp_group_auto_assign WHERE ");
        q.push_arg("group_id = {}", Arg::Int(group.0))
            .push_arg(" AND account_id = {}", Arg::Int(actor.account_id.0));
        q.as_query().execute(&mut *tx).await.db()?;
        if let Some(token) = token {
            let mut q = Query::new("INSERT INTO vpp_group_auto_assign (group_id, account_id, token_id) VALUES (");
            let values = q.args([Arg::Int(group.0), Arg::Int(actor.account_id.0), Arg::Int(token.0)]);
            q.push(&values).push(")");
            q.as_query().execute(&mut *tx).await.db()?;
        }
        let audit = AuditRecord::new("vpp_group.auto_assign", "group", Some(group.0))
            .after(&serde_json::json!({ "token_id": token }));
        record(&mut tx, actor, audit).await?;
        tx.commit().await.db()
    }

    pub(crate) async fn select_auto_assign(
        &self,
        account: AccountId,
    ) -> Result<Vec<(haishin_domain::ids::GroupId, VppTokenId)>> {
        let mut q = Query::new("SELECT group_id, token_id FROM vpp_group_auto_assign WHERE ");
        q.push_arg("account_id = {}", Arg::Int(account.0));
        let rows: Vec<(i64, i64)> = q.as_query_as().fetch_all(&self.read).await.db()?;
        Ok(rows
            .into_iter()
            .map(|(g, t)| (haishin_domain::ids::GroupId(g), VppTokenId(t)))
            .collect())
    }
}
