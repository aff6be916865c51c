//! Accounts, admins, API tokens and console sessions.

use haishin_domain::DomainError;
use haishin_domain::audit::AuditRecord;
use haishin_domain::auth::{Account, Actor, Admin, ApiToken};
use haishin_domain::error::Entity;
use haishin_domain::ids::{AccountId, AdminId, ApiTokenId};
use haishin_domain::org::Group;
use haishin_domain::store::{AdminUpdate, NewAdmin};
use haishin_domain::time_util::{Timestamp, now_millis};

use crate::SqlStore;
use crate::audit::record;
use crate::rows::*;
use crate::sql::{Arg, DbResult, Query, Result, text};

/// Last-used times are for people ("was this token used this month?"):
/// refreshing them at most once a minute keeps API reads from becoming writes.
const LAST_USED_RESOLUTION_MILLIS: i64 = 60_000;

impl SqlStore {
    pub(crate) async fn insert_account(&self, name: &str) -> Result<(Account, Group)> {
        let now = now_millis();
        let mut tx = self.write.begin().await.db()?;
        let mut q = Query::new("INSERT INTO accounts (name, created_at) VALUES (");
        q.push_arg("{}, ", text(name))
            .push_arg("{}) RETURNING id, name, created_at", Arg::Int(now));
        let account: Account = q.as_query_as::<AccountRow>().fetch_one(&mut *tx).await.db()?.into();
        let mut q = Query::new("INSERT INTO org_groups (account_id, parent_id, name, id_path, created_at) VALUES (");
        q.push_arg("{}, NULL, ", Arg::Int(account.id.0))
            .push_arg("{}, '', ", text(name))
            .push_arg("{}) RETURNING id", Arg::Int(now));
        let group_id: i64 = q.as_scalar().fetch_one(&mut *tx).await.db()?;
        let mut q = Query::new("UPDATE org_groups SET id_path = ");
        q.push_arg("{} WHERE ", Arg::Text(format!("/{group_id}/")))
            .push_arg("id = {} RETURNING ", Arg::Int(group_id))
            .push(GROUP_COLUMNS);
        let root: Group = q.as_query_as::<GroupRow>().fetch_one(&mut *tx).await.db()?.into();
        let actor = Actor::system(account.id);
        record(
            &mut tx,
            &actor,
            AuditRecord::new("account.create", "account", Some(account.id.0)).after(&account),
        )
        .await?;
        tx.commit().await.db()?;
        Ok((account, root))
    }

    pub(crate) async fn select_accounts(&self, id: Option<AccountId>) -> Result<Vec<Account>> {
        let mut q = Query::new("SELECT id, name, created_at FROM accounts");
        if let Some(id) = id {
            q.push_arg(" WHERE id = {}", Arg::Int(id.0));
        }
        q.push(" ORDER BY id");
        let rows: Vec<AccountRow> = q.as_query_as().fetch_all(&self.read).await.db()?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    pub(crate) async fn insert_admin(&self, actor: &Actor, admin: NewAdmin) -> Result<Admin> {
        let mut tx = self.write.begin().await.db()?;
        let mut q = Query::new(
            "INSERT INTO admins (account_id, login, display_name, role, password_hash, created_at) VALUES (",
        );
        let values = [
            Arg::Int(admin.account_id.0),
            text(&admin.login),
            text(&admin.display_name),
            text(admin.role.as_str()),
            text(&admin.password_hash),
            Arg::Int(now_millis()),
        ];
        let placeholders = q.args(values);
        q.push(&placeholders).push(") RETURNING ").push(ADMIN_RETURNING);
        let created: Admin = q.as_query_as::<AdminRow>().fetch_one(&mut *tx).await.db()?.into();
        record(
            &mut tx,
            actor,
            AuditRecord::new("admin.create", "admin", Some(created.id.0)).after(&created),
        )
        .await?;
        tx.commit().await.db()?;
        Ok(created)
    }

    pub(crate) async fn select_admins(&self, account: AccountId, id: Option<AdminId>) -> Result<Vec<Admin>> {
        let mut q = Query::new(&format!("SELECT {ADMIN_COLUMNS} FROM admins a WHERE "));
        q.push_arg("a.account_id = {}", Arg::Int(account.0));
        if let Some(id) = id {
            q.push_arg(" AND a.id = {}", Arg::Int(id.0));
        }
        q.push(" ORDER BY a.id");
        let rows: Vec<AdminRow> = q.as_query_as().fetch_all(&self.read).await.db()?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    pub(crate) async fn change_admin(&self, actor: &Actor, before: &Admin, update: AdminUpdate) -> Result<Admin> {
        let mut tx = self.write.begin().await.db()?;
        let mut q = Query::new("UPDATE admins SET ");
        q.push_arg("display_name = {}, ", text(&update.display_name))
            .push_arg("role = {}", text(update.role.as_str()));
        if let Some(hash) = &update.password_hash {
            q.push_arg(", password_hash = {}", text(hash));
        }
        q.push_arg(" WHERE id = {}", Arg::Int(before.id.0))
            .push_arg(" AND account_id = {} RETURNING ", Arg::Int(actor.account_id.0))
            .push(ADMIN_RETURNING);
        let after: Admin = q
            .as_query_as::<AdminRow>()
            .fetch_optional(&mut *tx)
            .await
            .db()?
            .ok_or(DomainError::not_found(Entity::Admin))?
            .into();
        if update.password_hash.is_some() {
            // A new password ends every open console session of that admin.
            let mut q = Query::new("DELETE FROM sessions WHERE ");
            q.push_arg("admin_id = {}", Arg::Int(before.id.0));
            q.as_query().execute(&mut *tx).await.db()?;
        }
        let mut audit = AuditRecord::new("admin.update", "admin", Some(before.id.0))
            .before(before)
            .after(&after);
        if update.password_hash.is_some() {
            audit.action = "admin.update_password";
        }
        record(&mut tx, actor, audit).await?;
        tx.commit().await.db()?;
        Ok(after)
    }

    pub(crate) async fn remove_admin(&self, actor: &Actor, admin: &Admin) -> Result<()> {
        let mut tx = self.write.begin().await.db()?;
        let mut q = Query::new("DELETE FROM admins WHERE ");
        q.push_arg("id = {}", Arg::Int(admin.id.0))
            .push_arg(" AND account_id = {}", Arg::Int(actor.account_id.0));
        q.as_query().execute(&mut *tx).await.db()?;
        record(
            &mut tx,
            actor,
            AuditRecord::new("admin.delete", "admin", Some(admin.id.0)).before(admin),
        )
        .await?;
        tx.commit().await.db()
    }

    pub(crate) async fn credentials(&self, login: &str) -> Result<Option<(Admin, String)>> {
        #[derive(sqlx::FromRow)]
        struct Row {
            #[sqlx(flatten)]
            admin: AdminRow,
            password_hash: String,
        }
        let mut q = Query::new(&format!("SELECT {ADMIN_COLUMNS}, a.password_hash FROM admins a WHERE "));
        q.push_arg("a.login = {}", text(login));
        let row: Option<Row> = q.as_query_as().fetch_optional(&self.read).await.db()?;
        Ok(row.map(|r| (r.admin.into(), r.password_hash)))
    }

    pub(crate) async fn insert_api_token(
        &self,
        actor: &Actor,
        admin: AdminId,
        name: &str,
        prefix: &str,
        digest: &str,
    ) -> Result<ApiToken> {
        let mut tx = self.write.begin().await.db()?;
        let mut q =
            Query::new("INSERT INTO api_tokens (account_id, admin_id, name, prefix, digest, created_at) VALUES (");
        let values = [
            Arg::Int(actor.account_id.0),
            Arg::Int(admin.0),
            text(name),
            text(prefix),
            text(digest),
            Arg::Int(now_millis()),
        ];
        let placeholders = q.args(values);
        q.push(&placeholders).push(") RETURNING ").push(TOKEN_COLUMNS);
        let token: ApiToken = q.as_query_as::<TokenRow>().fetch_one(&mut *tx).await.db()?.into();
        record(
            &mut tx,
            actor,
            AuditRecord::new("api_token.create", "api_token", Some(token.id.0)).after(&token),
        )
        .await?;
        tx.commit().await.db()?;
        Ok(token)
    }

    pub(crate) async fn select_api_tokens(
        &self,
        account: AccountId,
        admin: Option<AdminId>,
        id: Option<ApiTokenId>,
    ) -> Result<Vec<ApiToken>> {
        let mut q = Query::new(&format!("SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE "));
        q.push_arg("account_id = {}", Arg::Int(account.0));
        if let Some(admin) = admin {
            q.push_arg(" AND admin_id = {}", Arg::Int(admin.0));
        }
        if let Some(id) = id {
            q.push_arg(" AND id = {}", Arg::Int(id.0));
        }
        q.push(" ORDER BY id");
        let rows: Vec<TokenRow> = q.as_query_as().fetch_all(&self.read).await.db()?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    pub(crate) async fn remove_api_token(&self, actor: &Actor, token: &ApiToken) -> Result<()> {
        let mut tx = self.write.begin().await.db()?;
        let mut q = Query::new("DELETE FROM api_tokens WHERE ");
        q.push_arg("id = {}", Arg::Int(token.id.0))
            .push_arg(" AND account_id = {}", Arg::Int(actor.account_id.0));
        q.as_query().execute(&mut *tx).await.db()?;
        record(
            &mut tx,
            actor,
            AuditRecord::new("api_token.delete", "api_token", Some(token.id.0)).before(token),
        )
        .await?;
        tx.commit().await.db()
    }

    pub(crate) async fn admin_for_token(&self, digest: &str, now: Timestamp) -> Result<Option<Admin>> {
        #[derive(sqlx::FromRow)]
        struct Row {
            #[sqlx(flatten)]
            admin: AdminRow,
            token_id: i64,
            last_used_at: Option<i64>,
        }
        let mut q = Query::new(&format!(
            "SELECT {ADMIN_COLUMNS}, t.id AS token_id, t.last_used_at FROM api_tokens t \
             JOIN admins a ON a.id = t.admin_id AND a.account_id = t.account_id WHERE "
        ));
        q.push_arg("t.digest = {}", text(digest));
        let Some(row) = q.as_query_as::<Row>().fetch_optional(&self.read).await.db()? else {
            return Ok(None);
        };
        if row.last_used_at.is_none_or(|t| now.0 - t > LAST_USED_RESOLUTION_MILLIS) {
            let mut q = Query::new("UPDATE api_tokens SET ");
            q.push_arg("last_used_at = {}", Arg::Int(now.0))
                .push_arg(" WHERE id = {}", Arg::Int(row.token_id));
            q.as_query().execute(&self.write).await.db()?;
        }
        Ok(Some(row.admin.into()))
    }

    pub(crate) async fn insert_session(&self, admin: &Admin, digest: &str, expires_at: Timestamp) -> Result<()> {
        let now = now_millis();
        let mut q = Query::new("INSERT INTO sessions (digest, account_id, admin_id, created_at, expires_at) VALUES (");
        q.push_arg("{}, ", text(digest))
            .push_arg("{}, ", Arg::Int(admin.account_id.0))
            .push_arg("{}, ", Arg::Int(admin.id.0))
            .push_arg("{}, ", Arg::Int(now))
            .push_arg("{})", Arg::Int(expires_at.0));
        q.as_query().execute(&self.write).await.db()?;
        // Sweep expired sessions of everyone now and then, at no extra cost
        // to the login itself beyond one indexed delete.
        let mut q = Query::new("DELETE FROM sessions WHERE ");
        q.push_arg("expires_at < {}", Arg::Int(now));
        q.as_query().execute(&self.write).await.db()?;
        Ok(())
    }

    pub(crate) async fn admin_for_session(&self, digest: &str, now: Timestamp) -> Result<Option<Admin>> {
        let mut q = Query::new(&format!(
            "SELECT {ADMIN_COLUMNS} FROM sessions s JOIN admins a ON a.id = s.admin_id AND a.account_id = s.account_id WHERE "
        ));
        q.push_arg("s.digest = {}", text(digest))
            .push_arg(" AND s.expires_at > {}", Arg::Int(now.0));
        let row: Option<AdminRow> = q.as_query_as().fetch_optional(&self.read).await.db()?;
        Ok(row.map(Into::into))
    }

    pub(crate) async fn remove_session(&self, digest: &str) -> Result<()> {
        let mut q = Query::new("DELETE FROM sessions WHERE ");
        q.push_arg("digest = {}", text(digest));
        q.as_query().execute(&self.write).await.db()?;
        Ok(())
    }
}
