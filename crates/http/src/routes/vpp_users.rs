//! VPP users (SPEC U1-U6): create, invite, refresh, retire; and each
//! group's license auto-assignment token (T7).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use haishin_domain::ids::{GroupId, JobId, UserId, VppTokenId};
use haishin_domain::vpp::auto_assign::{AutoAssignRequest, AutoAssignSetting};
use haishin_domain::vpp::users::{VppUser, VppUserView};
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};
use crate::extract::ApiJson;

#[derive(Deserialize, utoipa::ToSchema)]
pub struct NewVppUser {
    /// The organisation's user (利用者) to create a VPP account for.
    pub user_id: UserId,
}

/// How to invite: `mail` (the invitation URL to the user's address) or
/// `device` (InviteToProgram on the user's enrolled devices).
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum InviteChannel {
    Mail,
    Device,
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct InviteRequest {
    pub by: InviteChannel,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct InviteResult {
    pub user: Option<VppUser>,
    /// The InviteToProgram jobs, when invited through devices.
    pub job_ids: Vec<JobId>,
}

#[utoipa::path(get, path = "/vpp/tokens/{id}/users", tag = "vpp", params(("id" = i64, Path)),
    responses((status = 200, body = Vec<VppUserView>), (status = 404, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Json<Vec<VppUserView>>, ApiError> {
    Ok(Json(state.services.vpp_users(&caller.actor, VppTokenId(id)).await?))
}

/// Create and register a VPP account for a user (U1).
#[utoipa::path(post, path = "/vpp/tokens/{id}/users", tag = "vpp", params(("id" = i64, Path)),
    request_body = NewVppUser,
    responses((status = 201, body = VppUser), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<NewVppUser>,
) -> Result<(StatusCode, Json<VppUser>), ApiError> {
    let user = state
        .services
        .create_vpp_user(&caller.actor, VppTokenId(id), body.user_id)
        .await?;
    Ok((StatusCode::CREATED, Json(user)))
}

/// Read every VPP user's status from Apple now (U3).
#[utoipa::path(post, path = "/vpp/tokens/{id}/users/refresh", tag = "vpp", params(("id" = i64, Path)),
    responses((status = 200, body = Vec<VppUserView>), (status = 409, body = ErrorBody)))]
pub async fn refresh(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Json<Vec<VppUserView>>, ApiError> {
    Ok(Json(
        state.services.refresh_vpp_users(&caller.actor, VppTokenId(id)).await?,
    ))
}

/// Invite a registered VPP user by mail or through their devices (U2).
#[utoipa::path(post, path = "/vpp/tokens/{id}/users/{client_user_id}/invite", tag = "vpp",
    params(("id" = i64, Path), ("client_user_id" = String, Path)), request_body = InviteRequest,
    responses((status = 200, body = InviteResult), (status = 409, body = ErrorBody)))]
pub async fn invite(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, client_user_id)): Path<(i64, String)>,
    ApiJson(body): ApiJson<InviteRequest>,
) -> Result<Json<InviteResult>, ApiError> {
    let token = VppTokenId(id);
    let result = match body.by {
        InviteChannel::Mail => InviteResult {
            user: Some(
                state
                    .services
                    .invite_vpp_user_by_mail(&caller.actor, token, &client_user_id)
                    .await?,
            ),
            job_ids: Vec::new(),
        },
        InviteChannel::Device => InviteResult {
            user: None,
            job_ids: state
                .services
                .invite_vpp_user_by_device(&caller.actor, token, &client_user_id)
                .await?,
        },
    };
    Ok(Json(result))
}

/// Retire a VPP account; its revocable licenses return to the pool (U6).
#[utoipa::path(post, path = "/vpp/tokens/{id}/users/{client_user_id}/retire", tag = "vpp",
    params(("id" = i64, Path), ("client_user_id" = String, Path)),
    responses((status = 200, body = VppUser), (status = 404, body = ErrorBody)))]
pub async fn retire(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, client_user_id)): Path<(i64, String)>,
) -> Result<Json<VppUser>, ApiError> {
    Ok(Json(
        state
            .services
            .retire_vpp_user(&caller.actor, VppTokenId(id), &client_user_id)
            .await?,
    ))
}

/// The group's license auto-assignment token, own or inherited (T7).
#[utoipa::path(get, path = "/groups/{id}/vpp-auto-assign", tag = "vpp", params(("id" = i64, Path)),
    responses((status = 200, body = AutoAssignSetting), (status = 404, body = ErrorBody)))]
pub async fn get_auto_assign(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Json<AutoAssignSetting>, ApiError> {
    Ok(Json(state.services.vpp_auto_assign(&caller.actor, GroupId(id)).await?))
}

#[utoipa::path(put, path = "/groups/{id}/vpp-auto-assign", tag = "vpp", params(("id" = i64, Path)),
    request_body = AutoAssignRequest,
    responses((status = 200, body = AutoAssignSetting), (status = 409, body = ErrorBody)))]
pub async fn set_auto_assign(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<AutoAssignRequest>,
) -> Result<Json<AutoAssignSetting>, ApiError> {
    Ok(Json(
        state
            .services
            .set_vpp_auto_assign(&caller.actor, GroupId(id), &body)
            .await?,
    ))
}
