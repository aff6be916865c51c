//! Hostile and malformed input: parsing must fail with a precise error, never panic.

mod common;

use apple_mdm::enrollment::EnrollmentProfile;
use apple_mdm::report::{
    DeviceInformationResult, InstallApplicationResult, InstalledApplicationListResult, ManagedApplicationListResult,
    ManagedMediaListResult, SettingsResult, UserListResult,
};
use apple_mdm::{CheckinMessage, Command, CommandReport, Dictionary, MdmError, PlistRecord, Value};
use common::fixture;
use proptest::collection::vec;
use proptest::prelude::*;

fn plist(body: &str) -> Vec<u8> {
    format!(r#"<?xml version="1.0"?><plist version="1.0"><dict>{body}</dict></plist>"#).into_bytes()
}

/// Runs every top-level parser and every payload decoder; only panics matter here.
fn parse_everything(bytes: &[u8]) {
    let _ = CheckinMessage::from_xml(bytes);
    let _ = Command::from_xml(bytes);
    let _ = EnrollmentProfile::from_xml(bytes);
    if let Ok(report) = CommandReport::from_xml(bytes) {
        let _ = report.decode::<DeviceInformationResult>();
        let _ = report.decode::<InstalledApplicationListResult>();
        let _ = report.decode::<ManagedApplicationListResult>();
        let _ = report.decode::<InstallApplicationResult>();
        let _ = report.decode::<ManagedMediaListResult>();
        let _ = report.decode::<UserListResult>();
        let _ = report.decode::<SettingsResult>();
        let _ = report.to_xml();
    }
}

fn all_fixtures() -> Vec<Vec<u8>> {
    let mut files: Vec<_> = std::fs::read_dir(common::fixture_dir())
        .expect("fixture dir")
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "plist"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|path| std::fs::read(path).expect("readable"))
        .collect()
}

#[test]
fn every_truncation_of_every_fixture_is_an_error_not_a_panic() {
    for bytes in all_fixtures() {
        // The plist reader tolerates a missing `</plist>`, so only cuts inside the
        // top-level dictionary are guaranteed to be incomplete.
        let end = bytes
            .windows(b"</dict>".len())
            .rposition(|w| w == b"</dict>")
            .expect("fixture has a top-level dictionary");
        for len in 0..end {
            // All parsers share the byte-level reader, and a prefix never gets past it,
            // so one parser per prefix exercises every reachable path.
            let prefix = &bytes[..len];
            assert!(CommandReport::from_xml(prefix).is_err(), "prefix of {len} bytes parsed");
        }
    }
}

#[test]
fn missing_message_type_is_named() {
    let err = CheckinMessage::from_xml(&plist("<key>UDID</key><string>A</string>")).unwrap_err();
    assert_eq!(
        err,
        MdmError::MissingKey {
            key: "MessageType".into()
        }
    );
    assert_eq!(err.to_string(), "missing required key `MessageType`");
}

#[test]
fn missing_status_is_named() {
    let err = CommandReport::from_xml(&plist("<key>UDID</key><string>A</string>")).unwrap_err();
    assert_eq!(err.to_string(), "missing required key `Status`");
}

#[test]
fn unknown_status_is_refused_with_the_allowed_values() {
    let err = CommandReport::from_xml(&plist(
        "<key>UDID</key><string>A</string><key>Status</key><string>Maybe</string>",
    ))
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "key `Status` has invalid value \"Maybe\": expected one of Idle, Acknowledged, \
         Error, CommandFormatError, NotNow"
    );
}

#[test]
fn wrong_types_name_the_key_and_both_types() {
    let err = CommandReport::from_xml(&plist(
        "<key>UDID</key><string>A</string><key>Status</key><integer>3</integer>",
    ))
    .unwrap_err();
    assert_eq!(
        err,
        MdmError::WrongType {
            key: "Status".into(),
            expected: "a string",
            found: "integer"
        }
    );

    let err = CheckinMessage::from_xml(&plist(
        "<key>MessageType</key><string>TokenUpdate</string><key>UDID</key><string>A</string>\
         <key>Topic</key><string>t</string><key>PushMagic</key><string>p</string>\
         <key>Token</key><string>not data</string>",
    ))
    .unwrap_err();
    assert_eq!(err.to_string(), "key `Token` must be data, found string");
}

#[test]
fn nested_errors_carry_the_full_path() {
    let err = CommandReport::from_xml(&plist(
        "<key>UDID</key><string>A</string><key>Status</key><string>Error</string>\
         <key>CommandUUID</key><string>C</string>\
         <key>ErrorChain</key><array><dict><key>ErrorCode</key><string>12064</string>\
         <key>ErrorDomain</key><string>MCMDMErrorDomain</string></dict></array>",
    ))
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "key `ErrorChain[0].ErrorCode` must be an integer, found string"
    );

    let report = CommandReport::from_xml(&plist(
        "<key>UDID</key><string>A</string><key>Status</key><string>Acknowledged</string>\
         <key>CommandUUID</key><string>C</string><key>ManagedApplicationList</key><dict>\
         <key>com.example.app</key><dict><key>ManagementFlags</key><integer>0</integer></dict>\
         </dict>",
    ))
    .expect("report itself is fine");
    let err = report.decode::<ManagedApplicationListResult>().unwrap_err();
    assert_eq!(
        err.to_string(),
        "missing required key `ManagedApplicationList.com.example.app.Status`"
    );
}

#[test]
fn identity_must_be_exactly_one_of_udid_and_enrollment_id() {
    let err = CommandReport::from_xml(&plist("<key>Status</key><string>Idle</string>")).unwrap_err();
    assert_eq!(err.to_string(), "missing required key: one of `UDID`, `EnrollmentID`");
    let err = CommandReport::from_xml(&plist(
        "<key>UDID</key><string>A</string><key>EnrollmentID</key><string>B</string>\
         <key>Status</key><string>Idle</string>",
    ))
    .unwrap_err();
    assert_eq!(err.to_string(), "only one of `UDID`, `EnrollmentID` may be present");
}

#[test]
fn user_enrollment_reports_use_the_enrollment_id() {
    let report = CommandReport::from_xml(&plist(
        "<key>EnrollmentID</key><string>E-1</string><key>Status</key><string>Idle</string>",
    ))
    .expect("parses");
    assert_eq!(report.identity.udid(), None);
    assert_eq!(report.identity.device.as_str(), "E-1");
}

#[test]
fn non_idle_reports_need_a_command_uuid() {
    let err = CommandReport::from_xml(&plist(
        "<key>UDID</key><string>A</string><key>Status</key><string>Acknowledged</string>",
    ))
    .unwrap_err();
    assert_eq!(err.to_string(), "missing required key `CommandUUID`");
}

#[test]
fn negative_sizes_are_invalid_values() {
    let report = CommandReport::from_xml(&plist(
        "<key>UDID</key><string>A</string><key>Status</key><string>Acknowledged</string>\
         <key>CommandUUID</key><string>C</string><key>InstalledApplicationList</key><array>\
         <dict><key>Identifier</key><string>x</string><key>BundleSize</key>\
         <integer>-1</integer></dict></array>",
    ))
    .expect("report parses");
    let err = report.decode::<InstalledApplicationListResult>().unwrap_err();
    assert_eq!(
        err.to_string(),
        "key `InstalledApplicationList[0].BundleSize` has invalid value \"-1\": \
         expected a non-negative integer"
    );
}

#[test]
fn not_a_plist_and_wrong_top_level() {
    assert!(matches!(
        CheckinMessage::from_xml(b"{\"MessageType\":\"Authenticate\"}"),
        Err(MdmError::NotAPlist { .. })
    ));
    assert_eq!(
        CheckinMessage::from_xml(b"<plist><string>hi</string></plist>"),
        Err(MdmError::NotADictionary { found: "string" })
    );
    assert_eq!(CheckinMessage::from_xml(b""), Err(MdmError::EmptyBody));
}

#[test]
fn unknown_message_types_are_kept_not_refused() {
    let message = CheckinMessage::from_xml(&plist(
        "<key>MessageType</key><string>FutureThing</string><key>UDID</key><string>A</string>\
         <key>UserID</key><string>U</string>",
    ))
    .expect("parses");
    let CheckinMessage::Other(other) = &message else {
        panic!("expected Other");
    };
    assert_eq!(other.message_type, "FutureThing");
    assert_eq!(other.body.get("UDID"), Some(&Value::from("A")));
    assert_eq!(message.channel(), apple_mdm::Channel::User);
    assert_eq!(CheckinMessage::from_xml(&message.to_xml().unwrap()).unwrap(), message);
}

/// Keys the parsers look at, so random dictionaries hit the typed paths.
const KEYS: &[&str] = &[
    "MessageType",
    "UDID",
    "EnrollmentID",
    "UserID",
    "UserShortName",
    "Topic",
    "Token",
    "PushMagic",
    "UnlockToken",
    "AwaitingConfiguration",
    "Status",
    "CommandUUID",
    "ErrorChain",
    "ErrorCode",
    "ErrorDomain",
    "RequestType",
    "Command",
    "QueryResponses",
    "ManagedApplicationList",
    "InstalledApplicationList",
    "Identifier",
    "State",
    "iTunesStoreID",
    "Books",
    "Users",
    "Settings",
    "Item",
    "PayloadType",
    "PayloadContent",
];
const MESSAGE_TYPES: &[&str] = &["Authenticate", "TokenUpdate", "CheckOut", "GetToken"];
const STATUSES: &[&str] = &["Idle", "Acknowledged", "Error", "NotNow"];

fn random_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        prop::sample::select(MESSAGE_TYPES).prop_map(Value::from),
        prop::sample::select(STATUSES).prop_map(Value::from),
        "[a-z]{0,6}".prop_map(Value::String),
        any::<i64>().prop_map(Value::from),
        any::<bool>().prop_map(Value::Boolean),
        vec(any::<u8>(), 0..4).prop_map(Value::Data),
        any::<f64>().prop_map(Value::Real),
    ];
    leaf.prop_recursive(4, 32, 5, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..4).prop_map(Value::Array),
            vec((prop::sample::select(KEYS), inner), 0..6)
                .prop_map(|entries| { Value::Dictionary(entries.into_iter().collect::<Dictionary>()) }),
        ]
    })
}

fn random_dictionary() -> impl Strategy<Value = Dictionary> {
    vec((prop::sample::select(KEYS), random_value()), 0..10).prop_map(|entries| entries.into_iter().collect())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn random_bytes_never_panic(bytes in vec(any::<u8>(), 0..512)) {
        parse_everything(&bytes);
    }

    #[test]
    fn mutated_fixtures_never_panic(
        index in 0usize..22,
        edits in vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
    ) {
        let fixtures = all_fixtures();
        let mut bytes = fixtures[index % fixtures.len()].clone();
        for (position, byte) in edits {
            let at = position.index(bytes.len());
            bytes[at] = byte;
        }
        parse_everything(&bytes);
    }

    #[test]
    fn plist_shaped_garbage_never_panics(dict in random_dictionary()) {
        let _ = CheckinMessage::from_dictionary(dict.clone());
        let _ = Command::from_dictionary(dict.clone());
        let _ = EnrollmentProfile::from_dictionary(dict.clone());
        if let Ok(report) = CommandReport::from_dictionary(dict) {
            parse_everything(&report.to_xml().expect("serializes"));
        }
    }
}

#[test]
fn fixture_helper_reads_files() {
    assert!(!fixture("result-notnow-ios11.plist").is_empty());
}

/// Ways to hide a nesting level from a lexical scan, found by the `report`
/// fuzz target: a namespace prefix, a closing tag inside a comment, and `/>`
/// inside a quoted attribute value. Each must still be refused as too deep.
#[test]
fn nesting_cannot_be_hidden_from_the_depth_guard() {
    let disguises: [(&str, &str); 3] = [
        ("<x:array>", "</x:array>"),
        ("<array><!--</array>-->", "</array>"),
        ("<array a=\"/>\">", "</array>"),
    ];
    for (open, close) in disguises {
        let depth = 5_000;
        let body = format!(
            "<key>UDID</key><string>X</string><key>Status</key><string>Idle</string><key>Deep</key>{}{}",
            open.repeat(depth),
            close.repeat(depth)
        );
        let bytes = plist(&body);
        let error = CommandReport::from_xml(&bytes).expect_err(open);
        assert!(
            matches!(error, MdmError::TooDeeplyNested { .. } | MdmError::NotAPlist { .. }),
            "{open}: {error:?}"
        );
        parse_everything(&bytes);
    }
}
