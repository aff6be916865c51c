use aws_lc_rs::aead::{Aad, NONCE_LEN, Nonce};

use crate::MasterKey;

/// Format version byte, so the sealing scheme can change without guessing
/// what an old row holds.
const VERSION: u8 = 1;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SealError {
    #[error("sealed secret is malformed")]
    Malformed,
    #[error("sealed secret does not open with this master key and context")]
    WrongKeyOrContext,
    #[error("encryption failed")]
    Encrypt,
}

/// A secret encrypted with AES-256-GCM under the master key.
///
/// The `context` (for example `"vpp-token:account=7"`) is bound as associated
/// data: a ciphertext copied into another account's row does not open there.
#[derive(Clone, PartialEq, Eq)]
pub struct Sealed(Vec<u8>);

impl std::fmt::Debug for Sealed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Sealed({} bytes)", self.0.len())
    }
}

impl Sealed {
    pub fn seal(key: &MasterKey, context: &[u8], plaintext: &[u8]) -> Result<Self, SealError> {
        let mut nonce = [0u8; NONCE_LEN];
        aws_lc_rs::rand::fill(&mut nonce).map_err(|_| SealError::Encrypt)?;
        let mut buffer = plaintext.to_vec();
        key.key
            .seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::from(context), &mut buffer)
            .map_err(|_| SealError::Encrypt)?;
        let mut out = Vec::with_capacity(1 + NONCE_LEN + buffer.len());
        out.push(VERSION);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&buffer);
        Ok(Self(out))
    }

    pub fn open(&self, key: &MasterKey, context: &[u8]) -> Result<Vec<u8>, SealError> {
        let (version, rest) = self.0.split_first().ok_or(SealError::Malformed)?;
        if *version != VERSION || rest.len() < NONCE_LEN {
            return Err(SealError::Malformed);
        }
        let (nonce, ciphertext) = rest.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| SealError::Malformed)?;
        let mut buffer = ciphertext.to_vec();
        let plain = key
            .key
            .open_in_place(nonce, Aad::from(context), &mut buffer)
            .map_err(|_| SealError::WrongKeyOrContext)?;
        Ok(plain.to_vec())
    }

    pub fn from_stored(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_fresh_nonce_each_time() {
        let (key, _) = MasterKey::generate();
        let a = Sealed::seal(&key, b"account=1", b"sToken").unwrap();
        let b = Sealed::seal(&key, b"account=1", b"sToken").unwrap();
        assert_ne!(a, b, "two seals of the same secret must differ");
        assert_eq!(a.open(&key, b"account=1").unwrap(), b"sToken");
        assert!(!a.as_bytes().windows(6).any(|w| w == b"sToken"));
    }

    #[test]
    fn wrong_context_key_or_tampering_is_refused() {
        let (key, _) = MasterKey::generate();
        let (other, _) = MasterKey::generate();
        let sealed = Sealed::seal(&key, b"account=1", b"secret").unwrap();
        assert_eq!(sealed.open(&key, b"account=2"), Err(SealError::WrongKeyOrContext));
        assert_eq!(sealed.open(&other, b"account=1"), Err(SealError::WrongKeyOrContext));
        let mut bytes = sealed.as_bytes().to_vec();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        assert_eq!(
            Sealed::from_stored(bytes).open(&key, b"account=1"),
            Err(SealError::WrongKeyOrContext)
        );
        assert_eq!(
            Sealed::from_stored(vec![9, 1, 2]).open(&key, b"account=1"),
            Err(SealError::Malformed)
        );
        assert_eq!(Sealed::from_stored(vec![]).open(&key, b""), Err(SealError::Malformed));
    }
}
