//! Signed enrollment profiles.

mod common;

use std::time::{Duration, SystemTime};

use common::{ec_ca, identity, rsa_fixture};
use mdm_identity::{
    IdentityError, KeyAlgorithm, Signer, TrustAnchor, sign_profile, verify_signed_profile, verify_signed_profile_at,
};

/// The real enrollment profile template, from apple-mdm's copy of the fixtures.
fn profile() -> Vec<u8> {
    std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../apple-mdm/tests/fixtures/enrollment-profile-nanomdm-example.plist"
    ))
    .expect("fixture present in the repository")
}

#[test]
fn rsa_signed_profile_round_trips_byte_for_byte() {
    let (ca, id) = rsa_fixture();
    let profile = profile();
    let signed = sign_profile(&profile, id.signer()).unwrap();
    let verified = verify_signed_profile(&signed, Some(ca.trust_anchor())).unwrap();
    assert_eq!(verified.content, profile);
    assert_eq!(&verified.signer, id.certificate());
    assert!(verified.chain_verified);
}

#[test]
fn ecdsa_signed_profile_round_trips() {
    let ca = ec_ca("CA");
    let id = identity(&ca, KeyAlgorithm::EcdsaP256);
    let signed = sign_profile(&profile(), id.signer()).unwrap();
    let verified = verify_signed_profile(&signed, None).unwrap();
    assert_eq!(verified.content, profile());
    assert!(!verified.chain_verified);
}

#[test]
fn tampered_profile_is_refused() {
    let ca = ec_ca("CA");
    let id = identity(&ca, KeyAlgorithm::EcdsaP256);
    let profile = profile();
    let mut signed = sign_profile(&profile, id.signer()).unwrap();
    let at = signed
        .windows(b"Enrollment Profile".len())
        .position(|w| w == b"Enrollment Profile")
        .unwrap_or(200);
    signed[at] ^= 0x20;
    assert_eq!(
        verify_signed_profile(&signed, None).unwrap_err(),
        IdentityError::DigestMismatch
    );
}

#[test]
fn profile_signed_under_another_ca_is_refused_by_the_anchor() {
    let ca = ec_ca("CA");
    let other = ec_ca("other");
    let signed = sign_profile(&profile(), identity(&other, KeyAlgorithm::EcdsaP256).signer()).unwrap();
    assert!(verify_signed_profile(&signed, None).is_ok());
    assert_eq!(
        verify_signed_profile(&signed, Some(ca.trust_anchor())).unwrap_err(),
        IdentityError::WrongCa
    );
    let later = SystemTime::now() + Duration::from_secs(30 * 365 * 24 * 3600);
    assert_eq!(
        verify_signed_profile_at(&signed, Some(other.trust_anchor()), later).unwrap_err(),
        IdentityError::CaNotValid
    );
}

#[test]
fn unsigned_or_garbage_profiles_are_refused() {
    for input in [&profile()[..], b"", b"\x30\x80", b"\x30\x03\x06\x01\x00"] {
        assert!(matches!(
            verify_signed_profile(input, None),
            Err(IdentityError::Malformed(_))
        ));
    }
}

#[test]
fn signer_loads_from_a_pem_chain_and_includes_intermediates() {
    let ca = ec_ca("CA");
    let id = identity(&ca, KeyAlgorithm::EcdsaP256);
    let chain = format!("{}{}", id.certificate().to_pem(), ca.certificate_pem());
    let signer = Signer::from_pem(&chain, &id.key().to_pkcs8_pem()).unwrap();
    assert_eq!(signer.certificate(), id.certificate());
    let signed = sign_profile(b"<plist/>", &signer).unwrap();
    let sd: cms::signed_data::SignedData = {
        use der::Decode;
        cms::content_info::ContentInfo::from_der(&signed)
            .unwrap()
            .content
            .decode_as()
            .unwrap()
    };
    assert_eq!(sd.certificates.unwrap().0.len(), 2);
    let anchor = TrustAnchor::from_pem(ca.certificate_pem().as_bytes()).unwrap();
    assert_eq!(
        verify_signed_profile(&signed, Some(&anchor)).unwrap().content,
        b"<plist/>"
    );

    let wrong_key = identity(&ca, KeyAlgorithm::EcdsaP256);
    assert_eq!(
        Signer::from_pem(&chain, &wrong_key.key().to_pkcs8_pem()).unwrap_err(),
        IdentityError::KeyMismatch
    );
}
