//! The client: one HTTP/2 connection per client, many pushes multiplexed on it.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderValue};
use reqwest::{StatusCode, Url};
use tokio::sync::{Mutex, Semaphore};
use tokio::task::JoinSet;

use crate::auth::Auth;
use crate::auth::cert::error_chain;
use crate::auth::jwt::{Bearer, TokenCache};
use crate::config::ApnsConfig;
use crate::error::ConfigError;
use crate::outcome::{ErrorBody, FailureCause, PushOutcome, Reason};
use crate::push::MdmPush;
use crate::retry::RetryPolicy;

/// Apple asks providers to keep connections open; a ping on idle connections notices a dead
/// one before the next wake-up burst instead of during it.
const KEEP_ALIVE_INTERVAL: Duration = Duration::from_secs(60);
const KEEP_ALIVE_TIMEOUT: Duration = Duration::from_secs(20);

/// Sends MDM wake-up pushes. Cheap to clone; clones share the connection, the token and the
/// concurrency limit.
#[derive(Clone)]
pub struct ApnsClient {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for ApnsClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApnsClient")
            .field("base_url", &self.inner.base.as_str())
            .field("topic", &self.inner.topic_text)
            .field("token_auth", &self.inner.token.is_some())
            .finish_non_exhaustive()
    }
}

struct Inner {
    http: reqwest::Client,
    base: Url,
    topic: HeaderValue,
    topic_text: String,
    token: Option<TokenCache>,
    limiter: Arc<Semaphore>,
    retry: RetryPolicy,
    /// Whether the connection has answered since it was (re)opened; see [`Inner::attempt`].
    warm: AtomicBool,
    warm_up: Mutex<()>,
}

impl ApnsClient {
    /// Checks the configuration and builds the HTTP client. No connection is opened until the
    /// first push.
    pub fn new(config: ApnsConfig) -> Result<Self, ConfigError> {
        if config.max_concurrent_pushes == 0 {
            return Err(ConfigError::NoConcurrency);
        }
        if config.retry.max_attempts == 0 {
            return Err(ConfigError::NoAttempts);
        }
        let base = base_url(&config.base_url)?;
        let topic_text = match (&config.topic, &config.auth) {
            (Some(topic), _) => topic.clone(),
            (None, Auth::Certificate(cert)) => cert.topic()?,
            (None, Auth::Token(_)) => return Err(ConfigError::MissingTopic),
        };
        let topic = HeaderValue::from_str(&topic_text).map_err(|_| ConfigError::BadTopic(topic_text.clone()))?;

        let mut builder = reqwest::Client::builder()
            .http2_prior_knowledge()
            .timeout(config.request_timeout)
            .connect_timeout(config.connect_timeout)
            .http2_keep_alive_interval(KEEP_ALIVE_INTERVAL)
            .http2_keep_alive_timeout(KEEP_ALIVE_TIMEOUT)
            .http2_keep_alive_while_idle(true)
            .pool_idle_timeout(None);
        if base.scheme() == "http" {
            // A forward proxy from the environment cannot carry h2c prior-knowledge streams.
            builder = builder.no_proxy();
        }
        if !config.root_certificates_pem.is_empty() {
            let mut roots = Vec::new();
            for pem in &config.root_certificates_pem {
                let certs = reqwest::Certificate::from_pem_bundle(pem.as_bytes())
                    .map_err(|e| ConfigError::BadRootCertificate(error_chain(&e)))?;
                if certs.is_empty() {
                    return Err(ConfigError::BadRootCertificate("no CERTIFICATE PEM block found".into()));
                }
                roots.extend(certs);
            }
            builder = builder.tls_certs_only(roots);
        }
        let token = match &config.auth {
            Auth::Certificate(cert) => {
                builder = builder.identity(cert.identity()?);
                None
            }
            Auth::Token(auth) => Some(TokenCache::new(auth.clone())),
        };
        let http = builder.build().map_err(|e| ConfigError::Http(error_chain(&e)))?;
        Ok(ApnsClient {
            inner: Arc::new(Inner {
                http,
                base,
                topic,
                topic_text,
                token,
                limiter: Arc::new(Semaphore::new(config.max_concurrent_pushes)),
                retry: config.retry,
                warm: AtomicBool::new(false),
                warm_up: Mutex::new(()),
            }),
        })
    }

    /// The `apns-topic` sent with every push.
    pub fn topic(&self) -> &str {
        &self.inner.topic_text
    }

    pub fn base_url(&self) -> &str {
        self.inner.base.as_str()
    }

    /// Sends one push, with retries, within the client's concurrency limit.
    pub async fn push(&self, push: &MdmPush) -> PushOutcome {
        let _permit = self
            .inner
            .limiter
            .acquire()
            .await
            .expect("the push limiter is never closed");
        self.inner.send(push).await
    }

    /// Sends many pushes concurrently over the client's connection and returns one outcome
    /// per push, in the order given.
    pub async fn push_many<I>(&self, pushes: I) -> Vec<PushOutcome>
    where
        I: IntoIterator<Item = MdmPush>,
    {
        let mut results: Vec<Option<PushOutcome>> = Vec::new();
        let mut tasks = JoinSet::new();
        for (index, push) in pushes.into_iter().enumerate() {
            results.push(None);
            // Taking the permit before spawning keeps at most `max_concurrent_pushes` tasks
            // alive, however long the input.
            let permit = Arc::clone(&self.inner.limiter)
                .acquire_owned()
                .await
                .expect("the push limiter is never closed");
            let inner = Arc::clone(&self.inner);
            tasks.spawn(async move {
                let outcome = inner.send(&push).await;
                drop(permit);
                (index, outcome)
            });
            while let Some(done) = tasks.try_join_next() {
                store(&mut results, done);
            }
        }
        while let Some(done) = tasks.join_next().await {
            store(&mut results, done);
        }
        results
            .into_iter()
            .map(|r| r.expect("every spawned push reports an outcome"))
            .collect()
    }
}

fn store(results: &mut [Option<PushOutcome>], done: Result<(usize, PushOutcome), tokio::task::JoinError>) {
    match done {
        Ok((index, outcome)) => results[index] = Some(outcome),
        // A panic in a push is a bug in this crate: surface it where the caller can see it.
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(e) => panic!("push task cancelled: {e}"),
    }
}

fn base_url(raw: &str) -> Result<Url, ConfigError> {
    let mut url = Url::parse(raw.trim()).map_err(|_| ConfigError::BadBaseUrl(raw.to_owned()))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(ConfigError::BadBaseUrl(raw.to_owned()));
    }
    // Url::join replaces the last path segment unless the base ends with '/', which would
    // drop a simulator's path prefix.
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    url.set_query(None);
    url.set_fragment(None);
    Ok(url)
}

/// How one response is handled.
enum Verdict {
    Done(PushOutcome),
    /// 403 ExpiredProviderToken: worth one retry with a new token.
    ExpiredToken(PushOutcome),
    Transient(FailureCause),
}

impl Inner {
    async fn send(&self, push: &MdmPush) -> PushOutcome {
        let mut bearer = match self.bearer() {
            Ok(b) => b,
            Err(cause) => return PushOutcome::Failed { attempts: 0, cause },
        };
        // `tries` is what the retry policy limits; the one retry after a token refresh is
        // not a transient failure and does not use it up. `sent` is reported.
        let mut tries = 0u32;
        let mut sent = 0u32;
        let mut refreshed = false;
        loop {
            tries += 1;
            sent += 1;
            let cause = match self.attempt(push, bearer.as_ref()).await {
                Ok(Verdict::Done(outcome)) => return self.finish(push, outcome),
                Ok(Verdict::ExpiredToken(outcome)) => match (refreshed, &self.token, &bearer) {
                    (false, Some(cache), Some(used)) => match cache.replace(used) {
                        Some(fresh) => {
                            tracing::debug!(token = %push.device_token, "APNs provider token expired; retrying with a new one");
                            refreshed = true;
                            bearer = Some(fresh);
                            tries -= 1;
                            continue;
                        }
                        None => {
                            tracing::warn!(
                                "APNs says the provider token expired, but it is younger than the minimum refresh \
                                     interval; check the clock of this host"
                            );
                            return self.finish(push, outcome);
                        }
                    },
                    _ => return self.finish(push, outcome),
                },
                Ok(Verdict::Transient(cause)) => cause,
                Err(request_error) => return self.finish(push, request_error),
            };
            if tries >= self.retry.max_attempts {
                return self.finish(push, PushOutcome::Failed { attempts: sent, cause });
            }
            let delay = self.retry.delay(tries);
            tracing::debug!(token = %push.device_token, attempt = sent, ?delay, %cause, "APNs push failed; retrying");
            tokio::time::sleep(delay).await;
            // A long back-off can cross the token's refresh time.
            bearer = match self.bearer() {
                Ok(b) => b,
                Err(cause) => return self.finish(push, PushOutcome::Failed { attempts: sent, cause }),
            };
        }
    }

    fn bearer(&self) -> Result<Option<Bearer>, FailureCause> {
        match &self.token {
            None => Ok(None),
            Some(cache) => cache.current().map(Some).ok_or(FailureCause::Signing),
        }
    }

    fn finish(&self, push: &MdmPush, outcome: PushOutcome) -> PushOutcome {
        tracing::debug!(token = %push.device_token, ?outcome, "APNs push finished");
        outcome
    }

    /// One request, sent alone while the connection is new.
    ///
    /// Until the first answer, the client does not know the server's stream limit (hyper
    /// assumes 100; APNs allows a single stream on a token connection until a token is
    /// accepted), and a burst of requests racing for a connection can make the pool open a
    /// second one. So the first request goes alone; the others follow once it is answered.
    async fn attempt(&self, push: &MdmPush, bearer: Option<&Bearer>) -> Result<Verdict, PushOutcome> {
        if self.warm.load(Ordering::Acquire) {
            return self.request(push, bearer).await;
        }
        let alone = self.warm_up.lock().await;
        // Waiters queued behind the first request go together once it has been answered.
        if self.warm.load(Ordering::Acquire) {
            drop(alone);
            return self.request(push, bearer).await;
        }
        let result = self.request(push, bearer).await;
        if matches!(
            result,
            Ok(Verdict::Done(_) | Verdict::ExpiredToken(_) | Verdict::Transient(FailureCause::Status { .. }))
        ) {
            self.warm.store(true, Ordering::Release);
        }
        result
    }

    /// `Err` carries a final outcome for requests that could not even be built.
    async fn request(&self, push: &MdmPush, bearer: Option<&Bearer>) -> Result<Verdict, PushOutcome> {
        let url = self.base.join(&push.path()).map_err(|e| PushOutcome::Failed {
            attempts: 0,
            cause: FailureCause::InvalidRequest(format!("request URL: {e}")),
        })?;
        let mut request = self
            .http
            .post(url)
            .header("apns-topic", self.topic.clone())
            .header("apns-push-type", "mdm")
            .header("apns-priority", "10")
            .header(CONTENT_TYPE, "application/json")
            .body(push.body());
        if let Some(expiration) = push.expiration {
            request = request.header("apns-expiration", expiration.header_value());
        }
        if let Some(id) = &push.apns_id {
            request = request.header("apns-id", id.as_str());
        }
        if let Some(bearer) = bearer {
            request = request.header(AUTHORIZATION, bearer.header.clone());
        }
        let response = match request.send().await {
            Ok(r) => r,
            Err(e) if e.is_builder() => {
                // An apns-id that is not a valid header value: retrying cannot fix it.
                return Err(PushOutcome::Failed {
                    attempts: 0,
                    cause: FailureCause::InvalidRequest(error_chain(&e)),
                });
            }
            Err(e) => {
                // The connection may be gone: the next requests wait for a new one to answer.
                self.warm.store(false, Ordering::Release);
                return Ok(Verdict::Transient(transport_cause(&e)));
            }
        };
        let status = response.status();
        let apns_id = response
            .headers()
            .get("apns-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        if status.is_success() {
            // APNs sends no body on success; not waiting for one saves a round of polling.
            return Ok(classify(status, apns_id, &[]));
        }
        // The status alone decides what to do; a body cut short only loses the reason.
        let body = response.bytes().await.unwrap_or_default();
        Ok(classify(status, apns_id, &body))
    }
}

fn classify(status: StatusCode, apns_id: Option<String>, body: &[u8]) -> Verdict {
    let ErrorBody { reason, timestamp } = ErrorBody::parse(body);
    let code = status.as_u16();
    match code {
        200..=299 => Verdict::Done(PushOutcome::Delivered { apns_id }),
        410 => Verdict::Done(PushOutcome::Unregistered {
            since: timestamp,
            reason: reason.unwrap_or(Reason::Unregistered),
            apns_id,
        }),
        403 if reason == Some(Reason::ExpiredProviderToken) => Verdict::ExpiredToken(PushOutcome::Rejected {
            status: code,
            reason: Reason::ExpiredProviderToken,
            apns_id,
        }),
        // Too many new tokens leaves the connection unusable for a while: retrying within
        // seconds only adds to the count.
        429 if reason != Some(Reason::TooManyProviderTokenUpdates) => {
            Verdict::Transient(FailureCause::Status { status: code, reason })
        }
        500..=599 => Verdict::Transient(FailureCause::Status { status: code, reason }),
        _ => Verdict::Done(PushOutcome::Rejected {
            status: code,
            reason: reason.unwrap_or_else(|| Reason::Other(String::new())),
            apns_id,
        }),
    }
}

fn transport_cause(e: &reqwest::Error) -> FailureCause {
    if e.is_timeout() {
        FailureCause::Timeout
    } else {
        FailureCause::Transport(error_chain(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verdict(status: u16, body: &str) -> Verdict {
        classify(
            StatusCode::from_u16(status).unwrap(),
            Some("id".into()),
            body.as_bytes(),
        )
    }

    #[test]
    fn classification_follows_apples_table() {
        assert!(matches!(verdict(200, ""), Verdict::Done(PushOutcome::Delivered { .. })));
        assert!(matches!(
            verdict(400, r#"{"reason":"BadDeviceToken"}"#),
            Verdict::Done(PushOutcome::Rejected {
                status: 400,
                reason: Reason::BadDeviceToken,
                ..
            })
        ));
        assert!(matches!(
            verdict(410, r#"{"reason":"ExpiredToken"}"#),
            Verdict::Done(PushOutcome::Unregistered {
                reason: Reason::ExpiredToken,
                since: None,
                ..
            })
        ));
        assert!(matches!(
            verdict(403, r#"{"reason":"ExpiredProviderToken"}"#),
            Verdict::ExpiredToken(_)
        ));
        assert!(matches!(
            verdict(403, r#"{"reason":"InvalidProviderToken"}"#),
            Verdict::Done(PushOutcome::Rejected {
                reason: Reason::InvalidProviderToken,
                ..
            })
        ));
        assert!(matches!(
            verdict(429, r#"{"reason":"TooManyRequests"}"#),
            Verdict::Transient(FailureCause::Status { status: 429, .. })
        ));
        assert!(matches!(
            verdict(429, r#"{"reason":"TooManyProviderTokenUpdates"}"#),
            Verdict::Done(PushOutcome::Rejected { status: 429, .. })
        ));
        assert!(matches!(
            verdict(502, ""),
            Verdict::Transient(FailureCause::Status {
                status: 502,
                reason: None
            })
        ));
        assert!(matches!(
            verdict(404, ""),
            Verdict::Done(PushOutcome::Rejected { status: 404, reason: Reason::Other(ref s), .. }) if s.is_empty()
        ));
    }

    #[test]
    fn base_url_keeps_a_path_prefix() {
        let url = base_url("http://127.0.0.1:9/sim").unwrap();
        assert_eq!(
            url.join("3/device/ab").unwrap().as_str(),
            "http://127.0.0.1:9/sim/3/device/ab"
        );
        let url = base_url(crate::PRODUCTION_URL).unwrap();
        assert_eq!(
            url.join("3/device/ab").unwrap().as_str(),
            "https://api.push.apple.com/3/device/ab"
        );
        assert!(matches!(base_url("ftp://x"), Err(ConfigError::BadBaseUrl(_))));
        assert!(matches!(
            base_url("api.push.apple.com"),
            Err(ConfigError::BadBaseUrl(_))
        ));
    }
}
