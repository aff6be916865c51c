//! Content tokens (`.vpptoken` files, "sTokens").
//!
//! The file holds one line: Base64 of `{"token": …, "expDate": …, "orgName": …}`.
//! The whole Base64 string is the credential sent to Apple; the decoded fields are only
//! for display. Both are secrets in the sense that matters: anyone holding the string can
//! manage the location's licences, so nothing here prints it.

use std::fmt;

use base64::Engine;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use serde_json::{Map, Value};
use time::OffsetDateTime;

use crate::datetime;

/// Apple's files carry padding, but a copy-pasted token may have lost it; missing padding
/// is harmless and truncation is still caught by the JSON decode.
const LENIENT_B64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// The raw sToken string as sent on the wire. `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct SToken(String);

impl SToken {
    /// Wraps a raw sToken without checking it (the server side of a simulator, or a token
    /// whose metadata is irrelevant).
    pub fn new(raw: impl Into<String>) -> Self {
        Self(raw.into())
    }

    /// The secret itself, for the Authorization header or storage encryption.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Builds a token the way Apple encodes one; used by simulators and tests.
    pub fn encode(token: &str, expires_at: OffsetDateTime, org_name: &str) -> Self {
        let json = serde_json::json!({
            "token": token,
            "expDate": datetime::format(expires_at),
            "orgName": org_name,
        });
        Self(base64::engine::general_purpose::STANDARD.encode(json.to_string()))
    }
}

impl fmt::Debug for SToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SToken(<redacted>)")
    }
}

/// A parsed content token: the wire string plus what an administrator needs to see.
#[derive(Clone, PartialEq, Eq)]
pub struct ContentToken {
    stoken: SToken,
    org_name: String,
    expires_at: OffsetDateTime,
}

impl fmt::Debug for ContentToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ContentToken")
            .field("org_name", &self.org_name)
            .field("expires_at", &self.expires_at)
            .field("stoken", &self.stoken)
            .finish()
    }
}

/// Why a content token file could not be used. No variant carries token content.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the token file is empty")]
    Empty,
    #[error("the token is not Base64 (invalid character at byte {position})")]
    NotBase64 { position: usize },
    #[error("the token is truncated (incomplete Base64 or JSON)")]
    Truncated,
    #[error("the decoded token is not JSON")]
    NotJson,
    #[error("the decoded token has the wrong JSON shape: {0}")]
    WrongShape(&'static str),
    #[error("the token has no `{0}` field")]
    MissingField(&'static str),
    #[error("the token's expDate `{0}` is not a date")]
    BadDate(String),
    #[error("the token expired at {expired_at}")]
    Expired { expired_at: OffsetDateTime },
}

impl ContentToken {
    /// Parses the content of a `.vpptoken` file. Surrounding and embedded whitespace
    /// (trailing newline, line-wrapped Base64) is ignored. Does not check expiry.
    pub fn parse(file_content: &str) -> Result<Self, TokenError> {
        let compact: String = file_content.chars().filter(|c| !c.is_ascii_whitespace()).collect();
        if compact.is_empty() {
            return Err(TokenError::Empty);
        }
        let decoded = LENIENT_B64.decode(compact.as_bytes()).map_err(|e| match e {
            base64::DecodeError::InvalidByte(position, _) => TokenError::NotBase64 { position },
            // A length or final-symbol problem is what a cut-off file looks like.
            base64::DecodeError::InvalidLength(_)
            | base64::DecodeError::InvalidLastSymbol(_, _)
            | base64::DecodeError::InvalidPadding => TokenError::Truncated,
        })?;
        let value: Value = serde_json::from_slice(&decoded).map_err(|e| {
            if e.is_eof() {
                TokenError::Truncated
            } else {
                TokenError::NotJson
            }
        })?;
        let Value::Object(map) = value else {
            return Err(TokenError::WrongShape("expected a JSON object"));
        };
        // The inner `token` is required to exist (it identifies the location) even
        // though only the outer string is sent; a file without it is not a content token.
        required_string(&map, "token")?;
        let exp_raw = required_string(&map, "expDate")?;
        let org_name = required_string(&map, "orgName")?.to_owned();
        let expires_at = datetime::parse(exp_raw).map_err(|_| TokenError::BadDate(exp_raw.to_owned()))?;
        Ok(Self {
            stoken: SToken(compact),
            org_name,
            expires_at,
        })
    }

    /// Parses raw file bytes; non-UTF-8 content cannot be Base64.
    pub fn parse_bytes(file_content: &[u8]) -> Result<Self, TokenError> {
        match std::str::from_utf8(file_content) {
            Ok(s) => Self::parse(s),
            Err(e) => Err(TokenError::NotBase64 {
                position: e.valid_up_to(),
            }),
        }
    }

    /// Parses and rejects a token that has expired at `now`.
    pub fn parse_valid_at(file_content: &str, now: OffsetDateTime) -> Result<Self, TokenError> {
        let token = Self::parse(file_content)?;
        token.check_not_expired(now)?;
        Ok(token)
    }

    pub fn org_name(&self) -> &str {
        &self.org_name
    }

    pub fn expires_at(&self) -> OffsetDateTime {
        self.expires_at
    }

    pub fn is_expired_at(&self, now: OffsetDateTime) -> bool {
        now >= self.expires_at
    }

    pub fn check_not_expired(&self, now: OffsetDateTime) -> Result<(), TokenError> {
        if self.is_expired_at(now) {
            Err(TokenError::Expired {
                expired_at: self.expires_at,
            })
        } else {
            Ok(())
        }
    }

    pub fn stoken(&self) -> &SToken {
        &self.stoken
    }

    pub fn into_stoken(self) -> SToken {
        self.stoken
    }
}

fn required_string<'a>(map: &'a Map<String, Value>, key: &'static str) -> Result<&'a str, TokenError> {
    match map.get(key) {
        None | Some(Value::Null) => Err(TokenError::MissingField(key)),
        Some(Value::String(s)) if s.trim().is_empty() => Err(TokenError::MissingField(key)),
        Some(Value::String(s)) => Ok(s),
        Some(_) => Err(TokenError::WrongShape(match key {
            "token" => "`token` is not a string",
            "expDate" => "`expDate` is not a string",
            _ => "`orgName` is not a string",
        })),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::STANDARD;
    use proptest::prelude::*;

    fn b64(s: &str) -> String {
        STANDARD.encode(s)
    }

    fn sample() -> String {
        b64(r#"{"token":"VFdwQmVVMUVRVEZOUkVFOQ==","expDate":"2030-11-08T22:33:22+0000","orgName":"ORG12345"}"#)
    }

    #[test]
    fn parses_apple_example() {
        let t = ContentToken::parse(&format!("{}\n", sample())).unwrap();
        assert_eq!(t.org_name(), "ORG12345");
        assert_eq!(t.expires_at(), datetime::parse("2030-11-08T22:33:22Z").unwrap());
        assert_eq!(t.stoken().expose(), sample());
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let t = ContentToken::parse(&sample()).unwrap();
        let dbg = format!("{t:?}");
        assert!(dbg.contains("ORG12345"));
        assert!(!dbg.contains(&sample()));
        assert!(!dbg.contains("VFdwQmVV"));
        assert_eq!(format!("{:?}", t.stoken()), "SToken(<redacted>)");
    }

    #[test]
    fn accepts_colon_offsets_and_wrapped_lines() {
        let raw = b64(r#"{"token":"x","expDate":"2030-11-09T08:33:22+10:00","orgName":"Org"}"#);
        let wrapped = format!("  {}\r\n{}\n", &raw[..10], &raw[10..]);
        let t = ContentToken::parse(&wrapped).unwrap();
        assert_eq!(t.stoken().expose(), raw);
    }

    #[test]
    fn distinct_errors() {
        assert_eq!(ContentToken::parse(" \n"), Err(TokenError::Empty));
        assert!(matches!(
            ContentToken::parse("{\"token\":1}"),
            Err(TokenError::NotBase64 { position: 0 })
        ));
        let full = sample();
        assert_eq!(ContentToken::parse(&full[..full.len() - 7]), Err(TokenError::Truncated));
        assert_eq!(ContentToken::parse(&full[..9]), Err(TokenError::Truncated));
        assert_eq!(ContentToken::parse(&b64("hello there")), Err(TokenError::NotJson));
        assert!(matches!(
            ContentToken::parse(&b64("[1,2]")),
            Err(TokenError::WrongShape(_))
        ));
        assert!(matches!(
            ContentToken::parse(&b64(
                r#"{"token":5,"expDate":"2030-11-08T22:33:22+0000","orgName":"o"}"#
            )),
            Err(TokenError::WrongShape(_))
        ));
        assert_eq!(
            ContentToken::parse(&b64(r#"{"token":"t","orgName":"o"}"#)),
            Err(TokenError::MissingField("expDate"))
        );
        assert_eq!(
            ContentToken::parse(&b64(r#"{"expDate":"2030-11-08T22:33:22+0000","orgName":"o"}"#)),
            Err(TokenError::MissingField("token"))
        );
        assert_eq!(
            ContentToken::parse(&b64(r#"{"token":"t","expDate":"next year","orgName":"o"}"#)),
            Err(TokenError::BadDate("next year".into()))
        );
        assert!(matches!(
            ContentToken::parse_bytes(&[0xff, 0xfe]),
            Err(TokenError::NotBase64 { .. })
        ));
    }

    #[test]
    fn expiry_against_now() {
        let now = datetime::parse("2031-01-01T00:00:00+0000").unwrap();
        let err = ContentToken::parse_valid_at(&sample(), now).unwrap_err();
        assert!(matches!(err, TokenError::Expired { .. }));
        let before = datetime::parse("2030-01-01T00:00:00+0000").unwrap();
        assert!(ContentToken::parse_valid_at(&sample(), before).is_ok());
    }

    #[test]
    fn encode_round_trips() {
        let exp = datetime::parse("2030-11-08T22:33:22+0000").unwrap();
        let s = SToken::encode("inner", exp, "Org");
        let t = ContentToken::parse(s.expose()).unwrap();
        assert_eq!((t.org_name(), t.expires_at()), ("Org", exp));
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = ContentToken::parse_bytes(&bytes);
        }

        #[test]
        fn arbitrary_base64_payloads_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = ContentToken::parse(&STANDARD.encode(&bytes));
        }

        #[test]
        fn arbitrary_strings_never_panic(s in ".{0,300}") {
            let _ = ContentToken::parse(&s);
        }

        #[test]
        fn any_strict_prefix_is_rejected(org in "[ -~]{0,40}", cut in 0usize..1000) {
            let exp = datetime::parse("2030-11-08T22:33:22+0000").unwrap();
            let full = SToken::encode("inner-token", exp, &org);
            let full = full.expose();
            // Dropping up to two padding characters leaves the same bytes; anything
            // shorter loses data and must not parse.
            let keep = cut % (full.len() - 2);
            prop_assert!(ContentToken::parse(&full[..keep]).is_err());
        }
    }
}
