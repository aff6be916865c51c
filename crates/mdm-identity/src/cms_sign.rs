//! CMS SignedData production: signed enrollment profiles (attached content)
//! and device-side `Mdm-Signature` values (detached content).
//!
//! The layout follows RFC 5652 as OpenSSL writes it, which Apple's profile
//! installer and the server's verifier both accept: SHA-256 digest, signed
//! attributes contentType/signingTime/messageDigest, the signature computed
//! over the DER of those attributes, and the signer's certificate (plus any
//! intermediates) in the certificate set so the verifier needs nothing else.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use cms::cert::{CertificateChoices, IssuerAndSerialNumber};
use cms::content_info::{CmsVersion, ContentInfo};
use cms::signed_data::{
    CertificateSet, EncapsulatedContentInfo, SignedData, SignerIdentifier, SignerInfo, SignerInfos,
};
use der::asn1::{GeneralizedTime, OctetString, SetOfVec, UtcTime};
use der::{Any, Encode, Tag};
use x509_cert::Certificate;
use x509_cert::attr::Attribute;
use x509_cert::ext::pkix::SubjectKeyIdentifier;

use crate::algorithms::{
    ATTR_CONTENT_TYPE, ATTR_MESSAGE_DIGEST, ATTR_SIGNING_TIME, DigestAlgorithm, ID_DATA, ID_SIGNED_DATA,
};
use crate::cert::{self, CertificateInfo};
use crate::error::{IdentityError, Result};
use crate::key::PrivateKey;

/// How the SignerInfo names its certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SignerIdentifierKind {
    /// issuerAndSerialNumber (CMS version 1): what Apple devices and OpenSSL use by default.
    #[default]
    IssuerAndSerialNumber,
    /// subjectKeyIdentifier (CMS version 3).
    SubjectKeyIdentifier,
}

/// Knobs for [`Signer::sign`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SignOptions {
    /// Leave the content out of the message (the verifier supplies it).
    pub detached: bool,
    /// How the signer's certificate is identified.
    pub signer_identifier: SignerIdentifierKind,
    /// The signingTime attribute; now when `None`.
    pub signing_time: Option<SystemTime>,
}

/// A certificate and its private key, able to produce CMS signatures.
#[derive(Debug)]
pub struct Signer {
    certificate: Certificate,
    info: CertificateInfo,
    intermediates: Vec<Certificate>,
    key: PrivateKey,
}

impl Signer {
    /// Pairs a DER certificate with its private key.
    pub fn new(certificate_der: &[u8], key: PrivateKey) -> Result<Self> {
        let certificate = cert::parse_der(certificate_der)?;
        if !key.matches(&certificate.tbs_certificate.subject_public_key_info) {
            return Err(IdentityError::KeyMismatch);
        }
        let info = CertificateInfo::from_parsed(&certificate, certificate_der.to_vec());
        Ok(Self {
            certificate,
            info,
            intermediates: Vec::new(),
            key,
        })
    }

    /// Loads a PEM chain (signing certificate first, then intermediates, as a
    /// TLS server's `fullchain.pem`) and a PKCS#8 PEM key. This is how a
    /// server signs profiles with its TLS certificate, which devices trust.
    pub fn from_pem(chain_pem: &str, key_pem: &str) -> Result<Self> {
        let chain = Certificate::load_pem_chain(chain_pem.as_bytes())
            .map_err(|_| IdentityError::InvalidPem("certificate chain"))?;
        let mut chain = chain.into_iter();
        let leaf = chain.next().ok_or(IdentityError::InvalidPem("no certificate"))?;
        let mut signer = Self::new(&cert::to_der(&leaf)?, PrivateKey::from_pkcs8_pem(key_pem)?)?;
        signer.intermediates = chain.collect();
        Ok(signer)
    }

    /// Adds intermediate certificates (DER) to every message this signer produces.
    pub fn with_intermediates<'a>(mut self, ders: impl IntoIterator<Item = &'a [u8]>) -> Result<Self> {
        for der in ders {
            self.intermediates.push(cert::parse_der(der)?);
        }
        Ok(self)
    }

    /// The signing certificate.
    pub fn certificate(&self) -> &CertificateInfo {
        &self.info
    }

    /// The private key.
    pub fn key(&self) -> &PrivateKey {
        &self.key
    }

    /// Signs `content` and returns the DER of a CMS ContentInfo(SignedData).
    pub fn sign(&self, content: &[u8], options: &SignOptions) -> Result<Vec<u8>> {
        let digest = DigestAlgorithm::Sha256;
        let signing_time = options.signing_time.unwrap_or_else(SystemTime::now);
        let attrs: SetOfVec<Attribute> = SetOfVec::try_from(vec![
            attribute(ATTR_CONTENT_TYPE, Any::encode_from(&ID_DATA)?)?,
            attribute(ATTR_SIGNING_TIME, signing_time_value(signing_time)?)?,
            attribute(ATTR_MESSAGE_DIGEST, Any::new(Tag::OctetString, digest.digest(content))?)?,
        ])?;
        // RFC 5652 §5.4: the signature covers the attributes encoded as a
        // universal SET OF, not with the [0] tag they carry in SignerInfo.
        let signature = self.key.sign_sha256(&attrs.to_der()?)?;

        let (sid, version) = match options.signer_identifier {
            SignerIdentifierKind::IssuerAndSerialNumber => (
                SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
                    issuer: self.certificate.tbs_certificate.issuer.clone(),
                    serial_number: self.certificate.tbs_certificate.serial_number.clone(),
                }),
                CmsVersion::V1,
            ),
            SignerIdentifierKind::SubjectKeyIdentifier => {
                let ski = cert::subject_key_identifier(&self.certificate)?
                    .ok_or(IdentityError::MissingSubjectKeyIdentifier)?;
                (
                    SignerIdentifier::SubjectKeyIdentifier(SubjectKeyIdentifier(OctetString::new(ski)?)),
                    CmsVersion::V3,
                )
            }
        };
        let signer_info = SignerInfo {
            version,
            sid,
            digest_alg: digest.identifier(),
            signed_attrs: Some(attrs),
            signature_algorithm: self.key.signature_algorithm(),
            signature: OctetString::new(signature)?,
            unsigned_attrs: None,
        };

        let mut certificates = vec![CertificateChoices::Certificate(self.certificate.clone())];
        certificates.extend(self.intermediates.iter().cloned().map(CertificateChoices::Certificate));
        let econtent = if options.detached {
            None
        } else {
            Some(Any::new(Tag::OctetString, content)?)
        };
        let signed_data = SignedData {
            // RFC 5652 §5.1: version 3 as soon as a SignerInfo is version 3.
            version,
            digest_algorithms: SetOfVec::try_from(vec![digest.identifier()])?,
            encap_content_info: EncapsulatedContentInfo {
                econtent_type: ID_DATA,
                econtent,
            },
            certificates: Some(CertificateSet(SetOfVec::try_from(certificates)?)),
            crls: None,
            signer_infos: SignerInfos(SetOfVec::try_from(vec![signer_info])?),
        };
        let content_info = ContentInfo {
            content_type: ID_SIGNED_DATA,
            content: Any::encode_from(&signed_data)?,
        };
        Ok(content_info.to_der()?)
    }
}

fn attribute(oid: der::asn1::ObjectIdentifier, value: Any) -> Result<Attribute> {
    Ok(Attribute {
        oid,
        values: SetOfVec::try_from(vec![value])?,
    })
}

/// RFC 5652 §11.3: UTCTime through 2049, GeneralizedTime after.
fn signing_time_value(at: SystemTime) -> Result<Any> {
    let secs = at
        .duration_since(UNIX_EPOCH)
        .map_err(|_| IdentityError::InvalidParameter("signing time before 1970"))?
        .as_secs();
    let whole = Duration::from_secs(secs);
    match UtcTime::from_unix_duration(whole) {
        Ok(utc) if utc.to_date_time().year() < 2050 => Ok(Any::encode_from(&utc)?),
        _ => Ok(Any::encode_from(&GeneralizedTime::from_unix_duration(whole)?)?),
    }
}

/// Signs a `.mobileconfig` (its exact bytes) for delivery: attached content,
/// issuer-and-serial signer, SHA-256. Returns DER, served as
/// `application/x-apple-aspen-config`.
pub fn sign_profile(profile: &[u8], signer: &Signer) -> Result<Vec<u8>> {
    signer.sign(profile, &SignOptions::default())
}

/// Signs an MDM request body the way a device does for `Mdm-Signature`:
/// detached content, returned as the base64 header value.
pub fn sign_mdm_body(body: &[u8], signer: &Signer) -> Result<String> {
    let der = signer.sign(
        body,
        &SignOptions {
            detached: true,
            ..SignOptions::default()
        },
    )?;
    Ok(STANDARD.encode(der))
}
