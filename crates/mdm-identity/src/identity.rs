//! Device identities: the client certificate and key a device receives in its
//! enrollment profile.
//!
//! **Why a PKCS#12 payload and not SCEP.** With `com.apple.security.pkcs12`
//! haishin generates the key and certificate itself and ships them inside the
//! enrollment profile: there is no SCEP server to run and secure, no extra
//! round trip from the device during installation (a common failure point
//! behind proxies), and the payload works on every OS version the product
//! targets (iOS 4+, macOS 10.7+). The cost: the device's private key is
//! created on the server and travels inside the profile, protected by TLS on
//! the way and by a random password Apple only obfuscates in the profile. The
//! server must therefore serve enrollment profiles over TLS only, to an
//! authenticated enrollment, and never keep the PFX or its password after
//! delivery.

use std::time::{Duration, SystemTime};

use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use rcgen::{CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa, KeyUsagePurpose};

use crate::ca::{self, DeviceCa};
use crate::cert::CertificateInfo;
use crate::cms_sign::{self, Signer};
use crate::error::{IdentityError, Result};
use crate::key::{KeyAlgorithm, PrivateKey};
use crate::pkcs12;

/// Default lifetime of a device identity. PKCS#12 identities are not renewed
/// by the device on its own (unlike SCEP with renewal), so expiry means
/// re-enrollment: long enough to outlive a typical device deployment.
pub const DEFAULT_IDENTITY_VALIDITY: Duration = Duration::from_secs(5 * 365 * 24 * 3600);

/// How to issue a device identity.
#[derive(Debug, Clone)]
pub struct IdentityOptions {
    /// The enrollment id to name in the certificate; random when `None`.
    pub enrollment_id: Option<String>,
    /// Key algorithm; RSA-2048 by default, see [`crate::ca`] for why.
    pub key_algorithm: KeyAlgorithm,
    /// Lifetime from `not_before`.
    pub validity: Duration,
    /// Start of validity; defaults to now minus a small clock-skew margin.
    pub not_before: Option<SystemTime>,
}

impl Default for IdentityOptions {
    fn default() -> Self {
        Self {
            enrollment_id: None,
            key_algorithm: KeyAlgorithm::Rsa,
            validity: DEFAULT_IDENTITY_VALIDITY,
            not_before: None,
        }
    }
}

/// A random enrollment id in UUID v4 form, upper case as Apple writes UUIDs.
pub fn random_enrollment_id() -> Result<String> {
    let mut b = [0u8; 16];
    SystemRandom::new()
        .fill(&mut b)
        .map_err(|_| IdentityError::Crypto("random enrollment id".into()))?;
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02X}")).collect();
    Ok(format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    ))
}

/// A device's client identity: certificate, key and the enrollment it names.
#[derive(Debug)]
pub struct DeviceIdentity {
    enrollment_id: String,
    signer: Signer,
}

impl DeviceCa {
    /// Issues a device identity with the defaults: random enrollment id,
    /// RSA-2048, [`DEFAULT_IDENTITY_VALIDITY`].
    pub fn issue_identity(&self) -> Result<DeviceIdentity> {
        self.issue_identity_with(&IdentityOptions::default())
    }

    /// Issues a device identity: subject `CN=<enrollment id>, O=haishin`,
    /// EKU clientAuth, key usage digitalSignature, not a CA.
    pub fn issue_identity_with(&self, options: &IdentityOptions) -> Result<DeviceIdentity> {
        let enrollment_id = match &options.enrollment_id {
            Some(id) => id.clone(),
            None => random_enrollment_id()?,
        };
        ca::check_name(&enrollment_id)?;
        let key = PrivateKey::generate(options.key_algorithm)?;

        let mut params = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        // Most specific last in DER, so RFC 4514 reads `CN=…,O=haishin`.
        dn.push(DnType::OrganizationName, ca::ORGANIZATION);
        dn.push(DnType::CommonName, enrollment_id.as_str());
        params.distinguished_name = dn;
        // Explicit cA=FALSE also makes rcgen write a subject key identifier,
        // which signers identified by SKI need.
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        params.use_authority_key_identifier_extension = true;
        params.serial_number = Some(ca::random_serial()?);
        let start = options.not_before.unwrap_or_else(|| SystemTime::now() - ca::BACKDATE);
        (params.not_before, params.not_after) = ca::validity_window(start, options.validity)?;

        let der = self.sign(&params, &key)?;
        Ok(DeviceIdentity {
            enrollment_id,
            signer: Signer::new(&der, key)?,
        })
    }
}

impl DeviceIdentity {
    /// Pairs a certificate with its key (the device side, after reading a profile).
    pub fn new(certificate_der: &[u8], key: PrivateKey) -> Result<Self> {
        let signer = Signer::new(certificate_der, key)?;
        let enrollment_id = signer.certificate().common_name().unwrap_or_default().to_owned();
        Ok(Self { enrollment_id, signer })
    }

    /// Reads an identity back from a PKCS#12 blob (what a device does with the payload).
    pub fn from_pkcs12(pfx: &[u8], password: &str) -> Result<Self> {
        let (cert, key) = pkcs12::parse(pfx, password)?;
        Self::new(&cert, PrivateKey::from_pkcs8_der(&key)?)
    }

    /// Packages certificate and key as a PKCS#12 blob for a
    /// `com.apple.security.pkcs12` payload (algorithms: see [`crate::pkcs12`]).
    pub fn to_pkcs12(&self, password: &str) -> Result<Vec<u8>> {
        pkcs12::build(
            self.certificate().der(),
            &self.key().to_pkcs8_der(),
            password,
            &format!("haishin {}", self.enrollment_id),
        )
    }

    /// The enrollment id named in the certificate's common name.
    pub fn enrollment_id(&self) -> &str {
        &self.enrollment_id
    }

    /// The identity certificate.
    pub fn certificate(&self) -> &CertificateInfo {
        self.signer.certificate()
    }

    /// The identity's private key.
    pub fn key(&self) -> &PrivateKey {
        self.signer.key()
    }

    /// Signs a request body as a device does for the `Mdm-Signature` header:
    /// base64 of a detached CMS SignedData (SHA-256, signed attributes,
    /// certificate included).
    pub fn sign_mdm_body(&self, body: &[u8]) -> Result<String> {
        cms_sign::sign_mdm_body(body, &self.signer)
    }

    /// This identity as a CMS signer (for [`SignOptions`](crate::SignOptions) beyond the defaults).
    pub fn signer(&self) -> &Signer {
        &self.signer
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ca::CaOptions;

    fn ca() -> DeviceCa {
        DeviceCa::generate_with(&CaOptions {
            key_algorithm: KeyAlgorithm::EcdsaP256,
            ..CaOptions::new("test CA")
        })
        .unwrap()
    }

    #[test]
    fn enrollment_ids_look_like_uuids() {
        let id = random_enrollment_id().unwrap();
        assert_eq!(id.len(), 36);
        assert_eq!(&id[14..15], "4");
        assert_ne!(id, random_enrollment_id().unwrap());
    }

    #[test]
    fn issued_identity_names_the_enrollment_and_chains_to_the_ca() {
        let ca = ca();
        let id = ca.issue_identity().unwrap();
        let cert = id.certificate();
        assert_eq!(cert.common_name(), Some(id.enrollment_id()));
        assert_eq!(cert.subject(), format!("CN={},O=haishin", id.enrollment_id()));
        assert_eq!(cert.issuer(), ca.certificate().subject());
        assert_eq!(id.key().algorithm(), KeyAlgorithm::Rsa);
        let verified = ca.trust_anchor().verify_client_certificate(cert.der()).unwrap();
        assert_eq!(verified.sha256_fingerprint(), cert.sha256_fingerprint());
        let years = cert.not_after().duration_since(cert.not_before()).unwrap().as_secs() / (365 * 24 * 3600);
        assert_eq!(years, 5);
    }

    #[test]
    fn pkcs12_round_trip_and_wrong_password() {
        let ca = ca();
        let id = ca
            .issue_identity_with(&IdentityOptions {
                key_algorithm: KeyAlgorithm::EcdsaP256,
                ..IdentityOptions::default()
            })
            .unwrap();
        let password = pkcs12::generate_password().unwrap();
        let pfx = id.to_pkcs12(password.as_str()).unwrap();
        let back = DeviceIdentity::from_pkcs12(&pfx, password.as_str()).unwrap();
        assert_eq!(back.certificate(), id.certificate());
        assert_eq!(back.enrollment_id(), id.enrollment_id());
        assert_eq!(back.key().public_key_raw(), id.key().public_key_raw());
        assert!(matches!(
            DeviceIdentity::from_pkcs12(&pfx, "wrong"),
            Err(IdentityError::Pkcs12(_))
        ));
    }

    #[test]
    fn debug_output_carries_no_key_material() {
        let ca = ca();
        let id = ca.issue_identity().unwrap();
        for shown in [format!("{id:?}"), format!("{ca:?}")] {
            assert!(shown.contains("PrivateKey { algorithm:"), "{shown}");
            for key in [id.key(), ca.key()] {
                let pkcs8 = key.to_pkcs8_der();
                // The private part is the tail of the PKCS#8; look for any
                // 16-byte window of it, in the forms Debug could print bytes.
                for window in pkcs8[pkcs8.len() / 2..].windows(16).step_by(16) {
                    assert!(!shown.contains(&format!("{window:?}")));
                    assert!(!shown.contains(&format!("{window:02x?}")));
                }
            }
        }
    }

    #[test]
    fn mismatched_key_is_refused() {
        let ca = ca();
        let id = ca.issue_identity().unwrap();
        let other = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
        assert_eq!(
            DeviceIdentity::new(id.certificate().der(), other).unwrap_err(),
            IdentityError::KeyMismatch
        );
    }
}
