//! Device-level commands: DeviceInformation, EraseDevice, DeviceConfigured and the
//! Shared iPad user commands.

use plist::Dictionary;

use crate::MdmError;
use crate::fields::{DictWriter, Fields, Record};

/// Names of common `DeviceInformation` queries, so typos fail at compile time.
pub mod query {
    /// `UDID`.
    pub const UDID: &str = "UDID";
    /// `SerialNumber`.
    pub const SERIAL_NUMBER: &str = "SerialNumber";
    /// `DeviceName`.
    pub const DEVICE_NAME: &str = "DeviceName";
    /// `OSVersion`.
    pub const OS_VERSION: &str = "OSVersion";
    /// `BuildVersion`.
    pub const BUILD_VERSION: &str = "BuildVersion";
    /// `ProductName`.
    pub const PRODUCT_NAME: &str = "ProductName";
    /// `ModelName`.
    pub const MODEL_NAME: &str = "ModelName";
    /// `Model`.
    pub const MODEL: &str = "Model";
    /// `DeviceCapacity`.
    pub const DEVICE_CAPACITY: &str = "DeviceCapacity";
    /// `AvailableDeviceCapacity`.
    pub const AVAILABLE_DEVICE_CAPACITY: &str = "AvailableDeviceCapacity";
    /// `IsSupervised`.
    pub const IS_SUPERVISED: &str = "IsSupervised";
    /// `IsMultiUser`.
    pub const IS_MULTI_USER: &str = "IsMultiUser";
    /// `iTunesStoreAccountIsActive` (needs the app-installation right).
    pub const ITUNES_STORE_ACCOUNT_IS_ACTIVE: &str = "iTunesStoreAccountIsActive";
    /// `iTunesStoreAccountHash` (needs the app-installation right).
    pub const ITUNES_STORE_ACCOUNT_HASH: &str = "iTunesStoreAccountHash";
    /// `AwaitingConfiguration`.
    pub const AWAITING_CONFIGURATION: &str = "AwaitingConfiguration";
    /// `MaximumResidentUsers`.
    pub const MAXIMUM_RESIDENT_USERS: &str = "MaximumResidentUsers";
    /// `WiFiMAC`.
    pub const WIFI_MAC: &str = "WiFiMAC";
    /// `IsRoaming`.
    pub const IS_ROAMING: &str = "IsRoaming";

    /// What an Apps & Books server needs to decide how to license and install apps.
    pub const APP_DISTRIBUTION: &[&str] = &[
        UDID,
        SERIAL_NUMBER,
        DEVICE_NAME,
        OS_VERSION,
        BUILD_VERSION,
        PRODUCT_NAME,
        MODEL_NAME,
        MODEL,
        DEVICE_CAPACITY,
        AVAILABLE_DEVICE_CAPACITY,
        IS_SUPERVISED,
        IS_MULTI_USER,
        ITUNES_STORE_ACCOUNT_IS_ACTIVE,
        ITUNES_STORE_ACCOUNT_HASH,
        AWAITING_CONFIGURATION,
    ];
}

/// `DeviceInformation`: ask for device properties. Unanswerable queries are silently
/// left out of the reply.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DeviceInformation {
    /// `Queries`.
    pub queries: Vec<String>,
    /// `DeviceAttestationNonce` (iOS 16+), for `DevicePropertiesAttestation`.
    pub device_attestation_nonce: Option<Vec<u8>>,
    /// Keys this crate does not model.
    pub extra: Dictionary,
}

impl DeviceInformation {
    /// Asks for these queries (see [`query`]).
    pub fn new<I: IntoIterator<Item = S>, S: Into<String>>(queries: I) -> Self {
        Self {
            queries: queries.into_iter().map(Into::into).collect(),
            device_attestation_nonce: None,
            extra: Dictionary::new(),
        }
    }

    /// Asks for [`query::APP_DISTRIBUTION`].
    pub fn for_app_distribution() -> Self {
        Self::new(query::APP_DISTRIBUTION.iter().copied())
    }
}

impl Record for DeviceInformation {
    fn read(mut f: Fields) -> Result<Self, MdmError> {
        Ok(Self {
            queries: f.strings("Queries")?.ok_or_else(|| f.missing("Queries"))?,
            device_attestation_nonce: f.data("DeviceAttestationNonce")?,
            extra: f.rest(),
        })
    }

    fn write(&self, out: &mut DictWriter) {
        out.opt_strings("Queries", Some(&self.queries));
        out.opt_data("DeviceAttestationNonce", self.device_attestation_nonce.as_deref());
        out.extra(&self.extra);
    }
}

/// `EraseDevice`: wipe the device. Expect an acknowledgement and then silence: a
/// wiped device rarely sends `CheckOut`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EraseDevice {
    /// `PreserveDataPlan` (iOS 11+, eSIM).
    pub preserve_data_plan: Option<bool>,
    /// `DisallowProximitySetup` (iOS 11.3+).
    pub disallow_proximity_setup: Option<bool>,
    /// `PIN` (macOS Find My lock PIN).
    pub pin: Option<String>,
    /// `ObliterationBehavior` (macOS 12+).
    pub obliteration_behavior: Option<String>,
    /// `ReturnToService` (iOS 17+): `{Enabled, WiFiProfileData?, MDMProfileData?}`.
    pub return_to_service: Option<Dictionary>,
    /// Keys this crate does not model.
    pub extra: Dictionary,
}

impl Record for EraseDevice {
    fn read(mut f: Fields) -> Result<Self, MdmError> {
        Ok(Self {
            preserve_data_plan: f.bool("PreserveDataPlan")?,
            disallow_proximity_setup: f.bool("DisallowProximitySetup")?,
            pin: f.string("PIN")?,
            obliteration_behavior: f.string("ObliterationBehavior")?,
            return_to_service: f.dictionary("ReturnToService")?,
            extra: f.rest(),
        })
    }

    fn write(&self, out: &mut DictWriter) {
        out.opt_bool("PreserveDataPlan", self.preserve_data_plan);
        out.opt_bool("DisallowProximitySetup", self.disallow_proximity_setup);
        out.opt_string("PIN", self.pin.as_deref());
        out.opt_string("ObliterationBehavior", self.obliteration_behavior.as_deref());
        out.opt_dictionary("ReturnToService", self.return_to_service.as_ref());
        out.extra(&self.extra);
    }
}

/// Declares a request without parameters.
macro_rules! parameterless_request {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Default, PartialEq)]
        pub struct $name {
            /// Keys this crate does not model.
            pub extra: Dictionary,
        }

        impl Record for $name {
            fn read(mut f: Fields) -> Result<Self, MdmError> {
                Ok(Self { extra: f.rest() })
            }

            fn write(&self, out: &mut DictWriter) {
                out.extra(&self.extra);
            }
        }
    };
}

parameterless_request! {
    /// `DeviceConfigured`: lets a device that reported `AwaitingConfiguration` leave
    /// Setup Assistant.
    DeviceConfigured
}

parameterless_request! {
    /// `UserList` (Shared iPad, device channel): the resident users.
    UserList
}

parameterless_request! {
    /// `LogOutUser` (Shared iPad): force the current user to log out.
    LogOutUser
}

/// `DeleteUser` (Shared iPad): remove a resident user (or all of them).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DeleteUser {
    /// `UserName`: required unless `DeleteAllUsers` is true.
    pub user_name: Option<String>,
    /// `DeleteAllUsers` (iOS 14+).
    pub delete_all_users: Option<bool>,
    /// `ForceDeletion`: delete even with data not yet synced.
    pub force_deletion: Option<bool>,
    /// Keys this crate does not model.
    pub extra: Dictionary,
}

impl DeleteUser {
    /// Deletes one user by Managed Apple Account name.
    pub fn user(user_name: impl Into<String>) -> Self {
        Self {
            user_name: Some(user_name.into()),
            ..Self::default()
        }
    }

    /// Deletes every resident user.
    pub fn all_users() -> Self {
        Self {
            delete_all_users: Some(true),
            ..Self::default()
        }
    }
}

impl Record for DeleteUser {
    fn read(mut f: Fields) -> Result<Self, MdmError> {
        Ok(Self {
            user_name: f.string("UserName")?,
            delete_all_users: f.bool("DeleteAllUsers")?,
            force_deletion: f.bool("ForceDeletion")?,
            extra: f.rest(),
        })
    }

    fn write(&self, out: &mut DictWriter) {
        out.opt_string("UserName", self.user_name.as_deref());
        out.opt_bool("DeleteAllUsers", self.delete_all_users);
        out.opt_bool("ForceDeletion", self.force_deletion);
        out.extra(&self.extra);
    }
}
