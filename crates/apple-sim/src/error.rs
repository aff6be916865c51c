use std::fmt;

/// The HTTP endpoints a simulated device talks to, named for errors and latency statistics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Endpoint {
    /// `GET` of the enrollment profile.
    Profile,
    /// `PUT CheckInURL` with `MessageType=Authenticate`.
    Authenticate,
    /// `PUT CheckInURL` with `MessageType=TokenUpdate` (either channel).
    TokenUpdate,
    /// `PUT CheckInURL` with `MessageType=CheckOut`.
    CheckOut,
    /// `PUT ServerURL` (`Idle` or a command result).
    Connect,
}

impl Endpoint {
    /// Every endpoint, in a stable order for reports.
    pub const ALL: [Endpoint; 5] = [
        Endpoint::Profile,
        Endpoint::Authenticate,
        Endpoint::TokenUpdate,
        Endpoint::CheckOut,
        Endpoint::Connect,
    ];

    /// A short lowercase name for logs and benchmark tables.
    pub fn as_str(self) -> &'static str {
        match self {
            Endpoint::Profile => "profile",
            Endpoint::Authenticate => "authenticate",
            Endpoint::TokenUpdate => "token-update",
            Endpoint::CheckOut => "check-out",
            Endpoint::Connect => "connect",
        }
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a simulator operation failed.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum SimError {
    /// The request never got an HTTP answer (connection refused, timeout, TLS failure).
    #[error("{endpoint}: transport error: {message}")]
    Transport {
        /// Where the request went.
        endpoint: Endpoint,
        /// The client's error, with its causes.
        message: String,
    },
    /// The server answered with a status the device does not accept.
    #[error("{endpoint}: HTTP {status}")]
    Status {
        /// Where the request went.
        endpoint: Endpoint,
        /// The HTTP status.
        status: u16,
        /// The start of the body, for diagnosis.
        body: String,
    },
    /// The enrollment profile is one iOS would refuse to install.
    #[error("enrollment profile refused: {0}")]
    ProfileRefused(String),
    /// The identity payload could not be read, or signing failed.
    #[error("identity: {0}")]
    Identity(#[from] mdm_identity::IdentityError),
    /// A message could not be built or the server's reply could not be read.
    #[error("MDM message: {0}")]
    Mdm(#[from] apple_mdm::MdmError),
    /// The device is not enrolled (never was, unenrolled, or refused by the server).
    #[error("the device is not enrolled")]
    NotEnrolled,
    /// The device was erased by an `EraseDevice` command.
    #[error("the device was erased")]
    Wiped,
    /// The device is offline and makes no requests.
    #[error("the device is offline")]
    Offline,
    /// A listener, certificate or TLS configuration could not be set up.
    #[error("setup: {0}")]
    Setup(String),
    /// A wait for a condition ended before the condition held.
    #[error("timed out waiting for {0}")]
    Timeout(String),
    /// The VPP simulator's location was deleted by a test.
    #[error("the VPP location was deleted")]
    LocationDeleted,
    /// No active (Registered or Associated) VPP user has this clientUserId.
    #[error("no active VPP user `{0}`")]
    NoSuchUser(String),
    /// The VPP location has no such asset (or it cannot take this change).
    #[error("no usable VPP asset `{0}`")]
    NoSuchAsset(String),
    /// A refund would take back licenses that are assigned.
    #[error("asset {adam_id}: only {available} licenses available, {requested} requested")]
    LicenseShortfall {
        /// The asset.
        adam_id: String,
        /// Licenses not assigned.
        available: i64,
        /// Licenses the change needed.
        requested: i64,
    },
}

impl SimError {
    /// The HTTP status, when the failure was an HTTP answer.
    pub fn status(&self) -> Option<u16> {
        match self {
            SimError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    pub(crate) fn setup(e: impl fmt::Display) -> Self {
        SimError::Setup(e.to_string())
    }
}
