//! What happened to one push: APNs' answer turned into something a caller can act on.
//!
//! The reason strings are those of Apple's "Handling notification responses from APNs"
//! table. Unknown strings are kept verbatim in [`Reason::Other`] so a new reason from Apple
//! is reported rather than lost.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The `reason` of an APNs error response.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Reason {
    // 400
    BadCollapseId,
    BadDeviceToken,
    BadExpirationDate,
    BadMessageId,
    BadPriority,
    BadTopic,
    DeviceTokenNotForTopic,
    DuplicateHeaders,
    IdleTimeout,
    InvalidPushType,
    MissingDeviceToken,
    MissingTopic,
    PayloadEmpty,
    TopicDisallowed,
    // 403
    BadCertificate,
    BadCertificateEnvironment,
    ExpiredProviderToken,
    Forbidden,
    InvalidProviderToken,
    MissingProviderToken,
    UnrelatedKeyIdInToken,
    BadEnvironmentKeyIdInToken,
    // 404, 405
    BadPath,
    MethodNotAllowed,
    // 410
    ExpiredToken,
    Unregistered,
    // 413
    PayloadTooLarge,
    // 429
    TooManyProviderTokenUpdates,
    TooManyRequests,
    // 500, 503
    InternalServerError,
    ServiceUnavailable,
    Shutdown,
    /// A reason Apple did not document when this crate was written, or the raw body
    /// (shortened) when the response carried no JSON reason at all.
    Other(String),
}

/// Who has to act on a [`Reason`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReasonKind {
    /// The device token is wrong or gone: stop pushing to it until the device sends a new
    /// TokenUpdate. Affects one device.
    DeviceToken,
    /// The push certificate or provider token is wrong, expired, revoked or for the other
    /// environment. Affects every device: alert an administrator.
    Credentials,
    /// The request itself is malformed (a bug or a misconfigured topic).
    Request,
    /// APNs is overloaded or restarting: try again later.
    Transient,
    /// Not documented; treat as permanent for this push.
    Unknown,
}

const NAMES: &[(&str, Reason)] = &[
    ("BadCollapseId", Reason::BadCollapseId),
    ("BadDeviceToken", Reason::BadDeviceToken),
    ("BadExpirationDate", Reason::BadExpirationDate),
    ("BadMessageId", Reason::BadMessageId),
    ("BadPriority", Reason::BadPriority),
    ("BadTopic", Reason::BadTopic),
    ("DeviceTokenNotForTopic", Reason::DeviceTokenNotForTopic),
    ("DuplicateHeaders", Reason::DuplicateHeaders),
    ("IdleTimeout", Reason::IdleTimeout),
    ("InvalidPushType", Reason::InvalidPushType),
    ("MissingDeviceToken", Reason::MissingDeviceToken),
    ("MissingTopic", Reason::MissingTopic),
    ("PayloadEmpty", Reason::PayloadEmpty),
    ("TopicDisallowed", Reason::TopicDisallowed),
    ("BadCertificate", Reason::BadCertificate),
    ("BadCertificateEnvironment", Reason::BadCertificateEnvironment),
    ("ExpiredProviderToken", Reason::ExpiredProviderToken),
    ("Forbidden", Reason::Forbidden),
    ("InvalidProviderToken", Reason::InvalidProviderToken),
    ("MissingProviderToken", Reason::MissingProviderToken),
    ("UnrelatedKeyIdInToken", Reason::UnrelatedKeyIdInToken),
    ("BadEnvironmentKeyIdInToken", Reason::BadEnvironmentKeyIdInToken),
    ("BadPath", Reason::BadPath),
    ("MethodNotAllowed", Reason::MethodNotAllowed),
    ("ExpiredToken", Reason::ExpiredToken),
    ("Unregistered", Reason::Unregistered),
    ("PayloadTooLarge", Reason::PayloadTooLarge),
    ("TooManyProviderTokenUpdates", Reason::TooManyProviderTokenUpdates),
    ("TooManyRequests", Reason::TooManyRequests),
    ("InternalServerError", Reason::InternalServerError),
    ("ServiceUnavailable", Reason::ServiceUnavailable),
    ("Shutdown", Reason::Shutdown),
];

impl Reason {
    /// Every reason Apple documents, for exhaustive tests and simulators.
    pub fn documented() -> impl Iterator<Item = Reason> {
        NAMES.iter().map(|(_, reason)| reason.clone())
    }

    /// Parses Apple's reason string; anything unknown is kept in [`Reason::Other`].
    pub fn parse(s: &str) -> Reason {
        NAMES
            .iter()
            .find(|(name, _)| *name == s)
            .map(|(_, reason)| reason.clone())
            .unwrap_or_else(|| Reason::Other(s.to_owned()))
    }

    /// The string APNs sends for this reason.
    pub fn as_str(&self) -> &str {
        match self {
            Reason::Other(s) => s,
            known => NAMES
                .iter()
                .find(|(_, reason)| reason == known)
                .map(|(name, _)| *name)
                .unwrap_or_default(),
        }
    }

    /// The HTTP status Apple documents for this reason (`None` for [`Reason::Other`]).
    pub fn documented_status(&self) -> Option<u16> {
        use Reason::*;
        Some(match self {
            BadCollapseId
            | BadDeviceToken
            | BadExpirationDate
            | BadMessageId
            | BadPriority
            | BadTopic
            | DeviceTokenNotForTopic
            | DuplicateHeaders
            | IdleTimeout
            | InvalidPushType
            | MissingDeviceToken
            | MissingTopic
            | PayloadEmpty
            | TopicDisallowed => 400,
            BadCertificate
            | BadCertificateEnvironment
            | ExpiredProviderToken
            | Forbidden
            | InvalidProviderToken
            | MissingProviderToken
            | UnrelatedKeyIdInToken
            | BadEnvironmentKeyIdInToken => 403,
            BadPath => 404,
            MethodNotAllowed => 405,
            ExpiredToken | Unregistered => 410,
            PayloadTooLarge => 413,
            TooManyProviderTokenUpdates | TooManyRequests => 429,
            InternalServerError => 500,
            ServiceUnavailable | Shutdown => 503,
            Other(_) => return None,
        })
    }

    /// Who has to act; see [`ReasonKind`].
    pub fn kind(&self) -> ReasonKind {
        use Reason::*;
        match self {
            // A sandbox token sent to production also gives BadDeviceToken: still a per-device
            // problem from the caller's point of view (the device must re-enrol).
            BadDeviceToken | DeviceTokenNotForTopic | MissingDeviceToken | ExpiredToken | Unregistered => {
                ReasonKind::DeviceToken
            }
            // TopicDisallowed and BadTopic mean the certificate and the topic do not go together.
            BadCertificate
            | BadCertificateEnvironment
            | ExpiredProviderToken
            | Forbidden
            | InvalidProviderToken
            | MissingProviderToken
            | UnrelatedKeyIdInToken
            | BadEnvironmentKeyIdInToken
            | TooManyProviderTokenUpdates
            | TopicDisallowed
            | BadTopic => ReasonKind::Credentials,
            BadCollapseId | BadExpirationDate | BadMessageId | BadPriority | DuplicateHeaders | InvalidPushType
            | MissingTopic | PayloadEmpty | BadPath | MethodNotAllowed | PayloadTooLarge => ReasonKind::Request,
            IdleTimeout | TooManyRequests | InternalServerError | ServiceUnavailable | Shutdown => {
                ReasonKind::Transient
            }
            Other(_) => ReasonKind::Unknown,
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The result of one MDM push, after any retries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PushOutcome {
    /// APNs accepted the push (HTTP 200). This does not mean the device will check in:
    /// it may be offline, wiped, or have a newer PushMagic.
    Delivered { apns_id: Option<String> },
    /// HTTP 410: the token is no longer valid for the topic. Stop pushing to it until the
    /// device sends a TokenUpdate newer than `since` (when APNs gave a timestamp).
    Unregistered {
        since: Option<SystemTime>,
        reason: Reason,
        apns_id: Option<String>,
    },
    /// A permanent rejection: retrying the same request will not help.
    Rejected {
        status: u16,
        reason: Reason,
        apns_id: Option<String>,
    },
    /// No answer from APNs settled it: transient failures outlived the retry policy, or the
    /// request could not be sent at all (`attempts` is then 0).
    Failed { attempts: u32, cause: FailureCause },
}

impl PushOutcome {
    pub fn is_delivered(&self) -> bool {
        matches!(self, PushOutcome::Delivered { .. })
    }

    /// APNs' reason, when there was one.
    pub fn reason(&self) -> Option<&Reason> {
        match self {
            PushOutcome::Unregistered { reason, .. } | PushOutcome::Rejected { reason, .. } => Some(reason),
            PushOutcome::Failed {
                cause: FailureCause::Status { reason, .. },
                ..
            } => reason.as_ref(),
            _ => None,
        }
    }

    /// True when the caller should stop pushing to this device token (410, or a 400 about
    /// the token itself).
    pub fn token_is_invalid(&self) -> bool {
        match self {
            PushOutcome::Unregistered { .. } => true,
            PushOutcome::Rejected { reason, .. } => reason.kind() == ReasonKind::DeviceToken,
            _ => false,
        }
    }
}

/// Why a push ended in [`PushOutcome::Failed`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FailureCause {
    /// The last answer was a retryable status (429, 5xx).
    Status { status: u16, reason: Option<Reason> },
    /// The request did not complete within the configured timeout.
    Timeout,
    /// Connection, TLS or HTTP/2 error (including GOAWAY and reset streams).
    Transport(String),
    /// The provider token could not be signed.
    Signing,
    /// The push cannot be expressed as a request (an `apns-id` that is not a header value).
    InvalidRequest(String),
}

impl fmt::Display for FailureCause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FailureCause::Status {
                status,
                reason: Some(r),
            } => write!(f, "HTTP {status} {r}"),
            FailureCause::Status { status, reason: None } => write!(f, "HTTP {status}"),
            FailureCause::Timeout => f.write_str("timed out"),
            FailureCause::Transport(e) => write!(f, "transport error: {e}"),
            FailureCause::Signing => f.write_str("the provider token could not be signed"),
            FailureCause::InvalidRequest(e) => write!(f, "invalid request: {e}"),
        }
    }
}

/// An error body as APNs sends it: `{"reason": "...", "timestamp": <ms>}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ErrorBody {
    pub reason: Option<Reason>,
    pub timestamp: Option<SystemTime>,
}

/// Bodies that are not APNs JSON (a proxy's HTML page, say) are kept as text, shortened, so
/// the caller sees what answered instead of an empty reason.
const RAW_BODY_LIMIT: usize = 200;

impl ErrorBody {
    pub(crate) fn parse(body: &[u8]) -> ErrorBody {
        let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) else {
            return ErrorBody {
                reason: raw_reason(body),
                timestamp: None,
            };
        };
        let reason = value.get("reason").and_then(|r| r.as_str()).map(Reason::parse);
        // Apple documents milliseconds since the epoch as a number; a string is accepted in
        // case a proxy or simulator quotes it.
        let millis = value.get("timestamp").and_then(|t| {
            t.as_u64()
                .or_else(|| t.as_f64().filter(|f| *f >= 0.0).map(|f| f as u64))
                .or_else(|| t.as_str().and_then(|s| s.trim().parse().ok()))
        });
        ErrorBody {
            reason: reason.or_else(|| raw_reason(body)),
            timestamp: millis.map(|ms| UNIX_EPOCH + Duration::from_millis(ms)),
        }
    }
}

fn raw_reason(body: &[u8]) -> Option<Reason> {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    let short: String = text.chars().take(RAW_BODY_LIMIT).collect();
    Some(Reason::Other(short))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_documented_reason_round_trips_through_its_string() {
        let all: Vec<Reason> = Reason::documented().collect();
        assert_eq!(all.len(), 32);
        for reason in all {
            let s = reason.as_str().to_owned();
            assert_eq!(Reason::parse(&s), reason, "{s}");
            assert!(reason.documented_status().is_some(), "{s}");
            assert_ne!(reason.kind(), ReasonKind::Unknown, "{s}");
        }
    }

    #[test]
    fn unknown_reason_is_kept_verbatim() {
        let r = Reason::parse("SomethingNew");
        assert_eq!(r, Reason::Other("SomethingNew".into()));
        assert_eq!(r.as_str(), "SomethingNew");
        assert_eq!(r.kind(), ReasonKind::Unknown);
        assert_eq!(r.documented_status(), None);
    }

    #[test]
    fn token_reasons_are_per_device_and_certificate_reasons_are_global() {
        for r in [
            Reason::BadDeviceToken,
            Reason::DeviceTokenNotForTopic,
            Reason::Unregistered,
        ] {
            assert_eq!(r.kind(), ReasonKind::DeviceToken);
        }
        for r in [
            Reason::BadCertificate,
            Reason::BadCertificateEnvironment,
            Reason::InvalidProviderToken,
        ] {
            assert_eq!(r.kind(), ReasonKind::Credentials);
        }
        assert_eq!(Reason::TooManyRequests.kind(), ReasonKind::Transient);
    }

    #[test]
    fn error_body_with_reason_and_timestamp() {
        let body = ErrorBody::parse(br#"{"reason":"Unregistered","timestamp":1700000000123}"#);
        assert_eq!(body.reason, Some(Reason::Unregistered));
        assert_eq!(
            body.timestamp,
            Some(UNIX_EPOCH + Duration::from_millis(1_700_000_000_123))
        );
    }

    #[test]
    fn error_body_timestamp_as_string_is_accepted() {
        let body = ErrorBody::parse(br#"{"reason":"ExpiredToken","timestamp":"1700000000123"}"#);
        assert_eq!(body.reason, Some(Reason::ExpiredToken));
        assert_eq!(
            body.timestamp,
            Some(UNIX_EPOCH + Duration::from_millis(1_700_000_000_123))
        );
    }

    #[test]
    fn non_json_body_becomes_other_and_empty_body_no_reason() {
        let body = ErrorBody::parse(b"<html>bad gateway</html>");
        assert_eq!(body.reason, Some(Reason::Other("<html>bad gateway</html>".into())));
        assert_eq!(ErrorBody::parse(b"").reason, None);
        let long = vec![b'x'; 1000];
        match ErrorBody::parse(&long).reason {
            Some(Reason::Other(s)) => assert_eq!(s.len(), RAW_BODY_LIMIT),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn outcome_helpers() {
        let gone = PushOutcome::Unregistered {
            since: None,
            reason: Reason::Unregistered,
            apns_id: None,
        };
        assert!(gone.token_is_invalid());
        let bad = PushOutcome::Rejected {
            status: 400,
            reason: Reason::BadDeviceToken,
            apns_id: None,
        };
        assert!(bad.token_is_invalid());
        let cert = PushOutcome::Rejected {
            status: 403,
            reason: Reason::BadCertificate,
            apns_id: None,
        };
        assert!(!cert.token_is_invalid());
        assert_eq!(cert.reason(), Some(&Reason::BadCertificate));
        let failed = PushOutcome::Failed {
            attempts: 3,
            cause: FailureCause::Status {
                status: 503,
                reason: Some(Reason::ServiceUnavailable),
            },
        };
        assert_eq!(failed.reason(), Some(&Reason::ServiceUnavailable));
        assert!(!failed.is_delivered());
    }
}
