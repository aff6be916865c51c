//! Users (device owners).

use std::collections::HashMap;

use haishin_domain::audit::AuditRecord;
use haishin_domain::auth::Actor;
use haishin_domain::csv::users::UserUpsert;
use haishin_domain::ids::{AccountId, UserId};
use haishin_domain::org::search::{GroupScope, like_pattern, page_window};
use haishin_domain::org::{ImportSummary, Page, User, UserInput, UserSearch};
use haishin_domain::time_util::now_millis;

use crate::audit::record;
use crate::groups::push_scope;
use crate::import::sort_rows;
use crate::rows::{USER_COLUMNS, UserRow};
use crate::sql::{Arg, DbResult, Query, Result, opt_text, text};
use crate::{Backend, SqlStore};

const USER_RETURNING: &str =
    "id, account_id, group_id, employee_number, name, email, phone1, phone2, created_at, updated_at";

/// The columns an admin sets, in one place for insert, update and import.
fn user_values(input: &UserInput) -> [(&'static str, Arg); 6] {
    [
        ("group_id", Arg::Int(input.group_id.0)),
        ("employee_number", text(&input.employee_number)),
        ("name", text(&input.name)),
        ("email", opt_text(&input.email)),
        ("phone1", opt_text(&input.phone1)),
        ("phone2", opt_text(&input.phone2)),
    ]
}

fn input_of(user: &User) -> UserInput {
    UserInput {
        group_id: user.group_id,
        employee_number: user.employee_number.clone(),
        name: user.name.clone(),
        email: user.email.clone(),
        phone1: user.phone1.clone(),
        phone2: user.phone2.clone(),
    }
}

impl SqlStore {
    pub(crate) async fn find_users(
        &self,
        account: AccountId,
        search: &UserSearch,
        scope: &GroupScope,
    ) -> Result<Page<User>> {
        let (page, per_page, limit, offset) = page_window(search.page, search.per_page);
        let mut filter = Query::new(" FROM users u WHERE ");
        filter.push_arg("u.account_id = {}", Arg::Int(account.0));
        push_scope(&mut filter, account, scope, "u.group_id");
        if let Some(keyword) = search.q.as_deref().filter(|k| !k.trim().is_empty()) {
            let pattern = filter.arg(Arg::Text(like_pattern(keyword)));
            let like = self.backend.case_insensitive_like();
            let conditions: Vec<String> = ["u.name", "u.employee_number", "u.email", "u.phone1", "u.phone2"]
                .iter()
                .map(|c| format!("{c} {like} {pattern} ESCAPE '\\'"))
                .collect();
            filter.push(&format!(" AND ({})", conditions.join(" OR ")));
        }
        let mut count = Query::new("SELECT COUNT(*)");
        count.append(&filter);
        let total: i64 = count.as_scalar().fetch_one(&self.read).await.db()?;
        let mut rows = Query::new(&format!("SELECT {USER_COLUMNS}"));
        rows.append(&filter);
        rows.push(" ORDER BY u.employee_number");
        rows.push_arg(" LIMIT {}", Arg::Int(limit))
            .push_arg(" OFFSET {}", Arg::Int(offset));
        let items: Vec<UserRow> = rows.as_query_as().fetch_all(&self.read).await.db()?;
        Ok(Page {
            items: items.into_iter().map(Into::into).collect(),
            total,
            page,
            per_page,
        })
    }

    pub(crate) async fn select_users(
        &self,
        account: AccountId,
        scope: &GroupScope,
        id: Option<UserId>,
    ) -> Result<Vec<User>> {
        let mut q = Query::new(&format!("SELECT {USER_COLUMNS} FROM users u WHERE "));
        q.push_arg("u.account_id = {}", Arg::Int(account.0));
        push_scope(&mut q, account, scope, "u.group_id");
        if let Some(id) = id {
            q.push_arg(" AND u.id = {}", Arg::Int(id.0));
        }
        q.push(" ORDER BY u.employee_number");
        let rows: Vec<UserRow> = q.as_query_as().fetch_all(&self.read).await.db()?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    pub(crate) async fn insert_user(&self, actor: &Actor, input: &UserInput) -> Result<User> {
        let mut tx = self.write.begin().await.db()?;
        insert_users(&mut tx, self.backend, actor, std::slice::from_ref(input)).await?;
        let user = fetch_user_by_employee_number(&mut tx, actor.account_id, &input.employee_number).await?;
        record(
            &mut tx,
            actor,
            AuditRecord::new("user.create", "user", Some(user.id.0)).after(&user),
        )
        .await?;
        tx.commit().await.db()?;
        Ok(user)
    }

    pub(crate) async fn change_user(&self, actor: &Actor, before: &User, input: &UserInput) -> Result<User> {
        let mut tx = self.write.begin().await.db()?;
        let after = update_user(&mut tx, actor, before.id, input).await?;
        record(
            &mut tx,
            actor,
            AuditRecord::new("user.update", "user", Some(before.id.0))
                .before(before)
                .after(&after),
        )
        .await?;
        tx.commit().await.db()?;
        Ok(after)
    }

    pub(crate) async fn remove_user(&self, actor: &Actor, user: &User) -> Result<()> {
        let mut tx = self.write.begin().await.db()?;
        let mut q = Query::new("DELETE FROM users WHERE ");
        q.push_arg("id = {}", Arg::Int(user.id.0))
            .push_arg(" AND account_id = {}", Arg::Int(actor.account_id.0));
        q.as_query().execute(&mut *tx).await.db()?;
        record(
            &mut tx,
            actor,
            AuditRecord::new("user.delete", "user", Some(user.id.0)).before(user),
        )
        .await?;
        tx.commit().await.db()
    }

    pub(crate) async fn employee_numbers(&self, account: AccountId) -> Result<HashMap<String, UserId>> {
        let mut q = Query::new("SELECT employee_number, id FROM users WHERE ");
        q.push_arg("account_id = {}", Arg::Int(account.0));
        let rows: Vec<(String, i64)> = q.as_query_as().fetch_all(&self.read).await.db()?;
        Ok(rows.into_iter().map(|(n, id)| (n, UserId(id))).collect())
    }

    pub(crate) async fn apply_user_import(&self, actor: &Actor, rows: &[UserUpsert]) -> Result<ImportSummary> {
        let mut tx = self.write.begin().await.db()?;
        let current: HashMap<UserId, User> = {
            let mut q = Query::new(&format!("SELECT {USER_COLUMNS} FROM users u WHERE "));
            q.push_arg("u.account_id = {}", Arg::Int(actor.account_id.0));
            let rows: Vec<UserRow> = q.as_query_as().fetch_all(&mut *tx).await.db()?;
            rows.into_iter().map(|r| (UserId(r.id), r.into())).collect()
        };
        let sorted = sort_rows(rows.iter().map(|r| (r.existing, &r.input)), &current, input_of);
        let mut changed = Vec::with_capacity(sorted.changed.len());
        for (user, input) in &sorted.changed {
            update_user(&mut tx, actor, user.id, input).await?;
            changed.push(input.employee_number.clone());
        }
        insert_users(&mut tx, self.backend, actor, &sorted.new).await?;
        let creates = &sorted.new;
        let summary = ImportSummary {
            created: creates.len(),
            updated: sorted.changed.len(),
            unchanged: sorted.unchanged,
        };
        let created: Vec<&str> = creates.iter().map(|c| c.employee_number.as_str()).collect();
        let details = serde_json::json!({ "summary": summary, "created": created, "updated": changed });
        record(
            &mut tx,
            actor,
            AuditRecord::new("user.import", "user", None).after(&details),
        )
        .await?;
        tx.commit().await.db()?;
        Ok(summary)
    }
}

async fn fetch_user_by_employee_number(
    conn: &mut sqlx::AnyConnection,
    account: AccountId,
    employee_number: &str,
) -> Result<User> {
    let mut q = Query::new(&format!("SELECT {USER_COLUMNS} FROM users u WHERE "));
    q.push_arg("u.account_id = {}", Arg::Int(account.0))
        .push_arg(" AND u.employee_number = {}", text(employee_number));
    let row: UserRow = q.as_query_as().fetch_one(&mut *conn).await.db()?;
    Ok(row.into())
}

/// Inserts users in batches. No `RETURNING` (see `insert_devices`).
async fn insert_users(
    conn: &mut sqlx::AnyConnection,
    backend: Backend,
    actor: &Actor,
    inputs: &[UserInput],
) -> Result<()> {
    for chunk in inputs.chunks(backend.rows_per_insert()) {
        insert_user_rows(conn, actor, chunk).await?;
    }
    Ok(())
}

async fn insert_user_rows(conn: &mut sqlx::AnyConnection, actor: &Actor, inputs: &[UserInput]) -> Result<()> {
    let now = now_millis();
    let mut q = Query::new("INSERT INTO users (account_id, created_at, updated_at");
    for (column, _) in user_values(&inputs[0]) {
        q.push(", ").push(column);
    }
    q.push(") VALUES ");
    for (i, input) in inputs.iter().enumerate() {
        if i > 0 {
            q.push(", ");
        }
        let mut values = vec![
            q.arg(Arg::Int(actor.account_id.0)),
            q.arg(Arg::Int(now)),
            q.arg(Arg::Int(now)),
        ];
        values.extend(user_values(input).into_iter().map(|(_, v)| q.arg(v)));
        q.push(&format!("({})", values.join(", ")));
    }
    q.as_query().execute(&mut *conn).await.db()?;
    Ok(())
}

async fn update_user(conn: &mut sqlx::AnyConnection, actor: &Actor, id: UserId, input: &UserInput) -> Result<User> {
    let mut q = Query::new("UPDATE users SET ");
    q.push_arg("updated_at = {}", Arg::Int(now_millis()));
    for (column, value) in user_values(input) {
        q.push_arg(&format!(", {column} = {{}}"), value);
    }
    q.push_arg(" WHERE id = {}", Arg::Int(id.0))
        .push_arg(" AND account_id = {} RETURNING ", Arg::Int(actor.account_id.0))
        .push(USER_RETURNING);
    let row: UserRow = q.as_query_as().fetch_one(&mut *conn).await.db()?;
    Ok(row.into())
}
