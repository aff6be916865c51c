//! Typed client for Apple's "Apps and Books for Organizations" API v2 (formerly VPP).
//!
//! The crate knows nothing about the server that uses it: it turns content tokens,
//! requests and responses into Rust values, talks HTTP with retries and rate limiting,
//! and explains Apple's error numbers. The request/response types are public and
//! serialise both ways so a simulator of Apple's service can reuse them.

pub mod client;
pub mod datetime;
pub mod endpoints;
pub mod errors;
pub mod limits;
pub mod notifications;
pub mod pagination;
pub mod retry;
pub mod token;

pub use client::{DEFAULT_BASE_URL, VppClient, VppConfig};
pub use endpoints::*;
pub use errors::{ApiError, ErrorCode, ErrorScope, Lang, VppError};
pub use limits::{BatchLimits, RateLimiter};
pub use notifications::{
    Notification, NotificationAuthError, NotificationBody, parse_notification, verify_notification_auth,
};
pub use pagination::{Collected, PagedQuery, Pager, Paginated};
pub use retry::{Idempotency, RetryPolicy};
pub use token::{ContentToken, SToken, TokenError};

/// Re-exported so callers can build a [`VppConfig`] without naming reqwest themselves.
pub use reqwest::Url;
