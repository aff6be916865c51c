//! Command endpoint bodies: `CommandReport::from_xml`, then every typed result the
//! server may decode from the report's payload with `report.decode::<T>()`, and the
//! serializer. The report does not say which command it answers, so each input is
//! tried against every result type, as a confused or hostile device could arrange.
//!
//! Only panics count as findings: errors are the expected answer to garbage.

#![no_main]

use apple_mdm::CommandReport;
use apple_mdm::report::{
    ApplicationAttributesResult, ApplicationConfigurationsResult, DeviceInformationResult, InstallApplicationResult,
    InstallMediaResult, InstalledApplicationListResult, InviteToProgramResult, ManagedApplicationFeedbackResult,
    ManagedApplicationListResult, ManagedMediaListResult, QueryResponses, SettingsResult, UserListResult,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(report) = CommandReport::from_xml(data) else {
        return;
    };
    let _ = report.status.is_final();
    let _ = report.identity.channel();
    let _ = report.decode::<DeviceInformationResult>();
    let _ = report.decode::<QueryResponses>();
    let _ = report.decode::<InstalledApplicationListResult>();
    let _ = report.decode::<ManagedApplicationListResult>();
    let _ = report.decode::<InstallApplicationResult>();
    let _ = report.decode::<ApplicationConfigurationsResult>();
    let _ = report.decode::<ApplicationAttributesResult>();
    let _ = report.decode::<ManagedApplicationFeedbackResult>();
    let _ = report.decode::<ManagedMediaListResult>();
    let _ = report.decode::<InstallMediaResult>();
    let _ = report.decode::<InviteToProgramResult>();
    let _ = report.decode::<UserListResult>();
    let _ = report.decode::<SettingsResult>();
    let _ = report.to_xml();
});
