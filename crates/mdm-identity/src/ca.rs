//! The device CA: the private CA that issues every device identity.
//!
//! **Key algorithm: RSA-2048 by default.** Apple's own identity path for MDM
//! (the SCEP payload) only knows RSA keys (`Key Type` = `RSA`), so RSA is the
//! algorithm every Apple OS version and every MDM client stack is known to
//! handle in device identities, TLS client authentication and `Mdm-Signature`.
//! Keeping the CA on the same algorithm as the identities it signs leaves one
//! algorithm to get right. The costs (slower key generation, larger
//! certificates) are paid once per CA and once per enrollment, which is
//! negligible. P-256 is available through [`CaOptions::key_algorithm`] for
//! deployments that only target recent OS versions.

use std::time::{Duration, SystemTime};

use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use rcgen::{BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, Issuer, KeyUsagePurpose};
use time::OffsetDateTime;

use crate::cert::{self, CertificateInfo, TrustAnchor};
use crate::error::{IdentityError, Result};
use crate::key::{KeyAlgorithm, PrivateKey};

/// Default lifetime of a generated CA: longer than any identity it issues, so
/// a CA rotation is a deliberate decision, not an accident.
pub const DEFAULT_CA_VALIDITY: Duration = Duration::from_secs(20 * 365 * 24 * 3600);

/// Certificates start this long before "now": tolerates clock skew between
/// the replica that issues and the one that verifies.
pub(crate) const BACKDATE: Duration = Duration::from_secs(3600);

/// The organisation named in every certificate haishin issues.
pub(crate) const ORGANIZATION: &str = "haishin";

/// How to generate a device CA.
#[derive(Debug, Clone)]
pub struct CaOptions {
    /// The CA's common name, e.g. `haishin device CA (株式会社サンプル)`.
    pub common_name: String,
    /// Key algorithm; RSA-2048 by default (see the module documentation).
    pub key_algorithm: KeyAlgorithm,
    /// Lifetime from now.
    pub validity: Duration,
}

impl CaOptions {
    /// RSA-2048, [`DEFAULT_CA_VALIDITY`], the given common name.
    pub fn new(common_name: impl Into<String>) -> Self {
        Self {
            common_name: common_name.into(),
            key_algorithm: KeyAlgorithm::Rsa,
            validity: DEFAULT_CA_VALIDITY,
        }
    }
}

/// A random positive serial of 16 bytes (RFC 5280 allows up to 20).
pub(crate) fn random_serial() -> Result<rcgen::SerialNumber> {
    let mut bytes = [0u8; 16];
    SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| IdentityError::Crypto("random serial".into()))?;
    // Top bit clear keeps it positive; the next bit set keeps it 16 bytes long.
    bytes[0] = (bytes[0] & 0x7f) | 0x40;
    Ok(rcgen::SerialNumber::from_slice(&bytes))
}

pub(crate) fn validity_window(not_before: SystemTime, validity: Duration) -> Result<(OffsetDateTime, OffsetDateTime)> {
    if validity.is_zero() {
        return Err(IdentityError::InvalidParameter("validity must be positive"));
    }
    let not_after = not_before
        .checked_add(validity)
        .ok_or(IdentityError::InvalidParameter("validity too long"))?;
    Ok((not_before.into(), not_after.into()))
}

pub(crate) fn check_name(name: &str) -> Result<()> {
    // ub-common-name (RFC 5280) is 64 characters.
    if name.trim().is_empty() || name.chars().count() > 64 {
        return Err(IdentityError::InvalidParameter(
            "common name must be 1 to 64 characters",
        ));
    }
    Ok(())
}

/// The device CA with its private key. The server keeps the key sealed at rest
/// ([`PrivateKey::to_pkcs8_der`]) and the certificate in the clear.
#[derive(Debug)]
pub struct DeviceCa {
    anchor: TrustAnchor,
    key: PrivateKey,
}

impl DeviceCa {
    /// Generates an RSA-2048 CA valid for [`DEFAULT_CA_VALIDITY`].
    pub fn generate(common_name: &str) -> Result<Self> {
        Self::generate_with(&CaOptions::new(common_name))
    }

    /// Generates a CA with explicit options.
    pub fn generate_with(options: &CaOptions) -> Result<Self> {
        check_name(&options.common_name)?;
        let key = PrivateKey::generate(options.key_algorithm)?;
        let mut params = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        // Most specific last in DER, so RFC 4514 reads `CN=…,O=haishin`.
        dn.push(DnType::OrganizationName, ORGANIZATION);
        dn.push(DnType::CommonName, options.common_name.as_str());
        params.distinguished_name = dn;
        // Path length 0: this CA signs device identities only, never another CA.
        params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        params.serial_number = Some(random_serial()?);
        let start = SystemTime::now() - BACKDATE;
        (params.not_before, params.not_after) = validity_window(start, options.validity + BACKDATE)?;
        let cert = params.self_signed(&key)?;
        let anchor = TrustAnchor::from_der(cert.der())?;
        Ok(Self { anchor, key })
    }

    /// Loads a stored CA: certificate DER and PKCS#8 key DER.
    pub fn from_der(certificate_der: &[u8], key_pkcs8_der: &[u8]) -> Result<Self> {
        let anchor = TrustAnchor::from_der(certificate_der)?;
        let key = PrivateKey::from_pkcs8_der(key_pkcs8_der)?;
        Self::from_parts(anchor, key)
    }

    /// Loads a stored CA: certificate PEM and PKCS#8 key PEM.
    pub fn from_pem(certificate_pem: &str, key_pkcs8_pem: &str) -> Result<Self> {
        let anchor = TrustAnchor::from_pem(certificate_pem.as_bytes())?;
        let key = PrivateKey::from_pkcs8_pem(key_pkcs8_pem)?;
        Self::from_parts(anchor, key)
    }

    fn from_parts(anchor: TrustAnchor, key: PrivateKey) -> Result<Self> {
        let cert = cert::parse_der(anchor.certificate().der())?;
        if !key.matches(&cert.tbs_certificate.subject_public_key_info) {
            return Err(IdentityError::KeyMismatch);
        }
        Ok(Self { anchor, key })
    }

    /// The CA certificate.
    pub fn certificate(&self) -> &CertificateInfo {
        self.anchor.certificate()
    }

    /// The CA certificate as PEM, for storage or for a profile's certificate payload.
    pub fn certificate_pem(&self) -> String {
        self.certificate().to_pem()
    }

    /// The CA's private key (export with [`PrivateKey::to_pkcs8_der`] and seal it).
    pub fn key(&self) -> &PrivateKey {
        &self.key
    }

    /// The verification side of this CA.
    pub fn trust_anchor(&self) -> &TrustAnchor {
        &self.anchor
    }

    /// Signs `params` for `subject_key` with this CA.
    pub(crate) fn sign(&self, params: &CertificateParams, subject_key: &PrivateKey) -> Result<Vec<u8>> {
        // Rebuilding the issuer from the stored certificate keeps issuer name
        // and authority key identifier byte-identical to what the CA carries.
        let issuer = Issuer::from_ca_cert_pem(&self.certificate_pem(), &self.key)?;
        Ok(params.signed_by(subject_key, &issuer)?.der().to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generate_store_and_load_back() {
        for alg in [KeyAlgorithm::Rsa, KeyAlgorithm::EcdsaP256] {
            let mut options = CaOptions::new("haishin device CA");
            options.key_algorithm = alg;
            let ca = DeviceCa::generate_with(&options).unwrap();
            assert_eq!(ca.certificate().subject(), "CN=haishin device CA,O=haishin");
            assert_eq!(ca.certificate().common_name(), Some("haishin device CA"));

            let pem = ca.certificate_pem();
            let key_pem = ca.key().to_pkcs8_pem();
            let loaded = DeviceCa::from_pem(&pem, &key_pem).unwrap();
            assert_eq!(loaded.certificate(), ca.certificate());
            assert_eq!(loaded.key().algorithm(), alg);

            let from_der = DeviceCa::from_der(ca.certificate().der(), &ca.key().to_pkcs8_der()).unwrap();
            assert_eq!(from_der.certificate().der(), ca.certificate().der());
        }
    }

    #[test]
    fn validity_covers_now_and_the_requested_span() {
        let ca = DeviceCa::generate_with(&CaOptions {
            key_algorithm: KeyAlgorithm::EcdsaP256,
            ..CaOptions::new("ca")
        })
        .unwrap();
        let now = SystemTime::now();
        assert!(ca.certificate().not_before() < now);
        assert!(ca.certificate().not_after() > now + DEFAULT_CA_VALIDITY - Duration::from_secs(60));
    }

    #[test]
    fn a_key_from_another_ca_is_refused() {
        let a = DeviceCa::generate_with(&CaOptions {
            key_algorithm: KeyAlgorithm::EcdsaP256,
            ..CaOptions::new("a")
        })
        .unwrap();
        let b = DeviceCa::generate_with(&CaOptions {
            key_algorithm: KeyAlgorithm::EcdsaP256,
            ..CaOptions::new("b")
        })
        .unwrap();
        let err = DeviceCa::from_der(a.certificate().der(), &b.key().to_pkcs8_der()).unwrap_err();
        assert_eq!(err, IdentityError::KeyMismatch);
    }

    #[test]
    fn bad_names_and_validity_are_refused() {
        assert!(matches!(
            DeviceCa::generate(""),
            Err(IdentityError::InvalidParameter(_))
        ));
        assert!(matches!(
            DeviceCa::generate(&"x".repeat(65)),
            Err(IdentityError::InvalidParameter(_))
        ));
        assert!(validity_window(SystemTime::now(), Duration::ZERO).is_err());
    }
}
