//! Admins of the caller's account, and API tokens.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use haishin_domain::auth::{Admin, ApiToken, Role};
use haishin_domain::ids::{AdminId, ApiTokenId};
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};
use crate::extract::ApiJson;

#[derive(Deserialize, utoipa::ToSchema)]
pub struct NewAdminRequest {
    pub login: String,
    pub display_name: String,
    pub role: Role,
    pub password: String,
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct AdminPatch {
    pub display_name: Option<String>,
    pub role: Option<Role>,
    pub password: Option<String>,
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct NewTokenRequest {
    pub name: String,
    /// Another admin of the account (account admins only); yourself by default.
    pub admin_id: Option<AdminId>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct CreatedTokenResponse {
    #[serde(flatten)]
    pub token: ApiToken,
    /// The bearer secret. Shown this once; haishin keeps only its digest.
    pub secret: String,
}

#[utoipa::path(get, path = "/admins", tag = "admins", responses((status = 200, body = Vec<Admin>)))]
pub async fn list(State(state): State<AppState>, caller: Caller) -> Result<Json<Vec<Admin>>, ApiError> {
    Ok(Json(state.services.list_admins(&caller.actor).await?))
}

#[utoipa::path(post, path = "/admins", tag = "admins", request_body = NewAdminRequest,
    responses((status = 201, body = Admin), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<NewAdminRequest>,
) -> Result<(StatusCode, Json<Admin>), ApiError> {
    let admin = state
        .services
        .create_admin(
            &caller.actor,
            &body.login,
            &body.display_name,
            body.role,
            &body.password,
        )
        .await?;
    Ok((StatusCode::CREATED, Json(admin)))
}

#[utoipa::path(get, path = "/admins/{id}", tag = "admins", params(("id" = i64, Path)),
    responses((status = 200, body = Admin), (status = 404, body = ErrorBody)))]
pub async fn get(State(state): State<AppState>, caller: Caller, Path(id): Path<i64>) -> Result<Json<Admin>, ApiError> {
    Ok(Json(state.services.get_admin(&caller.actor, AdminId(id)).await?))
}

#[utoipa::path(patch, path = "/admins/{id}", tag = "admins", params(("id" = i64, Path)), request_body = AdminPatch,
    responses((status = 200, body = Admin), (status = 404, body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<AdminPatch>,
) -> Result<Json<Admin>, ApiError> {
    let admin = state
        .services
        .update_admin(
            &caller.actor,
            AdminId(id),
            body.display_name.as_deref(),
            body.role,
            body.password.as_deref(),
        )
        .await?;
    Ok(Json(admin))
}

#[utoipa::path(delete, path = "/admins/{id}", tag = "admins", params(("id" = i64, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    state.services.delete_admin(&caller.actor, AdminId(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Your tokens; account admins see every token of the account.
#[utoipa::path(get, path = "/api-tokens", tag = "admins", responses((status = 200, body = Vec<ApiToken>)))]
pub async fn list_tokens(State(state): State<AppState>, caller: Caller) -> Result<Json<Vec<ApiToken>>, ApiError> {
    Ok(Json(state.services.list_api_tokens(&caller.actor).await?))
}

#[utoipa::path(post, path = "/api-tokens", tag = "admins", request_body = NewTokenRequest,
    responses((status = 201, body = CreatedTokenResponse)))]
pub async fn create_token(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<NewTokenRequest>,
) -> Result<(StatusCode, Json<CreatedTokenResponse>), ApiError> {
    let created = state
        .services
        .create_api_token(&caller.actor, &body.name, body.admin_id)
        .await?;
    let response = CreatedTokenResponse {
        token: created.token,
        secret: created.secret.expose().to_owned(),
    };
    Ok((StatusCode::CREATED, Json(response)))
}

#[utoipa::path(delete, path = "/api-tokens/{id}", tag = "admins", params(("id" = i64, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn delete_token(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    state.services.delete_api_token(&caller.actor, ApiTokenId(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}
