use aws_lc_rs::digest::{SHA256, digest};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// A string that must never reach a log line: Debug and Display are redacted.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretString(String);

impl SecretString {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The only way to read the value: the call site says what it is doing.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for SecretString {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

impl std::fmt::Display for SecretString {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

/// A fresh bearer secret with a readable prefix (`hs_` for API tokens), 256
/// bits of randomness, URL-safe.
pub fn random_token(prefix: &str) -> SecretString {
    let mut bytes = [0u8; 32];
    aws_lc_rs::rand::fill(&mut bytes).expect("system RNG");
    SecretString(format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes)))
}

/// What the database stores for a bearer secret. A plain SHA-256 is enough
/// here (unlike passwords) because the secret itself has 256 bits of entropy;
/// it lets a lookup be one indexed equality match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenDigest(pub String);

impl TokenDigest {
    pub fn of(secret: &str) -> Self {
        let hash = digest(&SHA256, secret.as_bytes());
        Self(URL_SAFE_NO_PAD.encode(hash.as_ref()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_unique_prefixed_and_digest_stably() {
        let a = random_token("hs_");
        let b = random_token("hs_");
        assert_ne!(a, b);
        assert!(a.expose().starts_with("hs_"));
        assert_eq!(TokenDigest::of(a.expose()), TokenDigest::of(a.expose()));
        assert_ne!(TokenDigest::of(a.expose()), TokenDigest::of(b.expose()));
        assert!(!TokenDigest::of(a.expose()).0.contains(a.expose()));
    }

    #[test]
    fn secret_string_is_redacted_in_formatting() {
        let s = SecretString::new("hs_supersecret");
        assert_eq!(format!("{s:?} {s}"), "<redacted> <redacted>");
    }
}
