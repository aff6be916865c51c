//! A location as a test holds it: its content token, the things that happen at Apple
//! without the MDM asking (a user accepts an invitation, licenses are bought, another
//! MDM claims the location, the token is revoked), and a snapshot of its state.

use std::collections::BTreeMap;
use std::sync::Arc;

use apple_vpp::notifications::{AssetCountNotification, UserAssociatedNotification};
use apple_vpp::{
    Assignment, ErrorResponse, EventStatus, EventType, MdmInfo, NotificationBody, NotificationType, PricingParam,
    ResponseAsset, ResponseUser, SToken, UserStatus,
};
use time::OffsetDateTime;

use super::Shared;
use super::catalog::{AssetSpec, Licenses, LocationSpec};
use super::events::{id_hash, notification_for};
use super::model::{AssetKey, AssetState, Location, Target, TaskTally, TokenEntry, World};
use super::notify::Outgoing;
use crate::error::SimError;

/// One content token of one location. Cloning is cheap; every clone acts on the same
/// location and token.
#[derive(Clone)]
pub struct LocationHandle {
    shared: Arc<Shared>,
    location: u64,
    token: String,
}

impl std::fmt::Debug for LocationHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocationHandle")
            .field("location", &self.location)
            .finish_non_exhaustive()
    }
}

pub(crate) fn add_location(shared: &Arc<Shared>, spec: LocationSpec) -> LocationHandle {
    let mut world = shared.world();
    world.next_location += 1;
    let id = world.next_location;
    world.locations.insert(id, Location::new(id, &spec));
    let token = mint(&mut world, id, &spec.org_name, spec.expires_at);
    LocationHandle {
        shared: Arc::clone(shared),
        location: id,
        token,
    }
}

/// Issues a token the way Apple encodes one: Base64 of `{token, expDate, orgName}`.
fn mint(world: &mut World, location: u64, org_name: &str, expires_at: OffsetDateTime) -> String {
    use base64::Engine;
    // The file carries whole seconds; keep the server's copy identical to what it says.
    let expires_at = expires_at.replace_nanosecond(0).unwrap_or(expires_at);
    let opaque = [uuid::Uuid::new_v4().into_bytes(), uuid::Uuid::new_v4().into_bytes()].concat();
    let inner = base64::engine::general_purpose::STANDARD.encode(opaque);
    let token = SToken::encode(&inner, expires_at, org_name).expose().to_owned();
    world.tokens.insert(
        token.clone(),
        TokenEntry {
            location,
            expires_at,
            revoked: false,
            recent: Default::default(),
        },
    );
    token
}

/// An event as the simulator holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventSnapshot {
    /// The id the write answered with.
    pub event_id: String,
    /// ASSOCIATE, DISASSOCIATE, REVOKE, CREATE, UPDATE or RETIRE.
    pub event_type: EventType,
    /// PENDING, COMPLETE or FAILED.
    pub status: EventStatus,
    /// Tasks in the event.
    pub num_requested: u32,
    /// Tasks applied (including no-ops that count as done).
    pub num_completed: u32,
    /// One entry per error number, naming the entities.
    pub failures: Vec<ErrorResponse>,
}

/// A location's state at one moment.
#[derive(Debug, Clone)]
pub struct LocationSnapshot {
    /// The library id.
    pub u_id: String,
    /// Assets with their counts, in catalogue order.
    pub assets: Vec<ResponseAsset>,
    /// Current assignments.
    pub assignments: Vec<Assignment>,
    /// Every user row (retired rows included).
    pub users: Vec<ResponseUser>,
    /// Events in creation order.
    pub events: Vec<EventSnapshot>,
    /// Authenticated requests per endpoint path.
    pub requests: BTreeMap<String, u64>,
    /// Real changes per (asset, target): proves an assignment was not made twice.
    pub tallies: BTreeMap<(AssetKey, Target), TaskTally>,
    /// The stored mdmInfo.
    pub mdm_info: Option<MdmInfo>,
    /// The configured notification URL.
    pub notification_url: Option<String>,
    /// The subscribed notification types.
    pub notification_types: Vec<NotificationType>,
}

impl LocationSnapshot {
    /// The asset with this adamId (any pricing).
    pub fn asset(&self, adam_id: &str) -> Option<&ResponseAsset> {
        self.assets.iter().find(|a| a.adam_id == adam_id)
    }

    /// Whether `totalCount = assignedCount + availableCount + retiredCount` holds for
    /// every asset.
    pub fn counts_consistent(&self) -> bool {
        self.assets
            .iter()
            .all(|a| a.total_count == a.assigned_count + a.available_count + a.retired_count)
    }

    /// The most licenses any single (asset, target) pair ever consumed.
    pub fn max_associations_per_pair(&self) -> u32 {
        self.tallies.values().map(|t| t.associated).max().unwrap_or(0)
    }

    /// The event with this id.
    pub fn event(&self, event_id: &str) -> Option<&EventSnapshot> {
        self.events.iter().find(|e| e.event_id == event_id)
    }

    /// The active (Registered or Associated) row of a user.
    pub fn active_user(&self, client_user_id: &str) -> Option<&ResponseUser> {
        self.users.iter().find(|u| {
            u.client_user_id == client_user_id
                && matches!(u.status, Some(UserStatus::Registered | UserStatus::Associated))
        })
    }
}

impl LocationHandle {
    /// Whether the device with this serial number holds a license of the
    /// app (any pricing): what a simulated device asks before installing
    /// with `PurchaseMethod` 1.
    pub fn serial_holds_license(&self, adam_id: &str, serial_number: &str) -> bool {
        let world = self.shared.world();
        let Some(loc) = world.locations.get(&self.location) else {
            return false;
        };
        let target = Target::Serial(serial_number.to_owned());
        loc.assets
            .iter()
            .filter(|a| a.key.adam_id == adam_id)
            .any(|a| loc.assignments.contains_key(&(a.key.clone(), target.clone())))
    }

    /// What the App Store lists for one of this location's apps, for
    /// simulated devices installing it ([`crate::StoreCatalogue`]).
    pub fn store_listing(&self, adam_id: &str) -> Option<crate::StoreListing> {
        let world = self.shared.world();
        let loc = world.locations.get(&self.location)?;
        let asset = loc.assets.iter().find(|a| a.key.adam_id == adam_id)?;
        let info = &asset.spec.metadata;
        Some(crate::StoreListing {
            bundle_id: info.bundle_id.clone()?,
            name: info.name.clone(),
            version: info.version.clone(),
        })
    }

    /// Whether the Apple Account with this hash is an associated user of
    /// the location holding a license of the item: what a device signed in
    /// with that account asks before installing a book or a user-licensed app.
    pub fn account_holds_license(&self, adam_id: &str, apple_account_hash: &str) -> bool {
        let world = self.shared.world();
        let Some(loc) = world.locations.get(&self.location) else {
            return false;
        };
        loc.users
            .iter()
            .filter(|u| u.status == UserStatus::Associated && u.id_hash.as_deref() == Some(apple_account_hash))
            .any(|u| {
                let target = Target::User(u.client_user_id.clone());
                loc.assets
                    .iter()
                    .filter(|a| a.key.adam_id == adam_id)
                    .any(|a| loc.assignments.contains_key(&(a.key.clone(), target.clone())))
            })
    }

    /// Devices that install only what this location licensed them, as real
    /// devices do: with `PurchaseMethod` 1 an app assigned to their serial
    /// number; otherwise (books, user-licensed apps) an item assigned to the
    /// associated user whose Apple Account is signed in on the device.
    pub fn license_policy(&self) -> crate::LicensePolicy {
        let location = self.clone();
        crate::LicensePolicy::Oracle(std::sync::Arc::new(move |q| {
            let adam_id = q.itunes_store_id.to_string();
            if q.device_based {
                location.serial_holds_license(&adam_id, q.serial_number)
            } else {
                q.apple_account_hash
                    .is_some_and(|hash| location.account_holds_license(&adam_id, hash))
            }
        }))
    }

    /// A store catalogue answered from this location's apps.
    pub fn store_catalogue(&self) -> crate::StoreCatalogue {
        let location = self.clone();
        crate::StoreCatalogue::new(move |id| location.store_listing(&id.to_string()))
    }

    fn with<T>(&self, f: impl FnOnce(&mut Location) -> Result<T, SimError>) -> Result<T, SimError> {
        let mut world = self.shared.world();
        match world.locations.get_mut(&self.location) {
            Some(loc) if !loc.deleted => f(loc),
            _ => Err(SimError::LocationDeleted),
        }
    }

    fn with_token(&self, f: impl FnOnce(&mut TokenEntry)) {
        if let Some(entry) = self.shared.world().tokens.get_mut(&self.token) {
            f(entry);
        }
    }

    /// The `.vpptoken` file content (one line, no newline): the sToken.
    pub fn token_file_contents(&self) -> String {
        self.token.clone()
    }

    /// The sToken for a VPP client.
    pub fn stoken(&self) -> SToken {
        SToken::new(self.token.clone())
    }

    /// The library id (`uId`), the same for every token of the location.
    pub fn u_id(&self) -> String {
        self.shared
            .world()
            .locations
            .get(&self.location)
            .map(|l| l.u_id.clone())
            .unwrap_or_default()
    }

    /// A new token for the same location (same `uId` and state), as when an
    /// administrator downloads the token again. The old token keeps working until it
    /// expires or is revoked through its own handle.
    pub fn issue_renewed_token(&self, expires_at: OffsetDateTime) -> LocationHandle {
        let mut world = self.shared.world();
        let org = world
            .locations
            .get(&self.location)
            .map(|l| l.org_name.clone())
            .unwrap_or_default();
        let token = mint(&mut world, self.location, &org, expires_at);
        LocationHandle {
            shared: Arc::clone(&self.shared),
            location: self.location,
            token,
        }
    }

    /// Apple revokes this token: its requests get 401/9625.
    pub fn revoke_token(&self) {
        self.with_token(|t| t.revoked = true);
    }

    /// This token expires now: its requests get 401/9621.
    pub fn expire_token(&self) {
        self.with_token(|t| t.expires_at = OffsetDateTime::now_utc() - time::Duration::seconds(1));
    }

    /// The App Store publishes a new version of an app: the metadata lookup
    /// answers it, and devices installing or updating the app get it.
    pub fn publish_version(&self, adam_id: &str, version: &str) {
        let _ = self.with(|loc| {
            for asset in loc.assets.iter_mut().filter(|a| a.key.adam_id == adam_id) {
                asset.spec.metadata.version = version.to_owned();
            }
            Ok(())
        });
    }

    /// A read-only content manager: writes get 403/9637, reads still work.
    pub fn set_read_only(&self, read_only: bool) {
        let _ = self.with(|loc| {
            loc.read_only = read_only;
            Ok(())
        });
    }

    /// The location disappears: every token of it gets 401/9601, pending events are dropped.
    pub fn delete_location(&self) {
        let _ = self.with(|loc| {
            loc.deleted = true;
            Ok(())
        });
    }

    /// Another MDM claims (or clears) the location; every response echoes the new value.
    pub fn set_mdm_info(&self, info: Option<MdmInfo>) {
        let _ = self.with(|loc| {
            loc.config.mdm_info = info;
            Ok(())
        });
    }

    /// The user accepts the invitation: Registered becomes Associated with an `idHash`,
    /// and a USER_ASSOCIATED notification is sent. Returns the idHash.
    pub fn user_accepts_invitation(&self, client_user_id: &str) -> Result<String, SimError> {
        let (hash, out) = self.with(|loc| accept(loc, client_user_id, None))?;
        self.shared.send(out.into_iter().collect());
        Ok(hash)
    }

    /// The user accepts the invitation signed in with the Apple Account
    /// whose hash is `apple_account_hash`: the idHash Apple reports is the
    /// one a device signed in with that account reports as
    /// `iTunesStoreAccountHash`, which is what lets a simulated device find
    /// the user's licenses.
    pub fn user_accepts_invitation_as(
        &self,
        client_user_id: &str,
        apple_account_hash: &str,
    ) -> Result<String, SimError> {
        let (hash, out) = self.with(|loc| accept(loc, client_user_id, Some(apple_account_hash)))?;
        self.shared.send(out.into_iter().collect());
        Ok(hash)
    }

    /// Licenses bought (`delta > 0`) or refunded/transferred away (`delta < 0`): counts
    /// move and an ASSET_COUNT notification is sent. A refund cannot take back assigned
    /// licenses.
    pub fn purchase(&self, adam_id: &str, pricing: PricingParam, delta: i64) -> Result<(), SimError> {
        let out = self.with(|loc| {
            let key = AssetKey::new(adam_id, &pricing);
            let asset = loc
                .asset_mut(&key)
                .ok_or_else(|| SimError::NoSuchAsset(adam_id.to_owned()))?;
            if asset.unlimited() {
                return Err(SimError::NoSuchAsset(format!("{adam_id} (unlimited)")));
            }
            if delta < 0 && asset.available() < -delta {
                return Err(SimError::LicenseShortfall {
                    adam_id: adam_id.to_owned(),
                    available: asset.available(),
                    requested: -delta,
                });
            }
            asset.total += delta;
            loc.assets_version.bump();
            Ok(count_notification(loc, adam_id, pricing, delta))
        })?;
        self.shared.send(out.into_iter().collect());
        Ok(())
    }

    /// A new asset appears in the library (bought for the first time); sends ASSET_COUNT
    /// for limited assets.
    pub fn add_asset(&self, spec: AssetSpec) -> Result<(), SimError> {
        let out = self.with(|loc| {
            let state = AssetState::new(spec);
            if loc.asset(&state.key).is_some() {
                return Err(SimError::NoSuchAsset(format!(
                    "{} (already in the library)",
                    state.key.adam_id
                )));
            }
            let (adam_id, pricing) = (state.spec.adam_id.clone(), state.spec.pricing_param.clone());
            let delta = match state.spec.licenses {
                Licenses::Count(n) => Some(n),
                Licenses::Unlimited => None,
            };
            loc.assets.push(state);
            loc.assets_version.bump();
            Ok(delta.and_then(|d| count_notification(loc, &adam_id, pricing, d)))
        })?;
        self.shared.send(out.into_iter().collect());
        Ok(())
    }

    /// The location's current state.
    pub fn snapshot(&self) -> LocationSnapshot {
        let world = self.shared.world();
        let Some(loc) = world.locations.get(&self.location) else {
            return LocationSnapshot {
                u_id: String::new(),
                assets: Vec::new(),
                assignments: Vec::new(),
                users: Vec::new(),
                events: Vec::new(),
                requests: BTreeMap::new(),
                tallies: BTreeMap::new(),
                mdm_info: None,
                notification_url: None,
                notification_types: Vec::new(),
            };
        };
        LocationSnapshot {
            u_id: loc.u_id.clone(),
            assets: loc.assets.iter().map(AssetState::response).collect(),
            assignments: loc.assignments.keys().map(|(k, t)| k.assignment(t)).collect(),
            users: loc.users.iter().map(|u| u.response()).collect(),
            events: loc
                .event_order
                .iter()
                .filter_map(|id| {
                    let e = loc.events.get(id)?;
                    Some(EventSnapshot {
                        event_id: id.clone(),
                        event_type: e.event_type.clone(),
                        status: e.status.clone(),
                        num_requested: e.num_requested,
                        num_completed: e.num_completed,
                        failures: e.failures.clone(),
                    })
                })
                .collect(),
            requests: loc.requests.clone(),
            tallies: loc.tallies.clone(),
            mdm_info: loc.config.mdm_info.clone(),
            notification_url: loc.config.notification_url.clone(),
            notification_types: loc.config.notification_types.clone(),
        }
    }
}

fn count_notification(loc: &Location, adam_id: &str, pricing: PricingParam, delta: i64) -> Option<Outgoing> {
    notification_for(
        loc,
        NotificationBody::AssetCount(AssetCountNotification {
            adam_id: adam_id.to_owned(),
            pricing_param: pricing,
            count_delta: delta,
        }),
    )
}

/// Registered → Associated. Accepting twice returns the same idHash and sends nothing.
pub(crate) fn accept(
    loc: &mut Location,
    client_user_id: &str,
    apple_account_hash: Option<&str>,
) -> Result<(String, Option<Outgoing>), SimError> {
    let u_id = loc.u_id.clone();
    let seq_needed = loc
        .active_user(client_user_id)
        .ok_or_else(|| SimError::NoSuchUser(client_user_id.to_owned()))?
        .status
        == UserStatus::Registered;
    if !seq_needed {
        let row = loc
            .active_user(client_user_id)
            .map(|r| r.id_hash.clone().unwrap_or_default());
        return Ok((row.unwrap_or_default(), None));
    }
    let seq = loc.users_version.bump();
    let row = loc
        .active_user_mut(client_user_id)
        .ok_or_else(|| SimError::NoSuchUser(client_user_id.to_owned()))?;
    let hash = apple_account_hash.map_or_else(|| id_hash(&format!("{u_id}/{client_user_id}/{seq}")), str::to_owned);
    row.status = UserStatus::Associated;
    row.id_hash = Some(hash.clone());
    row.seq = seq;
    let body = NotificationBody::UserAssociated(UserAssociatedNotification {
        associated_users: vec![row.response()],
    });
    Ok((hash, notification_for(loc, body)))
}
