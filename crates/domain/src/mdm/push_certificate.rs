//! The account's MDM push certificate (from Apple's Push Certificates
//! Portal). Its subject's UID is the topic every enrollment profile names;
//! its private key is a secret, sealed with the master key.

use std::time::{SystemTime, UNIX_EPOCH};

use haishin_secrets::{Sealed, SecretString};
use serde::Serialize;

use crate::DomainError;
use crate::auth::Actor;
use crate::error::Entity;
use crate::ids::AccountId;
use crate::service::Services;
use crate::time_util::Timestamp;

/// What the console shows of a push certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct PushCertificate {
    /// `com.apple.mgmt.External.<uuid>`: the topic devices are enrolled with.
    pub topic: String,
    pub not_before: Timestamp,
    /// Renew (same Apple ID, same topic) before this, or devices stop answering.
    pub not_after: Timestamp,
    pub uploaded_at: Timestamp,
    pub uploaded_by: String,
}

/// The stored form: the certificate in the clear, the key sealed.
#[derive(Debug, Clone)]
pub struct StoredPushCertificate {
    pub account_id: AccountId,
    pub certificate: PushCertificate,
    pub certificate_pem: String,
    pub sealed_key: Sealed,
}

fn millis(t: SystemTime) -> Timestamp {
    Timestamp(t.duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0))
}

/// The sealing context binds a key to its account: a sealed key copied into
/// another account's row does not open there.
fn seal_context(account: AccountId) -> Vec<u8> {
    format!("mdm-push-key:account={account}").into_bytes()
}

fn refused(field: &'static str, ja: impl Into<String>, en: impl Into<String>) -> DomainError {
    DomainError::invalid(field, ja, en)
}

impl Services {
    /// Stores the account's push certificate and key after checking that the
    /// certificate is an MDM push certificate, still valid, and that the key
    /// belongs to it. A certificate with another topic replaces the current
    /// one only when `replace` is set: every device enrolled with the old
    /// topic must then enroll again (renewing keeps the topic).
    /// The same from a .p12 (Keychain Access export) and its password.
    pub async fn upload_push_certificate_p12(
        &self,
        actor: &Actor,
        p12: &[u8],
        password: &str,
        replace: bool,
    ) -> Result<PushCertificate, DomainError> {
        actor.require_account_admin()?;
        let (certificate, key) = mdm_identity::read_pkcs12(p12, password).map_err(|e| {
            refused(
                "p12",
                format!(".p12ファイルを開けません(パスワードをご確認ください): {e}"),
                format!("The .p12 file does not open (check the password): {e}"),
            )
        })?;
        let certificate = mdm_identity::CertificateInfo::from_der(&certificate)
            .map_err(|e| {
                refused(
                    "p12",
                    format!("証明書が読めません: {e}"),
                    format!("Unreadable certificate: {e}"),
                )
            })?
            .to_pem();
        let key = mdm_identity::PrivateKey::from_pkcs8_der(&key)
            .map_err(|e| {
                refused(
                    "p12",
                    format!("秘密鍵が読めません: {e}"),
                    format!("Unreadable private key: {e}"),
                )
            })?
            .to_pkcs8_pem();
        self.upload_push_certificate(actor, &certificate, &key, replace).await
    }

    pub async fn upload_push_certificate(
        &self,
        actor: &Actor,
        certificate_pem: &str,
        private_key_pem: &str,
        replace: bool,
    ) -> Result<PushCertificate, DomainError> {
        actor.require_account_admin()?;
        let info = apple_apns::push_certificate_info(certificate_pem.as_bytes()).map_err(|e| {
            refused(
                "certificate_pem",
                format!("MDMプッシュ証明書として読めません: {e}"),
                format!("This is not a usable MDM push certificate: {e}"),
            )
        })?;
        let not_after = millis(info.not_after);
        if not_after <= Timestamp::now() {
            let date = crate::time_util::millis_to_rfc3339(not_after.0);
            return Err(refused(
                "certificate_pem",
                format!("この証明書は {date} に失効しています。Apple Push Certificates Portal で更新してください。"),
                format!("This certificate expired on {date}. Renew it in Apple's Push Certificates Portal."),
            ));
        }
        let parsed = mdm_identity::CertificateInfo::parse(certificate_pem.as_bytes()).map_err(|_| {
            refused(
                "certificate_pem",
                "PEM形式の証明書がありません。",
                "No PEM certificate found.",
            )
        })?;
        let key = mdm_identity::PrivateKey::from_pkcs8_pem(private_key_pem).map_err(|_| {
            refused(
                "private_key_pem",
                "秘密鍵をPKCS#8 PEM (BEGIN PRIVATE KEY) で指定してください。`openssl pkcs8 -topk8 -nocrypt` で変換できます。",
                "Give the private key as PKCS#8 PEM (BEGIN PRIVATE KEY); `openssl pkcs8 -topk8 -nocrypt` converts other forms.",
            )
        })?;
        mdm_identity::Signer::new(parsed.der(), key).map_err(|_| {
            refused(
                "private_key_pem",
                "この秘密鍵は証明書と対になっていません。証明書署名要求 (CSR) を作成したときの鍵を指定してください。",
                "This private key does not belong to the certificate. Use the key the certificate signing request was made with.",
            )
        })?;
        if let Some(current) = self.store.get_push_certificate(actor.account_id).await?
            && current.certificate.topic != info.topic
            && !replace
        {
            return Err(DomainError::conflict(
                "push_topic_changed",
                format!(
                    "トピックが現在の証明書 ({}) と異なります。更新ではなく置き換えになり、すべての端末の再登録が必要です。置き換える場合は replace を指定してください。",
                    current.certificate.topic
                ),
                format!(
                    "The topic differs from the current certificate's ({}). This is a replacement, not a renewal: every device must enroll again. Set replace to proceed.",
                    current.certificate.topic
                ),
            ));
        }
        let key_pem = SecretString::new(private_key_pem.trim());
        let sealed_key = Sealed::seal(
            &self.master_key,
            &seal_context(actor.account_id),
            key_pem.expose().as_bytes(),
        )
        .map_err(DomainError::internal)?;
        let certificate = PushCertificate {
            topic: info.topic,
            not_before: millis(info.not_before),
            not_after,
            uploaded_at: Timestamp::now(),
            uploaded_by: actor.name.clone(),
        };
        let stored = StoredPushCertificate {
            account_id: actor.account_id,
            certificate: certificate.clone(),
            certificate_pem: certificate_pem.trim().to_owned(),
            sealed_key,
        };
        self.store.put_push_certificate(actor, &stored).await?;
        Ok(certificate)
    }

    pub async fn push_certificate(&self, actor: &Actor) -> Result<PushCertificate, DomainError> {
        self.store
            .get_push_certificate(actor.account_id)
            .await?
            .map(|s| s.certificate)
            .ok_or(DomainError::not_found(Entity::PushCertificate))
    }

    /// The certificate and opened key, for the pusher. Never shown to admins.
    pub async fn push_credentials(&self, account: AccountId) -> Result<(String, SecretString), DomainError> {
        let stored = self
            .store
            .get_push_certificate(account)
            .await?
            .ok_or(DomainError::not_found(Entity::PushCertificate))?;
        let key = stored
            .sealed_key
            .open(&self.master_key, &seal_context(account))
            .map_err(|e| {
                tracing::error!(%account, "push key does not open: {e}");
                DomainError::internal("push key does not open with this master key")
            })?;
        let key = String::from_utf8(key).map_err(DomainError::internal)?;
        Ok((stored.certificate_pem, SecretString::new(key)))
    }
}

/// Days left before expiry, for banners (negative once expired).
pub fn days_left(certificate: &PushCertificate, now: Timestamp) -> i64 {
    certificate.not_after.days_after(now)
}
