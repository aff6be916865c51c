//! The audit log of the caller's account.

use axum::Json;
use axum::extract::State;
use haishin_domain::audit::{AuditEntry, AuditQuery};

use crate::AppState;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::ApiQuery;

/// Changes, newest first: who, when, what, before and after.
#[utoipa::path(get, path = "/audit", tag = "audit", params(AuditQuery), responses((status = 200, body = Vec<AuditEntry>)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(query): ApiQuery<AuditQuery>,
) -> Result<Json<Vec<AuditEntry>>, ApiError> {
    Ok(Json(
        state.services.store.list_audit(caller.actor.account_id, &query).await?,
    ))
}
