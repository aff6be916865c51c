#![allow(dead_code)]

use std::sync::OnceLock;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use cms::content_info::ContentInfo;
use cms::signed_data::SignedData;
use der::{Any, Decode, Encode};
use mdm_identity::{CaOptions, DeviceCa, DeviceIdentity, IdentityOptions, KeyAlgorithm};

pub const BODY: &[u8] = br#"<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
	<key>MessageType</key>
	<string>Authenticate</string>
	<key>Topic</key>
	<string>com.apple.mgmt.External.00000000-0000-0000-0000-000000000000</string>
	<key>UDID</key>
	<string>0000-TEST-UDID</string>
</dict>
</plist>
"#;

/// P-256 keys keep the suite fast; RSA paths get their own tests.
pub fn ec_ca(name: &str) -> DeviceCa {
    DeviceCa::generate_with(&CaOptions {
        key_algorithm: KeyAlgorithm::EcdsaP256,
        ..CaOptions::new(name)
    })
    .unwrap()
}

pub fn identity(ca: &DeviceCa, alg: KeyAlgorithm) -> DeviceIdentity {
    ca.issue_identity_with(&IdentityOptions {
        key_algorithm: alg,
        ..IdentityOptions::default()
    })
    .unwrap()
}

/// One RSA CA and identity shared by the tests that need RSA (generation is slow).
pub fn rsa_fixture() -> &'static (DeviceCa, DeviceIdentity) {
    static FIXTURE: OnceLock<(DeviceCa, DeviceIdentity)> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let ca = DeviceCa::generate("haishin test RSA CA").unwrap();
        let id = ca.issue_identity().unwrap();
        (ca, id)
    })
}

pub fn decode_signed_data(header: &str) -> SignedData {
    let der = STANDARD.decode(header).unwrap();
    ContentInfo::from_der(&der).unwrap().content.decode_as().unwrap()
}

pub fn encode_signed_data(sd: &SignedData) -> String {
    let ci = ContentInfo {
        content_type: der::asn1::ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2"),
        content: Any::encode_from(sd).unwrap(),
    };
    STANDARD.encode(ci.to_der().unwrap())
}
