//! The algorithm identifiers this crate accepts and how they map onto aws-lc-rs.
//!
//! The accepted set is deliberately small: what Apple devices, our own signer
//! and OpenSSL produce for MDM (RSA PKCS#1 v1.5 and ECDSA P-256, SHA-256, plus
//! SHA-1 for old RSA signers). Everything else is refused by name rather than
//! attempted.

use aws_lc_rs::{digest, signature};
use der::asn1::ObjectIdentifier as Oid;
use der::{Any, Tag};
use x509_cert::spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};

use crate::error::{IdentityError, Result};

pub(crate) const ID_DATA: Oid = Oid::new_unwrap("1.2.840.113549.1.7.1");
pub(crate) const ID_SIGNED_DATA: Oid = Oid::new_unwrap("1.2.840.113549.1.7.2");
pub(crate) const ATTR_CONTENT_TYPE: Oid = Oid::new_unwrap("1.2.840.113549.1.9.3");
pub(crate) const ATTR_MESSAGE_DIGEST: Oid = Oid::new_unwrap("1.2.840.113549.1.9.4");
pub(crate) const ATTR_SIGNING_TIME: Oid = Oid::new_unwrap("1.2.840.113549.1.9.5");

const SHA1: Oid = Oid::new_unwrap("1.3.14.3.2.26");
const SHA256: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.1");
const RSA_ENCRYPTION: Oid = Oid::new_unwrap("1.2.840.113549.1.1.1");
const SHA1_WITH_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.5");
const SHA256_WITH_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.11");
const EC_PUBLIC_KEY: Oid = Oid::new_unwrap("1.2.840.10045.2.1");
const ECDSA_WITH_SHA256: Oid = Oid::new_unwrap("1.2.840.10045.4.3.2");
const PRIME256V1: Oid = Oid::new_unwrap("1.2.840.10045.3.1.7");

pub(crate) const EKU_CLIENT_AUTH: Oid = Oid::new_unwrap("1.3.6.1.5.5.7.3.2");
pub(crate) const EKU_ANY: Oid = Oid::new_unwrap("2.5.29.37.0");

/// A message digest used in CMS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DigestAlgorithm {
    /// SHA-256: what this crate signs with.
    Sha256,
    /// SHA-1: accepted when verifying, because older devices sign with it.
    Sha1,
}

impl DigestAlgorithm {
    pub(crate) fn from_identifier(id: &AlgorithmIdentifierOwned) -> Result<Self> {
        match id.oid {
            SHA256 => Ok(Self::Sha256),
            SHA1 => Ok(Self::Sha1),
            other => Err(IdentityError::UnsupportedAlgorithm(format!("digest {other}"))),
        }
    }

    pub(crate) fn identifier(self) -> AlgorithmIdentifierOwned {
        // RFC 5754: SHA-2 identifiers are generated with absent parameters.
        let oid = match self {
            Self::Sha256 => SHA256,
            Self::Sha1 => SHA1,
        };
        AlgorithmIdentifierOwned { oid, parameters: None }
    }

    pub(crate) fn digest(self, data: &[u8]) -> Vec<u8> {
        let alg = match self {
            Self::Sha256 => &digest::SHA256,
            Self::Sha1 => &digest::SHA1_FOR_LEGACY_USE_ONLY,
        };
        digest::digest(alg, data).as_ref().to_vec()
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum KeyFamily {
    Rsa,
    EcP256,
}

fn key_family(spki: &SubjectPublicKeyInfoOwned) -> Result<KeyFamily> {
    match spki.algorithm.oid {
        RSA_ENCRYPTION => Ok(KeyFamily::Rsa),
        EC_PUBLIC_KEY => {
            let curve = spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.decode_as::<Oid>().ok());
            match curve {
                Some(PRIME256V1) => Ok(KeyFamily::EcP256),
                Some(other) => Err(IdentityError::UnsupportedAlgorithm(format!("curve {other}"))),
                None => Err(IdentityError::UnsupportedAlgorithm("EC key without named curve".into())),
            }
        }
        other => Err(IdentityError::UnsupportedAlgorithm(format!("public key {other}"))),
    }
}

/// Verifies `signature` over `message` with the key in `spki`.
///
/// `digest` is the digest the context fixes (a CMS SignerInfo's
/// digestAlgorithm); it is required when the signature algorithm names only
/// the key type (`rsaEncryption`, as OpenSSL writes), and must agree with it
/// otherwise.
pub(crate) fn verify_signature(
    spki: &SubjectPublicKeyInfoOwned,
    algorithm: &AlgorithmIdentifierOwned,
    digest: Option<DigestAlgorithm>,
    message: &[u8],
    signature_bytes: &[u8],
) -> Result<()> {
    let (family, named_digest) = match algorithm.oid {
        SHA256_WITH_RSA => (KeyFamily::Rsa, Some(DigestAlgorithm::Sha256)),
        SHA1_WITH_RSA => (KeyFamily::Rsa, Some(DigestAlgorithm::Sha1)),
        RSA_ENCRYPTION => (KeyFamily::Rsa, None),
        ECDSA_WITH_SHA256 => (KeyFamily::EcP256, Some(DigestAlgorithm::Sha256)),
        EC_PUBLIC_KEY => (KeyFamily::EcP256, None),
        other => return Err(IdentityError::UnsupportedAlgorithm(format!("signature {other}"))),
    };
    let digest = match (named_digest, digest) {
        (Some(a), Some(b)) if a != b => {
            return Err(IdentityError::UnsupportedAlgorithm(
                "signature algorithm and digest algorithm disagree".into(),
            ));
        }
        (Some(a), _) | (None, Some(a)) => a,
        (None, None) => {
            return Err(IdentityError::UnsupportedAlgorithm(format!(
                "signature {} without a digest",
                algorithm.oid
            )));
        }
    };
    if key_family(spki)? != family {
        return Err(IdentityError::BadSignature);
    }
    let alg: &dyn signature::VerificationAlgorithm = match (family, digest) {
        (KeyFamily::Rsa, DigestAlgorithm::Sha256) => &signature::RSA_PKCS1_2048_8192_SHA256,
        (KeyFamily::Rsa, DigestAlgorithm::Sha1) => &signature::RSA_PKCS1_2048_8192_SHA1_FOR_LEGACY_USE_ONLY,
        (KeyFamily::EcP256, DigestAlgorithm::Sha256) => &signature::ECDSA_P256_SHA256_ASN1,
        (KeyFamily::EcP256, DigestAlgorithm::Sha1) => {
            return Err(IdentityError::UnsupportedAlgorithm("ECDSA with SHA-1".into()));
        }
    };
    let key = spki
        .subject_public_key
        .as_bytes()
        .ok_or(IdentityError::Malformed("public key"))?;
    signature::UnparsedPublicKey::new(alg, key)
        .verify(message, signature_bytes)
        .map_err(|_| IdentityError::BadSignature)
}

/// The signatureAlgorithm identifier for SHA-256 signatures by an RSA key.
pub(crate) fn sha256_with_rsa() -> AlgorithmIdentifierOwned {
    // RFC 4055: the parameters of sha256WithRSAEncryption are an explicit NULL.
    AlgorithmIdentifierOwned {
        oid: SHA256_WITH_RSA,
        parameters: Some(Any::new(Tag::Null, Vec::<u8>::new()).expect("empty NULL is valid")),
    }
}

/// The signatureAlgorithm identifier for ECDSA with SHA-256.
pub(crate) fn ecdsa_with_sha256() -> AlgorithmIdentifierOwned {
    // RFC 5758: ecdsa-with-SHA256 has absent parameters.
    AlgorithmIdentifierOwned {
        oid: ECDSA_WITH_SHA256,
        parameters: None,
    }
}
