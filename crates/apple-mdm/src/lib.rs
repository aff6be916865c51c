//! Apple's MDM protocol messages as typed Rust values.
//!
//! The crate covers the three kinds of bodies an MDM server and a device exchange:
//!
//! * [`checkin`]: lifecycle messages the device PUTs to the check-in URL
//!   (`Authenticate`, `TokenUpdate`, `CheckOut`, ...), parsed into [`CheckinMessage`].
//! * [`report`]: what the device PUTs to the command URL (`Idle` or the result of a
//!   command), parsed into [`CommandReport`], with typed result payloads such as
//!   [`report::ManagedApplicationListResult`].
//! * [`command`]: what the server answers with, built as a [`Command`] and serialized
//!   to an XML plist.
//! * [`enrollment`]: the enrollment profile and its `com.apple.mdm` payload.
//!
//! It deliberately knows nothing about HTTP, storage or async runtimes, so the same
//! types serve the server and the device simulator.
//!
//! Design rules that hold everywhere:
//!
//! * Parsing never panics and never guesses: malformed input yields an [`MdmError`]
//!   naming the offending key path.
//! * Keys the crate does not model are kept in an `extra` dictionary and written back,
//!   so parse -> serialize -> parse is lossless, including keys from future OS releases.
//! * Open-ended protocol strings (app states, rejection reasons, ...) are enums with an
//!   `Other(String)` fallback: a new value from Apple must not make a report unreadable.
//!
//! ```
//! use apple_mdm::{Command, CommandReport, CommandStatus, command::InstallApplication};
//!
//! let command = Command::new(
//!     InstallApplication::from_store(361_309_726).with_license_assignment(),
//! );
//! let body = command.to_xml().unwrap();
//! assert_eq!(Command::from_xml(&body).unwrap(), command);
//!
//! let report = CommandReport::from_xml(
//!     br#"<plist version="1.0"><dict>
//!         <key>UDID</key><string>0000-1111</string>
//!         <key>Status</key><string>Idle</string>
//!     </dict></plist>"#,
//! )
//! .unwrap();
//! assert_eq!(report.status, CommandStatus::Idle);
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod error;
mod fields;
mod identity;
mod plist_io;

pub mod checkin;
pub mod command;
pub mod enrollment;
pub mod error_chain;
pub mod report;

pub use checkin::CheckinMessage;
pub use command::{Command, CommandRequest};
pub use error::MdmError;
pub use error_chain::{ErrorChain, ErrorChainItem};
pub use identity::{
    Channel, ChannelIdentity, CommandUuid, DeviceId, EnrollmentId, SHARED_IPAD_USER_ID, Udid, UserIdentity,
};
pub use plist::{Dictionary, Value};
pub use report::{CommandReport, CommandStatus};

/// A message that maps to one plist dictionary.
///
/// Every message and payload type implements it, so generic code (a simulator that
/// stores bodies, a test helper) can move between bytes, dictionaries and typed values
/// the same way for all of them.
pub trait PlistRecord: Sized {
    /// Reads the typed value from an already-parsed dictionary.
    fn from_dictionary(dict: Dictionary) -> Result<Self, MdmError>;

    /// Writes the value as a dictionary, including any unmodelled `extra` keys.
    fn to_dictionary(&self) -> Dictionary;

    /// Parses an XML plist body.
    fn from_xml(bytes: &[u8]) -> Result<Self, MdmError> {
        Self::from_dictionary(plist_io::parse_dictionary(bytes)?)
    }

    /// Serializes as an XML plist document.
    fn to_xml(&self) -> Result<Vec<u8>, MdmError> {
        plist_io::encode(&self.to_dictionary())
    }
}
