//! Getting and reading the enrollment profile, refusing what iOS would refuse.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use apple_mdm::PlistRecord;
use apple_mdm::enrollment::{AccessRights, EnrollmentProfile, ProfilePayload};
use mdm_identity::DeviceIdentity;
use plist::{Dictionary, Value};

use super::hardware::Hardware;
use crate::error::{Endpoint, SimError};

/// The content type iOS (Safari) installs as a configuration profile.
pub const PROFILE_CONTENT_TYPE: &str = "application/x-apple-aspen-config";
const PKCS12_PAYLOAD_TYPE: &str = "com.apple.security.pkcs12";

/// A future returned by a [`ProfileSource`].
pub type ProfileFuture<'a> = Pin<Box<dyn Future<Output = Result<Vec<u8>, SimError>> + Send + 'a>>;

/// Where a device gets its enrollment profile: the raw `.mobileconfig` bytes, an XML plist
/// or a CMS SignedData wrapping one.
pub trait ProfileSource: Send + Sync {
    /// Fetches the profile for `device` (which a source may ignore, as a web download does).
    fn fetch<'a>(&'a self, client: &'a reqwest::Client, device: &'a Hardware) -> ProfileFuture<'a>;
}

/// Downloads the profile over HTTP, optionally with a bearer token, as a user in Safari or
/// an enrollment portal would.
#[derive(Debug, Clone)]
pub struct HttpProfileSource {
    url: String,
    bearer: Option<String>,
}

impl HttpProfileSource {
    /// `GET url`.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            bearer: None,
        }
    }

    /// haishin's endpoint: `GET {server}/api/v1/mdm/enrollment-profile?group_id={group_id}`.
    pub fn for_group(server: &str, group_id: i64) -> Self {
        Self::new(format!(
            "{}/api/v1/mdm/enrollment-profile?group_id={group_id}",
            server.trim_end_matches('/')
        ))
    }

    /// Sends `Authorization: Bearer <token>`.
    #[must_use]
    pub fn with_bearer(mut self, token: impl Into<String>) -> Self {
        self.bearer = Some(token.into());
        self
    }

    /// The URL fetched.
    pub fn url(&self) -> &str {
        &self.url
    }
}

impl ProfileSource for HttpProfileSource {
    fn fetch<'a>(&'a self, client: &'a reqwest::Client, _device: &'a Hardware) -> ProfileFuture<'a> {
        Box::pin(async move {
            let mut request = client.get(&self.url);
            if let Some(token) = &self.bearer {
                request = request.bearer_auth(token);
            }
            let transport = |e: reqwest::Error| SimError::Transport {
                endpoint: Endpoint::Profile,
                message: error_text(&e),
            };
            let response = request.send().await.map_err(transport)?;
            let status = response.status().as_u16();
            let content_type = response
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_ascii_lowercase();
            let body = response.bytes().await.map_err(transport)?;
            if status != 200 {
                return Err(SimError::Status {
                    endpoint: Endpoint::Profile,
                    status,
                    body: String::from_utf8_lossy(&body).chars().take(512).collect(),
                });
            }
            // Safari hands a download to the profile installer only for this type.
            if !content_type.starts_with(PROFILE_CONTENT_TYPE) {
                return Err(SimError::ProfileRefused(format!(
                    "served as `{content_type}`, not {PROFILE_CONTENT_TYPE}"
                )));
            }
            Ok(body.to_vec())
        })
    }
}

/// The same bytes for every device (a profile built by the test itself).
#[derive(Debug, Clone)]
pub struct StaticProfileSource(Arc<Vec<u8>>);

impl StaticProfileSource {
    /// Serves these bytes.
    pub fn new(profile: impl Into<Vec<u8>>) -> Self {
        Self(Arc::new(profile.into()))
    }
}

impl ProfileSource for StaticProfileSource {
    fn fetch<'a>(&'a self, _client: &'a reqwest::Client, _device: &'a Hardware) -> ProfileFuture<'a> {
        let bytes = self.0.as_ref().clone();
        Box::pin(async move { Ok(bytes) })
    }
}

/// What installing the profile gave the device.
#[derive(Debug)]
pub struct Enrollment {
    /// `ServerURL`.
    pub server_url: String,
    /// `CheckInURL`, or `ServerURL` when absent.
    pub check_in_url: String,
    /// `Topic`.
    pub topic: String,
    /// `SignMessage`.
    pub sign_message: bool,
    /// `CheckOutWhenRemoved`.
    pub check_out_when_removed: bool,
    /// `AccessRights` (all when absent, as the current schema allows).
    pub access_rights: AccessRights,
    /// `ServerCapabilities`.
    pub server_capabilities: Vec<String>,
    /// True when the profile came wrapped in a CMS signature.
    pub signed: bool,
    /// The identity from the PKCS#12 payload.
    pub identity: DeviceIdentity,
}

/// Reads a downloaded profile as the iOS profile installer would.
pub fn read_profile(bytes: &[u8]) -> Result<Enrollment, SimError> {
    let (xml, signed) = unwrap_profile(bytes)?;
    let profile = EnrollmentProfile::from_xml(&xml)
        .map_err(|e| SimError::ProfileRefused(format!("not a configuration profile: {e}")))?;
    let mdm = profile
        .mdm_payload()
        .ok_or_else(|| SimError::ProfileRefused("no com.apple.mdm payload".into()))?;
    if !mdm.topic.starts_with(crate::apns::MDM_TOPIC_PREFIX) {
        return Err(SimError::ProfileRefused(format!(
            "Topic `{}` is not an MDM topic",
            mdm.topic
        )));
    }
    // The schema requires https; loopback http is accepted so tests can run without TLS.
    for url in [Some(mdm.server_url.as_str()), mdm.check_in_url.as_deref()]
        .into_iter()
        .flatten()
    {
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            return Err(SimError::ProfileRefused(format!("`{url}` is not an http(s) URL")));
        }
    }
    let access_rights = mdm.access_rights.unwrap_or(AccessRights::ALL);
    if !access_rights.is_valid() {
        return Err(SimError::ProfileRefused(format!(
            "AccessRights {} is not a valid combination",
            access_rights.0
        )));
    }
    let identity_payload = profile
        .payloads
        .iter()
        .find_map(|payload| match payload {
            ProfilePayload::Other(dict)
                if dict.get("PayloadUUID").and_then(Value::as_string)
                    == Some(mdm.identity_certificate_uuid.as_str()) =>
            {
                Some(dict)
            }
            _ => None,
        })
        .ok_or_else(|| {
            SimError::ProfileRefused(format!(
                "IdentityCertificateUUID {} names no payload in the profile",
                mdm.identity_certificate_uuid
            ))
        })?;
    let identity = read_pkcs12_payload(identity_payload)?;
    Ok(Enrollment {
        server_url: mdm.server_url.clone(),
        check_in_url: mdm.effective_check_in_url().to_owned(),
        topic: mdm.topic.clone(),
        sign_message: mdm.sign_message.unwrap_or(false),
        check_out_when_removed: mdm.check_out_when_removed.unwrap_or(false),
        access_rights,
        server_capabilities: mdm.server_capabilities.clone().unwrap_or_default(),
        signed,
        identity,
    })
}

/// A signed profile is DER CMS; an unsigned one is a plist, XML or binary.
fn unwrap_profile(bytes: &[u8]) -> Result<(Vec<u8>, bool), SimError> {
    let trimmed = bytes.trim_ascii_start();
    if trimmed.starts_with(b"<") {
        return Ok((bytes.to_vec(), false));
    }
    if trimmed.starts_with(b"bplist") {
        return Ok((binary_to_xml(bytes)?, false));
    }
    // iOS installs a profile whose signer it does not trust (marked "Not Verified"), so
    // only the signature itself is checked.
    let signed = mdm_identity::verify_signed_profile(bytes, None)
        .map_err(|e| SimError::ProfileRefused(format!("neither a plist nor a valid CMS signature: {e}")))?;
    let content = if signed.content.trim_ascii_start().starts_with(b"bplist") {
        binary_to_xml(&signed.content)?
    } else {
        signed.content
    };
    Ok((content, true))
}

fn binary_to_xml(bytes: &[u8]) -> Result<Vec<u8>, SimError> {
    let value = Value::from_reader(std::io::Cursor::new(bytes))
        .map_err(|e| SimError::ProfileRefused(format!("unreadable binary plist: {e}")))?;
    let mut xml = Vec::new();
    value
        .to_writer_xml(&mut xml)
        .map_err(|e| SimError::ProfileRefused(e.to_string()))?;
    Ok(xml)
}

fn read_pkcs12_payload(payload: &Dictionary) -> Result<DeviceIdentity, SimError> {
    let payload_type = payload.get("PayloadType").and_then(Value::as_string);
    if payload_type != Some(PKCS12_PAYLOAD_TYPE) {
        return Err(SimError::ProfileRefused(format!(
            "the identity payload is {payload_type:?}, the simulator supports only {PKCS12_PAYLOAD_TYPE}"
        )));
    }
    let pfx = payload
        .get("PayloadContent")
        .and_then(Value::as_data)
        .ok_or_else(|| SimError::ProfileRefused("the PKCS#12 payload has no PayloadContent data".into()))?;
    // Without a Password iOS asks the user for one; a simulated user cannot answer.
    let password = payload
        .get("Password")
        .and_then(Value::as_string)
        .ok_or_else(|| SimError::ProfileRefused("the PKCS#12 payload has no Password".into()))?;
    Ok(DeviceIdentity::from_pkcs12(pfx, password)?)
}

pub(crate) fn error_text(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(inner) = source {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        source = inner.source();
    }
    text
}
