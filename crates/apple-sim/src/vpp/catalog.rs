//! What a test declares about a location before the simulator serves it: the
//! organisation, the token's expiry, and the licensed assets with their store metadata.

use apple_vpp::{Platform, PricingParam, ProductType};
use time::OffsetDateTime;

/// A location (organisational unit with its own content token) to add to the simulator.
#[derive(Debug, Clone)]
pub struct LocationSpec {
    /// `orgName` in the token and the organisation shown to administrators.
    pub org_name: String,
    /// `locationName` of client/config.
    pub location_name: String,
    /// `countryISO2ACode` of client/config (upper case, e.g. `JP`).
    pub country: String,
    /// `defaultPlatform`: `enterprisestore` (business) or `volumestore` (education).
    pub default_platform: String,
    /// `expDate` of the first token.
    pub expires_at: OffsetDateTime,
    /// The licensed assets of the location.
    pub assets: Vec<AssetSpec>,
}

impl LocationSpec {
    /// A business location in the US whose token expires in a year, without assets.
    pub fn new(org_name: impl Into<String>, location_name: impl Into<String>) -> Self {
        Self {
            org_name: org_name.into(),
            location_name: location_name.into(),
            country: "US".to_owned(),
            default_platform: "enterprisestore".to_owned(),
            expires_at: OffsetDateTime::now_utc() + time::Duration::days(365),
            assets: Vec::new(),
        }
    }

    /// Sets the country (ISO 3166 alpha-2).
    pub fn country(mut self, iso2: &str) -> Self {
        self.country = iso2.to_ascii_uppercase();
        self
    }

    /// Sets `defaultPlatform`.
    pub fn default_platform(mut self, platform: &str) -> Self {
        self.default_platform = platform.to_owned();
        self
    }

    /// Sets the token expiry.
    pub fn expires_at(mut self, at: OffsetDateTime) -> Self {
        self.expires_at = at;
        self
    }

    /// Adds an asset to the catalogue.
    pub fn asset(mut self, asset: AssetSpec) -> Self {
        self.assets.push(asset);
        self
    }
}

/// How many licenses the location owns for an asset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Licenses {
    /// A purchased number of licenses.
    Count(i64),
    /// A free asset: `totalCount` is `i32::MAX` and associations never run out.
    Unlimited,
}

/// One asset of a location's catalogue.
#[derive(Debug, Clone)]
pub struct AssetSpec {
    /// The store id (digits).
    pub adam_id: String,
    /// `STDQ` or `PLUS`.
    pub pricing_param: PricingParam,
    /// `App` or `Book`.
    pub product_type: ProductType,
    /// Licenses owned.
    pub licenses: Licenses,
    /// Whether assignments can be taken back (books cannot).
    pub revocable: bool,
    /// Whether the asset can be assigned to serial numbers (books cannot).
    pub device_assignable: bool,
    /// `supportedPlatforms` of Get Assets.
    pub supported_platforms: Vec<Platform>,
    /// What the metadata lookup answers for this adamId.
    pub metadata: AppInfo,
}

impl AssetSpec {
    /// A paid iOS app with `count` licenses, revocable and device-assignable.
    pub fn app(adam_id: impl Into<String>, count: i64) -> Self {
        let adam_id = adam_id.into();
        Self {
            metadata: AppInfo::app(&adam_id),
            adam_id,
            pricing_param: PricingParam::Stdq,
            product_type: ProductType::App,
            licenses: Licenses::Count(count),
            revocable: true,
            device_assignable: true,
            supported_platforms: vec![Platform::Ios],
        }
    }

    /// A free iOS app (unlimited licenses).
    pub fn free_app(adam_id: impl Into<String>) -> Self {
        let mut spec = Self::app(adam_id, 0);
        spec.licenses = Licenses::Unlimited;
        spec
    }

    /// A book with `count` licenses: not revocable, not device-assignable.
    pub fn book(adam_id: impl Into<String>, count: i64) -> Self {
        let adam_id = adam_id.into();
        Self {
            metadata: AppInfo::book(&adam_id),
            adam_id,
            pricing_param: PricingParam::Stdq,
            product_type: ProductType::Book,
            licenses: Licenses::Count(count),
            revocable: false,
            device_assignable: false,
            supported_platforms: vec![Platform::Ios, Platform::MacOs],
        }
    }

    /// Sets the pricing parameter.
    pub fn pricing(mut self, pricing: PricingParam) -> Self {
        self.pricing_param = pricing;
        self
    }

    /// Sets whether assignments can be revoked.
    pub fn revocable(mut self, revocable: bool) -> Self {
        self.revocable = revocable;
        self
    }

    /// Sets whether the asset can be assigned to devices (and the lookup's
    /// `isVppDeviceBasedLicensingEnabled` with it).
    pub fn device_assignable(mut self, assignable: bool) -> Self {
        self.device_assignable = assignable;
        self.metadata.device_based_licensing = assignable;
        self
    }

    /// Sets `supportedPlatforms`.
    pub fn platforms(mut self, platforms: Vec<Platform>) -> Self {
        self.supported_platforms = platforms;
        self
    }

    /// Replaces the store metadata.
    pub fn metadata(mut self, metadata: AppInfo) -> Self {
        self.metadata = metadata;
        self
    }
}

/// Store metadata the content-metadata lookup returns for an adamId.
#[derive(Debug, Clone, PartialEq)]
pub struct AppInfo {
    /// Display name.
    pub name: String,
    /// Bundle identifier (`None` for books).
    pub bundle_id: Option<String>,
    /// `iosSoftware`, `macSoftware` or `ebook`.
    pub kind: String,
    /// Developer or publisher.
    pub artist_name: String,
    /// Icon URL template with `{w}`, `{h}` and `{f}` placeholders.
    pub icon_url: String,
    /// Current version string.
    pub version: String,
    /// Download size in bytes.
    pub size_bytes: u64,
    /// `minimumOSVersion`.
    pub minimum_os_version: String,
    /// `deviceFamilies` (`iphone`, `ipad`, `mac`, ...).
    pub device_families: Vec<String>,
    /// `isVppDeviceBasedLicensingEnabled`.
    pub device_based_licensing: bool,
    /// A custom (B2B) app: visible only with the owning location's sToken as `itvt` cookie.
    pub b2b_custom: bool,
}

impl AppInfo {
    /// Plausible metadata for an iPhone/iPad app.
    pub fn app(adam_id: &str) -> Self {
        Self {
            name: format!("App {adam_id}"),
            bundle_id: Some(format!("com.example.app{adam_id}")),
            kind: "iosSoftware".to_owned(),
            artist_name: "Example Developer".to_owned(),
            icon_url: format!("https://is1-ssl.mzstatic.example/image/{adam_id}/{{w}}x{{h}}bb.{{f}}"),
            version: "1.0.0".to_owned(),
            size_bytes: 52_428_800,
            minimum_os_version: "15.0".to_owned(),
            device_families: vec!["iphone".to_owned(), "ipad".to_owned()],
            device_based_licensing: true,
            b2b_custom: false,
        }
    }

    /// Plausible metadata for a Mac app (its minimum OS is a macOS version).
    pub fn mac_app(adam_id: &str) -> Self {
        Self {
            kind: "macSoftware".to_owned(),
            minimum_os_version: "12.0".to_owned(),
            device_families: vec!["mac".to_owned()],
            ..Self::app(adam_id)
        }
    }

    /// Plausible metadata for a book.
    pub fn book(adam_id: &str) -> Self {
        Self {
            name: format!("Book {adam_id}"),
            bundle_id: None,
            kind: "ebook".to_owned(),
            artist_name: "Example Author".to_owned(),
            icon_url: format!("https://is1-ssl.mzstatic.example/image/{adam_id}/{{w}}x{{h}}bb.{{f}}"),
            version: "1.0".to_owned(),
            size_bytes: 4_194_304,
            minimum_os_version: "15.0".to_owned(),
            device_families: vec!["iphone".to_owned(), "ipad".to_owned(), "mac".to_owned()],
            device_based_licensing: false,
            b2b_custom: false,
        }
    }

    /// Marks the app as a custom (B2B) app.
    pub fn b2b(mut self) -> Self {
        self.b2b_custom = true;
        self
    }
}
