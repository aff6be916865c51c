//! The legacy content-metadata lookup (`urls.contentMetadataLookup` of service config):
//! app name, bundle id, icon, version, size for an adamId. No developer token needed;
//! the sToken goes in an `itvt` cookie to see custom (B2B) apps.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

/// Query string of the lookup, in wire form so a fake service can deserialise it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MetadataQuery {
    pub version: u32,
    /// Comma-separated adamIds.
    pub id: String,
    pub p: String,
    pub caller: String,
    /// `enterprisestore` or `volumestore`: client config's `defaultPlatform`.
    pub platform: String,
    /// Lower-case country code (client config's `countryISO2ACode`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cc: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub l: Option<String>,
}

impl MetadataQuery {
    pub fn new<I, S>(adam_ids: I, platform: &str) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let ids: Vec<String> = adam_ids.into_iter().map(|s| s.as_ref().to_owned()).collect();
        Self {
            version: 2,
            id: ids.join(","),
            p: "mdm-lockup".to_owned(),
            caller: "MDM".to_owned(),
            platform: platform.to_owned(),
            cc: None,
            l: None,
        }
    }

    pub fn country(mut self, iso2: &str) -> Self {
        self.cc = Some(iso2.to_ascii_lowercase());
        self
    }

    pub fn language(mut self, lang: &str) -> Self {
        self.l = Some(lang.to_owned());
        self
    }

    pub fn adam_ids(&self) -> impl Iterator<Item = &str> {
        self.id.split(',').filter(|s| !s.is_empty())
    }
}

/// Lookup response. An empty `results` means no access, an unknown id, or failed auth.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MetadataResponse {
    /// Keyed by adamId as a string.
    #[serde(default, deserialize_with = "map_or_empty")]
    pub results: BTreeMap<String, AppMetadata>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_authenticated: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Value>,
}

/// Apple has answered an empty result set as `[]` or `null` rather than `{}`.
fn map_or_empty<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, AppMetadata>, D::Error> {
    match Value::deserialize(d)? {
        Value::Object(m) => serde_json::from_value(Value::Object(m)).map_err(serde::de::Error::custom),
        Value::Null => Ok(BTreeMap::new()),
        Value::Array(a) if a.is_empty() => Ok(BTreeMap::new()),
        _ => Err(serde::de::Error::custom("results is neither an object nor empty")),
    }
}

/// The fields an MDM shows; everything else Apple sends is kept in `extra`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppMetadata {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bundle_id: Option<String>,
    /// e.g. `iosSoftware`, `macSoftware`, `ebook`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artist_name: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub device_families: Vec<String>,
    #[serde(rename = "minimumOSVersion", default, skip_serializing_if = "Option::is_none")]
    pub minimum_os_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_vpp_device_based_licensing_enabled: Option<bool>,
    #[serde(rename = "isB2BCustomApp", default, skip_serializing_if = "Option::is_none")]
    pub is_b2b_custom_app: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub watch_bundle_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artwork: Option<Artwork>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub genre_names: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub offers: Vec<Offer>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Current responses send one templated image; older ones a list of sizes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Artwork {
    Single(ArtworkImage),
    List(Vec<ArtworkImage>),
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArtworkImage {
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Offer {
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub offer_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price_formatted: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buy_params: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<OfferVersion>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub assets: Vec<OfferAsset>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OfferVersion {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<Value>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfferAsset {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flavor: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
}

impl AppMetadata {
    /// Icon URL at `px`×`px` in `format` (e.g. `png`); for the list form, the largest image.
    pub fn icon_url(&self, px: u32, format: &str) -> Option<String> {
        let image = match self.artwork.as_ref()? {
            Artwork::Single(i) => i,
            Artwork::List(l) => l.iter().max_by_key(|i| i.width.unwrap_or(0))?,
        };
        let px = px.to_string();
        Some(image.url.replace("{w}", &px).replace("{h}", &px).replace("{f}", format))
    }

    pub fn version(&self) -> Option<&str> {
        self.offers.first()?.version.as_ref()?.display.as_deref()
    }

    pub fn size_bytes(&self) -> Option<u64> {
        self.offers.first()?.assets.first()?.size
    }

    /// iPhone/iPad apps that Apple silicon Macs can also run.
    pub fn runs_on_mac(&self) -> bool {
        self.kind.as_deref() == Some("iosSoftware") && self.device_families.iter().any(|f| f == "mac")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_example_parses() {
        let json = r#"{"results":{"361309726":{"id":361309726,"name":"Pages","bundleId":"com.apple.Pages",
          "kind":"iosSoftware","artistName":"Apple","deviceFamilies":["iphone","ipad","ipod"],
          "minimumOSVersion":"11.0","isVppDeviceBasedLicensingEnabled":true,"isB2BCustomApp":false,
          "artwork":{"url":"https://is2-ssl.mzstatic.com/a/{w}x{h}bb.{f}","width":1024,"height":1024},
          "genreNames":["Productivity"],"offers":[{"type":"get","price":0,"priceFormatted":"$0.00",
          "version":{"display":"5.0.1","externalId":830786363},"assets":[{"flavor":"iosSoftware","size":549427200}]}]}},
          "version":2,"isAuthenticated":false,"meta":{"storefront":{"id":"143441","cc":"US"}}}"#;
        let r: MetadataResponse = serde_json::from_str(json).unwrap();
        let app = &r.results["361309726"];
        assert_eq!(app.bundle_id.as_deref(), Some("com.apple.Pages"));
        assert_eq!(app.version(), Some("5.0.1"));
        assert_eq!(app.size_bytes(), Some(549_427_200));
        assert_eq!(
            app.icon_url(512, "png").unwrap(),
            "https://is2-ssl.mzstatic.com/a/512x512bb.png"
        );
        assert!(app.extra.contains_key("id"));
        assert!(!app.runs_on_mac());
    }

    #[test]
    fn empty_results_in_any_form() {
        for body in [r#"{"results":{}}"#, r#"{"results":[]}"#, r#"{"results":null}"#, "{}"] {
            let r: MetadataResponse = serde_json::from_str(body).unwrap();
            assert!(r.results.is_empty());
        }
        let old: AppMetadata = serde_json::from_str(
            r#"{"artwork":[{"url":"https://a/57.png","width":57},{"url":"https://a/512.png","width":512}]}"#,
        )
        .unwrap();
        assert_eq!(old.icon_url(100, "png").unwrap(), "https://a/512.png");
    }

    #[test]
    fn query_wire_form() {
        let q = MetadataQuery::new(["1", "2"], "enterprisestore")
            .country("US")
            .language("ja");
        assert_eq!(q.id, "1,2");
        assert_eq!(q.cc.as_deref(), Some("us"));
        assert_eq!(q.adam_ids().collect::<Vec<_>>(), vec!["1", "2"]);
    }
}
