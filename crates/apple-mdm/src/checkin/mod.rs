//! The check-in endpoint: lifecycle messages a device PUTs to `CheckInURL`.
//!
//! Parse a body with [`CheckinMessage::from_xml`] and match on the variant. Message
//! types this crate does not model are not an error: they arrive as
//! [`CheckinMessage::Other`] with the raw dictionary, because a newer OS may send
//! check-ins the server can safely ignore (answering 200 or 400 is a server decision).

mod messages;
mod responses;

pub use messages::{
    Authenticate, CheckOut, DeclarativeManagement, GetBootstrapToken, GetToken, ReturnToService, SetBootstrapToken,
    TokenUpdate, UserAuthenticate,
};
pub use responses::{BootstrapTokenResponse, GetTokenResponse, UserAuthenticateResponse};

use plist::{Dictionary, Value};

use crate::fields::{DictWriter, Fields, Record};
use crate::{Channel, ChannelIdentity, MdmError, PlistRecord, plist_io};

/// The HTTP `Content-Type` prefix of check-in requests; lets one URL serve both
/// endpoints.
pub const CONTENT_TYPE: &str = "application/x-apple-aspen-mdm-checkin";

/// A check-in message, one variant per `MessageType`.
#[derive(Debug, Clone, PartialEq)]
#[allow(clippy::large_enum_variant)] // parsed once per request; boxing buys nothing
pub enum CheckinMessage {
    /// `Authenticate`.
    Authenticate(Authenticate),
    /// `TokenUpdate`.
    TokenUpdate(TokenUpdate),
    /// `CheckOut`.
    CheckOut(CheckOut),
    /// `UserAuthenticate` (macOS).
    UserAuthenticate(UserAuthenticate),
    /// `SetBootstrapToken`.
    SetBootstrapToken(SetBootstrapToken),
    /// `GetBootstrapToken`.
    GetBootstrapToken(GetBootstrapToken),
    /// `DeclarativeManagement`.
    DeclarativeManagement(DeclarativeManagement),
    /// `GetToken`.
    GetToken(GetToken),
    /// `ReturnToService`.
    ReturnToService(ReturnToService),
    /// A `MessageType` this crate does not model.
    Other(UnknownCheckin),
}

/// A check-in whose `MessageType` is unknown, kept whole.
#[derive(Debug, Clone, PartialEq)]
pub struct UnknownCheckin {
    /// The `MessageType` value.
    pub message_type: String,
    /// Every other key, untouched.
    pub body: Dictionary,
}

macro_rules! variants {
    ($($variant:ident),+ $(,)?) => {
        impl CheckinMessage {
            /// The `MessageType` string.
            pub fn message_type(&self) -> &str {
                match self {
                    $( Self::$variant(_) => stringify!($variant), )+
                    Self::Other(other) => &other.message_type,
                }
            }

            /// Who sent it; `None` only for an unknown message type.
            pub fn identity(&self) -> Option<&ChannelIdentity> {
                match self {
                    $( Self::$variant(message) => Some(&message.identity), )+
                    Self::Other(_) => None,
                }
            }

            fn read_body(message_type: String, mut fields: Fields) -> Result<Self, MdmError> {
                match message_type.as_str() {
                    $( stringify!($variant) => $variant::read(fields).map(Self::$variant), )+
                    _ => Ok(Self::Other(UnknownCheckin {
                        message_type,
                        body: fields.rest(),
                    })),
                }
            }

            fn write_body(&self, out: &mut DictWriter) {
                match self {
                    $( Self::$variant(message) => message.write(out), )+
                    Self::Other(other) => out.extra(&other.body),
                }
            }
        }

        $(
            impl From<$variant> for CheckinMessage {
                fn from(message: $variant) -> Self {
                    Self::$variant(message)
                }
            }

            /// Reads and writes the complete body, `MessageType` included, so a
            /// simulator can send `TokenUpdate { .. }.to_xml()` as is.
            impl PlistRecord for $variant {
                fn from_dictionary(dict: Dictionary) -> Result<Self, MdmError> {
                    match CheckinMessage::from_dictionary(dict)? {
                        CheckinMessage::$variant(message) => Ok(message),
                        other => Err(MdmError::InvalidValue {
                            key: "MessageType".into(),
                            value: other.message_type().into(),
                            expected: stringify!($variant),
                        }),
                    }
                }

                fn to_dictionary(&self) -> Dictionary {
                    CheckinMessage::from(self.clone()).to_dictionary()
                }
            }
        )+
    };
}

variants!(
    Authenticate,
    TokenUpdate,
    CheckOut,
    UserAuthenticate,
    SetBootstrapToken,
    GetBootstrapToken,
    DeclarativeManagement,
    GetToken,
    ReturnToService,
);

impl CheckinMessage {
    /// Parses a check-in request body.
    pub fn from_xml(bytes: &[u8]) -> Result<Self, MdmError> {
        Self::from_dictionary(plist_io::parse_dictionary(bytes)?)
    }

    /// Serializes as an XML plist body (what a device would PUT).
    pub fn to_xml(&self) -> Result<Vec<u8>, MdmError> {
        plist_io::encode(&PlistRecord::to_dictionary(self))
    }

    /// Device or user channel; unknown messages count as device channel only when
    /// they carry no user keys.
    pub fn channel(&self) -> Channel {
        match self {
            Self::Other(other) => {
                let user_keys = ["UserID", "UserShortName", "UserLongName", "EnrollmentUserID"];
                if user_keys.iter().any(|key| other.body.contains_key(key)) {
                    Channel::User
                } else {
                    Channel::Device
                }
            }
            known => known.identity().map_or(Channel::Device, ChannelIdentity::channel),
        }
    }
}

impl PlistRecord for CheckinMessage {
    fn from_dictionary(dict: Dictionary) -> Result<Self, MdmError> {
        let mut fields = Fields::root(dict);
        let message_type = fields.required_string("MessageType")?;
        Self::read_body(message_type, fields)
    }

    fn to_dictionary(&self) -> Dictionary {
        let mut out = DictWriter::default();
        out.value("MessageType", Value::String(self.message_type().to_owned()));
        self.write_body(&mut out);
        out.finish()
    }
}
