//! Notifications Apple POSTs to the MDM's `notificationUrl`.
//!
//! Envelope: `{"notification": {…}, "notificationId", "notificationType", "uId"}`; the
//! shape of `notification` depends on the type. Apple authenticates with
//! `Authorization: Bearer <notificationAuthToken>` (the secret set in client/config).
//! Delivery is best effort (≤3 attempts), so de-duplicate by `notificationId` and
//! reconcile with `GET status` / Get* when one is missing.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::endpoints::{
    Assignment, ErrorResponse, EventType, NotificationType, PricingParam, ResponseUser, string_enum,
};

string_enum! {
    NotificationResult { Success => "SUCCESS", Failure => "FAILURE" }
}

/// A notification with its payload decoded by type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RawNotification", into = "RawNotification")]
pub struct Notification {
    pub notification_id: String,
    /// Library id: which location (token) this is about.
    pub u_id: String,
    pub body: NotificationBody,
}

#[derive(Debug, Clone, PartialEq)]
pub enum NotificationBody {
    /// Sent when notifications are configured; `notification` is `{}`.
    Test,
    AssetManagement(AssetManagementNotification),
    AssetCount(AssetCountNotification),
    UserManagement(UserManagementNotification),
    UserAssociated(UserAssociatedNotification),
    /// Subscription types and anything newer, kept verbatim.
    Other {
        notification_type: NotificationType,
        payload: Value,
    },
}

impl NotificationBody {
    pub fn notification_type(&self) -> NotificationType {
        match self {
            Self::Test => NotificationType::TestNotification,
            Self::AssetManagement(_) => NotificationType::AssetManagement,
            Self::AssetCount(_) => NotificationType::AssetCount,
            Self::UserManagement(_) => NotificationType::UserManagement,
            Self::UserAssociated(_) => NotificationType::UserAssociated,
            Self::Other { notification_type, .. } => notification_type.clone(),
        }
    }
}

/// Result of (part of) an associate/disassociate/revoke event; at most 100 assignments
/// per notification, so one event may produce several with the same `eventId`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AssetManagementNotification {
    #[serde(default)]
    pub assignments: Vec<Assignment>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorResponse>,
    pub event_id: String,
    pub result: NotificationResult,
    #[serde(rename = "type")]
    pub event_type: EventType,
}

/// Licences bought, transferred or refunded (also changes not made by the MDM).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AssetCountNotification {
    pub adam_id: String,
    pub pricing_param: PricingParam,
    pub count_delta: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserManagementNotification {
    pub event_id: String,
    pub result: NotificationResult,
    #[serde(rename = "type")]
    pub event_type: EventType,
    #[serde(default)]
    pub users: Vec<ResponseUser>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorResponse>,
}

/// Users accepted their invitation and are now Associated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserAssociatedNotification {
    #[serde(default)]
    pub associated_users: Vec<ResponseUser>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawNotification {
    #[serde(default)]
    notification: Value,
    notification_id: String,
    notification_type: NotificationType,
    #[serde(rename = "uId")]
    u_id: String,
}

impl TryFrom<RawNotification> for Notification {
    type Error = serde_json::Error;

    fn try_from(raw: RawNotification) -> Result<Self, Self::Error> {
        use serde_json::from_value;
        let payload = raw.notification;
        let body = match raw.notification_type {
            NotificationType::TestNotification => NotificationBody::Test,
            NotificationType::AssetManagement => NotificationBody::AssetManagement(from_value(payload)?),
            NotificationType::AssetCount => NotificationBody::AssetCount(from_value(payload)?),
            NotificationType::UserManagement => NotificationBody::UserManagement(from_value(payload)?),
            NotificationType::UserAssociated => NotificationBody::UserAssociated(from_value(payload)?),
            other => NotificationBody::Other {
                notification_type: other,
                payload,
            },
        };
        Ok(Self {
            notification_id: raw.notification_id,
            u_id: raw.u_id,
            body,
        })
    }
}

impl From<Notification> for RawNotification {
    fn from(n: Notification) -> Self {
        let notification_type = n.body.notification_type();
        // Serialising these plain structs to a Value cannot fail.
        let to_value = |v: Result<Value, serde_json::Error>| v.unwrap_or(Value::Null);
        let notification = match n.body {
            NotificationBody::Test => Value::Object(Default::default()),
            NotificationBody::AssetManagement(b) => to_value(serde_json::to_value(b)),
            NotificationBody::AssetCount(b) => to_value(serde_json::to_value(b)),
            NotificationBody::UserManagement(b) => to_value(serde_json::to_value(b)),
            NotificationBody::UserAssociated(b) => to_value(serde_json::to_value(b)),
            NotificationBody::Other { payload, .. } => payload,
        };
        Self {
            notification,
            notification_id: n.notification_id,
            notification_type,
            u_id: n.u_id,
        }
    }
}

/// Parses a notification request body.
pub fn parse_notification(body: &[u8]) -> Result<Notification, serde_json::Error> {
    serde_json::from_slice(body)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NotificationAuthError {
    #[error("no Authorization header")]
    Missing,
    #[error("Authorization header is not a Bearer token")]
    NotBearer,
    #[error("notification auth token does not match")]
    Mismatch,
}

/// Checks the `Authorization` header of an incoming notification against the
/// `notificationAuthToken` this MDM configured. The comparison does not stop at the
/// first differing byte, so response timing does not reveal how much of a guess matched.
pub fn verify_notification_auth(
    authorization: Option<&str>,
    expected_token: &str,
) -> Result<(), NotificationAuthError> {
    let header = authorization.ok_or(NotificationAuthError::Missing)?.trim();
    let (scheme, token) = header.split_once(' ').ok_or(NotificationAuthError::NotBearer)?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(NotificationAuthError::NotBearer);
    }
    if !expected_token.is_empty() && constant_time_eq(token.trim().as_bytes(), expected_token.as_bytes()) {
        Ok(())
    } else {
        Err(NotificationAuthError::Mismatch)
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    // Lengths leak; the token's length is not the secret.
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::errors::ErrorCode;

    fn parse(s: &str) -> Notification {
        parse_notification(s.as_bytes()).unwrap()
    }

    fn round_trips(s: &str) {
        let n = parse(s);
        let back = serde_json::to_value(&n).unwrap();
        assert_eq!(back, serde_json::from_str::<Value>(s).unwrap());
    }

    #[test]
    fn test_notification() {
        let s = r#"{"notification":{},"notificationId":"792e","notificationType":"TEST_NOTIFICATION","uId":"2049"}"#;
        assert_eq!(parse(s).body, NotificationBody::Test);
        round_trips(s);
    }

    #[test]
    fn asset_management_success_and_failure() {
        let ok = r#"{"notification":{"assignments":[{"adamId":"408709785","pricingParam":"STDQ","serialNumber":"C02Y"},
            {"adamId":"408709785","pricingParam":"STDQ","clientUserId":"client-100"}],
            "eventId":"87cb","result":"SUCCESS","type":"ASSOCIATE"},
            "notificationId":"n1","notificationType":"ASSET_MANAGEMENT","uId":"u"}"#;
        let NotificationBody::AssetManagement(b) = parse(ok).body else {
            panic!()
        };
        assert_eq!(b.result, NotificationResult::Success);
        assert_eq!(b.assignments[1].client_user_id.as_deref(), Some("client-100"));
        round_trips(ok);
        let failed = r#"{"notification":{"assignments":[{"adamId":"1234","pricingParam":"STDQ","serialNumber":"device1"}],
            "error":{"errorNumber":9709,"errorMessage":"There aren't enough assets available to complete this association."},
            "eventId":"f743","result":"FAILURE","type":"ASSOCIATE"},
            "notificationId":"n2","notificationType":"ASSET_MANAGEMENT","uId":"u"}"#;
        let NotificationBody::AssetManagement(b) = parse(failed).body else {
            panic!()
        };
        assert_eq!(b.error.unwrap().code(), ErrorCode::NotEnoughLicenses);
        round_trips(failed);
    }

    #[test]
    fn count_users_and_associated() {
        let count = r#"{"notification":{"adamId":"408709785","pricingParam":"STDQ","countDelta":-12},
            "notificationId":"n","notificationType":"ASSET_COUNT","uId":"u"}"#;
        let NotificationBody::AssetCount(c) = parse(count).body else {
            panic!()
        };
        assert_eq!(c.count_delta, -12);
        round_trips(count);
        let users = r#"{"notification":{"eventId":"e0de","result":"SUCCESS","type":"CREATE",
            "users":[{"clientUserId":"client-100","email":"client-100@apple.com","inviteCode":"f551","status":"Registered"}]},
            "notificationId":"n","notificationType":"USER_MANAGEMENT","uId":"u"}"#;
        let NotificationBody::UserManagement(u) = parse(users).body else {
            panic!()
        };
        assert_eq!(u.event_type, EventType::Create);
        round_trips(users);
        let assoc = r#"{"notification":{"associatedUsers":[{"clientUserId":"client-100","idHash":"leSK=","status":"Associated"}]},
            "notificationId":"n","notificationType":"USER_ASSOCIATED","uId":"u"}"#;
        assert!(matches!(parse(assoc).body, NotificationBody::UserAssociated(_)));
        round_trips(assoc);
    }

    #[test]
    fn unknown_types_are_kept() {
        let s = r#"{"notification":{"parentAdamId":54321,"adamId":12345},"notificationId":"n","notificationType":"SUBSCRIPTION_COUNT","uId":"u"}"#;
        assert!(matches!(parse(s).body, NotificationBody::Other { .. }));
        round_trips(s);
        let s = r#"{"notification":{"x":1},"notificationId":"n","notificationType":"BRAND_NEW","uId":"u"}"#;
        round_trips(s);
        assert!(
            parse_notification(
                br#"{"notification":{"adamId":1},"notificationId":"n","notificationType":"ASSET_COUNT","uId":"u"}"#
            )
            .is_err()
        );
    }

    #[test]
    fn auth_token_check() {
        assert_eq!(verify_notification_auth(Some("Bearer s3cr3t"), "s3cr3t"), Ok(()));
        assert_eq!(verify_notification_auth(Some("bearer  s3cr3t "), "s3cr3t"), Ok(()));
        assert_eq!(
            verify_notification_auth(None, "s3cr3t"),
            Err(NotificationAuthError::Missing)
        );
        assert_eq!(
            verify_notification_auth(Some("Basic s3cr3t"), "s3cr3t"),
            Err(NotificationAuthError::NotBearer)
        );
        assert_eq!(
            verify_notification_auth(Some("s3cr3t"), "s3cr3t"),
            Err(NotificationAuthError::NotBearer)
        );
        assert_eq!(
            verify_notification_auth(Some("Bearer s3cr3x"), "s3cr3t"),
            Err(NotificationAuthError::Mismatch)
        );
        assert_eq!(
            verify_notification_auth(Some("Bearer x"), ""),
            Err(NotificationAuthError::Mismatch)
        );
    }
}
