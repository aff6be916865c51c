//! The single error type for everything this crate refuses.

/// Why a body could not be turned into (or out of) a typed MDM message.
///
/// Every variant names the offending key with its full path (for example
/// `ManagedApplicationList.com.apple.Numbers.Status` or `ErrorChain[0].ErrorCode`)
/// so that a server can log one line that is enough to find the problem, and answer
/// the device with HTTP 400 without guessing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MdmError {
    /// Devices never send an empty body to the check-in or command endpoints.
    #[error("body is empty; expected an XML property list")]
    EmptyBody,

    /// The bytes are not a well-formed XML property list.
    #[error("body is not a valid XML property list: {reason}")]
    NotAPlist {
        /// What the plist reader tripped over, with a byte offset when known.
        reason: String,
    },

    /// A `<data>` element holds text that is not base64, so its bytes are unknown.
    #[error("invalid base64 in the <data> value of key `{key}`: {excerpt:?}")]
    InvalidBase64 {
        /// The dictionary key owning the bad `<data>` element.
        key: String,
        /// The start of the offending text, to recognise placeholders such as `Base64=`.
        excerpt: String,
    },

    /// Nesting this deep is never produced by a device and could exhaust the stack.
    #[error("property list nests deeper than {limit} dictionaries/arrays")]
    TooDeeplyNested {
        /// The maximum accepted depth.
        limit: usize,
    },

    /// MDM bodies are always dictionaries at the top level.
    #[error("top level of the property list must be a dictionary, found {found}")]
    NotADictionary {
        /// The plist type found instead.
        found: &'static str,
    },

    /// A key the protocol requires is absent.
    #[error("missing required key `{key}`")]
    MissingKey {
        /// Full path of the missing key.
        key: String,
    },

    /// None of a set of alternative keys is present (e.g. `UDID` / `EnrollmentID`).
    #[error("missing required key: one of {keys}")]
    MissingOneOf {
        /// The alternatives, already formatted with their paths.
        keys: String,
    },

    /// Keys that identify the same thing in different ways are both present.
    #[error("only one of {keys} may be present")]
    ConflictingKeys {
        /// The conflicting keys, already formatted with their paths.
        keys: String,
    },

    /// A key holds a value of the wrong plist type.
    #[error("key `{key}` must be {expected}, found {found}")]
    WrongType {
        /// Full path of the key.
        key: String,
        /// The plist type the protocol prescribes.
        expected: &'static str,
        /// The plist type actually found.
        found: &'static str,
    },

    /// A key has the right type but a value outside the protocol's range.
    #[error("key `{key}` has invalid value {value:?}: expected {expected}")]
    InvalidValue {
        /// Full path of the key.
        key: String,
        /// The value found, rendered as text.
        value: String,
        /// What the protocol allows.
        expected: &'static str,
    },

    /// The value cannot be written as XML (only possible for hand-built values that
    /// contain a keyed-archiver UID, which XML plists cannot express).
    #[error("cannot encode as an XML property list: {reason}")]
    Encode {
        /// What the plist writer reported.
        reason: String,
    },
}
