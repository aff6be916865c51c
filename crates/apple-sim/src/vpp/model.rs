//! The simulator's state: tokens, locations, their assets, assignments, users, client
//! configuration and events. Plain data behind one mutex; nothing here awaits.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::time::Instant;

use apple_vpp::{
    Assignment, ErrorResponse, EventStatus, EventType, ManageAssetsRequest, ManageUsersRequest, MdmInfo,
    NotificationType, PricingParam, ResponseAsset, ResponseUser, RevokeAssetsRequest, UserStatus,
};
use time::OffsetDateTime;

use super::catalog::{AssetSpec, Licenses, LocationSpec};

/// Free assets report this many licenses (Apple: i32::MAX).
pub(crate) const UNLIMITED_TOTAL: i64 = i32::MAX as i64;

/// Who an assignment is for.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Target {
    /// A user-based assignment (`clientUserId`).
    User(String),
    /// A device-based assignment (`serialNumber`).
    Serial(String),
}

/// `(adamId, pricingParam)` as text, orderable for maps and reports.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AssetKey {
    /// The store id.
    pub adam_id: String,
    /// `STDQ` or `PLUS`.
    pub pricing_param: String,
}

impl AssetKey {
    pub(crate) fn new(adam_id: &str, pricing: &PricingParam) -> Self {
        Self {
            adam_id: adam_id.to_owned(),
            pricing_param: pricing.as_str().to_owned(),
        }
    }

    pub(crate) fn assignment(&self, target: &Target) -> Assignment {
        let (client_user_id, serial_number) = match target {
            Target::User(u) => (Some(u.clone()), None),
            Target::Serial(s) => (None, Some(s.clone())),
        };
        Assignment {
            adam_id: self.adam_id.clone(),
            pricing_param: PricingParam::from(self.pricing_param.as_str()),
            client_user_id,
            serial_number,
            user_status: None,
            id_hash: None,
        }
    }
}

/// A data set whose `versionId` changes on every write. Each record remembers the
/// sequence number of its last change, so `sinceVersionId` maps to "changed after seq".
#[derive(Debug)]
pub(crate) struct Versions {
    seq: u64,
    current: String,
    known: HashMap<String, u64>,
}

impl Versions {
    pub fn new() -> Self {
        let current = uuid::Uuid::new_v4().to_string();
        Self {
            seq: 0,
            known: HashMap::from([(current.clone(), 0)]),
            current,
        }
    }

    /// Starts a new version; returns the sequence number records changed now carry.
    pub fn bump(&mut self) -> u64 {
        self.seq += 1;
        self.current = uuid::Uuid::new_v4().to_string();
        self.known.insert(self.current.clone(), self.seq);
        self.seq
    }

    pub fn current(&self) -> &str {
        &self.current
    }

    pub fn seq_of(&self, version_id: &str) -> Option<u64> {
        self.known.get(version_id).copied()
    }
}

/// An asset with its live counts.
#[derive(Debug, Clone)]
pub(crate) struct AssetState {
    pub spec: AssetSpec,
    pub key: AssetKey,
    pub total: i64,
    pub assigned: i64,
    pub retired: i64,
}

impl AssetState {
    pub fn new(spec: AssetSpec) -> Self {
        let total = match spec.licenses {
            Licenses::Count(n) => n.max(0),
            Licenses::Unlimited => UNLIMITED_TOTAL,
        };
        Self {
            key: AssetKey::new(&spec.adam_id, &spec.pricing_param),
            spec,
            total,
            assigned: 0,
            retired: 0,
        }
    }

    pub fn unlimited(&self) -> bool {
        self.spec.licenses == Licenses::Unlimited
    }

    /// Kept derived so `total = assigned + available + retired` can never drift.
    pub fn available(&self) -> i64 {
        (self.total - self.assigned - self.retired).max(0)
    }

    pub fn response(&self) -> ResponseAsset {
        ResponseAsset {
            adam_id: self.spec.adam_id.clone(),
            pricing_param: self.spec.pricing_param.clone(),
            product_type: Some(self.spec.product_type.clone()),
            assigned_count: self.assigned,
            available_count: self.available(),
            retired_count: self.retired,
            total_count: self.total,
            device_assignable: self.spec.device_assignable,
            revocable: self.spec.revocable,
            supported_platforms: self.spec.supported_platforms.clone(),
        }
    }
}

/// One row of a user's history; a clientUserId has at most one active row.
#[derive(Debug, Clone)]
pub(crate) struct UserRow {
    pub client_user_id: String,
    pub email: Option<String>,
    pub id_hash: Option<String>,
    pub invite_code: Option<String>,
    pub status: UserStatus,
    pub seq: u64,
}

impl UserRow {
    pub fn active(&self) -> bool {
        matches!(self.status, UserStatus::Registered | UserStatus::Associated)
    }

    pub fn response(&self) -> ResponseUser {
        ResponseUser {
            client_user_id: self.client_user_id.clone(),
            email: self.email.clone(),
            id_hash: self.id_hash.clone(),
            invite_code: self.invite_code.clone(),
            status: Some(self.status.clone()),
        }
    }
}

/// What POST client/config stored.
#[derive(Debug, Clone, Default)]
pub(crate) struct ClientConfigState {
    pub mdm_info: Option<MdmInfo>,
    pub notification_url: Option<String>,
    pub notification_auth_token: Option<String>,
    pub notification_types: Vec<NotificationType>,
}

/// The request an event will apply.
#[derive(Debug, Clone)]
pub(crate) enum EventWork {
    Manage(ManageAssetsRequest),
    Revoke(RevokeAssetsRequest),
    Users(ManageUsersRequest),
}

#[derive(Debug, Clone)]
pub(crate) struct EventState {
    pub event_type: EventType,
    pub status: EventStatus,
    pub num_requested: u32,
    pub num_completed: u32,
    pub failures: Vec<ErrorResponse>,
    pub work: Option<EventWork>,
}

/// How often each (asset, target) pair really changed, to prove nothing ran twice.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TaskTally {
    /// Associations that consumed a license.
    pub associated: u32,
    /// Disassociations, revocations and releases on retirement that returned one.
    pub released: u32,
}

#[derive(Debug)]
pub(crate) struct Location {
    pub id: u64,
    pub u_id: String,
    pub org_name: String,
    pub name: String,
    pub country: String,
    pub default_platform: String,
    pub read_only: bool,
    pub deleted: bool,
    pub assets: Vec<AssetState>,
    pub assets_version: Versions,
    pub assignments: BTreeMap<(AssetKey, Target), u64>,
    pub assignments_version: Versions,
    pub users: Vec<UserRow>,
    pub users_version: Versions,
    pub config: ClientConfigState,
    pub events: HashMap<String, EventState>,
    pub event_order: Vec<String>,
    pub requests: BTreeMap<String, u64>,
    pub tallies: BTreeMap<(AssetKey, Target), TaskTally>,
}

impl Location {
    pub fn new(id: u64, spec: &LocationSpec) -> Self {
        Self {
            id,
            // Apple's library ids are long digit strings.
            u_id: (2_049_025_000_000_000u64 + id).to_string(),
            org_name: spec.org_name.clone(),
            name: spec.location_name.clone(),
            country: spec.country.clone(),
            default_platform: spec.default_platform.clone(),
            read_only: false,
            deleted: false,
            assets: spec.assets.iter().cloned().map(AssetState::new).collect(),
            assets_version: Versions::new(),
            assignments: BTreeMap::new(),
            assignments_version: Versions::new(),
            users: Vec::new(),
            users_version: Versions::new(),
            config: ClientConfigState::default(),
            events: HashMap::new(),
            event_order: Vec::new(),
            requests: BTreeMap::new(),
            tallies: BTreeMap::new(),
        }
    }

    pub fn asset(&self, key: &AssetKey) -> Option<&AssetState> {
        self.assets.iter().find(|a| &a.key == key)
    }

    pub fn asset_mut(&mut self, key: &AssetKey) -> Option<&mut AssetState> {
        self.assets.iter_mut().find(|a| &a.key == key)
    }

    pub fn active_user(&self, client_user_id: &str) -> Option<&UserRow> {
        self.users
            .iter()
            .find(|u| u.client_user_id == client_user_id && u.active())
    }

    pub fn active_user_mut(&mut self, client_user_id: &str) -> Option<&mut UserRow> {
        self.users
            .iter_mut()
            .find(|u| u.client_user_id == client_user_id && u.active())
    }

    /// The newest row of a clientUserId, active or not.
    pub fn latest_user(&self, client_user_id: &str) -> Option<&UserRow> {
        self.users.iter().rev().find(|u| u.client_user_id == client_user_id)
    }
}

/// One issued content token.
#[derive(Debug)]
pub(crate) struct TokenEntry {
    pub location: u64,
    pub expires_at: OffsetDateTime,
    pub revoked: bool,
    /// Arrival times within the last second, for `maxRequestPerSecond`.
    pub recent: VecDeque<Instant>,
}

/// Everything the simulator knows.
#[derive(Debug, Default)]
pub(crate) struct World {
    pub locations: BTreeMap<u64, Location>,
    pub tokens: HashMap<String, TokenEntry>,
    pub next_location: u64,
}
