//! `GET service/config`, `GET/POST client/config`.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{Envelope, ErrorResponse, HasEnvelope, MdmInfo, NotificationType};

/// `GET service/config`: URLs, limits, error list. Apple says to re-read it every 5 minutes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceConfigResponse {
    #[serde(default)]
    pub error_codes: Vec<ErrorResponse>,
    #[serde(default)]
    pub limits: Limits,
    #[serde(default)]
    pub notification_types: Vec<NotificationType>,
    #[serde(default)]
    pub urls: ServiceUrls,
}

/// Per-request and per-second limits. All optional: a missing one falls back to the
/// documented default in [`crate::limits::BatchLimits`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Limits {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_assets: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_client_user_ids: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_serial_numbers: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_revoke_client_user_ids: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_revoke_serial_numbers: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_users: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_notification_length: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_mdm_id_length: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_mdm_name_length: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_mdm_metadata_length: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_request_per_second: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_subscriptions: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_subscription_client_user_ids: Option<u32>,
}

/// Endpoint URLs. Unknown keys (new endpoints) are kept in `other`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceUrls {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_config: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub get_assets: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub get_assignments: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub associate_assets: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disassociate_assets: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoke_assets: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub get_users: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_users: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update_users: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retire_users: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_metadata_lookup: Option<String>,
    /// Contains the literal `%25inviteCode%25` placeholder; see [`ServiceUrls::invitation_url`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invitation_email: Option<String>,
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

impl ServiceUrls {
    /// The URL to send a Registered user so they can link their Apple Account.
    pub fn invitation_url(&self, invite_code: &str) -> Option<String> {
        self.invitation_email
            .as_deref()
            .map(|u| u.replace("%25inviteCode%25", invite_code))
    }
}

/// `POST client/config` body. `notification_types` is the complete set (it replaces the
/// previous one), hence `Option<Vec>`: absent and empty may mean different things.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClientConfigRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mdm_info: Option<MdmInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notification_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notification_auth_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notification_types: Option<Vec<NotificationType>>,
}

// The notification auth token is a shared secret; keep it out of logs.
impl fmt::Debug for ClientConfigRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientConfigRequest")
            .field("mdm_info", &self.mdm_info)
            .field("notification_url", &self.notification_url)
            .field("notification_auth_token", &redacted(&self.notification_auth_token))
            .field("notification_types", &self.notification_types)
            .finish()
    }
}

/// `GET`/`POST client/config` response.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClientConfigResponse {
    #[serde(flatten)]
    pub envelope: Envelope,
    #[serde(rename = "countryISO2ACode", default, skip_serializing_if = "Option::is_none")]
    pub country_iso2a_code: Option<String>,
    /// `volumestore` (education) or `enterprisestore` (business): the metadata lookup's platform.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_platform: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notification_auth_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notification_url: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subscribed_notification_types: Vec<NotificationType>,
    #[serde(rename = "websiteURL", default, skip_serializing_if = "Option::is_none")]
    pub website_url: Option<String>,
}

impl fmt::Debug for ClientConfigResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientConfigResponse")
            .field("envelope", &self.envelope)
            .field("country_iso2a_code", &self.country_iso2a_code)
            .field("default_platform", &self.default_platform)
            .field("location_name", &self.location_name)
            .field("notification_auth_token", &redacted(&self.notification_auth_token))
            .field("notification_url", &self.notification_url)
            .field("subscribed_notification_types", &self.subscribed_notification_types)
            .field("website_url", &self.website_url)
            .finish()
    }
}

impl HasEnvelope for ClientConfigResponse {
    fn envelope(&self) -> &Envelope {
        &self.envelope
    }
}

fn redacted(secret: &Option<String>) -> Option<&'static str> {
    secret.as_ref().map(|_| "<redacted>")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_config_example_parses() {
        let json = r#"{
          "errorCodes": [{"errorNumber": 9601, "errorMessage": "Login required."}],
          "limits": {"maxAssets": 25, "maxClientUserIds": 1000, "maxSerialNumbers": 1000,
                     "maxRevokeClientUserIds": 100, "maxRevokeSerialNumbers": 100, "maxUsers": 100,
                     "maxNotificationLength": 512, "maxMdmIdLength": 100, "maxMdmNameLength": 100,
                     "maxMdmMetadataLength": 255, "maxRequestPerSecond": 15, "maxSubscriptions": 25,
                     "maxSubscriptionClientUserIds": 1000},
          "notificationTypes": ["ASSET_MANAGEMENT", "USER_MANAGEMENT", "USER_ASSOCIATED", "ASSET_COUNT"],
          "urls": {"getAssets": "https://vpp.itunes.apple.com/mdm/v2/assets",
                   "invitationEmail": "https://buy.itunes.apple.com/WebObjects/MZFinance.woa/wa/associateVPPUserWithITSAccount?inviteCode=%25inviteCode%25&mt=8",
                   "newThing": "https://example.com"}
        }"#;
        let cfg: ServiceConfigResponse = serde_json::from_str(json).unwrap();
        assert_eq!(cfg.limits.max_request_per_second, Some(15));
        assert_eq!(cfg.notification_types[3], NotificationType::AssetCount);
        assert_eq!(
            cfg.urls.invitation_url("abc").unwrap(),
            "https://buy.itunes.apple.com/WebObjects/MZFinance.woa/wa/associateVPPUserWithITSAccount?inviteCode=abc&mt=8"
        );
        assert!(cfg.urls.other.contains_key("newThing"));
        let back: ServiceConfigResponse = serde_json::from_value(serde_json::to_value(&cfg).unwrap()).unwrap();
        assert_eq!(back, cfg);
    }

    #[test]
    fn client_config_round_trip_and_redaction() {
        let json = r#"{"countryISO2ACode":"US","defaultPlatform":"volumestore","locationName":"PS01",
          "mdmInfo":{"id":"522d","name":"Apple Configurator 2","metadata":"2.13.3"},
          "notificationAuthToken":"SUp3rS3Cr3t","notificationUrl":"https://www.next.com/notification",
          "subscribedNotificationTypes":["ASSET_COUNT"],"tokenExpirationDate":"2030-11-08T22:33:22+0000",
          "uId":"2049025000431439","websiteURL":"https://school.apple.com"}"#;
        let resp: ClientConfigResponse = serde_json::from_str(json).unwrap();
        assert_eq!(resp.envelope.u_id.as_deref(), Some("2049025000431439"));
        assert_eq!(resp.country_iso2a_code.as_deref(), Some("US"));
        assert!(!format!("{resp:?}").contains("SUp3rS3Cr3t"));
        let v = serde_json::to_value(&resp).unwrap();
        assert_eq!(v, serde_json::from_str::<Value>(json).unwrap());
    }
}
