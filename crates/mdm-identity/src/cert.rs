//! Reading certificates and checking that one was issued by the device CA.

use std::fmt::Write as _;
use std::time::SystemTime;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use der::pem::LineEnding;
use der::{Decode, Encode};
use x509_cert::Certificate;
use x509_cert::ext::pkix::{BasicConstraints, ExtendedKeyUsage, SubjectKeyIdentifier};

use crate::algorithms::{self, EKU_ANY, EKU_CLIENT_AUTH};
use crate::error::{IdentityError, Result};
use crate::tlv;

const CERT_PEM_LABEL: &str = "CERTIFICATE";
/// A certificate larger than this is not one we issued or a device sends.
const MAX_CERT_LEN: usize = 64 * 1024;
const OID_COMMON_NAME: der::asn1::ObjectIdentifier = der::asn1::ObjectIdentifier::new_unwrap("2.5.4.3");

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// Decodes a certificate given as DER, PEM, or an RFC 9440 `Client-Cert`
/// header value (`:base64-DER:`), the forms a TLS terminator or proxy passes on.
/// URL-escaped PEM must be unescaped by the caller (that is HTTP's business).
pub(crate) fn decode_der_or_pem(input: &[u8]) -> Result<Vec<u8>> {
    if input.len() > MAX_CERT_LEN * 2 {
        return Err(IdentityError::TooLarge {
            len: input.len(),
            limit: MAX_CERT_LEN * 2,
        });
    }
    let trimmed = input.trim_ascii();
    if trimmed.starts_with(b"-----BEGIN") {
        let (label, der) = der::pem::decode_vec(trimmed).map_err(|_| IdentityError::InvalidPem("certificate"))?;
        if label != CERT_PEM_LABEL {
            return Err(IdentityError::InvalidPem("expected a CERTIFICATE"));
        }
        return Ok(der);
    }
    if let Some(inner) = trimmed.strip_prefix(b":").and_then(|s| s.strip_suffix(b":")) {
        return Ok(STANDARD.decode(inner)?);
    }
    Ok(input.to_vec())
}

/// Parses DER into a certificate, keeping the exact bytes alongside.
pub(crate) fn parse_der(der: &[u8]) -> Result<Certificate> {
    if der.len() > MAX_CERT_LEN {
        return Err(IdentityError::TooLarge {
            len: der.len(),
            limit: MAX_CERT_LEN,
        });
    }
    Certificate::from_der(der).map_err(|_| IdentityError::Malformed("certificate"))
}

/// The bytes of the tbsCertificate as they were signed.
fn raw_tbs(der: &[u8]) -> Result<&[u8]> {
    let (outer, _) = tlv::element(der)?;
    let (tbs, _) = tlv::element(outer.content)?;
    Ok(tbs.raw)
}

pub(crate) fn subject_key_identifier(cert: &Certificate) -> Result<Option<Vec<u8>>> {
    let ski = cert
        .tbs_certificate
        .get::<SubjectKeyIdentifier>()
        .map_err(|_| IdentityError::Malformed("subject key identifier"))?;
    Ok(ski.map(|(_, ski)| ski.0.as_bytes().to_vec()))
}

/// What a caller needs to know about a certificate to match it to an enrollment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateInfo {
    der: Vec<u8>,
    subject: String,
    issuer: String,
    common_name: Option<String>,
    serial: Vec<u8>,
    not_before: SystemTime,
    not_after: SystemTime,
}

impl CertificateInfo {
    /// Reads a certificate (DER, PEM or `:base64:`) without checking who issued it.
    pub fn parse(der_or_pem: &[u8]) -> Result<Self> {
        Self::from_der(&decode_der_or_pem(der_or_pem)?)
    }

    /// Reads a DER certificate without checking who issued it.
    pub fn from_der(der: &[u8]) -> Result<Self> {
        let cert = parse_der(der)?;
        Ok(Self::from_parsed(&cert, der.to_vec()))
    }

    pub(crate) fn from_parsed(cert: &Certificate, der: Vec<u8>) -> Self {
        let tbs = &cert.tbs_certificate;
        let common_name = tbs
            .subject
            .0
            .iter()
            .flat_map(|rdn| rdn.0.iter())
            .find(|atv| atv.oid == OID_COMMON_NAME)
            .and_then(|atv| {
                atv.value
                    .decode_as::<der::asn1::Utf8StringRef<'_>>()
                    .map(|s| s.as_str().to_owned())
                    .or_else(|_| {
                        atv.value
                            .decode_as::<der::asn1::PrintableStringRef<'_>>()
                            .map(|s| s.as_str().to_owned())
                    })
                    .ok()
            });
        Self {
            subject: tbs.subject.to_string(),
            issuer: tbs.issuer.to_string(),
            common_name,
            serial: tbs.serial_number.as_bytes().to_vec(),
            not_before: tbs.validity.not_before.to_system_time(),
            not_after: tbs.validity.not_after.to_system_time(),
            der,
        }
    }

    /// The certificate's DER encoding.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The certificate as PEM.
    pub fn to_pem(&self) -> String {
        der::pem::encode_string(CERT_PEM_LABEL, LineEnding::LF, &self.der).expect("PEM encoding of bytes cannot fail")
    }

    /// The subject as an RFC 4514 string, e.g. `CN=…,O=haishin`.
    pub fn subject(&self) -> &str {
        &self.subject
    }

    /// The issuer as an RFC 4514 string.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The subject's first commonName, when it is a UTF8String or PrintableString.
    /// For device identities this is the enrollment id.
    pub fn common_name(&self) -> Option<&str> {
        self.common_name.as_deref()
    }

    /// The serial number in lower-case hex, as DER has it (no sign stripping).
    pub fn serial_hex(&self) -> String {
        hex(&self.serial)
    }

    /// SHA-256 of the DER, lower-case hex: the stable key to store with an enrollment.
    pub fn sha256_fingerprint(&self) -> String {
        hex(&algorithms::DigestAlgorithm::Sha256.digest(&self.der))
    }

    /// Start of validity.
    pub fn not_before(&self) -> SystemTime {
        self.not_before
    }

    /// End of validity.
    pub fn not_after(&self) -> SystemTime {
        self.not_after
    }
}

/// A certificate that chained to the device CA and was within its validity
/// at the time of the check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedCertificate(CertificateInfo);

impl VerifiedCertificate {
    pub(crate) fn new(info: CertificateInfo) -> Self {
        Self(info)
    }

    /// The verified certificate's details.
    pub fn info(&self) -> &CertificateInfo {
        &self.0
    }

    /// Unwraps into the details.
    pub fn into_info(self) -> CertificateInfo {
        self.0
    }
}

impl std::ops::Deref for VerifiedCertificate {
    type Target = CertificateInfo;

    fn deref(&self) -> &CertificateInfo {
        &self.0
    }
}

/// What the certificate is going to be used for, which decides the EKU check.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Purpose {
    /// A device identity: TLS client or Mdm-Signature signer.
    DeviceIdentity,
    /// Anything else issued by the anchor (a profile signer): no EKU check.
    Any,
}

/// The device CA's certificate: what the server needs to check device identities.
///
/// Only certificates issued directly by this CA are accepted; haishin's CA
/// issues device identities itself, so there is no intermediate to walk.
#[derive(Debug, Clone)]
pub struct TrustAnchor {
    cert: Certificate,
    info: CertificateInfo,
}

impl TrustAnchor {
    /// Loads the CA certificate from DER.
    pub fn from_der(der: &[u8]) -> Result<Self> {
        let cert = parse_der(der)?;
        let info = CertificateInfo::from_parsed(&cert, der.to_vec());
        Ok(Self { cert, info })
    }

    /// Loads the CA certificate from PEM (or DER, or `:base64:`).
    pub fn from_pem(pem: &[u8]) -> Result<Self> {
        Self::from_der(&decode_der_or_pem(pem)?)
    }

    /// The CA certificate's details.
    pub fn certificate(&self) -> &CertificateInfo {
        &self.info
    }

    /// Checks a TLS client certificate (or one forwarded by a proxy, as DER,
    /// PEM or RFC 9440 `:base64:`) against this CA, now.
    pub fn verify_client_certificate(&self, der_or_pem: &[u8]) -> Result<VerifiedCertificate> {
        self.verify_client_certificate_at(der_or_pem, SystemTime::now())
    }

    /// [`Self::verify_client_certificate`] at a given time.
    pub fn verify_client_certificate_at(&self, der_or_pem: &[u8], at: SystemTime) -> Result<VerifiedCertificate> {
        let der = decode_der_or_pem(der_or_pem)?;
        let cert = parse_der(&der)?;
        self.check_issued(&cert, &der, at, Purpose::DeviceIdentity)?;
        Ok(VerifiedCertificate(CertificateInfo::from_parsed(&cert, der)))
    }

    /// Checks that `cert` (whose exact encoding is `der`) was issued by this CA
    /// and is usable for `purpose` at `at`.
    pub(crate) fn check_issued(&self, cert: &Certificate, der: &[u8], at: SystemTime, purpose: Purpose) -> Result<()> {
        let ca = &self.cert.tbs_certificate;
        if at < ca.validity.not_before.to_system_time() || at > ca.validity.not_after.to_system_time() {
            return Err(IdentityError::CaNotValid);
        }
        if der == self.info.der() {
            return Err(IdentityError::NotADeviceCertificate("it is the CA certificate"));
        }
        let tbs = &cert.tbs_certificate;
        if tbs.issuer != ca.subject {
            return Err(IdentityError::WrongCa);
        }
        let signature = cert
            .signature
            .as_bytes()
            .ok_or(IdentityError::Malformed("certificate signature"))?;
        match algorithms::verify_signature(
            &ca.subject_public_key_info,
            &cert.signature_algorithm,
            None,
            raw_tbs(der)?,
            signature,
        ) {
            Ok(()) => {}
            // Same issuer name but another key: a different CA, or a forgery.
            Err(IdentityError::BadSignature) => return Err(IdentityError::WrongCa),
            Err(e) => return Err(e),
        }
        let not_before = tbs.validity.not_before.to_system_time();
        let not_after = tbs.validity.not_after.to_system_time();
        if at < not_before {
            return Err(IdentityError::NotYetValid { not_before });
        }
        if at > not_after {
            return Err(IdentityError::Expired { not_after });
        }
        let constraints = tbs
            .get::<BasicConstraints>()
            .map_err(|_| IdentityError::Malformed("basic constraints"))?;
        if constraints.is_some_and(|(_, bc)| bc.ca) {
            return Err(IdentityError::NotADeviceCertificate("it is a CA certificate"));
        }
        if purpose == Purpose::DeviceIdentity {
            let eku = tbs
                .get::<ExtendedKeyUsage>()
                .map_err(|_| IdentityError::Malformed("extended key usage"))?;
            if let Some((_, eku)) = eku
                && !eku.0.iter().any(|oid| *oid == EKU_CLIENT_AUTH || *oid == EKU_ANY)
            {
                return Err(IdentityError::NotADeviceCertificate("no clientAuth extended key usage"));
            }
        }
        Ok(())
    }
}

/// Encodes a parsed certificate back to DER (for certificates we built ourselves).
pub(crate) fn to_der(cert: &Certificate) -> Result<Vec<u8>> {
    cert.to_der().map_err(|_| IdentityError::Malformed("certificate"))
}
