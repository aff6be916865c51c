//! MDM set-up of the caller's account: the APNs push certificate.

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use haishin_domain::ids::GroupId;
use haishin_domain::mdm::PushCertificate;
use haishin_domain::mdm::push_certificate::days_left;
use haishin_domain::time_util::Timestamp;
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, ApiQuery};

#[derive(Deserialize, utoipa::ToSchema)]
pub struct PushCertificateUpload {
    /// The certificate from Apple's Push Certificates Portal, PEM.
    #[serde(default)]
    pub certificate_pem: String,
    /// The key the certificate signing request was made with, PKCS#8 PEM.
    /// Stored sealed with the master key; never shown again.
    #[serde(default)]
    pub private_key_pem: String,
    /// Instead of the two PEMs: certificate and key exported together from
    /// Keychain Access as .p12, base64-encoded.
    pub p12_base64: Option<String>,
    /// The .p12's password.
    #[serde(default)]
    pub p12_password: String,
    /// Confirms replacing a certificate that has another topic (every device
    /// must then enroll again). Renewals keep the topic and need no confirmation.
    #[serde(default)]
    pub replace: bool,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct PushCertificateView {
    #[serde(flatten)]
    pub certificate: PushCertificate,
    /// Days until expiry (negative once expired), for the console's banner.
    pub days_left: i64,
}

fn view(certificate: PushCertificate) -> PushCertificateView {
    PushCertificateView {
        days_left: days_left(&certificate, Timestamp::now()),
        certificate,
    }
}

#[utoipa::path(get, path = "/mdm/push-certificate", tag = "mdm",
    responses((status = 200, body = PushCertificateView), (status = 404, body = ErrorBody)))]
pub async fn get(State(state): State<AppState>, caller: Caller) -> Result<Json<PushCertificateView>, ApiError> {
    Ok(Json(view(state.services.push_certificate(&caller.actor).await?)))
}

/// Upload or renew the account's push certificate (account admins).
#[utoipa::path(put, path = "/mdm/push-certificate", tag = "mdm", request_body = PushCertificateUpload,
    responses((status = 200, body = PushCertificateView), (status = 400, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn put(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<PushCertificateUpload>,
) -> Result<Json<PushCertificateView>, ApiError> {
    let services = &state.services;
    let certificate = match &body.p12_base64 {
        Some(p12) => {
            use base64::Engine as _;
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(p12.trim())
                .map_err(|_| {
                    haishin_domain::DomainError::invalid(
                        "p12_base64",
                        "p12_base64 が base64 として読めません。",
                        "p12_base64 is not base64.",
                    )
                })?;
            services
                .upload_push_certificate_p12(&caller.actor, &bytes, &body.p12_password, body.replace)
                .await?
        }
        None => {
            services
                .upload_push_certificate(
                    &caller.actor,
                    &body.certificate_pem,
                    &body.private_key_pem,
                    body.replace,
                )
                .await?
        }
    };
    Ok(Json(view(certificate)))
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct ProfileParams {
    /// Devices enrolling with this profile join this group (the top group by default).
    pub group_id: Option<i64>,
}

/// Download an enrollment profile (.mobileconfig) with a fresh device identity.
#[utoipa::path(get, path = "/mdm/enrollment-profile", tag = "mdm", params(ProfileParams),
    responses((status = 200, content_type = "application/x-apple-aspen-config", body = Vec<u8>),
              (status = 409, body = ErrorBody)))]
pub async fn enrollment_profile(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(params): ApiQuery<ProfileParams>,
) -> Result<Response, ApiError> {
    let file = state
        .services
        .enrollment_profile(&caller.actor, params.group_id.map(GroupId))
        .await?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/x-apple-aspen-config".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"haishin-enroll.mobileconfig\"".to_owned(),
            ),
            (header::HeaderName::from_static("x-enrollment-id"), file.enrollment_id),
        ],
        file.bytes,
    )
        .into_response())
}
