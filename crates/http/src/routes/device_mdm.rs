//! What an administrator does to an enrolled device over MDM: queue
//! inventory commands, wipe it, and read its enrollment and inventory.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use haishin_domain::ids::{DeviceId, JobId};
use haishin_domain::mdm::{DeviceCommandKind, EnrollmentRecord, Inventory};
use haishin_domain::time_util::Timestamp;
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};
use crate::extract::ApiJson;

#[derive(Deserialize, utoipa::ToSchema)]
pub struct CommandRequest {
    /// Commands to queue, in this order.
    pub commands: Vec<DeviceCommandKind>,
    /// Start no earlier than this (RFC 3339); now when absent.
    #[schema(value_type = Option<String>)]
    pub run_at: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct QueuedJobs {
    pub job_ids: Vec<JobId>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct DeviceMdmView {
    /// `None` until the device authenticates with a profile.
    pub enrollment: Option<EnrollmentRecord>,
    pub inventory: Vec<Inventory>,
}

fn parse_time(text: &str) -> Result<Timestamp, ApiError> {
    let parsed = time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).map_err(|_| {
        haishin_domain::DomainError::invalid(
            "run_at",
            format!("「{text}」は日時として不正です(例: 2026-12-01T09:00:00+09:00)。"),
            format!("'{text}' is not a date and time (e.g. 2026-12-01T09:00:00+09:00)."),
        )
    })?;
    Ok(Timestamp::from_datetime(parsed))
}

/// Queue inventory commands (DeviceInformation, app and book lists).
#[utoipa::path(post, path = "/devices/{id}/commands", tag = "devices", params(("id" = i64, Path)),
    request_body = CommandRequest,
    responses((status = 202, body = QueuedJobs), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn queue(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<CommandRequest>,
) -> Result<(StatusCode, Json<QueuedJobs>), ApiError> {
    let run_at = body.run_at.as_deref().map(parse_time).transpose()?;
    let job_ids = state
        .services
        .queue_device_commands(&caller.actor, DeviceId(id), &body.commands, run_at)
        .await?;
    Ok((StatusCode::ACCEPTED, Json(QueuedJobs { job_ids })))
}

/// Erase the device (EraseDevice). Account admins only; it is unenrolled
/// once it acknowledges.
#[utoipa::path(post, path = "/devices/{id}/wipe", tag = "devices", params(("id" = i64, Path)),
    responses((status = 202, body = QueuedJobs), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn wipe(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<(StatusCode, Json<QueuedJobs>), ApiError> {
    let job = state.services.wipe_device(&caller.actor, DeviceId(id)).await?;
    Ok((StatusCode::ACCEPTED, Json(QueuedJobs { job_ids: vec![job] })))
}

/// The device's enrollment record and its inventory with when each list was fetched.
#[utoipa::path(get, path = "/devices/{id}/mdm", tag = "devices", params(("id" = i64, Path)),
    responses((status = 200, body = DeviceMdmView), (status = 404, body = ErrorBody)))]
pub async fn view(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Json<DeviceMdmView>, ApiError> {
    let (enrollment, inventory) = state.services.device_mdm(&caller.actor, DeviceId(id)).await?;
    Ok(Json(DeviceMdmView { enrollment, inventory }))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct RemoveAppRequest {
    /// The app's bundle id.
    pub identifier: String,
}

/// Uninstall a managed app (SPEC D8); an unmanaged one is refused with the explanation.
#[utoipa::path(post, path = "/devices/{id}/apps/remove", tag = "devices", params(("id" = i64, Path)),
    request_body = RemoveAppRequest,
    responses((status = 202, body = QueuedJobs), (status = 409, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn remove_app(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<RemoveAppRequest>,
) -> Result<(StatusCode, Json<QueuedJobs>), ApiError> {
    let job = state
        .services
        .remove_app(&caller.actor, DeviceId(id), &body.identifier)
        .await?;
    Ok((StatusCode::ACCEPTED, Json(QueuedJobs { job_ids: vec![job] })))
}
