//! Expiry notice mails (SPEC T4, 失効通知): one a month before a token
//! expires and one when it has, each sent by exactly one server process.

use haishin_mail::expiry::{ExpiryNotice, ExpiryThreshold};

use crate::DomainError;
use crate::service::Services;
use crate::time_util::Timestamp;

/// A claim not marked sent after this long belonged to a process that died
/// while sending; another may send it.
const STALE_CLAIM_MILLIS: i64 = 10 * 60_000;

impl Services {
    /// Sends every notice that is due and not yet sent. Returns how many
    /// this process sent.
    pub async fn send_due_expiry_notices(&self, now: Timestamp) -> Result<usize, DomainError> {
        let Some(mailer) = self.vpp.mailer.clone() else {
            return Ok(0);
        };
        let mut sent = 0;
        for stored in self.store.all_vpp_tokens().await? {
            let token = &stored.token;
            if !token.expiry_notice.enabled || token.expiry_notice.addresses.is_empty() {
                continue;
            }
            let expires_at = token.expires_at.to_datetime();
            for threshold in [ExpiryThreshold::OneMonthBefore, ExpiryThreshold::Expired] {
                if now.to_datetime() < threshold.due_at(expires_at) {
                    continue;
                }
                // A token registered or re-enabled after it expired gets
                // the expiry notice only; "expires in a month" would be wrong.
                if threshold == ExpiryThreshold::OneMonthBefore && now >= token.expires_at {
                    continue;
                }
                if !self
                    .store
                    .claim_expiry_notice(token.id, threshold.as_str(), token.expires_at, now, STALE_CLAIM_MILLIS)
                    .await?
                {
                    continue;
                }
                let notice = ExpiryNotice {
                    token_name: if token.location_name.is_empty() {
                        token.org_name.clone()
                    } else {
                        token.location_name.clone()
                    },
                    organisation: token.org_name.clone(),
                    expires_at,
                    threshold,
                    server_name: None,
                    console_url: Some(self.public_url.clone()),
                };
                let mail = notice.to_mail(self.vpp.mail_from.clone(), token.expiry_notice.addresses.clone());
                match mailer.send(&mail).await {
                    Ok(()) => {
                        self.store
                            .finish_expiry_notice(
                                token.id,
                                threshold.as_str(),
                                token.expires_at,
                                Some(Timestamp::now()),
                            )
                            .await?;
                        sent += 1;
                    }
                    Err(e) => {
                        tracing::warn!(token = %token.id, threshold = threshold.as_str(), "expiry notice not sent: {e}");
                        self.store
                            .finish_expiry_notice(token.id, threshold.as_str(), token.expires_at, None)
                            .await?;
                    }
                }
            }
        }
        Ok(sent)
    }
}
