//! Who is calling: an API token (`Authorization: Bearer hs_…`) or a console
//! session cookie. Either way the handler gets an [`Actor`] of one account.

use axum::extract::FromRequestParts;
use axum::http::header::{AUTHORIZATION, COOKIE};
use axum::http::request::Parts;
use haishin_domain::DomainError;
use haishin_domain::auth::{Actor, Admin};

use crate::AppState;
use crate::error::ApiError;

pub const SESSION_COOKIE: &str = "haishin_session";

/// The authenticated caller.
pub struct Caller {
    pub admin: Admin,
    pub actor: Actor,
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let services = &state.services;
        let admin = if let Some(token) = bearer_token(parts) {
            services.admin_for_api_token(token).await?
        } else if let Some(session) = session_cookie(parts) {
            services.admin_for_session(session).await?
        } else {
            return Err(DomainError::Unauthenticated.into());
        };
        let actor = Actor::admin(&admin);
        Ok(Caller { admin, actor })
    }
}

fn bearer_token(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then_some(token.trim())
}

pub fn session_cookie(parts: &Parts) -> Option<&str> {
    parts
        .headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| pair.trim().strip_prefix(SESSION_COOKIE)?.strip_prefix('='))
}
