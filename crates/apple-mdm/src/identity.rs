//! Who sent a message: which enrollment, and which channel of it.

use std::fmt;

use crate::MdmError;
use crate::fields::{DictWriter, Fields};

macro_rules! string_id {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            /// Wraps the identifier exactly as the device or server spelled it.
            pub fn new(value: impl Into<String>) -> Self {
                Self(value.into())
            }

            /// The identifier as sent on the wire.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// Unwraps into the owned string.
            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<String> for $name {
            fn from(value: String) -> Self {
                Self(value)
            }
        }

        impl From<&str> for $name {
            fn from(value: &str) -> Self {
                Self(value.to_owned())
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

string_id! {
    /// A device's UDID as the device reports it.
    ///
    /// Kept verbatim (no case folding): older iOS devices send 40 hex digits, newer
    /// ones and Macs a hyphenated UUID, and the server must echo what it received.
    Udid
}

string_id! {
    /// The per-enrollment device id that User Enrollment sends *instead of* a UDID.
    EnrollmentId
}

string_id! {
    /// The server-chosen id that ties a command to the device's report about it.
    ///
    /// A plain string, not a parsed UUID, because the protocol only requires a string
    /// and devices echo whatever the server sent, including its letter case.
    CommandUuid
}

impl CommandUuid {
    /// A fresh random (v4) id, upper-case like the UUIDs Apple's own tools emit.
    pub fn random() -> Self {
        Self(
            uuid::Uuid::new_v4()
                .hyphenated()
                .encode_upper(&mut uuid::Uuid::encode_buffer())
                .to_owned(),
        )
    }
}

/// The `UserID` a Shared iPad user channel always sends, meaning "not authenticated".
pub const SHARED_IPAD_USER_ID: &str = "FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF";

/// Which enrollment a message belongs to.
///
/// Device enrollments identify themselves by `UDID`; User Enrollment (BYOD) hides the
/// hardware id and sends an `EnrollmentID` instead. Exactly one is present.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum DeviceId {
    /// `UDID`: a device enrollment.
    Udid(Udid),
    /// `EnrollmentID`: a user enrollment.
    EnrollmentId(EnrollmentId),
}

impl DeviceId {
    /// The identifier string, whichever kind it is; handy as a storage key.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Udid(udid) => udid.as_str(),
            Self::EnrollmentId(id) => id.as_str(),
        }
    }
}

impl fmt::Display for DeviceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The two MDM channels; each has its own push token and PushMagic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Channel {
    /// Commands that act on the whole device.
    Device,
    /// A logged-in user's channel (macOS users, Shared iPad users).
    User,
}

/// The user part of a user-channel message.
///
/// Which keys are present depends on the platform: macOS sends `UserID`,
/// `UserShortName` and `UserLongName`; Shared iPad sends `UserShortName` (the Managed
/// Apple Account) with [`SHARED_IPAD_USER_ID`]; macOS user enrollment sends
/// `EnrollmentUserID`. So every field is optional, but at least one is set.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct UserIdentity {
    /// `UserID`: the user's GUID (macOS) or the all-F placeholder (Shared iPad).
    pub user_id: Option<String>,
    /// `UserShortName`: macOS short name, or the Managed Apple Account on Shared iPad.
    pub short_name: Option<String>,
    /// `UserLongName`: the user's full name.
    pub long_name: Option<String>,
    /// `EnrollmentUserID`: the per-enrollment user id of a macOS user enrollment.
    pub enrollment_user_id: Option<String>,
}

impl UserIdentity {
    /// Shared iPad user channels use a fixed placeholder `UserID`.
    pub fn is_shared_ipad_user(&self) -> bool {
        self.user_id.as_deref() == Some(SHARED_IPAD_USER_ID)
    }
}

/// Identifies the sender of a check-in or report: the enrollment plus, for user-channel
/// messages, the user.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ChannelIdentity {
    /// The enrollment (`UDID` or `EnrollmentID`).
    pub device: DeviceId,
    /// Present only on the user channel.
    pub user: Option<UserIdentity>,
}

impl ChannelIdentity {
    /// A device-channel identity for a UDID; the common case when building test bodies.
    pub fn device(udid: impl Into<Udid>) -> Self {
        Self {
            device: DeviceId::Udid(udid.into()),
            user: None,
        }
    }

    /// The presence of any user key is what marks a user-channel message.
    pub fn channel(&self) -> Channel {
        if self.user.is_some() {
            Channel::User
        } else {
            Channel::Device
        }
    }

    /// The UDID, unless this is a user enrollment.
    pub fn udid(&self) -> Option<&Udid> {
        match &self.device {
            DeviceId::Udid(udid) => Some(udid),
            DeviceId::EnrollmentId(_) => None,
        }
    }

    pub(crate) fn read(fields: &mut Fields) -> Result<Self, MdmError> {
        let udid = fields.string("UDID")?;
        let enrollment_id = fields.string("EnrollmentID")?;
        let device = match (udid, enrollment_id) {
            (Some(udid), None) => DeviceId::Udid(Udid(udid)),
            (None, Some(id)) => DeviceId::EnrollmentId(EnrollmentId(id)),
            (Some(_), Some(_)) => return Err(fields.conflicting(&["UDID", "EnrollmentID"])),
            (None, None) => return Err(fields.missing_one_of(&["UDID", "EnrollmentID"])),
        };
        let user = UserIdentity {
            user_id: fields.string("UserID")?,
            short_name: fields.string("UserShortName")?,
            long_name: fields.string("UserLongName")?,
            enrollment_user_id: fields.string("EnrollmentUserID")?,
        };
        let user = (user != UserIdentity::default()).then_some(user);
        Ok(Self { device, user })
    }

    pub(crate) fn write(&self, out: &mut DictWriter) {
        match &self.device {
            DeviceId::Udid(udid) => out.string("UDID", udid.as_str()),
            DeviceId::EnrollmentId(id) => out.string("EnrollmentID", id.as_str()),
        }
        if let Some(user) = &self.user {
            out.opt_string("UserID", user.user_id.as_deref());
            out.opt_string("UserShortName", user.short_name.as_deref());
            out.opt_string("UserLongName", user.long_name.as_deref());
            out.opt_string("EnrollmentUserID", user.enrollment_user_id.as_deref());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_command_uuids_are_distinct_uppercase_uuids() {
        let a = CommandUuid::random();
        let b = CommandUuid::random();
        assert_ne!(a, b);
        assert_eq!(a.as_str().len(), 36);
        assert_eq!(a.as_str(), a.as_str().to_uppercase());
    }

    #[test]
    fn user_keys_mark_the_user_channel() {
        let mut identity = ChannelIdentity::device("abc");
        assert_eq!(identity.channel(), Channel::Device);
        identity.user = Some(UserIdentity {
            user_id: Some(SHARED_IPAD_USER_ID.into()),
            short_name: Some("student@school.example".into()),
            ..UserIdentity::default()
        });
        assert_eq!(identity.channel(), Channel::User);
        assert!(identity.user.as_ref().is_some_and(UserIdentity::is_shared_ipad_user));
    }
}
