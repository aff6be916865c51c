//! App rules (SPEC D5): apps that go to devices by themselves. An
//! auto-install rule (自動インストールアプリケーション) deploys its app to every
//! device that enrolls into or joins its group; a self-service rule offers
//! it in the device's portal. Also the per-app opt-out of automatic updates
//! and the signed link to a device's portal.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use haishin_domain::deploy::portal::{PortalApp, PortalLink, PortalPage};
use haishin_domain::deploy::rules::{AutoUpdateRequest, RuleReapplied};
use haishin_domain::deploy::{AppRuleInput, AppRuleView, AutoUpdateSetting};
use haishin_domain::ids::{AppRuleId, DeviceId, VppTokenId};
use serde::Deserialize;

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, ApiQuery};

/// Every rule of the account, with how many devices each was applied to.
#[utoipa::path(get, path = "/app-rules", tag = "app-rules", responses((status = 200, body = Vec<AppRuleView>)))]
pub async fn list(State(state): State<AppState>, caller: Caller) -> Result<Json<Vec<AppRuleView>>, ApiError> {
    Ok(Json(state.services.app_rules(&caller.actor).await?))
}

/// Create a rule. The app is checked as a deployment of it would be (token,
/// library, platform); an enabled auto-install rule starts at once for the
/// enrolled devices of its group.
#[utoipa::path(post, path = "/app-rules", tag = "app-rules", request_body = AppRuleInput,
    responses((status = 201, body = AppRuleView), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<AppRuleInput>,
) -> Result<(StatusCode, Json<AppRuleView>), ApiError> {
    let created = state.services.create_app_rule(&caller.actor, &body).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

#[utoipa::path(get, path = "/app-rules/{id}", tag = "app-rules", params(("id" = i64, Path)),
    responses((status = 200, body = AppRuleView), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Json<AppRuleView>, ApiError> {
    Ok(Json(state.services.app_rule(&caller.actor, AppRuleId(id)).await?))
}

/// Replace a rule. Devices it was applied to are not looked at again; see
/// `reapply`.
#[utoipa::path(put, path = "/app-rules/{id}", tag = "app-rules", params(("id" = i64, Path)), request_body = AppRuleInput,
    responses((status = 200, body = AppRuleView), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<AppRuleInput>,
) -> Result<Json<AppRuleView>, ApiError> {
    Ok(Json(
        state
            .services
            .update_app_rule(&caller.actor, AppRuleId(id), &body)
            .await?,
    ))
}

/// Delete a rule. Apps it installed stay on the devices with their licenses.
#[utoipa::path(delete, path = "/app-rules/{id}", tag = "app-rules", params(("id" = i64, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    state.services.delete_app_rule(&caller.actor, AppRuleId(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Look at every device of the rule's group again: after buying licenses
/// that were short, or once devices reach the app's minimum OS.
#[utoipa::path(post, path = "/app-rules/{id}/reapply", tag = "app-rules", params(("id" = i64, Path)),
    responses((status = 200, body = RuleReapplied), (status = 404, body = ErrorBody)))]
pub async fn reapply(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Json<RuleReapplied>, ApiError> {
    Ok(Json(
        state.services.reapply_app_rule(&caller.actor, AppRuleId(id)).await?,
    ))
}

/// Whether an app is updated automatically when its store version moves.
#[utoipa::path(get, path = "/vpp/tokens/{id}/assets/{adam_id}/auto-update", tag = "app-rules",
    params(("id" = i64, Path), ("adam_id" = String, Path)),
    responses((status = 200, body = AutoUpdateSetting), (status = 404, body = ErrorBody)))]
pub async fn get_auto_update(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, adam_id)): Path<(i64, String)>,
) -> Result<Json<AutoUpdateSetting>, ApiError> {
    Ok(Json(
        state
            .services
            .auto_update_setting(&caller.actor, VppTokenId(id), &adam_id)
            .await?,
    ))
}

/// Turn automatic updates of one app off (or back on).
#[utoipa::path(put, path = "/vpp/tokens/{id}/assets/{adam_id}/auto-update", tag = "app-rules",
    params(("id" = i64, Path), ("adam_id" = String, Path)), request_body = AutoUpdateRequest,
    responses((status = 200, body = AutoUpdateSetting), (status = 404, body = ErrorBody)))]
pub async fn set_auto_update(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, adam_id)): Path<(i64, String)>,
    ApiJson(body): ApiJson<AutoUpdateRequest>,
) -> Result<Json<AutoUpdateSetting>, ApiError> {
    Ok(Json(
        state
            .services
            .set_auto_update(&caller.actor, VppTokenId(id), &adam_id, body.enabled)
            .await?,
    ))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct LinkParams {
    /// Days the link is valid: 1 to 366, 30 by default.
    pub days: Option<i64>,
}

/// A signed link to the device's self-service portal, to hand to its user
/// or push as a web clip. Anyone holding it can install the apps the
/// portal offers on that device, until it expires.
#[utoipa::path(post, path = "/devices/{id}/portal-link", tag = "app-rules", params(("id" = i64, Path), LinkParams),
    responses((status = 200, body = PortalLink), (status = 404, body = ErrorBody)))]
pub async fn portal_link(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    ApiQuery(params): ApiQuery<LinkParams>,
) -> Result<Json<PortalLink>, ApiError> {
    Ok(Json(
        state
            .services
            .portal_link(&caller.actor, DeviceId(id), params.days)
            .await?,
    ))
}

/// The apps a device's portal offers, with their state on the device. The
/// ticket (from `portal-link`) is the credential; no admin is involved.
#[utoipa::path(get, path = "/portal/{ticket}/apps", tag = "portal", params(("ticket" = String, Path)),
    responses((status = 200, body = PortalPage), (status = 401, body = ErrorBody)))]
pub async fn portal_apps(
    State(state): State<AppState>,
    Path(ticket): Path<String>,
) -> Result<Json<PortalPage>, ApiError> {
    Ok(Json(state.services.portal_page(&ticket).await?))
}

/// A tap: assigns the license to the device's serial number and installs.
/// Asking again while the install runs returns it as it is.
#[utoipa::path(post, path = "/portal/{ticket}/apps/{rule_id}/install", tag = "portal",
    params(("ticket" = String, Path), ("rule_id" = i64, Path)),
    responses((status = 200, body = PortalApp), (status = 401, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn portal_install(
    State(state): State<AppState>,
    Path((ticket, rule_id)): Path<(String, i64)>,
) -> Result<Json<PortalApp>, ApiError> {
    Ok(Json(state.services.portal_install(&ticket, AppRuleId(rule_id)).await?))
}
