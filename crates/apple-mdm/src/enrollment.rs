//! The enrollment profile (`.mobileconfig`) and its `com.apple.mdm` payload.
//!
//! The server generates this profile (and a device simulator reads it to learn the
//! URLs and topic), so it lives here next to the messages it configures. Signing the
//! profile is a server concern and out of scope.

use std::ops::BitOr;

use plist::{Dictionary, Value};

use crate::MdmError;
use crate::fields::{DictWriter, Fields, Record, plist_record, to_dictionary};

/// `AccessRights` bit set of the MDM payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AccessRights(pub u64);

impl AccessRights {
    /// 1: inspect installed configuration profiles.
    pub const INSPECT_PROFILES: Self = Self(1);
    /// 2: install and remove configuration profiles (requires 1).
    pub const INSTALL_PROFILES: Self = Self(2);
    /// 4: device lock and passcode removal.
    pub const LOCK_AND_PASSCODE_REMOVAL: Self = Self(4);
    /// 8: device erase.
    pub const ERASE: Self = Self(8);
    /// 16: query device information.
    pub const QUERY_DEVICE_INFORMATION: Self = Self(16);
    /// 32: query network information.
    pub const QUERY_NETWORK_INFORMATION: Self = Self(32);
    /// 64: inspect provisioning profiles.
    pub const INSPECT_PROVISIONING_PROFILES: Self = Self(64);
    /// 128: install and remove provisioning profiles (requires 64).
    pub const INSTALL_PROVISIONING_PROFILES: Self = Self(128);
    /// 256: inspect installed apps.
    pub const INSPECT_APPS: Self = Self(256);
    /// 512: restriction-related queries.
    pub const RESTRICTION_QUERIES: Self = Self(512);
    /// 1024: security-related queries.
    pub const SECURITY_QUERIES: Self = Self(1024);
    /// 2048: manipulate settings.
    pub const SETTINGS: Self = Self(2048);
    /// 4096: app management.
    pub const APP_MANAGEMENT: Self = Self(4096);
    /// Every right (8191); an in-place profile update can never add rights later.
    pub const ALL: Self = Self(8191);

    /// Whether every bit of `other` is set.
    pub fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }

    /// Apple refuses zero, unknown bits, and the two rights that lack their
    /// prerequisite (2 without 1, 128 without 64).
    pub fn is_valid(self) -> bool {
        self.0 != 0
            && self.0 & !Self::ALL.0 == 0
            && (!self.contains(Self::INSTALL_PROFILES) || self.contains(Self::INSPECT_PROFILES))
            && (!self.contains(Self::INSTALL_PROVISIONING_PROFILES)
                || self.contains(Self::INSPECT_PROVISIONING_PROFILES))
    }
}

impl BitOr for AccessRights {
    type Output = Self;

    fn bitor(self, rhs: Self) -> Self {
        Self(self.0 | rhs.0)
    }
}

/// Values of `ServerCapabilities`.
pub mod capability {
    /// Device *and* user channels; required for Shared iPad and macOS users.
    pub const PER_USER_CONNECTIONS: &str = "com.apple.mdm.per-user-connections";
    /// Bootstrap token escrow (Set/GetBootstrapToken check-ins).
    pub const BOOTSTRAP_TOKEN: &str = "com.apple.mdm.bootstraptoken";
    /// `GetToken` check-ins.
    pub const TOKEN: &str = "com.apple.mdm.token";
}

/// The common header of every payload inside a configuration profile.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PayloadHeader {
    /// `PayloadIdentifier`: reverse-DNS, unique within the profile.
    pub identifier: String,
    /// `PayloadUUID`.
    pub uuid: String,
    /// `PayloadVersion` (always 1 today).
    pub version: i64,
    /// `PayloadDisplayName`.
    pub display_name: Option<String>,
}

impl PayloadHeader {
    fn read(f: &mut Fields) -> Result<Self, MdmError> {
        Ok(Self {
            identifier: f.required_string("PayloadIdentifier")?,
            uuid: f.required_string("PayloadUUID")?,
            version: f.signed("PayloadVersion")?.ok_or_else(|| f.missing("PayloadVersion"))?,
            display_name: f.string("PayloadDisplayName")?,
        })
    }

    fn write(&self, out: &mut DictWriter) {
        out.string("PayloadIdentifier", &self.identifier);
        out.string("PayloadUUID", &self.uuid);
        out.opt_signed("PayloadVersion", Some(self.version));
        out.opt_string("PayloadDisplayName", self.display_name.as_deref());
    }
}

/// The `com.apple.mdm` payload: where the device checks in and which topic it listens on.
#[derive(Debug, Clone, PartialEq)]
pub struct MdmPayload {
    /// Payload identifier, UUID and version.
    pub header: PayloadHeader,
    /// `ServerURL`: the command endpoint (`https://`). Fixed for the enrollment's life.
    pub server_url: String,
    /// `CheckInURL`: the check-in endpoint; defaults to `ServerURL`.
    pub check_in_url: Option<String>,
    /// `Topic`: must equal the UID of the push certificate's subject.
    pub topic: String,
    /// `IdentityCertificateUUID`: the payload holding the device's client identity.
    pub identity_certificate_uuid: String,
    /// `AccessRights`; legacy devices require it, User Enrollment ignores it.
    pub access_rights: Option<AccessRights>,
    /// `SignMessage`: add an `Mdm-Signature` header to every request.
    pub sign_message: Option<bool>,
    /// `CheckOutWhenRemoved`: try once to send `CheckOut` on removal.
    pub check_out_when_removed: Option<bool>,
    /// `ServerCapabilities` (see [`capability`]).
    pub server_capabilities: Option<Vec<String>>,
    /// `UseDevelopmentAPNS`: must stay false for production push certificates.
    pub use_development_apns: Option<bool>,
    /// Keys this crate does not model (pinning, account-driven enrollment keys, ...).
    pub extra: Dictionary,
}

impl MdmPayload {
    /// The `PayloadType` of this payload.
    pub const PAYLOAD_TYPE: &'static str = "com.apple.mdm";

    /// Where check-ins go: `CheckInURL`, falling back to `ServerURL`.
    pub fn effective_check_in_url(&self) -> &str {
        self.check_in_url.as_deref().unwrap_or(&self.server_url)
    }

    /// Whether `ServerCapabilities` lists this capability.
    pub fn has_capability(&self, capability: &str) -> bool {
        self.server_capabilities
            .as_ref()
            .is_some_and(|caps| caps.iter().any(|c| c == capability))
    }
}

impl Record for MdmPayload {
    fn read(mut f: Fields) -> Result<Self, MdmError> {
        Ok(Self {
            header: PayloadHeader::read(&mut f)?,
            server_url: f.required_string("ServerURL")?,
            check_in_url: f.string("CheckInURL")?,
            topic: f.required_string("Topic")?,
            identity_certificate_uuid: f.required_string("IdentityCertificateUUID")?,
            access_rights: f.unsigned("AccessRights")?.map(AccessRights),
            sign_message: f.bool("SignMessage")?,
            check_out_when_removed: f.bool("CheckOutWhenRemoved")?,
            server_capabilities: f.strings("ServerCapabilities")?,
            use_development_apns: f.bool("UseDevelopmentAPNS")?,
            extra: f.rest(),
        })
    }

    fn write(&self, out: &mut DictWriter) {
        out.string("PayloadType", Self::PAYLOAD_TYPE);
        self.header.write(out);
        out.string("ServerURL", &self.server_url);
        out.opt_string("CheckInURL", self.check_in_url.as_deref());
        out.string("Topic", &self.topic);
        out.string("IdentityCertificateUUID", &self.identity_certificate_uuid);
        out.opt_unsigned("AccessRights", self.access_rights.map(|r| r.0));
        out.opt_bool("SignMessage", self.sign_message);
        out.opt_bool("CheckOutWhenRemoved", self.check_out_when_removed);
        out.opt_strings("ServerCapabilities", self.server_capabilities.as_deref());
        out.opt_bool("UseDevelopmentAPNS", self.use_development_apns);
        out.extra(&self.extra);
    }
}

/// One entry of a profile's `PayloadContent`.
#[derive(Debug, Clone, PartialEq)]
pub enum ProfilePayload {
    /// The `com.apple.mdm` payload (boxed: a profile's other payloads are small).
    Mdm(Box<MdmPayload>),
    /// Any other payload (SCEP, PKCS#12, certificates, ...), kept whole.
    Other(Dictionary),
}

impl Record for ProfilePayload {
    fn read(mut f: Fields) -> Result<Self, MdmError> {
        let payload_type = f.required_string("PayloadType")?;
        if payload_type == MdmPayload::PAYLOAD_TYPE {
            return MdmPayload::read(f).map(|mdm| Self::Mdm(Box::new(mdm)));
        }
        let mut body = f.rest();
        body.insert("PayloadType".to_owned(), Value::String(payload_type));
        Ok(Self::Other(body))
    }

    fn write(&self, out: &mut DictWriter) {
        match self {
            Self::Mdm(payload) => payload.write(out),
            Self::Other(body) => out.extra(body),
        }
    }
}

/// A configuration profile (top-level `PayloadType` = `Configuration`).
#[derive(Debug, Clone, PartialEq)]
pub struct EnrollmentProfile {
    /// Profile identifier, UUID, version and display name.
    pub header: PayloadHeader,
    /// `PayloadContent`, in order.
    pub payloads: Vec<ProfilePayload>,
    /// Keys this crate does not model (`PayloadOrganization`, `PayloadDescription`, ...).
    pub extra: Dictionary,
}

impl EnrollmentProfile {
    /// The top-level `PayloadType`.
    pub const PAYLOAD_TYPE: &'static str = "Configuration";

    /// The MDM payload, if the profile has one.
    pub fn mdm_payload(&self) -> Option<&MdmPayload> {
        self.payloads.iter().find_map(|payload| match payload {
            ProfilePayload::Mdm(mdm) => Some(mdm.as_ref()),
            ProfilePayload::Other(_) => None,
        })
    }
}

impl Record for EnrollmentProfile {
    fn read(mut f: Fields) -> Result<Self, MdmError> {
        let payload_type = f.required_string("PayloadType")?;
        if payload_type != Self::PAYLOAD_TYPE {
            return Err(f.invalid("PayloadType", payload_type, "Configuration"));
        }
        Ok(Self {
            header: PayloadHeader::read(&mut f)?,
            payloads: f
                .records("PayloadContent")?
                .ok_or_else(|| f.missing("PayloadContent"))?,
            extra: f.rest(),
        })
    }

    fn write(&self, out: &mut DictWriter) {
        out.string("PayloadType", Self::PAYLOAD_TYPE);
        self.header.write(out);
        let content = self
            .payloads
            .iter()
            .map(|payload| Value::Dictionary(to_dictionary(payload)))
            .collect();
        out.value("PayloadContent", Value::Array(content));
        out.extra(&self.extra);
    }
}

plist_record!(MdmPayload, EnrollmentProfile);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_rights_validation_follows_apples_rules() {
        assert!(AccessRights::ALL.is_valid());
        assert!(!AccessRights(0).is_valid());
        assert!(!AccessRights::INSTALL_PROFILES.is_valid());
        assert!((AccessRights::INSTALL_PROFILES | AccessRights::INSPECT_PROFILES).is_valid());
        assert!(!AccessRights::INSTALL_PROVISIONING_PROFILES.is_valid());
        assert!(!AccessRights(8192).is_valid());
        assert!(AccessRights::ALL.contains(AccessRights::APP_MANAGEMENT));
    }
}
