//! APNs client for MDM wake-up pushes.
//!
//! An MDM server never connects to its devices: it asks APNs to tell a device to check in,
//! with `POST /3/device/<token>` and the body `{"mdm": "<PushMagic>"}`. This crate sends
//! those pushes over one HTTP/2 connection, authenticated with the MDM push certificate (or
//! a .p8 provider token), and turns APNs' answers into [`PushOutcome`]s a server can act on:
//! delivered, token gone (410), permanently rejected with Apple's reason, or failed after
//! retries. It knows nothing about the server that uses it beyond device tokens and
//! PushMagic strings.
//!
//! ```no_run
//! # async fn wake(cert_pem: String, key_pem: String, token: Vec<u8>, magic: String) -> Result<(), apple_apns::ConfigError> {
//! use apple_apns::{ApnsClient, ApnsConfig, CertificateAuth, MdmPush};
//! let client = ApnsClient::new(ApnsConfig::production(CertificateAuth::new(cert_pem, key_pem)))?;
//! let outcomes = client.push_many([MdmPush::new(token, magic)]).await;
//! # let _ = outcomes; Ok(()) }
//! ```

pub mod auth;
pub mod client;
pub mod config;
pub mod error;
pub mod outcome;
pub mod push;
pub mod retry;

pub use auth::{
    Auth, CertificateAuth, MDM_TOPIC_PREFIX, PushCertificateInfo, TOKEN_MIN_REFRESH_INTERVAL, TOKEN_REFRESH_AFTER,
    TokenAuth, push_certificate_info, push_topic,
};
pub use client::ApnsClient;
pub use config::{ApnsConfig, PRODUCTION_URL, SANDBOX_URL};
pub use error::ConfigError;
pub use outcome::{FailureCause, PushOutcome, Reason, ReasonKind};
pub use push::{DeviceToken, Expiration, MdmPush};
pub use retry::RetryPolicy;
