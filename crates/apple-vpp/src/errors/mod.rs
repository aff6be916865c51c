//! Errors returned by the client, and the table of Apple's error numbers ([`codes`]).

pub mod codes;

use std::time::Duration;

pub use codes::{ErrorCode, ErrorScope, Lang};

use crate::endpoints::{ErrorResponse, EventResponse};
use crate::token::TokenError;

/// An error body Apple sent (whatever the HTTP status, including 200).
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub http_status: u16,
    pub code: ErrorCode,
    pub response: ErrorResponse,
    /// From a `Retry-After` header, when Apple sent one.
    pub retry_after: Option<Duration>,
}

#[derive(Debug, thiserror::Error)]
pub enum VppError {
    #[error("Apple error {} (HTTP {}): {}", .0.code, .0.http_status, .0.response.error_message)]
    Api(Box<ApiError>),

    /// A non-success status without an Apple error body (proxies, load balancers, outages).
    #[error("unexpected HTTP status {status} without an Apple error body")]
    Http { status: u16, retry_after: Option<Duration> },

    #[error("HTTP transport error: {0}")]
    Transport(#[source] reqwest::Error),

    #[error("could not decode the {endpoint} response: {source}")]
    Decode {
        endpoint: &'static str,
        #[source]
        source: serde_json::Error,
    },

    /// The data set changed between pages; start the walk again from page 0.
    #[error("versionId changed from {first} to {current} at page {page_index}; restart the listing")]
    VersionChanged {
        first: String,
        current: String,
        page_index: u32,
    },

    /// Apple's paging fields contradict each other; restarting the walk is the only fix.
    #[error("unexpected page sequence: asked for page {requested}, got {detail}")]
    PageSequence { requested: u32, detail: String },

    #[error("gave up after {attempts} attempts: {last}")]
    RetriesExhausted { attempts: u32, last: Box<VppError> },

    /// Batches before `failed_batch` were applied (their events are in `completed`).
    #[error("batch {} of {total_batches} failed after {} applied: {source}", .failed_batch + 1, .completed.len())]
    PartialBatch {
        completed: Vec<EventResponse>,
        failed_batch: usize,
        total_batches: usize,
        #[source]
        source: Box<VppError>,
    },

    #[error("invalid configuration: {0}")]
    Config(String),

    #[error(transparent)]
    Token(#[from] TokenError),
}

impl VppError {
    /// The Apple error, looking through retry and batch wrappers.
    pub fn api_error(&self) -> Option<&ApiError> {
        match self {
            Self::Api(e) => Some(e),
            Self::RetriesExhausted { last, .. } => last.api_error(),
            Self::PartialBatch { source, .. } => source.api_error(),
            _ => None,
        }
    }

    pub fn code(&self) -> Option<ErrorCode> {
        self.api_error().map(|e| e.code)
    }

    /// HTTP status of the failing response, if a response arrived.
    pub fn http_status(&self) -> Option<u16> {
        match self {
            Self::Api(e) => Some(e.http_status),
            Self::Http { status, .. } => Some(*status),
            Self::RetriesExhausted { last, .. } => last.http_status(),
            Self::PartialBatch { source, .. } => source.http_status(),
            _ => None,
        }
    }

    /// How long Apple asked us to wait, so a job queue can reschedule instead of sleeping.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Api(e) => e.retry_after,
            Self::Http { retry_after, .. } => *retry_after,
            Self::RetriesExhausted { last, .. } => last.retry_after(),
            Self::PartialBatch { source, .. } => source.retry_after(),
            _ => None,
        }
    }

    /// The walk must restart from page 0 (data changed, or Apple rejected the page index).
    pub fn is_restart_listing(&self) -> bool {
        matches!(self, Self::VersionChanged { .. } | Self::PageSequence { .. })
            || self.code() == Some(ErrorCode::InvalidPageIndex)
    }

    /// A short explanation for an administrator.
    pub fn explain(&self, lang: Lang) -> &'static str {
        let (en, ja) = match self {
            Self::Api(e) => return e.code.explain(lang),
            Self::RetriesExhausted { last, .. } => return last.explain(lang),
            Self::PartialBatch { source, .. } => return source.explain(lang),
            Self::Token(_) => (
                "The content token file is not valid; download it again from Apple School Manager or Apple Business Manager.",
                "コンテンツトークンのファイルが不正です。Apple School Manager / Apple Business Manager から再度ダウンロードしてください。",
            ),
            Self::Http { status, .. } if *status >= 500 => (
                "Apple's service is unavailable right now; the request is retried later.",
                "Apple のサービスに現在接続できません。後で再試行します。",
            ),
            Self::Http { .. } => (
                "Apple's service answered with an unexpected HTTP status.",
                "Apple のサービスから想定外の HTTP ステータスが返されました。",
            ),
            Self::Transport(_) => (
                "Could not reach Apple's service (network or TLS problem).",
                "Apple のサービスに接続できませんでした（ネットワークまたは TLS の問題）。",
            ),
            Self::Decode { .. } => (
                "Apple's service sent a response this server could not read.",
                "Apple のサービスから解釈できない応答が返されました。",
            ),
            Self::VersionChanged { .. } | Self::PageSequence { .. } => (
                "The data changed at Apple while it was being listed; the sync restarts.",
                "取得中に Apple 側のデータが変わりました。同期をやり直します。",
            ),
            Self::Config(_) => (
                "The Apple service settings of this server are invalid.",
                "このサーバーの Apple サービス設定が不正です。",
            ),
        };
        match lang {
            Lang::En => en,
            Lang::Ja => ja,
        }
    }
}
