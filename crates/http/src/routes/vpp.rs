//! Apps and Books (VPP): content tokens, their assets and licenses, and the
//! license operations sent to Apple.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use haishin_domain::ids::{GroupId, VppOperationId, VppTokenId};
use haishin_domain::vpp::licenses::LicenseRequest;
use haishin_domain::vpp::store::LicenseFilter;
use haishin_domain::vpp::sync::SyncSummary;
use haishin_domain::vpp::tokens::TakeoverRequest;
use haishin_domain::vpp::{ExpiryNoticeSettings, License, LicenseOperation, LicenseTarget, VppAsset, VppToken};
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, ApiQuery};

#[derive(Deserialize, utoipa::ToSchema)]
pub struct TokenUpload {
    /// The group the token is registered to (more can share it later).
    pub group_id: GroupId,
    /// The content of the `.vpptoken` file, as downloaded.
    pub token_file: String,
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct TokenRenewal {
    /// The content of the newer `.vpptoken` file of the same location.
    pub token_file: String,
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct TokenGroups {
    pub group_ids: Vec<GroupId>,
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct TokenListQuery {
    /// Only tokens this group uses.
    pub group_id: Option<i64>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct TokenView {
    #[serde(flatten)]
    pub token: VppToken,
    /// Days until expiry (negative once expired), for the console's banner.
    pub days_left: i64,
    /// Shown as a banner: within 30 days of expiry (SPEC T4).
    pub expiring_soon: bool,
}

fn view(token: VppToken) -> TokenView {
    let days_left = token.expires_at.days_after(haishin_domain::time_util::Timestamp::now());
    TokenView {
        expiring_soon: days_left < 30,
        days_left,
        token,
    }
}

#[utoipa::path(get, path = "/vpp/tokens", tag = "vpp", params(TokenListQuery),
    responses((status = 200, body = Vec<TokenView>)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(query): ApiQuery<TokenListQuery>,
) -> Result<Json<Vec<TokenView>>, ApiError> {
    let tokens = state
        .services
        .list_vpp_tokens(&caller.actor, query.group_id.map(GroupId))
        .await?;
    Ok(Json(tokens.into_iter().map(view).collect()))
}

/// Register a content token (T1) and claim its location (T2).
#[utoipa::path(post, path = "/vpp/tokens", tag = "vpp", request_body = TokenUpload,
    responses((status = 201, body = TokenView), (status = 400, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn register(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<TokenUpload>,
) -> Result<(StatusCode, Json<TokenView>), ApiError> {
    let token = state
        .services
        .register_vpp_token(&caller.actor, body.group_id, &body.token_file)
        .await?;
    Ok((StatusCode::CREATED, Json(view(token))))
}

#[utoipa::path(get, path = "/vpp/tokens/{id}", tag = "vpp", params(("id" = i64, Path)),
    responses((status = 200, body = TokenView), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Json<TokenView>, ApiError> {
    Ok(Json(view(
        state.services.vpp_token(&caller.actor, VppTokenId(id)).await?,
    )))
}

#[utoipa::path(delete, path = "/vpp/tokens/{id}", tag = "vpp", params(("id" = i64, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    state.services.delete_vpp_token(&caller.actor, VppTokenId(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Renew with a newer token file of the same location (T3, サーバトークンの更新).
#[utoipa::path(post, path = "/vpp/tokens/{id}/renew", tag = "vpp", params(("id" = i64, Path)),
    request_body = TokenRenewal,
    responses((status = 200, body = TokenView), (status = 400, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn renew(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<TokenRenewal>,
) -> Result<Json<TokenView>, ApiError> {
    let token = state
        .services
        .renew_vpp_token(&caller.actor, VppTokenId(id), &body.token_file)
        .await?;
    Ok(Json(view(token)))
}

/// Take over a location another MDM or account manages (T2), once confirmed.
#[utoipa::path(post, path = "/vpp/tokens/{id}/takeover", tag = "vpp", params(("id" = i64, Path)),
    request_body = TakeoverRequest,
    responses((status = 200, body = TokenView), (status = 400, body = ErrorBody)))]
pub async fn takeover(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<TakeoverRequest>,
) -> Result<Json<TokenView>, ApiError> {
    let token = state
        .services
        .take_over_vpp_token(&caller.actor, VppTokenId(id), &body)
        .await?;
    Ok(Json(view(token)))
}

/// The groups that use this token (T6, ライセンス共有).
#[utoipa::path(put, path = "/vpp/tokens/{id}/groups", tag = "vpp", params(("id" = i64, Path)),
    request_body = TokenGroups, responses((status = 200, body = TokenView), (status = 400, body = ErrorBody)))]
pub async fn share(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<TokenGroups>,
) -> Result<Json<TokenView>, ApiError> {
    let token = state
        .services
        .share_vpp_token(&caller.actor, VppTokenId(id), &body.group_ids)
        .await?;
    Ok(Json(view(token)))
}

/// Expiry notice mails (T4, 失効通知).
#[utoipa::path(put, path = "/vpp/tokens/{id}/expiry-notice", tag = "vpp", params(("id" = i64, Path)),
    request_body = ExpiryNoticeSettings, responses((status = 200, body = TokenView), (status = 400, body = ErrorBody)))]
pub async fn expiry_notice(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<ExpiryNoticeSettings>,
) -> Result<Json<TokenView>, ApiError> {
    let token = state
        .services
        .set_vpp_expiry_notice(&caller.actor, VppTokenId(id), &body)
        .await?;
    Ok(Json(view(token)))
}

/// Sync assets, counts, licenses and metadata now (T5, 同期).
#[utoipa::path(post, path = "/vpp/tokens/{id}/sync", tag = "vpp", params(("id" = i64, Path)),
    responses((status = 200, body = SyncSummary), (status = 409, body = ErrorBody)))]
pub async fn sync(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Json<SyncSummary>, ApiError> {
    Ok(Json(
        state.services.sync_vpp_token(&caller.actor, VppTokenId(id)).await?,
    ))
}

/// Apps and books of a token with their license counts (A1).
#[utoipa::path(get, path = "/vpp/tokens/{id}/assets", tag = "vpp", params(("id" = i64, Path)),
    responses((status = 200, body = Vec<VppAsset>), (status = 404, body = ErrorBody)))]
pub async fn assets(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Json<Vec<VppAsset>>, ApiError> {
    Ok(Json(state.services.vpp_assets(&caller.actor, VppTokenId(id)).await?))
}

/// The tokens of a group, or the seeds' message when it has none (T8).
#[utoipa::path(get, path = "/groups/{id}/vpp-tokens", tag = "vpp", params(("id" = i64, Path)),
    responses((status = 200, body = Vec<TokenView>), (status = 409, body = ErrorBody)))]
pub async fn group_tokens(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Json<Vec<TokenView>>, ApiError> {
    let tokens = state.services.vpp_tokens_of_group(&caller.actor, GroupId(id)).await?;
    Ok(Json(tokens.into_iter().map(view).collect()))
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct LicenseQuery {
    pub token_id: Option<i64>,
    pub adam_id: Option<String>,
    /// Licenses of this device.
    pub serial_number: Option<String>,
    /// Licenses of this VPP user.
    pub client_user_id: Option<String>,
    pub limit: Option<i64>,
}

/// Licenses per token, asset, device or user (L6).
#[utoipa::path(get, path = "/vpp/licenses", tag = "vpp", params(LicenseQuery),
    responses((status = 200, body = Vec<License>)))]
pub async fn licenses(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(query): ApiQuery<LicenseQuery>,
) -> Result<Json<Vec<License>>, ApiError> {
    let target = match (query.serial_number, query.client_user_id) {
        (Some(serial), _) => Some(LicenseTarget::Serial(serial)),
        (None, Some(user)) => Some(LicenseTarget::User(user)),
        _ => None,
    };
    let filter = LicenseFilter {
        token_id: query.token_id.map(VppTokenId),
        adam_id: query.adam_id,
        target,
        limit: query.limit,
    };
    Ok(Json(state.services.licenses(&caller.actor, &filter).await?))
}

/// Assign licenses (L1); the operation runs in the background.
#[utoipa::path(post, path = "/vpp/tokens/{id}/licenses/assign", tag = "vpp", params(("id" = i64, Path)),
    request_body = LicenseRequest,
    responses((status = 202, body = LicenseOperation), (status = 400, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn assign(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<LicenseRequest>,
) -> Result<(StatusCode, Json<LicenseOperation>), ApiError> {
    let operation = state
        .services
        .assign_licenses(&caller.actor, VppTokenId(id), &body, false)
        .await?;
    Ok((StatusCode::ACCEPTED, Json(operation)))
}

/// Revoke licenses (L2, 剥奪/回収); the operation runs in the background.
#[utoipa::path(post, path = "/vpp/tokens/{id}/licenses/revoke", tag = "vpp", params(("id" = i64, Path)),
    request_body = LicenseRequest,
    responses((status = 202, body = LicenseOperation), (status = 400, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn revoke(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<LicenseRequest>,
) -> Result<(StatusCode, Json<LicenseOperation>), ApiError> {
    let operation = state
        .services
        .revoke_licenses(&caller.actor, VppTokenId(id), &body)
        .await?;
    Ok((StatusCode::ACCEPTED, Json(operation)))
}

#[utoipa::path(get, path = "/vpp/tokens/{id}/operations", tag = "vpp", params(("id" = i64, Path)),
    responses((status = 200, body = Vec<LicenseOperation>)))]
pub async fn operations(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Json<Vec<LicenseOperation>>, ApiError> {
    Ok(Json(
        state.services.vpp_operations(&caller.actor, VppTokenId(id)).await?,
    ))
}

#[utoipa::path(get, path = "/vpp/operations/{id}", tag = "vpp", params(("id" = i64, Path)),
    responses((status = 200, body = LicenseOperation), (status = 404, body = ErrorBody)))]
pub async fn operation(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Json<LicenseOperation>, ApiError> {
    Ok(Json(
        state.services.vpp_operation(&caller.actor, VppOperationId(id)).await?,
    ))
}
