//! The HTTP client: configuration, authentication, error-body parsing, retries and
//! rate limiting. Typed endpoint methods are in `api`, batched writes in `batch`.

mod api;
mod batch;

use std::sync::{Arc, RwLock};
use std::time::Duration;

use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, COOKIE, HeaderValue, RETRY_AFTER};
use reqwest::{Method, Url};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use time::OffsetDateTime;

use crate::endpoints::{ErrorResponse, ServiceConfigResponse};
use crate::errors::{ApiError, VppError};
use crate::limits::RateLimiter;
use crate::retry::{self, Idempotency, RetryPolicy};
use crate::token::SToken;

pub const DEFAULT_BASE_URL: &str = "https://vpp.itunes.apple.com/mdm/v2/";

/// Everything a [`VppClient`] needs. One config per content token (location).
#[derive(Debug, Clone)]
pub struct VppConfig {
    /// v2 base URL; paths are joined onto it.
    pub base_url: Url,
    pub token: SToken,
    pub http: reqwest::Client,
    pub retry: RetryPolicy,
    /// Share one limiter between every client of the same token.
    pub rate_limiter: Arc<RateLimiter>,
    /// Replaces service config's `contentMetadataLookup` URL (tests, proxies).
    pub metadata_lookup_url: Option<Url>,
}

impl VppConfig {
    pub fn new(token: SToken, http: reqwest::Client) -> Self {
        Self {
            base_url: Url::parse(DEFAULT_BASE_URL).expect("default base URL is valid"),
            token,
            http,
            retry: RetryPolicy::default(),
            rate_limiter: Arc::new(RateLimiter::default()),
            metadata_lookup_url: None,
        }
    }

    pub fn with_base_url(mut self, base_url: &str) -> Result<Self, VppError> {
        self.base_url = parse_base(base_url)?;
        Ok(self)
    }

    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    pub fn with_rate_limiter(mut self, limiter: Arc<RateLimiter>) -> Self {
        self.rate_limiter = limiter;
        self
    }

    pub fn with_metadata_lookup_url(mut self, url: &str) -> Result<Self, VppError> {
        self.metadata_lookup_url =
            Some(Url::parse(url).map_err(|e| VppError::Config(format!("metadata lookup URL: {e}")))?);
        Ok(self)
    }
}

/// `Url::join` drops the last path segment unless the base ends with `/`.
fn parse_base(s: &str) -> Result<Url, VppError> {
    let mut url = Url::parse(s).map_err(|e| VppError::Config(format!("base URL `{s}`: {e}")))?;
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    Ok(url)
}

/// Client for one content token. Cheap to clone.
#[derive(Debug, Clone)]
pub struct VppClient {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    config: VppConfig,
    service_config: RwLock<Option<Arc<ServiceConfigResponse>>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Auth {
    None,
    Bearer,
    /// The metadata lookup takes the sToken as an `itvt` cookie instead.
    Cookie,
}

struct Call {
    endpoint: &'static str,
    method: Method,
    url: Url,
    body: Option<Vec<u8>>,
    auth: Auth,
    idempotency: Idempotency,
}

impl VppClient {
    pub fn new(config: VppConfig) -> Self {
        Self {
            inner: Arc::new(Inner {
                config,
                service_config: RwLock::new(None),
            }),
        }
    }

    pub fn config(&self) -> &VppConfig {
        &self.inner.config
    }

    fn url(&self, path: &str) -> Result<Url, VppError> {
        self.inner
            .config
            .base_url
            .join(path)
            .map_err(|e| VppError::Config(format!("joining `{path}`: {e}")))
    }

    async fn get<T: DeserializeOwned>(
        &self,
        endpoint: &'static str,
        mut url: Url,
        query: Vec<(String, String)>,
        auth: Auth,
    ) -> Result<T, VppError> {
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        self.execute(Call {
            endpoint,
            method: Method::GET,
            url,
            body: None,
            auth,
            idempotency: Idempotency::Idempotent,
        })
        .await
    }

    async fn post<B: serde::Serialize, T: DeserializeOwned>(
        &self,
        endpoint: &'static str,
        body: &B,
        idempotency: Idempotency,
    ) -> Result<T, VppError> {
        let body = serde_json::to_vec(body).map_err(|source| VppError::Decode { endpoint, source })?;
        self.execute(Call {
            endpoint,
            method: Method::POST,
            url: self.url(endpoint)?,
            body: Some(body),
            auth: Auth::Bearer,
            idempotency,
        })
        .await
    }

    async fn execute<T: DeserializeOwned>(&self, call: Call) -> Result<T, VppError> {
        let policy = &self.inner.config.retry;
        retry::run(policy, call.idempotency, call.endpoint, || self.attempt(&call)).await
    }

    async fn attempt<T: DeserializeOwned>(&self, call: &Call) -> Result<T, VppError> {
        let config = &self.inner.config;
        let mut req = config
            .http
            .request(call.method.clone(), call.url.clone())
            .header(ACCEPT, "application/json");
        match call.auth {
            Auth::None => {}
            Auth::Bearer => {
                // The limit is per location, i.e. per token; unauthenticated calls don't count.
                config.rate_limiter.acquire().await;
                req = req.header(AUTHORIZATION, secret_header("Bearer ", &config.token)?);
            }
            Auth::Cookie => req = req.header(COOKIE, secret_header("itvt=", &config.token)?),
        }
        if let Some(body) = &call.body {
            req = req.header(CONTENT_TYPE, "application/json").body(body.clone());
        }
        tracing::debug!(endpoint = call.endpoint, method = %call.method, "Apple VPP request");
        let resp = req.send().await.map_err(VppError::Transport)?;
        let status = resp.status().as_u16();
        let retry_after = resp
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| retry::parse_retry_after(v, OffsetDateTime::now_utc()));
        let body = resp.bytes().await.map_err(VppError::Transport)?;
        decode_response(call.endpoint, status, retry_after, &body)
    }

    pub(crate) fn set_service_config(&self, cfg: Arc<ServiceConfigResponse>) {
        let limits = crate::limits::BatchLimits::from(&cfg.limits);
        self.inner
            .config
            .rate_limiter
            .set_max_per_second(limits.max_requests_per_second);
        *self.inner.service_config.write().unwrap_or_else(|p| p.into_inner()) = Some(cfg);
    }

    /// The service config read by the last [`VppClient::refresh_service_config`].
    pub fn cached_service_config(&self) -> Option<Arc<ServiceConfigResponse>> {
        self.inner
            .service_config
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

/// Marked sensitive so HTTP-level debug logging never prints the token.
fn secret_header(prefix: &str, token: &SToken) -> Result<HeaderValue, VppError> {
    let mut v = HeaderValue::from_str(&format!("{prefix}{}", token.expose()))
        .map_err(|_| VppError::Config("the content token contains characters not allowed in a header".into()))?;
    v.set_sensitive(true);
    Ok(v)
}

/// Turns a response into `T` or a typed error. Apple has answered HTTP 200 with an error
/// body, so a top-level `errorNumber` wins over the status.
pub(crate) fn decode_response<T: DeserializeOwned>(
    endpoint: &'static str,
    status: u16,
    retry_after: Option<Duration>,
    body: &[u8],
) -> Result<T, VppError> {
    if let Some(response) = probe_error(body) {
        return Err(VppError::Api(Box::new(ApiError {
            http_status: status,
            code: response.code(),
            response,
            retry_after,
        })));
    }
    if !(200..300).contains(&status) {
        return Err(VppError::Http { status, retry_after });
    }
    serde_json::from_slice(body).map_err(|source| VppError::Decode { endpoint, source })
}

fn probe_error(body: &[u8]) -> Option<ErrorResponse> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Probe {
        error_number: Option<Value>,
        error_message: Option<String>,
        error_info: Option<Value>,
    }
    let probe: Probe = serde_json::from_slice(body).ok()?;
    let number = match probe.error_number? {
        Value::Number(n) => n.as_i64()?,
        Value::String(s) => s.trim().parse().ok()?,
        _ => return None,
    };
    Some(ErrorResponse {
        error_number: i32::try_from(number).ok()?,
        error_message: probe.error_message.unwrap_or_default(),
        error_info: probe.error_info.and_then(|v| serde_json::from_value(v).ok()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::endpoints::EventResponse;
    use crate::errors::ErrorCode;

    #[test]
    fn error_body_wins_over_http_200() {
        let body = br#"{"errorNumber":9625,"errorMessage":"The server has revoked the sToken."}"#;
        let err = decode_response::<EventResponse>("x", 200, None, body).unwrap_err();
        assert_eq!(err.code(), Some(ErrorCode::TokenRevoked));
        assert_eq!(err.http_status(), Some(200));
    }

    #[test]
    fn status_without_body_and_garbage() {
        let err = decode_response::<EventResponse>("x", 502, None, b"<html>").unwrap_err();
        assert!(matches!(err, VppError::Http { status: 502, .. }));
        let err = decode_response::<EventResponse>("x", 200, None, b"{}").unwrap_err();
        assert!(matches!(err, VppError::Decode { endpoint: "x", .. }));
        let ok = decode_response::<EventResponse>("x", 200, None, br#"{"eventId":"e"}"#).unwrap();
        assert_eq!(ok.event_id, "e");
    }

    #[test]
    fn nested_failures_are_not_top_level_errors() {
        let body = br#"{"eventStatus":"FAILED","failures":[{"errorNumber":9709,"errorMessage":"m"}]}"#;
        let s = decode_response::<crate::endpoints::StatusResponse>("status", 200, None, body).unwrap();
        assert_eq!(s.failures[0].code(), ErrorCode::NotEnoughLicenses);
    }

    #[test]
    fn base_url_gets_trailing_slash() {
        let u = parse_base("http://127.0.0.1:1234/mdm/v2").unwrap();
        assert_eq!(
            u.join("assets").unwrap().as_str(),
            "http://127.0.0.1:1234/mdm/v2/assets"
        );
    }

    #[test]
    fn debug_of_config_hides_token() {
        let cfg = VppConfig::new(SToken::new("sekrit-token"), reqwest::Client::new());
        assert!(!format!("{cfg:?}").contains("sekrit"));
    }
}
