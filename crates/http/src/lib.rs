//! haishin's HTTP surface: the REST API under `/api/v1` (JSON, OpenAPI 3 at
//! `/api/openapi.json`), `/healthz` and `/metrics`. Handlers are thin: they
//! extract, call [`Services`], and serialise. The MDM
//! device endpoints are `/mdm/checkin` and `/mdm/connect`.

mod auth;
mod device_endpoints;
mod error;
mod extract;
mod metrics_layer;
mod openapi;
mod portal;
mod routes;
mod vpp_notifications;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use haishin_domain::service::Services;
use tower_http::trace::TraceLayer;

pub use device_endpoints::TlsClientCertificate;
pub use error::ApiError;

/// Limits and switches of the HTTP layer (from the server's configuration).
#[derive(Debug, Clone)]
pub struct HttpOptions {
    /// Largest JSON body accepted.
    pub max_json_bytes: usize,
    /// Largest CSV upload accepted.
    pub max_csv_bytes: usize,
    /// Mark the session cookie `Secure` (when served over HTTPS).
    pub secure_cookies: bool,
    /// Largest device message accepted (app lists of big devices run to
    /// hundreds of KB).
    pub max_device_body_bytes: usize,
    /// The header a TLS-terminating proxy puts the device's client
    /// certificate in; `None` trusts no such header.
    pub client_cert_header: Option<String>,
}

impl Default for HttpOptions {
    fn default() -> Self {
        Self {
            max_json_bytes: 1024 * 1024,
            max_csv_bytes: 64 * 1024 * 1024,
            secure_cookies: false,
            max_device_body_bytes: 8 * 1024 * 1024,
            client_cert_header: None,
        }
    }
}

/// Renders Prometheus text; the binary owns the recorder.
pub type MetricsRender = Arc<dyn Fn() -> String + Send + Sync>;

#[derive(Clone)]
pub struct AppState {
    pub services: Services,
    pub options: Arc<HttpOptions>,
    pub metrics: MetricsRender,
}

/// The whole HTTP application.
pub fn router(state: AppState) -> Router {
    let (api, openapi) = routes::api().split_for_parts();
    Router::new()
        .merge(api)
        .merge(routes::system::router(Arc::new(openapi)))
        .merge(vpp_notifications::router())
        .merge(portal::router())
        .layer(DefaultBodyLimit::max(state.options.max_json_bytes))
        .merge(device_endpoints::router(state.options.max_device_body_bytes))
        .layer(axum::middleware::from_fn(error::localize))
        .layer(axum::middleware::from_fn(metrics_layer::record))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}
