//! Result payloads of the app commands.

use std::collections::BTreeMap;

use plist::Dictionary;

use crate::MdmError;
use crate::command::{AppAttributes, ManagementFlags};
use crate::fields::{DictWriter, Fields, Record, plist_record, string_enum};

string_enum! {
    /// A managed app's state, as reported by `ManagedApplicationList` (`Status`) and
    /// by the `InstallApplication` acknowledgement (`State`).
    pub enum ManagedAppStatus {
        /// Scheduled for installation.
        Queued => "Queued",
        /// Waiting for a redemption code (legacy paid flow).
        NeedsRedemption => "NeedsRedemption",
        /// Redeeming the code.
        Redeeming => "Redeeming",
        /// The user is being asked to install (unsupervised devices).
        Prompting => "Prompting",
        /// The user is being asked to sign in to the App Store.
        PromptingForLogin => "PromptingForLogin",
        /// Purchase or license validation in progress.
        ValidatingPurchase => "ValidatingPurchase",
        /// The user is being asked to approve an update.
        PromptingForUpdate => "PromptingForUpdate",
        /// The user is being asked to sign in for an update.
        PromptingForUpdateLogin => "PromptingForUpdateLogin",
        /// The user is being asked to let MDM take over an app they installed.
        PromptingForManagement => "PromptingForManagement",
        /// Update validation in progress.
        ValidatingUpdate => "ValidatingUpdate",
        /// Update in progress.
        Updating => "Updating",
        /// Downloading or installing.
        Installing => "Installing",
        /// Installed and managed: success.
        Managed => "Managed",
        /// Managed, but the user deleted it; reinstalling makes it managed again.
        ManagedButUninstalled => "ManagedButUninstalled",
        /// The device does not know.
        Unknown => "Unknown",
        /// The user installed it before MDM could (reported once).
        UserInstalledApp => "UserInstalledApp",
        /// The user declined the install prompt (reported once).
        UserRejected => "UserRejected",
        /// The user declined the update prompt (reported once).
        UpdateRejected => "UpdateRejected",
        /// The user declined the management takeover (reported once).
        ManagementRejected => "ManagementRejected",
        /// Installation failed (reported once).
        Failed => "Failed",
    }
}

impl ManagedAppStatus {
    /// Transient states are reported exactly once and then vanish from the next
    /// `ManagedApplicationList`, so a server must persist them when it sees them.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            Self::UserInstalledApp
                | Self::UserRejected
                | Self::UpdateRejected
                | Self::ManagementRejected
                | Self::Failed
        )
    }

    /// Whether the device is still working on (or waiting for the user about) the app.
    pub fn is_in_progress(&self) -> bool {
        matches!(
            self,
            Self::Queued
                | Self::NeedsRedemption
                | Self::Redeeming
                | Self::Prompting
                | Self::PromptingForLogin
                | Self::ValidatingPurchase
                | Self::PromptingForUpdate
                | Self::PromptingForUpdateLogin
                | Self::PromptingForManagement
                | Self::ValidatingUpdate
                | Self::Updating
                | Self::Installing
        )
    }
}

string_enum! {
    /// `RejectionReason` of a failed `InstallApplication`.
    pub enum InstallRejectionReason {
        /// Installed unmanaged by the user; resend with `ChangeManagementState`.
        AppAlreadyInstalled => "AppAlreadyInstalled",
        /// An install of this app is already queued.
        AppAlreadyQueued => "AppAlreadyQueued",
        /// The App Store is disabled by restriction.
        AppStoreDisabled => "AppStoreDisabled",
        /// The store id or bundle id could not be verified.
        CouldNotVerifyAppID => "CouldNotVerifyAppID",
        /// The management takeover is not possible (e.g. User Enrollment).
        ManagementChangeNotSupported => "ManagementChangeNotSupported",
        /// The id does not denote an app.
        NotAnApp => "NotAnApp",
        /// Not supported on this device.
        NotSupported => "NotSupported",
        /// The wire value `Other`: unspecified (macOS always reports this).
        Unspecified => "Other",
        /// The `PurchaseMethod` is not supported here.
        PurchaseMethodNotSupported => "PurchaseMethodNotSupported",
        /// Shared iPad accepts only device-assigned licenses.
        PurchaseMethodNotSupportedInMultiUser => "PurchaseMethodNotSupportedInMultiUser",
    }
}

/// Acknowledgement (or failure detail) of `InstallApplication`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct InstallApplicationResult {
    /// `Identifier`: the bundle id, when the device accepted the request.
    pub identifier: Option<String>,
    /// `State`: where the install stands right now (e.g. `Prompting`, `Installing`).
    pub state: Option<ManagedAppStatus>,
    /// `RejectionReason`, on `Error`.
    pub rejection_reason: Option<InstallRejectionReason>,
    /// Keys this crate does not model.
    pub extra: Dictionary,
}

impl Record for InstallApplicationResult {
    fn read(mut f: Fields) -> Result<Self, MdmError> {
        Ok(Self {
            identifier: f.string("Identifier")?,
            state: f.parsed("State")?,
            rejection_reason: f.parsed("RejectionReason")?,
            extra: f.rest(),
        })
    }

    fn write(&self, out: &mut DictWriter) {
        out.opt_string("Identifier", self.identifier.as_deref());
        out.opt_string("State", self.state.as_ref().map(ManagedAppStatus::as_str));
        out.opt_string(
            "RejectionReason",
            self.rejection_reason.as_ref().map(InstallRejectionReason::as_str),
        );
        out.extra(&self.extra);
    }
}

/// One app in `ManagedApplicationList`.
#[derive(Debug, Clone, PartialEq)]
pub struct ManagedApplication {
    /// `Status`.
    pub status: ManagedAppStatus,
    /// `ManagementFlags`.
    pub management_flags: Option<ManagementFlags>,
    /// `UnusedRedemptionCode` (reported once).
    pub unused_redemption_code: Option<String>,
    /// `HasConfiguration`: a server-supplied configuration is present.
    pub has_configuration: Option<bool>,
    /// `HasFeedback`: the app wrote feedback for the server.
    pub has_feedback: Option<bool>,
    /// `IsValidated`: the app may run (enterprise apps need validation).
    pub is_validated: Option<bool>,
    /// `ExternalVersionIdentifier`: compare with the store's `externalId` to spot updates.
    pub external_version_identifier: Option<u64>,
    /// Keys this crate does not model.
    pub extra: Dictionary,
}

impl ManagedApplication {
    /// An entry with only a status, for simulators and tests.
    pub fn new(status: ManagedAppStatus) -> Self {
        Self {
            status,
            management_flags: None,
            unused_redemption_code: None,
            has_configuration: None,
            has_feedback: None,
            is_validated: None,
            external_version_identifier: None,
            extra: Dictionary::new(),
        }
    }
}

impl Record for ManagedApplication {
    fn read(mut f: Fields) -> Result<Self, MdmError> {
        Ok(Self {
            status: f.parsed("Status")?.ok_or_else(|| f.missing("Status"))?,
            management_flags: f.unsigned("ManagementFlags")?.map(ManagementFlags),
            unused_redemption_code: f.string("UnusedRedemptionCode")?,
            has_configuration: f.bool("HasConfiguration")?,
            has_feedback: f.bool("HasFeedback")?,
            is_validated: f.bool("IsValidated")?,
            external_version_identifier: f.unsigned("ExternalVersionIdentifier")?,
            extra: f.rest(),
        })
    }

    fn write(&self, out: &mut DictWriter) {
        out.string("Status", self.status.as_str());
        out.opt_unsigned("ManagementFlags", self.management_flags.map(|f| f.0));
        out.opt_string("UnusedRedemptionCode", self.unused_redemption_code.as_deref());
        out.opt_bool("HasConfiguration", self.has_configuration);
        out.opt_bool("HasFeedback", self.has_feedback);
        out.opt_bool("IsValidated", self.is_validated);
        out.opt_unsigned("ExternalVersionIdentifier", self.external_version_identifier);
        out.extra(&self.extra);
    }
}

/// Result of `ManagedApplicationList`, keyed by bundle id.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ManagedApplicationListResult {
    /// `ManagedApplicationList`: bundle id -> state.
    pub applications: BTreeMap<String, ManagedApplication>,
    /// Keys this crate does not model.
    pub extra: Dictionary,
}

impl Record for ManagedApplicationListResult {
    fn read(mut f: Fields) -> Result<Self, MdmError> {
        Ok(Self {
            applications: f
                .keyed_records("ManagedApplicationList")?
                .ok_or_else(|| f.missing("ManagedApplicationList"))?,
            extra: f.rest(),
        })
    }

    fn write(&self, out: &mut DictWriter) {
        out.opt_keyed_records("ManagedApplicationList", Some(&self.applications));
        out.extra(&self.extra);
    }
}

/// One app in `InstalledApplicationList`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct InstalledApplication {
    /// `Identifier`: the bundle id (always present, even when `Items` limits keys).
    pub identifier: String,
    /// `Name`.
    pub name: Option<String>,
    /// `Version` (CFBundleVersion).
    pub version: Option<String>,
    /// `ShortVersion` (marketing version).
    pub short_version: Option<String>,
    /// `BundleSize` in bytes.
    pub bundle_size: Option<u64>,
    /// `DynamicSize` in bytes (documents, caches).
    pub dynamic_size: Option<u64>,
    /// `IsValidated`.
    pub is_validated: Option<bool>,
    /// `Installing`: still downloading or installing.
    pub installing: Option<bool>,
    /// `ExternalVersionIdentifier`.
    pub external_version_identifier: Option<u64>,
    /// `AppStoreVendable`.
    pub app_store_vendable: Option<bool>,
    /// `DeviceBasedVPP`: installed with a device-assigned license.
    pub device_based_vpp: Option<bool>,
    /// `BetaApp`.
    pub beta_app: Option<bool>,
    /// `AdHocCodeSigned`.
    pub ad_hoc_code_signed: Option<bool>,
    /// `HasUpdateAvailable`.
    pub has_update_available: Option<bool>,
    /// `DownloadFailed`.
    pub download_failed: Option<bool>,
    /// `DownloadWaiting`: waiting, e.g. for Wi-Fi on large apps.
    pub download_waiting: Option<bool>,
    /// `DownloadPaused`.
    pub download_paused: Option<bool>,
    /// `DownloadCancelled`.
    pub download_cancelled: Option<bool>,
    /// `IsAppClip`.
    pub is_app_clip: Option<bool>,
    /// `DistributorIdentifier` (alternative app marketplaces).
    pub distributor_identifier: Option<String>,
    /// `Source` (e.g. "Declarative Device Management").
    pub source: Option<String>,
    /// Keys this crate does not model.
    pub extra: Dictionary,
}

impl Record for InstalledApplication {
    fn read(mut f: Fields) -> Result<Self, MdmError> {
        Ok(Self {
            identifier: f.required_string("Identifier")?,
            name: f.string("Name")?,
            version: f.string("Version")?,
            short_version: f.string("ShortVersion")?,
            bundle_size: f.unsigned("BundleSize")?,
            dynamic_size: f.unsigned("DynamicSize")?,
            is_validated: f.bool("IsValidated")?,
            installing: f.bool("Installing")?,
            external_version_identifier: f.unsigned("ExternalVersionIdentifier")?,
            app_store_vendable: f.bool("AppStoreVendable")?,
            device_based_vpp: f.bool("DeviceBasedVPP")?,
            beta_app: f.bool("BetaApp")?,
            ad_hoc_code_signed: f.bool("AdHocCodeSigned")?,
            has_update_available: f.bool("HasUpdateAvailable")?,
            download_failed: f.bool("DownloadFailed")?,
            download_waiting: f.bool("DownloadWaiting")?,
            download_paused: f.bool("DownloadPaused")?,
            download_cancelled: f.bool("DownloadCancelled")?,
            is_app_clip: f.bool("IsAppClip")?,
            distributor_identifier: f.string("DistributorIdentifier")?,
            source: f.string("Source")?,
            extra: f.rest(),
        })
    }

    fn write(&self, out: &mut DictWriter) {
        out.string("Identifier", &self.identifier);
        out.opt_string("Name", self.name.as_deref());
        out.opt_string("Version", self.version.as_deref());
        out.opt_string("ShortVersion", self.short_version.as_deref());
        out.opt_unsigned("BundleSize", self.bundle_size);
        out.opt_unsigned("DynamicSize", self.dynamic_size);
        out.opt_bool("IsValidated", self.is_validated);
        out.opt_bool("Installing", self.installing);
        out.opt_unsigned("ExternalVersionIdentifier", self.external_version_identifier);
        out.opt_bool("AppStoreVendable", self.app_store_vendable);
        out.opt_bool("DeviceBasedVPP", self.device_based_vpp);
        out.opt_bool("BetaApp", self.beta_app);
        out.opt_bool("AdHocCodeSigned", self.ad_hoc_code_signed);
        out.opt_bool("HasUpdateAvailable", self.has_update_available);
        out.opt_bool("DownloadFailed", self.download_failed);
        out.opt_bool("DownloadWaiting", self.download_waiting);
        out.opt_bool("DownloadPaused", self.download_paused);
        out.opt_bool("DownloadCancelled", self.download_cancelled);
        out.opt_bool("IsAppClip", self.is_app_clip);
        out.opt_string("DistributorIdentifier", self.distributor_identifier.as_deref());
        out.opt_string("Source", self.source.as_deref());
        out.extra(&self.extra);
    }
}

/// Result of `InstalledApplicationList`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct InstalledApplicationListResult {
    /// `InstalledApplicationList`, in device order.
    pub applications: Vec<InstalledApplication>,
    /// Keys this crate does not model.
    pub extra: Dictionary,
}

impl Record for InstalledApplicationListResult {
    fn read(mut f: Fields) -> Result<Self, MdmError> {
        Ok(Self {
            applications: f
                .records("InstalledApplicationList")?
                .ok_or_else(|| f.missing("InstalledApplicationList"))?,
            extra: f.rest(),
        })
    }

    fn write(&self, out: &mut DictWriter) {
        out.opt_records("InstalledApplicationList", Some(&self.applications));
        out.extra(&self.extra);
    }
}

/// Declares a `{Identifier, <Value>?}` item and its list result, the shape shared by
/// the ManagedApplicationConfiguration/Attributes/Feedback replies.
macro_rules! per_app_result {
    (
        $(#[$item_meta:meta])* $item:ident { $field:ident: $field_ty:ty, $key:literal, $read:ident, $write:ident }
        $(#[$list_meta:meta])* $list:ident { $items:ident, $list_key:literal }
    ) => {
        $(#[$item_meta])*
        #[derive(Debug, Clone, Default, PartialEq)]
        pub struct $item {
            /// `Identifier`: the bundle id.
            pub identifier: String,
            #[doc = concat!("`", $key, "`; absent when the app has none.")]
            pub $field: Option<$field_ty>,
            /// Keys this crate does not model.
            pub extra: Dictionary,
        }

        impl Record for $item {
            fn read(mut f: Fields) -> Result<Self, MdmError> {
                Ok(Self {
                    identifier: f.required_string("Identifier")?,
                    $field: f.$read($key)?,
                    extra: f.rest(),
                })
            }

            fn write(&self, out: &mut DictWriter) {
                out.string("Identifier", &self.identifier);
                out.$write($key, self.$field.as_ref());
                out.extra(&self.extra);
            }
        }

        $(#[$list_meta])*
        #[derive(Debug, Clone, Default, PartialEq)]
        pub struct $list {
            #[doc = concat!("`", $list_key, "`.")]
            pub $items: Vec<$item>,
            /// Keys this crate does not model.
            pub extra: Dictionary,
        }

        impl Record for $list {
            fn read(mut f: Fields) -> Result<Self, MdmError> {
                Ok(Self {
                    $items: f.records($list_key)?.ok_or_else(|| f.missing($list_key))?,
                    extra: f.rest(),
                })
            }

            fn write(&self, out: &mut DictWriter) {
                out.opt_records($list_key, Some(&self.$items));
                out.extra(&self.extra);
            }
        }

        plist_record!($item, $list);
    };
}

per_app_result! {
    /// One app's managed configuration.
    AppConfigurationItem { configuration: Dictionary, "Configuration", dictionary, opt_dictionary }
    /// Result of `ManagedApplicationConfiguration`.
    ApplicationConfigurationsResult { configurations, "ApplicationConfigurations" }
}

per_app_result! {
    /// One app's attributes (per-app VPN, removability, ...).
    AppAttributesItem { attributes: AppAttributes, "Attributes", record, opt_record }
    /// Result of `ManagedApplicationAttributes`.
    ApplicationAttributesResult { attributes, "ApplicationAttributes" }
}

per_app_result! {
    /// One app's feedback dictionary (`com.apple.feedback.managed`).
    AppFeedbackItem { feedback: Dictionary, "Feedback", dictionary, opt_dictionary }
    /// Result of `ManagedApplicationFeedback`.
    ManagedApplicationFeedbackResult { feedback, "ManagedApplicationFeedback" }
}

plist_record!(
    InstallApplicationResult,
    ManagedApplication,
    ManagedApplicationListResult,
    InstalledApplication,
    InstalledApplicationListResult,
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_statuses_survive_and_known_ones_classify() {
        assert_eq!(ManagedAppStatus::from("Managed"), ManagedAppStatus::Managed);
        let future = ManagedAppStatus::from("WaitingForSatellite");
        assert_eq!(future.as_str(), "WaitingForSatellite");
        assert!(!future.is_transient());
        assert!(ManagedAppStatus::Failed.is_transient());
        assert!(ManagedAppStatus::UserRejected.is_transient());
        assert!(ManagedAppStatus::Installing.is_in_progress());
        assert!(!ManagedAppStatus::Managed.is_in_progress());
    }
}
