//! Enrollment and its end: profile, Authenticate, TokenUpdate (device and Shared iPad user
//! channel), CheckOut (reference §2, §4).

use std::sync::Arc;
use std::time::Instant;

use apple_mdm::checkin::{CONTENT_TYPE as CHECKIN_CONTENT_TYPE, TokenUpdate};
use apple_mdm::enrollment::AccessRights;
use apple_mdm::{ChannelIdentity, CheckinMessage, SHARED_IPAD_USER_ID, UserIdentity};

use super::behaviour::ManagedUser;
use super::profile::{Enrollment, read_profile};
use super::state::{Lifecycle, UserChannel};
use super::{Inner, PushCredentials, lock};
use crate::error::{Endpoint, SimError};
use crate::templates;

/// APNs issues 32-byte tokens (reference §10).
const TOKEN_LEN: usize = 32;

fn random_bytes(len: usize) -> Vec<u8> {
    let mut bytes = vec![0u8; len];
    // The system RNG does not fail on supported platforms; a zero token would still work.
    let _ = aws_lc_rs::rand::fill(&mut bytes);
    bytes
}

fn new_credentials(with_unlock_token: bool) -> PushCredentials {
    let unlock_len = templates::get()
        .token_update
        .unlock_token
        .as_ref()
        .map_or(1024, Vec::len);
    PushCredentials {
        token: random_bytes(TOKEN_LEN),
        // PushMagic changes with every enrollment (reference §6.3).
        magic: uuid::Uuid::new_v4().hyphenated().to_string().to_uppercase(),
        unlock_token: with_unlock_token.then(|| random_bytes(unlock_len)),
    }
}

impl Inner {
    pub(crate) async fn enroll(this: &Arc<Self>) -> Result<(), SimError> {
        {
            let mut state = this.state();
            if state.lifecycle == Lifecycle::Enrolled {
                return Ok(());
            }
            state.lifecycle = Lifecycle::NotEnrolled;
        }
        match Self::try_enroll(this).await {
            Ok(()) => Ok(()),
            Err(e) => {
                let mut state = this.state();
                state.lifecycle = Lifecycle::EnrollFailed(e.to_string());
                state.last_error = Some(e.to_string());
                drop(state);
                this.unregister_tokens();
                Err(e)
            }
        }
    }

    async fn try_enroll(this: &Arc<Self>) -> Result<(), SimError> {
        let started = Instant::now();
        let fetched = this.env.profiles().fetch(this.env.client(), &this.hardware).await;
        match &fetched {
            Ok(_) => this.env.stats().record(Endpoint::Profile, started),
            Err(_) => this.env.stats().record_failure(Endpoint::Profile),
        }
        this.state().requests += 1;
        let profile = fetched?;
        // Decrypting the PKCS#12 payload is CPU work; keep it off the async workers.
        let enrollment = tokio::task::spawn_blocking(move || read_profile(&profile))
            .await
            .map_err(|e| SimError::Setup(format!("profile reader stopped: {e}")))??;
        let enrollment = Arc::new(enrollment);
        let behaviour = this.current_behaviour();
        let rights = enrollment.access_rights;
        // §4.1: no UnlockToken on Shared iPad, and only with the passcode-removal right.
        let with_unlock = behaviour.unlock_token
            && !behaviour.shared_ipad
            && rights.contains(AccessRights::LOCK_AND_PASSCODE_REMOVAL);
        let creds = new_credentials(with_unlock);

        let authenticate = this.authenticate_message(&enrollment);
        this.check_in(&enrollment, Endpoint::Authenticate, authenticate).await?;
        // A real device has its token from APNs before it can send it, so
        // APNs knows it before the server's first push: register first.
        if let Some(apns) = this.env.apns() {
            apns.register(&enrollment.topic, &creds.token, this.device_waker.clone());
            if behaviour.offline {
                apns.set_connected(&creds.token, false);
            }
        }
        let token_update = this.token_update_message(&enrollment, &creds, None);
        if let Err(refused) = this.check_in(&enrollment, Endpoint::TokenUpdate, token_update).await {
            // Not enrolled after all: the token is dropped with the attempt.
            if let Some(apns) = this.env.apns() {
                apns.unregister(&creds.token);
            }
            return Err(refused);
        }
        *lock(&this.device_push) = Some(creds);
        *lock(&this.enrollment) = Some(Arc::clone(&enrollment));
        {
            let mut state = this.state();
            state.lifecycle = Lifecycle::Enrolled;
            state.last_error = None;
        }
        Self::start_wake_loop(this);
        if let Some(user) = behaviour.channel_user() {
            // A refused user channel does not undo the device's enrollment.
            if let Err(e) = this.user_login(user).await {
                this.record_error(&e);
            }
        }
        Ok(())
    }

    /// PUTs a check-in message and insists on 200.
    async fn check_in(
        &self,
        enrollment: &Enrollment,
        endpoint: Endpoint,
        message: CheckinMessage,
    ) -> Result<(), SimError> {
        let reply = self.send_check_in(enrollment, endpoint, message).await?;
        if reply != 200 {
            return Err(SimError::Status {
                endpoint,
                status: reply,
                body: String::new(),
            });
        }
        Ok(())
    }

    async fn send_check_in(
        &self,
        enrollment: &Enrollment,
        endpoint: Endpoint,
        message: CheckinMessage,
    ) -> Result<u16, SimError> {
        let body = message.to_xml()?;
        let signer = enrollment.sign_message.then_some(&enrollment.identity);
        self.state().requests += 1;
        let reply = self
            .env
            .put(endpoint, &enrollment.check_in_url, CHECKIN_CONTENT_TYPE, body, signer)
            .await?;
        Ok(reply.status)
    }

    fn authenticate_message(&self, enrollment: &Enrollment) -> CheckinMessage {
        let hw = &self.hardware;
        let mut message = templates::get().authenticate.clone();
        message.identity = ChannelIdentity::device(hw.udid.as_str());
        message.topic = enrollment.topic.clone();
        // §4.1: iOS sends the device facts only with the device-information right.
        if enrollment
            .access_rights
            .contains(AccessRights::QUERY_DEVICE_INFORMATION)
        {
            message.os_version = Some(hw.os_version.clone());
            message.build_version = Some(hw.build_version.clone());
            message.product_name = Some(hw.product_name.clone());
            message.serial_number = Some(hw.serial_number.clone());
            message.imei = hw.imei.clone();
        } else {
            message.os_version = None;
            message.build_version = None;
            message.product_name = None;
            message.serial_number = None;
        }
        CheckinMessage::from(message)
    }

    fn token_update_message(
        &self,
        enrollment: &Enrollment,
        creds: &PushCredentials,
        user: Option<&ManagedUser>,
    ) -> CheckinMessage {
        let t = templates::get();
        let mut message: TokenUpdate = match user {
            None => t.token_update.clone(),
            Some(_) => t.user_token_update.clone(),
        };
        message.identity = self.identity(user);
        message.topic = enrollment.topic.clone();
        message.token = creds.token.clone();
        message.push_magic = creds.magic.clone();
        message.unlock_token = creds.unlock_token.clone();
        if user.is_none() {
            message.awaiting_configuration = Some(false);
        }
        CheckinMessage::from(message)
    }

    /// The identity keys of a channel: UDID, plus the Shared iPad user keys (§4.1).
    pub(crate) fn identity(&self, user: Option<&ManagedUser>) -> ChannelIdentity {
        let mut identity = ChannelIdentity::device(self.hardware.udid.as_str());
        identity.user = user.map(|user| UserIdentity {
            user_id: Some(SHARED_IPAD_USER_ID.to_owned()),
            short_name: Some(user.short_name.clone()),
            long_name: Some(user.long_name.clone()),
            enrollment_user_id: None,
        });
        identity
    }

    /// A user logs in on a Shared iPad: the user channel gets its own token and PushMagic.
    /// 410 means the server does not manage this user until the next login (§4.1).
    pub(crate) async fn user_login(&self, user: &ManagedUser) -> Result<(), SimError> {
        let enrollment = self.enrollment()?;
        let creds = new_credentials(false);
        let message = self.token_update_message(&enrollment, &creds, Some(user));
        let status = self.send_check_in(&enrollment, Endpoint::TokenUpdate, message).await?;
        let short_name = user.short_name.clone();
        match status {
            200 => {
                if let Some(apns) = self.env.apns() {
                    apns.register(&enrollment.topic, &creds.token, self.user_waker.clone());
                    if self.current_behaviour().offline {
                        apns.set_connected(&creds.token, false);
                    }
                }
                *lock(&self.user_push) = Some((short_name.clone(), creds));
                self.state().user_channel = UserChannel::Active { short_name };
                Ok(())
            }
            410 => {
                self.state().user_channel = UserChannel::Declined { short_name };
                Ok(())
            }
            status => Err(SimError::Status {
                endpoint: Endpoint::TokenUpdate,
                status,
                body: String::new(),
            }),
        }
    }

    /// The user logged out: the user channel goes quiet until the next login.
    pub(crate) fn user_logged_out(&self) {
        if let Some((_, creds)) = lock(&self.user_push).take()
            && let Some(apns) = self.env.apns()
        {
            apns.set_connected(&creds.token, false);
        }
        self.state().user_channel = UserChannel::None;
    }

    pub(crate) async fn unenroll(this: &Arc<Self>) -> Result<(), SimError> {
        let _session = this.session.lock().await;
        let enrollment = this.enrollment()?;
        let mut result = Ok(());
        // §4.1: CheckOut is sent once and never retried; offline means it is lost.
        if enrollment.check_out_when_removed && !this.current_behaviour().offline {
            let mut message = templates::get().check_out.clone();
            message.identity = this.identity(None);
            message.topic = enrollment.topic.clone();
            match this
                .send_check_in(&enrollment, Endpoint::CheckOut, CheckinMessage::from(message))
                .await
            {
                Ok(200) => {}
                Ok(status) => {
                    result = Err(SimError::Status {
                        endpoint: Endpoint::CheckOut,
                        status,
                        body: String::new(),
                    })
                }
                Err(e) => result = Err(e),
            }
        }
        if let Err(e) = &result {
            this.record_error(e);
        }
        this.shut_down(Lifecycle::Unenrolled { by_server: false });
        result
    }
}

#[cfg(test)]
mod tests {
    use apple_mdm::checkin::CheckOut;

    use super::*;

    #[test]
    fn credentials_look_like_apples() {
        let creds = new_credentials(true);
        assert_eq!(creds.token.len(), TOKEN_LEN);
        assert_eq!(creds.magic.len(), 36);
        assert_eq!(creds.magic, creds.magic.to_uppercase());
        assert!(creds.unlock_token.as_ref().is_some_and(|t| t.len() > 100));
        assert_ne!(new_credentials(false).token, creds.token);
        assert!(new_credentials(false).unlock_token.is_none());
    }

    #[test]
    fn check_out_template_round_trips() {
        let message = CheckOut {
            identity: ChannelIdentity::device("X"),
            ..templates::get().check_out.clone()
        };
        let xml = CheckinMessage::from(message).to_xml().unwrap();
        assert!(matches!(
            CheckinMessage::from_xml(&xml).unwrap(),
            CheckinMessage::CheckOut(_)
        ));
    }
}
