//! Configuration errors: everything that can be wrong before the first push is sent.
//!
//! Messages name the file or field to fix and never quote key material.

/// Why an [`ApnsClient`](crate::ApnsClient) could not be built, or a certificate not read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    #[error("the APNs base URL `{0}` is not an absolute http or https URL")]
    BadBaseUrl(String),

    #[error("the push certificate is not a PEM-encoded X.509 certificate: {0}")]
    BadCertificate(String),

    #[error("the push certificate's private key is not a PEM-encoded private key: {0}")]
    BadPrivateKey(String),

    #[error(
        "the push certificate's subject has no UID attribute (0.9.2342.19200300.100.1.1); \
         an MDM push certificate from Apple's Push Certificates Portal always has one"
    )]
    NoPushTopic,

    #[error("the push certificate's topic `{0}` is not an MDM topic (it must start with `com.apple.mgmt.`)")]
    NotMdmTopic(String),

    #[error("the .p8 signing key is not a PEM-encoded PKCS#8 P-256 (ES256) private key: {0}")]
    BadSigningKey(String),

    #[error("the {field} `{value}` is not valid: Apple issues it as a short alphanumeric string (10 characters)")]
    BadIdentifier { field: &'static str, value: String },

    #[error("token authentication needs an explicit topic (the MDM push topic, `com.apple.mgmt.External.<uuid>`)")]
    MissingTopic,

    #[error("the topic `{0}` cannot be sent as an HTTP header value")]
    BadTopic(String),

    #[error("max_concurrent_pushes must be at least 1")]
    NoConcurrency,

    #[error("retry policy: max_attempts must be at least 1")]
    NoAttempts,

    #[error("an extra root certificate is not a PEM-encoded certificate: {0}")]
    BadRootCertificate(String),

    #[error("the HTTP client could not be built (TLS identity or settings): {0}")]
    Http(String),
}
