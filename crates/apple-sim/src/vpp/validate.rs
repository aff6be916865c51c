//! Synchronous checks of write requests, in the order of reference §8 item 8: shape,
//! required fields, limits, duplicates, asset flags, emails, mdmInfo, notifications.
//! A failed check rejects the whole request and creates no event.

use std::collections::HashSet;
use std::hash::Hash;

use apple_vpp::{
    AssetRef, ClientConfigRequest, ManageAssetsRequest, ManageUsersRequest, ResponseErrorInfo, RevokeAssetsRequest,
};
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::errors::{Rejection, reject};
use super::model::{AssetKey, Location};

/// Per-request limits, advertised by service/config and enforced (9700–9702, 9714).
/// Defaults are Apple's; tests lower them to exercise batching with few records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VppLimits {
    /// Unique assets per associate/disassociate (`maxAssets`).
    pub max_assets: usize,
    /// Unique clientUserIds per associate/disassociate (`maxClientUserIds`).
    pub max_client_user_ids: usize,
    /// Unique serial numbers per associate/disassociate (`maxSerialNumbers`).
    pub max_serial_numbers: usize,
    /// clientUserIds per revoke (`maxRevokeClientUserIds`).
    pub max_revoke_client_user_ids: usize,
    /// Serial numbers per revoke (`maxRevokeSerialNumbers`).
    pub max_revoke_serial_numbers: usize,
    /// Users per create/update/retire (`maxUsers`).
    pub max_users: usize,
}

impl Default for VppLimits {
    fn default() -> Self {
        Self {
            max_assets: 25,
            max_client_user_ids: 1000,
            max_serial_numbers: 1000,
            max_revoke_client_user_ids: 100,
            max_revoke_serial_numbers: 100,
            max_users: 100,
        }
    }
}

/// Apple's fixed length limits.
pub(crate) mod limits {
    pub const MAX_NOTIFICATION_LENGTH: usize = 512;
    pub const MAX_MDM_ID_LENGTH: usize = 100;
    pub const MAX_MDM_NAME_LENGTH: usize = 100;
    pub const MAX_MDM_METADATA_LENGTH: usize = 255;
}

use limits::*;

/// A JSON object body decoded into `T`; anything else is 9602.
pub(crate) fn json_body<T: DeserializeOwned>(body: &[u8]) -> Result<T, Rejection> {
    let value: Value = serde_json::from_slice(body).map_err(|_| Rejection::new(9602))?;
    if !value.is_object() {
        return reject(9602);
    }
    serde_json::from_value(value).map_err(|_| Rejection::new(9602))
}

fn unique_count<T: Eq + Hash>(items: &[T]) -> usize {
    items.iter().collect::<HashSet<_>>().len()
}

fn has_duplicates<T: Eq + Hash>(items: &[T]) -> bool {
    unique_count(items) != items.len()
}

fn blank(items: &[String]) -> bool {
    items.iter().any(|s| s.trim().is_empty())
}

/// associate (`disassociate == false`) and disassociate.
pub(crate) fn manage_assets(
    req: &ManageAssetsRequest,
    loc: &Location,
    disassociate: bool,
    limits: &VppLimits,
) -> Result<(), Rejection> {
    if req.assets.iter().any(|a| a.adam_id.trim().is_empty())
        || blank(&req.client_user_ids)
        || blank(&req.serial_numbers)
    {
        return reject(9602);
    }
    if req.assets.is_empty() {
        return reject(9718);
    }
    if req.client_user_ids.is_empty() && req.serial_numbers.is_empty() {
        return reject(9719);
    }
    if unique_count(&req.assets) > limits.max_assets {
        return reject(9700);
    }
    if unique_count(&req.client_user_ids) > limits.max_client_user_ids {
        return reject(9701);
    }
    if unique_count(&req.serial_numbers) > limits.max_serial_numbers {
        return reject(9702);
    }
    if has_duplicates(&req.assets) {
        return reject(9703);
    }
    if has_duplicates(&req.client_user_ids) {
        return reject(9704);
    }
    if has_duplicates(&req.serial_numbers) {
        return reject(9705);
    }
    let known = |a: &AssetRef| loc.asset(&AssetKey::new(&a.adam_id, &a.pricing_param));
    if disassociate {
        let offending = offending(&req.assets, |a| known(a).is_some_and(|s| !s.spec.revocable));
        if !offending.is_empty() {
            return Err(Rejection::new(9706).with_info(assets_info(offending)));
        }
    }
    if !req.serial_numbers.is_empty() {
        let offending = offending(&req.assets, |a| known(a).is_some_and(|s| !s.spec.device_assignable));
        if !offending.is_empty() {
            return Err(Rejection::new(9707).with_info(assets_info(offending)));
        }
    }
    Ok(())
}

fn offending(assets: &[AssetRef], bad: impl Fn(&AssetRef) -> bool) -> Vec<AssetRef> {
    assets.iter().filter(|a| bad(a)).cloned().collect()
}

fn assets_info(assets: Vec<AssetRef>) -> ResponseErrorInfo {
    ResponseErrorInfo {
        assets,
        ..ResponseErrorInfo::default()
    }
}

pub(crate) fn revoke(req: &RevokeAssetsRequest, limits: &VppLimits) -> Result<(), Rejection> {
    if blank(&req.client_user_ids) || blank(&req.serial_numbers) {
        return reject(9602);
    }
    if req.client_user_ids.is_empty() && req.serial_numbers.is_empty() {
        return reject(9719);
    }
    if unique_count(&req.client_user_ids) > limits.max_revoke_client_user_ids {
        return reject(9701);
    }
    if unique_count(&req.serial_numbers) > limits.max_revoke_serial_numbers {
        return reject(9702);
    }
    if has_duplicates(&req.client_user_ids) {
        return reject(9704);
    }
    if has_duplicates(&req.serial_numbers) {
        return reject(9705);
    }
    Ok(())
}

/// users/create, users/update and users/retire.
pub(crate) fn users(req: &ManageUsersRequest, limits: &VppLimits) -> Result<(), Rejection> {
    if req.users.iter().any(|u| u.client_user_id.trim().is_empty()) {
        return reject(9602);
    }
    if req.users.is_empty() {
        return reject(9720);
    }
    let ids: Vec<&str> = req.users.iter().map(|u| u.client_user_id.as_str()).collect();
    if unique_count(&ids) > limits.max_users {
        return reject(9714);
    }
    if has_duplicates(&ids) {
        return reject(9715);
    }
    if req
        .users
        .iter()
        .filter_map(|u| u.email.as_deref())
        .any(|e| !valid_email(e))
    {
        return reject(9717);
    }
    Ok(())
}

/// Deliberately simple: one `@`, a non-empty local part, a dotted domain, no spaces.
pub(crate) fn valid_email(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !email.chars().any(char::is_whitespace)
}

/// POST client/config up to, not including, the test notification (9728).
pub(crate) fn client_config(body: &[u8], allow_http: bool) -> Result<ClientConfigRequest, Rejection> {
    let value: Value = serde_json::from_slice(body).map_err(|_| Rejection::new(9602))?;
    let Some(object) = value.as_object() else {
        return reject(9602);
    };
    // Checked on the raw JSON: a typed decode would turn an incomplete mdmInfo into 9602.
    if let Some(info) = object.get("mdmInfo") {
        let Some(info) = info.as_object() else {
            return reject(9602);
        };
        let field = |name: &str| info.get(name).and_then(Value::as_str);
        let (Some(id), Some(name), Some(metadata)) = (field("id"), field("name"), field("metadata")) else {
            return reject(9723);
        };
        if id.is_empty() || name.is_empty() {
            return reject(9723);
        }
        if id.chars().count() > MAX_MDM_ID_LENGTH {
            return reject(9724);
        }
        if name.chars().count() > MAX_MDM_NAME_LENGTH {
            return reject(9725);
        }
        if metadata.chars().count() > MAX_MDM_METADATA_LENGTH {
            return reject(9713);
        }
    }
    let req: ClientConfigRequest = serde_json::from_value(value).map_err(|_| Rejection::new(9602))?;
    if let Some(types) = &req.notification_types
        && types.iter().any(|t| matches!(t, apple_vpp::NotificationType::Other(_)))
    {
        return reject(9602);
    }
    match (&req.notification_url, &req.notification_auth_token) {
        (None, None) => {}
        (Some(url), Some(token)) => {
            if url.chars().count() > MAX_NOTIFICATION_LENGTH || token.chars().count() > MAX_NOTIFICATION_LENGTH {
                return reject(9711);
            }
            if token.is_empty() || !valid_notification_url(url, allow_http) {
                return reject(if token.is_empty() { 9710 } else { 9712 });
            }
        }
        _ => return reject(9710),
    }
    Ok(req)
}

fn valid_notification_url(url: &str, allow_http: bool) -> bool {
    let Ok(parsed) = reqwest::Url::parse(url) else {
        return false;
    };
    let scheme_ok = parsed.scheme() == "https" || (allow_http && parsed.scheme() == "http");
    // Apple wants host and path only.
    scheme_ok && parsed.host_str().is_some() && parsed.query().is_none() && parsed.fragment().is_none()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        assert!(valid_email("a@example.com"));
        assert!(!valid_email("a@b"));
        assert!(!valid_email("@example.com"));
        assert!(!valid_email("a b@example.com"));
        assert!(!valid_email("a@@example.com"));
    }

    #[test]
    fn client_config_order() {
        let n = |body: &str, http: bool| client_config(body.as_bytes(), http).unwrap_err().body.error_number;
        assert_eq!(n("[]", false), 9602);
        assert_eq!(n(r#"{"mdmInfo":{"id":"a","name":"b"}}"#, false), 9723);
        let long = "x".repeat(101);
        assert_eq!(
            n(
                format!(r#"{{"mdmInfo":{{"id":"{long}","name":"b","metadata":""}}}}"#).as_str(),
                false
            ),
            9724
        );
        assert_eq!(n(r#"{"notificationUrl":"https://a.example/n"}"#, false), 9710);
        assert_eq!(
            n(
                r#"{"notificationUrl":"http://a.example/n","notificationAuthToken":"t"}"#,
                false
            ),
            9712
        );
        assert!(
            client_config(
                br#"{"notificationUrl":"http://a.example/n","notificationAuthToken":"t"}"#,
                true
            )
            .is_ok()
        );
        assert_eq!(n(r#"{"notificationTypes":["NOPE"]}"#, false), 9602);
    }
}
