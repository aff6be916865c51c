//! Extractors whose failures are bilingual JSON errors like every other.

use axum::body::Bytes;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::AppState;
use crate::error::{ApiError, from_rejection};

/// JSON body; malformed JSON or a wrong shape is a 400 with the reason.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(Self(value)),
            Err(rejection) => Err(json_rejection(rejection, state.options.max_json_bytes)),
        }
    }
}

fn json_rejection(rejection: JsonRejection, limit: usize) -> ApiError {
    let status = rejection.status();
    from_rejection(status, rejection.body_text(), limit)
}

/// Query string parameters, refused with a bilingual 400.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned + Send> FromRequestParts<AppState> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(Self(value)),
            Err(rejection) => Err(query_rejection(rejection)),
        }
    }
}

fn query_rejection(rejection: QueryRejection) -> ApiError {
    from_rejection(rejection.status(), rejection.body_text(), 0)
}

/// A raw upload (CSV) under the CSV size limit, which is larger than the
/// JSON limit and so is enforced here rather than by `DefaultBodyLimit`.
pub struct Upload(pub Bytes);

impl FromRequest<AppState> for Upload {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let limit = state.options.max_csv_bytes;
        match axum::body::to_bytes(req.into_body(), limit).await {
            Ok(bytes) => Ok(Self(bytes)),
            Err(_) => Err(ApiError(haishin_domain::DomainError::TooLarge { limit_bytes: limit })),
        }
    }
}

/// The language the caller prefers (`Accept-Language`).
pub struct RequestLang(pub haishin_domain::Lang);

impl<S: Send + Sync> FromRequestParts<S> for RequestLang {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let header = parts
            .headers
            .get(axum::http::header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok());
        Ok(Self(haishin_domain::Lang::from_accept_language(header)))
    }
}
