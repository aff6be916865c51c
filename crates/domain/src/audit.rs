//! The audit log: who changed what, when, with the state before and after.

use serde::Serialize;

use crate::auth::Actor;
use crate::ids::{AccountId, AdminId};
use crate::time_util::Timestamp;

/// A change about to be recorded. Stores write it in the same transaction as
/// the change itself, so the log can never disagree with the data.
#[derive(Debug, Clone)]
pub struct AuditRecord {
    pub action: &'static str,
    pub target_type: &'static str,
    pub target_id: Option<i64>,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

impl AuditRecord {
    pub fn new(action: &'static str, target_type: &'static str, target_id: Option<i64>) -> Self {
        Self {
            action,
            target_type,
            target_id,
            before: None,
            after: None,
        }
    }

    pub fn before<T: Serialize>(mut self, value: &T) -> Self {
        self.before = serde_json::to_value(value).ok();
        self
    }

    pub fn after<T: Serialize>(mut self, value: &T) -> Self {
        self.after = serde_json::to_value(value).ok();
        self
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AuditEntry {
    pub id: i64,
    pub account_id: AccountId,
    pub at: Timestamp,
    pub actor_admin_id: Option<AdminId>,
    /// The admin's login, or `SYSTEM`.
    pub actor_name: String,
    pub action: String,
    pub target_type: String,
    pub target_id: Option<i64>,
    #[schema(value_type = Object)]
    pub before: Option<serde_json::Value>,
    #[schema(value_type = Object)]
    pub after: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::IntoParams)]
pub struct AuditQuery {
    /// Only entries older than this id (for paging backwards).
    pub before_id: Option<i64>,
    /// Only entries about this kind of object (`group`, `user`, `device`, ...).
    pub target_type: Option<String>,
    pub target_id: Option<i64>,
    /// At most this many entries (default 100, at most 1000).
    pub limit: Option<i64>,
}

/// Everything a store needs to attribute a change.
pub fn actor_fields(actor: &Actor) -> (AccountId, Option<AdminId>, &str) {
    (actor.account_id, actor.admin_id, &actor.name)
}
