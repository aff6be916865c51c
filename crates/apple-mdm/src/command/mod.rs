//! Commands the server sends in reply to a device's report.
//!
//! A command body is `{CommandUUID, Command: {RequestType, ...}}`. Build the request
//! with the typed structs (each has constructors for the common cases), wrap it in a
//! [`Command`] and serialize it:
//!
//! ```
//! use apple_mdm::command::{Command, ManagedApplicationList};
//!
//! let command = Command::new(ManagedApplicationList::all());
//! let body: Vec<u8> = command.to_xml()?;
//! # Ok::<(), apple_mdm::MdmError>(())
//! ```
//!
//! Answering "no more commands" is an empty HTTP body, not an empty plist, so it is
//! deliberately not representable here.

mod apps;
mod device;
mod media;
mod settings;

pub use apps::{
    AppAttributes, AppSource, ChangeManagementState, InstallApplication, InstallApplicationOptions,
    InstalledApplicationList, InviteToProgram, ManagedApplicationAttributes, ManagedApplicationConfiguration,
    ManagedApplicationFeedback, ManagedApplicationList, ManagementFlags, PurchaseMethod, RemoveApplication,
};
pub use device::{DeleteUser, DeviceConfigured, DeviceInformation, EraseDevice, LogOutUser, UserList, query};
pub use media::{InstallMedia, ManagedMediaList, MediaSource, MediaTarget, MediaType, RemoveMedia};
pub use settings::{
    ApplicationAttributesSetting, ApplicationConfigurationSetting, DeviceNameSetting, OrganizationInfo,
    OrganizationInfoSetting, SettingItem, Settings,
};

use plist::{Dictionary, Value};

use crate::fields::{DictWriter, Fields, Record};
use crate::{CommandUuid, MdmError, PlistRecord, plist_io};

/// A command envelope: the id the device will echo, plus the request.
#[derive(Debug, Clone, PartialEq)]
pub struct Command {
    /// `CommandUUID`.
    pub command_uuid: CommandUuid,
    /// `Command`: the request itself.
    pub request: CommandRequest,
    /// `Command.RequestRequiresNetworkTether`: run only over a tethered connection
    /// (otherwise the device fails with MCMDM 12081).
    pub request_requires_network_tether: Option<bool>,
}

impl Command {
    /// Wraps a request under a fresh random `CommandUUID`.
    pub fn new(request: impl Into<CommandRequest>) -> Self {
        Self::with_uuid(CommandUuid::random(), request)
    }

    /// Wraps a request under a chosen `CommandUUID` (e.g. one already stored in a queue).
    pub fn with_uuid(command_uuid: impl Into<CommandUuid>, request: impl Into<CommandRequest>) -> Self {
        Self {
            command_uuid: command_uuid.into(),
            request: request.into(),
            request_requires_network_tether: None,
        }
    }

    /// The `RequestType` string.
    pub fn request_type(&self) -> &str {
        self.request.request_type()
    }

    /// Parses a command body (what a device receives).
    pub fn from_xml(bytes: &[u8]) -> Result<Self, MdmError> {
        Self::from_dictionary(plist_io::parse_dictionary(bytes)?)
    }

    /// Serializes as the XML plist body of the HTTP 200 reply.
    pub fn to_xml(&self) -> Result<Vec<u8>, MdmError> {
        plist_io::encode(&PlistRecord::to_dictionary(self))
    }
}

impl PlistRecord for Command {
    fn from_dictionary(dict: Dictionary) -> Result<Self, MdmError> {
        let mut f = Fields::root(dict);
        let command_uuid = CommandUuid::from(f.required_string("CommandUUID")?);
        let mut inner = Fields::at(f.required_dictionary("Command")?, f.path_of("Command"));
        let request_requires_network_tether = inner.bool("RequestRequiresNetworkTether")?;
        let request = CommandRequest::read(inner)?;
        Ok(Self {
            command_uuid,
            request,
            request_requires_network_tether,
        })
    }

    fn to_dictionary(&self) -> Dictionary {
        let mut inner = DictWriter::default();
        inner.opt_bool("RequestRequiresNetworkTether", self.request_requires_network_tether);
        self.request.write(&mut inner);
        let mut out = DictWriter::default();
        out.string("CommandUUID", self.command_uuid.as_str());
        out.value("Command", Value::Dictionary(inner.finish()));
        out.finish()
    }
}

/// A request whose `RequestType` this crate does not model, kept whole.
#[derive(Debug, Clone, PartialEq)]
pub struct UnknownCommand {
    /// The `RequestType` value.
    pub request_type: String,
    /// Every other key of the `Command` dictionary.
    pub body: Dictionary,
}

impl UnknownCommand {
    /// A request with no parameters, e.g. `ProfileList`.
    pub fn new(request_type: impl Into<String>) -> Self {
        Self {
            request_type: request_type.into(),
            body: Dictionary::new(),
        }
    }
}

macro_rules! requests {
    ($($(#[$meta:meta])* $variant:ident,)+) => {
        /// The `Command` dictionary, one variant per `RequestType`.
        #[derive(Debug, Clone, PartialEq)]
        #[allow(clippy::large_enum_variant)] // built one at a time; boxing only adds noise
        pub enum CommandRequest {
            $( $(#[$meta])* $variant($variant), )+
            /// Any other `RequestType`, passed through untouched.
            Other(UnknownCommand),
        }

        impl CommandRequest {
            /// The `RequestType` string.
            pub fn request_type(&self) -> &str {
                match self {
                    $( Self::$variant(_) => stringify!($variant), )+
                    Self::Other(other) => &other.request_type,
                }
            }

            /// Reads the `Command` dictionary (after the envelope took its own keys).
            fn read(mut f: Fields) -> Result<Self, MdmError> {
                let request_type = f.required_string("RequestType")?;
                match request_type.as_str() {
                    $( stringify!($variant) => $variant::read(f).map(Self::$variant), )+
                    _ => Ok(Self::Other(UnknownCommand {
                        request_type,
                        body: f.rest(),
                    })),
                }
            }

            fn write(&self, out: &mut DictWriter) {
                out.string("RequestType", self.request_type());
                match self {
                    $( Self::$variant(request) => request.write(out), )+
                    Self::Other(other) => out.extra(&other.body),
                }
            }
        }

        $(
            impl From<$variant> for CommandRequest {
                fn from(request: $variant) -> Self {
                    Self::$variant(request)
                }
            }

            /// Reads and writes the `Command` dictionary, `RequestType` included.
            impl PlistRecord for $variant {
                fn from_dictionary(dict: Dictionary) -> Result<Self, MdmError> {
                    match CommandRequest::read(Fields::root(dict))? {
                        CommandRequest::$variant(request) => Ok(request),
                        other => Err(MdmError::InvalidValue {
                            key: "RequestType".into(),
                            value: other.request_type().into(),
                            expected: stringify!($variant),
                        }),
                    }
                }

                fn to_dictionary(&self) -> Dictionary {
                    let mut out = DictWriter::default();
                    CommandRequest::from(self.clone()).write(&mut out);
                    out.finish()
                }
            }
        )+
    };
}

requests! {
    /// `DeviceInformation`.
    DeviceInformation,
    /// `InstalledApplicationList`.
    InstalledApplicationList,
    /// `ManagedApplicationList`.
    ManagedApplicationList,
    /// `InstallApplication`.
    InstallApplication,
    /// `RemoveApplication`.
    RemoveApplication,
    /// `ManagedApplicationConfiguration`.
    ManagedApplicationConfiguration,
    /// `ManagedApplicationAttributes`.
    ManagedApplicationAttributes,
    /// `ManagedApplicationFeedback`.
    ManagedApplicationFeedback,
    /// `InstallMedia`.
    InstallMedia,
    /// `RemoveMedia`.
    RemoveMedia,
    /// `ManagedMediaList`.
    ManagedMediaList,
    /// `InviteToProgram`.
    InviteToProgram,
    /// `Settings`.
    Settings,
    /// `EraseDevice`.
    EraseDevice,
    /// `DeviceConfigured`.
    DeviceConfigured,
    /// `UserList` (Shared iPad).
    UserList,
    /// `LogOutUser` (Shared iPad).
    LogOutUser,
    /// `DeleteUser` (Shared iPad).
    DeleteUser,
}

impl From<UnknownCommand> for CommandRequest {
    fn from(request: UnknownCommand) -> Self {
        Self::Other(request)
    }
}
