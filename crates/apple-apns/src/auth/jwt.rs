//! Token authentication: an ES256 JWT (`{alg, kid}` / `{iss, iat}`) signed with the team's
//! .p8 key, sent as `authorization: bearer <jwt>`.
//!
//! APNs rejects a token older than an hour (ExpiredProviderToken) and answers
//! TooManyProviderTokenUpdates when a provider mints new ones more than once per 20 minutes,
//! so one token is shared by every request and replaced on a schedule, not per push.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::header::HeaderValue;

use super::Secret;
use crate::error::ConfigError;

/// Age at which a token is replaced: inside Apple's 20 to 60 minute window, with room for
/// clock skew between us and APNs.
pub const TOKEN_REFRESH_AFTER: Duration = Duration::from_secs(50 * 60);

/// Apple's floor between two new tokens.
pub const TOKEN_MIN_REFRESH_INTERVAL: Duration = Duration::from_secs(20 * 60);

/// A .p8 signing key with its key id and team id.
#[derive(Clone)]
pub struct TokenAuth {
    key: Secret<Arc<EcdsaKeyPair>>,
    key_id: String,
    team_id: String,
    refresh_after: Duration,
    min_refresh_interval: Duration,
}

impl std::fmt::Debug for TokenAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenAuth")
            .field("key_id", &self.key_id)
            .field("team_id", &self.team_id)
            .field("key", &self.key)
            .field("refresh_after", &self.refresh_after)
            .field("min_refresh_interval", &self.min_refresh_interval)
            .finish()
    }
}

impl TokenAuth {
    /// Reads an Apple .p8 file (PEM `PRIVATE KEY`, PKCS#8, P-256).
    pub fn from_p8(p8_pem: &[u8], key_id: impl Into<String>, team_id: impl Into<String>) -> Result<Self, ConfigError> {
        let key_id = identifier("key id", key_id.into())?;
        let team_id = identifier("team id", team_id.into())?;
        let text = std::str::from_utf8(p8_pem).map_err(|_| ConfigError::BadSigningKey("not UTF-8 text".into()))?;
        let (label, mut der) = x509_cert::der::pem::decode_vec(text.trim().as_bytes())
            .map_err(|e| ConfigError::BadSigningKey(format!("PEM: {e}")))?;
        if label != "PRIVATE KEY" {
            der.fill(0);
            return Err(ConfigError::BadSigningKey(format!(
                "expected a `PRIVATE KEY` block, found `{label}`"
            )));
        }
        let parsed = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &der);
        // The DER copy is the raw secret; do not leave it in freed memory.
        der.fill(0);
        let key = parsed.map_err(|e| ConfigError::BadSigningKey(format!("not a P-256 PKCS#8 key ({e})")))?;
        Ok(TokenAuth {
            key: Secret(Arc::new(key)),
            key_id,
            team_id,
            refresh_after: TOKEN_REFRESH_AFTER,
            min_refresh_interval: TOKEN_MIN_REFRESH_INTERVAL,
        })
    }

    /// Changes when tokens are replaced. Only simulators and tests should go below Apple's
    /// limits ([`TOKEN_REFRESH_AFTER`], [`TOKEN_MIN_REFRESH_INTERVAL`]).
    pub fn with_refresh_timing(mut self, refresh_after: Duration, min_refresh_interval: Duration) -> Self {
        self.refresh_after = refresh_after;
        self.min_refresh_interval = min_refresh_interval;
        self
    }

    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    pub fn team_id(&self) -> &str {
        &self.team_id
    }

    /// The uncompressed P-256 public point, to verify tokens with.
    pub fn public_key(&self) -> Vec<u8> {
        self.key.0.public_key().as_ref().to_vec()
    }

    fn sign(&self, issued_at: SystemTime) -> Option<String> {
        let iat = issued_at.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
        let header = serde_json::json!({ "alg": "ES256", "kid": self.key_id });
        let claims = serde_json::json!({ "iss": self.team_id, "iat": iat });
        let mut jwt = URL_SAFE_NO_PAD.encode(header.to_string());
        jwt.push('.');
        jwt.push_str(&URL_SAFE_NO_PAD.encode(claims.to_string()));
        // FIXED signing gives r||s, which is JWS's ES256 encoding (not DER).
        let signature = self.key.0.sign(&SystemRandom::new(), jwt.as_bytes()).ok()?;
        jwt.push('.');
        jwt.push_str(&URL_SAFE_NO_PAD.encode(signature.as_ref()));
        Some(jwt)
    }
}

fn identifier(field: &'static str, value: String) -> Result<String, ConfigError> {
    let trimmed = value.trim();
    if trimmed.is_empty() || !trimmed.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(ConfigError::BadIdentifier { field, value });
    }
    Ok(trimmed.to_owned())
}

/// The header value of the token in use, and which token it was (to tell, after an
/// ExpiredProviderToken, whether another request already replaced it).
#[derive(Clone)]
pub(crate) struct Bearer {
    pub(crate) header: HeaderValue,
    pub(crate) generation: u64,
}

impl std::fmt::Debug for Bearer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bearer")
            .field("generation", &self.generation)
            .finish_non_exhaustive()
    }
}

struct Minted {
    bearer: Bearer,
    issued_at: SystemTime,
}

/// One token shared by every request of a client.
pub(crate) struct TokenCache {
    auth: TokenAuth,
    // A std mutex: the critical section is one ECDSA signature at most, never an await.
    state: Mutex<Option<Minted>>,
}

impl TokenCache {
    pub(crate) fn new(auth: TokenAuth) -> Self {
        TokenCache {
            auth,
            state: Mutex::new(None),
        }
    }

    /// The token to send now, minting one if there is none or it reached `refresh_after`.
    pub(crate) fn current(&self) -> Option<Bearer> {
        self.current_at(SystemTime::now())
    }

    /// After APNs answered ExpiredProviderToken to `rejected`: a new token if allowed, the
    /// current one if another request already replaced it, or `None` when Apple's 20-minute
    /// floor forbids a new one (the push then fails rather than risk
    /// TooManyProviderTokenUpdates for every push of the connection).
    pub(crate) fn replace(&self, rejected: &Bearer) -> Option<Bearer> {
        self.replace_at(rejected, SystemTime::now())
    }

    fn current_at(&self, now: SystemTime) -> Option<Bearer> {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(m) = state.as_ref()
            && age(m.issued_at, now) < self.auth.refresh_after
        {
            return Some(m.bearer.clone());
        }
        self.mint(&mut state, now)
    }

    fn replace_at(&self, rejected: &Bearer, now: SystemTime) -> Option<Bearer> {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        match state.as_ref() {
            Some(m) if m.bearer.generation != rejected.generation => Some(m.bearer.clone()),
            Some(m) if age(m.issued_at, now) < self.auth.min_refresh_interval => None,
            _ => self.mint(&mut state, now),
        }
    }

    fn mint(&self, state: &mut Option<Minted>, now: SystemTime) -> Option<Bearer> {
        let jwt = self.auth.sign(now)?;
        let mut header = HeaderValue::try_from(format!("bearer {jwt}")).ok()?;
        // Keeps the token out of HPACK's dynamic table and out of HeaderValue's Debug.
        header.set_sensitive(true);
        let generation = state.as_ref().map_or(1, |m| m.bearer.generation + 1);
        let bearer = Bearer { header, generation };
        tracing::debug!(generation, key_id = %self.auth.key_id, "minted a new APNs provider token");
        *state = Some(Minted {
            bearer: bearer.clone(),
            issued_at: now,
        });
        Some(bearer)
    }
}

/// A clock that went backwards counts as no time passed, so it never triggers a refresh storm.
fn age(issued_at: SystemTime, now: SystemTime) -> Duration {
    now.duration_since(issued_at).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED, UnparsedPublicKey};

    fn p8() -> String {
        rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)
            .unwrap()
            .serialize_pem()
    }

    fn auth() -> TokenAuth {
        TokenAuth::from_p8(p8().as_bytes(), "ABC123DEFG", "TEAM123456").unwrap()
    }

    fn jwt(b: &Bearer) -> String {
        b.header.to_str().unwrap().strip_prefix("bearer ").unwrap().to_owned()
    }

    fn decode(part: &str) -> serde_json::Value {
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
    }

    #[test]
    fn token_has_apple_header_and_claims_and_verifies() {
        let auth = auth();
        let now = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let token = auth.sign(now).unwrap();
        let parts: Vec<&str> = token.split('.').collect();
        assert_eq!(parts.len(), 3);
        assert_eq!(
            decode(parts[0]),
            serde_json::json!({"alg": "ES256", "kid": "ABC123DEFG"})
        );
        assert_eq!(
            decode(parts[1]),
            serde_json::json!({"iss": "TEAM123456", "iat": 1_800_000_000u64})
        );
        let sig = URL_SAFE_NO_PAD.decode(parts[2]).unwrap();
        assert_eq!(sig.len(), 64);
        let public = UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, auth.public_key());
        let input = format!("{}.{}", parts[0], parts[1]);
        public.verify(input.as_bytes(), &sig).unwrap();
        assert!(public.verify(b"tampered", &sig).is_err());
    }

    #[test]
    fn token_is_reused_until_refresh_after() {
        let cache = TokenCache::new(auth());
        let t0 = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let first = cache.current_at(t0).unwrap();
        let later = cache.current_at(t0 + Duration::from_secs(49 * 60)).unwrap();
        assert_eq!(first.generation, later.generation);
        assert_eq!(jwt(&first), jwt(&later));
        let renewed = cache.current_at(t0 + TOKEN_REFRESH_AFTER).unwrap();
        assert_eq!(renewed.generation, first.generation + 1);
        assert_ne!(jwt(&first), jwt(&renewed));
        assert_eq!(
            decode(jwt(&renewed).split('.').nth(1).unwrap())["iat"],
            1_800_000_000u64 + 50 * 60
        );
    }

    #[test]
    fn a_clock_going_backwards_does_not_mint() {
        let cache = TokenCache::new(auth());
        let t0 = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let first = cache.current_at(t0).unwrap();
        let back = cache.current_at(t0 - Duration::from_secs(3600)).unwrap();
        assert_eq!(first.generation, back.generation);
    }

    #[test]
    fn expired_token_is_replaced_only_after_twenty_minutes() {
        let cache = TokenCache::new(auth());
        let t0 = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let first = cache.current_at(t0).unwrap();
        assert!(cache.replace_at(&first, t0 + Duration::from_secs(19 * 60)).is_none());
        let second = cache.replace_at(&first, t0 + TOKEN_MIN_REFRESH_INTERVAL).unwrap();
        assert_eq!(second.generation, first.generation + 1);
        // Another request rejected with the first token must not mint a third one.
        let again = cache.replace_at(&first, t0 + TOKEN_MIN_REFRESH_INTERVAL).unwrap();
        assert_eq!(again.generation, second.generation);
    }

    #[test]
    fn bad_keys_and_ids_are_refused_with_clear_errors() {
        let err = TokenAuth::from_p8(b"garbage", "ABC123DEFG", "TEAM123456").unwrap_err();
        assert!(matches!(err, ConfigError::BadSigningKey(_)), "{err}");
        let rsa = rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256)
            .unwrap()
            .serialize_pem();
        let err = TokenAuth::from_p8(rsa.as_bytes(), "ABC123DEFG", "TEAM123456").unwrap_err();
        assert!(matches!(err, ConfigError::BadSigningKey(_)), "{err}");
        let cert = rcgen::generate_simple_self_signed(vec!["x".into()]).unwrap().cert.pem();
        let err = TokenAuth::from_p8(cert.as_bytes(), "ABC123DEFG", "TEAM123456").unwrap_err();
        assert!(err.to_string().contains("CERTIFICATE"), "{err}");
        let err = TokenAuth::from_p8(p8().as_bytes(), "AuthKey_ABC.p8", "TEAM123456").unwrap_err();
        assert!(
            matches!(err, ConfigError::BadIdentifier { field: "key id", .. }),
            "{err}"
        );
        let err = TokenAuth::from_p8(p8().as_bytes(), "ABC123DEFG", "").unwrap_err();
        assert!(
            matches!(err, ConfigError::BadIdentifier { field: "team id", .. }),
            "{err}"
        );
    }

    #[test]
    fn debug_never_shows_key_or_token() {
        let pem = p8();
        let auth = TokenAuth::from_p8(pem.as_bytes(), "ABC123DEFG", "TEAM123456").unwrap();
        let dbg = format!("{auth:?}");
        assert!(dbg.contains("ABC123DEFG") && dbg.contains("<redacted>"), "{dbg}");
        for line in pem.lines().filter(|l| !l.starts_with("-----")) {
            assert!(!dbg.contains(line), "{dbg}");
        }
        let cache = TokenCache::new(auth);
        let bearer = cache.current().unwrap();
        let dbg = format!("{bearer:?} {:?}", bearer.header);
        assert!(!dbg.contains(&jwt(&bearer)), "{dbg}");
        assert!(!dbg.contains("eyJ"), "{dbg}");
    }
}
