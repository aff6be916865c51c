//! Result payloads of device-level commands: DeviceInformation, UserList, Settings.

use plist::Dictionary;

use crate::fields::{DictWriter, Fields, Record, plist_record};
use crate::{CommandStatus, ErrorChain, MdmError, Udid};

/// `QueryResponses` of `DeviceInformation`.
///
/// Only the queries relevant to enrollment and app distribution are typed; every
/// other answer stays in `extra`. All fields are optional because the device silently
/// omits queries it cannot or may not answer.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct QueryResponses {
    /// `UDID`.
    pub udid: Option<Udid>,
    /// `SerialNumber`: the key for device-assigned Apps & Books licenses.
    pub serial_number: Option<String>,
    /// `DeviceName`.
    pub device_name: Option<String>,
    /// `OSVersion`.
    pub os_version: Option<String>,
    /// `BuildVersion`.
    pub build_version: Option<String>,
    /// `ProductName`, e.g. `iPad8,12`.
    pub product_name: Option<String>,
    /// `ModelName`, e.g. `iPad`.
    pub model_name: Option<String>,
    /// `Model`, e.g. `MD786X`.
    pub model: Option<String>,
    /// `ModelNumber`.
    pub model_number: Option<String>,
    /// `DeviceCapacity` in GB (base 10 on iOS).
    pub device_capacity: Option<f64>,
    /// `AvailableDeviceCapacity` in GB.
    pub available_device_capacity: Option<f64>,
    /// `IsSupervised`: unsupervised devices prompt before installing apps.
    pub is_supervised: Option<bool>,
    /// `IsMultiUser`: a Shared iPad.
    pub is_multi_user: Option<bool>,
    /// `IsActivationLockEnabled`.
    pub is_activation_lock_enabled: Option<bool>,
    /// `iTunesStoreAccountIsActive`: an App Store account is signed in.
    pub itunes_store_account_is_active: Option<bool>,
    /// `iTunesStoreAccountHash`: equals the Apps & Books `itsIdHash` of the user.
    pub itunes_store_account_hash: Option<String>,
    /// `AwaitingConfiguration`.
    pub awaiting_configuration: Option<bool>,
    /// `TimeZone`.
    pub time_zone: Option<String>,
    /// `MaximumResidentUsers` (Shared iPad).
    pub maximum_resident_users: Option<u64>,
    /// `QuotaSize` in MB (Shared iPad).
    pub quota_size: Option<u64>,
    /// `HostName` (macOS).
    pub host_name: Option<String>,
    /// `WiFiMAC`.
    pub wifi_mac: Option<String>,
    /// `BluetoothMAC`.
    pub bluetooth_mac: Option<String>,
    /// `IMEI`.
    pub imei: Option<String>,
    /// `MEID`.
    pub meid: Option<String>,
    /// `ICCID`.
    pub iccid: Option<String>,
    /// `IsRoaming`.
    pub is_roaming: Option<bool>,
    /// `DataRoamingEnabled`.
    pub data_roaming_enabled: Option<bool>,
    /// `VoiceRoamingEnabled`.
    pub voice_roaming_enabled: Option<bool>,
    /// `SubscriberMCC`.
    pub subscriber_mcc: Option<String>,
    /// `SubscriberMNC`.
    pub subscriber_mnc: Option<String>,
    /// Every other query answer, untouched.
    pub extra: Dictionary,
}

impl Record for QueryResponses {
    fn read(mut f: Fields) -> Result<Self, MdmError> {
        Ok(Self {
            udid: f.string("UDID")?.map(Udid::from),
            serial_number: f.string("SerialNumber")?,
            device_name: f.string("DeviceName")?,
            os_version: f.string("OSVersion")?,
            build_version: f.string("BuildVersion")?,
            product_name: f.string("ProductName")?,
            model_name: f.string("ModelName")?,
            model: f.string("Model")?,
            model_number: f.string("ModelNumber")?,
            device_capacity: f.real("DeviceCapacity")?,
            available_device_capacity: f.real("AvailableDeviceCapacity")?,
            is_supervised: f.bool("IsSupervised")?,
            is_multi_user: f.bool("IsMultiUser")?,
            is_activation_lock_enabled: f.bool("IsActivationLockEnabled")?,
            itunes_store_account_is_active: f.bool("iTunesStoreAccountIsActive")?,
            itunes_store_account_hash: f.string("iTunesStoreAccountHash")?,
            awaiting_configuration: f.bool("AwaitingConfiguration")?,
            time_zone: f.string("TimeZone")?,
            maximum_resident_users: f.unsigned("MaximumResidentUsers")?,
            quota_size: f.unsigned("QuotaSize")?,
            host_name: f.string("HostName")?,
            wifi_mac: f.string("WiFiMAC")?,
            bluetooth_mac: f.string("BluetoothMAC")?,
            imei: f.string("IMEI")?,
            meid: f.string("MEID")?,
            iccid: f.string("ICCID")?,
            is_roaming: f.bool("IsRoaming")?,
            data_roaming_enabled: f.bool("DataRoamingEnabled")?,
            voice_roaming_enabled: f.bool("VoiceRoamingEnabled")?,
            subscriber_mcc: f.string("SubscriberMCC")?,
            subscriber_mnc: f.string("SubscriberMNC")?,
            extra: f.rest(),
        })
    }

    fn write(&self, out: &mut DictWriter) {
        out.opt_string("UDID", self.udid.as_ref().map(Udid::as_str));
        out.opt_string("SerialNumber", self.serial_number.as_deref());
        out.opt_string("DeviceName", self.device_name.as_deref());
        out.opt_string("OSVersion", self.os_version.as_deref());
        out.opt_string("BuildVersion", self.build_version.as_deref());
        out.opt_string("ProductName", self.product_name.as_deref());
        out.opt_string("ModelName", self.model_name.as_deref());
        out.opt_string("Model", self.model.as_deref());
        out.opt_string("ModelNumber", self.model_number.as_deref());
        out.opt_real("DeviceCapacity", self.device_capacity);
        out.opt_real("AvailableDeviceCapacity", self.available_device_capacity);
        out.opt_bool("IsSupervised", self.is_supervised);
        out.opt_bool("IsMultiUser", self.is_multi_user);
        out.opt_bool("IsActivationLockEnabled", self.is_activation_lock_enabled);
        out.opt_bool("iTunesStoreAccountIsActive", self.itunes_store_account_is_active);
        out.opt_string("iTunesStoreAccountHash", self.itunes_store_account_hash.as_deref());
        out.opt_bool("AwaitingConfiguration", self.awaiting_configuration);
        out.opt_string("TimeZone", self.time_zone.as_deref());
        out.opt_unsigned("MaximumResidentUsers", self.maximum_resident_users);
        out.opt_unsigned("QuotaSize", self.quota_size);
        out.opt_string("HostName", self.host_name.as_deref());
        out.opt_string("WiFiMAC", self.wifi_mac.as_deref());
        out.opt_string("BluetoothMAC", self.bluetooth_mac.as_deref());
        out.opt_string("IMEI", self.imei.as_deref());
        out.opt_string("MEID", self.meid.as_deref());
        out.opt_string("ICCID", self.iccid.as_deref());
        out.opt_bool("IsRoaming", self.is_roaming);
        out.opt_bool("DataRoamingEnabled", self.data_roaming_enabled);
        out.opt_bool("VoiceRoamingEnabled", self.voice_roaming_enabled);
        out.opt_string("SubscriberMCC", self.subscriber_mcc.as_deref());
        out.opt_string("SubscriberMNC", self.subscriber_mnc.as_deref());
        out.extra(&self.extra);
    }
}

/// Result of `DeviceInformation`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DeviceInformationResult {
    /// `QueryResponses`.
    pub query_responses: QueryResponses,
    /// Keys this crate does not model.
    pub extra: Dictionary,
}

impl Record for DeviceInformationResult {
    fn read(mut f: Fields) -> Result<Self, MdmError> {
        Ok(Self {
            query_responses: f.record("QueryResponses")?.ok_or_else(|| f.missing("QueryResponses"))?,
            extra: f.rest(),
        })
    }

    fn write(&self, out: &mut DictWriter) {
        out.record("QueryResponses", &self.query_responses);
        out.extra(&self.extra);
    }
}

/// One account in `UserList` (Shared iPad, or macOS).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UserAccount {
    /// `UserName`: the Managed Apple Account (iOS) or short name (macOS).
    pub user_name: String,
    /// `IsLoggedIn`.
    pub is_logged_in: Option<bool>,
    /// `HasDataToSync`: deleting the user now would lose data.
    pub has_data_to_sync: Option<bool>,
    /// `DataQuota` in bytes; absent when no quota is enforced.
    pub data_quota: Option<u64>,
    /// `DataUsed` in bytes.
    pub data_used: Option<u64>,
    /// Keys this crate does not model (macOS adds `FullName`, `UID`, ...).
    pub extra: Dictionary,
}

impl Record for UserAccount {
    fn read(mut f: Fields) -> Result<Self, MdmError> {
        Ok(Self {
            user_name: f.required_string("UserName")?,
            is_logged_in: f.bool("IsLoggedIn")?,
            has_data_to_sync: f.bool("HasDataToSync")?,
            data_quota: f.unsigned("DataQuota")?,
            data_used: f.unsigned("DataUsed")?,
            extra: f.rest(),
        })
    }

    fn write(&self, out: &mut DictWriter) {
        out.string("UserName", &self.user_name);
        out.opt_bool("IsLoggedIn", self.is_logged_in);
        out.opt_bool("HasDataToSync", self.has_data_to_sync);
        out.opt_unsigned("DataQuota", self.data_quota);
        out.opt_unsigned("DataUsed", self.data_used);
        out.extra(&self.extra);
    }
}

/// Result of `UserList`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UserListResult {
    /// `Users`.
    pub users: Vec<UserAccount>,
    /// Keys this crate does not model.
    pub extra: Dictionary,
}

impl UserListResult {
    /// Whether anyone is logged in, which blocks OS updates on Shared iPad.
    pub fn anyone_logged_in(&self) -> bool {
        self.users.iter().any(|user| user.is_logged_in == Some(true))
    }
}

impl Record for UserListResult {
    fn read(mut f: Fields) -> Result<Self, MdmError> {
        Ok(Self {
            users: f.records("Users")?.ok_or_else(|| f.missing("Users"))?,
            extra: f.rest(),
        })
    }

    fn write(&self, out: &mut DictWriter) {
        out.opt_records("Users", Some(&self.users));
        out.extra(&self.extra);
    }
}

/// The outcome of one item of a `Settings` command.
#[derive(Debug, Clone, PartialEq)]
pub struct SettingResult {
    /// `Status`: `Acknowledged` or `Error`.
    pub status: CommandStatus,
    /// `Identifier`: the app's bundle id for app settings.
    pub identifier: Option<String>,
    /// `ErrorChain`, on `Error`.
    pub error_chain: ErrorChain,
    /// Keys this crate does not model.
    pub extra: Dictionary,
}

impl Record for SettingResult {
    fn read(mut f: Fields) -> Result<Self, MdmError> {
        let status_text = f.required_string("Status")?;
        let status = CommandStatus::from_wire(&status_text)
            .ok_or_else(|| f.invalid("Status", status_text, "Acknowledged or Error"))?;
        Ok(Self {
            status,
            identifier: f.string("Identifier")?,
            error_chain: ErrorChain(f.records("ErrorChain")?.unwrap_or_default()),
            extra: f.rest(),
        })
    }

    fn write(&self, out: &mut DictWriter) {
        out.string("Status", self.status.as_str());
        out.opt_string("Identifier", self.identifier.as_deref());
        if !self.error_chain.is_empty() {
            out.opt_records("ErrorChain", Some(self.error_chain.items()));
        }
        out.extra(&self.extra);
    }
}

/// Result of `Settings`: one entry per requested item, in request order.
///
/// The overall report status stays `Acknowledged` even when items fail, so the
/// per-item statuses are the only place failures show up.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SettingsResult {
    /// `Settings`.
    pub settings: Vec<SettingResult>,
    /// Keys this crate does not model.
    pub extra: Dictionary,
}

impl Record for SettingsResult {
    fn read(mut f: Fields) -> Result<Self, MdmError> {
        Ok(Self {
            settings: f.records("Settings")?.ok_or_else(|| f.missing("Settings"))?,
            extra: f.rest(),
        })
    }

    fn write(&self, out: &mut DictWriter) {
        out.opt_records("Settings", Some(&self.settings));
        out.extra(&self.extra);
    }
}

plist_record!(
    QueryResponses,
    DeviceInformationResult,
    UserAccount,
    UserListResult,
    SettingResult,
    SettingsResult,
);
