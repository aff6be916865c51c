//! Errors as JSON `{code, message, errors?}`, with the message in the
//! language the request's `Accept-Language` prefers.

use std::sync::Arc;

use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use haishin_domain::error::LineError;
use haishin_domain::{DomainError, ErrorKind, Lang};
use serde::Serialize;

/// What every failed API call returns.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// Stable identifier to branch on (`not_found`, `csv_rejected`, ...).
    pub code: String,
    /// For people, in Japanese or English per `Accept-Language`.
    pub message: String,
    /// Line-numbered problems of a refused CSV file.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<LineError>,
}

/// A handler's error. It is rendered by [`localize`], which knows the
/// request's language; handlers need not.
#[derive(Debug)]
pub struct ApiError(pub DomainError);

impl From<DomainError> for ApiError {
    fn from(e: DomainError) -> Self {
        Self(e)
    }
}

#[derive(Clone)]
struct PendingError(Arc<DomainError>);

pub fn status_of(kind: ErrorKind) -> StatusCode {
    match kind {
        ErrorKind::Invalid => StatusCode::BAD_REQUEST,
        ErrorKind::Unauthenticated => StatusCode::UNAUTHORIZED,
        ErrorKind::Forbidden => StatusCode::FORBIDDEN,
        ErrorKind::NotFound => StatusCode::NOT_FOUND,
        ErrorKind::Conflict => StatusCode::CONFLICT,
        ErrorKind::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        ErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let DomainError::Internal(detail) = &self.0 {
            tracing::error!(%detail, "internal error");
        }
        let mut response = status_of(self.0.kind()).into_response();
        response.extensions_mut().insert(PendingError(Arc::new(self.0)));
        response
    }
}

pub fn render(error: &DomainError, lang: Lang) -> Response {
    let body = ErrorBody {
        code: error.code().to_owned(),
        message: error.message(lang),
        errors: error.line_errors(lang),
    };
    (status_of(error.kind()), axum::Json(body)).into_response()
}

/// Middleware: renders pending errors in the caller's language.
pub async fn localize(request: Request, next: Next) -> Response {
    let lang = request_lang(&request);
    let response = next.run(request).await;
    match response.extensions().get::<PendingError>() {
        Some(PendingError(error)) => render(error, lang),
        None => response,
    }
}

pub fn request_lang<B>(request: &axum::http::Request<B>) -> Lang {
    let header = request
        .headers()
        .get(axum::http::header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok());
    Lang::from_accept_language(header)
}

/// Turns an axum body or query rejection into a bilingual error.
pub fn from_rejection(status: StatusCode, detail: String, limit: usize) -> ApiError {
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        return ApiError(DomainError::TooLarge { limit_bytes: limit });
    }
    ApiError(DomainError::bad_request(
        "invalid_request",
        format!("リクエストの形式が正しくありません: {detail}"),
        format!("The request is malformed: {detail}"),
    ))
}
