//! Messages captured from real devices (`templates/`, copied from the project's fixtures),
//! parsed once and used as the starting point of what simulated devices send, so the
//! shapes stay those of real iOS output.

use std::sync::OnceLock;

use apple_mdm::checkin::{Authenticate, CheckOut, TokenUpdate};
use apple_mdm::report::{DeviceInformationResult, InstalledApplication, ManagedApplication};
use apple_mdm::{CommandReport, ErrorChainItem, PlistRecord};

const AUTHENTICATE: &str = include_str!("../templates/checkin-authenticate-ios11-ipad.plist");
const TOKEN_UPDATE: &str = include_str!("../templates/checkin-tokenupdate-ios9-ipad-unlocktoken-nanomdm.plist");
const USER_TOKEN_UPDATE: &str = include_str!("../templates/checkin-tokenupdate-macos-user-channel.plist");
const CHECK_OUT: &str = include_str!("../templates/checkin-checkout-ios11.plist");
const DEVICE_INFORMATION: &str = include_str!("../templates/deviceinformation-ios11-ipad.plist");
const INSTALLED_APPS: &str = include_str!("../templates/installedapplicationlist-ios11.plist");
const MANAGED_APPS: &str = include_str!("../templates/managedapplicationlist-managed-ios12.plist");
const INVALID_REQUEST_TYPE: &str = include_str!("../templates/result-error-12021-invalid-request-type.plist");
const ALREADY_PROMPTING: &str =
    include_str!("../templates/installapplication-error-dm1407-already-prompting-ios11.plist");

/// The request type named in the captured 12021 description, replaced per command.
const CAPTURED_REQUEST_TYPE: &str = "OSUpdateStatus";

pub(crate) struct Templates {
    pub(crate) authenticate: Authenticate,
    pub(crate) token_update: TokenUpdate,
    pub(crate) user_token_update: TokenUpdate,
    pub(crate) check_out: CheckOut,
    pub(crate) device_information: DeviceInformationResult,
    pub(crate) installed_app: InstalledApplication,
    pub(crate) managed_app: ManagedApplication,
    invalid_request_type: ErrorChainItem,
    pub(crate) already_prompting: ErrorChainItem,
}

/// The parsed templates. They are compiled in and covered by a unit test, so a parse
/// failure is a build defect, not a runtime condition.
pub(crate) fn get() -> &'static Templates {
    static TEMPLATES: OnceLock<Templates> = OnceLock::new();
    TEMPLATES.get_or_init(|| parse().expect("embedded device templates parse"))
}

fn parse() -> Result<Templates, apple_mdm::MdmError> {
    let mut user_token_update = TokenUpdate::from_xml(USER_TOKEN_UPDATE.as_bytes())?;
    // The capture is from a Mac; iOS user channels do not send the console flag.
    user_token_update.not_on_console = None;
    let installed = apple_mdm::report::InstalledApplicationListResult::from_xml(INSTALLED_APPS.as_bytes())?;
    let managed = apple_mdm::report::ManagedApplicationListResult::from_xml(MANAGED_APPS.as_bytes())?;
    let first_error = |xml: &str| -> Result<ErrorChainItem, apple_mdm::MdmError> {
        let report = CommandReport::from_xml(xml.as_bytes())?;
        report.error_chain.top().cloned().ok_or(apple_mdm::MdmError::EmptyBody)
    };
    Ok(Templates {
        authenticate: Authenticate::from_xml(AUTHENTICATE.as_bytes())?,
        token_update: TokenUpdate::from_xml(TOKEN_UPDATE.as_bytes())?,
        user_token_update,
        check_out: CheckOut::from_xml(CHECK_OUT.as_bytes())?,
        device_information: CommandReport::from_xml(DEVICE_INFORMATION.as_bytes())?.decode()?,
        installed_app: installed
            .applications
            .into_iter()
            .next()
            .ok_or(apple_mdm::MdmError::EmptyBody)?,
        managed_app: managed
            .applications
            .into_values()
            .next()
            .ok_or(apple_mdm::MdmError::EmptyBody)?,
        invalid_request_type: first_error(INVALID_REQUEST_TYPE)?,
        already_prompting: first_error(ALREADY_PROMPTING)?,
    })
}

impl Templates {
    /// MCMDMErrorDomain 12021 as iOS words it, for this request type.
    pub(crate) fn invalid_request_type(&self, request_type: &str) -> ErrorChainItem {
        let mut item = self.invalid_request_type.clone();
        for text in [&mut item.localized_description, &mut item.us_english_description]
            .into_iter()
            .flatten()
        {
            *text = text.replace(CAPTURED_REQUEST_TYPE, request_type);
        }
        item
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_parses() {
        let t = parse().unwrap();
        assert_eq!(
            t.authenticate.topic,
            "com.apple.mgmt.XServer.1c111c11-1c11-1c11-1c11-1c111c111c11"
        );
        assert_eq!(t.token_update.token.len(), 32);
        assert!(t.user_token_update.identity.user.is_some());
        assert_eq!(t.installed_app.app_store_vendable, Some(true));
        assert_eq!(t.managed_app.is_validated, Some(true));
        let item = t.invalid_request_type("Frobnicate");
        assert_eq!(item.code, 12021);
        assert_eq!(item.description(), Some("“Frobnicate” is not a valid request type."));
        assert_eq!(t.already_prompting.code, 1407);
    }
}
