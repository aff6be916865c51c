//! Plist bodies the server returns to the few check-ins that expect content.
//!
//! Most check-ins only need an HTTP status; these three carry data back.

use plist::Dictionary;

use crate::MdmError;
use crate::fields::{DictWriter, Fields, Record, plist_record};

/// Reply to `GetBootstrapToken`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BootstrapTokenResponse {
    /// `BootstrapToken`; an empty value tells the device the server holds none.
    pub bootstrap_token: Vec<u8>,
    /// Keys this crate does not model.
    pub extra: Dictionary,
}

impl Record for BootstrapTokenResponse {
    fn read(mut f: Fields) -> Result<Self, MdmError> {
        Ok(Self {
            bootstrap_token: f.data("BootstrapToken")?.unwrap_or_default(),
            extra: f.rest(),
        })
    }

    fn write(&self, out: &mut DictWriter) {
        out.opt_data("BootstrapToken", Some(&self.bootstrap_token));
        out.extra(&self.extra);
    }
}

/// Reply to `UserAuthenticate` (HTTP 200; answer HTTP 410 instead to decline the user).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserAuthenticateResponse {
    /// First round: `DigestChallenge`. An empty string means "no password needed".
    DigestChallenge(String),
    /// Second round: `AuthToken`; empty when the password was wrong.
    AuthToken(String),
}

impl Record for UserAuthenticateResponse {
    fn read(mut f: Fields) -> Result<Self, MdmError> {
        let challenge = f.string("DigestChallenge")?;
        let token = f.string("AuthToken")?;
        match (challenge, token) {
            (Some(challenge), None) => Ok(Self::DigestChallenge(challenge)),
            (None, Some(token)) => Ok(Self::AuthToken(token)),
            (Some(_), Some(_)) => Err(f.conflicting(&["DigestChallenge", "AuthToken"])),
            (None, None) => Err(f.missing_one_of(&["DigestChallenge", "AuthToken"])),
        }
    }

    fn write(&self, out: &mut DictWriter) {
        match self {
            Self::DigestChallenge(challenge) => out.string("DigestChallenge", challenge),
            Self::AuthToken(token) => out.string("AuthToken", token),
        }
    }
}

/// Reply to `GetToken`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GetTokenResponse {
    /// `TokenData`: the token bytes (UTF-8 text for string tokens such as JWTs).
    pub token_data: Vec<u8>,
    /// Keys this crate does not model.
    pub extra: Dictionary,
}

impl Record for GetTokenResponse {
    fn read(mut f: Fields) -> Result<Self, MdmError> {
        Ok(Self {
            token_data: f.data("TokenData")?.ok_or_else(|| f.missing("TokenData"))?,
            extra: f.rest(),
        })
    }

    fn write(&self, out: &mut DictWriter) {
        out.opt_data("TokenData", Some(&self.token_data));
        out.extra(&self.extra);
    }
}

plist_record!(BootstrapTokenResponse, UserAuthenticateResponse, GetTokenResponse);
