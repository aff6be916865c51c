//! Device CAs and the identities handed out in enrollment profiles.

use haishin_domain::audit::AuditRecord;
use haishin_domain::auth::Actor;
use haishin_domain::ids::{AccountId, GroupId};
use haishin_domain::mdm::{StoredDeviceCa, StoredEnrollmentIdentity};
use haishin_domain::time_util::Timestamp;
use haishin_secrets::Sealed;

use crate::SqlStore;
use crate::audit::record;
use crate::sql::{Arg, DbResult, Query, Result, text};

impl SqlStore {
    pub(crate) async fn select_device_ca(&self, account: AccountId) -> Result<Option<StoredDeviceCa>> {
        let mut q = Query::new("SELECT account_id, certificate_pem, sealed_key, created_at FROM device_cas WHERE ");
        q.push_arg("account_id = {}", Arg::Int(account.0));
        let row: Option<(i64, String, Vec<u8>, i64)> = q.as_query_as().fetch_optional(&self.write).await.db()?;
        Ok(
            row.map(|(account_id, certificate_pem, sealed_key, created_at)| StoredDeviceCa {
                account_id: AccountId(account_id),
                certificate_pem,
                sealed_key: Sealed::from_stored(sealed_key),
                created_at: Timestamp(created_at),
            }),
        )
    }

    pub(crate) async fn insert_device_ca_once(&self, ca: &StoredDeviceCa) -> Result<StoredDeviceCa> {
        let mut q = Query::new("INSERT INTO device_cas (account_id, certificate_pem, sealed_key, created_at) VALUES (");
        q.push_arg("{}, ", Arg::Int(ca.account_id.0))
            .push_arg("{}, ", text(&ca.certificate_pem))
            .push_arg("{}, ", Arg::Bytes(ca.sealed_key.as_bytes().to_vec()))
            .push_arg("{}) ON CONFLICT (account_id) DO NOTHING", Arg::Int(ca.created_at.0));
        q.as_query().execute(&self.write).await.db()?;
        // Read from the write pool: on SQLite a reader could miss the row
        // for a moment; the winner of a race is whoever inserted first.
        self.select_device_ca(ca.account_id)
            .await?
            .ok_or_else(|| haishin_domain::DomainError::internal("device CA vanished after insert"))
    }

    pub(crate) async fn insert_enrollment_identity(
        &self,
        actor: &Actor,
        identity: &StoredEnrollmentIdentity,
    ) -> Result<()> {
        let mut tx = self.write.begin().await.db()?;
        let mut q = Query::new(
            "INSERT INTO enrollment_identities (enrollment_id, account_id, serial_hex, sha256_fingerprint, group_id, \
             issued_at, issued_by) VALUES (",
        );
        let values = [
            text(&identity.enrollment_id),
            Arg::Int(actor.account_id.0),
            text(&identity.serial_hex),
            text(&identity.sha256_fingerprint),
            Arg::Int(identity.group_id.0),
            Arg::Int(identity.issued_at.0),
            text(&identity.issued_by),
        ];
        let placeholders = q.args(values);
        q.push(&placeholders).push(")");
        q.as_query().execute(&mut *tx).await.db()?;
        let details = serde_json::json!({
            "enrollment_id": identity.enrollment_id,
            "group_id": identity.group_id,
            "certificate_sha256": identity.sha256_fingerprint,
        });
        record(
            &mut tx,
            actor,
            AuditRecord::new("enrollment_profile.issue", "enrollment_identity", None).after(&details),
        )
        .await?;
        tx.commit().await.db()
    }

    pub(crate) async fn select_enrollment_identity(
        &self,
        account: AccountId,
        enrollment_id: &str,
    ) -> Result<Option<StoredEnrollmentIdentity>> {
        let mut q = Query::new(
            "SELECT enrollment_id, account_id, serial_hex, sha256_fingerprint, group_id, issued_at, issued_by \
             FROM enrollment_identities WHERE ",
        );
        q.push_arg("account_id = {}", Arg::Int(account.0))
            .push_arg(" AND enrollment_id = {}", text(enrollment_id));
        let row: Option<(String, i64, String, String, i64, i64, String)> =
            q.as_query_as().fetch_optional(&self.read).await.db()?;
        Ok(row.map(
            |(enrollment_id, account_id, serial_hex, sha256_fingerprint, group_id, issued_at, issued_by)| {
                StoredEnrollmentIdentity {
                    account_id: AccountId(account_id),
                    enrollment_id,
                    serial_hex,
                    sha256_fingerprint,
                    group_id: GroupId(group_id),
                    issued_at: Timestamp(issued_at),
                    issued_by,
                }
            },
        ))
    }
}
