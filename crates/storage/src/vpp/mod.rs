//! Apps and Books records: tokens here, assets and licenses in [`assets`],
//! operations in [`operations`].

mod assets;
pub(crate) mod operations;
mod users;

use haishin_domain::audit::AuditRecord;
use haishin_domain::auth::Actor;
use haishin_domain::ids::{AccountId, GroupId, VppTokenId};
use haishin_domain::time_util::Timestamp;
use haishin_domain::vpp::{ExpiryNoticeSettings, OtherManager, StoredVppToken, TokenStatus, VppToken};
use haishin_secrets::Sealed;
use sqlx::AnyConnection;

use crate::SqlStore;
use crate::audit::record;
use crate::sql::{Arg, DbResult, Query, Result, opt_text, text};

const TOKEN_COLUMNS: &str = "id, account_id, location_uid, location_name, org_name, expires_at, status, other_manager, \
    country, default_platform, notifications, notice_enabled, notice_addresses, last_sync_at, last_sync_error, \
    registered_at, registered_by, renewed_at, sealed_token, mdm_id, sealed_notification_secret, assignments_version";

#[derive(sqlx::FromRow)]
struct TokenRow {
    id: i64,
    account_id: i64,
    location_uid: String,
    location_name: String,
    org_name: String,
    expires_at: i64,
    status: String,
    other_manager: Option<String>,
    country: String,
    default_platform: String,
    notifications: i64,
    notice_enabled: i64,
    notice_addresses: String,
    last_sync_at: Option<i64>,
    last_sync_error: Option<String>,
    registered_at: i64,
    registered_by: String,
    renewed_at: Option<i64>,
    sealed_token: Vec<u8>,
    mdm_id: String,
    sealed_notification_secret: Option<Vec<u8>>,
    assignments_version: Option<String>,
}

impl TokenRow {
    fn into_stored(self, group_ids: Vec<GroupId>) -> StoredVppToken {
        StoredVppToken {
            account_id: AccountId(self.account_id),
            token: VppToken {
                id: VppTokenId(self.id),
                location_uid: self.location_uid,
                location_name: self.location_name,
                org_name: self.org_name,
                expires_at: Timestamp(self.expires_at),
                // An unknown status can only come from a newer server
                // version; treating it as "other MDM" keeps writes off.
                status: TokenStatus::parse(&self.status).unwrap_or(TokenStatus::OtherMdm),
                other_manager: self
                    .other_manager
                    .and_then(|m| serde_json::from_str::<OtherManager>(&m).ok()),
                country: self.country,
                default_platform: self.default_platform,
                group_ids,
                notifications: self.notifications != 0,
                expiry_notice: ExpiryNoticeSettings {
                    enabled: self.notice_enabled != 0,
                    addresses: serde_json::from_str(&self.notice_addresses).unwrap_or_default(),
                },
                last_sync_at: self.last_sync_at.map(Timestamp),
                last_sync_error: self.last_sync_error,
                registered_at: Timestamp(self.registered_at),
                registered_by: self.registered_by,
                renewed_at: self.renewed_at.map(Timestamp),
            },
            sealed_token: Sealed::from_stored(self.sealed_token),
            mdm_id: self.mdm_id,
            sealed_notification_secret: self.sealed_notification_secret.map(Sealed::from_stored),
            assignments_version: self.assignments_version,
        }
    }
}

fn json_text(value: &[String]) -> Arg {
    Arg::Text(serde_json::to_string(value).unwrap_or_default())
}

/// The audited view of a token: never its secrets.
fn audit_view(token: &VppToken) -> serde_json::Value {
    serde_json::to_value(token).unwrap_or_default()
}

async fn write_groups(conn: &mut AnyConnection, token: VppTokenId, groups: &[GroupId]) -> Result<()> {
    let mut q = Query::new("DELETE FROM vpp_token_groups WHERE ");
    q.push_arg("token_id = {}", Arg::Int(token.0));
    q.as_query().execute(&mut *conn).await.db()?;
    for (position, group) in groups.iter().enumerate() {
        let mut q = Query::new("INSERT INTO vpp_token_groups (token_id, group_id, position) VALUES (");
        let values = q.args([Arg::Int(token.0), Arg::Int(group.0), Arg::Int(position as i64)]);
        q.push(&values).push(")");
        q.as_query().execute(&mut *conn).await.db()?;
    }
    Ok(())
}

impl SqlStore {
    pub(crate) async fn insert_vpp_token_row(&self, actor: &Actor, stored: &StoredVppToken) -> Result<VppTokenId> {
        let t = &stored.token;
        let mut tx = self.write.begin().await.db()?;
        let mut q = Query::new(
            "INSERT INTO vpp_tokens (account_id, location_uid, location_name, org_name, expires_at, status, \
             other_manager, country, default_platform, notifications, notice_enabled, notice_addresses, \
             registered_at, registered_by, sealed_token, mdm_id, sealed_notification_secret) VALUES (",
        );
        let values = q.args([
            Arg::Int(stored.account_id.0),
            text(&t.location_uid),
            text(&t.location_name),
            text(&t.org_name),
            Arg::Int(t.expires_at.0),
            text(t.status.as_str()),
            Arg::OptText(
                t.other_manager
                    .as_ref()
                    .map(|m| serde_json::to_string(m).unwrap_or_default()),
            ),
            text(&t.country),
            text(&t.default_platform),
            Arg::Int(t.notifications as i64),
            Arg::Int(t.expiry_notice.enabled as i64),
            json_text(&t.expiry_notice.addresses),
            Arg::Int(t.registered_at.0),
            text(&t.registered_by),
            Arg::Bytes(stored.sealed_token.as_bytes().to_vec()),
            text(&stored.mdm_id),
            Arg::OptBytes(
                stored
                    .sealed_notification_secret
                    .as_ref()
                    .map(|s| s.as_bytes().to_vec()),
            ),
        ]);
        q.push(&values);
        q.push(") RETURNING id");
        let id: i64 = q.as_scalar().fetch_one(&mut *tx).await.db()?;
        write_groups(&mut tx, VppTokenId(id), &t.group_ids).await?;
        let mut view = t.clone();
        view.id = VppTokenId(id);
        record(
            &mut tx,
            actor,
            AuditRecord::new("vpp_token.register", "vpp_token", Some(id)).after(&audit_view(&view)),
        )
        .await?;
        tx.commit().await.db()?;
        Ok(VppTokenId(id))
    }

    pub(crate) async fn update_vpp_token_row(
        &self,
        actor: Option<&Actor>,
        action: &'static str,
        stored: &StoredVppToken,
    ) -> Result<()> {
        let t = &stored.token;
        let mut tx = self.write.begin().await.db()?;
        let before = select_tokens(&mut tx, "id = {}", Arg::Int(t.id.0)).await?.pop();
        let mut q = Query::new("UPDATE vpp_tokens SET ");
        q.push_arg("location_name = {}", text(&t.location_name))
            .push_arg(", org_name = {}", text(&t.org_name))
            .push_arg(", expires_at = {}", Arg::Int(t.expires_at.0))
            .push_arg(", status = {}", text(t.status.as_str()))
            .push_arg(
                ", other_manager = {}",
                Arg::OptText(
                    t.other_manager
                        .as_ref()
                        .map(|m| serde_json::to_string(m).unwrap_or_default()),
                ),
            )
            .push_arg(", country = {}", text(&t.country))
            .push_arg(", default_platform = {}", text(&t.default_platform))
            .push_arg(", notifications = {}", Arg::Int(t.notifications as i64))
            .push_arg(", notice_enabled = {}", Arg::Int(t.expiry_notice.enabled as i64))
            .push_arg(", notice_addresses = {}", json_text(&t.expiry_notice.addresses))
            .push_arg(", last_sync_at = {}", Arg::OptInt(t.last_sync_at.map(|x| x.0)))
            .push_arg(", last_sync_error = {}", opt_text(&t.last_sync_error))
            .push_arg(", renewed_at = {}", Arg::OptInt(t.renewed_at.map(|x| x.0)))
            .push_arg(
                ", sealed_token = {}",
                Arg::Bytes(stored.sealed_token.as_bytes().to_vec()),
            )
            .push_arg(", assignments_version = {}", opt_text(&stored.assignments_version))
            .push_arg(" WHERE id = {}", Arg::Int(t.id.0))
            .push_arg(" AND account_id = {}", Arg::Int(stored.account_id.0));
        q.as_query().execute(&mut *tx).await.db()?;
        let groups_changed = before.as_ref().is_none_or(|b| b.token.group_ids != t.group_ids);
        if groups_changed {
            write_groups(&mut tx, t.id, &t.group_ids).await?;
        }
        if let Some(actor) = actor {
            let mut audit = AuditRecord::new(action, "vpp_token", Some(t.id.0)).after(&audit_view(t));
            if let Some(before) = &before {
                audit = audit.before(&audit_view(&before.token));
            }
            record(&mut tx, actor, audit).await?;
        }
        tx.commit().await.db()
    }

    pub(crate) async fn select_vpp_tokens(&self, filter: &str, arg: Arg) -> Result<Vec<StoredVppToken>> {
        let mut conn = self.read.acquire().await.db()?;
        select_tokens(&mut conn, filter, arg).await
    }

    pub(crate) async fn select_location_accounts(&self, location_uid: &str) -> Result<Vec<AccountId>> {
        let mut q = Query::new("SELECT DISTINCT account_id FROM vpp_tokens WHERE ");
        q.push_arg("location_uid = {}", text(location_uid));
        let rows: Vec<i64> = q.as_scalar().fetch_all(&self.read).await.db()?;
        Ok(rows.into_iter().map(AccountId).collect())
    }

    pub(crate) async fn select_mdm_id_account(&self, mdm_id: &str) -> Result<Option<AccountId>> {
        let mut q = Query::new("SELECT account_id FROM vpp_tokens WHERE ");
        q.push_arg("mdm_id = {}", text(mdm_id));
        let row: Option<i64> = q.as_scalar().fetch_optional(&self.read).await.db()?;
        Ok(row.map(AccountId))
    }

    pub(crate) async fn delete_vpp_token_row(&self, actor: &Actor, id: VppTokenId) -> Result<bool> {
        let mut tx = self.write.begin().await.db()?;
        let before = select_tokens(&mut tx, "id = {}", Arg::Int(id.0))
            .await?
            .into_iter()
            .find(|t| t.account_id == actor.account_id);
        let Some(before) = before else {
            return Ok(false);
        };
        // Children first: SQLite's foreign keys cascade, but deleting in
        // order keeps both backends' work explicit and bounded.
        for table in [
            "vpp_notifications_seen",
            "vpp_expiry_notices",
            "vpp_users",
            "vpp_operation_events",
            "vpp_operations",
            "vpp_licenses",
            "vpp_assets",
            "vpp_token_groups",
        ] {
            let mut q = Query::new(&format!("DELETE FROM {table} WHERE "));
            q.push_arg("token_id = {}", Arg::Int(id.0));
            q.as_query().execute(&mut *tx).await.db()?;
        }
        let mut q = Query::new("DELETE FROM vpp_tokens WHERE ");
        q.push_arg("id = {}", Arg::Int(id.0))
            .push_arg(" AND account_id = {}", Arg::Int(actor.account_id.0));
        q.as_query().execute(&mut *tx).await.db()?;
        record(
            &mut tx,
            actor,
            AuditRecord::new("vpp_token.delete", "vpp_token", Some(id.0)).before(&audit_view(&before.token)),
        )
        .await?;
        tx.commit().await.db()?;
        Ok(true)
    }
}

/// Tokens matching `filter` (one `{}` placeholder), with their groups.
async fn select_tokens(conn: &mut AnyConnection, filter: &str, arg: Arg) -> Result<Vec<StoredVppToken>> {
    let mut q = Query::new(&format!("SELECT {TOKEN_COLUMNS} FROM vpp_tokens WHERE "));
    q.push_arg(filter, arg).push(" ORDER BY id");
    let rows: Vec<TokenRow> = q.as_query_as().fetch_all(&mut *conn).await.db()?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let mut q = Query::new("SELECT group_id FROM vpp_token_groups WHERE ");
        q.push_arg("token_id = {}", Arg::Int(row.id)).push(" ORDER BY position");
        let groups: Vec<i64> = q.as_scalar().fetch_all(&mut *conn).await.db()?;
        out.push(row.into_stored(groups.into_iter().map(GroupId).collect()));
    }
    Ok(out)
}
