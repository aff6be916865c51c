use serde::{Deserialize, Serialize};

use super::validate::{self, Refusal};
use crate::ids::{AccountId, GroupId, UserId};
use crate::time_util::Timestamp;

/// A person who owns devices (利用者). Not an administrator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct User {
    pub id: UserId,
    pub account_id: AccountId,
    pub group_id: GroupId,
    /// 社員番号: the account-unique key people and CSV files use.
    pub employee_number: String,
    pub name: String,
    pub email: Option<String>,
    pub phone1: Option<String>,
    pub phone2: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A user as given by an admin, before validation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
pub struct UserInput {
    pub group_id: GroupId,
    pub employee_number: String,
    pub name: String,
    pub email: Option<String>,
    pub phone1: Option<String>,
    pub phone2: Option<String>,
}

/// Fields of a user that change; `None` keeps the current value, an empty
/// string clears an optional one.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct UserPatch {
    pub group_id: Option<GroupId>,
    pub employee_number: Option<String>,
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone1: Option<String>,
    pub phone2: Option<String>,
}

impl UserInput {
    /// Checks and normalises every field, reporting the first refusal.
    pub fn validated(&self) -> Result<UserInput, Refusal> {
        Ok(UserInput {
            group_id: self.group_id,
            employee_number: validate::identifier(
                "employee_number",
                "社員番号",
                "An employee number",
                &self.employee_number,
            )?,
            name: validate::required("name", &self.name, 100)?,
            email: validate::email(self.email.as_deref())?,
            phone1: validate::phone("phone1", self.phone1.as_deref())?,
            phone2: validate::phone("phone2", self.phone2.as_deref())?,
        })
    }
}

impl UserPatch {
    pub fn apply_to(&self, user: &User) -> UserInput {
        UserInput {
            group_id: self.group_id.unwrap_or(user.group_id),
            employee_number: self
                .employee_number
                .clone()
                .unwrap_or_else(|| user.employee_number.clone()),
            name: self.name.clone().unwrap_or_else(|| user.name.clone()),
            email: self.email.clone().or_else(|| user.email.clone()),
            phone1: self.phone1.clone().or_else(|| user.phone1.clone()),
            phone2: self.phone2.clone().or_else(|| user.phone2.clone()),
        }
    }
}
