//! Outgoing mail for haishin.
//!
//! - [`Mailer`]: what the server holds (`Arc<dyn Mailer>`), so jobs can send
//!   mail without knowing about SMTP and tests can swap in a recorder.
//! - [`SmtpMailer`]: delivery through an SMTP relay with lettre (rustls on
//!   aws-lc-rs, no OpenSSL), configured by [`SmtpSettings`] or a URL such as
//!   `smtps://user:pass@mail.example.com:465?from=haishin@example.com`.
//! - [`expiry`]: the bilingual (Japanese, then English) VPP token expiry
//!   notices of SPEC T4.
//! - `testing` (cargo feature `testing`): [`testing::SmtpSink`], a loopback
//!   SMTP server that records what it receives, and [`testing::MemoryMailer`].
//!
//! This crate knows nothing of the database or HTTP: deciding *when* a notice
//! is due and recording that it was sent is the server's business.

pub mod expiry;
mod settings;
mod smtp;
#[cfg(feature = "testing")]
pub mod testing;

pub use settings::{SettingsError, SmtpSecurity, SmtpSettings};
pub use smtp::SmtpMailer;

/// One plain-text mail. All fields are UTF-8; non-ASCII subjects and display
/// names are encoded on the wire by the transport (RFC 2047), the body is sent
/// as `text/plain; charset=utf-8`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingMail {
    /// `addr@example.com` or `名前 <addr@example.com>`. Empty means the
    /// mailer's configured default sender, if it has one.
    pub from: String,
    /// One or more recipients, each in the same forms as `from`.
    pub to: Vec<String>,
    pub subject: String,
    pub text_body: String,
}

/// Sends mail. Object-safe so the server can hold `Arc<dyn Mailer>`.
#[async_trait::async_trait]
pub trait Mailer: Send + Sync {
    async fn send(&self, message: &OutgoingMail) -> Result<(), MailError>;
}

#[async_trait::async_trait]
impl<M: Mailer + ?Sized> Mailer for std::sync::Arc<M> {
    async fn send(&self, message: &OutgoingMail) -> Result<(), MailError> {
        (**self).send(message).await
    }
}

/// Why a mail was not sent.
///
/// Server replies keep their code so callers can tell "try again later"
/// ([`MailError::is_retryable`]) from "this will never work".
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("invalid mail address {address:?}: {reason}")]
    InvalidAddress { address: String, reason: String },
    #[error("the mail has no recipient")]
    NoRecipient,
    #[error("the mail has no sender and the mailer has no default sender")]
    NoSender,
    #[error("could not build the mail: {0}")]
    Build(String),
    /// 4xx reply: the server asks to try again later.
    #[error("SMTP server refused the mail for now ({code}): {message}")]
    Transient { code: u16, message: String },
    /// 5xx reply: resending the same mail will fail again.
    #[error("SMTP server rejected the mail ({code}): {message}")]
    Permanent { code: u16, message: String },
    #[error("SMTP server did not answer in time: {0}")]
    Timeout(String),
    #[error("TLS with the SMTP server failed: {0}")]
    Tls(String),
    /// Could not connect, connection lost, or the server spoke nonsense.
    #[error("SMTP connection failed: {0}")]
    Connection(String),
}

impl MailError {
    /// Whether sending the same mail later may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            MailError::Transient { .. } | MailError::Timeout(_) | MailError::Connection(_)
        )
    }

    /// The SMTP reply code, when the server answered with an error.
    pub fn smtp_code(&self) -> Option<u16> {
        match self {
            MailError::Transient { code, .. } | MailError::Permanent { code, .. } => Some(*code),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retryable_errors_are_the_temporary_ones() {
        let transient = MailError::Transient {
            code: 451,
            message: "try later".into(),
        };
        let permanent = MailError::Permanent {
            code: 550,
            message: "no such user".into(),
        };
        assert!(transient.is_retryable());
        assert_eq!(transient.smtp_code(), Some(451));
        assert!(!permanent.is_retryable());
        assert_eq!(permanent.smtp_code(), Some(550));
        assert!(MailError::Connection("refused".into()).is_retryable());
        assert!(!MailError::NoRecipient.is_retryable());
        assert_eq!(MailError::NoRecipient.smtp_code(), None);
    }

    #[test]
    fn mailer_is_object_safe() {
        struct Nothing;
        #[async_trait::async_trait]
        impl Mailer for Nothing {
            async fn send(&self, _: &OutgoingMail) -> Result<(), MailError> {
                Ok(())
            }
        }
        let shared: std::sync::Arc<dyn Mailer> = std::sync::Arc::new(Nothing);
        let _also_a_mailer: &dyn Mailer = &shared;
    }
}
