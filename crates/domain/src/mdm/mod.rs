//! What an account needs to manage devices with Apple's MDM protocol: the
//! APNs push certificate that wakes its devices, the device CA and
//! enrollment profiles that give each device its identity, and the two
//! endpoints devices talk to (check-in and command), with the pusher that
//! wakes them.

pub mod checkin;
pub mod commands;
pub mod connect;
pub mod device_auth;
pub mod enrollment;
pub mod push_certificate;
pub mod pusher;
pub mod remove_app;
pub mod results;
pub mod store;

use std::collections::HashMap;
use std::sync::Mutex;

pub use checkin::CheckinReply;
pub use commands::DeviceCommandKind;
pub use connect::ConnectReply;
pub use device_auth::{ClientProof, DeviceRequestError};
pub use enrollment::{StoredDeviceCa, StoredEnrollmentIdentity};
pub use push_certificate::{PushCertificate, StoredPushCertificate};
pub use store::{EnrollmentRecord, Inventory, InventoryKind, MdmStore};

use crate::ids::DeviceId;
use crate::time_util::Timestamp;

/// Per-process state of the MDM endpoints, shared by clones of `Services`.
pub struct MdmRuntime {
    pub anchors: device_auth::AnchorCache,
    pub touches: TouchCache,
    /// Woken when jobs are queued, so the pusher does not wait for its tick.
    pub push_wake: tokio::sync::Notify,
    /// The key type of device identities in new profiles.
    pub identity_key: mdm_identity::KeyAlgorithm,
    /// Signs enrollment profiles (CMS) so devices show them as verified;
    /// unsigned when not configured.
    pub profile_signer: Option<std::sync::Arc<mdm_identity::Signer>>,
    /// How installs are verified against the managed app list (J7).
    pub verify: crate::deploy::verify::VerifySettings,
    /// Woken when a deployment has something to do.
    pub deployments_wake: tokio::sync::Notify,
    /// Woken when auto-install rules may have new devices: an app list
    /// arrived, a device changed group, a rule changed.
    pub rules_wake: tokio::sync::Notify,
    /// Accounts with nothing to update automatically (saves reading every
    /// app list each pass).
    pub auto_update_idle: crate::deploy::IdleUpdates,
}

impl Default for MdmRuntime {
    fn default() -> Self {
        Self {
            anchors: Default::default(),
            touches: Default::default(),
            push_wake: tokio::sync::Notify::new(),
            identity_key: mdm_identity::KeyAlgorithm::Rsa,
            profile_signer: None,
            verify: Default::default(),
            deployments_wake: tokio::sync::Notify::new(),
            rules_wake: tokio::sync::Notify::new(),
            auto_update_idle: Default::default(),
        }
    }
}

/// When each device's check-in time was last written.
#[derive(Default)]
pub struct TouchCache(Mutex<HashMap<DeviceId, i64>>);

const TOUCH_EVERY_MILLIS: i64 = 60_000;

impl TouchCache {
    fn should_touch(&self, device: DeviceId, now: Timestamp) -> bool {
        let mut map = self.0.lock().expect("touch cache");
        if map.len() > 200_000 {
            map.clear();
        }
        match map.get(&device) {
            Some(last) if now.0 - last < TOUCH_EVERY_MILLIS => false,
            _ => {
                map.insert(device, now.0);
                true
            }
        }
    }

    /// Forgets a device, so its next request is recorded (after an
    /// unenrollment, say).
    pub fn forget(&self, device: DeviceId) {
        self.0.lock().expect("touch cache").remove(&device);
    }
}
