//! When and how long to retry.
//!
//! Apple asks for exponential back-off on 9646/HTTP 429 and for `Retry-After` to be
//! honoured on 5xx. The classification lives here, in our code, rather than in a generic
//! middleware, because whether a retry is safe depends on Apple's error numbers and on
//! whether the call is idempotent: a write that may have been applied must not be sent
//! twice (creating users twice yields 9716 failures, associating twice may double work).

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use time::OffsetDateTime;

use crate::errors::{ErrorCode, VppError};

/// Retry policy for one call. Tests use tiny delays; production the defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    /// Total attempts including the first; 1 disables retries.
    pub max_attempts: u32,
    pub initial_delay: Duration,
    pub max_delay: Duration,
    pub factor: f32,
    pub jitter: bool,
    /// A longer `Retry-After` is not slept in-process: the error is returned with
    /// [`VppError::retry_after`] so a job queue can reschedule.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 4,
            initial_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(30),
            factor: 2.0,
            jitter: true,
            max_retry_after: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    pub fn no_retries() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// Millisecond delays for tests, `Retry-After` of a few seconds still honoured.
    pub fn fast(max_attempts: u32) -> Self {
        Self {
            max_attempts,
            initial_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(10),
            factor: 2.0,
            jitter: false,
            max_retry_after: Duration::from_secs(5),
        }
    }

    fn backoff(&self) -> ExponentialBuilder {
        let b = ExponentialBuilder::new()
            .with_min_delay(self.initial_delay)
            .with_max_delay(self.max_delay)
            .with_factor(self.factor)
            .with_max_times(self.max_attempts.saturating_sub(1) as usize);
        if self.jitter { b.with_jitter() } else { b }
    }
}

/// Whether sending the same request twice is harmless.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Idempotency {
    /// Reads, and client/config (it sets state to the same value).
    Idempotent,
    /// Writes that create an event (associate, users/create, …).
    NonIdempotent,
}

/// Decides whether `err` may be retried. For non-idempotent calls only errors that prove
/// Apple did not accept the request qualify.
pub fn is_retryable(err: &VppError, idempotency: Idempotency, policy: &RetryPolicy) -> bool {
    if err.retry_after().is_some_and(|d| d > policy.max_retry_after) {
        return false;
    }
    let idempotent = idempotency == Idempotency::Idempotent;
    match err {
        // An Apple error body means the request was rejected synchronously: no event was
        // created, so even a write can be resent.
        VppError::Api(e) => {
            e.code.is_transient() || e.http_status == 429 || (e.http_status >= 500 && !is_final(e.code))
        }
        // 429 and 503 are refusals before processing. Other 5xx without Apple's body come
        // from proxies or timeouts: the write may have gone through.
        VppError::Http { status, .. } => *status == 429 || *status == 503 || (idempotent && *status >= 500),
        // A connect error means nothing was sent. Anything later (timeout, reset) is
        // ambiguous for a write.
        VppError::Transport(e) => e.is_connect() || (idempotent && (e.is_timeout() || e.is_request())),
        _ => false,
    }
}

/// 5xx-status answers whose number says "do not repeat" (Apple's statuses are not strict).
fn is_final(code: ErrorCode) -> bool {
    matches!(code, ErrorCode::ServiceRemoved) || code.is_token_problem()
}

/// Runs `op` under `policy`, honouring `Retry-After` and wrapping the final failure in
/// [`VppError::RetriesExhausted`] when the attempts ran out.
pub(crate) async fn run<T, F, Fut>(
    policy: &RetryPolicy,
    idempotency: Idempotency,
    endpoint: &'static str,
    mut op: F,
) -> Result<T, VppError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, VppError>>,
{
    let attempts = AtomicU32::new(0);
    let exhausted = AtomicBool::new(false);
    let result = (|| {
        attempts.fetch_add(1, Ordering::Relaxed);
        op()
    })
    .retry(policy.backoff())
    .sleep(tokio::time::sleep)
    .when(|e| is_retryable(e, idempotency, policy))
    .adjust(|e, backoff| match backoff {
        None => {
            exhausted.store(true, Ordering::Relaxed);
            None
        }
        Some(d) => Some(e.retry_after().unwrap_or(d)),
    })
    .notify(|e, delay| {
        tracing::warn!(
            endpoint,
            code = e.code().map(|c| c.number()),
            status = e.http_status(),
            ?delay,
            "Apple VPP call failed; retrying: {e}"
        );
    })
    .await;
    let attempts = attempts.into_inner();
    match result {
        Err(last) if exhausted.into_inner() && attempts > 1 => Err(VppError::RetriesExhausted {
            attempts,
            last: Box::new(last),
        }),
        other => other,
    }
}

/// Parses `Retry-After`: delta-seconds or an HTTP date (IMF-fixdate).
pub fn parse_retry_after(value: &str, now: OffsetDateTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = OffsetDateTime::parse(value, &time::format_description::well_known::Rfc2822).ok()?;
    let delta = at - now;
    Some(if delta.is_negative() {
        Duration::ZERO
    } else {
        delta.unsigned_abs()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::endpoints::ErrorResponse;
    use crate::errors::ApiError;

    fn api(status: u16, number: i32, retry_after: Option<u64>) -> VppError {
        VppError::Api(Box::new(ApiError {
            http_status: status,
            code: ErrorCode::from_number(number),
            response: ErrorResponse {
                error_number: number,
                error_message: String::new(),
                error_info: None,
            },
            retry_after: retry_after.map(Duration::from_secs),
        }))
    }

    #[test]
    fn classification() {
        let p = RetryPolicy::default();
        use Idempotency::*;
        assert!(is_retryable(&api(429, 9646, None), NonIdempotent, &p));
        assert!(is_retryable(&api(200, 9646, None), NonIdempotent, &p));
        assert!(is_retryable(&api(503, 9729, Some(2)), NonIdempotent, &p));
        assert!(!is_retryable(&api(503, 9729, Some(600)), Idempotent, &p));
        assert!(!is_retryable(&api(400, 9709, None), Idempotent, &p));
        assert!(!is_retryable(&api(401, 9625, None), Idempotent, &p));
        let gateway = VppError::Http {
            status: 502,
            retry_after: None,
        };
        assert!(is_retryable(&gateway, Idempotent, &p));
        assert!(!is_retryable(&gateway, NonIdempotent, &p));
        let unavailable = VppError::Http {
            status: 503,
            retry_after: None,
        };
        assert!(is_retryable(&unavailable, NonIdempotent, &p));
    }

    #[test]
    fn retry_after_forms() {
        let now = OffsetDateTime::parse(
            "Wed, 21 Oct 2015 07:28:00 GMT",
            &time::format_description::well_known::Rfc2822,
        )
        .unwrap();
        assert_eq!(parse_retry_after("120", now), Some(Duration::from_secs(120)));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:27:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
    }

    #[tokio::test]
    async fn exhaustion_is_reported_with_attempt_count() {
        let calls = AtomicU32::new(0);
        let r: Result<(), _> = run(&RetryPolicy::fast(3), Idempotency::Idempotent, "test", || {
            calls.fetch_add(1, Ordering::Relaxed);
            async {
                Err(VppError::Http {
                    status: 500,
                    retry_after: None,
                })
            }
        })
        .await;
        assert_eq!(calls.load(Ordering::Relaxed), 3);
        match r {
            Err(VppError::RetriesExhausted { attempts: 3, last }) => {
                assert_eq!(last.http_status(), Some(500))
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[tokio::test]
    async fn non_retryable_returns_at_once() {
        let calls = AtomicU32::new(0);
        let r: Result<(), _> = run(&RetryPolicy::fast(3), Idempotency::NonIdempotent, "test", || {
            calls.fetch_add(1, Ordering::Relaxed);
            async {
                Err(VppError::Http {
                    status: 504,
                    retry_after: None,
                })
            }
        })
        .await;
        assert_eq!(calls.load(Ordering::Relaxed), 1);
        assert!(matches!(r, Err(VppError::Http { status: 504, .. })));
    }
}
