//! Request and response bodies of the v2 endpoints, as Apple documents them.
//!
//! Everything serialises both ways (camelCase on the wire) so a simulator can answer with
//! the same types. Optional fields are skipped when absent, because Apple omits them
//! rather than sending `null`. Enumerated strings keep unknown values in `Other` so that
//! a value Apple adds later does not make a whole response unreadable.

mod assets;
mod config;
mod events;
mod metadata;
mod users;

pub use assets::*;
pub use config::*;
pub use events::*;
pub use metadata::*;
pub use users::*;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $wire:literal),* $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub enum $name {
            $($variant,)*
            /// A value this crate does not know (Apple adds values over time).
            Other(String),
        }

        impl $name {
            pub fn as_str(&self) -> &str {
                match self {
                    $(Self::$variant => $wire,)*
                    Self::Other(s) => s,
                }
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                match s {
                    $($wire => Self::$variant,)*
                    other => Self::Other(other.to_owned()),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                Ok(Self::from(s.as_ref()))
            }
        }
    };
}
pub(crate) use string_enum;

string_enum! {
    /// `STDQ` (standard) or `PLUS` (high quality, books).
    PricingParam { Stdq => "STDQ", Plus => "PLUS" }
}

// The enum comes out of `string_enum!`, which has no way to mark a `#[default]` variant.
#[allow(clippy::derivable_impls)]
impl Default for PricingParam {
    fn default() -> Self {
        Self::Stdq
    }
}

string_enum! {
    ProductType { App => "App", Book => "Book" }
}

string_enum! {
    Platform { Ios => "iOS", MacOs => "macOS", TvOs => "tvOS", WatchOs => "watchOS", VisionOs => "visionOS" }
}

string_enum! {
    NotificationType {
        AssetManagement => "ASSET_MANAGEMENT",
        AssetCount => "ASSET_COUNT",
        UserManagement => "USER_MANAGEMENT",
        UserAssociated => "USER_ASSOCIATED",
        SubscriptionManagement => "SUBSCRIPTION_MANAGEMENT",
        SubscriptionCount => "SUBSCRIPTION_COUNT",
        TestNotification => "TEST_NOTIFICATION",
    }
}

/// Identifies the MDM that manages a location. `id` distinguishes installations; compare
/// it after every response to notice another MDM taking the location over.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MdmInfo {
    pub id: String,
    pub name: String,
    pub metadata: String,
}

/// Fields present on almost every v2 response.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Envelope {
    /// Library id; two tokens with the same `uId` manage the same library.
    #[serde(rename = "uId", default, skip_serializing_if = "Option::is_none")]
    pub u_id: Option<String>,
    /// Kept as text: Apple's format is not RFC 3339. See [`Envelope::token_expiration`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_expiration_date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mdm_info: Option<MdmInfo>,
}

impl Envelope {
    pub fn token_expiration(&self) -> Option<OffsetDateTime> {
        self.token_expiration_date
            .as_deref()
            .and_then(|s| crate::datetime::parse(s).ok())
    }

    /// The `mdmInfo` Apple holds when it names a different MDM installation than `my_id`.
    pub fn mdm_conflict(&self, my_id: &str) -> Option<&MdmInfo> {
        self.mdm_info.as_ref().filter(|m| m.id != my_id)
    }
}

/// Responses that carry the common envelope.
pub trait HasEnvelope {
    fn envelope(&self) -> &Envelope;
}

macro_rules! impl_has_envelope {
    ($($t:ty),*) => {
        $(impl HasEnvelope for $t {
            fn envelope(&self) -> &Envelope {
                &self.envelope
            }
        })*
    };
}

impl_has_envelope!(
    GetAssetsResponse,
    GetAssignmentsResponse,
    GetUsersResponse,
    EventResponse,
    StatusResponse
);

/// Paging fields of Get Assets / Get Assignments / Get Users.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PageInfo {
    #[serde(default)]
    pub current_page_index: u32,
    /// Present only when another page exists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_page_index: Option<u32>,
    #[serde(default)]
    pub size: u32,
    #[serde(default)]
    pub total_pages: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_id: Option<String>,
}

/// An asset is identified by the pair (adamId, pricingParam).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AssetRef {
    pub adam_id: String,
    pub pricing_param: PricingParam,
}

impl AssetRef {
    pub fn new(adam_id: impl Into<String>, pricing_param: PricingParam) -> Self {
        Self {
            adam_id: adam_id.into(),
            pricing_param,
        }
    }
}

/// Entities an error applies to (synchronous errors, event failures, notifications).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResponseErrorInfo {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub assets: Vec<AssetRef>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub client_user_ids: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub serial_numbers: Vec<String>,
}

/// Apple's error body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorResponse {
    pub error_number: i32,
    #[serde(default)]
    pub error_message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_info: Option<ResponseErrorInfo>,
}

impl ErrorResponse {
    pub fn code(&self) -> crate::errors::ErrorCode {
        crate::errors::ErrorCode::from_number(self.error_number)
    }
}

/// Query strings are built from the same serde types a simulator deserialises; Apple
/// expects booleans as `true`/`false` and omits absent filters.
pub(crate) fn query_pairs<T: Serialize>(query: &T) -> Vec<(String, String)> {
    let Ok(serde_json::Value::Object(map)) = serde_json::to_value(query) else {
        return Vec::new();
    };
    map.into_iter()
        .filter_map(|(k, v)| match v {
            serde_json::Value::Null => None,
            serde_json::Value::String(s) => Some((k, s)),
            other => Some((k, other.to_string())),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_enum_values_survive() {
        let p: Platform = serde_json::from_str("\"xrOS\"").unwrap();
        assert_eq!(p, Platform::Other("xrOS".into()));
        assert_eq!(serde_json::to_string(&p).unwrap(), "\"xrOS\"");
        assert_eq!(PricingParam::from("STDQ"), PricingParam::Stdq);
    }

    #[test]
    fn envelope_detects_other_mdm() {
        let env: Envelope = serde_json::from_str(
            r#"{"uId":"1","tokenExpirationDate":"2030-11-08T22:33:22+0000","mdmInfo":{"id":"a","name":"Other","metadata":"1"}}"#,
        )
        .unwrap();
        assert!(env.mdm_conflict("a").is_none());
        assert_eq!(env.mdm_conflict("b").unwrap().name, "Other");
        assert!(env.token_expiration().is_some());
    }
}
