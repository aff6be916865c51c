//! App commands: install, remove, inventory, managed configuration, VPP invitations.

use std::ops::BitOr;

use plist::Dictionary;

use crate::MdmError;
use crate::fields::{DictWriter, Fields, Record, plist_record, string_enum};

/// `ManagementFlags` bit set; also reported back by `ManagedApplicationList`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct ManagementFlags(pub u64);

impl ManagementFlags {
    /// No flags.
    pub const NONE: Self = Self(0);
    /// Bit 1: remove the app when the MDM profile is removed (macOS also needs
    /// `InstallAsManaged`).
    pub const REMOVE_WITH_MDM_PROFILE: Self = Self(1);
    /// Bit 4: exclude the app's data from backups.
    pub const PREVENT_BACKUP: Self = Self(4);

    /// Whether every bit of `other` is set.
    pub fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }
}

impl BitOr for ManagementFlags {
    type Output = Self;

    fn bitor(self, rhs: Self) -> Self {
        Self(self.0 | rhs.0)
    }
}

/// `Options.PurchaseMethod`: how the app is paid for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PurchaseMethod {
    /// `0`: a free app, or legacy VPP redemption codes; owned by the Apple Account
    /// signed in on the device, so it needs one.
    FreeOrRedemptionCode,
    /// `1`: Apps & Books license assignment. Required for device-assigned licenses
    /// (no Apple Account needed), Shared iPad and User Enrollment.
    LicenseAssignment,
    /// Any other number, kept verbatim.
    Other(i64),
}

impl PurchaseMethod {
    /// The integer used on the wire.
    pub fn code(self) -> i64 {
        match self {
            Self::FreeOrRedemptionCode => 0,
            Self::LicenseAssignment => 1,
            Self::Other(code) => code,
        }
    }

    /// Interprets a wire integer.
    pub fn from_code(code: i64) -> Self {
        match code {
            0 => Self::FreeOrRedemptionCode,
            1 => Self::LicenseAssignment,
            other => Self::Other(other),
        }
    }
}

/// `InstallApplication.Options`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct InstallApplicationOptions {
    /// `PurchaseMethod`; the device assumes `0` when absent.
    pub purchase_method: Option<PurchaseMethod>,
    /// Keys this crate does not model.
    pub extra: Dictionary,
}

impl Record for InstallApplicationOptions {
    fn read(mut f: Fields) -> Result<Self, MdmError> {
        Ok(Self {
            purchase_method: f.signed("PurchaseMethod")?.map(PurchaseMethod::from_code),
            extra: f.rest(),
        })
    }

    fn write(&self, out: &mut DictWriter) {
        out.opt_signed("PurchaseMethod", self.purchase_method.map(PurchaseMethod::code));
        out.extra(&self.extra);
    }
}

/// App attributes, used by `InstallApplication.Attributes`, the
/// `ApplicationAttributes` setting and the `ManagedApplicationAttributes` reply.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AppAttributes {
    /// `VPNUUID`: the per-app VPN this app's traffic uses.
    pub vpn_uuid: Option<String>,
    /// `ContentFilterUUID` (iOS 16+).
    pub content_filter_uuid: Option<String>,
    /// `DNSProxyUUID` (iOS 16+).
    pub dns_proxy_uuid: Option<String>,
    /// `RelayUUID` (iOS 17+).
    pub relay_uuid: Option<String>,
    /// `AssociatedDomains` (iOS 13+).
    pub associated_domains: Option<Vec<String>>,
    /// `AssociatedDomainsEnableDirectDownloads` (iOS 14+).
    pub associated_domains_enable_direct_downloads: Option<bool>,
    /// `Removable` (iOS 14+): `false` stops the user deleting the managed app.
    pub removable: Option<bool>,
    /// `TapToPayScreenLock` (iOS 16.4+).
    pub tap_to_pay_screen_lock: Option<bool>,
    /// `CellularSliceUUID` (iOS 17+): `DNN:<name>` or `AppCategory:<category>`.
    pub cellular_slice_uuid: Option<String>,
    /// `Hideable` (iOS 18.1+).
    pub hideable: Option<bool>,
    /// `Lockable` (iOS 18.1+).
    pub lockable: Option<bool>,
    /// Keys this crate does not model.
    pub extra: Dictionary,
}

impl AppAttributes {
    /// Routes the app through a per-app VPN payload.
    #[must_use]
    pub fn with_vpn(mut self, vpn_uuid: impl Into<String>) -> Self {
        self.vpn_uuid = Some(vpn_uuid.into());
        self
    }

    /// Sets whether the user may delete the app while it is managed.
    #[must_use]
    pub fn with_removable(mut self, removable: bool) -> Self {
        self.removable = Some(removable);
        self
    }
}

impl Record for AppAttributes {
    fn read(mut f: Fields) -> Result<Self, MdmError> {
        Ok(Self {
            vpn_uuid: f.string("VPNUUID")?,
            content_filter_uuid: f.string("ContentFilterUUID")?,
            dns_proxy_uuid: f.string("DNSProxyUUID")?,
            relay_uuid: f.string("RelayUUID")?,
            associated_domains: f.strings("AssociatedDomains")?,
            associated_domains_enable_direct_downloads: f.bool("AssociatedDomainsEnableDirectDownloads")?,
            removable: f.bool("Removable")?,
            tap_to_pay_screen_lock: f.bool("TapToPayScreenLock")?,
            cellular_slice_uuid: f.string("CellularSliceUUID")?,
            hideable: f.bool("Hideable")?,
            lockable: f.bool("Lockable")?,
            extra: f.rest(),
        })
    }

    fn write(&self, out: &mut DictWriter) {
        out.opt_string("VPNUUID", self.vpn_uuid.as_deref());
        out.opt_string("ContentFilterUUID", self.content_filter_uuid.as_deref());
        out.opt_string("DNSProxyUUID", self.dns_proxy_uuid.as_deref());
        out.opt_string("RelayUUID", self.relay_uuid.as_deref());
        out.opt_strings("AssociatedDomains", self.associated_domains.as_deref());
        out.opt_bool(
            "AssociatedDomainsEnableDirectDownloads",
            self.associated_domains_enable_direct_downloads,
        );
        out.opt_bool("Removable", self.removable);
        out.opt_bool("TapToPayScreenLock", self.tap_to_pay_screen_lock);
        out.opt_string("CellularSliceUUID", self.cellular_slice_uuid.as_deref());
        out.opt_bool("Hideable", self.hideable);
        out.opt_bool("Lockable", self.lockable);
        out.extra(&self.extra);
    }
}

/// Which app to install: the protocol requires exactly one of these keys.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum AppSource {
    /// `iTunesStoreID`: the App Store id (adamId); the Apps & Books case.
    ITunesStoreId(u64),
    /// `Identifier`: a bundle id (iOS 7+), e.g. to reinstall a removed system app.
    BundleId(String),
    /// `ManifestURL`: an `https` URL of an enterprise app manifest.
    ManifestUrl(String),
}

string_enum! {
    /// `ChangeManagementState`.
    pub enum ChangeManagementState {
        /// Take over an app the user already installed (unsupervised devices prompt).
        Managed => "Managed",
    }
}

/// `InstallApplication`: install, update, or take over an app.
#[derive(Debug, Clone, PartialEq)]
pub struct InstallApplication {
    /// What to install.
    pub source: AppSource,
    /// `Options`.
    pub options: Option<InstallApplicationOptions>,
    /// `ManagementFlags`.
    pub management_flags: Option<ManagementFlags>,
    /// `Configuration`: the initial managed app configuration, readable by the app
    /// and stored unencrypted, so never put secrets in it.
    pub configuration: Option<Dictionary>,
    /// `Attributes`.
    pub attributes: Option<AppAttributes>,
    /// `ChangeManagementState`.
    pub change_management_state: Option<ChangeManagementState>,
    /// `InstallAsManaged` (macOS 11+).
    pub install_as_managed: Option<bool>,
    /// `iOSApp` (macOS on Apple silicon).
    pub ios_app: Option<bool>,
    /// Keys this crate does not model.
    pub extra: Dictionary,
}

impl InstallApplication {
    /// Installs an App Store app by its store id.
    pub fn from_store(itunes_store_id: u64) -> Self {
        Self::new(AppSource::ITunesStoreId(itunes_store_id))
    }

    /// Installs (or reinstalls) an app by bundle id.
    pub fn from_bundle_id(bundle_id: impl Into<String>) -> Self {
        Self::new(AppSource::BundleId(bundle_id.into()))
    }

    /// Installs an enterprise app from its manifest URL.
    pub fn from_manifest_url(url: impl Into<String>) -> Self {
        Self::new(AppSource::ManifestUrl(url.into()))
    }

    fn new(source: AppSource) -> Self {
        Self {
            source,
            options: None,
            management_flags: None,
            configuration: None,
            attributes: None,
            change_management_state: None,
            install_as_managed: None,
            ios_app: None,
            extra: Dictionary::new(),
        }
    }

    /// Sets `Options.PurchaseMethod`.
    #[must_use]
    pub fn with_purchase_method(mut self, method: PurchaseMethod) -> Self {
        self.options
            .get_or_insert_with(InstallApplicationOptions::default)
            .purchase_method = Some(method);
        self
    }

    /// Uses an Apps & Books license (`PurchaseMethod` 1), the normal VPP case.
    #[must_use]
    pub fn with_license_assignment(self) -> Self {
        self.with_purchase_method(PurchaseMethod::LicenseAssignment)
    }

    /// Sets `ManagementFlags`.
    #[must_use]
    pub fn with_management_flags(mut self, flags: ManagementFlags) -> Self {
        self.management_flags = Some(flags);
        self
    }

    /// Sets the initial managed app configuration.
    #[must_use]
    pub fn with_configuration(mut self, configuration: Dictionary) -> Self {
        self.configuration = Some(configuration);
        self
    }

    /// Sets `Attributes` (per-app VPN, removability, ...).
    #[must_use]
    pub fn with_attributes(mut self, attributes: AppAttributes) -> Self {
        self.attributes = Some(attributes);
        self
    }

    /// Asks to take over the app if the user already installed it.
    #[must_use]
    pub fn taking_over_management(mut self) -> Self {
        self.change_management_state = Some(ChangeManagementState::Managed);
        self
    }

    /// Sets `InstallAsManaged` (macOS).
    #[must_use]
    pub fn with_install_as_managed(mut self, managed: bool) -> Self {
        self.install_as_managed = Some(managed);
        self
    }

    /// The store id, when installing from the App Store.
    pub fn itunes_store_id(&self) -> Option<u64> {
        match self.source {
            AppSource::ITunesStoreId(id) => Some(id),
            _ => None,
        }
    }
}

impl Record for InstallApplication {
    fn read(mut f: Fields) -> Result<Self, MdmError> {
        const SOURCE_KEYS: [&str; 3] = ["iTunesStoreID", "Identifier", "ManifestURL"];
        let store_id = f.store_id("iTunesStoreID")?;
        let bundle_id = f.string("Identifier")?;
        let manifest_url = f.string("ManifestURL")?;
        let source = match (store_id, bundle_id, manifest_url) {
            (Some(id), None, None) => AppSource::ITunesStoreId(id),
            (None, Some(id), None) => AppSource::BundleId(id),
            (None, None, Some(url)) => AppSource::ManifestUrl(url),
            (None, None, None) => return Err(f.missing_one_of(&SOURCE_KEYS)),
            _ => return Err(f.conflicting(&SOURCE_KEYS)),
        };
        Ok(Self {
            source,
            options: f.record("Options")?,
            management_flags: f.unsigned("ManagementFlags")?.map(ManagementFlags),
            configuration: f.dictionary("Configuration")?,
            attributes: f.record("Attributes")?,
            change_management_state: f.parsed("ChangeManagementState")?,
            install_as_managed: f.bool("InstallAsManaged")?,
            ios_app: f.bool("iOSApp")?,
            extra: f.rest(),
        })
    }

    fn write(&self, out: &mut DictWriter) {
        match &self.source {
            AppSource::ITunesStoreId(id) => out.opt_unsigned("iTunesStoreID", Some(*id)),
            AppSource::BundleId(id) => out.string("Identifier", id),
            AppSource::ManifestUrl(url) => out.string("ManifestURL", url),
        }
        out.opt_record("Options", self.options.as_ref());
        out.opt_unsigned("ManagementFlags", self.management_flags.map(|f| f.0));
        out.opt_dictionary("Configuration", self.configuration.as_ref());
        out.opt_record("Attributes", self.attributes.as_ref());
        out.opt_string(
            "ChangeManagementState",
            self.change_management_state.as_ref().map(ChangeManagementState::as_str),
        );
        out.opt_bool("InstallAsManaged", self.install_as_managed);
        out.opt_bool("iOSApp", self.ios_app);
        out.extra(&self.extra);
    }
}

/// `RemoveApplication`: uninstall a *managed* app (others fail with 12029/12038).
#[derive(Debug, Clone, PartialEq)]
pub struct RemoveApplication {
    /// `Identifier`: the bundle id.
    pub identifier: String,
    /// Keys this crate does not model.
    pub extra: Dictionary,
}

impl RemoveApplication {
    /// Removes the managed app with this bundle id.
    pub fn new(bundle_id: impl Into<String>) -> Self {
        Self {
            identifier: bundle_id.into(),
            extra: Dictionary::new(),
        }
    }
}

impl Record for RemoveApplication {
    fn read(mut f: Fields) -> Result<Self, MdmError> {
        Ok(Self {
            identifier: f.required_string("Identifier")?,
            extra: f.rest(),
        })
    }

    fn write(&self, out: &mut DictWriter) {
        out.string("Identifier", &self.identifier);
        out.extra(&self.extra);
    }
}

/// `ManagedApplicationList`: the state of managed apps.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ManagedApplicationList {
    /// `Identifiers`: limit the reply to these bundle ids.
    pub identifiers: Option<Vec<String>>,
    /// Keys this crate does not model.
    pub extra: Dictionary,
}

impl ManagedApplicationList {
    /// Every managed app.
    pub fn all() -> Self {
        Self::default()
    }

    /// Only these bundle ids.
    pub fn only<I: IntoIterator<Item = S>, S: Into<String>>(bundle_ids: I) -> Self {
        Self {
            identifiers: Some(bundle_ids.into_iter().map(Into::into).collect()),
            extra: Dictionary::new(),
        }
    }
}

impl Record for ManagedApplicationList {
    fn read(mut f: Fields) -> Result<Self, MdmError> {
        Ok(Self {
            identifiers: f.strings("Identifiers")?,
            extra: f.rest(),
        })
    }

    fn write(&self, out: &mut DictWriter) {
        out.opt_strings("Identifiers", self.identifiers.as_deref());
        out.extra(&self.extra);
    }
}

/// `InstalledApplicationList`: every installed app, managed or not.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct InstalledApplicationList {
    /// `Identifiers`: limit the reply to these bundle ids.
    pub identifiers: Option<Vec<String>>,
    /// `ManagedAppsOnly`.
    pub managed_apps_only: Option<bool>,
    /// `Items` (iOS 14+): limit the keys returned per app (`Identifier` is implied).
    pub items: Option<Vec<String>>,
    /// Keys this crate does not model.
    pub extra: Dictionary,
}

impl InstalledApplicationList {
    /// Every installed app with every key.
    pub fn all() -> Self {
        Self::default()
    }

    /// Only managed apps.
    pub fn managed_only() -> Self {
        Self {
            managed_apps_only: Some(true),
            ..Self::default()
        }
    }
}

impl Record for InstalledApplicationList {
    fn read(mut f: Fields) -> Result<Self, MdmError> {
        Ok(Self {
            identifiers: f.strings("Identifiers")?,
            managed_apps_only: f.bool("ManagedAppsOnly")?,
            items: f.strings("Items")?,
            extra: f.rest(),
        })
    }

    fn write(&self, out: &mut DictWriter) {
        out.opt_strings("Identifiers", self.identifiers.as_deref());
        out.opt_bool("ManagedAppsOnly", self.managed_apps_only);
        out.opt_strings("Items", self.items.as_deref());
        out.extra(&self.extra);
    }
}

/// Declares a request whose only required key is `Identifiers`.
macro_rules! identifiers_request {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Default, PartialEq)]
        pub struct $name {
            /// `Identifiers`: the bundle ids to ask about.
            pub identifiers: Vec<String>,
            /// Keys this crate does not model.
            pub extra: Dictionary,
        }

        impl $name {
            /// Asks about these bundle ids.
            pub fn new<I: IntoIterator<Item = S>, S: Into<String>>(bundle_ids: I) -> Self {
                Self {
                    identifiers: bundle_ids.into_iter().map(Into::into).collect(),
                    extra: Dictionary::new(),
                }
            }
        }

        impl Record for $name {
            fn read(mut f: Fields) -> Result<Self, MdmError> {
                Ok(Self {
                    identifiers: f.strings("Identifiers")?.ok_or_else(|| f.missing("Identifiers"))?,
                    extra: f.rest(),
                })
            }

            fn write(&self, out: &mut DictWriter) {
                out.opt_strings("Identifiers", Some(&self.identifiers));
                out.extra(&self.extra);
            }
        }
    };
}

identifiers_request! {
    /// `ManagedApplicationConfiguration`: read back apps' managed configurations.
    ManagedApplicationConfiguration
}

identifiers_request! {
    /// `ManagedApplicationAttributes`: read back apps' attributes.
    ManagedApplicationAttributes
}

/// `ManagedApplicationFeedback`: collect (and optionally clear) apps' feedback.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ManagedApplicationFeedback {
    /// `Identifiers`.
    pub identifiers: Vec<String>,
    /// `DeleteFeedback`: clear the feedback after reading it.
    pub delete_feedback: Option<bool>,
    /// Keys this crate does not model.
    pub extra: Dictionary,
}

impl Record for ManagedApplicationFeedback {
    fn read(mut f: Fields) -> Result<Self, MdmError> {
        Ok(Self {
            identifiers: f.strings("Identifiers")?.ok_or_else(|| f.missing("Identifiers"))?,
            delete_feedback: f.bool("DeleteFeedback")?,
            extra: f.rest(),
        })
    }

    fn write(&self, out: &mut DictWriter) {
        out.opt_strings("Identifiers", Some(&self.identifiers));
        out.opt_bool("DeleteFeedback", self.delete_feedback);
        out.extra(&self.extra);
    }
}

/// `InviteToProgram`: show the Apps & Books invitation (user-based licensing only).
#[derive(Debug, Clone, PartialEq)]
pub struct InviteToProgram {
    /// `ProgramID`; Apple accepts only [`InviteToProgram::CLOUD_VPP`].
    pub program_id: String,
    /// `InvitationURL` from the Apps & Books service for this user.
    pub invitation_url: String,
    /// Keys this crate does not model.
    pub extra: Dictionary,
}

impl InviteToProgram {
    /// The only program id Apple defines.
    pub const CLOUD_VPP: &'static str = "com.apple.cloudvpp";

    /// Invites the user to Apps & Books with the service's invitation URL.
    pub fn cloud_vpp(invitation_url: impl Into<String>) -> Self {
        Self {
            program_id: Self::CLOUD_VPP.to_owned(),
            invitation_url: invitation_url.into(),
            extra: Dictionary::new(),
        }
    }
}

impl Record for InviteToProgram {
    fn read(mut f: Fields) -> Result<Self, MdmError> {
        Ok(Self {
            program_id: f.required_string("ProgramID")?,
            invitation_url: f.required_string("InvitationURL")?,
            extra: f.rest(),
        })
    }

    fn write(&self, out: &mut DictWriter) {
        out.string("ProgramID", &self.program_id);
        out.string("InvitationURL", &self.invitation_url);
        out.extra(&self.extra);
    }
}

plist_record!(InstallApplicationOptions, AppAttributes);
