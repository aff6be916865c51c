//! Users (`GET users`, `POST users/create|update|retire`).

use serde::{Deserialize, Serialize};

use super::{Envelope, PageInfo, string_enum};

string_enum! {
    /// `Registered` (invited, has `inviteCode`), `Associated` (Apple Account linked, has
    /// `idHash`), `Retired`, or legacy `Deleted`.
    UserStatus {
        Registered => "Registered",
        Associated => "Associated",
        Retired => "Retired",
        Deleted => "Deleted",
    }
}

/// Filters of `GET users`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UsersQuery {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_index: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active_only: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retired_only: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_user_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since_version_id: Option<String>,
}

/// A user record. A clientUserId can have several Retired rows but at most one active one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResponseUser {
    pub client_user_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_hash: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invite_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<UserStatus>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetUsersResponse {
    #[serde(default)]
    pub users: Vec<ResponseUser>,
    #[serde(flatten)]
    pub page: PageInfo,
    #[serde(flatten)]
    pub envelope: Envelope,
}

/// A user in a create/update/retire request (retire uses only `clientUserId`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestUser {
    pub client_user_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// With a Managed Apple Account the user is Associated at once, without an invitation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub managed_apple_id: Option<String>,
}

impl RequestUser {
    pub fn new(client_user_id: impl Into<String>) -> Self {
        Self {
            client_user_id: client_user_id.into(),
            ..Self::default()
        }
    }
}

/// `POST users/create|update|retire` body.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ManageUsersRequest {
    #[serde(default)]
    pub users: Vec<RequestUser>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users_example_parses() {
        let json = r#"{"currentPageIndex":0,"size":3,"totalPages":1,"tokenExpirationDate":"2030-11-08T22:33:22+0000",
          "uId":"1","versionId":"021f10a0",
          "users":[{"clientUserId":"client-101","email":"client-101@apple.com","inviteCode":"46bc","status":"Registered"},
                   {"clientUserId":"user-1","idHash":"rRVS8=","status":"Associated"},
                   {"clientUserId":"client-103","email":"c@apple.com","status":"Retired"}]}"#;
        let r: GetUsersResponse = serde_json::from_str(json).unwrap();
        assert_eq!(r.users[1].status, Some(UserStatus::Associated));
        assert_eq!(r.page.version_id.as_deref(), Some("021f10a0"));
        let v = serde_json::to_value(&r).unwrap();
        assert_eq!(v, serde_json::from_str::<serde_json::Value>(json).unwrap());
    }
}
