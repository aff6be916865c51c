//! How a device request proves which enrollment sent it (MDM reference §3):
//! a TLS client certificate (haishin terminates TLS, or a proxy forwards the
//! certificate in a header) or the `Mdm-Signature` header. Either way the
//! certificate must be one haishin issued: it chains to the account's device
//! CA and is the exact certificate recorded when the profile was made.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use mdm_identity::{CertificateInfo, TrustAnchor, mdm_signature_signer};

use super::store::IdentityRecord;
use crate::DomainError;
use crate::ids::AccountId;
use crate::service::Services;

/// The evidence a device request carries.
#[derive(Debug, Clone)]
pub enum ClientProof {
    /// The `Mdm-Signature` header value (base64 CMS, detached).
    MdmSignature(String),
    /// The client certificate, from the TLS session or a proxy's header
    /// (DER, PEM, URL-escaped PEM or RFC 9440).
    Certificate(Vec<u8>),
    None,
}

/// Why a device request was refused, which decides the HTTP status.
#[derive(Debug, thiserror::Error)]
pub enum DeviceRequestError {
    /// 400: the body is not a message we can read.
    #[error("malformed request: {0}")]
    Malformed(String),
    /// 401: no identity, or not one of ours, or not this device's.
    #[error("identity refused: {0}")]
    Unauthorized(String),
    /// 410: a user channel haishin does not manage (reference §4.2).
    #[error("user channel declined")]
    UserDeclined,
    /// 500: storage failed; the device retries later.
    #[error(transparent)]
    Internal(#[from] DomainError),
}

impl DeviceRequestError {
    pub fn status(&self) -> u16 {
        match self {
            DeviceRequestError::Malformed(_) => 400,
            DeviceRequestError::Unauthorized(_) => 401,
            DeviceRequestError::UserDeclined => 410,
            DeviceRequestError::Internal(_) => 500,
        }
    }
}

fn unauthorized(reason: impl Into<String>) -> DeviceRequestError {
    DeviceRequestError::Unauthorized(reason.into())
}

/// Device CA trust anchors by account. A CA never changes once created, so
/// entries never go stale.
#[derive(Default)]
pub struct AnchorCache(Mutex<HashMap<AccountId, Arc<TrustAnchor>>>);

impl AnchorCache {
    fn get(&self, account: AccountId) -> Option<Arc<TrustAnchor>> {
        self.0.lock().expect("anchor cache").get(&account).cloned()
    }

    fn insert(&self, account: AccountId, anchor: Arc<TrustAnchor>) {
        self.0.lock().expect("anchor cache").insert(account, anchor);
    }
}

impl Services {
    async fn trust_anchor(&self, account: AccountId) -> Result<Arc<TrustAnchor>, DeviceRequestError> {
        if let Some(anchor) = self.mdm.anchors.get(account) {
            return Ok(anchor);
        }
        let stored = self
            .store
            .get_device_ca(account)
            .await?
            .ok_or_else(|| unauthorized("the account has no device CA"))?;
        let anchor = Arc::new(
            TrustAnchor::from_pem(stored.certificate_pem.as_bytes())
                .map_err(|e| DomainError::internal(format!("stored device CA: {e}")))?,
        );
        self.mdm.anchors.insert(account, anchor.clone());
        Ok(anchor)
    }

    /// Checks the proof against the exact body and returns the enrollment
    /// it belongs to. Changes nothing.
    pub async fn authenticate_device_request(
        &self,
        proof: &ClientProof,
        body: &[u8],
    ) -> Result<IdentityRecord, DeviceRequestError> {
        let claimed: CertificateInfo = match proof {
            ClientProof::MdmSignature(header) => {
                mdm_signature_signer(header, body).map_err(|e| unauthorized(format!("Mdm-Signature: {e}")))?
            }
            ClientProof::Certificate(der_or_pem) => {
                CertificateInfo::parse(der_or_pem).map_err(|e| unauthorized(format!("client certificate: {e}")))?
            }
            ClientProof::None => return Err(unauthorized("no client certificate and no Mdm-Signature")),
        };
        let enrollment_id = claimed
            .common_name()
            .ok_or_else(|| unauthorized("the certificate has no common name"))?;
        let record = self
            .store
            .find_enrollment_identity(enrollment_id)
            .await?
            .ok_or_else(|| unauthorized("the certificate was not issued by haishin"))?;
        let anchor = self.trust_anchor(record.identity.account_id).await?;
        let verified = anchor
            .verify_client_certificate(claimed.der())
            .map_err(|e| unauthorized(format!("certificate: {e}")))?;
        // The CN alone could be copied into a certificate from another CA
        // with the same name; the fingerprint pins the exact one issued.
        if verified.sha256_fingerprint() != record.identity.sha256_fingerprint {
            return Err(unauthorized(
                "the certificate is not the one issued for this enrollment",
            ));
        }
        Ok(record)
    }
}
