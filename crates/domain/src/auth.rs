//! Administrators, their roles, and what each role may do.

use serde::{Deserialize, Serialize};

use crate::DomainError;
use crate::ids::{AccountId, AdminId, ApiTokenId};
use crate::time_util::Timestamp;

/// An administrator's role within their account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Everything, including admins and every admin's API tokens.
    AccountAdmin,
    /// Day-to-day changes: groups, users, devices, imports.
    Operator,
    /// Sees everything, changes nothing.
    ReadOnly,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::AccountAdmin => "account_admin",
            Role::Operator => "operator",
            Role::ReadOnly => "read_only",
        }
    }

    pub fn parse(text: &str) -> Result<Self, DomainError> {
        match text {
            "account_admin" => Ok(Role::AccountAdmin),
            "operator" => Ok(Role::Operator),
            "read_only" => Ok(Role::ReadOnly),
            other => Err(DomainError::invalid(
                "role",
                format!("「{other}」は権限として不正です(account_admin / operator / read_only)。"),
                format!("'{other}' is not a role (account_admin, operator or read_only)."),
            )),
        }
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Admin {
    pub id: AdminId,
    pub account_id: AccountId,
    pub login: String,
    pub display_name: String,
    pub role: Role,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Account {
    pub id: AccountId,
    pub name: String,
    pub created_at: Timestamp,
}

/// An API token as listed: the secret itself is shown once, at creation.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ApiToken {
    pub id: ApiTokenId,
    pub admin_id: AdminId,
    pub name: String,
    /// The first characters of the secret, so an admin can tell tokens apart.
    pub prefix: String,
    pub created_at: Timestamp,
    pub last_used_at: Option<Timestamp>,
}

/// Who is acting: every service call carries one, and every store query is
/// scoped by its account. There is no way to reach another account's rows
/// without an actor of that account.
#[derive(Debug, Clone)]
pub struct Actor {
    pub account_id: AccountId,
    pub admin_id: Option<AdminId>,
    /// What the audit log shows: the admin's login, or `SYSTEM`.
    pub name: String,
    pub role: Role,
}

impl Actor {
    pub fn admin(admin: &Admin) -> Self {
        Self {
            account_id: admin.account_id,
            admin_id: Some(admin.id),
            name: admin.login.clone(),
            role: admin.role,
        }
    }

    /// The server acting on its own (seeding, periodic tasks): audited as SYSTEM.
    pub fn system(account_id: AccountId) -> Self {
        Self {
            account_id,
            admin_id: None,
            name: "SYSTEM".into(),
            role: Role::AccountAdmin,
        }
    }

    pub fn require_write(&self) -> Result<(), DomainError> {
        match self.role {
            Role::AccountAdmin | Role::Operator => Ok(()),
            Role::ReadOnly => Err(DomainError::Forbidden {
                role: self.role.as_str(),
                action: "change data",
            }),
        }
    }

    pub fn require_account_admin(&self) -> Result<(), DomainError> {
        match self.role {
            Role::AccountAdmin => Ok(()),
            _ => Err(DomainError::Forbidden {
                role: self.role.as_str(),
                action: "manage admins",
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permission_matrix() {
        let actor = |role| Actor {
            account_id: AccountId(1),
            admin_id: Some(AdminId(1)),
            name: "a".into(),
            role,
        };
        assert!(actor(Role::AccountAdmin).require_write().is_ok());
        assert!(actor(Role::Operator).require_write().is_ok());
        assert!(actor(Role::ReadOnly).require_write().is_err());
        assert!(actor(Role::AccountAdmin).require_account_admin().is_ok());
        assert!(actor(Role::Operator).require_account_admin().is_err());
        assert!(actor(Role::ReadOnly).require_account_admin().is_err());
        for role in [Role::AccountAdmin, Role::Operator, Role::ReadOnly] {
            assert_eq!(Role::parse(role.as_str()).unwrap(), role);
        }
        assert!(Role::parse("root").is_err());
    }
}
