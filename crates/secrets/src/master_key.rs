use std::fs;
use std::io::Write;
use std::path::Path;

use aws_lc_rs::aead::{AES_256_GCM, LessSafeKey, UnboundKey};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

pub const KEY_LEN: usize = 32;

#[derive(Debug, thiserror::Error)]
pub enum MasterKeyError {
    #[error("master key file {path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("master key must be {KEY_LEN} bytes, base64-encoded (got {0} bytes)")]
    WrongLength(usize),
    #[error("master key is not valid base64: {0}")]
    NotBase64(#[from] base64::DecodeError),
}

/// The key that seals every secret stored in the database.
///
/// Kept out of the database on purpose: a leaked database dump alone must not
/// reveal content tokens or push keys.
pub struct MasterKey {
    pub(crate) key: LessSafeKey,
    /// For signed links ([`MasterKey::sign`]), derived from the same bytes.
    pub(crate) signing: aws_lc_rs::hmac::Key,
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(<redacted>)")
    }
}

impl MasterKey {
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, MasterKeyError> {
        if bytes.len() != KEY_LEN {
            return Err(MasterKeyError::WrongLength(bytes.len()));
        }
        let unbound = UnboundKey::new(&AES_256_GCM, bytes).expect("length checked above");
        Ok(Self {
            key: LessSafeKey::new(unbound),
            signing: crate::signing::signing_key(bytes),
        })
    }

    /// Parses the base64 form used in `HAISHIN_MASTER_KEY` and the key file.
    pub fn from_base64(text: &str) -> Result<Self, MasterKeyError> {
        let bytes = STANDARD.decode(text.trim())?;
        Self::from_bytes(&bytes)
    }

    pub fn generate() -> (Self, String) {
        let mut bytes = [0u8; KEY_LEN];
        aws_lc_rs::rand::fill(&mut bytes).expect("system RNG");
        let encoded = STANDARD.encode(bytes);
        (Self::from_bytes(&bytes).expect("right length"), encoded)
    }

    /// Loads the key file, creating it (mode 0600) on first run so a fresh data
    /// directory needs no set-up step.
    pub fn load_or_create(path: &Path) -> Result<Self, MasterKeyError> {
        let io_err = |source| MasterKeyError::Io {
            path: path.display().to_string(),
            source,
        };
        match fs::read_to_string(path) {
            Ok(text) => Self::from_base64(&text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let (key, encoded) = Self::generate();
                let mut options = fs::OpenOptions::new();
                options.write(true).create_new(true);
                #[cfg(unix)]
                {
                    use std::os::unix::fs::OpenOptionsExt;
                    options.mode(0o600);
                }
                let mut file = options.open(path).map_err(io_err)?;
                file.write_all(encoded.as_bytes()).map_err(io_err)?;
                file.sync_all().map_err(io_err)?;
                Ok(key)
            }
            Err(e) => Err(io_err(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_file_is_created_once_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("master.key");
        let first = MasterKey::load_or_create(&path).unwrap();
        let sealed = crate::Sealed::seal(&first, b"ctx", b"secret").unwrap();
        let second = MasterKey::load_or_create(&path).unwrap();
        assert_eq!(sealed.open(&second, b"ctx").unwrap(), b"secret");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn rejects_short_and_non_base64_keys() {
        assert!(matches!(
            MasterKey::from_base64("AAAA"),
            Err(MasterKeyError::WrongLength(3))
        ));
        assert!(matches!(
            MasterKey::from_base64("not base64!"),
            Err(MasterKeyError::NotBase64(_))
        ));
    }

    #[test]
    fn debug_never_shows_key_material() {
        let (key, encoded) = MasterKey::generate();
        let shown = format!("{key:?}");
        assert!(!shown.contains(&encoded));
        assert!(shown.contains("redacted"));
    }
}
