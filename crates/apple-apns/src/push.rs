//! One MDM wake-up: `POST /3/device/<hex token>` with `{"mdm":"<PushMagic>"}`.

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

/// A device's push token as the device sent it in TokenUpdate (raw bytes, usually 32).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct DeviceToken(Vec<u8>);

impl DeviceToken {
    pub fn new(bytes: impl Into<Vec<u8>>) -> Self {
        DeviceToken(bytes.into())
    }

    /// Parses the hex form (either case); `None` if it is not whole bytes of hex.
    pub fn from_hex(hex: &str) -> Option<Self> {
        let hex = hex.trim().as_bytes();
        if !hex.len().is_multiple_of(2) {
            return None;
        }
        hex.chunks(2)
            .map(|pair| Some(nibble(pair[0])? << 4 | nibble(pair[1])?))
            .collect::<Option<Vec<u8>>>()
            .map(DeviceToken)
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// Lower-case hex, the form APNs expects in the request path.
    pub fn to_hex(&self) -> String {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let mut out = String::with_capacity(self.0.len() * 2);
        for b in &self.0 {
            out.push(DIGITS[usize::from(b >> 4)] as char);
            out.push(DIGITS[usize::from(b & 0x0f)] as char);
        }
        out
    }
}

fn nibble(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

impl From<Vec<u8>> for DeviceToken {
    fn from(bytes: Vec<u8>) -> Self {
        DeviceToken(bytes)
    }
}

impl From<&[u8]> for DeviceToken {
    fn from(bytes: &[u8]) -> Self {
        DeviceToken(bytes.to_vec())
    }
}

impl fmt::Debug for DeviceToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DeviceToken({})", self.to_hex())
    }
}

impl fmt::Display for DeviceToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

/// The `apns-expiration` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expiration {
    /// `0`: deliver now or never; APNs does not store it for an offline device.
    Immediately,
    /// APNs stores the push (only the latest per device) and retries until then.
    At(SystemTime),
}

impl Expiration {
    pub(crate) fn header_value(self) -> String {
        match self {
            Expiration::Immediately => "0".to_owned(),
            // A time before 1970 would mean 0, which has the opposite meaning; 1 is "already
            // expired", the closest honest value.
            Expiration::At(t) => t
                .duration_since(UNIX_EPOCH)
                .map_or(1, |d| d.as_secs().max(1))
                .to_string(),
        }
    }
}

/// One MDM wake-up push.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MdmPush {
    pub device_token: DeviceToken,
    /// The PushMagic of the channel (device or user) to wake, from its TokenUpdate.
    pub push_magic: String,
    /// `None` leaves the header out (APNs then stores the push for a while).
    pub expiration: Option<Expiration>,
    /// A canonical lower-case UUID to identify the push; APNs generates one when absent.
    pub apns_id: Option<String>,
}

impl MdmPush {
    pub fn new(device_token: impl Into<DeviceToken>, push_magic: impl Into<String>) -> Self {
        MdmPush {
            device_token: device_token.into(),
            push_magic: push_magic.into(),
            expiration: None,
            apns_id: None,
        }
    }

    pub fn with_expiration(mut self, expiration: Expiration) -> Self {
        self.expiration = Some(expiration);
        self
    }

    pub fn with_apns_id(mut self, apns_id: impl Into<String>) -> Self {
        self.apns_id = Some(apns_id.into());
        self
    }

    pub(crate) fn path(&self) -> String {
        format!("3/device/{}", self.device_token.to_hex())
    }

    /// Exactly `{"mdm": "<PushMagic>"}`: an `aps` key would make it an app notification.
    pub(crate) fn body(&self) -> Vec<u8> {
        serde_json::to_vec(&serde_json::json!({ "mdm": self.push_magic })).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn hex_is_lower_case_and_round_trips() {
        let token = DeviceToken::new(vec![0x00, 0xAB, 0x10, 0xff]);
        assert_eq!(token.to_hex(), "00ab10ff");
        assert_eq!(DeviceToken::from_hex("00AB10ff"), Some(token.clone()));
        assert_eq!(format!("{token:?}"), "DeviceToken(00ab10ff)");
        assert_eq!(DeviceToken::from_hex("abc"), None);
        assert_eq!(DeviceToken::from_hex("zz"), None);
    }

    #[test]
    fn path_and_body_match_the_mdm_push_format() {
        let push = MdmPush::new(vec![0xde, 0xad, 0xbe, 0xef], "B0D5\"E");
        assert_eq!(push.path(), "3/device/deadbeef");
        let body: serde_json::Value = serde_json::from_slice(&push.body()).unwrap();
        assert_eq!(body, serde_json::json!({ "mdm": "B0D5\"E" }));
    }

    #[test]
    fn expiration_header() {
        assert_eq!(Expiration::Immediately.header_value(), "0");
        let t = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        assert_eq!(Expiration::At(t).header_value(), "1800000000");
        assert_eq!(Expiration::At(UNIX_EPOCH).header_value(), "1");
    }
}
