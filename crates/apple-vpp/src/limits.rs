//! Apple's limits: how many entries one write may carry, and how many requests per
//! second one location (token) may send. Values come from `service/config` and fall back
//! to the documented defaults until it has been read.

use std::collections::HashSet;
use std::hash::Hash;
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use crate::endpoints::{Limits, ManageAssetsRequest, ManageUsersRequest, RevokeAssetsRequest};

/// Effective limits (never zero).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchLimits {
    pub max_assets: usize,
    pub max_serial_numbers: usize,
    pub max_client_user_ids: usize,
    pub max_revoke_serial_numbers: usize,
    pub max_revoke_client_user_ids: usize,
    pub max_users: usize,
    pub max_requests_per_second: u32,
}

impl Default for BatchLimits {
    /// The values in Apple's service-config example.
    fn default() -> Self {
        Self {
            max_assets: 25,
            max_serial_numbers: 1000,
            max_client_user_ids: 1000,
            max_revoke_serial_numbers: 100,
            max_revoke_client_user_ids: 100,
            max_users: 100,
            max_requests_per_second: 15,
        }
    }
}

impl From<&Limits> for BatchLimits {
    fn from(l: &Limits) -> Self {
        let d = Self::default();
        // A zero would make batching loop forever or reject everything; treat it as absent.
        let pick = |v: Option<u32>, default: usize| match v {
            Some(n) if n > 0 => n as usize,
            _ => default,
        };
        Self {
            max_assets: pick(l.max_assets, d.max_assets),
            max_serial_numbers: pick(l.max_serial_numbers, d.max_serial_numbers),
            max_client_user_ids: pick(l.max_client_user_ids, d.max_client_user_ids),
            max_revoke_serial_numbers: pick(l.max_revoke_serial_numbers, d.max_revoke_serial_numbers),
            max_revoke_client_user_ids: pick(l.max_revoke_client_user_ids, d.max_revoke_client_user_ids),
            max_users: pick(l.max_users, d.max_users),
            max_requests_per_second: l
                .max_request_per_second
                .filter(|n| *n > 0)
                .unwrap_or(d.max_requests_per_second),
        }
    }
}

/// Apple rejects duplicates (9703–9705, 9715) and counts limits on unique entries, so
/// batches are built from de-duplicated lists, first occurrence kept.
fn dedup<T: Clone + Eq + Hash>(items: &[T]) -> Vec<T> {
    let mut seen = HashSet::with_capacity(items.len());
    items.iter().filter(|i| seen.insert(*i)).cloned().collect()
}

fn chunks<T: Clone>(items: &[T], size: usize) -> Vec<Vec<T>> {
    items.chunks(size.max(1)).map(<[T]>::to_vec).collect()
}

/// Splits an associate/disassociate request into requests within the limits. Serial
/// and user chunks share requests (a request may carry both) to keep the call count
/// minimal: 2,500 serials for one asset become 3 calls.
pub fn split_manage_assets(req: &ManageAssetsRequest, limits: &BatchLimits) -> Vec<ManageAssetsRequest> {
    let assets = dedup(&req.assets);
    let serials = dedup(&req.serial_numbers);
    let users = dedup(&req.client_user_ids);
    if assets.is_empty() || (serials.is_empty() && users.is_empty()) {
        // Invalid as sent; let Apple name the problem (9718/9719) rather than drop it.
        return vec![ManageAssetsRequest {
            assets,
            client_user_ids: users,
            serial_numbers: serials,
        }];
    }
    let serial_chunks = chunks(&serials, limits.max_serial_numbers);
    let user_chunks = chunks(&users, limits.max_client_user_ids);
    let target_batches = serial_chunks.len().max(user_chunks.len());
    let mut out = Vec::new();
    for asset_chunk in chunks(&assets, limits.max_assets) {
        for i in 0..target_batches {
            out.push(ManageAssetsRequest {
                assets: asset_chunk.clone(),
                client_user_ids: user_chunks.get(i).cloned().unwrap_or_default(),
                serial_numbers: serial_chunks.get(i).cloned().unwrap_or_default(),
            });
        }
    }
    out
}

/// Splits a revoke request by the (smaller) revoke limits.
pub fn split_revoke(req: &RevokeAssetsRequest, limits: &BatchLimits) -> Vec<RevokeAssetsRequest> {
    let serial_chunks = chunks(&dedup(&req.serial_numbers), limits.max_revoke_serial_numbers);
    let user_chunks = chunks(&dedup(&req.client_user_ids), limits.max_revoke_client_user_ids);
    let n = serial_chunks.len().max(user_chunks.len()).max(1);
    (0..n)
        .map(|i| RevokeAssetsRequest {
            client_user_ids: user_chunks.get(i).cloned().unwrap_or_default(),
            serial_numbers: serial_chunks.get(i).cloned().unwrap_or_default(),
        })
        .collect()
}

/// Splits a users create/update/retire request by `maxUsers`, dropping repeated
/// clientUserIds (the first entry wins).
pub fn split_users(req: &ManageUsersRequest, limits: &BatchLimits) -> Vec<ManageUsersRequest> {
    let mut seen = HashSet::new();
    let users: Vec<_> = req
        .users
        .iter()
        .filter(|u| seen.insert(u.client_user_id.as_str()))
        .cloned()
        .collect();
    if users.is_empty() {
        return vec![ManageUsersRequest { users }];
    }
    chunks(&users, limits.max_users)
        .into_iter()
        .map(|users| ManageUsersRequest { users })
        .collect()
}

/// Spaces requests evenly so one token never exceeds `maxRequestPerSecond`.
///
/// Each caller reserves the next free slot and sleeps until it; slots are a little more
/// than `1/rate` apart, so any one-second window holds fewer than `rate` requests even at
/// its edges. Share one limiter (in an `Arc`) between all clients of the same token.
#[derive(Debug)]
pub struct RateLimiter {
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    interval: Duration,
    next: Option<Instant>,
}

impl RateLimiter {
    pub fn new(max_per_second: u32) -> Self {
        Self {
            state: Mutex::new(State {
                interval: interval_for(max_per_second),
                next: None,
            }),
        }
    }

    /// Applies a new rate (after a service-config refresh); pending reservations stand.
    pub fn set_max_per_second(&self, max_per_second: u32) {
        self.lock().interval = interval_for(max_per_second);
    }

    pub fn interval(&self) -> Duration {
        self.lock().interval
    }

    /// Waits for this caller's slot.
    pub async fn acquire(&self) {
        let slot = {
            let mut s = self.lock();
            let now = Instant::now();
            let slot = s.next.map_or(now, |n| n.max(now));
            s.next = Some(slot + s.interval);
            slot
        };
        tokio::time::sleep_until(slot).await;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // The state is two plain values; a panic elsewhere cannot leave it inconsistent.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Default for RateLimiter {
    fn default() -> Self {
        Self::new(BatchLimits::default().max_requests_per_second)
    }
}

fn interval_for(max_per_second: u32) -> Duration {
    Duration::from_secs(1) / max_per_second.max(1) + Duration::from_millis(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::endpoints::{AssetRef, PricingParam, RequestUser};

    fn asset(n: u32) -> AssetRef {
        AssetRef::new(n.to_string(), PricingParam::Stdq)
    }

    #[test]
    fn splits_serials_users_and_assets() {
        let serials: Vec<String> = (0..2500).map(|i| format!("S{i}")).collect();
        let users: Vec<String> = (0..1001).map(|i| format!("U{i}")).collect();
        let req = ManageAssetsRequest {
            assets: (0..30).map(asset).collect(),
            serial_numbers: serials.clone(),
            client_user_ids: users,
        };
        let batches = split_manage_assets(&req, &BatchLimits::default());
        // 2 asset chunks (25 + 5) × 3 target chunks.
        assert_eq!(batches.len(), 6);
        assert!(
            batches
                .iter()
                .all(|b| b.assets.len() <= 25 && b.serial_numbers.len() <= 1000)
        );
        assert_eq!(batches[2].client_user_ids.len(), 0);
        assert_eq!(batches[1].client_user_ids.len(), 1);
        let sent: Vec<_> = batches[..3].iter().flat_map(|b| b.serial_numbers.clone()).collect();
        assert_eq!(sent, serials);
    }

    #[test]
    fn deduplicates_before_counting() {
        let req = ManageAssetsRequest::for_serials(vec![asset(1), asset(1)], vec!["A".into(), "A".into(), "B".into()]);
        let batches = split_manage_assets(&req, &BatchLimits::default());
        assert_eq!(batches.len(), 1);
        assert_eq!(batches[0].assets.len(), 1);
        assert_eq!(batches[0].serial_numbers, vec!["A", "B"]);
    }

    #[test]
    fn service_config_limits_override_defaults() {
        let limits = BatchLimits::from(&Limits {
            max_serial_numbers: Some(2),
            max_users: Some(0),
            ..Limits::default()
        });
        assert_eq!(limits.max_serial_numbers, 2);
        assert_eq!(limits.max_users, 100);
        let req = ManageAssetsRequest::for_serials(vec![asset(1)], vec!["a".into(), "b".into(), "c".into()]);
        assert_eq!(split_manage_assets(&req, &limits).len(), 2);
    }

    #[test]
    fn revoke_and_users() {
        let req = RevokeAssetsRequest {
            serial_numbers: (0..250).map(|i| i.to_string()).collect(),
            client_user_ids: vec!["u".into()],
        };
        assert_eq!(split_revoke(&req, &BatchLimits::default()).len(), 3);
        let users = ManageUsersRequest {
            users: (0..201)
                .map(|i| RequestUser::new(format!("u{i}")))
                .chain([RequestUser::new("u0")])
                .collect(),
        };
        let b = split_users(&users, &BatchLimits::default());
        assert_eq!(b.iter().map(|r| r.users.len()).collect::<Vec<_>>(), vec![100, 100, 1]);
    }

    #[tokio::test(start_paused = true)]
    async fn limiter_stays_under_rate() {
        let limiter = RateLimiter::new(15);
        let start = Instant::now();
        for _ in 0..16 {
            limiter.acquire().await;
        }
        // The 16th request must fall outside the first second.
        assert!(start.elapsed() >= Duration::from_secs(1), "{:?}", start.elapsed());
        assert!(start.elapsed() < Duration::from_millis(1100));
    }
}
