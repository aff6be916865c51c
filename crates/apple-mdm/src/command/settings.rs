//! The `Settings` command. Only the app-related items and a few common ones are
//! typed; every other item passes through as [`SettingItem::Other`].

use plist::Dictionary;

use crate::MdmError;
use crate::command::AppAttributes;
use crate::fields::{DictWriter, Fields, Record, to_dictionary};

/// `ApplicationConfiguration` item: replace (or, with `None`, remove) an app's
/// managed configuration after installation.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ApplicationConfigurationSetting {
    /// `Identifier`: the managed app's bundle id.
    pub identifier: String,
    /// `Configuration`; `None` removes the current configuration.
    pub configuration: Option<Dictionary>,
    /// Keys this crate does not model.
    pub extra: Dictionary,
}

impl Record for ApplicationConfigurationSetting {
    fn read(mut f: Fields) -> Result<Self, MdmError> {
        Ok(Self {
            identifier: f.required_string("Identifier")?,
            configuration: f.dictionary("Configuration")?,
            extra: f.rest(),
        })
    }

    fn write(&self, out: &mut DictWriter) {
        out.string("Identifier", &self.identifier);
        out.opt_dictionary("Configuration", self.configuration.as_ref());
        out.extra(&self.extra);
    }
}

/// `ApplicationAttributes` item: replace (or, with `None`, remove) an app's attributes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ApplicationAttributesSetting {
    /// `Identifier`: the app's bundle id.
    pub identifier: String,
    /// `Attributes`; `None` removes the current attributes.
    pub attributes: Option<AppAttributes>,
    /// Keys this crate does not model.
    pub extra: Dictionary,
}

impl Record for ApplicationAttributesSetting {
    fn read(mut f: Fields) -> Result<Self, MdmError> {
        Ok(Self {
            identifier: f.required_string("Identifier")?,
            attributes: f.record("Attributes")?,
            extra: f.rest(),
        })
    }

    fn write(&self, out: &mut DictWriter) {
        out.string("Identifier", &self.identifier);
        out.opt_record("Attributes", self.attributes.as_ref());
        out.extra(&self.extra);
    }
}

/// `DeviceName` item (supervised iOS, macOS).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DeviceNameSetting {
    /// `DeviceName`.
    pub device_name: String,
    /// Keys this crate does not model.
    pub extra: Dictionary,
}

impl Record for DeviceNameSetting {
    fn read(mut f: Fields) -> Result<Self, MdmError> {
        Ok(Self {
            device_name: f.required_string("DeviceName")?,
            extra: f.rest(),
        })
    }

    fn write(&self, out: &mut DictWriter) {
        out.string("DeviceName", &self.device_name);
        out.extra(&self.extra);
    }
}

/// The organization shown to the user, e.g. in the app-install prompt.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OrganizationInfo {
    /// `OrganizationName`.
    pub name: String,
    /// `OrganizationShortName` (iOS 13+).
    pub short_name: Option<String>,
    /// `OrganizationAddress`.
    pub address: Option<String>,
    /// `OrganizationPhone`.
    pub phone: Option<String>,
    /// `OrganizationEmail`.
    pub email: Option<String>,
    /// `OrganizationMagic`.
    pub magic: Option<String>,
    /// Keys this crate does not model.
    pub extra: Dictionary,
}

impl Record for OrganizationInfo {
    fn read(mut f: Fields) -> Result<Self, MdmError> {
        Ok(Self {
            name: f.required_string("OrganizationName")?,
            short_name: f.string("OrganizationShortName")?,
            address: f.string("OrganizationAddress")?,
            phone: f.string("OrganizationPhone")?,
            email: f.string("OrganizationEmail")?,
            magic: f.string("OrganizationMagic")?,
            extra: f.rest(),
        })
    }

    fn write(&self, out: &mut DictWriter) {
        out.string("OrganizationName", &self.name);
        out.opt_string("OrganizationShortName", self.short_name.as_deref());
        out.opt_string("OrganizationAddress", self.address.as_deref());
        out.opt_string("OrganizationPhone", self.phone.as_deref());
        out.opt_string("OrganizationEmail", self.email.as_deref());
        out.opt_string("OrganizationMagic", self.magic.as_deref());
        out.extra(&self.extra);
    }
}

/// `OrganizationInfo` item; `None` removes the stored information.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OrganizationInfoSetting {
    /// `OrganizationInfo`.
    pub organization_info: Option<OrganizationInfo>,
    /// Keys this crate does not model.
    pub extra: Dictionary,
}

impl Record for OrganizationInfoSetting {
    fn read(mut f: Fields) -> Result<Self, MdmError> {
        Ok(Self {
            organization_info: f.record("OrganizationInfo")?,
            extra: f.rest(),
        })
    }

    fn write(&self, out: &mut DictWriter) {
        out.opt_record("OrganizationInfo", self.organization_info.as_ref());
        out.extra(&self.extra);
    }
}

/// One entry of `Settings`, selected by its `Item` key.
#[derive(Debug, Clone, PartialEq)]
pub enum SettingItem {
    /// `ApplicationConfiguration`.
    ApplicationConfiguration(ApplicationConfigurationSetting),
    /// `ApplicationAttributes`.
    ApplicationAttributes(ApplicationAttributesSetting),
    /// `DeviceName`.
    DeviceName(DeviceNameSetting),
    /// `OrganizationInfo`.
    OrganizationInfo(OrganizationInfoSetting),
    /// Any other item, kept whole.
    Other {
        /// The `Item` value.
        item: String,
        /// Every other key of the item.
        body: Dictionary,
    },
}

impl SettingItem {
    /// Sets an app's managed configuration.
    pub fn app_configuration(bundle_id: impl Into<String>, configuration: Dictionary) -> Self {
        Self::ApplicationConfiguration(ApplicationConfigurationSetting {
            identifier: bundle_id.into(),
            configuration: Some(configuration),
            extra: Dictionary::new(),
        })
    }

    /// Sets an app's attributes (per-app VPN, removability, ...).
    pub fn app_attributes(bundle_id: impl Into<String>, attributes: AppAttributes) -> Self {
        Self::ApplicationAttributes(ApplicationAttributesSetting {
            identifier: bundle_id.into(),
            attributes: Some(attributes),
            extra: Dictionary::new(),
        })
    }

    /// The `Item` string.
    pub fn item(&self) -> &str {
        match self {
            Self::ApplicationConfiguration(_) => "ApplicationConfiguration",
            Self::ApplicationAttributes(_) => "ApplicationAttributes",
            Self::DeviceName(_) => "DeviceName",
            Self::OrganizationInfo(_) => "OrganizationInfo",
            Self::Other { item, .. } => item,
        }
    }
}

impl Record for SettingItem {
    fn read(mut f: Fields) -> Result<Self, MdmError> {
        let item = f.required_string("Item")?;
        Ok(match item.as_str() {
            "ApplicationConfiguration" => Self::ApplicationConfiguration(Record::read(f)?),
            "ApplicationAttributes" => Self::ApplicationAttributes(Record::read(f)?),
            "DeviceName" => Self::DeviceName(Record::read(f)?),
            "OrganizationInfo" => Self::OrganizationInfo(Record::read(f)?),
            _ => Self::Other { item, body: f.rest() },
        })
    }

    fn write(&self, out: &mut DictWriter) {
        out.string("Item", self.item());
        let body = match self {
            Self::ApplicationConfiguration(setting) => to_dictionary(setting),
            Self::ApplicationAttributes(setting) => to_dictionary(setting),
            Self::DeviceName(setting) => to_dictionary(setting),
            Self::OrganizationInfo(setting) => to_dictionary(setting),
            Self::Other { body, .. } => body.clone(),
        };
        out.extra(&body);
    }
}

/// `Settings`: apply one-time settings. Each item succeeds or fails on its own.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Settings {
    /// `Settings`, applied in order.
    pub settings: Vec<SettingItem>,
    /// Keys this crate does not model.
    pub extra: Dictionary,
}

impl Settings {
    /// A command with these items.
    pub fn new(items: impl IntoIterator<Item = SettingItem>) -> Self {
        Self {
            settings: items.into_iter().collect(),
            extra: Dictionary::new(),
        }
    }
}

impl Record for Settings {
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
