//! SMTP relay settings, as a struct or as one URL-like string so a single
//! config value or environment variable can hold them:
//!
//! | URL | security | default port |
//! |---|---|---|
//! | `smtp://host` | none (plain text) | 25 |
//! | `smtp+starttls://host` | STARTTLS, required | 587 |
//! | `smtps://host` | implicit TLS | 465 |
//!
//! `user:password@` before the host gives credentials (percent-encode `@`,
//! `:` and `/` in them). Query parameters: `from` (default sender) and
//! `timeout` (seconds, `30` or `30s`). Anything else is refused, so a typo
//! does not silently fall back to a default.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use lettre::message::Mailbox;
use percent_encoding::percent_decode_str;

const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// How the connection to the relay is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpSecurity {
    /// Plain text; for a relay on localhost or a trusted network, and tests.
    None,
    /// Plain connection upgraded with STARTTLS; fails if the server cannot.
    StartTls,
    /// TLS from the first byte ("SMTPS", implicit TLS).
    Tls,
}

impl SmtpSecurity {
    pub fn default_port(self) -> u16 {
        match self {
            SmtpSecurity::None => 25,
            SmtpSecurity::StartTls => 587,
            SmtpSecurity::Tls => 465,
        }
    }
}

/// Where and how to hand mail over.
///
/// `Debug` never shows the password: settings end up in logs.
#[derive(Clone, PartialEq, Eq)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub security: SmtpSecurity,
    pub username: Option<String>,
    pub password: Option<String>,
    /// Default sender, used when an [`crate::OutgoingMail`] leaves `from` empty.
    pub from: Option<String>,
    /// Limit for each exchange with the server (connect, each command).
    pub timeout: Duration,
}

/// A setting that cannot work. Messages never include the password.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SettingsError {
    #[error("SMTP URL is malformed: {0}")]
    MalformedUrl(String),
    #[error("unsupported SMTP URL scheme {0:?}: use smtp://, smtp+starttls:// or smtps://")]
    UnsupportedScheme(String),
    #[error("SMTP host is missing")]
    MissingHost,
    #[error("SMTP port must not be 0")]
    InvalidPort,
    #[error("SMTP URL must not have a path (found {0:?})")]
    UnexpectedPath(String),
    #[error("unknown SMTP URL parameter {0:?}: known ones are from and timeout")]
    UnknownParameter(String),
    #[error("SMTP timeout {0:?} is not a positive number of seconds")]
    InvalidTimeout(String),
    #[error("SMTP {0} is not valid UTF-8 after percent-decoding")]
    InvalidEncoding(&'static str),
    #[error("an SMTP password needs a username")]
    PasswordWithoutUsername,
    #[error("default sender {address:?} is not a valid mail address: {reason}")]
    InvalidFrom { address: String, reason: String },
    #[error("TLS setup for SMTP host {host:?} failed: {reason}")]
    Tls { host: String, reason: String },
}

impl SmtpSettings {
    /// Plain-text settings for `host:port`, no credentials, default timeout.
    pub fn new(host: impl Into<String>, port: u16, security: SmtpSecurity) -> Self {
        Self {
            host: host.into(),
            port,
            security,
            username: None,
            password: None,
            from: None,
            timeout: DEFAULT_TIMEOUT,
        }
    }

    /// Parses `smtp://`, `smtp+starttls://` or `smtps://` URLs (see the module docs).
    pub fn from_url(input: &str) -> Result<Self, SettingsError> {
        // The input may hold a password: errors describe the problem, never echo the URL.
        let url = url::Url::parse(input.trim()).map_err(|e| SettingsError::MalformedUrl(e.to_string()))?;
        let security = match url.scheme() {
            "smtp" => SmtpSecurity::None,
            "smtp+starttls" => SmtpSecurity::StartTls,
            "smtps" => SmtpSecurity::Tls,
            other => return Err(SettingsError::UnsupportedScheme(other.to_owned())),
        };
        let host = match url.host() {
            Some(url::Host::Domain(d)) if !d.is_empty() => d.to_owned(),
            Some(url::Host::Ipv4(a)) => a.to_string(),
            // lettre resolves (host, port) itself, which wants the bare address.
            Some(url::Host::Ipv6(a)) => a.to_string(),
            _ => return Err(SettingsError::MissingHost),
        };
        if !matches!(url.path(), "" | "/") {
            return Err(SettingsError::UnexpectedPath(url.path().to_owned()));
        }
        let mut settings = Self::new(host, url.port().unwrap_or(security.default_port()), security);
        if !url.username().is_empty() {
            settings.username = Some(decode(url.username(), "username")?);
        }
        if let Some(password) = url.password() {
            settings.password = Some(decode(password, "password")?);
        }
        for (key, value) in url.query_pairs() {
            match key.as_ref() {
                "from" => settings.from = Some(value.into_owned()),
                "timeout" => settings.timeout = parse_timeout(&value)?,
                other => return Err(SettingsError::UnknownParameter(other.to_owned())),
            }
        }
        settings.validate()?;
        Ok(settings)
    }

    /// Checks what a URL parse checks, for settings built field by field.
    pub fn validate(&self) -> Result<(), SettingsError> {
        if self.host.trim().is_empty() {
            return Err(SettingsError::MissingHost);
        }
        if self.port == 0 {
            return Err(SettingsError::InvalidPort);
        }
        if self.timeout.is_zero() {
            return Err(SettingsError::InvalidTimeout("0".into()));
        }
        if self.password.is_some() && self.username.is_none() {
            return Err(SettingsError::PasswordWithoutUsername);
        }
        self.default_sender()?;
        Ok(())
    }

    pub(crate) fn default_sender(&self) -> Result<Option<Mailbox>, SettingsError> {
        match &self.from {
            None => Ok(None),
            Some(address) => address
                .parse::<Mailbox>()
                .map(Some)
                .map_err(|e| SettingsError::InvalidFrom {
                    address: address.clone(),
                    reason: e.to_string(),
                }),
        }
    }
}

impl FromStr for SmtpSettings {
    type Err = SettingsError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::from_url(s)
    }
}

impl fmt::Debug for SmtpSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpSettings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("from", &self.from)
            .field("timeout", &self.timeout)
            .finish()
    }
}

fn decode(raw: &str, what: &'static str) -> Result<String, SettingsError> {
    percent_decode_str(raw)
        .decode_utf8()
        .map(|s| s.into_owned())
        .map_err(|_| SettingsError::InvalidEncoding(what))
}

fn parse_timeout(value: &str) -> Result<Duration, SettingsError> {
    let digits = value.strip_suffix('s').unwrap_or(value);
    match digits.parse::<u64>() {
        Ok(secs) if secs > 0 => Ok(Duration::from_secs(secs)),
        _ => Err(SettingsError::InvalidTimeout(value.to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_url_gets_port_25_and_no_credentials() {
        let s = SmtpSettings::from_url("smtp://mail.example.com").unwrap();
        assert_eq!(s.host, "mail.example.com");
        assert_eq!(s.port, 25);
        assert_eq!(s.security, SmtpSecurity::None);
        assert_eq!(s.username, None);
        assert_eq!(s.password, None);
        assert_eq!(s.timeout, Duration::from_secs(30));
    }

    #[test]
    fn smtps_url_with_percent_encoded_credentials_and_parameters() {
        let s: SmtpSettings = "smtps://notice%40example.com:p%40ss%3Aw%2Frd@mail.example.com:2465/?from=haishin%40example.com&timeout=10s"
            .parse()
            .unwrap();
        assert_eq!(s.security, SmtpSecurity::Tls);
        assert_eq!(s.port, 2465);
        assert_eq!(s.username.as_deref(), Some("notice@example.com"));
        assert_eq!(s.password.as_deref(), Some("p@ss:w/rd"));
        assert_eq!(s.from.as_deref(), Some("haishin@example.com"));
        assert_eq!(s.timeout, Duration::from_secs(10));
    }

    #[test]
    fn starttls_defaults_to_submission_port() {
        let s = SmtpSettings::from_url("smtp+starttls://user@relay.example.net").unwrap();
        assert_eq!(s.security, SmtpSecurity::StartTls);
        assert_eq!(s.port, 587);
        assert_eq!(s.username.as_deref(), Some("user"));
    }

    #[test]
    fn ip_hosts_are_bare_addresses() {
        assert_eq!(
            SmtpSettings::from_url("smtp://127.0.0.1:2525").unwrap().host,
            "127.0.0.1"
        );
        assert_eq!(SmtpSettings::from_url("smtp://[::1]:2525").unwrap().host, "::1");
    }

    #[test]
    fn bad_settings_give_typed_errors() {
        let err = |u: &str| SmtpSettings::from_url(u).unwrap_err();
        assert_eq!(
            err("http://mail.example.com"),
            SettingsError::UnsupportedScheme("http".into())
        );
        assert_eq!(
            err("smtp://mail.example.com/inbox"),
            SettingsError::UnexpectedPath("/inbox".into())
        );
        assert_eq!(
            err("smtp://mail.example.com?tls=yes"),
            SettingsError::UnknownParameter("tls".into())
        );
        assert_eq!(
            err("smtp://mail.example.com?timeout=0"),
            SettingsError::InvalidTimeout("0".into())
        );
        assert_eq!(
            err("smtp://mail.example.com?timeout=soon"),
            SettingsError::InvalidTimeout("soon".into())
        );
        assert_eq!(
            err("smtp://:secret@mail.example.com"),
            SettingsError::PasswordWithoutUsername
        );
        assert_eq!(err("smtp://mail.example.com:0"), SettingsError::InvalidPort);
        assert!(matches!(
            err("mail.example.com:25"),
            SettingsError::MalformedUrl(_) | SettingsError::UnsupportedScheme(_)
        ));
        assert!(matches!(
            err("smtp://"),
            SettingsError::MissingHost | SettingsError::MalformedUrl(_)
        ));
        assert!(matches!(
            err("smtp://mail.example.com?from=not%20an%20address"),
            SettingsError::InvalidFrom { ref address, .. } if address == "not an address"
        ));
    }

    #[test]
    fn errors_and_debug_never_show_the_password() {
        let err = SmtpSettings::from_url("smtps://u:hunter2@mail.example.com/x").unwrap_err();
        assert!(!err.to_string().contains("hunter2"), "{err}");
        let err = SmtpSettings::from_url("smtps://u:hunter2@mail.example.com:99999").unwrap_err();
        assert!(!err.to_string().contains("hunter2"), "{err}");

        let s = SmtpSettings::from_url("smtps://u:hunter2@mail.example.com").unwrap();
        let shown = format!("{s:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("<redacted>"), "{shown}");
        assert!(shown.contains("mail.example.com"), "{shown}");
    }

    #[test]
    fn validate_checks_hand_built_settings() {
        let mut s = SmtpSettings::new("mail.example.com", 25, SmtpSecurity::None);
        assert_eq!(s.validate(), Ok(()));
        s.password = Some("x".into());
        assert_eq!(s.validate(), Err(SettingsError::PasswordWithoutUsername));
        s.username = Some("u".into());
        s.from = Some("haishin <haishin@example.com>".into());
        assert_eq!(s.validate(), Ok(()));
        s.host = " ".into();
        assert_eq!(s.validate(), Err(SettingsError::MissingHost));
    }
}
