//! The check-in endpoint (MDM reference §4): Authenticate, TokenUpdate,
//! CheckOut, and the other message types answered as Apple documents.

use apple_mdm::CheckinMessage;
use apple_mdm::checkin::{Authenticate, CheckOut, TokenUpdate};
use haishin_secrets::Sealed;

use super::device_auth::{ClientProof, DeviceRequestError};
use super::store::{DeviceFacts, IdentityRecord, PushChannelUpdate, UserChannel};
use crate::DomainError;
use crate::auth::Actor;
use crate::ids::DeviceId;
use crate::org::{DeviceInput, Platform};
use crate::service::Services;
use crate::time_util::Timestamp;

/// What the endpoint answers: a 200 with this body (empty for most).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckinReply {
    pub body: Vec<u8>,
}

impl CheckinReply {
    fn empty() -> Self {
        Self { body: Vec::new() }
    }
}

fn unlock_context(device: DeviceId) -> Vec<u8> {
    format!("unlock-token:device={device}").into_bytes()
}

fn bad(reason: impl std::fmt::Display) -> DeviceRequestError {
    DeviceRequestError::Malformed(reason.to_string())
}

/// A platform from what Authenticate says (ProductName like `iPad13,1`).
pub(crate) fn platform_of(product_name: Option<&str>, model_name: Option<&str>) -> Option<Platform> {
    let name = product_name.or(model_name)?;
    if name.starts_with("iPad") {
        Some(Platform::IpadOs)
    } else if name.starts_with("iPhone") || name.starts_with("iPod") {
        Some(Platform::Ios)
    } else if name.starts_with("Mac") || name.starts_with("iMac") {
        Some(Platform::MacOs)
    } else if name.starts_with("AppleTV") {
        Some(Platform::TvOs)
    } else if name.starts_with("RealityDevice") {
        Some(Platform::VisionOs)
    } else {
        None
    }
}

impl Services {
    /// Handles one check-in request. Nothing is stored unless the proof
    /// holds and the message is about the proven device.
    pub async fn handle_checkin(&self, proof: &ClientProof, body: &[u8]) -> Result<CheckinReply, DeviceRequestError> {
        // Parse first: a body that is not a check-in message is a 400 even
        // before the identity is looked at, and costs no database round trip.
        let message = CheckinMessage::from_xml(body).map_err(bad)?;
        if let CheckinMessage::Other(other) = &message {
            return Err(bad(format!("unknown MessageType {:?}", other.message_type)));
        }
        let identity = self.authenticate_device_request(proof, body).await?;
        let now = Timestamp::now();
        match message {
            CheckinMessage::Authenticate(auth) => self.authenticate(&identity, &auth, now).await,
            CheckinMessage::TokenUpdate(update) => self.token_update(&identity, &update, now).await,
            CheckinMessage::CheckOut(checkout) => self.check_out(&identity, &checkout, now).await,
            // macOS network users: haishin does not manage them (reference §4.1).
            CheckinMessage::UserAuthenticate(_) => Err(DeviceRequestError::UserDeclined),
            // haishin's profiles do not advertise the bootstrap-token or token
            // capabilities, so these only come from a device enrolled
            // elsewhere before; answer the documented "nothing here".
            CheckinMessage::GetBootstrapToken(_) | CheckinMessage::SetBootstrapToken(_) => {
                self.bound_device(&identity, udid_of(&message))?;
                Ok(CheckinReply::empty())
            }
            CheckinMessage::GetToken(_) | CheckinMessage::DeclarativeManagement(_) => {
                self.bound_device(&identity, udid_of(&message))?;
                Err(bad("haishin does not offer this service to devices"))
            }
            CheckinMessage::ReturnToService(_) => {
                self.bound_device(&identity, udid_of(&message))?;
                Ok(CheckinReply::empty())
            }
            CheckinMessage::Other(_) => unreachable!("refused above"),
        }
    }

    /// The device the identity is bound to, which must be the one the
    /// message names.
    pub(crate) fn bound_device(
        &self,
        identity: &IdentityRecord,
        udid: Option<&str>,
    ) -> Result<DeviceId, DeviceRequestError> {
        let bound = identity
            .bound
            .as_ref()
            .ok_or_else(|| DeviceRequestError::Unauthorized("the identity has not authenticated yet".into()))?;
        let udid = udid.ok_or_else(|| bad("missing UDID"))?;
        if bound.udid.as_deref() != Some(udid) {
            return Err(DeviceRequestError::Unauthorized(
                "the identity belongs to another device".into(),
            ));
        }
        Ok(bound.device_id)
    }

    async fn authenticate(
        &self,
        identity: &IdentityRecord,
        auth: &Authenticate,
        now: Timestamp,
    ) -> Result<CheckinReply, DeviceRequestError> {
        let account = identity.identity.account_id;
        let udid = auth
            .identity
            .udid()
            .map(|u| u.as_str().to_owned())
            .ok_or_else(|| bad("missing UDID (user enrollment is not supported)"))?;
        crate::org::validate::udid(Some(&udid)).map_err(|e| bad(format!("UDID: {}", e.2)))?;
        if let Some(bound) = &identity.bound
            && bound.udid.as_deref() != Some(udid.as_str())
        {
            return Err(DeviceRequestError::Unauthorized(
                "the identity belongs to another device".into(),
            ));
        }
        let push = self.store.get_push_certificate(account).await?;
        if push.as_ref().map(|p| p.certificate.topic.as_str()) != Some(auth.topic.as_str()) {
            return Err(DeviceRequestError::Unauthorized(
                "the Topic is not this account's push topic".into(),
            ));
        }
        let facts = DeviceFacts {
            udid: Some(udid.clone()),
            display_name: auth.device_name.clone(),
            serial_number: auth.serial_number.clone(),
            model: auth.model.clone(),
            product_name: auth.product_name.clone(),
            platform: platform_of(auth.product_name.as_deref(), auth.model_name.as_deref()),
            os_version: auth.os_version.clone(),
            build_version: auth.build_version.clone(),
            imei: auth.imei.clone(),
            ..DeviceFacts::default()
        };
        let device = match self
            .store
            .enrolling_device(account, &udid, auth.serial_number.as_deref())
            .await?
        {
            Some(device) => device,
            None => self.create_enrolling_device(identity, &udid, &facts).await?,
        };
        if !self
            .store
            .bind_enrollment(&identity.identity, device, &auth.topic, now)
            .await?
        {
            return Err(DeviceRequestError::Unauthorized(
                "the identity belongs to another device".into(),
            ));
        }
        self.record_facts(account, device, &facts, now).await?;
        Ok(CheckinReply::empty())
    }

    /// A device the account did not know yet joins the profile's group.
    async fn create_enrolling_device(
        &self,
        identity: &IdentityRecord,
        udid: &str,
        facts: &DeviceFacts,
    ) -> Result<DeviceId, DomainError> {
        let account = identity.identity.account_id;
        let name = facts
            .display_name
            .clone()
            .or_else(|| facts.product_name.clone())
            .or_else(|| facts.serial_number.clone())
            .unwrap_or_else(|| udid.to_owned());
        let input = DeviceInput {
            group_id: identity.identity.group_id,
            display_name: name.chars().take(255).collect(),
            udid: Some(udid.to_owned()),
            serial_number: facts.serial_number.clone(),
            ..DeviceInput::default()
        };
        // Values from the device go through the admin's validation too; a
        // field it cannot pass is left for DeviceInformation to fill.
        let input = input.validated().unwrap_or(DeviceInput {
            serial_number: None,
            ..input
        });
        match self.store.create_device(&Actor::system(account), &input).await {
            Ok(device) => Ok(device.id),
            Err(DomainError::Conflict { code, .. }) => {
                // Two Authenticates of one device raced and the other created
                // it; or another device already has this serial number, and
                // this one joins without it rather than not at all.
                if let Some(id) = self.store.enrolling_device(account, udid, None).await? {
                    return Ok(id);
                }
                if code != "duplicate_serial_number" {
                    return Err(DomainError::internal(format!("enrolling device: {code}")));
                }
                let input = DeviceInput {
                    serial_number: None,
                    ..input
                };
                Ok(self.store.create_device(&Actor::system(account), &input).await?.id)
            }
            Err(e) => Err(e),
        }
    }

    async fn token_update(
        &self,
        identity: &IdentityRecord,
        update: &TokenUpdate,
        now: Timestamp,
    ) -> Result<CheckinReply, DeviceRequestError> {
        let account = identity.identity.account_id;
        let device = self.bound_device(identity, update.identity.udid().map(|u| u.as_str()))?;
        if update.token.is_empty() || update.token.len() > 100 {
            return Err(bad("Token must be 1 to 100 bytes"));
        }
        if update.push_magic.trim().is_empty() {
            return Err(bad("empty PushMagic"));
        }
        let user = match &update.identity.user {
            None => None,
            Some(user) => Some(UserChannel {
                user_guid: user
                    .user_id
                    .clone()
                    .or_else(|| user.enrollment_user_id.clone())
                    .ok_or_else(|| bad("user channel without UserID"))?,
                short_name: user.short_name.clone().unwrap_or_default(),
                long_name: user.long_name.clone().unwrap_or_default(),
            }),
        };
        let sealed_unlock_token = match (&update.unlock_token, &user) {
            (Some(token), None) => Some(
                Sealed::seal(&self.master_key, &unlock_context(device), token)
                    .map_err(DomainError::internal)?
                    .as_bytes()
                    .to_vec(),
            ),
            _ => None,
        };
        let channel = PushChannelUpdate {
            user,
            push_token_hex: hex(&update.token),
            push_magic: update.push_magic.clone(),
            sealed_unlock_token,
            awaiting_configuration: update.is_awaiting_configuration(),
        };
        let newly_enrolled = self.store.update_push_channel(account, device, &channel, now).await?;
        if newly_enrolled {
            self.queue_first_inventory(account, device, now).await?;
        }
        Ok(CheckinReply::empty())
    }

    async fn check_out(
        &self,
        identity: &IdentityRecord,
        checkout: &CheckOut,
        now: Timestamp,
    ) -> Result<CheckinReply, DeviceRequestError> {
        let device = self.bound_device(identity, checkout.identity.udid().map(|u| u.as_str()))?;
        if checkout.identity.user.is_some() {
            // A user logging out of a Shared iPad is not the device leaving.
            return Ok(CheckinReply::empty());
        }
        self.device_left(identity.identity.account_id, device, now, "device checked out")
            .await?;
        Ok(CheckinReply::empty())
    }
}

fn udid_of(message: &CheckinMessage) -> Option<&str> {
    message.identity().and_then(|i| i.udid()).map(|u| u.as_str())
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
