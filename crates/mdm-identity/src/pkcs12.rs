//! PKCS#12 (PFX) packaging of a device identity for the
//! `com.apple.security.pkcs12` payload.
//!
//! **Algorithms: `pbeWithSHAAnd3-KeyTripleDES-CBC` for both the key bag and
//! the certificate bag, HMAC-SHA1 integrity, 2048 iterations.** This is the
//! combination OpenSSL 1.x wrote by default and every Apple OS version
//! imports. OpenSSL 3's default (PBES2/PBKDF2-HMAC-SHA256/AES-256-CBC with an
//! HMAC-SHA256 MAC) is refused by `SecPKCS12Import` on many Apple OS versions
//! still in the field: public reports show "wrong password" failures on
//! macOS 13 and on iOS 17, and fixes that consist of re-exporting with
//! `openssl pkcs12 -legacy`. RC2-40, the other legacy choice, is weaker than
//! 3DES and needs OpenSSL's legacy provider to read back.
//!
//! The weak KDF costs little here: the password is random (see
//! [`generate_password`]), the blob travels only inside an enrollment profile
//! over TLS, and Apple's documentation warns that the profile itself is only
//! obfuscated, not encrypted, so the PFX encryption was never the protection.

use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use p12_keystore::{
    Certificate as P12Certificate, EncryptionAlgorithm, KeyStore, KeyStoreEntry, MacAlgorithm, Pkcs12ImportPolicy,
    PrivateKey as P12PrivateKey, PrivateKeyChain,
};
use zeroize::Zeroizing;

use crate::algorithms::DigestAlgorithm;
use crate::error::{IdentityError, Result};

/// Iterations for the key derivation and the MAC: OpenSSL's historic
/// default, known to import everywhere.
const ITERATIONS: u32 = 2048;
/// A PFX larger than this is not a device identity.
const MAX_PFX_LEN: usize = 256 * 1024;

fn p12_error(e: impl std::fmt::Display) -> IdentityError {
    IdentityError::Pkcs12(e.to_string())
}

/// A PKCS#12 password. `Debug` hides it; the memory is wiped on drop.
#[derive(Clone, PartialEq, Eq)]
pub struct Pkcs12Password(Zeroizing<String>);

impl Pkcs12Password {
    /// The password, to put in the payload's `Password` key.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Pkcs12Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pkcs12Password(..)")
    }
}

/// A random 32-character alphanumeric password for a PKCS#12 payload.
///
/// ASCII only, because PKCS#12 turns the password into BMPString and some
/// importers disagree on anything beyond ASCII.
pub fn generate_password() -> Result<Pkcs12Password> {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    let mut out = Zeroizing::new(String::with_capacity(32));
    let rng = SystemRandom::new();
    while out.len() < 32 {
        let mut byte = [0u8; 1];
        rng.fill(&mut byte)
            .map_err(|_| IdentityError::Crypto("random password".into()))?;
        // Rejection sampling keeps every character equally likely.
        let limit = 256 - 256 % ALPHABET.len();
        if usize::from(byte[0]) < limit {
            out.push(char::from(ALPHABET[usize::from(byte[0]) % ALPHABET.len()]));
        }
    }
    Ok(Pkcs12Password(out))
}

/// Builds a PFX holding `certificate_der` and its PKCS#8 key.
pub(crate) fn build(certificate_der: &[u8], key_pkcs8: &[u8], password: &str, friendly_name: &str) -> Result<Vec<u8>> {
    let cert = P12Certificate::from_der(certificate_der).map_err(p12_error)?;
    let key = P12PrivateKey::from_der(key_pkcs8).map_err(p12_error)?;
    // localKeyID = SHA-1 of the certificate, as OpenSSL and Keychain write it;
    // importers pair the key with its certificate through it.
    let local_key_id = DigestAlgorithm::Sha1.digest(certificate_der);
    let chain = PrivateKeyChain::new(local_key_id, key, [cert]);
    let mut store = KeyStore::new();
    store.add_entry(friendly_name, KeyStoreEntry::PrivateKeyChain(chain));
    store
        .writer(password)
        .encryption_algorithm(EncryptionAlgorithm::PbeWithShaAnd3KeyTripleDesCbc)
        .encryption_iterations(ITERATIONS)
        .mac_algorithm(MacAlgorithm::HmacSha1)
        .mac_iterations(ITERATIONS)
        .write()
        .map_err(p12_error)
}

/// Reads the first identity out of a PFX: the leaf certificate (DER) and its
/// PKCS#8 key (DER). Also what a server needs to accept a push certificate
/// exported from Keychain Access as .p12.
pub fn parse(pfx: &[u8], password: &str) -> Result<(Vec<u8>, Zeroizing<Vec<u8>>)> {
    if pfx.len() > MAX_PFX_LEN {
        return Err(IdentityError::TooLarge {
            len: pfx.len(),
            limit: MAX_PFX_LEN,
        });
    }
    let store = KeyStore::from_pkcs12(pfx, password, Pkcs12ImportPolicy::Strict).map_err(p12_error)?;
    let (_, chain) = store
        .private_key_chain()
        .ok_or_else(|| IdentityError::Pkcs12("no private key with a certificate".into()))?;
    let leaf = chain
        .certs()
        .first()
        .ok_or_else(|| IdentityError::Pkcs12("no certificate for the key".into()))?;
    Ok((leaf.as_der().to_vec(), Zeroizing::new(chain.key().as_der().to_vec())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_random_ascii() {
        let a = generate_password().unwrap();
        let b = generate_password().unwrap();
        assert_eq!(a.as_str().len(), 32);
        assert!(a.as_str().chars().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(a, b);
        assert_eq!(format!("{a:?}"), "Pkcs12Password(..)");
    }

    #[test]
    fn garbage_is_refused_not_panicked_on() {
        for input in [&b""[..], b"\x30\x03\x02\x01\x03", &[0xff; 64]] {
            assert!(matches!(parse(input, "pw"), Err(IdentityError::Pkcs12(_))));
        }
    }
}
