//! What simulated devices share: one HTTP client, the profile source, the APNs simulator
//! they register with, and the latency recorder.

use std::sync::Arc;
use std::time::{Duration, Instant};

use mdm_identity::DeviceIdentity;

use crate::apns::ApnsSim;
use crate::device::profile::{ProfileSource, error_text};
use crate::error::{Endpoint, SimError};
use crate::stats::LatencyRecorder;

/// What real devices send; some servers log it.
const USER_AGENT: &str = "MDM/1.0";

/// The environment devices live in. Cheap to clone.
#[derive(Clone)]
pub struct SimEnv {
    inner: Arc<EnvInner>,
}

struct EnvInner {
    client: reqwest::Client,
    /// Bounds the command sessions in flight: every device of a simulated
    /// fleet lives in one process, whose open files (two per loopback
    /// connection) would run out when a push reaches 100,000 devices at once.
    sessions: Arc<tokio::sync::Semaphore>,
    stats: LatencyRecorder,
    apns: Option<ApnsSim>,
    profiles: Arc<dyn ProfileSource>,
}

impl std::fmt::Debug for SimEnv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimEnv")
            .field("apns", &self.inner.apns)
            .finish_non_exhaustive()
    }
}

/// Builds a [`SimEnv`].
pub struct SimEnvBuilder {
    profiles: Arc<dyn ProfileSource>,
    apns: Option<ApnsSim>,
    roots: Vec<String>,
    timeout: Duration,
    max_sessions: usize,
}

impl SimEnv {
    /// Starts building an environment whose devices get their profile from `profiles`.
    pub fn builder(profiles: impl ProfileSource + 'static) -> SimEnvBuilder {
        SimEnvBuilder {
            profiles: Arc::new(profiles),
            apns: None,
            roots: Vec::new(),
            timeout: Duration::from_secs(30),
            max_sessions: 4096,
        }
    }

    /// Waits for a turn to run a command session (see `max_sessions`).
    pub(crate) async fn session_turn(&self) -> tokio::sync::OwnedSemaphorePermit {
        Arc::clone(&self.inner.sessions)
            .acquire_owned()
            .await
            .expect("the session semaphore is never closed")
    }

    /// Every device's request timings.
    pub fn stats(&self) -> &LatencyRecorder {
        &self.inner.stats
    }

    /// The APNs simulator devices register their tokens with, if any.
    pub fn apns(&self) -> Option<&ApnsSim> {
        self.inner.apns.as_ref()
    }

    /// The shared HTTP client.
    pub fn client(&self) -> &reqwest::Client {
        &self.inner.client
    }

    pub(crate) fn profiles(&self) -> &dyn ProfileSource {
        self.inner.profiles.as_ref()
    }

    /// One PUT as a device sends it, signed when the profile asks for `Mdm-Signature`.
    pub(crate) async fn put(
        &self,
        endpoint: Endpoint,
        url: &str,
        content_type: &str,
        body: Vec<u8>,
        signer: Option<&DeviceIdentity>,
    ) -> Result<HttpReply, SimError> {
        let mut request = self
            .inner
            .client
            .put(url)
            .header("content-type", content_type)
            .header("user-agent", USER_AGENT);
        if let Some(identity) = signer {
            request = request.header("mdm-signature", identity.sign_mdm_body(&body)?);
        }
        let started = Instant::now();
        let transport = |e: reqwest::Error| SimError::Transport {
            endpoint,
            message: error_text(&e),
        };
        let result = async {
            let response = request.body(body).send().await.map_err(transport)?;
            let status = response.status().as_u16();
            let body = response.bytes().await.map_err(transport)?;
            Ok(HttpReply {
                status,
                body: body.to_vec(),
            })
        }
        .await;
        match &result {
            Ok(_) => self.inner.stats.record(endpoint, started),
            Err(_) => self.inner.stats.record_failure(endpoint),
        }
        result
    }
}

impl SimEnvBuilder {
    /// Devices register their push tokens here and are woken by its pushes.
    #[must_use]
    pub fn apns(mut self, apns: ApnsSim) -> Self {
        self.apns = Some(apns);
        self
    }

    /// Trusts this PEM root for an `https://` server (in addition to nothing else: a
    /// simulator talks to test servers only).
    #[must_use]
    pub fn root_certificate_pem(mut self, pem: impl Into<String>) -> Self {
        self.roots.push(pem.into());
        self
    }

    /// Command sessions of all devices in flight at once, at most (4,096 by
    /// default); more devices woken together wait their turn.
    #[must_use]
    pub fn max_sessions(mut self, sessions: usize) -> Self {
        self.max_sessions = sessions.max(1);
        self
    }

    /// Per-request timeout (30 s by default).
    #[must_use]
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Builds the shared client.
    pub fn build(self) -> Result<SimEnv, SimError> {
        let mut builder = reqwest::Client::builder()
            .timeout(self.timeout)
            .connect_timeout(Duration::from_secs(10))
            .pool_max_idle_per_host(usize::MAX)
            .tcp_nodelay(true)
            .no_proxy();
        if !self.roots.is_empty() {
            let mut roots = Vec::new();
            for pem in &self.roots {
                roots.extend(reqwest::Certificate::from_pem_bundle(pem.as_bytes()).map_err(SimError::setup)?);
            }
            builder = builder.tls_certs_only(roots);
        }
        let client = builder.build().map_err(SimError::setup)?;
        Ok(SimEnv {
            inner: Arc::new(EnvInner {
                client,
                sessions: Arc::new(tokio::sync::Semaphore::new(self.max_sessions)),
                stats: LatencyRecorder::new(),
                apns: self.apns,
                profiles: self.profiles,
            }),
        })
    }
}

/// An HTTP answer: status and body.
#[derive(Debug, Clone)]
pub(crate) struct HttpReply {
    pub(crate) status: u16,
    pub(crate) body: Vec<u8>,
}
