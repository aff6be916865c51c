//! Assets (`GET assets`), assignments (`GET assignments`) and their management
//! (`POST assets/associate|disassociate|revoke`).

use serde::{Deserialize, Serialize};

use super::{AssetRef, Envelope, PageInfo, Platform, PricingParam, ProductType, UserStatus};

/// Filters of `GET assets` (all optional). Get Assets has no `sinceVersionId`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AssetsQuery {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_index: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_type: Option<ProductType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pricing_param: Option<PricingParam>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revocable: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_assignable: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_available_count: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_available_count: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_assigned_count: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_assigned_count: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adam_id: Option<String>,
    /// `true` moves free (unlimited) assets to `unlimitedAssets`; `false` drops them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unlimited: Option<bool>,
}

/// One licensed asset with its counts. Unlimited assets report `totalCount` = i32::MAX.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResponseAsset {
    pub adam_id: String,
    pub pricing_param: PricingParam,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_type: Option<ProductType>,
    #[serde(default)]
    pub assigned_count: i64,
    #[serde(default)]
    pub available_count: i64,
    #[serde(default)]
    pub retired_count: i64,
    #[serde(default)]
    pub total_count: i64,
    #[serde(default)]
    pub device_assignable: bool,
    #[serde(default)]
    pub revocable: bool,
    #[serde(default)]
    pub supported_platforms: Vec<Platform>,
}

impl ResponseAsset {
    pub fn asset_ref(&self) -> AssetRef {
        AssetRef::new(self.adam_id.clone(), self.pricing_param.clone())
    }
}

/// A free asset listed under `unlimitedAssets` (no available/total/retired counts).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UnlimitedResponseAsset {
    pub adam_id: String,
    pub pricing_param: PricingParam,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_type: Option<ProductType>,
    #[serde(default)]
    pub assigned_count: i64,
    #[serde(default)]
    pub device_assignable: bool,
    #[serde(default)]
    pub revocable: bool,
    #[serde(default)]
    pub supported_platforms: Vec<Platform>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetAssetsResponse {
    #[serde(default)]
    pub assets: Vec<ResponseAsset>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unlimited_assets: Vec<UnlimitedResponseAsset>,
    #[serde(flatten)]
    pub page: PageInfo,
    #[serde(flatten)]
    pub envelope: Envelope,
}

/// Filters of `GET assignments`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AssignmentsQuery {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_index: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adam_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pricing_param: Option<PricingParam>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_user_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serial_number: Option<String>,
    /// Only changes after this version (take it from page 0 of the previous full walk).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since_version_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_user_state: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exclude_inactive_users: Option<bool>,
}

/// An assignment of an asset to exactly one user (`clientUserId`) or device (`serialNumber`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Assignment {
    pub adam_id: String,
    pub pricing_param: PricingParam,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_user_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serial_number: Option<String>,
    /// Only with `includeUserState=true`; values undocumented beyond user statuses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_status: Option<UserStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_hash: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetAssignmentsResponse {
    #[serde(default)]
    pub assignments: Vec<Assignment>,
    #[serde(flatten)]
    pub page: PageInfo,
    #[serde(flatten)]
    pub envelope: Envelope,
}

/// `POST assets/associate` and `assets/disassociate` body. Users and devices may be
/// combined in one request; limits apply to unique entries of each list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ManageAssetsRequest {
    #[serde(default)]
    pub assets: Vec<AssetRef>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub client_user_ids: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub serial_numbers: Vec<String>,
}

impl ManageAssetsRequest {
    pub fn for_serials(assets: Vec<AssetRef>, serial_numbers: Vec<String>) -> Self {
        Self {
            assets,
            serial_numbers,
            ..Self::default()
        }
    }

    pub fn for_users(assets: Vec<AssetRef>, client_user_ids: Vec<String>) -> Self {
        Self {
            assets,
            client_user_ids,
            ..Self::default()
        }
    }
}

/// `POST assets/revoke` body: removes every revocable assignment of these users/devices.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RevokeAssetsRequest {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub client_user_ids: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub serial_numbers: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::endpoints::query_pairs;

    #[test]
    fn assets_example_parses() {
        let json = r#"{"assets":[{"adamId":"408709785","pricingParam":"STDQ","productType":"App",
            "assignedCount":5000,"availableCount":10000,"retiredCount":0,"totalCount":15000,
            "deviceAssignable":true,"revocable":true,"supportedPlatforms":["iOS"]}],
            "currentPageIndex":0,"size":1,"totalPages":1,"tokenExpirationDate":"2030-11-08T22:33:22+0000",
            "uId":"2049025000431439","versionId":"70e8c740-514c-11eb-bb63-a90b882fcd52"}"#;
        let r: GetAssetsResponse = serde_json::from_str(json).unwrap();
        assert_eq!(r.assets[0].total_count, 15000);
        assert_eq!(r.assets[0].supported_platforms, vec![Platform::Ios]);
        assert_eq!(r.page.next_page_index, None);
        assert_eq!(r.envelope.u_id.as_deref(), Some("2049025000431439"));
        let v = serde_json::to_value(&r).unwrap();
        assert_eq!(v, serde_json::from_str::<serde_json::Value>(json).unwrap());
    }

    #[test]
    fn query_uses_wire_names_and_bool_text() {
        let q = AssetsQuery {
            product_type: Some(ProductType::Book),
            device_assignable: Some(false),
            min_available_count: Some(3),
            ..Default::default()
        };
        let mut pairs = query_pairs(&q);
        pairs.sort();
        assert_eq!(
            pairs,
            vec![
                ("deviceAssignable".into(), "false".into()),
                ("minAvailableCount".into(), "3".into()),
                ("productType".into(), "Book".into()),
            ]
        );
    }

    #[test]
    fn manage_request_skips_empty_lists() {
        let r = ManageAssetsRequest::for_serials(vec![AssetRef::new("1", PricingParam::Stdq)], vec!["S1".into()]);
        assert_eq!(
            serde_json::to_string(&r).unwrap(),
            r#"{"assets":[{"adamId":"1","pricingParam":"STDQ"}],"serialNumbers":["S1"]}"#
        );
    }
}
