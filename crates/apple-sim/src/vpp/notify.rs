//! Delivery of notifications to the MDM's `notificationUrl`.
//!
//! One worker delivers in order, so a test sees an event's notifications in the order
//! they were produced. Delivery is best effort as at Apple: a few attempts, then given up.

use std::collections::BTreeMap;
use std::sync::Weak;
use std::time::Duration;

use apple_vpp::{Notification, NotificationBody};
use tokio::sync::mpsc;

use super::Shared;

/// A notification bound for one URL.
#[derive(Debug, Clone)]
pub(crate) struct Outgoing {
    pub url: String,
    pub auth_token: String,
    pub notification: Notification,
}

impl Outgoing {
    pub fn new(url: &str, auth_token: &str, u_id: &str, body: NotificationBody) -> Self {
        Self {
            url: url.to_owned(),
            auth_token: auth_token.to_owned(),
            notification: Notification {
                notification_id: uuid::Uuid::new_v4().to_string(),
                u_id: u_id.to_owned(),
                body,
            },
        }
    }
}

/// What happened to the notifications the simulator produced.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NotificationCounters {
    /// Accepted with a 2xx answer (a duplicate delivery counts again).
    pub delivered: u64,
    /// Given up after every attempt failed.
    pub failed: u64,
    /// Thrown away by the drop fault.
    pub dropped: u64,
    /// Attempts that got a non-2xx answer or no answer.
    pub failed_attempts: u64,
    /// Deliveries per `notificationType`.
    pub delivered_by_type: BTreeMap<String, u64>,
}

pub(crate) fn channel() -> (mpsc::UnboundedSender<Outgoing>, mpsc::UnboundedReceiver<Outgoing>) {
    mpsc::unbounded_channel()
}

/// The worker: runs until the simulator is dropped. It holds the simulator weakly so
/// that it does not keep it alive.
pub(crate) async fn run(shared: Weak<Shared>, mut rx: mpsc::UnboundedReceiver<Outgoing>) {
    while let Some(out) = rx.recv().await {
        let Some(shared) = shared.upgrade() else {
            return;
        };
        let (dropped, duplicate) = {
            let mut faults = shared.faults();
            let dropped = faults.take_drop();
            (dropped, !dropped && faults.take_duplicate())
        };
        if dropped {
            shared.counters().notifications.dropped += 1;
        } else {
            let copies = if duplicate { 2 } else { 1 };
            for _ in 0..copies {
                deliver(&shared, &out).await;
            }
        }
        shared.work_done();
    }
}

/// Tries up to the configured number of attempts; true when one got a 2xx.
pub(crate) async fn deliver(shared: &Shared, out: &Outgoing) -> bool {
    let attempts = shared.options.notification_attempts.max(1);
    let body = match serde_json::to_vec(&out.notification) {
        Ok(b) => b,
        Err(_) => return false,
    };
    let kind = out.notification.body.notification_type().to_string();
    for attempt in 0..attempts {
        if attempt > 0 {
            tokio::time::sleep(shared.options.notification_retry_interval).await;
        }
        let sent = shared
            .http
            .post(&out.url)
            .header("Authorization", format!("Bearer {}", out.auth_token))
            .header("Content-Type", "application/json")
            .timeout(Duration::from_secs(10))
            .body(body.clone())
            .send()
            .await;
        match sent {
            Ok(resp) if resp.status().is_success() => {
                let mut c = shared.counters();
                c.notifications.delivered += 1;
                *c.notifications.delivered_by_type.entry(kind).or_default() += 1;
                return true;
            }
            Ok(resp) => {
                tracing::debug!(status = %resp.status(), url = %out.url, "VPP notification refused");
                shared.counters().notifications.failed_attempts += 1;
            }
            Err(e) => {
                tracing::debug!(error = %e, url = %out.url, "VPP notification not delivered");
                shared.counters().notifications.failed_attempts += 1;
            }
        }
    }
    shared.counters().notifications.failed += 1;
    false
}
