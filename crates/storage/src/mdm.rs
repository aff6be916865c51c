//! Enrollment records, push channels, device facts and inventory.

use haishin_domain::audit::AuditRecord;
use haishin_domain::auth::Actor;
use haishin_domain::ids::{AccountId, DeviceId, GroupId};
use haishin_domain::mdm::StoredEnrollmentIdentity;
use haishin_domain::mdm::store::{
    BoundDevice, DeviceFacts, EnrollmentRecord, IdentityRecord, Inventory, InventoryKind, PushChannel,
    PushChannelUpdate,
};
use haishin_domain::org::EnrollmentState;
use haishin_domain::time_util::Timestamp;

use crate::SqlStore;
use crate::audit::record;
use crate::sql::{Arg, DbResult, Query, Result, text};

type IdentityRow = (
    String,
    i64,
    String,
    String,
    i64,
    i64,
    String,
    Option<i64>,
    Option<String>,
    Option<String>,
);

impl SqlStore {
    pub(crate) async fn select_identity_record(&self, enrollment_id: &str) -> Result<Option<IdentityRecord>> {
        let mut q = Query::new(
            "SELECT ei.enrollment_id, ei.account_id, ei.serial_hex, ei.sha256_fingerprint, ei.group_id, ei.issued_at, \
             ei.issued_by, ei.device_id, d.udid, d.enrollment_state FROM enrollment_identities ei \
             LEFT JOIN devices d ON d.id = ei.device_id WHERE ",
        );
        q.push_arg("ei.enrollment_id = {}", text(enrollment_id));
        // The read pool: on SQLite (WAL) every autocommit read starts from
        // the latest commit, so a TokenUpdate sees the binding its
        // Authenticate committed before answering; and device traffic does
        // not queue behind the single writer for a lookup.
        let row: Option<IdentityRow> = q.as_query_as().fetch_optional(&self.read).await.db()?;
        Ok(row.map(
            |(enrollment_id, account, serial_hex, fingerprint, group, issued_at, issued_by, device, udid, state)| {
                IdentityRecord {
                    identity: StoredEnrollmentIdentity {
                        account_id: AccountId(account),
                        enrollment_id,
                        serial_hex,
                        sha256_fingerprint: fingerprint,
                        group_id: GroupId(group),
                        issued_at: Timestamp(issued_at),
                        issued_by,
                    },
                    bound: device.map(|id| BoundDevice {
                        device_id: DeviceId(id),
                        udid,
                        enrollment_state: EnrollmentState::parse(state.as_deref().unwrap_or("registered")),
                    }),
                }
            },
        ))
    }

    pub(crate) async fn select_enrolling_device(
        &self,
        account: AccountId,
        udid: &str,
        serial: Option<&str>,
    ) -> Result<Option<DeviceId>> {
        let mut q = Query::new("SELECT id FROM devices WHERE ");
        q.push_arg("account_id = {}", Arg::Int(account.0))
            .push_arg(" AND udid = {}", text(udid));
        let id: Option<i64> = q.as_scalar().fetch_optional(&self.write).await.db()?;
        if id.is_some() {
            return Ok(id.map(DeviceId));
        }
        let Some(serial) = serial else { return Ok(None) };
        // A device the admin registered by serial number (CSV) before it enrolled.
        let mut q = Query::new("SELECT id FROM devices WHERE udid IS NULL AND ");
        q.push_arg("account_id = {}", Arg::Int(account.0))
            .push_arg(" AND serial_number = {} ORDER BY id LIMIT 1", text(serial));
        let id: Option<i64> = q.as_scalar().fetch_optional(&self.write).await.db()?;
        Ok(id.map(DeviceId))
    }

    pub(crate) async fn bind_identity(
        &self,
        identity: &StoredEnrollmentIdentity,
        device: DeviceId,
        topic: &str,
        now: Timestamp,
    ) -> Result<bool> {
        let mut tx = self.write.begin().await.db()?;
        let mut q = Query::new("UPDATE enrollment_identities SET ");
        q.push_arg("device_id = {}", Arg::Int(device.0))
            .push_arg(" WHERE enrollment_id = {}", text(&identity.enrollment_id))
            .push_arg(" AND account_id = {}", Arg::Int(identity.account_id.0))
            .push_arg(" AND (device_id IS NULL OR device_id = {})", Arg::Int(device.0));
        if q.as_query().execute(&mut *tx).await.db()?.rows_affected() == 0 {
            return Ok(false);
        }
        let mut q = Query::new(
            "INSERT INTO mdm_enrollments (device_id, account_id, enrollment_id, topic, authenticated_at) VALUES (",
        );
        let values = q.args([
            Arg::Int(device.0),
            Arg::Int(identity.account_id.0),
            text(&identity.enrollment_id),
            text(topic),
            Arg::Int(now.0),
        ]);
        q.push(&values).push(
            ") ON CONFLICT (device_id) DO UPDATE SET enrollment_id = excluded.enrollment_id, \
             topic = excluded.topic, authenticated_at = excluded.authenticated_at, push_token = NULL, \
             push_magic = NULL, push_failed_at = NULL, push_failure = NULL, checked_out_at = NULL",
        );
        q.as_query().execute(&mut *tx).await.db()?;
        tx.commit().await.db()?;
        Ok(true)
    }

    pub(crate) async fn apply_device_facts(
        &self,
        account: AccountId,
        device: DeviceId,
        facts: &DeviceFacts,
        now: Timestamp,
    ) -> Result<()> {
        let mut q = Query::new("UPDATE devices SET ");
        q.push_arg("updated_at = {}", Arg::Int(now.0));
        let texts = [
            ("udid", &facts.udid),
            ("serial_number", &facts.serial_number),
            ("model", &facts.model),
            ("product_name", &facts.product_name),
            ("os_version", &facts.os_version),
            ("build_version", &facts.build_version),
            ("imei", &facts.imei),
            ("wifi_mac", &facts.wifi_mac),
            ("itunes_store_account_hash", &facts.itunes_store_account_hash),
        ];
        for (column, value) in texts {
            if let Some(value) = value {
                q.push_arg(
                    &format!(", {column} = {{}}"),
                    text(&value.chars().take(255).collect::<String>()),
                );
            }
        }
        if let Some(platform) = facts.platform {
            q.push_arg(", platform = {}", text(platform.as_str()));
        }
        let ints = [
            ("supervised", facts.supervised.map(i64::from)),
            ("shared_ipad", facts.shared_ipad.map(i64::from)),
            ("capacity_mb", facts.capacity_mb),
            ("available_capacity_mb", facts.available_capacity_mb),
        ];
        for (column, value) in ints {
            if let Some(value) = value {
                q.push_arg(&format!(", {column} = {{}}"), Arg::Int(value));
            }
        }
        q.push_arg(" WHERE id = {}", Arg::Int(device.0))
            .push_arg(" AND account_id = {}", Arg::Int(account.0));
        q.as_query().execute(&self.write).await.db()?;
        Ok(())
    }

    pub(crate) async fn apply_push_channel(
        &self,
        account: AccountId,
        device: DeviceId,
        update: &PushChannelUpdate,
        now: Timestamp,
    ) -> Result<bool> {
        let mut tx = self.write.begin().await.db()?;
        if let Some(user) = &update.user {
            let mut q = Query::new(
                "INSERT INTO mdm_user_channels (device_id, user_guid, short_name, long_name, push_token, push_magic, \
                 updated_at) VALUES (",
            );
            let values = q.args([
                Arg::Int(device.0),
                text(&user.user_guid),
                text(&user.short_name),
                text(&user.long_name),
                text(&update.push_token_hex),
                text(&update.push_magic),
                Arg::Int(now.0),
            ]);
            q.push(&values).push(
                ") ON CONFLICT (device_id, user_guid) DO UPDATE SET short_name = excluded.short_name, \
                 long_name = excluded.long_name, push_token = excluded.push_token, \
                 push_magic = excluded.push_magic, updated_at = excluded.updated_at",
            );
            q.as_query().execute(&mut *tx).await.db()?;
            tx.commit().await.db()?;
            return Ok(false);
        }
        let mut q = Query::new("UPDATE mdm_enrollments SET ");
        q.push_arg("push_token = {}", text(&update.push_token_hex))
            .push_arg(", push_magic = {}", text(&update.push_magic))
            .push_arg(
                ", awaiting_configuration = {}",
                Arg::Int(i64::from(update.awaiting_configuration)),
            )
            .push_arg(", token_updated_at = {}", Arg::Int(now.0))
            .push(", push_failed_at = NULL, push_failure = NULL, checked_out_at = NULL");
        if let Some(sealed) = &update.sealed_unlock_token {
            q.push_arg(", sealed_unlock_token = {}", Arg::Bytes(sealed.clone()));
        }
        q.push_arg(" WHERE device_id = {}", Arg::Int(device.0))
            .push_arg(" AND account_id = {}", Arg::Int(account.0));
        if q.as_query().execute(&mut *tx).await.db()?.rows_affected() == 0 {
            return Err(haishin_domain::DomainError::internal(
                "TokenUpdate for a device without an enrollment record",
            ));
        }
        let mut q = Query::new("SELECT enrollment_state FROM devices WHERE ");
        q.push_arg("id = {}", Arg::Int(device.0));
        let state: String = q.as_scalar().fetch_one(&mut *tx).await.db()?;
        let newly_enrolled = state != "enrolled";
        let mut q = Query::new("UPDATE devices SET enrollment_state = 'enrolled', ");
        q.push_arg("last_checkin_at = {}", Arg::Int(now.0))
            .push_arg(", updated_at = {}", Arg::Int(now.0))
            .push_arg(" WHERE id = {}", Arg::Int(device.0));
        q.as_query().execute(&mut *tx).await.db()?;
        if newly_enrolled {
            let details = serde_json::json!({ "device_id": device, "push_token_updated": true });
            record(
                &mut tx,
                &Actor::system(account),
                AuditRecord::new("device.enroll", "device", Some(device.0)).after(&details),
            )
            .await?;
        }
        tx.commit().await.db()?;
        Ok(newly_enrolled)
    }

    pub(crate) async fn unenroll(&self, account: AccountId, device: DeviceId, now: Timestamp) -> Result<bool> {
        let mut tx = self.write.begin().await.db()?;
        let mut q = Query::new("UPDATE devices SET enrollment_state = 'unenrolled', ");
        q.push_arg("updated_at = {}", Arg::Int(now.0))
            .push_arg(" WHERE id = {}", Arg::Int(device.0))
            .push_arg(" AND account_id = {}", Arg::Int(account.0))
            .push(" AND enrollment_state = 'enrolled'");
        let was_enrolled = q.as_query().execute(&mut *tx).await.db()?.rows_affected() > 0;
        let mut q = Query::new("UPDATE mdm_enrollments SET push_token = NULL, push_magic = NULL, ");
        q.push_arg("checked_out_at = {}", Arg::Int(now.0))
            .push_arg(" WHERE device_id = {}", Arg::Int(device.0));
        q.as_query().execute(&mut *tx).await.db()?;
        let mut q = Query::new("DELETE FROM mdm_user_channels WHERE ");
        q.push_arg("device_id = {}", Arg::Int(device.0));
        q.as_query().execute(&mut *tx).await.db()?;
        // Nothing will fetch them any more.
        let mut q = Query::new("UPDATE jobs SET status = 'canceled', ");
        q.push_arg("finished_at = {}", Arg::Int(now.0))
            .push_arg(", updated_at = {}", Arg::Int(now.0))
            .push_arg(" WHERE device_id = {} AND finished_at IS NULL", Arg::Int(device.0));
        let canceled = q.as_query().execute(&mut *tx).await.db()?.rows_affected();
        if was_enrolled {
            let details = serde_json::json!({ "device_id": device, "jobs_canceled": canceled });
            record(
                &mut tx,
                &Actor::system(account),
                AuditRecord::new("device.unenroll", "device", Some(device.0)).after(&details),
            )
            .await?;
        }
        tx.commit().await.db()?;
        Ok(was_enrolled)
    }

    pub(crate) async fn touch(&self, account: AccountId, device: DeviceId, now: Timestamp) -> Result<()> {
        let mut q = Query::new("UPDATE devices SET ");
        q.push_arg("last_checkin_at = {}", Arg::Int(now.0))
            .push_arg(" WHERE id = {}", Arg::Int(device.0))
            .push_arg(" AND account_id = {}", Arg::Int(account.0));
        q.as_query().execute(&self.write).await.db()?;
        Ok(())
    }

    pub(crate) async fn select_enrollment_record(
        &self,
        account: AccountId,
        device: DeviceId,
    ) -> Result<Option<EnrollmentRecord>> {
        let mut q = Query::new(
            "SELECT enrollment_id, topic, push_token, CAST(CASE WHEN sealed_unlock_token IS NULL THEN 0 ELSE 1 END AS BIGINT), \
             awaiting_configuration, \
             push_failure, push_failed_at, authenticated_at, token_updated_at, checked_out_at \
             FROM mdm_enrollments WHERE ",
        );
        q.push_arg("device_id = {}", Arg::Int(device.0))
            .push_arg(" AND account_id = {}", Arg::Int(account.0));
        type Row = (
            String,
            String,
            Option<String>,
            i64,
            i64,
            Option<String>,
            Option<i64>,
            i64,
            Option<i64>,
            Option<i64>,
        );
        let row: Option<Row> = q.as_query_as().fetch_optional(&self.read).await.db()?;
        let Some(r) = row else { return Ok(None) };
        let mut q = Query::new("SELECT short_name FROM mdm_user_channels WHERE ");
        q.push_arg("device_id = {} ORDER BY short_name", Arg::Int(device.0));
        let users: Vec<String> = q.as_scalar().fetch_all(&self.read).await.db()?;
        Ok(Some(EnrollmentRecord {
            enrollment_id: r.0,
            topic: r.1,
            has_push_token: r.2.is_some(),
            has_unlock_token: r.3 != 0,
            awaiting_configuration: r.4 != 0,
            push_failure: r.5,
            push_failed_at: r.6.map(Timestamp),
            authenticated_at: Timestamp(r.7),
            token_updated_at: r.8.map(Timestamp),
            checked_out_at: r.9.map(Timestamp),
            user_channels: users,
        }))
    }

    pub(crate) async fn select_push_channels(&self, devices: &[DeviceId]) -> Result<Vec<PushChannel>> {
        let mut out = Vec::with_capacity(devices.len());
        for chunk in devices.chunks(self.backend.values_per_lookup()) {
            let mut q = Query::new(
                "SELECT account_id, device_id, push_token, push_magic FROM mdm_enrollments \
                 WHERE push_token IS NOT NULL AND push_magic IS NOT NULL AND push_failed_at IS NULL AND device_id IN (",
            );
            let placeholders = q.args(chunk.iter().map(|d| Arg::Int(d.0)));
            q.push(&placeholders).push(")");
            let rows: Vec<(i64, i64, String, String)> = q.as_query_as().fetch_all(&self.read).await.db()?;
            out.extend(rows.into_iter().map(|(account, device, token, magic)| PushChannel {
                account_id: AccountId(account),
                device_id: DeviceId(device),
                push_token_hex: token,
                push_magic: magic,
            }));
        }
        Ok(out)
    }

    pub(crate) async fn set_push_failed(&self, device: DeviceId, reason: &str, now: Timestamp) -> Result<()> {
        let mut q = Query::new("UPDATE mdm_enrollments SET ");
        q.push_arg("push_failed_at = {}", Arg::Int(now.0))
            .push_arg(", push_failure = {}", text(reason))
            .push_arg(" WHERE device_id = {}", Arg::Int(device.0));
        q.as_query().execute(&self.write).await.db()?;
        Ok(())
    }

    pub(crate) async fn upsert_inventory(
        &self,
        account: AccountId,
        device: DeviceId,
        kind: InventoryKind,
        items: &serde_json::Value,
        now: Timestamp,
    ) -> Result<()> {
        let mut tx = self.write.begin().await.db()?;
        // The account check: the device must be the caller's.
        let mut q = Query::new("UPDATE devices SET ");
        q.push_arg("updated_at = {}", Arg::Int(now.0));
        if kind == InventoryKind::InstalledApps {
            q.push_arg(", inventory_fetched_at = {}", Arg::Int(now.0));
        }
        q.push_arg(" WHERE id = {}", Arg::Int(device.0))
            .push_arg(" AND account_id = {}", Arg::Int(account.0));
        if q.as_query().execute(&mut *tx).await.db()?.rows_affected() == 0 {
            return Ok(());
        }
        let mut q = Query::new("INSERT INTO device_inventory (device_id, kind, items, fetched_at) VALUES (");
        let values = q.args([
            Arg::Int(device.0),
            text(kind.as_str()),
            text(&items.to_string()),
            Arg::Int(now.0),
        ]);
        q.push(&values).push(
            ") ON CONFLICT (device_id, kind) DO UPDATE SET items = excluded.items, fetched_at = excluded.fetched_at",
        );
        q.as_query().execute(&mut *tx).await.db()?;
        tx.commit().await.db()
    }

    pub(crate) async fn select_inventory(&self, account: AccountId, device: DeviceId) -> Result<Vec<Inventory>> {
        let mut q = Query::new(
            "SELECT i.kind, i.items, i.fetched_at FROM device_inventory i JOIN devices d ON d.id = i.device_id WHERE ",
        );
        q.push_arg("i.device_id = {}", Arg::Int(device.0))
            .push_arg(" AND d.account_id = {} ORDER BY i.kind", Arg::Int(account.0));
        let rows: Vec<(String, String, i64)> = q.as_query_as().fetch_all(&self.read).await.db()?;
        Ok(rows
            .into_iter()
            .filter_map(|(kind, items, at)| {
                Some(Inventory {
                    kind: InventoryKind::parse(&kind)?,
                    items: serde_json::from_str(&items).ok()?,
                    fetched_at: Timestamp(at),
                })
            })
            .collect())
    }

    pub(crate) async fn select_inventories(
        &self,
        account: AccountId,
        devices: &[DeviceId],
    ) -> Result<Vec<(DeviceId, Inventory)>> {
        let mut out = Vec::new();
        for chunk in devices.chunks(self.backend.values_per_lookup()) {
            let mut q = Query::new(
                "SELECT i.device_id, i.kind, i.items, i.fetched_at FROM device_inventory i \
                 JOIN devices d ON d.id = i.device_id WHERE ",
            );
            q.push_arg("d.account_id = {}", Arg::Int(account.0));
            let ids = q.args(chunk.iter().map(|d| Arg::Int(d.0)));
            q.push(&format!(" AND i.device_id IN ({ids})"));
            let rows: Vec<(i64, String, String, i64)> = q.as_query_as().fetch_all(&self.read).await.db()?;
            out.extend(rows.into_iter().filter_map(|(device, kind, items, at)| {
                Some((
                    DeviceId(device),
                    Inventory {
                        kind: InventoryKind::parse(&kind)?,
                        items: serde_json::from_str(&items).ok()?,
                        fetched_at: Timestamp(at),
                    },
                ))
            }));
        }
        Ok(out)
    }
}
