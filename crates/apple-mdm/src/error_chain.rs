//! `ErrorChain`: why a command failed, outermost error first.
//!
//! Apple says codes are diagnostic and may change between releases, so callers should
//! branch on (domain, code) pairs they know, show the descriptions to admins, and keep
//! the raw report. The helpers here search the *whole* chain because the actionable
//! cause is often an inner item (e.g. `MCMDMErrorDomain 12064` wraps
//! `DeviceManagement.error 2605`, and `12023` wraps `NSURLErrorDomain -1001`).

use plist::Dictionary;

use crate::MdmError;
use crate::fields::{DictWriter, Fields, Record, plist_record};

/// Error domains that matter for app and book distribution.
pub mod domain {
    /// The MDM client's own errors (the 12000 range).
    pub const MCMDM: &str = "MCMDMErrorDomain";
    /// The DeviceManagement framework (1xxx, 2xxx codes).
    pub const DEVICE_MANAGEMENT: &str = "DeviceManagement.error";
    /// Foundation networking errors (negative codes such as -1001, -1009).
    pub const NSURL: &str = "NSURLErrorDomain";
    /// CFNetwork's spelling of the same networking errors.
    pub const CF_NETWORK: &str = "kCFErrorDomainCFNetwork";
    /// The App Store daemon (e.g. 506 "Duplicate request").
    pub const APP_STORE_DAEMON: &str = "ASDErrorDomain";
    /// Configuration profile errors.
    pub const MC_PROFILE: &str = "MCProfileErrorDomain";
}

/// A (domain, code) pair that identifies one kind of device error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ErrorId {
    /// The `ErrorDomain`.
    pub domain: &'static str,
    /// The `ErrorCode`.
    pub code: i64,
}

impl ErrorId {
    /// Names an error by domain and code.
    pub const fn new(domain: &'static str, code: i64) -> Self {
        Self { domain, code }
    }
}

/// Errors an Apps & Books server reacts to; see the protocol reference §8.2 for what
/// to do about each.
pub mod known {
    use super::{ErrorId, domain};

    /// The OS or channel does not support the RequestType. Permanent.
    pub const INVALID_REQUEST_TYPE: ErrorId = ErrorId::new(domain::MCMDM, 12021);
    /// The iTunes Store ID could not be validated (often a network timeout inside).
    pub const STORE_ID_NOT_VALIDATED: ErrorId = ErrorId::new(domain::MCMDM, 12023);
    /// The user installed the app unmanaged; resend with ChangeManagementState.
    pub const APP_ALREADY_INSTALLED: ErrorId = ErrorId::new(domain::MCMDM, 12025);
    /// Devices say "already scheduled for management": an install is in flight.
    pub const APP_ALREADY_QUEUED: ErrorId = ErrorId::new(domain::MCMDM, 12026);
    /// The app is not managed (RemoveApplication, Settings on an unmanaged app).
    pub const APP_NOT_MANAGED: ErrorId = ErrorId::new(domain::MCMDM, 12029);
    /// A restriction disables the App Store / app installation.
    pub const APP_INSTALLATION_DISABLED: ErrorId = ErrorId::new(domain::MCMDM, 12031);
    /// No App Store account is signed in (user-licensed install).
    pub const STORE_LOGIN_REQUIRED: ErrorId = ErrorId::new(domain::MCMDM, 12040);
    /// The user tapped Cancel on the install prompt.
    pub const USER_REJECTED: ErrorId = ErrorId::new(domain::MCMDM, 12063);
    /// No Apps & Books license for this serial number or Apple Account.
    pub const LICENSE_NOT_FOUND: ErrorId = ErrorId::new(domain::MCMDM, 12064);
    /// The DeviceManagement-level "no license was found" under 12064.
    pub const DM_LICENSE_NOT_FOUND: ErrorId = ErrorId::new(domain::DEVICE_MANAGEMENT, 2605);
    /// A prompt is already on screen; back off instead of resending.
    pub const USER_ALREADY_PROMPTED: ErrorId = ErrorId::new(domain::DEVICE_MANAGEMENT, 1407);
    /// Network timeout talking to Apple's store or CDN.
    pub const NETWORK_TIMED_OUT: ErrorId = ErrorId::new(domain::NSURL, -1001);
    /// The device has no internet connection.
    pub const NOT_CONNECTED_TO_INTERNET: ErrorId = ErrorId::new(domain::NSURL, -1009);
}

/// One item of an `ErrorChain`.
#[derive(Debug, Clone, PartialEq)]
pub struct ErrorChainItem {
    /// `ErrorCode`; negative for networking errors.
    pub code: i64,
    /// `ErrorDomain`.
    pub domain: String,
    /// `LocalizedDescription`, in the device's language.
    pub localized_description: Option<String>,
    /// `USEnglishDescription`; often missing on inner items and on macOS.
    pub us_english_description: Option<String>,
    /// Keys this crate does not model.
    pub extra: Dictionary,
}

impl ErrorChainItem {
    /// An item with just a domain and code, for simulators and tests.
    pub fn new(domain: impl Into<String>, code: i64) -> Self {
        Self {
            code,
            domain: domain.into(),
            localized_description: None,
            us_english_description: None,
            extra: Dictionary::new(),
        }
    }

    /// Sets both descriptions, as an English-language device would.
    #[must_use]
    pub fn with_description(mut self, text: impl Into<String>) -> Self {
        let text = text.into();
        self.localized_description = Some(text.clone());
        self.us_english_description = Some(text);
        self
    }

    /// Whether this item is the given (domain, code).
    pub fn is(&self, id: ErrorId) -> bool {
        self.matches(id.domain, id.code)
    }

    /// Whether this item has the given domain and code.
    pub fn matches(&self, domain: &str, code: i64) -> bool {
        self.code == code && self.domain == domain
    }

    /// The best text for an admin: US English when available (stable across
    /// device languages, searchable), otherwise the localized text.
    pub fn description(&self) -> Option<&str> {
        self.us_english_description
            .as_deref()
            .or(self.localized_description.as_deref())
    }
}

impl Record for ErrorChainItem {
    fn read(mut f: Fields) -> Result<Self, MdmError> {
        Ok(Self {
            code: f.signed("ErrorCode")?.ok_or_else(|| f.missing("ErrorCode"))?,
            domain: f.required_string("ErrorDomain")?,
            localized_description: f.string("LocalizedDescription")?,
            us_english_description: f.string("USEnglishDescription")?,
            extra: f.rest(),
        })
    }

    fn write(&self, out: &mut DictWriter) {
        out.opt_signed("ErrorCode", Some(self.code));
        out.string("ErrorDomain", &self.domain);
        out.opt_string("LocalizedDescription", self.localized_description.as_deref());
        out.opt_string("USEnglishDescription", self.us_english_description.as_deref());
        out.extra(&self.extra);
    }
}

plist_record!(ErrorChainItem);

/// The `ErrorChain` array: item 0 is the top-level error, later items its causes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ErrorChain(pub Vec<ErrorChainItem>);

impl ErrorChain {
    /// The outermost error, which is what the device shows first.
    pub fn top(&self) -> Option<&ErrorChainItem> {
        self.0.first()
    }

    /// All items, outermost first.
    pub fn items(&self) -> &[ErrorChainItem] {
        &self.0
    }

    /// Iterates outermost first.
    pub fn iter(&self) -> std::slice::Iter<'_, ErrorChainItem> {
        self.0.iter()
    }

    /// Whether the chain has no items.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The first item, at any depth, with this domain and code.
    pub fn find(&self, domain: &str, code: i64) -> Option<&ErrorChainItem> {
        self.0.iter().find(|item| item.matches(domain, code))
    }

    /// Whether this domain and code occur anywhere in the chain.
    pub fn contains(&self, domain: &str, code: i64) -> bool {
        self.find(domain, code).is_some()
    }

    /// Whether the known error occurs anywhere in the chain.
    pub fn contains_id(&self, id: ErrorId) -> bool {
        self.contains(id.domain, id.code)
    }

    /// Whether any of the known errors occurs anywhere in the chain.
    pub fn contains_any(&self, ids: &[ErrorId]) -> bool {
        ids.iter().any(|&id| self.contains_id(id))
    }

    /// The first item from a domain (e.g. to see whether any networking error is inside).
    pub fn find_domain(&self, domain: &str) -> Option<&ErrorChainItem> {
        self.0.iter().find(|item| item.domain == domain)
    }

    /// One line for logs: `MCMDMErrorDomain 12064: "..." <- DeviceManagement.error 2605`.
    pub fn summary(&self) -> String {
        self.0
            .iter()
            .map(|item| match item.description() {
                Some(text) => format!("{} {}: {text:?}", item.domain, item.code),
                None => format!("{} {}", item.domain, item.code),
            })
            .collect::<Vec<_>>()
            .join(" <- ")
    }
}

impl From<Vec<ErrorChainItem>> for ErrorChain {
    fn from(items: Vec<ErrorChainItem>) -> Self {
        Self(items)
    }
}

impl<'a> IntoIterator for &'a ErrorChain {
    type Item = &'a ErrorChainItem;
    type IntoIter = std::slice::Iter<'a, ErrorChainItem>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn license_chain() -> ErrorChain {
        ErrorChain(vec![
            ErrorChainItem::new(domain::MCMDM, 12064).with_description("License for app “X” could not be found."),
            ErrorChainItem::new(domain::DEVICE_MANAGEMENT, 2605),
        ])
    }

    #[test]
    fn finds_errors_at_any_depth() {
        let chain = license_chain();
        assert!(chain.contains_id(known::LICENSE_NOT_FOUND));
        assert!(chain.contains_id(known::DM_LICENSE_NOT_FOUND));
        assert!(!chain.contains_id(known::USER_REJECTED));
        assert!(chain.contains_any(&[known::USER_REJECTED, known::DM_LICENSE_NOT_FOUND]));
        assert_eq!(chain.top().map(|item| item.code), Some(12064));
        assert_eq!(chain.find_domain(domain::DEVICE_MANAGEMENT).map(|i| i.code), Some(2605));
    }

    #[test]
    fn summary_lists_outermost_first() {
        assert_eq!(
            license_chain().summary(),
            "MCMDMErrorDomain 12064: \"License for app “X” could not be found.\" \
             <- DeviceManagement.error 2605"
        );
    }
}
