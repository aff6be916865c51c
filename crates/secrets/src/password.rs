use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};

#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    #[error("stored password hash is malformed")]
    MalformedHash,
    #[error("password hashing failed")]
    Hashing,
}

/// Hashes an admin password as a PHC string (argon2id with the crate's
/// recommended parameters), so parameters can be raised later per row.
pub fn hash_password(password: &str) -> Result<String, PasswordError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|_| PasswordError::Hashing)
}

pub fn verify_password(password: &str, stored: &str) -> Result<bool, PasswordError> {
    let parsed = PasswordHash::new(stored).map_err(|_| PasswordError::MalformedHash)?;
    Ok(Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verifies_right_password_only() {
        let hash = hash_password("パスワード123").unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("パスワード123", &hash).unwrap());
        assert!(!verify_password("パスワード124", &hash).unwrap());
        assert!(matches!(
            verify_password("x", "plain"),
            Err(PasswordError::MalformedHash)
        ));
    }
}
