//! Test doubles (cargo feature `testing`).
//!
//! - [`SmtpSink`]: a real SMTP server on loopback, to test [`crate::SmtpMailer`]
//!   and anything configured with an SMTP URL end to end.
//! - [`MemoryMailer`]: a [`Mailer`] that keeps what it is given, for server
//!   tests that care about which mails are sent, not how.

mod received;
mod sink;

use std::sync::Mutex;

pub use received::{DecodeError, ReceivedMail, decode_header};
pub use sink::{SmtpSink, WaitTimeout};

use crate::{MailError, Mailer, OutgoingMail};

/// Records every mail; can be told to fail the next sends.
#[derive(Default)]
pub struct MemoryMailer {
    sent: Mutex<Vec<OutgoingMail>>,
    failures: Mutex<(usize, u16)>,
}

impl MemoryMailer {
    pub fn new() -> Self {
        Self::default()
    }

    /// Mails sent successfully so far, in order.
    pub fn sent(&self) -> Vec<OutgoingMail> {
        self.sent.lock().expect("mailer lock").clone()
    }

    /// The next `count` sends fail as if the server replied `code` (4xx or 5xx).
    pub fn fail_next(&self, count: usize, code: u16) {
        assert!(
            (400..600).contains(&code),
            "an SMTP failure code is 4xx or 5xx, not {code}"
        );
        *self.failures.lock().expect("mailer lock") = (count, code);
    }
}

#[async_trait::async_trait]
impl Mailer for MemoryMailer {
    async fn send(&self, message: &OutgoingMail) -> Result<(), MailError> {
        if message.to.is_empty() {
            return Err(MailError::NoRecipient);
        }
        {
            let mut failures = self.failures.lock().expect("mailer lock");
            if failures.0 > 0 {
                failures.0 -= 1;
                let (code, message) = (failures.1, "failure injected by MemoryMailer".to_owned());
                return Err(if code < 500 {
                    MailError::Transient { code, message }
                } else {
                    MailError::Permanent { code, message }
                });
            }
        }
        self.sent.lock().expect("mailer lock").push(message.clone());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn memory_mailer_records_and_fails_on_request() {
        let mailer = MemoryMailer::new();
        let mail = OutgoingMail {
            from: "a@example.com".into(),
            to: vec!["b@example.com".into()],
            subject: "件名".into(),
            text_body: "本文".into(),
        };
        mailer.fail_next(1, 451);
        let err = mailer.send(&mail).await.unwrap_err();
        assert_eq!(err.smtp_code(), Some(451));
        assert!(err.is_retryable());
        mailer.send(&mail).await.unwrap();
        assert_eq!(mailer.sent(), vec![mail]);
    }
}
