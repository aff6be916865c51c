//! One command session: `Idle`, then a command per reply until an empty body (reference
//! §5.1-§5.4).

use std::sync::Arc;
use std::time::Instant;

use apple_mdm::report::CONTENT_TYPE as CONNECT_CONTENT_TYPE;
use apple_mdm::{Channel, CommandReport, CommandStatus};

use super::commands::{self, Context, Effect};
use super::state::{CommandRecord, Lifecycle};
use super::{Inner, lock};
use crate::error::{Endpoint, SimError};

/// What one session did.
#[derive(Debug, Clone, Default)]
pub struct SessionSummary {
    /// True for a Shared iPad user-channel session.
    pub user_channel: bool,
    /// The commands answered, in order.
    pub commands: Vec<CommandRecord>,
    /// HTTP round trips to the command endpoint.
    pub round_trips: u32,
    /// The session ended with the device erasing itself.
    pub wiped: bool,
}

impl SessionSummary {
    /// The status of the last answered command, if any.
    pub fn last_status(&self) -> Option<CommandStatus> {
        self.commands.last().map(|c| c.status)
    }
}

impl Inner {
    pub(crate) async fn run_session(this: &Arc<Self>, channel: Channel) -> Result<SessionSummary, SimError> {
        let _session = this.session.lock().await;
        let result = Self::session(this, channel).await;
        if let Err(e) = &result {
            this.record_error(e);
        }
        result
    }

    async fn session(this: &Arc<Self>, channel: Channel) -> Result<SessionSummary, SimError> {
        let enrollment = this.enrollment()?;
        if this.current_behaviour().offline {
            return Err(SimError::Offline);
        }
        let user = match channel {
            Channel::Device => None,
            Channel::User => {
                let name = lock(&this.user_push).as_ref().map(|(name, _)| name.clone());
                let behaviour = this.current_behaviour();
                let user = behaviour
                    .channel_user()
                    .filter(|u| Some(&u.short_name) == name.as_ref());
                Some(user.cloned().ok_or(SimError::NotEnrolled)?)
            }
        };
        let identity = this.identity(user.as_ref());
        let signer = enrollment.sign_message.then_some(&enrollment.identity);
        let mut summary = SessionSummary {
            user_channel: channel == Channel::User,
            ..SessionSummary::default()
        };
        // §5.3: a result whose delivery failed is delivered when the network returns.
        let unsent = {
            let mut state = this.state();
            match state.unsent_result.take() {
                Some((c, body)) if c == channel => Some(body),
                other => {
                    state.unsent_result = other;
                    None
                }
            }
        };
        let (mut body, mut is_result) = match unsent {
            Some(body) => (body, true),
            None => (CommandReport::idle(identity.clone()).to_xml()?, false),
        };
        let mut last_status = None;
        loop {
            this.state().requests += 1;
            summary.round_trips += 1;
            let sent = this
                .env
                .put(
                    Endpoint::Connect,
                    &enrollment.server_url,
                    CONNECT_CONTENT_TYPE,
                    body.clone(),
                    signer,
                )
                .await;
            let reply = match sent {
                Ok(reply) if reply.status == 200 => reply,
                Ok(reply) if matches!(reply.status, 401 | 403) => {
                    // §4.2: the server no longer knows this device; iOS removes the profile.
                    this.shut_down(Lifecycle::Unenrolled { by_server: true });
                    return Err(SimError::Status {
                        endpoint: Endpoint::Connect,
                        status: reply.status,
                        body: String::from_utf8_lossy(&reply.body).chars().take(512).collect(),
                    });
                }
                other => {
                    if is_result {
                        this.state().unsent_result = Some((channel, body));
                    }
                    return Err(match other {
                        Ok(reply) => SimError::Status {
                            endpoint: Endpoint::Connect,
                            status: reply.status,
                            body: String::from_utf8_lossy(&reply.body).chars().take(512).collect(),
                        },
                        Err(e) => e,
                    });
                }
            };
            // §5.1: only a zero-length body means "no more commands".
            if reply.body.is_empty() {
                break;
            }
            let behaviour = this.current_behaviour();
            if !behaviour.answer_delay.is_zero() {
                tokio::time::sleep(behaviour.answer_delay).await;
            }
            let executed = {
                let ctx = Context {
                    behaviour: &behaviour,
                    hardware: &this.hardware,
                    rights: enrollment.access_rights,
                    channel,
                    now: Instant::now(),
                };
                commands::execute(&mut this.state(), &ctx, identity.clone(), &reply.body)
            };
            let Some(executed) = executed else {
                // Not a command at all: nothing to answer; the session ends as a failed one.
                return Err(SimError::Mdm(apple_mdm::MdmError::EmptyBody));
            };
            if let Some(record) = this.state().commands.back().cloned() {
                summary.commands.push(record);
            }
            last_status = Some(executed.report.status);
            body = executed.report.to_xml()?;
            is_result = true;
            match executed.effect {
                Effect::None => {}
                Effect::LogOutUser => {
                    let (old, new) = {
                        let mut b = lock(&this.behaviour);
                        let old = b.clone();
                        b.logged_in_user = None;
                        (old, b.clone())
                    };
                    Self::behaviour_changed(this, &old, &new);
                }
                Effect::Erase => {
                    // §7.11: acknowledge, then wipe at once; no CheckOut, no further request.
                    this.state().requests += 1;
                    summary.round_trips += 1;
                    let _ = this
                        .env
                        .put(
                            Endpoint::Connect,
                            &enrollment.server_url,
                            CONNECT_CONTENT_TYPE,
                            body,
                            signer,
                        )
                        .await;
                    this.shut_down(Lifecycle::Wiped);
                    summary.wiped = true;
                    this.state().sessions += 1;
                    return Ok(summary);
                }
            }
        }
        let mut state = this.state();
        state.sessions += 1;
        // §5.4: the device polls again by itself only if NotNow was its last status.
        state.awaiting = (last_status == Some(CommandStatus::NotNow)).then_some(channel);
        Ok(summary)
    }
}
