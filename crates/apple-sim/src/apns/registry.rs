//! Device tokens as APNs knows them: which topic each belongs to, whether its device is
//! connected, and the one notification kept for a device that is not.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use tokio::sync::Notify;

/// How many distinct PushMagic values a coalesced wake remembers; a device only needs to
/// see whether its own is among them.
const PENDING_MAGICS: usize = 8;

/// The device end of an APNs connection: wakes when a push for its token arrives.
///
/// Pushes that arrive while nobody waits are coalesced into one wake, as APNs delivers
/// only the latest notification to a busy or sleeping device; the PushMagic values they
/// carried are kept so the device can check that the push was meant for it.
#[derive(Clone, Default)]
pub struct PushWaker {
    shared: Arc<WakerShared>,
}

#[derive(Default)]
struct WakerShared {
    notify: Notify,
    pending: Mutex<Vec<String>>,
    received: AtomicU64,
}

impl std::fmt::Debug for PushWaker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PushWaker")
            .field("received", &self.received())
            .finish_non_exhaustive()
    }
}

impl PushWaker {
    /// A waker with nothing pending.
    pub fn new() -> Self {
        Self::default()
    }

    /// Waits for the next wake and returns the PushMagic values it coalesced (never empty).
    pub async fn wait(&self) -> Vec<String> {
        loop {
            if let Some(magics) = self.try_take() {
                return magics;
            }
            self.shared.notify.notified().await;
        }
    }

    /// Takes a pending wake without waiting.
    pub fn try_take(&self) -> Option<Vec<String>> {
        let mut pending = self.shared.pending.lock().unwrap_or_else(|e| e.into_inner());
        (!pending.is_empty()).then(|| std::mem::take(&mut *pending))
    }

    /// Notifications delivered to this waker, counted before coalescing.
    pub fn received(&self) -> u64 {
        self.shared.received.load(Ordering::Relaxed)
    }

    pub(crate) fn deliver(&self, magic: &str) {
        self.shared.received.fetch_add(1, Ordering::Relaxed);
        {
            let mut pending = self.shared.pending.lock().unwrap_or_else(|e| e.into_inner());
            if !pending.iter().any(|m| m == magic) {
                if pending.len() == PENDING_MAGICS {
                    pending.remove(0);
                }
                pending.push(magic.to_owned());
            }
        }
        self.shared.notify.notify_one();
    }
}

/// What APNs does with a notification for a device that is not connected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Storage {
    /// `apns-expiration: 0`: one delivery attempt, nothing kept.
    DoNotStore,
    /// A future `apns-expiration`: kept until then.
    Until(SystemTime),
    /// No header: kept until the device connects (APNs "may store" it).
    Indefinitely,
}

/// The registry's verdict on one valid push.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PushResult {
    Delivered,
    Stored,
    /// Accepted but neither delivered nor kept (offline device, no storage asked).
    Dropped,
    NotForTopic,
    Unregistered(SystemTime),
}

struct Entry {
    topic: String,
    waker: PushWaker,
    connected: bool,
    unregistered_at: Option<SystemTime>,
    stored: Option<(String, Storage)>,
}

#[derive(Default)]
pub(crate) struct Registry {
    entries: Mutex<HashMap<Vec<u8>, Entry>>,
}

impl Registry {
    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<Vec<u8>, Entry>> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn register(&self, topic: &str, token: &[u8], waker: PushWaker) {
        self.entries().insert(
            token.to_vec(),
            Entry {
                topic: topic.to_owned(),
                waker,
                connected: true,
                unregistered_at: None,
                stored: None,
            },
        );
    }

    pub(crate) fn unregister(&self, token: &[u8], at: SystemTime) {
        if let Some(entry) = self.entries().get_mut(token) {
            entry.unregistered_at.get_or_insert(at);
            entry.stored = None;
        }
    }

    pub(crate) fn is_registered(&self, token: &[u8]) -> bool {
        self.entries()
            .get(token)
            .is_some_and(|entry| entry.unregistered_at.is_none())
    }

    pub(crate) fn registered_count(&self) -> usize {
        self.entries().values().filter(|e| e.unregistered_at.is_none()).count()
    }

    /// Marks a device connected or not; on reconnection a kept, unexpired notification is
    /// delivered. Returns whether one was.
    pub(crate) fn set_connected(&self, token: &[u8], connected: bool, now: SystemTime) -> bool {
        let mut entries = self.entries();
        let Some(entry) = entries.get_mut(token) else {
            return false;
        };
        entry.connected = connected;
        if !connected || entry.unregistered_at.is_some() {
            return false;
        }
        match entry.stored.take() {
            Some((magic, storage)) if still_stored(storage, now) => {
                entry.waker.deliver(&magic);
                true
            }
            _ => false,
        }
    }

    pub(crate) fn push(&self, token: &[u8], topic: &str, magic: &str, storage: Storage, now: SystemTime) -> PushResult {
        let mut entries = self.entries();
        let Some(entry) = entries.get_mut(token) else {
            // APNs has never seen this token for any topic; the sim answers as for a token
            // whose app was removed, which is what an MDM server must handle anyway.
            return PushResult::Unregistered(now);
        };
        if entry.topic != topic {
            return PushResult::NotForTopic;
        }
        if let Some(at) = entry.unregistered_at {
            return PushResult::Unregistered(at);
        }
        if entry.connected {
            entry.waker.deliver(magic);
            return PushResult::Delivered;
        }
        if storage == Storage::DoNotStore || !still_stored(storage, now) {
            return PushResult::Dropped;
        }
        // Only the latest notification per device is kept (reference §6.1).
        entry.stored = Some((magic.to_owned(), storage));
        PushResult::Stored
    }
}

fn still_stored(storage: Storage, now: SystemTime) -> bool {
    match storage {
        Storage::DoNotStore => false,
        Storage::Until(until) => until > now,
        Storage::Indefinitely => true,
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn pushes_coalesce_into_one_wake_with_every_magic() {
        let waker = PushWaker::new();
        waker.deliver("A");
        waker.deliver("B");
        waker.deliver("A");
        assert_eq!(waker.wait().await, vec!["A".to_owned(), "B".to_owned()]);
        assert_eq!(waker.received(), 3);
        assert!(waker.try_take().is_none());
        let late = tokio::time::timeout(Duration::from_millis(30), waker.wait()).await;
        assert!(late.is_err(), "a second wake appeared: {late:?}");
    }

    #[test]
    fn offline_devices_keep_only_the_latest_unexpired_notification() {
        let registry = Registry::default();
        let waker = PushWaker::new();
        let now = SystemTime::now();
        registry.register("t", b"tok", waker.clone());
        registry.set_connected(b"tok", false, now);
        let later = Storage::Until(now + Duration::from_secs(60));
        assert_eq!(registry.push(b"tok", "t", "first", later, now), PushResult::Stored);
        assert_eq!(registry.push(b"tok", "t", "second", later, now), PushResult::Stored);
        assert_eq!(
            registry.push(b"tok", "t", "x", Storage::DoNotStore, now),
            PushResult::Dropped
        );
        assert!(waker.try_take().is_none());
        assert!(registry.set_connected(b"tok", true, now));
        assert_eq!(waker.try_take(), Some(vec!["second".to_owned()]));

        registry.set_connected(b"tok", false, now);
        let soon = Storage::Until(now + Duration::from_secs(1));
        assert_eq!(registry.push(b"tok", "t", "stale", soon, now), PushResult::Stored);
        assert!(!registry.set_connected(b"tok", true, now + Duration::from_secs(2)));
        assert!(waker.try_take().is_none());
    }

    #[test]
    fn unregistered_tokens_remember_when() {
        let registry = Registry::default();
        let at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        registry.register("t", b"tok", PushWaker::new());
        registry.unregister(b"tok", at);
        let now = SystemTime::now();
        assert_eq!(
            registry.push(b"tok", "t", "m", Storage::Indefinitely, now),
            PushResult::Unregistered(at)
        );
        assert_eq!(
            registry.push(b"tok", "other", "m", Storage::Indefinitely, now),
            PushResult::NotForTopic
        );
        assert_eq!(
            registry.push(b"new", "t", "m", Storage::Indefinitely, now),
            PushResult::Unregistered(now)
        );
        assert!(!registry.is_registered(b"tok"));
    }
}
