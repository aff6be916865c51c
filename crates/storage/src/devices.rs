//! Devices: search, CRUD, bulk import and export.

use std::collections::{HashMap, HashSet};

use haishin_domain::audit::AuditRecord;
use haishin_domain::auth::Actor;
use haishin_domain::csv::devices::{DeviceUpsert, ExistingDevice};
use haishin_domain::ids::{AccountId, DeviceId};
use haishin_domain::org::search::{GroupScope, like_pattern, page_window};
use haishin_domain::org::{Device, DeviceInput, DeviceSearch, ImportSummary, Page, SearchField};
use haishin_domain::time_util::now_millis;

use crate::audit::record;
use crate::groups::push_scope;
use crate::import::sort_rows;
use crate::rows::{DEVICE_SELECT, DeviceRow};
use crate::sql::{Arg, DbResult, Query, Result, opt_text, text};
use crate::{Backend, SqlStore};

/// The columns an admin sets, in one place for insert, update and import.
fn device_values(input: &DeviceInput, device_number: &str) -> [(&'static str, Arg); 14] {
    [
        ("group_id", Arg::Int(input.group_id.0)),
        ("owner_id", Arg::OptInt(input.owner_id.map(|o| o.0))),
        ("device_number", text(device_number)),
        ("display_name", text(&input.display_name)),
        ("udid", opt_text(&input.udid)),
        ("serial_number", opt_text(&input.serial_number)),
        ("wifi_mac", opt_text(&input.wifi_mac)),
        ("model", opt_text(&input.model)),
        ("product_name", opt_text(&input.product_name)),
        ("platform", Arg::OptText(input.platform.map(|p| p.as_str().to_owned()))),
        ("os_version", opt_text(&input.os_version)),
        ("notes1", text(&input.notes1)),
        ("notes2", text(&input.notes2)),
        ("notes3", text(&input.notes3)),
    ]
}

/// The admin-set view of a stored device, to tell an import row that changes
/// nothing from one that does.
fn input_of(device: &Device) -> DeviceInput {
    DeviceInput {
        group_id: device.group_id,
        device_number: Some(device.device_number.clone()),
        display_name: device.display_name.clone(),
        udid: device.udid.clone(),
        serial_number: device.serial_number.clone(),
        wifi_mac: device.wifi_mac.clone(),
        model: device.model.clone(),
        product_name: device.product_name.clone(),
        platform: device.platform,
        os_version: device.os_version.clone(),
        owner_id: device.owner_id,
        notes1: device.notes1.clone(),
        notes2: device.notes2.clone(),
        notes3: device.notes3.clone(),
    }
}

fn search_column(field: SearchField) -> &'static str {
    match field {
        SearchField::DisplayName => "d.display_name",
        SearchField::DeviceNumber => "d.device_number",
        SearchField::Udid => "d.udid",
        SearchField::WifiMac => "d.wifi_mac",
        SearchField::OsVersion => "d.os_version",
        SearchField::OwnerName => "u.name",
        SearchField::SerialNumber => "d.serial_number",
        SearchField::EmployeeNumber => "u.employee_number",
        SearchField::Phone1 => "u.phone1",
        SearchField::Phone2 => "u.phone2",
        SearchField::Email => "u.email",
        SearchField::Notes1 => "d.notes1",
        SearchField::Notes2 => "d.notes2",
        SearchField::Notes3 => "d.notes3",
    }
}

/// MAC addresses are stored as `aa:bb:…`; a keyword typed with dashes
/// should still find them.
fn keyword_for(field: SearchField, keyword: &str) -> String {
    match field {
        SearchField::WifiMac => keyword.replace('-', ":"),
        _ => keyword.to_owned(),
    }
}

impl SqlStore {
    pub(crate) async fn find_devices(
        &self,
        account: AccountId,
        search: &DeviceSearch,
        scope: &GroupScope,
    ) -> Result<Page<Device>> {
        let (page, per_page, limit, offset) = page_window(search.page, search.per_page);
        let mut filter = Query::new(" WHERE ");
        filter.push_arg("d.account_id = {}", Arg::Int(account.0));
        push_scope(&mut filter, account, scope, "d.group_id");
        if let Some(keyword) = search.q.as_deref().filter(|k| !k.trim().is_empty()) {
            let fields: Vec<SearchField> = match search.field {
                Some(field) => vec![field],
                None => SearchField::ALL.to_vec(),
            };
            let like = self.backend.case_insensitive_like();
            let conditions: Vec<String> = fields
                .iter()
                .map(|field| {
                    let pattern = filter.arg(Arg::Text(like_pattern(&keyword_for(*field, keyword))));
                    format!("{} {like} {pattern} ESCAPE '\\'", search_column(*field))
                })
                .collect();
            filter.push(&format!(" AND ({})", conditions.join(" OR ")));
        }
        let mut count = Query::new("SELECT COUNT(*) FROM devices d LEFT JOIN users u ON u.id = d.owner_id");
        count.append(&filter);
        let total: i64 = count.as_scalar().fetch_one(&self.read).await.db()?;
        let mut rows = Query::new(DEVICE_SELECT);
        rows.append(&filter);
        rows.push(" ORDER BY d.device_number");
        rows.push_arg(" LIMIT {}", Arg::Int(limit))
            .push_arg(" OFFSET {}", Arg::Int(offset));
        let items: Vec<DeviceRow> = rows.as_query_as().fetch_all(&self.read).await.db()?;
        Ok(Page {
            items: items.into_iter().map(Into::into).collect(),
            total,
            page,
            per_page,
        })
    }

    pub(crate) async fn select_devices(
        &self,
        account: AccountId,
        scope: &GroupScope,
        id: Option<DeviceId>,
    ) -> Result<Vec<Device>> {
        let mut q = Query::new(DEVICE_SELECT);
        q.push_arg(" WHERE d.account_id = {}", Arg::Int(account.0));
        push_scope(&mut q, account, scope, "d.group_id");
        if let Some(id) = id {
            q.push_arg(" AND d.id = {}", Arg::Int(id.0));
        }
        q.push(" ORDER BY d.device_number");
        let rows: Vec<DeviceRow> = q.as_query_as().fetch_all(&self.read).await.db()?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    pub(crate) async fn insert_device(&self, actor: &Actor, input: &DeviceInput) -> Result<Device> {
        let mut tx = self.write.begin().await.db()?;
        let numbers = insert_devices(&mut tx, self.backend, actor, std::slice::from_ref(input)).await?;
        let device = fetch_device_by_number(&mut tx, actor.account_id, &numbers[0]).await?;
        record(
            &mut tx,
            actor,
            AuditRecord::new("device.create", "device", Some(device.id.0)).after(&device),
        )
        .await?;
        tx.commit().await.db()?;
        Ok(device)
    }

    pub(crate) async fn change_device(&self, actor: &Actor, before: &Device, input: &DeviceInput) -> Result<Device> {
        let mut tx = self.write.begin().await.db()?;
        update_device(&mut tx, actor, before, input).await?;
        let after = fetch_device(&mut tx, actor.account_id, before.id).await?;
        record(
            &mut tx,
            actor,
            AuditRecord::new("device.update", "device", Some(before.id.0))
                .before(before)
                .after(&after),
        )
        .await?;
        tx.commit().await.db()?;
        Ok(after)
    }

    pub(crate) async fn remove_device(&self, actor: &Actor, device: &Device) -> Result<()> {
        let mut tx = self.write.begin().await.db()?;
        let mut q = Query::new("DELETE FROM devices WHERE ");
        q.push_arg("id = {}", Arg::Int(device.id.0))
            .push_arg(" AND account_id = {}", Arg::Int(actor.account_id.0));
        q.as_query().execute(&mut *tx).await.db()?;
        record(
            &mut tx,
            actor,
            AuditRecord::new("device.delete", "device", Some(device.id.0)).before(device),
        )
        .await?;
        tx.commit().await.db()
    }

    pub(crate) async fn device_keys(&self, account: AccountId) -> Result<Vec<ExistingDevice>> {
        let mut q = Query::new("SELECT id, device_number, serial_number, udid FROM devices WHERE ");
        q.push_arg("account_id = {}", Arg::Int(account.0));
        let rows: Vec<(i64, String, Option<String>, Option<String>)> =
            q.as_query_as().fetch_all(&self.read).await.db()?;
        Ok(rows
            .into_iter()
            .map(|(id, device_number, serial_number, udid)| ExistingDevice {
                id: DeviceId(id),
                device_number,
                serial_number,
                udid,
            })
            .collect())
    }

    pub(crate) async fn apply_device_import(&self, actor: &Actor, rows: &[DeviceUpsert]) -> Result<ImportSummary> {
        let mut tx = self.write.begin().await.db()?;
        let current: HashMap<DeviceId, Device> = {
            let mut q = Query::new(DEVICE_SELECT);
            q.push_arg(" WHERE d.account_id = {}", Arg::Int(actor.account_id.0));
            let rows: Vec<DeviceRow> = q.as_query_as().fetch_all(&mut *tx).await.db()?;
            rows.into_iter().map(|r| (DeviceId(r.id), r.into())).collect()
        };
        let sorted = sort_rows(rows.iter().map(|r| (r.existing, &r.input)), &current, input_of);
        let mut updated = Vec::with_capacity(sorted.changed.len());
        for (device, input) in &sorted.changed {
            update_device(&mut tx, actor, device, input).await?;
            updated.push(device.device_number.clone());
        }
        let creates = &sorted.new;
        let mut summary = ImportSummary {
            created: 0,
            updated: updated.len(),
            unchanged: sorted.unchanged,
        };
        let created = insert_devices(&mut tx, self.backend, actor, creates).await?;
        summary.created = created.len();
        let details = serde_json::json!({ "summary": summary, "created": created, "updated": updated });
        record(
            &mut tx,
            actor,
            AuditRecord::new("device.import", "device", None).after(&details),
        )
        .await?;
        tx.commit().await.db()?;
        Ok(summary)
    }
}

async fn fetch_device_by_number(conn: &mut sqlx::AnyConnection, account: AccountId, number: &str) -> Result<Device> {
    let mut q = Query::new(DEVICE_SELECT);
    q.push_arg(" WHERE d.account_id = {}", Arg::Int(account.0))
        .push_arg(" AND d.device_number = {}", text(number));
    let row: DeviceRow = q.as_query_as().fetch_one(&mut *conn).await.db()?;
    Ok(row.into())
}

async fn fetch_device(conn: &mut sqlx::AnyConnection, account: AccountId, id: DeviceId) -> Result<Device> {
    let mut q = Query::new(DEVICE_SELECT);
    q.push_arg(" WHERE d.account_id = {}", Arg::Int(account.0))
        .push_arg(" AND d.id = {}", Arg::Int(id.0));
    let row: DeviceRow = q.as_query_as().fetch_one(&mut *conn).await.db()?;
    Ok(row.into())
}

/// Inserts devices in batches, numbering those without a device number;
/// returns the device numbers in input order. No `RETURNING`: on SQLite every
/// returned row costs a hand-off to sqlx's worker thread, which dominated
/// bulk imports.
async fn insert_devices(
    conn: &mut sqlx::AnyConnection,
    backend: Backend,
    actor: &Actor,
    inputs: &[DeviceInput],
) -> Result<Vec<String>> {
    let unnumbered = inputs.iter().filter(|i| i.device_number.is_none()).count();
    let mut fresh = allocate_device_numbers(conn, backend, actor.account_id, unnumbered)
        .await?
        .into_iter();
    let numbered: Vec<(&DeviceInput, String)> = inputs
        .iter()
        .map(|input| {
            let number = input
                .device_number
                .clone()
                .unwrap_or_else(|| fresh.next().expect("allocated enough"));
            (input, number)
        })
        .collect();
    let now = now_millis();
    for chunk in numbered.chunks(backend.rows_per_insert()) {
        let mut q = Query::new("INSERT INTO devices (account_id, created_at, updated_at");
        for (column, _) in device_values(chunk[0].0, "") {
            q.push(", ").push(column);
        }
        q.push(") VALUES ");
        for (i, (input, number)) in chunk.iter().enumerate() {
            if i > 0 {
                q.push(", ");
            }
            let mut values = vec![
                q.arg(Arg::Int(actor.account_id.0)),
                q.arg(Arg::Int(now)),
                q.arg(Arg::Int(now)),
            ];
            values.extend(device_values(input, number).into_iter().map(|(_, v)| q.arg(v)));
            q.push(&format!("({})", values.join(", ")));
        }
        q.as_query().execute(&mut *conn).await.db()?;
    }
    Ok(numbered.into_iter().map(|(_, number)| number).collect())
}

async fn update_device(
    conn: &mut sqlx::AnyConnection,
    actor: &Actor,
    before: &Device,
    input: &DeviceInput,
) -> Result<()> {
    let number = input
        .device_number
        .clone()
        .unwrap_or_else(|| before.device_number.clone());
    let mut q = Query::new("UPDATE devices SET ");
    q.push_arg("updated_at = {}", Arg::Int(now_millis()));
    for (column, value) in device_values(input, &number) {
        q.push_arg(&format!(", {column} = {{}}"), value);
    }
    q.push_arg(" WHERE id = {}", Arg::Int(before.id.0))
        .push_arg(" AND account_id = {}", Arg::Int(actor.account_id.0));
    q.as_query().execute(&mut *conn).await.db()?;
    Ok(())
}

/// Hands out the next free device numbers of an account (`000001`, ...),
/// skipping numbers an admin already typed in by hand.
async fn allocate_device_numbers(
    conn: &mut sqlx::AnyConnection,
    backend: Backend,
    account: AccountId,
    count: usize,
) -> Result<Vec<String>> {
    if count == 0 {
        return Ok(Vec::new());
    }
    let mut q = Query::new("SELECT next_device_number FROM accounts WHERE ");
    q.push_arg("id = {}", Arg::Int(account.0));
    if backend == Backend::Postgres {
        // Concurrent enrollments would otherwise read the same counter and
        // collide on a number; the row lock queues them (SQLite has one writer).
        q.push(" FOR UPDATE");
    }
    let mut next: i64 = q.as_scalar().fetch_one(&mut *conn).await.db()?;
    let mut numbers = Vec::with_capacity(count);
    while numbers.len() < count {
        let wanted = (count - numbers.len()).min(backend.values_per_lookup());
        let candidates: Vec<String> = (next..next + wanted as i64).map(|n| format!("{n:06}")).collect();
        let mut q = Query::new("SELECT device_number FROM devices WHERE ");
        q.push_arg("account_id = {}", Arg::Int(account.0));
        let placeholders = q.args(candidates.iter().map(|c| text(c)));
        q.push(&format!(" AND device_number IN ({})", placeholders));
        let taken: HashSet<String> = q.as_scalar().fetch_all(&mut *conn).await.db()?.into_iter().collect();
        numbers.extend(candidates.into_iter().filter(|c| !taken.contains(c)));
        next += wanted as i64;
    }
    let mut q = Query::new("UPDATE accounts SET ");
    q.push_arg("next_device_number = {}", Arg::Int(next))
        .push_arg(" WHERE id = {}", Arg::Int(account.0));
    q.as_query().execute(&mut *conn).await.db()?;
    Ok(numbers)
}
