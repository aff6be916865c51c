//! The two endpoints devices talk to (MDM reference §4, §5): check-in and
//! command, both HTTP PUT with an XML plist body. They answer in Apple's
//! terms (bare status codes, plist or empty bodies), not the API's JSON.

use axum::Extension;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::put;
use haishin_domain::mdm::{ClientProof, DeviceRequestError};

use crate::AppState;

const MDM_SIGNATURE: &str = "mdm-signature";

/// The client certificate of the TLS session the request came on, when
/// haishin terminates TLS itself (set by the server's accept loop).
#[derive(Debug, Clone)]
pub struct TlsClientCertificate(pub Option<Vec<u8>>);

pub fn router(max_body_bytes: usize) -> Router<AppState> {
    Router::new()
        .route("/mdm/checkin", put(checkin))
        .route("/mdm/connect", put(connect))
        .layer(DefaultBodyLimit::max(max_body_bytes))
}

/// Which proof the request carries. A proxy-forwarded certificate is read
/// only from the header the operator configured: any other client could set
/// such a header itself.
fn proof(headers: &HeaderMap, tls: Option<&TlsClientCertificate>, client_cert_header: Option<&str>) -> ClientProof {
    if let Some(TlsClientCertificate(Some(der))) = tls {
        return ClientProof::Certificate(der.clone());
    }
    if let Some(name) = client_cert_header
        && let Some(value) = headers.get(name).and_then(|v| v.to_str().ok())
        && !value.trim().is_empty()
    {
        let decoded = percent_decode(value.trim());
        return ClientProof::Certificate(decoded.into_bytes());
    }
    match headers.get(MDM_SIGNATURE).and_then(|v| v.to_str().ok()) {
        Some(value) => ClientProof::MdmSignature(value.to_owned()),
        None => ClientProof::None,
    }
}

/// nginx's `$ssl_client_escaped_cert` URL-escapes the PEM; undo that. A
/// value without `%` (RFC 9440 `:base64:`, raw PEM) passes through.
fn percent_decode(value: &str) -> String {
    if !value.contains('%') {
        return value.to_owned();
    }
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Ok(b) = u8::from_str_radix(&value[i + 1..i + 3], 16)
        {
            out.push(b);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn refused(endpoint: &str, error: DeviceRequestError) -> Response {
    let status = StatusCode::from_u16(error.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if status.is_server_error() {
        tracing::error!(endpoint, "device request failed: {error}");
    } else {
        tracing::warn!(endpoint, status = status.as_u16(), "device request refused: {error}");
    }
    metrics::counter!("haishin_device_requests_refused_total", "endpoint" => endpoint.to_owned(),
        "status" => status.as_u16().to_string())
    .increment(1);
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        error.to_string(),
    )
        .into_response()
}

fn plist_reply(body: Vec<u8>) -> Response {
    if body.is_empty() {
        // "No more commands" must be a truly empty body.
        return StatusCode::OK.into_response();
    }
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/xml; charset=UTF-8")],
        body,
    )
        .into_response()
}

async fn checkin(
    State(state): State<AppState>,
    tls: Option<Extension<TlsClientCertificate>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let proof = proof(&headers, tls.as_deref(), state.options.client_cert_header.as_deref());
    reply(
        "checkin",
        state.services.handle_checkin(&proof, &body).await.map(|r| r.body),
    )
}

async fn connect(
    State(state): State<AppState>,
    tls: Option<Extension<TlsClientCertificate>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let proof = proof(&headers, tls.as_deref(), state.options.client_cert_header.as_deref());
    reply(
        "connect",
        state.services.handle_connect(&proof, &body).await.map(|r| r.body),
    )
}

fn reply(endpoint: &str, outcome: Result<Vec<u8>, DeviceRequestError>) -> Response {
    match outcome {
        Ok(body) => plist_reply(body),
        Err(e) => refused(endpoint, e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forwarded_certificates_are_unescaped() {
        assert_eq!(percent_decode("-----BEGIN%20CERT%0A"), "-----BEGIN CERT\n");
        assert_eq!(percent_decode(":AAEC:"), ":AAEC:");
        assert_eq!(percent_decode("100%"), "100%");
    }

    #[test]
    fn the_configured_header_wins_and_others_are_ignored() {
        let mut headers = HeaderMap::new();
        headers.insert("x-client-cert", "PEM".parse().unwrap());
        headers.insert(MDM_SIGNATURE, "SIG".parse().unwrap());
        assert!(matches!(proof(&headers, None, Some("x-client-cert")), ClientProof::Certificate(c) if c == b"PEM"));
        assert!(matches!(proof(&headers, None, None), ClientProof::MdmSignature(s) if s == "SIG"));
        assert!(matches!(proof(&HeaderMap::new(), None, None), ClientProof::None));
        let session = TlsClientCertificate(Some(b"DER".to_vec()));
        assert!(matches!(proof(&headers, Some(&session), None), ClientProof::Certificate(c) if c == b"DER"));
    }
}
