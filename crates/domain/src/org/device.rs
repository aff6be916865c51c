use serde::{Deserialize, Serialize};

use super::validate::{self, Refusal, refusal};
use crate::ids::{AccountId, DeviceId, GroupId, UserId};
use crate::time_util::Timestamp;

/// The operating system family a device runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
pub enum Platform {
    #[serde(rename = "iOS")]
    Ios,
    #[serde(rename = "iPadOS")]
    IpadOs,
    #[serde(rename = "macOS")]
    MacOs,
    #[serde(rename = "tvOS")]
    TvOs,
    #[serde(rename = "visionOS")]
    VisionOs,
}

impl Platform {
    pub const ALL: [Platform; 5] = [
        Platform::Ios,
        Platform::IpadOs,
        Platform::MacOs,
        Platform::TvOs,
        Platform::VisionOs,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Platform::Ios => "iOS",
            Platform::IpadOs => "iPadOS",
            Platform::MacOs => "macOS",
            Platform::TvOs => "tvOS",
            Platform::VisionOs => "visionOS",
        }
    }

    /// Accepts the spellings admins type (`ios`, `iPadOS`, `mac`, ...).
    pub fn parse(text: &str) -> Result<Option<Self>, Refusal> {
        let t = text.trim();
        if t.is_empty() {
            return Ok(None);
        }
        let lower = t.to_ascii_lowercase();
        let found = match lower.as_str() {
            "ios" | "iphone" => Platform::Ios,
            "ipados" | "ipad" => Platform::IpadOs,
            "macos" | "mac" | "os x" | "macosx" => Platform::MacOs,
            "tvos" | "appletv" => Platform::TvOs,
            "visionos" => Platform::VisionOs,
            _ => {
                return Err(refusal(
                    "platform",
                    format!("「{t}」はOSとして不正です(iOS / iPadOS / macOS / tvOS / visionOS)。"),
                    format!("'{t}' is not a platform (iOS, iPadOS, macOS, tvOS or visionOS)."),
                ));
            }
        };
        Ok(Some(found))
    }
}

/// Where a device is in its management life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EnrollmentState {
    /// Known (imported or typed in) but never enrolled.
    Registered,
    Enrolled,
    /// Checked out or had its profile removed.
    Unenrolled,
}

impl EnrollmentState {
    pub fn as_str(self) -> &'static str {
        match self {
            EnrollmentState::Registered => "registered",
            EnrollmentState::Enrolled => "enrolled",
            EnrollmentState::Unenrolled => "unenrolled",
        }
    }

    pub fn parse(text: &str) -> Self {
        match text {
            "enrolled" => EnrollmentState::Enrolled,
            "unenrolled" => EnrollmentState::Unenrolled,
            _ => EnrollmentState::Registered,
        }
    }
}

/// A managed device with every field of SPEC §2.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Device {
    pub id: DeviceId,
    pub account_id: AccountId,
    pub group_id: GroupId,
    /// 端末番号: account-unique, human friendly.
    pub device_number: String,
    pub display_name: String,
    pub udid: Option<String>,
    pub serial_number: Option<String>,
    pub wifi_mac: Option<String>,
    pub model: Option<String>,
    pub product_name: Option<String>,
    pub platform: Option<Platform>,
    pub os_version: Option<String>,
    pub owner_id: Option<UserId>,
    /// The owner's name and employee number, joined for display and search.
    pub owner_name: Option<String>,
    pub owner_employee_number: Option<String>,
    pub notes1: String,
    pub notes2: String,
    pub notes3: String,
    pub supervised: bool,
    pub shared_ipad: bool,
    /// The App Store account hash the device reports (compared with VPP users).
    pub itunes_store_account_hash: Option<String>,
    pub imei: Option<String>,
    pub build_version: Option<String>,
    /// Storage, in MB, as the device last reported it.
    pub capacity_mb: Option<i64>,
    pub available_capacity_mb: Option<i64>,
    pub enrollment_state: EnrollmentState,
    pub last_checkin_at: Option<Timestamp>,
    pub inventory_fetched_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// The fields an administrator sets on a device (API and CSV). Fields that
/// only the device reports (supervised, check-in times, ...) are not here.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
pub struct DeviceInput {
    pub group_id: GroupId,
    /// Left out on creation: the next free number is assigned.
    pub device_number: Option<String>,
    pub display_name: String,
    pub udid: Option<String>,
    pub serial_number: Option<String>,
    pub wifi_mac: Option<String>,
    pub model: Option<String>,
    pub product_name: Option<String>,
    pub platform: Option<Platform>,
    pub os_version: Option<String>,
    pub owner_id: Option<UserId>,
    #[serde(default)]
    pub notes1: String,
    #[serde(default)]
    pub notes2: String,
    #[serde(default)]
    pub notes3: String,
}

/// A partial update; `None` keeps a field, an empty string clears it.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct DevicePatch {
    pub group_id: Option<GroupId>,
    pub device_number: Option<String>,
    pub display_name: Option<String>,
    pub udid: Option<String>,
    pub serial_number: Option<String>,
    pub wifi_mac: Option<String>,
    pub model: Option<String>,
    pub product_name: Option<String>,
    pub platform: Option<Platform>,
    pub os_version: Option<String>,
    /// `0` removes the owner.
    pub owner_id: Option<UserId>,
    pub notes1: Option<String>,
    pub notes2: Option<String>,
    pub notes3: Option<String>,
}

const NOTE_MAX: usize = 1000;

impl DeviceInput {
    pub fn validated(&self) -> Result<DeviceInput, Refusal> {
        Ok(DeviceInput {
            group_id: self.group_id,
            device_number: match self.device_number.as_deref().map(str::trim) {
                None | Some("") => None,
                Some(n) => Some(validate::device_number(n)?),
            },
            display_name: validate::required("display_name", &self.display_name, 255)?,
            udid: validate::udid(self.udid.as_deref())?,
            serial_number: validate::serial_number(self.serial_number.as_deref())?,
            wifi_mac: validate::mac_address(self.wifi_mac.as_deref())?,
            model: validate::optional("model", self.model.as_deref(), 64)?,
            product_name: validate::optional("product_name", self.product_name.as_deref(), 64)?,
            platform: self.platform,
            os_version: validate::os_version(self.os_version.as_deref())?,
            owner_id: self.owner_id,
            notes1: validate::limit("notes1", &self.notes1, NOTE_MAX)?,
            notes2: validate::limit("notes2", &self.notes2, NOTE_MAX)?,
            notes3: validate::limit("notes3", &self.notes3, NOTE_MAX)?,
        })
    }
}

impl DevicePatch {
    pub fn apply_to(&self, device: &Device) -> DeviceInput {
        let keep = |new: &Option<String>, old: &Option<String>| new.clone().or_else(|| old.clone());
        DeviceInput {
            group_id: self.group_id.unwrap_or(device.group_id),
            device_number: Some(
                self.device_number
                    .clone()
                    .unwrap_or_else(|| device.device_number.clone()),
            ),
            display_name: self.display_name.clone().unwrap_or_else(|| device.display_name.clone()),
            udid: keep(&self.udid, &device.udid),
            serial_number: keep(&self.serial_number, &device.serial_number),
            wifi_mac: keep(&self.wifi_mac, &device.wifi_mac),
            model: keep(&self.model, &device.model),
            product_name: keep(&self.product_name, &device.product_name),
            platform: self.platform.or(device.platform),
            os_version: keep(&self.os_version, &device.os_version),
            owner_id: match self.owner_id {
                Some(UserId(0)) => None,
                Some(id) => Some(id),
                None => device.owner_id,
            },
            notes1: self.notes1.clone().unwrap_or_else(|| device.notes1.clone()),
            notes2: self.notes2.clone().unwrap_or_else(|| device.notes2.clone()),
            notes3: self.notes3.clone().unwrap_or_else(|| device.notes3.clone()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn platform_spellings() {
        assert_eq!(Platform::parse("ipad").unwrap(), Some(Platform::IpadOs));
        assert_eq!(Platform::parse(" macOS ").unwrap(), Some(Platform::MacOs));
        assert_eq!(Platform::parse("").unwrap(), None);
        assert!(Platform::parse("android").is_err());
        for p in Platform::ALL {
            assert_eq!(Platform::parse(p.as_str()).unwrap(), Some(p));
        }
    }

    #[test]
    fn validation_normalises_fields() {
        let input = DeviceInput {
            group_id: GroupId(1),
            device_number: Some(" ".into()),
            display_name: " 営業1号機 ".into(),
            serial_number: Some("dmpabc12345x".into()),
            wifi_mac: Some("AA-BB-CC-DD-EE-FF".into()),
            ..Default::default()
        };
        let valid = input.validated().unwrap();
        assert_eq!(valid.device_number, None);
        assert_eq!(valid.display_name, "営業1号機");
        assert_eq!(valid.serial_number.as_deref(), Some("DMPABC12345X"));
        assert_eq!(valid.wifi_mac.as_deref(), Some("aa:bb:cc:dd:ee:ff"));
        let bad = DeviceInput {
            display_name: String::new(),
            ..input
        };
        assert_eq!(bad.validated().unwrap_err().0, "display_name");
    }
}
