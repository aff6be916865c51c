//! Enrollment: haishin is each account's device CA. Every enrollment profile
//! carries a fresh device identity (a PKCS#12 payload: no SCEP server to run
//! and no extra round trip; the cost is that the private key travels inside
//! the profile, over TLS, protected by a random password) and the
//! `com.apple.mdm` payload naming the account's push topic.

use apple_mdm::enrollment::{AccessRights, EnrollmentProfile, MdmPayload, PayloadHeader, ProfilePayload};
use apple_mdm::{Dictionary, PlistRecord, Value};
use haishin_secrets::Sealed;
use mdm_identity::{DeviceCa, generate_pkcs12_password};

use crate::DomainError;
use crate::auth::Actor;
use crate::error::Entity;
use crate::ids::{AccountId, GroupId};
use crate::service::Services;
use crate::time_util::Timestamp;

/// An account's device CA as stored: certificate clear, key sealed.
#[derive(Debug, Clone)]
pub struct StoredDeviceCa {
    pub account_id: AccountId,
    pub certificate_pem: String,
    pub sealed_key: Sealed,
    pub created_at: Timestamp,
}

/// A device identity handed out in a profile, and where it enrolls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEnrollmentIdentity {
    pub account_id: AccountId,
    /// The certificate's common name.
    pub enrollment_id: String,
    pub serial_hex: String,
    pub sha256_fingerprint: String,
    /// The group devices enrolling with this profile join.
    pub group_id: GroupId,
    pub issued_at: Timestamp,
    pub issued_by: String,
}

/// A profile ready to download.
pub struct EnrollmentProfileFile {
    pub bytes: Vec<u8>,
    pub enrollment_id: String,
}

fn ca_context(account: AccountId) -> Vec<u8> {
    format!("device-ca-key:account={account}").into_bytes()
}

fn failed(e: impl std::fmt::Display) -> DomainError {
    DomainError::internal(e)
}

/// Every right an Apps and Books server uses (apps, inventory, erase, ...).
const ACCESS_RIGHTS: u64 = 8191;

impl Services {
    /// The account's device CA, created on first use.
    pub async fn device_ca(&self, account: AccountId) -> Result<DeviceCa, DomainError> {
        let stored = match self.store.get_device_ca(account).await? {
            Some(stored) => stored,
            None => {
                let ca = DeviceCa::generate(&format!("haishin device CA {account}")).map_err(failed)?;
                let key = ca.key().to_pkcs8_pem();
                let sealed_key =
                    Sealed::seal(&self.master_key, &ca_context(account), key.as_bytes()).map_err(failed)?;
                let fresh = StoredDeviceCa {
                    account_id: account,
                    certificate_pem: ca.certificate_pem(),
                    sealed_key,
                    created_at: Timestamp::now(),
                };
                self.store.create_device_ca_once(&fresh).await?
            }
        };
        let key = stored
            .sealed_key
            .open(&self.master_key, &ca_context(account))
            .map_err(failed)?;
        let key = String::from_utf8(key).map_err(failed)?;
        DeviceCa::from_pem(&stored.certificate_pem, &key).map_err(failed)
    }

    /// Builds an enrollment profile for the actor's account; devices that
    /// enroll with it join `group` (the top group when absent).
    pub async fn enrollment_profile(
        &self,
        actor: &Actor,
        group: Option<GroupId>,
    ) -> Result<EnrollmentProfileFile, DomainError> {
        actor.require_write()?;
        let group = match group {
            Some(id) => self.get_group(actor, id).await?,
            None => self.root_group(actor).await?,
        };
        let push = self
            .store
            .get_push_certificate(actor.account_id)
            .await?
            .ok_or_else(|| {
                DomainError::conflict(
                    "push_certificate_missing",
                    "先にMDMプッシュ証明書をアップロードしてください(プロファイルのトピックになります)。",
                    "Upload the MDM push certificate first: its topic goes into the profile.",
                )
            })?;
        let account = self
            .store
            .get_account(actor.account_id)
            .await?
            .ok_or(DomainError::not_found(Entity::Account))?;
        let ca = self.device_ca(actor.account_id).await?;
        let options = mdm_identity::IdentityOptions {
            key_algorithm: self.mdm.identity_key,
            ..Default::default()
        };
        let identity = ca.issue_identity_with(&options).map_err(failed)?;
        let password = generate_pkcs12_password().map_err(failed)?;
        let pfx = identity.to_pkcs12(password.as_str()).map_err(failed)?;

        let base = self.public_url.trim_end_matches('/');
        let identity_uuid = uuid_v4();
        let mut pkcs12 = Dictionary::new();
        pkcs12.insert("PayloadType".into(), Value::String("com.apple.security.pkcs12".into()));
        pkcs12.insert(
            "PayloadIdentifier".into(),
            Value::String(format!("jp.haishin.identity.{identity_uuid}")),
        );
        pkcs12.insert("PayloadUUID".into(), Value::String(identity_uuid.clone()));
        pkcs12.insert("PayloadVersion".into(), Value::Integer(1.into()));
        pkcs12.insert(
            "PayloadDisplayName".into(),
            Value::String("haishin device identity".into()),
        );
        pkcs12.insert("PayloadContent".into(), Value::Data(pfx));
        pkcs12.insert("Password".into(), Value::String(password.as_str().to_owned()));
        let mdm_uuid = uuid_v4();
        let mdm = MdmPayload {
            header: PayloadHeader {
                identifier: format!("jp.haishin.mdm.{mdm_uuid}"),
                uuid: mdm_uuid,
                version: 1,
                display_name: Some("haishin MDM".into()),
            },
            server_url: format!("{base}/mdm/connect"),
            check_in_url: Some(format!("{base}/mdm/checkin")),
            topic: push.certificate.topic.clone(),
            identity_certificate_uuid: identity_uuid,
            access_rights: Some(AccessRights(ACCESS_RIGHTS)),
            sign_message: Some(true),
            check_out_when_removed: Some(true),
            server_capabilities: Some(vec!["com.apple.mdm.per-user-connections".into()]),
            use_development_apns: None,
            extra: Dictionary::new(),
        };
        let profile_uuid = uuid_v4();
        let mut extra = Dictionary::new();
        extra.insert("PayloadOrganization".into(), Value::String(account.name.clone()));
        extra.insert("PayloadScope".into(), Value::String("System".into()));
        let profile = EnrollmentProfile {
            header: PayloadHeader {
                identifier: format!("jp.haishin.enroll.{profile_uuid}"),
                uuid: profile_uuid,
                version: 1,
                display_name: Some(format!("{} (haishin MDM)", account.name)),
            },
            payloads: vec![ProfilePayload::Other(pkcs12), ProfilePayload::Mdm(Box::new(mdm))],
            extra,
        };
        let mut bytes = profile.to_xml().map_err(failed)?;
        if let Some(signer) = &self.mdm.profile_signer {
            bytes = mdm_identity::sign_profile(&bytes, signer).map_err(failed)?;
        }
        let certificate = identity.certificate();
        let record = StoredEnrollmentIdentity {
            account_id: actor.account_id,
            enrollment_id: identity.enrollment_id().to_owned(),
            serial_hex: certificate.serial_hex(),
            sha256_fingerprint: certificate.sha256_fingerprint(),
            group_id: group.id,
            issued_at: Timestamp::now(),
            issued_by: actor.name.clone(),
        };
        self.store.record_enrollment_identity(actor, &record).await?;
        Ok(EnrollmentProfileFile {
            bytes,
            enrollment_id: record.enrollment_id,
        })
    }
}

fn uuid_v4() -> String {
    uuid::Uuid::new_v4().to_string().to_uppercase()
}
