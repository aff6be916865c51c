//! One struct per check-in `MessageType`.

use plist::Dictionary;

use crate::fields::{DictWriter, Fields, Record};
use crate::{ChannelIdentity, MdmError};

/// `Authenticate`: the device asks to enroll while the MDM profile installs.
///
/// Accepting it does not mean enrollment finished; only the first `TokenUpdate` does.
/// The hardware fields are optional because the device sends them only when the
/// profile grants the device-information access right (and macOS sends a different
/// set than iOS).
#[derive(Debug, Clone, PartialEq)]
pub struct Authenticate {
    /// The sender (always the device channel).
    pub identity: ChannelIdentity,
    /// `Topic`: the APNs topic the device subscribes to (`com.apple.mgmt.…`).
    pub topic: String,
    /// `OSVersion`, e.g. `17.5`.
    pub os_version: Option<String>,
    /// `BuildVersion`, e.g. `21F79`.
    pub build_version: Option<String>,
    /// `ProductName`, e.g. `iPad8,12`.
    pub product_name: Option<String>,
    /// `SerialNumber`; absent for user enrollments.
    pub serial_number: Option<String>,
    /// `IMEI`, cellular iOS devices only.
    pub imei: Option<String>,
    /// `MEID`, cellular iOS devices only.
    pub meid: Option<String>,
    /// `DeviceName` (macOS).
    pub device_name: Option<String>,
    /// `Model` (macOS), e.g. `iMac14,2`.
    pub model: Option<String>,
    /// `ModelName` (macOS), e.g. `iMac`.
    pub model_name: Option<String>,
    /// Keys this crate does not model (e.g. macOS's undocumented `Challenge` data).
    pub extra: Dictionary,
}

impl Record for Authenticate {
    fn read(mut f: Fields) -> Result<Self, MdmError> {
        Ok(Self {
            identity: ChannelIdentity::read(&mut f)?,
            topic: f.required_string("Topic")?,
            os_version: f.string("OSVersion")?,
            build_version: f.string("BuildVersion")?,
            product_name: f.string("ProductName")?,
            serial_number: f.string("SerialNumber")?,
            imei: f.string("IMEI")?,
            meid: f.string("MEID")?,
            device_name: f.string("DeviceName")?,
            model: f.string("Model")?,
            model_name: f.string("ModelName")?,
            extra: f.rest(),
        })
    }

    fn write(&self, out: &mut DictWriter) {
        self.identity.write(out);
        out.string("Topic", &self.topic);
        out.opt_string("OSVersion", self.os_version.as_deref());
        out.opt_string("BuildVersion", self.build_version.as_deref());
        out.opt_string("ProductName", self.product_name.as_deref());
        out.opt_string("SerialNumber", self.serial_number.as_deref());
        out.opt_string("IMEI", self.imei.as_deref());
        out.opt_string("MEID", self.meid.as_deref());
        out.opt_string("DeviceName", self.device_name.as_deref());
        out.opt_string("Model", self.model.as_deref());
        out.opt_string("ModelName", self.model_name.as_deref());
        out.extra(&self.extra);
    }
}

/// `TokenUpdate`: the push credentials of one channel, sent after enrollment and
/// whenever they change.
///
/// Always overwrite the stored token, PushMagic and unlock token: the device may send
/// a value only once and never repeat it. An absent `UnlockToken` does *not* revoke a
/// previously received one.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenUpdate {
    /// The sender; a user channel when user keys are present.
    pub identity: ChannelIdentity,
    /// `Topic`.
    pub topic: String,
    /// `Token`: the APNs device token (raw bytes; hex-encode for the APNs URL).
    pub token: Vec<u8>,
    /// `PushMagic`: must be sent back in every push as `{"mdm": PushMagic}`.
    pub push_magic: String,
    /// `UnlockToken`: needed later for ClearPasscode (iOS, device channel).
    pub unlock_token: Option<Vec<u8>>,
    /// `AwaitingConfiguration`: the device waits in Setup Assistant for
    /// `DeviceConfigured` (or `UserConfigured` on a Shared iPad user channel).
    pub awaiting_configuration: Option<bool>,
    /// `NotOnConsole` (macOS user channel): the user is not at the console.
    pub not_on_console: Option<bool>,
    /// Keys this crate does not model.
    pub extra: Dictionary,
}

impl TokenUpdate {
    /// `AwaitingConfiguration` with the protocol's default (false) applied.
    pub fn is_awaiting_configuration(&self) -> bool {
        self.awaiting_configuration.unwrap_or(false)
    }
}

impl Record for TokenUpdate {
    fn read(mut f: Fields) -> Result<Self, MdmError> {
        Ok(Self {
            identity: ChannelIdentity::read(&mut f)?,
            topic: f.required_string("Topic")?,
            token: f.data("Token")?.ok_or_else(|| f.missing("Token"))?,
            push_magic: f.required_string("PushMagic")?,
            unlock_token: f.data("UnlockToken")?,
            awaiting_configuration: f.bool("AwaitingConfiguration")?,
            not_on_console: f.bool("NotOnConsole")?,
            extra: f.rest(),
        })
    }

    fn write(&self, out: &mut DictWriter) {
        self.identity.write(out);
        out.string("Topic", &self.topic);
        out.opt_data("Token", Some(&self.token));
        out.string("PushMagic", &self.push_magic);
        out.opt_data("UnlockToken", self.unlock_token.as_deref());
        out.opt_bool("AwaitingConfiguration", self.awaiting_configuration);
        out.opt_bool("NotOnConsole", self.not_on_console);
        out.extra(&self.extra);
    }
}

/// `CheckOut`: the MDM profile was removed. Sent once, best effort, never retried.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckOut {
    /// The sender.
    pub identity: ChannelIdentity,
    /// `Topic`.
    pub topic: String,
    /// Keys this crate does not model.
    pub extra: Dictionary,
}

impl Record for CheckOut {
    fn read(mut f: Fields) -> Result<Self, MdmError> {
        Ok(Self {
            identity: ChannelIdentity::read(&mut f)?,
            topic: f.required_string("Topic")?,
            extra: f.rest(),
        })
    }

    fn write(&self, out: &mut DictWriter) {
        self.identity.write(out);
        out.string("Topic", &self.topic);
        out.extra(&self.extra);
    }
}

/// `UserAuthenticate` (macOS): a network or mobile user logs in. The first round has
/// no `DigestResponse`; the second carries it.
#[derive(Debug, Clone, PartialEq)]
pub struct UserAuthenticate {
    /// The sender, including `UserID`.
    pub identity: ChannelIdentity,
    /// `DigestResponse`, present in the second round only.
    pub digest_response: Option<String>,
    /// Keys this crate does not model.
    pub extra: Dictionary,
}

impl Record for UserAuthenticate {
    fn read(mut f: Fields) -> Result<Self, MdmError> {
        Ok(Self {
            identity: ChannelIdentity::read(&mut f)?,
            digest_response: f.string("DigestResponse")?,
            extra: f.rest(),
        })
    }

    fn write(&self, out: &mut DictWriter) {
        self.identity.write(out);
        out.opt_string("DigestResponse", self.digest_response.as_deref());
        out.extra(&self.extra);
    }
}

/// `SetBootstrapToken`: escrow (or, when empty/absent, delete) the bootstrap token.
#[derive(Debug, Clone, PartialEq)]
pub struct SetBootstrapToken {
    /// The sender.
    pub identity: ChannelIdentity,
    /// `BootstrapToken`; `None` or empty means "delete the stored token".
    pub bootstrap_token: Option<Vec<u8>>,
    /// `AwaitingConfiguration`.
    pub awaiting_configuration: Option<bool>,
    /// Keys this crate does not model.
    pub extra: Dictionary,
}

impl SetBootstrapToken {
    /// The protocol encodes deletion as a missing or zero-length token.
    pub fn is_deletion(&self) -> bool {
        self.bootstrap_token.as_ref().is_none_or(Vec::is_empty)
    }
}

impl Record for SetBootstrapToken {
    fn read(mut f: Fields) -> Result<Self, MdmError> {
        Ok(Self {
            identity: ChannelIdentity::read(&mut f)?,
            bootstrap_token: f.data("BootstrapToken")?,
            awaiting_configuration: f.bool("AwaitingConfiguration")?,
            extra: f.rest(),
        })
    }

    fn write(&self, out: &mut DictWriter) {
        self.identity.write(out);
        out.opt_data("BootstrapToken", self.bootstrap_token.as_deref());
        out.opt_bool("AwaitingConfiguration", self.awaiting_configuration);
        out.extra(&self.extra);
    }
}

/// `GetBootstrapToken`: the device asks for the escrowed bootstrap token.
#[derive(Debug, Clone, PartialEq)]
pub struct GetBootstrapToken {
    /// The sender.
    pub identity: ChannelIdentity,
    /// `AwaitingConfiguration`.
    pub awaiting_configuration: Option<bool>,
    /// Keys this crate does not model.
    pub extra: Dictionary,
}

impl Record for GetBootstrapToken {
    fn read(mut f: Fields) -> Result<Self, MdmError> {
        Ok(Self {
            identity: ChannelIdentity::read(&mut f)?,
            awaiting_configuration: f.bool("AwaitingConfiguration")?,
            extra: f.rest(),
        })
    }

    fn write(&self, out: &mut DictWriter) {
        self.identity.write(out);
        out.opt_bool("AwaitingConfiguration", self.awaiting_configuration);
        out.extra(&self.extra);
    }
}

/// `DeclarativeManagement`: a Declarative Device Management request tunnelled
/// through check-in. The server answers with JSON for the endpoint.
#[derive(Debug, Clone, PartialEq)]
pub struct DeclarativeManagement {
    /// The sender.
    pub identity: ChannelIdentity,
    /// `Endpoint`: `tokens`, `declaration-items`, `status` or `declaration/<type>/<id>`.
    pub endpoint: String,
    /// `Data`: JSON bytes (status reports, synchronization tokens).
    pub data: Option<Vec<u8>>,
    /// Keys this crate does not model.
    pub extra: Dictionary,
}

impl Record for DeclarativeManagement {
    fn read(mut f: Fields) -> Result<Self, MdmError> {
        Ok(Self {
            identity: ChannelIdentity::read(&mut f)?,
            endpoint: f.required_string("Endpoint")?,
            data: f.data("Data")?,
            extra: f.rest(),
        })
    }

    fn write(&self, out: &mut DictWriter) {
        self.identity.write(out);
        out.string("Endpoint", &self.endpoint);
        out.opt_data("Data", self.data.as_deref());
        out.extra(&self.extra);
    }
}

/// `GetToken`: the device asks the server to mint a token for an Apple service
/// (`com.apple.maid`, `com.apple.watch.pairing`).
#[derive(Debug, Clone, PartialEq)]
pub struct GetToken {
    /// The sender.
    pub identity: ChannelIdentity,
    /// `TokenServiceType`.
    pub token_service_type: String,
    /// `TokenParameters`, service-specific.
    pub token_parameters: Option<Dictionary>,
    /// Keys this crate does not model.
    pub extra: Dictionary,
}

impl Record for GetToken {
    fn read(mut f: Fields) -> Result<Self, MdmError> {
        Ok(Self {
            identity: ChannelIdentity::read(&mut f)?,
            token_service_type: f.required_string("TokenServiceType")?,
            token_parameters: f.dictionary("TokenParameters")?,
            extra: f.rest(),
        })
    }

    fn write(&self, out: &mut DictWriter) {
        self.identity.write(out);
        out.string("TokenServiceType", &self.token_service_type);
        out.opt_dictionary("TokenParameters", self.token_parameters.as_ref());
        out.extra(&self.extra);
    }
}

/// `ReturnToService` (iOS 26+): the device asks for its return-to-service settings.
#[derive(Debug, Clone, PartialEq)]
pub struct ReturnToService {
    /// The sender.
    pub identity: ChannelIdentity,
    /// Keys this crate does not model.
    pub extra: Dictionary,
}

impl Record for ReturnToService {
    fn read(mut f: Fields) -> Result<Self, MdmError> {
        Ok(Self {
            identity: ChannelIdentity::read(&mut f)?,
            extra: f.rest(),
        })
    }

    fn write(&self, out: &mut DictWriter) {
        self.identity.write(out);
        out.extra(&self.extra);
    }
}
