//! Delivery through an SMTP relay with lettre.

use lettre::message::header::ContentType;
use lettre::message::{Mailbox, Message};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

use crate::{MailError, Mailer, OutgoingMail, SettingsError, SmtpSecurity, SmtpSettings};

/// Sends mail through one relay. Connections are pooled by lettre, so one
/// `SmtpMailer` should be shared (it is cheap to clone and `Send + Sync`).
#[derive(Clone)]
pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    default_from: Option<Mailbox>,
    // For logs: where mail goes, without credentials.
    relay: String,
}

impl SmtpMailer {
    /// Must be called inside a Tokio runtime: lettre's connection pool
    /// starts its idle-connection reaper task here.
    pub fn new(settings: &SmtpSettings) -> Result<Self, SettingsError> {
        settings.validate()?;
        let tls = match settings.security {
            SmtpSecurity::None => Tls::None,
            SmtpSecurity::StartTls => Tls::Required(tls_parameters(&settings.host)?),
            SmtpSecurity::Tls => Tls::Wrapper(tls_parameters(&settings.host)?),
        };
        // builder_dangerous only means "no TLS preset": TLS is set just below.
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(settings.host.as_str())
            .port(settings.port)
            .tls(tls)
            .timeout(Some(settings.timeout));
        if let Some(username) = &settings.username {
            let password = settings.password.clone().unwrap_or_default();
            builder = builder.credentials(Credentials::new(username.clone(), password));
        }
        Ok(Self {
            transport: builder.build(),
            default_from: settings.default_sender()?,
            relay: format!("{}:{} ({:?})", settings.host, settings.port, settings.security),
        })
    }

    /// Same as [`SmtpSettings::from_url`] followed by [`SmtpMailer::new`]
    /// (so also needs a Tokio runtime).
    pub fn from_url(url: &str) -> Result<Self, SettingsError> {
        Self::new(&SmtpSettings::from_url(url)?)
    }

    /// The configured default sender, as it will appear in `From:`.
    pub fn default_from(&self) -> Option<String> {
        self.default_from.as_ref().map(ToString::to_string)
    }

    /// Opens a connection and says hello, to check settings at startup
    /// rather than at the first notice a month later.
    pub async fn test_connection(&self) -> Result<(), MailError> {
        match self.transport.test_connection().await {
            Ok(true) => Ok(()),
            Ok(false) => Err(MailError::Connection(format!(
                "{} did not accept a connection",
                self.relay
            ))),
            Err(e) => Err(map_smtp_error(e)),
        }
    }

    fn build(&self, mail: &OutgoingMail) -> Result<Message, MailError> {
        let from = if mail.from.trim().is_empty() {
            self.default_from.clone().ok_or(MailError::NoSender)?
        } else {
            parse_mailbox(&mail.from)?
        };
        if mail.to.is_empty() {
            return Err(MailError::NoRecipient);
        }
        let mut builder = Message::builder()
            .from(from)
            .subject(mail.subject.as_str())
            // Not every relay adds one, and mail without it scores as spam.
            .message_id(None)
            .header(ContentType::TEXT_PLAIN);
        for to in &mail.to {
            builder = builder.to(parse_mailbox(to)?);
        }
        // lettre picks 7bit, quoted-printable or base64 from the body's content,
        // so the mail survives relays that do not announce 8BITMIME.
        builder
            .body(mail.text_body.clone())
            .map_err(|e| MailError::Build(e.to_string()))
    }
}

impl std::fmt::Debug for SmtpMailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpMailer")
            .field("relay", &self.relay)
            .field("default_from", &self.default_from())
            .finish_non_exhaustive()
    }
}

#[async_trait::async_trait]
impl Mailer for SmtpMailer {
    async fn send(&self, mail: &OutgoingMail) -> Result<(), MailError> {
        let message = self.build(mail)?;
        match self.transport.send(message).await {
            Ok(response) => {
                tracing::info!(
                    relay = %self.relay,
                    recipients = mail.to.len(),
                    code = %response.code(),
                    "mail sent"
                );
                Ok(())
            }
            Err(e) => {
                let error = map_smtp_error(e);
                tracing::warn!(relay = %self.relay, recipients = mail.to.len(), %error, "mail not sent");
                Err(error)
            }
        }
    }
}

fn tls_parameters(host: &str) -> Result<TlsParameters, SettingsError> {
    TlsParameters::new(host.to_owned()).map_err(|e| SettingsError::Tls {
        host: host.to_owned(),
        reason: e.to_string(),
    })
}

fn parse_mailbox(address: &str) -> Result<Mailbox, MailError> {
    address
        .trim()
        .parse::<Mailbox>()
        .map_err(|e| MailError::InvalidAddress {
            address: address.to_owned(),
            reason: e.to_string(),
        })
}

fn map_smtp_error(e: lettre::transport::smtp::Error) -> MailError {
    let message = e.to_string();
    let code = e.status().and_then(|c| c.to_string().parse::<u16>().ok());
    match code {
        Some(code) if e.is_transient() => MailError::Transient { code, message },
        Some(code) if e.is_permanent() => MailError::Permanent { code, message },
        _ if e.is_timeout() => MailError::Timeout(message),
        _ if e.is_tls() => MailError::Tls(message),
        _ => MailError::Connection(message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mailer() -> SmtpMailer {
        SmtpMailer::from_url("smtp://127.0.0.1:2525?from=haishin%20%3Cnotice@example.com%3E").unwrap()
    }

    fn mail(from: &str, to: &[&str]) -> OutgoingMail {
        OutgoingMail {
            from: from.into(),
            to: to.iter().map(|s| s.to_string()).collect(),
            subject: "VPPトークンの有効期限".into(),
            text_body: "本文です。\n".into(),
        }
    }

    #[tokio::test]
    async fn empty_from_uses_the_default_sender() {
        let m = mailer();
        assert_eq!(m.default_from().as_deref(), Some("haishin <notice@example.com>"));
        let built = m.build(&mail("", &["admin@example.com"])).unwrap();
        let raw = String::from_utf8(built.formatted()).unwrap();
        assert!(raw.contains("From: haishin <notice@example.com>\r\n"), "{raw}");
        assert!(raw.contains("To: admin@example.com\r\n"), "{raw}");
        // The Japanese subject is RFC 2047 encoded, never raw UTF-8 in the header.
        assert!(raw.contains("Subject: =?utf-8?"), "{raw}");
        assert!(raw.contains("Content-Type: text/plain; charset=utf-8\r\n"), "{raw}");
    }

    #[tokio::test]
    async fn addresses_are_checked_before_sending() {
        let m = mailer();
        assert!(matches!(
            m.build(&mail("a@example.com", &["admin@example.com", "not an address"])),
            Err(MailError::InvalidAddress { ref address, .. }) if address == "not an address"
        ));
        assert!(matches!(
            m.build(&mail("a@example.com", &[])),
            Err(MailError::NoRecipient)
        ));
        let no_default = SmtpMailer::from_url("smtp://127.0.0.1:2525").unwrap();
        assert!(matches!(
            no_default.build(&mail(" ", &["admin@example.com"])),
            Err(MailError::NoSender)
        ));
    }

    #[tokio::test]
    async fn tls_settings_build_without_a_process_crypto_provider() {
        // lettre is told to use aws-lc-rs, so no global rustls provider is needed.
        assert!(SmtpMailer::from_url("smtps://u:p@mail.example.com").is_ok());
        let starttls = SmtpMailer::from_url("smtp+starttls://u:secret@mail.example.com").unwrap();
        let shown = format!("{starttls:?}");
        assert!(shown.contains("mail.example.com:587 (StartTls)"), "{shown}");
        assert!(!shown.contains("secret"), "{shown}");
    }
}
