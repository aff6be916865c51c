//! Every check-in and enrollment-profile fixture, parsed and checked field by field.

mod common;

use apple_mdm::checkin::{Authenticate, CheckOut, TokenUpdate};
use apple_mdm::enrollment::{AccessRights, EnrollmentProfile, ProfilePayload, capability};
use apple_mdm::{Channel, CheckinMessage, DeviceId, MdmError, PlistRecord, Udid, UserIdentity, Value};
use common::{data, fixture, parse_and_round_trip};

const IPAD_UDID: &str = "1c111c111c111c111c111c111c111c111c111c11";
const IPAD_TOPIC: &str = "com.apple.mgmt.XServer.1c111c11-1c11-1c11-1c11-1c111c111c11";
const NANOMDM_TOPIC: &str = "com.apple.mgmt.External.e0bd1eac-1f17-4c8e-8a63-dd17d3dd35d9";

fn checkin(name: &str) -> CheckinMessage {
    parse_and_round_trip::<CheckinMessage>(name)
}

#[test]
fn authenticate_ios11_ipad() {
    let CheckinMessage::Authenticate(message) = checkin("checkin-authenticate-ios11-ipad.plist") else {
        panic!("expected Authenticate");
    };
    assert_eq!(message.identity.device, DeviceId::Udid(Udid::new(IPAD_UDID)));
    assert_eq!(message.identity.channel(), Channel::Device);
    assert_eq!(message.topic, IPAD_TOPIC);
    assert_eq!(message.os_version.as_deref(), Some("11.3.1"));
    assert_eq!(message.build_version.as_deref(), Some("15E302"));
    assert_eq!(message.product_name.as_deref(), Some("iPad4,1"));
    assert_eq!(message.serial_number.as_deref(), Some("XXXXXXXXXXXX"));
    assert_eq!(message.imei, None);
    assert_eq!(message.meid, None);
    assert_eq!(message.device_name, None);
    assert!(message.extra.is_empty());
}

#[test]
fn authenticate_ios9_ipad() {
    let message = parse_and_round_trip::<Authenticate>("checkin-authenticate-ios9-ipad-nanomdm.plist");
    assert_eq!(
        message.identity.udid().map(Udid::as_str),
        Some("663b07bb783e9ade1dae4fbb92ea12afc0ce5b69")
    );
    assert_eq!(message.topic, NANOMDM_TOPIC);
    assert_eq!(message.os_version.as_deref(), Some("9.3.5"));
    assert_eq!(message.build_version.as_deref(), Some("13G36"));
    assert_eq!(message.product_name.as_deref(), Some("iPad2,5"));
    assert_eq!(message.serial_number.as_deref(), Some("F5JM992LF193"));
}

#[test]
fn authenticate_macos_keeps_the_undocumented_challenge() {
    let CheckinMessage::Authenticate(message) = checkin("checkin-authenticate-macos-nanomdm.plist") else {
        panic!("expected Authenticate");
    };
    assert_eq!(message.identity.device.as_str(), "66ADE930-5FDF-5EC4-8429-15640684C489");
    assert_eq!(message.topic, NANOMDM_TOPIC);
    assert_eq!(message.device_name.as_deref(), Some("Fruit"));
    assert_eq!(message.model.as_deref(), Some("iMac14,2"));
    assert_eq!(message.model_name.as_deref(), Some("iMac"));
    assert_eq!(message.product_name.as_deref(), Some("iMac14,2"));
    assert_eq!(message.os_version.as_deref(), Some("10.12.6"));
    assert_eq!(message.build_version.as_deref(), Some("16G2136"));
    assert_eq!(message.serial_number.as_deref(), Some("C02MT66KFLHH"));
    assert_eq!(message.extra.get("Challenge"), Some(&Value::Data(b"apple".to_vec())));
}

#[test]
fn checkout_ios11() {
    let message = checkin("checkin-checkout-ios11.plist");
    assert_eq!(message.message_type(), "CheckOut");
    assert_eq!(message.channel(), Channel::Device);
    let CheckinMessage::CheckOut(CheckOut { identity, topic, extra }) = message else {
        panic!("expected CheckOut");
    };
    assert_eq!(identity.udid().map(Udid::as_str), Some(IPAD_UDID));
    assert_eq!(topic, IPAD_TOPIC);
    assert!(extra.is_empty());
}

#[test]
fn tokenupdate_with_placeholder_base64_is_refused_naming_the_key() {
    let err = CheckinMessage::from_xml(&fixture("checkin-tokenupdate-ios11-ipad.plist"))
        .expect_err("placeholders are not base64");
    assert_eq!(
        err,
        MdmError::InvalidBase64 {
            key: "Token".into(),
            excerpt: "Base64=".into(),
        }
    );
    let message = err.to_string();
    assert!(message.contains("invalid base64"), "{message}");
    assert!(message.contains("`Token`"), "{message}");
}

#[test]
fn tokenupdate_ios9_with_unlock_token() {
    let CheckinMessage::TokenUpdate(message) = checkin("checkin-tokenupdate-ios9-ipad-unlocktoken-nanomdm.plist")
    else {
        panic!("expected TokenUpdate");
    };
    assert_eq!(
        message.identity.device.as_str(),
        "663b07bb783e9ade1dae4fbb92ea12afc0ce5b69"
    );
    assert_eq!(message.identity.channel(), Channel::Device);
    assert_eq!(message.topic, NANOMDM_TOPIC);
    assert_eq!(message.token, data("R+juwGLC9ynsFwPBs+GPGXHYXwC+dkRdNAgLqnAbX1E="));
    assert_eq!(message.token.len(), 32);
    assert_eq!(message.push_magic, "CEFDF0BD-E342-4A27-8742-E930EA116B0A");
    let unlock_token = message.unlock_token.as_deref().expect("unlock token");
    assert_eq!(unlock_token.len(), 1288);
    assert!(unlock_token.starts_with(b"DATA"));
    assert_eq!(message.awaiting_configuration, Some(false));
    assert!(!message.is_awaiting_configuration());
    assert_eq!(message.not_on_console, None);
}

#[test]
fn tokenupdate_macos_device_channel() {
    let message = parse_and_round_trip::<TokenUpdate>("checkin-tokenupdate-macos-nanomdm.plist");
    assert_eq!(message.identity.device.as_str(), "66ADE930-5FDF-5EC4-8429-15640684C489");
    assert_eq!(message.identity.user, None);
    assert_eq!(message.token, data("G6fJAGbFD3domiTzpCXK9oowD3KeiORgqUFgItXWQsw="));
    assert_eq!(message.push_magic, "888CEB39-BFFA-40F6-89FA-B60752EB63C2");
    assert_eq!(message.unlock_token, None);
    assert_eq!(message.awaiting_configuration, Some(false));
}

#[test]
fn tokenupdate_macos_user_channel() {
    let message = checkin("checkin-tokenupdate-macos-user-channel.plist");
    assert_eq!(message.channel(), Channel::User);
    let CheckinMessage::TokenUpdate(message) = message else {
        panic!("expected TokenUpdate");
    };
    assert_eq!(message.identity.device.as_str(), "E3568F17-92ED-450A-8904-C3BF4CB7E9A5");
    assert_eq!(
        message.identity.user,
        Some(UserIdentity {
            user_id: Some("A522C2FB-D0BA-487E-BBC6-BE0DB2DC7883".into()),
            short_name: Some("cjoe".into()),
            long_name: Some("Commando Joe".into()),
            enrollment_user_id: None,
        })
    );
    assert!(
        !message
            .identity
            .user
            .as_ref()
            .is_some_and(UserIdentity::is_shared_ipad_user)
    );
    assert_eq!(message.topic, "com.apple.mgmt.commandment.dev");
    assert_eq!(message.token, b"00201052-A2D0-403D-B857-72F913F5BCCD\n");
    assert_eq!(message.push_magic, "B81B1FEC-09C6-4EC2-871C-E521EC971B38");
    assert_eq!(message.not_on_console, Some(false));
    assert_eq!(message.awaiting_configuration, None);
}

#[test]
fn a_variant_struct_refuses_a_different_message_type() {
    let err = TokenUpdate::from_xml(&fixture("checkin-checkout-ios11.plist")).unwrap_err();
    assert_eq!(
        err,
        MdmError::InvalidValue {
            key: "MessageType".into(),
            value: "CheckOut".into(),
            expected: "TokenUpdate",
        }
    );
}

#[test]
fn enrollment_profile_template() {
    let profile = parse_and_round_trip::<EnrollmentProfile>("enrollment-profile-nanomdm-example.plist");
    assert_eq!(profile.header.identifier, "com.github.micromdm.nanomdm");
    assert_eq!(profile.header.uuid, "F9760DD4-F2D1-4F29-8D2C-48D52DD0A9B3");
    assert_eq!(profile.header.version, 1);
    assert_eq!(profile.header.display_name.as_deref(), Some("Enrollment Profile"));
    assert_eq!(profile.payloads.len(), 2);
    let ProfilePayload::Other(scep) = &profile.payloads[0] else {
        panic!("first payload is SCEP");
    };
    assert_eq!(
        scep.get("PayloadType").and_then(Value::as_string),
        Some("com.apple.security.scep")
    );

    let mdm = profile.mdm_payload().expect("MDM payload");
    assert_eq!(mdm.header.identifier, "com.github.micromdm.nanomdm.mdm");
    assert_eq!(mdm.header.uuid, "96B11019-B54C-49DC-9480-43525834DE7B");
    assert_eq!(mdm.server_url, "https://mdm.example.org/mdm");
    assert_eq!(mdm.check_in_url, None);
    assert_eq!(mdm.effective_check_in_url(), "https://mdm.example.org/mdm");
    assert_eq!(mdm.topic, "com.apple.mgmt.External.YOUR-PUSH-TOPIC-HERE");
    assert_eq!(mdm.identity_certificate_uuid, "CB90E976-AD44-4B69-8108-8095E6260978");
    assert_eq!(mdm.access_rights, Some(AccessRights::ALL));
    assert_eq!(mdm.check_out_when_removed, Some(true));
    assert_eq!(mdm.sign_message, Some(true));
    assert!(mdm.has_capability(capability::PER_USER_CONNECTIONS));
    assert!(mdm.has_capability(capability::BOOTSTRAP_TOKEN));
    assert!(mdm.has_capability(capability::TOKEN));
    assert!(mdm.extra.is_empty());
}
