//! A loopback APNs: the HTTP/2 provider API an MDM server pushes to, and the device side
//! (token registry and wake-ups) simulated devices listen on.
//!
//! ```no_run
//! # async fn demo() -> Result<(), apple_sim::SimError> {
//! let apns = apple_sim::ApnsSim::start_tls().await?;
//! // Give an APNs client `apns.base_url()` and trust `apns.root_ca_pem()`.
//! # Ok(()) }
//! ```

mod faults;
mod registry;
mod server;
mod tls;

pub use faults::Throttle;
pub use registry::PushWaker;

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use axum::body::Body;
use axum::response::Response;
use hyper::body::Incoming as HyperBody;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;

use crate::error::SimError;
use faults::Faults;
use registry::Registry;
use server::{Answer, Incoming};

/// Every MDM push topic starts with this (reference §6.1).
pub const MDM_TOPIC_PREFIX: &str = "com.apple.mgmt.";

/// How clients reach the simulator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApnsMode {
    /// HTTPS with a mandatory client certificate; the topic comes from its subject UID.
    Tls,
    /// Cleartext HTTP/2 with prior knowledge; the topic comes from `apns-topic`.
    H2c,
}

/// What the simulator has answered so far.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApnsCounters {
    /// Requests received, valid or not.
    pub requests: u64,
    /// Answers per HTTP status.
    pub by_status: BTreeMap<u16, u64>,
    /// Error answers per `reason`.
    pub by_reason: BTreeMap<String, u64>,
    /// Requests per device token (lower-case hex from the path).
    pub by_token: BTreeMap<String, u64>,
}

impl ApnsCounters {
    /// Answers with this HTTP status.
    pub fn status(&self, status: u16) -> u64 {
        self.by_status.get(&status).copied().unwrap_or(0)
    }

    /// Error answers with this reason.
    pub fn reason(&self, reason: &str) -> u64 {
        self.by_reason.get(reason).copied().unwrap_or(0)
    }

    /// Requests addressed to this token.
    pub fn token(&self, token: &[u8]) -> u64 {
        self.by_token.get(&hex(token)).copied().unwrap_or(0)
    }
}

pub(crate) struct Shared {
    registry: Registry,
    faults: Mutex<Faults>,
    counters: Mutex<ApnsCounters>,
}

impl Shared {
    fn faults(&self) -> MutexGuard<'_, Faults> {
        self.faults.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn counters(&self) -> MutexGuard<'_, ApnsCounters> {
        self.counters.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn record(&self, token: Option<&str>, answer: &Answer) {
        let mut counters = self.counters();
        counters.requests += 1;
        *counters.by_status.entry(answer.status).or_default() += 1;
        if let Some(reason) = answer.reason {
            *counters.by_reason.entry(reason.to_owned()).or_default() += 1;
        }
        if let Some(token) = token {
            *counters.by_token.entry(token.to_ascii_lowercase()).or_default() += 1;
        }
    }
}

/// The APNs simulator. Clones share one server; it stops on [`ApnsSim::stop`] or when the
/// last clone is dropped.
#[derive(Clone)]
pub struct ApnsSim {
    inner: Arc<Inner>,
}

struct Inner {
    mode: ApnsMode,
    base_url: String,
    ca_pem: Option<String>,
    shared: Arc<Shared>,
    shutdown: watch::Sender<bool>,
}

impl std::fmt::Debug for ApnsSim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApnsSim")
            .field("mode", &self.inner.mode)
            .field("base_url", &self.inner.base_url)
            .finish_non_exhaustive()
    }
}

impl ApnsSim {
    /// Starts on 127.0.0.1 with an ephemeral port.
    pub async fn start(mode: ApnsMode) -> Result<Self, SimError> {
        let tls = match mode {
            ApnsMode::Tls => Some(tls::server_tls()?),
            ApnsMode::H2c => None,
        };
        let listener = TcpListener::bind("127.0.0.1:0").await.map_err(SimError::setup)?;
        let addr = listener.local_addr().map_err(SimError::setup)?;
        let scheme = if tls.is_some() { "https" } else { "http" };
        let shared = Arc::new(Shared {
            registry: Registry::default(),
            faults: Mutex::new(Faults::default()),
            counters: Mutex::new(ApnsCounters::default()),
        });
        let (shutdown, watcher) = watch::channel(false);
        let (acceptor, ca_pem) = match tls {
            Some(tls) => (Some(tls.acceptor), Some(tls.ca_pem)),
            None => (None, None),
        };
        tokio::spawn(accept_loop(listener, acceptor, Arc::clone(&shared), watcher));
        tracing::debug!(%addr, ?mode, "APNs simulator listening");
        Ok(Self {
            inner: Arc::new(Inner {
                mode,
                base_url: format!("{scheme}://{addr}"),
                ca_pem,
                shared,
                shutdown,
            }),
        })
    }

    /// [`ApnsSim::start`] with TLS and client certificates, as production APNs.
    pub async fn start_tls() -> Result<Self, SimError> {
        Self::start(ApnsMode::Tls).await
    }

    /// [`ApnsSim::start`] with cleartext HTTP/2.
    pub async fn start_h2c() -> Result<Self, SimError> {
        Self::start(ApnsMode::H2c).await
    }

    /// `https://127.0.0.1:<port>` or `http://127.0.0.1:<port>`, without a trailing slash.
    pub fn base_url(&self) -> &str {
        &self.inner.base_url
    }

    /// The PEM root a client must trust to reach the TLS mode (`None` for h2c).
    pub fn root_ca_pem(&self) -> Option<&str> {
        self.inner.ca_pem.as_deref()
    }

    /// How clients connect.
    pub fn mode(&self) -> ApnsMode {
        self.inner.mode
    }

    /// What a device does once it has a token: pushes for `token` on `topic` now wake `waker`.
    /// Registering a token again replaces its topic and waker and revives it.
    pub fn register(&self, topic: &str, token: &[u8], waker: PushWaker) {
        self.inner.shared.registry.register(topic, token, waker);
    }

    /// The token stops being valid now: pushes get 410 `Unregistered` with this time.
    pub fn unregister(&self, token: &[u8]) {
        self.unregister_at(token, SystemTime::now());
    }

    /// [`ApnsSim::unregister`] with an explicit time for the 410 `timestamp`.
    pub fn unregister_at(&self, token: &[u8], at: SystemTime) {
        self.inner.shared.registry.unregister(token, at);
    }

    /// Whether the device holding `token` keeps its APNs connection open. While it does
    /// not, pushes are kept or dropped according to `apns-expiration`; on reconnection
    /// the kept one is delivered. Returns whether a kept push was delivered.
    pub fn set_connected(&self, token: &[u8], connected: bool) -> bool {
        self.inner
            .shared
            .registry
            .set_connected(token, connected, SystemTime::now())
    }

    /// Whether pushes to `token` are currently accepted.
    pub fn is_registered(&self, token: &[u8]) -> bool {
        self.inner.shared.registry.is_registered(token)
    }

    /// How many tokens are registered and not unregistered.
    pub fn registered_tokens(&self) -> usize {
        self.inner.shared.registry.registered_count()
    }

    /// Answers the next `count` pushes with a transient error.
    pub fn fail_next(&self, count: u32, throttle: Throttle) {
        self.inner.shared.faults().fail_next(count, throttle);
    }

    /// Answers about this share of pushes (0.0 to 1.0) with a transient error.
    pub fn fail_fraction(&self, fraction: f64, throttle: Throttle) {
        self.inner.shared.faults().fail_fraction(fraction, throttle);
    }

    /// Answers every push with 403 `BadCertificate`, as APNs does for an expired push
    /// certificate.
    pub fn set_certificate_expired(&self, expired: bool) {
        self.inner.shared.faults().set_certificate_expired(expired);
    }

    /// Delays every answer.
    pub fn set_delay(&self, delay: Duration) {
        self.inner.shared.faults().delay = delay;
    }

    /// Switches every fault off.
    pub fn clear_faults(&self) {
        self.inner.shared.faults().clear();
    }

    /// A copy of the counters.
    pub fn counters(&self) -> ApnsCounters {
        self.inner.shared.counters().clone()
    }

    /// Closes the listener and every open connection.
    pub fn stop(&self) {
        self.inner.shutdown.send_replace(true);
    }
}

trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

async fn stopped(watcher: &mut watch::Receiver<bool>) {
    // A dropped sender means every ApnsSim clone is gone: stop as well.
    let _ = watcher.wait_for(|stop| *stop).await;
}

async fn accept_loop(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    shared: Arc<Shared>,
    mut watcher: watch::Receiver<bool>,
) {
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = stopped(&mut watcher) => return,
        };
        let Ok((tcp, _)) = accepted else { continue };
        let _ = tcp.set_nodelay(true);
        let (tls, shared, mut watcher) = (tls.clone(), Arc::clone(&shared), watcher.clone());
        tokio::spawn(async move {
            tokio::select! {
                () = serve_connection(tcp, tls, shared) => {}
                () = stopped(&mut watcher) => {}
            }
        });
    }
}

async fn serve_connection(tcp: TcpStream, tls: Option<TlsAcceptor>, shared: Arc<Shared>) {
    let (io, certificate_topic): (Pin<Box<dyn Io>>, Option<Option<String>>) = match tls {
        None => (Box::pin(tcp), None),
        Some(acceptor) => {
            // A failed handshake (no client certificate) is APNs' whole answer.
            let Ok(stream) = acceptor.accept(tcp).await else { return };
            let topic = stream
                .get_ref()
                .1
                .peer_certificates()
                .and_then(|chain| chain.first())
                .and_then(|cert| tls::topic_from_certificate(cert.as_ref()));
            (Box::pin(stream), Some(topic))
        }
    };
    let service = hyper::service::service_fn(move |request: hyper::Request<HyperBody>| {
        let shared = Arc::clone(&shared);
        let certificate_topic = certificate_topic.clone();
        async move { Ok::<_, Infallible>(handle(&shared, certificate_topic, request).await) }
    });
    let _ = hyper::server::conn::http2::Builder::new(TokioExecutor::new())
        .serve_connection(TokioIo::new(io), service)
        .await;
}

async fn handle(
    shared: &Shared,
    certificate_topic: Option<Option<String>>,
    request: hyper::Request<HyperBody>,
) -> Response {
    let delay = shared.faults().delay;
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(Body::new(body), 64 * 1024).await;
    let path = parts.uri.path().to_owned();
    let token = server::token_hex(&path);
    let answer = match body {
        Ok(body) => {
            let incoming = Incoming {
                method: parts.method,
                path: path.clone(),
                headers: parts.headers.clone(),
                body,
                certificate_topic,
            };
            server::evaluate(shared, &incoming, SystemTime::now())
        }
        Err(_) => Answer {
            status: 413,
            reason: Some("PayloadTooLarge"),
            timestamp_ms: None,
        },
    };
    shared.record(token, &answer);
    server::into_response(&answer, parts.headers.get("apns-id"))
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
