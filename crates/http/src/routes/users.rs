//! Users (device owners), with CSV import and export.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use haishin_domain::csv::CsvEncoding;
use haishin_domain::ids::{GroupId, UserId};
use haishin_domain::org::{ImportSummary, Page, User, UserInput, UserPatch, UserSearch};
use haishin_domain::service::{CsvOptions, ExportOptions};

use super::{ExportParams, ImportParams, csv_download};
use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, ApiQuery, Upload};

/// Search users by name, employee number, email or phone.
#[utoipa::path(get, path = "/users", tag = "users", params(UserSearch), responses((status = 200, body = Page<User>)))]
pub async fn search(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(query): ApiQuery<UserSearch>,
) -> Result<Json<Page<User>>, ApiError> {
    Ok(Json(state.services.search_users(&caller.actor, &query).await?))
}

#[utoipa::path(post, path = "/users", tag = "users", request_body = UserInput,
    responses((status = 201, body = User), (status = 400, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<UserInput>,
) -> Result<(StatusCode, Json<User>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(state.services.create_user(&caller.actor, &body).await?),
    ))
}

#[utoipa::path(get, path = "/users/{id}", tag = "users", params(("id" = i64, Path)),
    responses((status = 200, body = User), (status = 404, body = ErrorBody)))]
pub async fn get(State(state): State<AppState>, caller: Caller, Path(id): Path<i64>) -> Result<Json<User>, ApiError> {
    Ok(Json(state.services.get_user(&caller.actor, UserId(id)).await?))
}

#[utoipa::path(patch, path = "/users/{id}", tag = "users", params(("id" = i64, Path)), request_body = UserPatch,
    responses((status = 200, body = User), (status = 404, body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<UserPatch>,
) -> Result<Json<User>, ApiError> {
    Ok(Json(
        state.services.update_user(&caller.actor, UserId(id), &body).await?,
    ))
}

/// Delete a user; their devices stay, without an owner.
#[utoipa::path(delete, path = "/users/{id}", tag = "users", params(("id" = i64, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    state.services.delete_user(&caller.actor, UserId(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Import users from CSV (all or nothing; rows matched by employee number).
#[utoipa::path(post, path = "/users/import", tag = "users", params(ImportParams),
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
    Ok(Json(state.services.import_users(&caller.actor, &bytes, options).await?))
}

/// Export users as CSV.
#[utoipa::path(get, path = "/users/export", tag = "users", params(ExportParams),
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
        .export_users(&caller.actor, group, params.include_subgroups, options)
        .await?;
    Ok(csv_download(file, encoding, "users.csv"))
}
