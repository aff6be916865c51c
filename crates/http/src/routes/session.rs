//! Console login and logout; `me` for both sessions and API tokens.

use axum::Json;
use axum::extract::State;
use axum::http::header::SET_COOKIE;
use axum::response::{IntoResponse, Response};
use haishin_domain::auth::Admin;
use serde::Deserialize;

use crate::AppState;
use crate::auth::{Caller, SESSION_COOKIE, session_cookie};
use crate::error::{ApiError, ErrorBody};
use crate::extract::ApiJson;

#[derive(Deserialize, utoipa::ToSchema)]
pub struct LoginRequest {
    pub login: String,
    pub password: String,
}

/// Sign in to the console; sets an HttpOnly session cookie.
#[utoipa::path(post, path = "/session", tag = "session", request_body = LoginRequest,
    responses((status = 200, body = Admin), (status = 401, body = ErrorBody)))]
pub async fn login(State(state): State<AppState>, ApiJson(body): ApiJson<LoginRequest>) -> Result<Response, ApiError> {
    let outcome = state.services.login(&body.login, &body.password).await?;
    let max_age = (outcome.expires_at.0 - haishin_domain::time_util::now_millis()) / 1000;
    let secure = if state.options.secure_cookies { "; Secure" } else { "" };
    let cookie = format!(
        "{SESSION_COOKIE}={}; HttpOnly; SameSite=Strict; Path=/; Max-Age={max_age}{secure}",
        outcome.session_token.expose()
    );
    Ok(([(SET_COOKIE, cookie)], Json(outcome.admin)).into_response())
}

/// Sign out: ends the session of the cookie sent.
#[utoipa::path(delete, path = "/session", tag = "session", responses((status = 204)))]
pub async fn logout(State(state): State<AppState>, request: axum::extract::Request) -> Result<Response, ApiError> {
    let (parts, _) = request.into_parts();
    if let Some(token) = session_cookie(&parts) {
        state.services.logout(token).await?;
    }
    let clear = format!("{SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0");
    Ok(([(SET_COOKIE, clear)], axum::http::StatusCode::NO_CONTENT).into_response())
}

/// The admin behind this session or token.
#[utoipa::path(get, path = "/me", tag = "session", responses((status = 200, body = Admin), (status = 401, body = ErrorBody)))]
pub async fn me(caller: Caller) -> Json<Admin> {
    Json(caller.admin)
}
