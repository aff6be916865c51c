//! The account's MDM push certificate, its key sealed.

use haishin_domain::audit::AuditRecord;
use haishin_domain::auth::Actor;
use haishin_domain::ids::AccountId;
use haishin_domain::mdm::{PushCertificate, StoredPushCertificate};
use haishin_domain::time_util::Timestamp;
use haishin_secrets::Sealed;

use crate::SqlStore;
use crate::audit::record;
use crate::sql::{Arg, DbResult, Query, Result, text};

#[derive(sqlx::FromRow)]
struct Row {
    account_id: i64,
    topic: String,
    certificate_pem: String,
    sealed_key: Vec<u8>,
    not_before: i64,
    not_after: i64,
    uploaded_at: i64,
    uploaded_by: String,
}

impl SqlStore {
    pub(crate) async fn upsert_push_certificate(&self, actor: &Actor, stored: &StoredPushCertificate) -> Result<()> {
        let mut tx = self.write.begin().await.db()?;
        let before = select(&mut tx, actor.account_id).await?.map(|s| s.certificate);
        let c = &stored.certificate;
        let mut q = Query::new(
            "INSERT INTO push_certificates (account_id, topic, certificate_pem, sealed_key, not_before, not_after, \
             uploaded_at, uploaded_by) VALUES (",
        );
        let values = [
            Arg::Int(actor.account_id.0),
            text(&c.topic),
            text(&stored.certificate_pem),
            Arg::Bytes(stored.sealed_key.as_bytes().to_vec()),
            Arg::Int(c.not_before.0),
            Arg::Int(c.not_after.0),
            Arg::Int(c.uploaded_at.0),
            text(&c.uploaded_by),
        ];
        let placeholders = q.args(values);
        q.push(&placeholders).push(
            ") ON CONFLICT (account_id) DO UPDATE SET topic = excluded.topic, certificate_pem = excluded.certificate_pem, \
             sealed_key = excluded.sealed_key, not_before = excluded.not_before, not_after = excluded.not_after, \
             uploaded_at = excluded.uploaded_at, uploaded_by = excluded.uploaded_by",
        );
        q.as_query().execute(&mut *tx).await.db()?;
        let mut audit =
            AuditRecord::new("push_certificate.upload", "push_certificate", Some(actor.account_id.0)).after(c);
        if let Some(before) = &before {
            audit = audit.before(before);
        }
        record(&mut tx, actor, audit).await?;
        tx.commit().await.db()
    }

    pub(crate) async fn select_push_certificate(&self, account: AccountId) -> Result<Option<StoredPushCertificate>> {
        let mut conn = self.read.acquire().await.db()?;
        select(&mut conn, account).await
    }
}

async fn select(conn: &mut sqlx::AnyConnection, account: AccountId) -> Result<Option<StoredPushCertificate>> {
    let mut q = Query::new(
        "SELECT account_id, topic, certificate_pem, sealed_key, not_before, not_after, uploaded_at, uploaded_by \
         FROM push_certificates WHERE ",
    );
    q.push_arg("account_id = {}", Arg::Int(account.0));
    let row: Option<Row> = q.as_query_as().fetch_optional(&mut *conn).await.db()?;
    Ok(row.map(|r| StoredPushCertificate {
        account_id: AccountId(r.account_id),
        certificate: PushCertificate {
            topic: r.topic,
            not_before: Timestamp(r.not_before),
            not_after: Timestamp(r.not_after),
            uploaded_at: Timestamp(r.uploaded_at),
            uploaded_by: r.uploaded_by,
        },
        certificate_pem: r.certificate_pem,
        sealed_key: Sealed::from_stored(r.sealed_key),
    }))
}
