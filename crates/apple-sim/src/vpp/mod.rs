//! A loopback Apps and Books (VPP) API v2 service: locations with content tokens,
//! licensed assets, users, assignments, asynchronous events, notifications to the MDM,
//! the legacy content-metadata lookup, rate limits and injectable faults.
//!
//! It follows reference §8 with one deliberate deviation: with
//! [`VppSimOptions::allow_http_notification_urls`] a plain `http://` notification URL is
//! accepted (Apple answers 9712), so tests can receive notifications on loopback without
//! TLS. Everything else an MDM sees (numbers, statuses, shapes, dates) is Apple's.
//!
//! Where Apple's documentation is silent the simulator decides, and tests may rely on it:
//!
//! * Associating what a target already holds completes without using a license;
//!   disassociating what it does not hold completes as a no-op.
//! * An adamId the location does not own fails asynchronously with 9709 (no licenses).
//! * Retiring a user releases its revocable assignments; books stay assigned.
//! * `numRequested` of a revoke is the number of revocable assignments removed.
//! * POST client/config is a partial update; `notificationTypes` replaces the set; a
//!   first notification URL sent without types subscribes to all four.
//! * A read-only location refuses every POST, client/config included (9637).
//! * A renewed token ([`LocationHandle::issue_renewed_token`]) does not invalidate the
//!   previous one; each token expires or is revoked on its own.
//! * A deleted location's tokens get 401/9601, as unknown tokens do.
//! * `sinceVersionId` lists records created or changed after that version; removed
//!   assignments are not listed (Apple documents no tombstones).
//! * service/config is never faulted and needs no token; the rate limit counts
//!   authenticated requests per token.
//!
//! ```no_run
//! # async fn demo() -> Result<(), apple_sim::SimError> {
//! use apple_sim::vpp::{AssetSpec, LocationSpec, VppSim, VppSimOptions};
//!
//! let sim = VppSim::start(VppSimOptions::default()).await?;
//! let location = sim.add_location(LocationSpec::new("Example Inc.", "Tokyo").asset(AssetSpec::app("408709785", 10)));
//! // Give a VPP client `sim.base_url()` and `location.token_file_contents()`.
//! # Ok(()) }
//! ```

mod catalog;
mod errors;
mod events;
mod faults;
mod handle;
mod lookup;
mod model;
mod notify;
mod reads;
mod server;
mod validate;
mod writes;

pub use catalog::{AppInfo, AssetSpec, Licenses, LocationSpec};
pub use faults::VppFault;
pub use handle::{EventSnapshot, LocationHandle, LocationSnapshot};
pub use model::{AssetKey, Target, TaskTally};
pub use notify::NotificationCounters;
pub use validate::VppLimits;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::{Notify, mpsc, watch};

use crate::error::SimError;
use faults::Faults;
use model::World;
use notify::Outgoing;

/// How the simulator behaves. Defaults are Apple's documented values.
#[derive(Debug, Clone)]
pub struct VppSimOptions {
    /// Records per page of Get Assets / Assignments / Users (Apple: several hundred).
    pub page_size: u32,
    /// How long an event stays PENDING before it is processed. Zero still processes in
    /// the background: the write answers first, then the event completes.
    pub event_delay: Duration,
    /// `maxRequestPerSecond` per token, advertised and enforced (429/9646). 0 turns
    /// enforcement off; service/config then advertises 1000 so clients do not slow down.
    pub max_requests_per_second: u32,
    /// Delivery attempts per notification (Apple: up to 3).
    pub notification_attempts: u32,
    /// Pause between two attempts.
    pub notification_retry_interval: Duration,
    /// Accept `http://` notification URLs. Apple answers 9712; tests receiving
    /// notifications on plain loopback HTTP set this (the one deliberate deviation).
    pub allow_http_notification_urls: bool,
    /// Per-request limits (Apple's by default).
    pub limits: VppLimits,
}

impl Default for VppSimOptions {
    fn default() -> Self {
        Self {
            page_size: 500,
            event_delay: Duration::ZERO,
            max_requests_per_second: 15,
            notification_attempts: 3,
            notification_retry_interval: Duration::from_secs(1),
            allow_http_notification_urls: false,
            limits: VppLimits::default(),
        }
    }
}

impl VppSimOptions {
    /// Options for tests: small pages, no rate limit, fast notification retries, and
    /// `http://` notification URLs allowed.
    pub fn for_tests() -> Self {
        Self {
            page_size: 3,
            max_requests_per_second: 0,
            notification_retry_interval: Duration::from_millis(20),
            allow_http_notification_urls: true,
            ..Self::default()
        }
    }

    /// Sets the page size (at least 1).
    pub fn page_size(mut self, size: u32) -> Self {
        self.page_size = size.max(1);
        self
    }

    /// Sets how long events stay PENDING.
    pub fn event_delay(mut self, delay: Duration) -> Self {
        self.event_delay = delay;
        self
    }

    /// Sets `maxRequestPerSecond` (0 disables enforcement).
    pub fn max_requests_per_second(mut self, max: u32) -> Self {
        self.max_requests_per_second = max;
        self
    }

    /// Sets delivery attempts per notification and the pause between them.
    pub fn notification_retries(mut self, attempts: u32, interval: Duration) -> Self {
        self.notification_attempts = attempts.max(1);
        self.notification_retry_interval = interval;
        self
    }

    /// Sets the per-request limits.
    pub fn limits(mut self, limits: VppLimits) -> Self {
        self.limits = limits;
        self
    }

    /// Accepts `http://` notification URLs (see the field).
    pub fn allow_http_notification_urls(mut self, allow: bool) -> Self {
        self.allow_http_notification_urls = allow;
        self
    }
}

/// What the simulator answered so far, over all locations.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VppCounters {
    /// Requests to `/mdm/v2/...`, valid or not.
    pub requests: u64,
    /// Requests per endpoint (`assets/associate`, `service/config`, ...).
    pub by_endpoint: BTreeMap<String, u64>,
    /// Answers per HTTP status.
    pub by_status: BTreeMap<u16, u64>,
    /// Error answers per `errorNumber`.
    pub by_error: BTreeMap<i32, u64>,
    /// Metadata lookups served.
    pub lookups: u64,
    /// Notification deliveries.
    pub notifications: NotificationCounters,
}

impl VppCounters {
    /// Error answers with this number.
    pub fn errors(&self, number: i32) -> u64 {
        self.by_error.get(&number).copied().unwrap_or(0)
    }
}

pub(crate) struct Shared {
    world: Mutex<World>,
    options: VppSimOptions,
    faults: Mutex<Faults>,
    counters: Mutex<VppCounters>,
    root_url: String,
    http: reqwest::Client,
    outbox: mpsc::UnboundedSender<Outgoing>,
    busy: AtomicUsize,
    idle: Notify,
    release: watch::Sender<u64>,
}

impl Shared {
    fn world(&self) -> MutexGuard<'_, World> {
        // Every mutation keeps the state consistent before it can panic.
        self.world.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn faults(&self) -> MutexGuard<'_, Faults> {
        self.faults.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn counters(&self) -> MutexGuard<'_, VppCounters> {
        self.counters.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn work_started(&self) {
        self.busy.fetch_add(1, Ordering::SeqCst);
    }

    fn work_done(&self) {
        if self.busy.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.idle.notify_waiters();
        }
    }

    /// Queues notifications for the delivery worker.
    fn send(&self, notifications: Vec<Outgoing>) {
        for n in notifications {
            self.work_started();
            if self.outbox.send(n).is_err() {
                self.work_done();
            }
        }
    }

    /// Processes an event in the background after the configured delay (or once
    /// released, if events are held).
    fn spawn_event(self: &Arc<Self>, location: u64, event_id: String) {
        self.work_started();
        let (held, delay) = {
            let f = self.faults();
            (f.hold_events, f.event_delay.unwrap_or(self.options.event_delay))
        };
        let mut released = self.release.subscribe();
        let generation = *released.borrow();
        let shared = Arc::clone(self);
        tokio::spawn(async move {
            if delay.is_zero() {
                tokio::task::yield_now().await;
            } else {
                tokio::time::sleep(delay).await;
            }
            if held {
                let _ = released.wait_for(|g| *g > generation).await;
            }
            let out = {
                let mut world = shared.world();
                match world.locations.get_mut(&location) {
                    Some(loc) if !loc.deleted => events::process(loc, &event_id),
                    _ => Vec::new(),
                }
            };
            shared.send(out);
            shared.work_done();
        });
    }
}

/// The VPP simulator. Clones share one server; it stops on [`VppSim::shutdown`] or when
/// the last clone is dropped.
#[derive(Clone)]
pub struct VppSim {
    inner: Arc<Inner>,
}

struct Inner {
    shared: Arc<Shared>,
    shutdown: watch::Sender<bool>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
    }
}

impl std::fmt::Debug for VppSim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VppSim")
            .field("root_url", &self.inner.shared.root_url)
            .finish_non_exhaustive()
    }
}

impl VppSim {
    /// Starts on 127.0.0.1 with an ephemeral port, plain HTTP/1.1.
    pub async fn start(options: VppSimOptions) -> Result<Self, SimError> {
        let listener = TcpListener::bind("127.0.0.1:0").await.map_err(SimError::setup)?;
        let addr = listener.local_addr().map_err(SimError::setup)?;
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .build()
            .map_err(SimError::setup)?;
        let (outbox, rx) = notify::channel();
        let (release, _) = watch::channel(0u64);
        let shared = Arc::new(Shared {
            world: Mutex::new(World::default()),
            options,
            faults: Mutex::new(Faults::default()),
            counters: Mutex::new(VppCounters::default()),
            root_url: format!("http://{addr}"),
            http,
            outbox,
            busy: AtomicUsize::new(0),
            idle: Notify::new(),
            release,
        });
        let (shutdown, mut stop) = watch::channel(false);
        let app = server::router(Arc::clone(&shared));
        tokio::spawn(async move {
            let stopped = async move {
                let _ = stop.wait_for(|s| *s).await;
            };
            if let Err(e) = axum::serve(listener, app).with_graceful_shutdown(stopped).await {
                tracing::warn!(error = %e, "VPP simulator server ended");
            }
        });
        tokio::spawn(notify::run(Arc::downgrade(&shared), rx));
        tracing::debug!(%addr, "VPP simulator listening");
        Ok(Self {
            inner: Arc::new(Inner { shared, shutdown }),
        })
    }

    fn shared(&self) -> &Arc<Shared> {
        &self.inner.shared
    }

    /// `http://127.0.0.1:<port>`, without a trailing slash.
    pub fn root_url(&self) -> &str {
        &self.shared().root_url
    }

    /// The v2 base, `http://127.0.0.1:<port>/mdm/v2/`, for `VppConfig::with_base_url`.
    pub fn base_url(&self) -> String {
        format!("{}/mdm/v2/", self.root_url())
    }

    /// The content-metadata lookup URL (also in service/config `urls`).
    pub fn metadata_lookup_url(&self) -> String {
        format!("{}{}", self.root_url(), lookup::LOOKUP_PATH)
    }

    /// Stops accepting connections; clones stop too.
    pub fn shutdown(&self) {
        let _ = self.inner.shutdown.send(true);
    }

    /// Adds a location and issues its first content token.
    pub fn add_location(&self, spec: LocationSpec) -> LocationHandle {
        handle::add_location(self.shared(), spec)
    }

    /// The next `count` requests to `/mdm/v2/...` (except service/config, which never
    /// fails) get `fault` instead of an answer.
    pub fn inject(&self, fault: VppFault, count: u32) {
        self.shared().faults().push(fault, count);
    }

    /// Injected faults not yet used.
    pub fn pending_faults(&self) -> usize {
        self.shared().faults().pending()
    }

    /// Removes every fault (queued answers, held events, delays, notification faults).
    pub fn clear_faults(&self) {
        self.shared().faults().clear();
        self.release_events();
    }

    /// While true, new events stay PENDING until [`VppSim::release_events`].
    pub fn hold_events(&self, hold: bool) {
        self.shared().faults().hold_events = hold;
    }

    /// Lets every held event be processed.
    pub fn release_events(&self) {
        self.shared().release.send_modify(|g| *g += 1);
    }

    /// Overrides [`VppSimOptions::event_delay`] for new events (`None` restores it).
    pub fn set_event_delay(&self, delay: Option<Duration>) {
        self.shared().faults().event_delay = delay;
    }

    /// The next `count` notifications are lost (never sent, no retries).
    pub fn drop_notifications(&self, count: u32) {
        self.shared().faults().drop_notifications = count;
    }

    /// The next `count` notifications are delivered twice with the same notificationId,
    /// to test de-duplication.
    pub fn duplicate_notifications(&self, count: u32) {
        self.shared().faults().duplicate_notifications = count;
    }

    /// What has been answered and delivered so far.
    pub fn counters(&self) -> VppCounters {
        self.shared().counters().clone()
    }

    /// Waits until every event has been processed and every notification delivered or
    /// given up. Held events count as pending, so release them first.
    pub async fn settle(&self) -> Result<(), SimError> {
        let shared = self.shared();
        let wait = async {
            loop {
                let notified = shared.idle.notified();
                tokio::pin!(notified);
                notified.as_mut().enable();
                if shared.busy.load(Ordering::SeqCst) == 0 {
                    return;
                }
                notified.await;
            }
        };
        tokio::time::timeout(Duration::from_secs(30), wait)
            .await
            .map_err(|_| SimError::Timeout("VPP events and notifications to settle".into()))
    }
}
