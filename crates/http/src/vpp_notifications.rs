//! Where Apple's Apps and Books service posts notifications:
//! `POST /vpp/notifications/{mdm_id}`. Authenticated by the bearer secret
//! haishin set in client/config, not by an admin credential.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::routing::post;
use haishin_domain::vpp::notifications::NotificationError;

use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/vpp/notifications/{mdm_id}", post(receive))
}

async fn receive(
    State(state): State<AppState>,
    Path(mdm_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let authorization = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    match state
        .services
        .receive_vpp_notification(&mdm_id, authorization, &body)
        .await
    {
        Ok(()) => StatusCode::OK,
        Err(NotificationError::UnknownToken) => StatusCode::NOT_FOUND,
        Err(e @ NotificationError::Unauthorized(_)) => {
            tracing::warn!(%mdm_id, "VPP notification refused: {e}");
            StatusCode::UNAUTHORIZED
        }
        Err(e @ NotificationError::Malformed(_)) => {
            tracing::warn!(%mdm_id, "VPP notification refused: {e}");
            StatusCode::BAD_REQUEST
        }
        Err(NotificationError::Internal(e)) => {
            tracing::error!(%mdm_id, "VPP notification: {e}");
            // Apple retries a failed delivery; a 5xx asks it to.
            StatusCode::INTERNAL_SERVER_ERROR
        }
    }
}
