//! The command endpoint: what a device PUTs to `ServerURL`.
//!
//! Every body is a [`CommandReport`]: who is reporting, a [`CommandStatus`], the
//! `CommandUUID` it answers and, for `Acknowledged`/`Error`, a command-specific
//! remainder. The report does not say which command it answers (only the server's
//! queue knows that from the `CommandUUID`), so typed results are decoded explicitly:
//!
//! ```
//! # use apple_mdm::{CommandReport, report::ManagedApplicationListResult};
//! # fn handle(report: &CommandReport) -> Result<(), apple_mdm::MdmError> {
//! let apps: ManagedApplicationListResult = report.decode()?;
//! # Ok(()) }
//! ```

mod apps;
mod device;
mod media;

pub use apps::{
    AppAttributesItem, AppConfigurationItem, AppFeedbackItem, ApplicationAttributesResult,
    ApplicationConfigurationsResult, InstallApplicationResult, InstallRejectionReason, InstalledApplication,
    InstalledApplicationListResult, ManagedAppStatus, ManagedApplication, ManagedApplicationFeedbackResult,
    ManagedApplicationListResult,
};
pub use device::{DeviceInformationResult, QueryResponses, SettingResult, SettingsResult, UserAccount, UserListResult};
pub use media::{
    InstallMediaResult, InvitationResult, InviteToProgramResult, ManagedBook, ManagedMediaListResult,
    MediaRejectionReason, MediaState,
};

use std::fmt;

use plist::Dictionary;

use crate::fields::{DictWriter, Fields};
use crate::{ChannelIdentity, CommandUuid, ErrorChain, MdmError, PlistRecord, plist_io};

/// The HTTP `Content-Type` prefix of command-endpoint requests.
pub const CONTENT_TYPE: &str = "application/x-apple-aspen-mdm";

/// The device's verdict on a command (or `Idle` when it has none to report).
///
/// Deliberately closed (no fallback): a status outside these five means the body is
/// not an MDM report, and the server cannot decide what to do with the command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CommandStatus {
    /// Start of a session; no result attached. Answer with the next command.
    Idle,
    /// The command ran; result keys are attached.
    Acknowledged,
    /// The command failed; see the `ErrorChain`.
    Error,
    /// The command was malformed or unknown at protocol level: a server bug, so
    /// resending it unchanged is pointless.
    CommandFormatError,
    /// The device cannot run the command now and did not keep it; resend later.
    NotNow,
}

impl CommandStatus {
    const ALL: [Self; 5] = [
        Self::Idle,
        Self::Acknowledged,
        Self::Error,
        Self::CommandFormatError,
        Self::NotNow,
    ];

    /// The exact string used on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Idle => "Idle",
            Self::Acknowledged => "Acknowledged",
            Self::Error => "Error",
            Self::CommandFormatError => "CommandFormatError",
            Self::NotNow => "NotNow",
        }
    }

    /// Parses the wire string; `None` for anything else.
    pub fn from_wire(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|status| status.as_str() == text)
    }

    /// Whether the command is finished and can leave the server's queue; after
    /// `NotNow` it must stay queued because the device did not keep it.
    pub fn is_final(self) -> bool {
        matches!(self, Self::Acknowledged | Self::Error | Self::CommandFormatError)
    }
}

impl fmt::Display for CommandStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A device's PUT to the command endpoint.
#[derive(Debug, Clone, PartialEq)]
pub struct CommandReport {
    /// Who is reporting (device or user channel).
    pub identity: ChannelIdentity,
    /// `Status`.
    pub status: CommandStatus,
    /// `CommandUUID`; absent only on `Idle`.
    pub command_uuid: Option<CommandUuid>,
    /// `ErrorChain`; empty unless `Status` is `Error` (and sometimes even then).
    pub error_chain: ErrorChain,
    /// `RequestType`: some devices (macOS) echo it, most do not.
    pub request_type: Option<String>,
    /// The command-specific remainder (e.g. `QueryResponses`, `Identifier`, `State`,
    /// `RejectionReason`), decoded on demand with [`CommandReport::decode`].
    pub payload: Dictionary,
}

impl CommandReport {
    /// Parses a command-endpoint request body.
    pub fn from_xml(bytes: &[u8]) -> Result<Self, MdmError> {
        Self::from_dictionary(plist_io::parse_dictionary(bytes)?)
    }

    /// Serializes as an XML plist body (what a device would PUT).
    pub fn to_xml(&self) -> Result<Vec<u8>, MdmError> {
        plist_io::encode(&PlistRecord::to_dictionary(self))
    }

    /// An `Idle` report, the first message of every session.
    pub fn idle(identity: ChannelIdentity) -> Self {
        Self::new(identity, CommandStatus::Idle, None)
    }

    /// A report about a command, without payload or errors yet.
    pub fn for_command(identity: ChannelIdentity, command_uuid: CommandUuid, status: CommandStatus) -> Self {
        Self::new(identity, status, Some(command_uuid))
    }

    fn new(identity: ChannelIdentity, status: CommandStatus, command_uuid: Option<CommandUuid>) -> Self {
        Self {
            identity,
            status,
            command_uuid,
            error_chain: ErrorChain::default(),
            request_type: None,
            payload: Dictionary::new(),
        }
    }

    /// Adds a typed result payload (e.g. an [`InstallApplicationResult`]).
    #[must_use]
    pub fn with_payload(mut self, result: &impl PlistRecord) -> Self {
        for (key, value) in result.to_dictionary() {
            self.payload.insert(key, value);
        }
        self
    }

    /// Sets the error chain (for `Error` reports).
    #[must_use]
    pub fn with_error_chain(mut self, chain: impl Into<ErrorChain>) -> Self {
        self.error_chain = chain.into();
        self
    }

    /// Decodes the payload as the result of the command the server knows it sent.
    pub fn decode<T: PlistRecord>(&self) -> Result<T, MdmError> {
        T::from_dictionary(self.payload.clone())
    }
}

impl PlistRecord for CommandReport {
    fn from_dictionary(dict: Dictionary) -> Result<Self, MdmError> {
        let mut f = Fields::root(dict);
        let identity = ChannelIdentity::read(&mut f)?;
        let status_text = f.required_string("Status")?;
        let status = CommandStatus::from_wire(&status_text).ok_or_else(|| {
            f.invalid(
                "Status",
                status_text,
                "one of Idle, Acknowledged, Error, CommandFormatError, NotNow",
            )
        })?;
        let command_uuid = f.string("CommandUUID")?.map(CommandUuid::from);
        if command_uuid.is_none() && status != CommandStatus::Idle {
            return Err(f.missing("CommandUUID"));
        }
        Ok(Self {
            identity,
            status,
            command_uuid,
            error_chain: ErrorChain(f.records("ErrorChain")?.unwrap_or_default()),
            request_type: f.string("RequestType")?,
            payload: f.rest(),
        })
    }

    fn to_dictionary(&self) -> Dictionary {
        let mut out = DictWriter::default();
        self.identity.write(&mut out);
        out.string("Status", self.status.as_str());
        out.opt_string("CommandUUID", self.command_uuid.as_ref().map(CommandUuid::as_str));
        if !self.error_chain.is_empty() {
            out.opt_records("ErrorChain", Some(self.error_chain.items()));
        }
        out.opt_string("RequestType", self.request_type.as_deref());
        out.extra(&self.payload);
        out.finish()
    }
}
