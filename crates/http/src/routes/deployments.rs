//! Deployments (配信): the distribution wizard as an API. A dry run first
//! (who gets a job, who is skipped and why), then the deployment itself,
//! its progress per job status, and cancelling it.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use haishin_domain::deploy::{DeploymentPreview, DeploymentProgress, DeploymentRequest};
use haishin_domain::ids::{DeploymentId, JobId};
use serde::Serialize;

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};
use crate::extract::ApiJson;

/// The dry run: which devices get a job for which item (install, update or
/// take management, and whether a license is reused, assigned or short),
/// and which are skipped, with the reason in Japanese and English.
#[utoipa::path(post, path = "/deployments/preview", tag = "deployments", request_body = DeploymentRequest,
    responses((status = 200, body = DeploymentPreview), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn preview(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<DeploymentRequest>,
) -> Result<Json<DeploymentPreview>, ApiError> {
    Ok(Json(state.services.preview_deployment(&caller.actor, &body).await?))
}

/// Register a deployment (処理を開始する). Its jobs appear in the job
/// console at once; installs that need a license wait until it is assigned.
#[utoipa::path(post, path = "/deployments", tag = "deployments", request_body = DeploymentRequest,
    responses((status = 201, body = DeploymentProgress), (status = 400, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<DeploymentRequest>,
) -> Result<(StatusCode, Json<DeploymentProgress>), ApiError> {
    let created = state.services.create_deployment(&caller.actor, &body).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// The latest 100 deployments with their progress.
#[utoipa::path(get, path = "/deployments", tag = "deployments", responses((status = 200, body = Vec<DeploymentProgress>)))]
pub async fn list(State(state): State<AppState>, caller: Caller) -> Result<Json<Vec<DeploymentProgress>>, ApiError> {
    Ok(Json(state.services.deployments(&caller.actor).await?))
}

/// One deployment: its request, plan summary (skips, license counts) and
/// job counts per status.
#[utoipa::path(get, path = "/deployments/{id}", tag = "deployments", params(("id" = i64, Path)),
    responses((status = 200, body = DeploymentProgress), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Json<DeploymentProgress>, ApiError> {
    Ok(Json(state.services.deployment(&caller.actor, DeploymentId(id)).await?))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Canceled {
    pub canceled: u64,
}

/// Cancel the deployment's unfinished jobs.
#[utoipa::path(post, path = "/deployments/{id}/cancel", tag = "deployments", params(("id" = i64, Path)),
    responses((status = 200, body = Canceled), (status = 404, body = ErrorBody)))]
pub async fn cancel(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Json<Canceled>, ApiError> {
    let canceled = state
        .services
        .cancel_deployment(&caller.actor, DeploymentId(id))
        .await?;
    Ok(Json(Canceled { canceled }))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Resent {
    pub job_id: JobId,
}

/// Send an install again that the user refused or that failed (再送).
#[utoipa::path(post, path = "/jobs/{id}/resend", tag = "jobs", params(("id" = i64, Path)),
    responses((status = 202, body = Resent), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn resend(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<(StatusCode, Json<Resent>), ApiError> {
    let job_id = state.services.resend_job(&caller.actor, JobId(id)).await?;
    Ok((StatusCode::ACCEPTED, Json(Resent { job_id })))
}
