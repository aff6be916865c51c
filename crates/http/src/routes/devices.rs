//! Devices, with search over the SPEC §2 fields and CSV import and export.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use haishin_domain::csv::CsvEncoding;
use haishin_domain::deploy::removal::DeviceDeletion;
use haishin_domain::ids::{DeviceId, GroupId};
use haishin_domain::org::{Device, DeviceInput, DevicePatch, DeviceSearch, ImportSummary, Page};
use haishin_domain::service::{CsvOptions, ExportOptions};

use super::{ExportParams, ImportParams, csv_download};
use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, ApiQuery, Upload};

/// Search devices by keyword in one field or all, within a group or its subtree.
#[utoipa::path(get, path = "/devices", tag = "devices", params(DeviceSearch), responses((status = 200, body = Page<Device>)))]
pub async fn search(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(query): ApiQuery<DeviceSearch>,
) -> Result<Json<Page<Device>>, ApiError> {
    Ok(Json(state.services.search_devices(&caller.actor, &query).await?))
}

#[utoipa::path(post, path = "/devices", tag = "devices", request_body = DeviceInput,
    responses((status = 201, body = Device), (status = 400, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<DeviceInput>,
) -> Result<(StatusCode, Json<Device>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(state.services.create_device(&caller.actor, &body).await?),
    ))
}

#[utoipa::path(get, path = "/devices/{id}", tag = "devices", params(("id" = i64, Path)),
    responses((status = 200, body = Device), (status = 404, body = ErrorBody)))]
pub async fn get(State(state): State<AppState>, caller: Caller, Path(id): Path<i64>) -> Result<Json<Device>, ApiError> {
    Ok(Json(state.services.get_device(&caller.actor, DeviceId(id)).await?))
}

#[utoipa::path(patch, path = "/devices/{id}", tag = "devices", params(("id" = i64, Path)), request_body = DevicePatch,
    responses((status = 200, body = Device), (status = 404, body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<DevicePatch>,
) -> Result<Json<Device>, ApiError> {
    Ok(Json(
        state.services.update_device(&caller.actor, DeviceId(id), &body).await?,
    ))
}

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
pub struct DeleteParams {
    /// 自動インストールしたアプリを削除する: uninstall the apps of the
    /// auto-install rules covering the device first. Its automatic
    /// licenses are reclaimed either way.
    #[serde(default)]
    pub remove_auto_installed_apps: bool,
}

/// Delete a device (204). With `remove_auto_installed_apps`, an enrolled
/// device with such apps is deleted once they are uninstalled, or after a
/// day at the latest (202, with the apps and the jobs).
#[utoipa::path(delete, path = "/devices/{id}", tag = "devices", params(("id" = i64, Path), DeleteParams),
    responses((status = 204), (status = 202, body = DeviceDeletion), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    ApiQuery(params): ApiQuery<DeleteParams>,
) -> Result<Response, ApiError> {
    let deletion = state
        .services
        .delete_device_with(&caller.actor, DeviceId(id), params.remove_auto_installed_apps)
        .await?;
    Ok(match deletion {
        DeviceDeletion::Deleted => StatusCode::NO_CONTENT.into_response(),
        pending => (StatusCode::ACCEPTED, Json(pending)).into_response(),
    })
}

/// Import devices from CSV (all or nothing; rows matched by device number).
#[utoipa::path(post, path = "/devices/import", tag = "devices", params(ImportParams),
    request_body(content = String, content_type = "text/csv"),
    responses((status = 200, body = ImportSummary), (status = 400, body = ErrorBody)))]
pub async fn import(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(params): ApiQuery<ImportParams>,
    Upload(bytes): Upload,
) -> Result<Json<ImportSummary>, ApiError> {
    let options = CsvOptions {
        encoding: params.encoding,
    };
    Ok(Json(
        state.services.import_devices(&caller.actor, &bytes, options).await?,
    ))
}

/// Export devices as CSV; importing the file again changes nothing.
#[utoipa::path(get, path = "/devices/export", tag = "devices", params(ExportParams),
    responses((status = 200, content_type = "text/csv", body = String)))]
pub async fn export(
    State(state): State<AppState>,
    caller: Caller,
    lang: crate::extract::RequestLang,
    ApiQuery(params): ApiQuery<ExportParams>,
) -> Result<Response, ApiError> {
    let encoding = params.encoding.unwrap_or(CsvEncoding::Utf8);
    let options = ExportOptions {
        encoding,
        lang: params.lang.unwrap_or(lang.0),
    };
    let group = params.group_id.map(GroupId);
    let file = state
        .services
        .export_devices(&caller.actor, group, params.include_subgroups, options)
        .await?;
    Ok(csv_download(file, encoding, "devices.csv"))
}
