//! Every command-report fixture, parsed and checked field by field, including the
//! typed result payloads.

mod common;

use apple_mdm::error_chain::{domain, known};
use apple_mdm::report::{
    DeviceInformationResult, InstallApplicationResult, InstalledApplicationListResult, ManagedAppStatus,
    ManagedApplicationListResult,
};
use apple_mdm::{Channel, CommandReport, CommandStatus, CommandUuid, PlistRecord, Udid, Value};
use common::{assert_round_trips, parse_and_round_trip};

const IPAD_UDID: &str = "1c111c111c111c111c111c111c111c111c111c11";

fn report(name: &str) -> CommandReport {
    parse_and_round_trip::<CommandReport>(name)
}

fn decode<T: PlistRecord + PartialEq + std::fmt::Debug>(report: &CommandReport) -> T {
    let result: T = report.decode().expect("payload decodes");
    assert_eq!(result.to_dictionary(), report.payload, "typed payload is lossless");
    assert_round_trips(&result);
    result
}

fn uuid(report: &CommandReport) -> &str {
    report.command_uuid.as_ref().map_or("", CommandUuid::as_str)
}

#[test]
fn notnow() {
    let report = report("result-notnow-ios11.plist");
    assert_eq!(report.status, CommandStatus::NotNow);
    assert!(!report.status.is_final());
    assert_eq!(uuid(&report), "bb5d7813-e7c3-4279-b954-4b678925de5f");
    assert_eq!(report.identity.udid().map(Udid::as_str), Some(IPAD_UDID));
    assert_eq!(report.identity.channel(), Channel::Device);
    assert!(report.error_chain.is_empty());
    assert!(report.payload.is_empty());
}

#[test]
fn acknowledged_devicelock_keeps_the_command_specific_key() {
    let report = report("result-acknowledged-devicelock-ios11.plist");
    assert_eq!(report.status, CommandStatus::Acknowledged);
    assert!(report.status.is_final());
    assert_eq!(uuid(&report), "b6c8627f-bf4a-4ef4-8f40-d8673cd568c9");
    assert_eq!(report.payload.len(), 1);
    assert_eq!(
        report.payload.get("MessageResult").and_then(Value::as_string),
        Some("NoPasscodeSet")
    );
}

#[test]
fn commandformaterror_has_no_error_chain() {
    let report = report("result-commandformaterror-ios11.plist");
    assert_eq!(report.status, CommandStatus::CommandFormatError);
    assert!(report.status.is_final());
    assert_eq!(uuid(&report), "52aab5d2-6a61-4fe8-b685-44f8b56972d0");
    assert!(report.error_chain.is_empty());
    assert!(report.payload.is_empty());
}

#[test]
fn error_12021_invalid_request_type() {
    let report = report("result-error-12021-invalid-request-type.plist");
    assert_eq!(report.status, CommandStatus::Error);
    assert_eq!(uuid(&report), "00000000-1111-2222-3333-444455556666");
    assert_eq!(report.identity.device.as_str(), "00000000-1111-2222-3333-444455556666");
    assert_eq!(report.error_chain.items().len(), 1);
    let top = report.error_chain.top().expect("one item");
    assert_eq!(top.code, 12021);
    assert_eq!(top.domain, domain::MCMDM);
    let text = "“OSUpdateStatus” is not a valid request type.";
    assert_eq!(top.localized_description.as_deref(), Some(text));
    assert_eq!(top.us_english_description.as_deref(), Some(text));
    assert!(report.error_chain.contains_id(known::INVALID_REQUEST_TYPE));
    assert!(report.error_chain.contains(domain::MCMDM, 12021));
    assert!(!report.error_chain.contains(domain::DEVICE_MANAGEMENT, 12021));
}

#[test]
fn error_12013_keeps_the_literal_escape_text() {
    let report = report("result-error-12013-profile-not-managed-ios11.plist");
    assert_eq!(report.status, CommandStatus::Error);
    assert_eq!(uuid(&report), "b2da2591-a2e5-45e5-8dd8-0ffb050d8407");
    let item = report.error_chain.find(domain::MCMDM, 12013).expect("12013");
    let text = r"The profile \xe2\x80\x9corg.github.cmdmnt.commandment.trust\xe2\x80\x9d is not managed by MDM.";
    assert_eq!(item.localized_description.as_deref(), Some(text));
    assert_eq!(item.description(), Some(text));
}

#[test]
fn installapplication_error_1407_already_prompting() {
    let report = report("installapplication-error-dm1407-already-prompting-ios11.plist");
    assert_eq!(report.status, CommandStatus::Error);
    assert_eq!(uuid(&report), "94ee37e2-3e03-4bdf-ad9c-a81ccc9d78e9");
    assert!(report.error_chain.contains_id(known::USER_ALREADY_PROMPTED));
    let item = report.error_chain.top().expect("one item");
    assert_eq!(item.domain, "DeviceManagement.error");
    assert_eq!(item.code, 1407);
    assert_eq!(
        item.localized_description.as_deref(),
        Some("The user is already being prompted.")
    );
    assert_eq!(item.us_english_description, None);
    assert_eq!(item.description(), Some("The user is already being prompted."));
    let result: InstallApplicationResult = decode(&report);
    assert_eq!(result, InstallApplicationResult::default());
}

#[test]
fn installapplication_acknowledged_prompting() {
    let report = report("installapplication-ack-state-prompting-ios12.plist");
    assert_eq!(report.status, CommandStatus::Acknowledged);
    assert_eq!(uuid(&report), "7a9df3db-d661-4c1c-aa0e-56d69c8718a5");
    let result: InstallApplicationResult = decode(&report);
    assert_eq!(result.identifier.as_deref(), Some("com.tinyspeck.slackmacgap"));
    assert_eq!(result.state, Some(ManagedAppStatus::Prompting));
    assert_eq!(result.rejection_reason, None);
}

#[test]
fn deviceinformation_ios11_ipad() {
    let report = report("deviceinformation-ios11-ipad.plist");
    assert_eq!(report.status, CommandStatus::Acknowledged);
    assert_eq!(uuid(&report), "3ab89975-490b-4f33-80c7-0982069272ba");
    assert_eq!(report.request_type, None);
    let info: DeviceInformationResult = decode(&report);
    let q = &info.query_responses;
    assert_eq!(q.available_device_capacity, Some(15.468_269_348_144_531));
    assert_eq!(q.device_capacity, Some(26.914_535_522_460_938));
    assert_eq!(q.bluetooth_mac.as_deref(), Some("00:00:00:00:00:00"));
    assert_eq!(q.wifi_mac.as_deref(), Some("00:00:00:00:00:00"));
    assert_eq!(q.build_version.as_deref(), Some("15E302"));
    assert_eq!(q.data_roaming_enabled, Some(false));
    assert_eq!(q.voice_roaming_enabled, Some(false));
    assert_eq!(q.is_roaming, Some(false));
    assert_eq!(q.device_name.as_deref(), Some("iPad"));
    assert_eq!(q.model.as_deref(), Some("MD786X"));
    assert_eq!(q.model_name.as_deref(), Some("iPad"));
    assert_eq!(q.os_version.as_deref(), Some("11.3.1"));
    assert_eq!(q.product_name.as_deref(), Some("iPad4,1"));
    assert_eq!(q.serial_number.as_deref(), Some("C00000000004"));
    assert_eq!(q.subscriber_mcc.as_deref(), Some(""));
    assert_eq!(q.subscriber_mnc.as_deref(), Some(""));
    assert_eq!(q.udid.as_ref().map(Udid::as_str), Some(IPAD_UDID));
    assert_eq!(q.is_supervised, None);
    assert!(q.extra.is_empty());
}

#[test]
fn deviceinformation_macos_echoes_request_type() {
    let report = report("deviceinformation-macos-hostname-nanomdm.plist");
    assert_eq!(uuid(&report), "76eda240-5488-4989-8339-f2ae160113c4");
    assert_eq!(report.request_type.as_deref(), Some("DeviceInformation"));
    let info: DeviceInformationResult = decode(&report);
    assert_eq!(info.query_responses.host_name.as_deref(), Some("fruit.example.com"));
    assert_eq!(
        info.query_responses.udid.as_ref().map(Udid::as_str),
        Some("66ADE930-5FDF-5EC4-8429-15640684C489")
    );
    assert_eq!(info.query_responses.serial_number, None);
}

#[test]
fn installedapplicationlist_ios11() {
    let report = report("installedapplicationlist-ios11.plist");
    assert_eq!(uuid(&report), "368b6b82-f89c-4af7-8a02-ed72af86116c");
    let list: InstalledApplicationListResult = decode(&report);
    let ids: Vec<_> = list.applications.iter().map(|a| a.identifier.as_str()).collect();
    assert_eq!(
        ids,
        [
            "com.microsoft.lync2013.iphone",
            "com.agilebits.onepassword-ios",
            "com.microsoft.Office.Powerpoint",
            "com.panic.Prompt2",
            "com.microsoft.onenote",
        ]
    );
    let lync = &list.applications[0];
    assert_eq!(lync.name.as_deref(), Some("Business"));
    assert_eq!(lync.version.as_deref(), Some("6.20.2.2"));
    assert_eq!(lync.short_version.as_deref(), Some("6.20.2"));
    assert_eq!(lync.bundle_size, Some(143_695_872));
    assert_eq!(lync.dynamic_size, Some(192_512));
    assert_eq!(lync.external_version_identifier, Some(827_127_239));
    assert_eq!(lync.is_validated, Some(true));
    assert_eq!(lync.installing, Some(false));
    assert_eq!(lync.app_store_vendable, Some(true));
    assert_eq!(lync.device_based_vpp, Some(false));
    assert_eq!(lync.beta_app, Some(false));
    assert_eq!(lync.ad_hoc_code_signed, Some(false));
    assert_eq!(lync.has_update_available, Some(false));
    assert!(lync.extra.is_empty());
    let with_updates: Vec<_> = list
        .applications
        .iter()
        .filter(|app| app.has_update_available == Some(true))
        .map(|app| app.name.as_deref().unwrap_or_default())
        .collect();
    assert_eq!(with_updates, ["PowerPoint", "OneNote"]);
    assert_eq!(list.applications[3].version.as_deref(), Some("86791"));
}

#[test]
fn managedapplicationlist_installing_then_managed() {
    let installing: ManagedApplicationListResult = decode(&report("managedapplicationlist-installing-ios12.plist"));
    let numbers = &installing.applications["com.apple.Numbers"];
    assert_eq!(numbers.status, ManagedAppStatus::Installing);
    assert!(numbers.status.is_in_progress());
    assert_eq!(numbers.external_version_identifier, Some(829_165_942));
    assert_eq!(numbers.has_configuration, Some(false));
    assert_eq!(numbers.has_feedback, Some(false));
    assert_eq!(numbers.is_validated, Some(false));
    assert_eq!(numbers.management_flags.map(|f| f.0), Some(0));

    let report = report("managedapplicationlist-managed-ios12.plist");
    assert_eq!(uuid(&report), "0a40830d-1cf9-4a00-a153-d8294e576c3f");
    let managed: ManagedApplicationListResult = decode(&report);
    assert_eq!(managed.applications.len(), 1);
    let numbers = &managed.applications["com.apple.Numbers"];
    assert_eq!(numbers.status, ManagedAppStatus::Managed);
    assert_eq!(numbers.is_validated, Some(true));
}

#[test]
fn managedapplicationlist_failed_is_transient() {
    let report = report("managedapplicationlist-failed-ios12.plist");
    assert_eq!(uuid(&report), "7fc66d05-4bdb-41e4-9814-5a4c21e74e16");
    let list: ManagedApplicationListResult = decode(&report);
    let ids: Vec<_> = list.applications.keys().map(String::as_str).collect();
    assert_eq!(ids, ["com.apple.iWork.Keynote", "com.tinyspeck.slackmacgap"]);
    for app in list.applications.values() {
        assert_eq!(app.status, ManagedAppStatus::Failed);
        assert!(app.status.is_transient());
        assert_eq!(app.external_version_identifier, None);
        assert_eq!(app.is_validated, Some(false));
    }
}

#[test]
fn decoding_the_wrong_result_type_names_the_missing_key() {
    let report = report("result-notnow-ios11.plist");
    let err = report.decode::<ManagedApplicationListResult>().unwrap_err();
    assert_eq!(err.to_string(), "missing required key `ManagedApplicationList`");
}

/// A new fixture must come with assertions: this lists the fixtures each test file
/// covers and fails when the directory holds one that nobody checks.
#[test]
fn every_fixture_is_covered() {
    let covered = [
        "checkin-authenticate-ios11-ipad.plist",
        "checkin-authenticate-ios9-ipad-nanomdm.plist",
        "checkin-authenticate-macos-nanomdm.plist",
        "checkin-checkout-ios11.plist",
        "checkin-tokenupdate-ios11-ipad.plist",
        "checkin-tokenupdate-ios9-ipad-unlocktoken-nanomdm.plist",
        "checkin-tokenupdate-macos-nanomdm.plist",
        "checkin-tokenupdate-macos-user-channel.plist",
        "enrollment-profile-nanomdm-example.plist",
        "deviceinformation-ios11-ipad.plist",
        "deviceinformation-macos-hostname-nanomdm.plist",
        "installapplication-ack-state-prompting-ios12.plist",
        "installapplication-error-dm1407-already-prompting-ios11.plist",
        "installedapplicationlist-ios11.plist",
        "managedapplicationlist-failed-ios12.plist",
        "managedapplicationlist-installing-ios12.plist",
        "managedapplicationlist-managed-ios12.plist",
        "result-acknowledged-devicelock-ios11.plist",
        "result-commandformaterror-ios11.plist",
        "result-error-12013-profile-not-managed-ios11.plist",
        "result-error-12021-invalid-request-type.plist",
        "result-notnow-ios11.plist",
    ];
    let mut present: Vec<String> = std::fs::read_dir(common::fixture_dir())
        .expect("fixture dir")
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .filter(|name| name.ends_with(".plist"))
        .collect();
    present.sort();
    let mut expected: Vec<String> = covered.iter().map(|s| (*s).to_owned()).collect();
    expected.sort();
    assert_eq!(present, expected);
}
