use std::fmt;

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{self, EcdsaKeyPair, KeyPair as _, RsaKeyPair};
use der::pem::LineEnding;
use x509_cert::spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};
use zeroize::Zeroizing;

use crate::algorithms;
use crate::error::{IdentityError, Result};

const PKCS8_PEM_LABEL: &str = "PRIVATE KEY";

/// The kinds of key this crate generates and loads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyAlgorithm {
    /// RSA; generated keys are 2048 bits. Loaded keys may be larger.
    Rsa,
    /// ECDSA on NIST P-256.
    EcdsaP256,
}

enum Inner {
    Rsa(RsaKeyPair),
    Ec(EcdsaKeyPair),
}

/// A private key, held by aws-lc-rs, with its PKCS#8 encoding for storage.
///
/// `Debug` shows only the algorithm; the PKCS#8 copy is wiped on drop.
pub struct PrivateKey {
    inner: Inner,
    pkcs8: Zeroizing<Vec<u8>>,
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PrivateKey")
            .field("algorithm", &self.algorithm())
            .finish_non_exhaustive()
    }
}

fn crypto(what: &str) -> IdentityError {
    IdentityError::Crypto(what.to_owned())
}

impl PrivateKey {
    /// Generates a fresh key (RSA keys are 2048 bits).
    pub fn generate(algorithm: KeyAlgorithm) -> Result<Self> {
        let pkcs8 = match algorithm {
            KeyAlgorithm::Rsa => {
                let pair = RsaKeyPair::generate(KeySize::Rsa2048).map_err(|_| crypto("RSA key generation"))?;
                let der = pair.as_der().map_err(|_| crypto("RSA key encoding"))?;
                der.as_ref().to_vec()
            }
            KeyAlgorithm::EcdsaP256 => {
                let doc =
                    EcdsaKeyPair::generate_pkcs8(&signature::ECDSA_P256_SHA256_ASN1_SIGNING, &SystemRandom::new())
                        .map_err(|_| crypto("EC key generation"))?;
                doc.as_ref().to_vec()
            }
        };
        Self::from_pkcs8_der(&pkcs8)
    }

    /// Loads a PKCS#8 (unencrypted) DER private key: RSA or EC P-256.
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self> {
        let pkcs8 = Zeroizing::new(der.to_vec());
        let inner = if let Ok(pair) = RsaKeyPair::from_pkcs8(der) {
            Inner::Rsa(pair)
        } else if let Ok(pair) = EcdsaKeyPair::from_pkcs8(&signature::ECDSA_P256_SHA256_ASN1_SIGNING, der) {
            Inner::Ec(pair)
        } else {
            return Err(IdentityError::InvalidKey);
        };
        Ok(Self { inner, pkcs8 })
    }

    /// Loads a `-----BEGIN PRIVATE KEY-----` PEM.
    pub fn from_pkcs8_pem(pem: &str) -> Result<Self> {
        let (label, der) = der::pem::decode_vec(pem.trim().as_bytes()).map_err(|_| IdentityError::InvalidPem("key"))?;
        let der = Zeroizing::new(der);
        if label != PKCS8_PEM_LABEL {
            return Err(IdentityError::InvalidPem("expected a PKCS#8 PRIVATE KEY"));
        }
        Self::from_pkcs8_der(&der)
    }

    /// The PKCS#8 DER encoding, for sealing at rest.
    pub fn to_pkcs8_der(&self) -> Zeroizing<Vec<u8>> {
        self.pkcs8.clone()
    }

    /// The PKCS#8 PEM encoding.
    pub fn to_pkcs8_pem(&self) -> Zeroizing<String> {
        Zeroizing::new(
            der::pem::encode_string(PKCS8_PEM_LABEL, LineEnding::LF, &self.pkcs8)
                .expect("PEM encoding of a byte string cannot fail"),
        )
    }

    /// The key's algorithm.
    pub fn algorithm(&self) -> KeyAlgorithm {
        match self.inner {
            Inner::Rsa(_) => KeyAlgorithm::Rsa,
            Inner::Ec(_) => KeyAlgorithm::EcdsaP256,
        }
    }

    /// The raw public key: PKCS#1 RSAPublicKey for RSA, the uncompressed point for EC.
    pub(crate) fn public_key_raw(&self) -> &[u8] {
        match &self.inner {
            Inner::Rsa(pair) => pair.public_key().as_ref(),
            Inner::Ec(pair) => pair.public_key().as_ref(),
        }
    }

    /// True when `spki` is this key's public half.
    pub(crate) fn matches(&self, spki: &SubjectPublicKeyInfoOwned) -> bool {
        spki.subject_public_key.as_bytes() == Some(self.public_key_raw())
    }

    /// Signs `message` with SHA-256 (RSA PKCS#1 v1.5, or ECDSA with a DER signature).
    pub(crate) fn sign_sha256(&self, message: &[u8]) -> Result<Vec<u8>> {
        let rng = SystemRandom::new();
        match &self.inner {
            Inner::Rsa(pair) => {
                let mut out = vec![0; pair.public_modulus_len()];
                pair.sign(&signature::RSA_PKCS1_SHA256, &rng, message, &mut out)
                    .map_err(|_| crypto("RSA signing"))?;
                Ok(out)
            }
            Inner::Ec(pair) => Ok(pair
                .sign(&rng, message)
                .map_err(|_| crypto("ECDSA signing"))?
                .as_ref()
                .to_vec()),
        }
    }

    /// The signatureAlgorithm identifier matching [`Self::sign_sha256`].
    pub(crate) fn signature_algorithm(&self) -> AlgorithmIdentifierOwned {
        match self.inner {
            Inner::Rsa(_) => algorithms::sha256_with_rsa(),
            Inner::Ec(_) => algorithms::ecdsa_with_sha256(),
        }
    }
}

// rcgen signs certificates through these traits, so the key never leaves
// aws-lc-rs and no second copy is parsed.
impl rcgen::PublicKeyData for PrivateKey {
    fn der_bytes(&self) -> &[u8] {
        self.public_key_raw()
    }

    fn algorithm(&self) -> &'static rcgen::SignatureAlgorithm {
        match self.inner {
            Inner::Rsa(_) => &rcgen::PKCS_RSA_SHA256,
            Inner::Ec(_) => &rcgen::PKCS_ECDSA_P256_SHA256,
        }
    }
}

impl rcgen::SigningKey for PrivateKey {
    fn sign(&self, msg: &[u8]) -> std::result::Result<Vec<u8>, rcgen::Error> {
        self.sign_sha256(msg).map_err(|_| rcgen::Error::RingUnspecified)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkcs8_round_trips_for_both_algorithms() {
        for alg in [KeyAlgorithm::Rsa, KeyAlgorithm::EcdsaP256] {
            let key = PrivateKey::generate(alg).unwrap();
            let from_der = PrivateKey::from_pkcs8_der(&key.to_pkcs8_der()).unwrap();
            let from_pem = PrivateKey::from_pkcs8_pem(&key.to_pkcs8_pem()).unwrap();
            assert_eq!(from_der.algorithm(), alg);
            assert_eq!(from_pem.public_key_raw(), key.public_key_raw());
        }
    }

    #[test]
    fn debug_never_shows_key_material() {
        let key = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
        let shown = format!("{key:?}");
        assert_eq!(shown, "PrivateKey { algorithm: EcdsaP256, .. }");
    }

    #[test]
    fn garbage_and_wrong_labels_are_refused() {
        assert_eq!(
            PrivateKey::from_pkcs8_der(b"nope").unwrap_err(),
            IdentityError::InvalidKey
        );
        let cert_pem = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
        assert!(matches!(
            PrivateKey::from_pkcs8_pem(cert_pem),
            Err(IdentityError::InvalidPem(_))
        ));
    }
}
