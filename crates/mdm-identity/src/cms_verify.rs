//! CMS SignedData verification: the `Mdm-Signature` header (detached content)
//! and signed profiles (attached content).
//!
//! Order of checks, so each refusal names its real cause: structure, then the
//! signer's certificate, then the message digest against the content, then the
//! signature, and only then the certificate's chain and validity.

use std::time::SystemTime;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use cms::content_info::ContentInfo;
use cms::signed_data::{SignedData, SignerIdentifier, SignerInfo};
use der::asn1::{ObjectIdentifier, OctetString};
use der::{Decode, Encode};
use x509_cert::Certificate;
use x509_cert::attr::Attribute;

use crate::algorithms::{self, ATTR_CONTENT_TYPE, ATTR_MESSAGE_DIGEST, DigestAlgorithm, ID_DATA, ID_SIGNED_DATA};
use crate::cert::{self, CertificateInfo, Purpose, TrustAnchor, VerifiedCertificate};
use crate::error::{IdentityError, Result};
use crate::tlv;

/// Base64 header values longer than this are refused before decoding: a
/// device's signature with its certificate is about 2–4 KB.
const MAX_HEADER_LEN: usize = 64 * 1024;
/// Signed profiles larger than this are refused (profiles with embedded
/// certificates and fonts stay far below).
const MAX_PROFILE_LEN: usize = 32 * 1024 * 1024;

const TAG_CONTEXT_0_CONSTRUCTED: u8 = 0xa0;
const TAG_SEQUENCE: u8 = 0x30;
const TAG_SET: u8 = 0x31;

/// A profile whose CMS signature verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedProfile {
    /// The profile bytes (the signed content).
    pub content: Vec<u8>,
    /// The certificate that signed it.
    pub signer: CertificateInfo,
    /// True when the signer was also checked against a trust anchor.
    pub chain_verified: bool,
}

struct Verified {
    content: Vec<u8>,
    signer: Certificate,
    signer_der: Vec<u8>,
}

/// The byte ranges of a SignedData that signatures cover, taken from the
/// message itself rather than re-encoded (see [`crate::tlv`]).
struct RawParts<'a> {
    certificates: Vec<&'a [u8]>,
    signed_attrs: Option<Vec<u8>>,
}

fn raw_parts(der: &[u8]) -> Result<RawParts<'_>> {
    let malformed = || IdentityError::Malformed("CMS SignedData");
    let (content_info, _) = tlv::element(der)?;
    let ci = tlv::children(content_info.content)?;
    let explicit = ci.get(1).ok_or_else(malformed)?;
    let (signed_data, _) = tlv::element(explicit.content)?;
    let sd = tlv::children(signed_data.content)?;
    let certificates = match sd.iter().skip(3).find(|e| e.first_octet == TAG_CONTEXT_0_CONSTRUCTED) {
        Some(set) => tlv::children(set.content)?
            .into_iter()
            .filter(|c| c.first_octet == TAG_SEQUENCE)
            .map(|c| c.raw)
            .collect(),
        None => Vec::new(),
    };
    let signer_infos = sd.last().filter(|e| e.first_octet == TAG_SET).ok_or_else(malformed)?;
    let signed_attrs = match tlv::children(signer_infos.content)?.first() {
        Some(info) => tlv::children(info.content)?
            .get(3)
            .filter(|e| e.first_octet == TAG_CONTEXT_0_CONSTRUCTED)
            .map(|e| {
                let mut bytes = e.raw.to_vec();
                bytes[0] = TAG_SET;
                bytes
            }),
        None => None,
    };
    Ok(RawParts {
        certificates,
        signed_attrs,
    })
}

fn find_signer<'a>(certificates: &[&'a [u8]], sid: &SignerIdentifier) -> Result<(Certificate, &'a [u8])> {
    for raw in certificates {
        let cert = Certificate::from_der(raw).map_err(|_| IdentityError::Malformed("certificate in CMS message"))?;
        let matches = match sid {
            SignerIdentifier::IssuerAndSerialNumber(ias) => {
                cert.tbs_certificate.issuer == ias.issuer && cert.tbs_certificate.serial_number == ias.serial_number
            }
            SignerIdentifier::SubjectKeyIdentifier(ski) => {
                cert::subject_key_identifier(&cert)?.as_deref() == Some(ski.0.as_bytes())
            }
        };
        if matches {
            return Ok((cert, raw));
        }
    }
    Err(IdentityError::SignerCertificateMissing)
}

/// The single value of a signed attribute, which RFC 5652 requires for
/// contentType and messageDigest.
fn single_value<'a>(attrs: &'a [Attribute], oid: ObjectIdentifier, name: &'static str) -> Result<&'a der::Any> {
    let mut found = attrs.iter().filter(|a| a.oid == oid);
    match (found.next(), found.next()) {
        (Some(attr), None) if attr.values.len() == 1 => {
            attr.values.iter().next().ok_or(IdentityError::SignedAttribute(name))
        }
        _ => Err(IdentityError::SignedAttribute(name)),
    }
}

/// Which bytes the signature must cover, most likely first.
fn signed_messages(
    info: &SignerInfo,
    raw_attrs: Option<Vec<u8>>,
    econtent_type: ObjectIdentifier,
    content: &[u8],
    digest: DigestAlgorithm,
) -> Result<Vec<Vec<u8>>> {
    let Some(attrs) = &info.signed_attrs else {
        // No signed attributes: the signature covers the content itself.
        return Ok(vec![content.to_vec()]);
    };
    let content_type = single_value(attrs.as_slice(), ATTR_CONTENT_TYPE, "contentType")?
        .decode_as::<ObjectIdentifier>()
        .map_err(|_| IdentityError::SignedAttribute("contentType"))?;
    if content_type != econtent_type {
        return Err(IdentityError::SignedAttribute("contentType"));
    }
    let claimed = single_value(attrs.as_slice(), ATTR_MESSAGE_DIGEST, "messageDigest")?
        .decode_as::<OctetString>()
        .map_err(|_| IdentityError::SignedAttribute("messageDigest"))?;
    if claimed.as_bytes() != digest.digest(content).as_slice() {
        return Err(IdentityError::DigestMismatch);
    }
    let raw = raw_attrs.ok_or(IdentityError::Malformed("signed attributes"))?;
    let mut messages = vec![raw];
    // A signer that sent its attributes out of DER order still signed the DER
    // (sorted) form; the decoded set is sorted, so offer that encoding too.
    let sorted = attrs
        .to_der()
        .map_err(|_| IdentityError::Malformed("signed attributes"))?;
    if sorted != messages[0] {
        messages.push(sorted);
    }
    Ok(messages)
}

/// Verifies a CMS SignedData (BER or DER) holding one signer; `detached` is
/// the content when the message does not carry it.
fn verify_cms(input: &[u8], detached: Option<&[u8]>) -> Result<Verified> {
    let der = tlv::ber_to_der(input)?;
    let content_info = ContentInfo::from_der(&der).map_err(|_| IdentityError::Malformed("CMS ContentInfo"))?;
    if content_info.content_type != ID_SIGNED_DATA {
        return Err(IdentityError::Malformed("CMS content is not SignedData"));
    }
    let signed_data: SignedData = content_info
        .content
        .decode_as()
        .map_err(|_| IdentityError::Malformed("CMS SignedData"))?;
    let raw = raw_parts(&der)?;
    let info = match signed_data.signer_infos.0.as_slice() {
        [] => return Err(IdentityError::NoSigner),
        [one] => one,
        _ => return Err(IdentityError::Malformed("more than one signer")),
    };
    let econtent_type = signed_data.encap_content_info.econtent_type;
    if econtent_type != ID_DATA {
        return Err(IdentityError::Malformed("encapsulated content is not id-data"));
    }
    let attached = match &signed_data.encap_content_info.econtent {
        Some(any) => Some(
            any.decode_as::<OctetString>()
                .map_err(|_| IdentityError::Malformed("encapsulated content"))?,
        ),
        None => None,
    };
    let content = match (attached, detached) {
        (Some(inside), Some(outside)) if inside.as_bytes() != outside => return Err(IdentityError::DigestMismatch),
        (_, Some(outside)) => outside.to_vec(),
        (Some(inside), None) => inside.into_bytes(),
        (None, None) => return Err(IdentityError::Malformed("no content to verify")),
    };

    let (signer, signer_der) = find_signer(&raw.certificates, &info.sid)?;
    let digest = DigestAlgorithm::from_identifier(&info.digest_alg)?;
    let messages = signed_messages(info, raw.signed_attrs, econtent_type, &content, digest)?;
    let spki = &signer.tbs_certificate.subject_public_key_info;
    let signature = info.signature.as_bytes();
    let mut result = Err(IdentityError::BadSignature);
    for message in &messages {
        result = algorithms::verify_signature(spki, &info.signature_algorithm, Some(digest), message, signature);
        if !matches!(result, Err(IdentityError::BadSignature)) {
            break;
        }
    }
    result?;
    let signer_der = signer_der.to_vec();
    Ok(Verified {
        content,
        signer,
        signer_der,
    })
}

impl TrustAnchor {
    /// Verifies an `Mdm-Signature` header value against the exact request
    /// body, now. Returns the device's certificate, which the caller compares
    /// with the identity recorded for the enrollment.
    pub fn verify_mdm_signature(&self, header_value: &str, body: &[u8]) -> Result<VerifiedCertificate> {
        self.verify_mdm_signature_at(header_value, body, SystemTime::now())
    }

    /// [`Self::verify_mdm_signature`] at a given time.
    pub fn verify_mdm_signature_at(
        &self,
        header_value: &str,
        body: &[u8],
        at: SystemTime,
    ) -> Result<VerifiedCertificate> {
        let verified = verify_header(header_value, body)?;
        self.check_issued(&verified.signer, &verified.signer_der, at, Purpose::DeviceIdentity)?;
        Ok(VerifiedCertificate::new(CertificateInfo::from_parsed(
            &verified.signer,
            verified.signer_der,
        )))
    }
}

/// Verifies an `Mdm-Signature` header against the body using only the
/// certificate the signature carries, and returns that certificate unchecked.
///
/// A multi-tenant server needs this first step to learn which enrollment (and
/// so which account's CA) the device claims; the caller must then check the
/// returned certificate with [`TrustAnchor::verify_client_certificate`]
/// before trusting it.
pub fn mdm_signature_signer(header_value: &str, body: &[u8]) -> Result<CertificateInfo> {
    let verified = verify_header(header_value, body)?;
    Ok(CertificateInfo::from_parsed(&verified.signer, verified.signer_der))
}

/// Decodes an `Mdm-Signature` value and checks it signs `body`.
fn verify_header(header_value: &str, body: &[u8]) -> Result<Verified> {
    let value = header_value.trim();
    if value.len() > MAX_HEADER_LEN {
        return Err(IdentityError::TooLarge {
            len: value.len(),
            limit: MAX_HEADER_LEN,
        });
    }
    let cms = STANDARD.decode(value)?;
    verify_cms(&cms, Some(body))
}

/// Verifies a signed profile (DER or BER CMS with attached content) and
/// returns its content. With `anchor`, the signer must also be issued by it
/// and be valid now; without, only the signature is checked and the caller
/// decides whether it trusts [`SignedProfile::signer`].
pub fn verify_signed_profile(cms: &[u8], anchor: Option<&TrustAnchor>) -> Result<SignedProfile> {
    verify_signed_profile_at(cms, anchor, SystemTime::now())
}

/// [`verify_signed_profile`] at a given time.
pub fn verify_signed_profile_at(cms: &[u8], anchor: Option<&TrustAnchor>, at: SystemTime) -> Result<SignedProfile> {
    if cms.len() > MAX_PROFILE_LEN {
        return Err(IdentityError::TooLarge {
            len: cms.len(),
            limit: MAX_PROFILE_LEN,
        });
    }
    let verified = verify_cms(cms, None)?;
    if let Some(anchor) = anchor {
        anchor.check_issued(&verified.signer, &verified.signer_der, at, Purpose::Any)?;
    }
    Ok(SignedProfile {
        content: verified.content,
        signer: CertificateInfo::from_parsed(&verified.signer, verified.signer_der),
        chain_verified: anchor.is_some(),
    })
}
