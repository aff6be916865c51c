//! Where to push, how to authenticate, and how hard to try.

use std::time::Duration;

use crate::auth::Auth;
use crate::retry::RetryPolicy;

/// APNs production. MDM push certificates from Apple's Push Certificates Portal are
/// production certificates.
pub const PRODUCTION_URL: &str = "https://api.push.apple.com";

/// APNs development environment (older documents call it `api.development.push.apple.com`).
pub const SANDBOX_URL: &str = "https://api.sandbox.push.apple.com";

/// Settings of an [`ApnsClient`](crate::ApnsClient).
#[derive(Debug, Clone)]
pub struct ApnsConfig {
    /// [`PRODUCTION_URL`], [`SANDBOX_URL`], or any URL of a simulator: `http://` URLs are
    /// spoken as HTTP/2 without TLS (prior knowledge).
    pub base_url: String,
    pub auth: Auth,
    /// The `apns-topic` header. `None` with certificate authentication means the topic read
    /// from the certificate's UID; token authentication needs it set.
    pub topic: Option<String>,
    /// Limit for one request, from sending it to the end of the response.
    pub request_timeout: Duration,
    pub connect_timeout: Duration,
    /// Pushes in flight at once (HTTP/2 streams on the one connection). APNs advertises its
    /// own stream limit; requests above it wait in the HTTP/2 layer.
    pub max_concurrent_pushes: usize,
    pub retry: RetryPolicy,
    /// PEM certificates to trust instead of the system roots: for a TLS simulator with its
    /// own CA. Leave empty for Apple.
    pub root_certificates_pem: Vec<String>,
}

impl ApnsConfig {
    pub fn new(base_url: impl Into<String>, auth: impl Into<Auth>) -> Self {
        ApnsConfig {
            base_url: base_url.into(),
            auth: auth.into(),
            topic: None,
            request_timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            max_concurrent_pushes: 500,
            retry: RetryPolicy::default(),
            root_certificates_pem: Vec::new(),
        }
    }

    pub fn production(auth: impl Into<Auth>) -> Self {
        ApnsConfig::new(PRODUCTION_URL, auth)
    }

    pub fn sandbox(auth: impl Into<Auth>) -> Self {
        ApnsConfig::new(SANDBOX_URL, auth)
    }

    pub fn with_topic(mut self, topic: impl Into<String>) -> Self {
        self.topic = Some(topic.into());
        self
    }

    pub fn with_request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    pub fn with_max_concurrent_pushes(mut self, n: usize) -> Self {
        self.max_concurrent_pushes = n;
        self
    }

    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    pub fn with_root_certificate_pem(mut self, pem: impl Into<String>) -> Self {
        self.root_certificates_pem.push(pem.into());
        self
    }
}
