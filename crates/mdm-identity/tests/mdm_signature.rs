//! `Mdm-Signature`: device-side signing and server-side verification.

mod common;

use std::time::{Duration, SystemTime};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use common::{BODY, decode_signed_data, ec_ca, encode_signed_data, identity, rsa_fixture};
use mdm_identity::{IdentityError, IdentityOptions, KeyAlgorithm, SignOptions, SignerIdentifierKind};

#[test]
fn rsa_device_signature_verifies_and_names_the_device() {
    let (ca, id) = rsa_fixture();
    let header = id.sign_mdm_body(BODY).unwrap();
    let cert = ca.trust_anchor().verify_mdm_signature(&header, BODY).unwrap();
    assert_eq!(cert.sha256_fingerprint(), id.certificate().sha256_fingerprint());
    assert_eq!(cert.common_name(), Some(id.enrollment_id()));
    assert_eq!(cert.serial_hex(), id.certificate().serial_hex());
    assert_eq!(cert.der(), id.certificate().der());
}

#[test]
fn ecdsa_device_signature_verifies() {
    let ca = ec_ca("ec CA");
    let id = identity(&ca, KeyAlgorithm::EcdsaP256);
    let header = id.sign_mdm_body(BODY).unwrap();
    let cert = ca.trust_anchor().verify_mdm_signature(&header, BODY).unwrap();
    assert_eq!(cert.info(), id.certificate());
}

#[test]
fn signer_identified_by_subject_key_identifier_verifies() {
    let ca = ec_ca("ski CA");
    let id = identity(&ca, KeyAlgorithm::EcdsaP256);
    let der = id
        .signer()
        .sign(
            BODY,
            &SignOptions {
                detached: true,
                signer_identifier: SignerIdentifierKind::SubjectKeyIdentifier,
                signing_time: None,
            },
        )
        .unwrap();
    let sd = decode_signed_data(&STANDARD.encode(&der));
    assert!(matches!(
        sd.signer_infos.0.get(0).unwrap().sid,
        cms::signed_data::SignerIdentifier::SubjectKeyIdentifier(_)
    ));
    let cert = ca
        .trust_anchor()
        .verify_mdm_signature(&STANDARD.encode(der), BODY)
        .unwrap();
    assert_eq!(cert.info(), id.certificate());
}

#[test]
fn tampered_body_is_a_digest_mismatch() {
    let ca = ec_ca("CA");
    let id = identity(&ca, KeyAlgorithm::EcdsaP256);
    let header = id.sign_mdm_body(BODY).unwrap();
    let mut body = BODY.to_vec();
    body[100] ^= 1;
    assert_eq!(
        ca.trust_anchor().verify_mdm_signature(&header, &body).unwrap_err(),
        IdentityError::DigestMismatch
    );
    assert_eq!(
        ca.trust_anchor().verify_mdm_signature(&header, b"").unwrap_err(),
        IdentityError::DigestMismatch
    );
}

#[test]
fn identity_from_another_ca_is_refused() {
    let ours = ec_ca("haishin device CA");
    // Same name, different key: only the signature check can tell them apart.
    let impostor = ec_ca("haishin device CA");
    let id = identity(&impostor, KeyAlgorithm::EcdsaP256);
    let header = id.sign_mdm_body(BODY).unwrap();
    assert_eq!(
        ours.trust_anchor().verify_mdm_signature(&header, BODY).unwrap_err(),
        IdentityError::WrongCa
    );
    let other_name = ec_ca("someone else");
    let header = identity(&other_name, KeyAlgorithm::EcdsaP256)
        .sign_mdm_body(BODY)
        .unwrap();
    assert_eq!(
        ours.trust_anchor().verify_mdm_signature(&header, BODY).unwrap_err(),
        IdentityError::WrongCa
    );
}

#[test]
fn expired_and_not_yet_valid_identities_are_refused() {
    let ca = ec_ca("CA");
    let day = Duration::from_secs(24 * 3600);
    let expired = ca
        .issue_identity_with(&IdentityOptions {
            key_algorithm: KeyAlgorithm::EcdsaP256,
            not_before: Some(SystemTime::now() - 3 * day),
            validity: day,
            ..IdentityOptions::default()
        })
        .unwrap();
    let header = expired.sign_mdm_body(BODY).unwrap();
    assert!(matches!(
        ca.trust_anchor().verify_mdm_signature(&header, BODY),
        Err(IdentityError::Expired { .. })
    ));

    let fresh = identity(&ca, KeyAlgorithm::EcdsaP256);
    let header = fresh.sign_mdm_body(BODY).unwrap();
    let before = SystemTime::now() - 2 * day;
    // The CA itself was not valid yet either; that is reported first.
    assert_eq!(
        ca.trust_anchor()
            .verify_mdm_signature_at(&header, BODY, before)
            .unwrap_err(),
        IdentityError::CaNotValid
    );
    let future = ca
        .issue_identity_with(&IdentityOptions {
            key_algorithm: KeyAlgorithm::EcdsaP256,
            not_before: Some(SystemTime::now() + day),
            ..IdentityOptions::default()
        })
        .unwrap();
    let header = future.sign_mdm_body(BODY).unwrap();
    assert!(matches!(
        ca.trust_anchor().verify_mdm_signature(&header, BODY),
        Err(IdentityError::NotYetValid { .. })
    ));
}

#[test]
fn swapped_signature_value_is_a_bad_signature() {
    let ca = ec_ca("CA");
    let alice = identity(&ca, KeyAlgorithm::EcdsaP256);
    let mallory = identity(&ca, KeyAlgorithm::EcdsaP256);
    let mut sd = decode_signed_data(&alice.sign_mdm_body(BODY).unwrap());
    let theirs = decode_signed_data(&mallory.sign_mdm_body(BODY).unwrap());
    // Alice's certificate and attributes, Mallory's signature.
    let mut infos: Vec<_> = sd.signer_infos.0.into_vec();
    infos[0].signature = theirs.signer_infos.0.get(0).unwrap().signature.clone();
    sd.signer_infos.0 = infos.try_into().unwrap();
    assert_eq!(
        ca.trust_anchor()
            .verify_mdm_signature(&encode_signed_data(&sd), BODY)
            .unwrap_err(),
        IdentityError::BadSignature
    );
}

#[test]
fn swapped_certificate_leaves_the_signer_without_a_certificate() {
    let ca = ec_ca("CA");
    let alice = identity(&ca, KeyAlgorithm::EcdsaP256);
    let mallory = identity(&ca, KeyAlgorithm::EcdsaP256);
    let mut sd = decode_signed_data(&mallory.sign_mdm_body(BODY).unwrap());
    let alices = decode_signed_data(&alice.sign_mdm_body(BODY).unwrap());
    sd.certificates = alices.certificates;
    assert_eq!(
        ca.trust_anchor()
            .verify_mdm_signature(&encode_signed_data(&sd), BODY)
            .unwrap_err(),
        IdentityError::SignerCertificateMissing
    );
    sd.certificates = None;
    assert_eq!(
        ca.trust_anchor()
            .verify_mdm_signature(&encode_signed_data(&sd), BODY)
            .unwrap_err(),
        IdentityError::SignerCertificateMissing
    );
}

#[test]
fn a_message_without_signers_says_so() {
    let ca = ec_ca("CA");
    let id = identity(&ca, KeyAlgorithm::EcdsaP256);
    let mut sd = decode_signed_data(&id.sign_mdm_body(BODY).unwrap());
    sd.signer_infos.0 = Default::default();
    assert_eq!(
        ca.trust_anchor()
            .verify_mdm_signature(&encode_signed_data(&sd), BODY)
            .unwrap_err(),
        IdentityError::NoSigner
    );
}

#[test]
fn truncated_and_garbage_headers_are_refused() {
    let ca = ec_ca("CA");
    let anchor = ca.trust_anchor();
    let header = identity(&ca, KeyAlgorithm::EcdsaP256).sign_mdm_body(BODY).unwrap();
    let der = STANDARD.decode(&header).unwrap();

    assert_eq!(
        anchor.verify_mdm_signature("not base64 at all!", BODY).unwrap_err(),
        IdentityError::InvalidBase64
    );
    assert_eq!(
        anchor.verify_mdm_signature("", BODY).unwrap_err(),
        IdentityError::Malformed("BER/DER encoding")
    );
    for cut in [1, 10, der.len() / 2, der.len() - 1] {
        let err = anchor
            .verify_mdm_signature(&STANDARD.encode(&der[..cut]), BODY)
            .unwrap_err();
        assert!(matches!(err, IdentityError::Malformed(_)), "cut {cut}: {err:?}");
    }
    let mut trailing = der.clone();
    trailing.push(0);
    assert!(matches!(
        anchor.verify_mdm_signature(&STANDARD.encode(&trailing), BODY),
        Err(IdentityError::Malformed(_))
    ));
    // A certificate is valid DER but not a CMS message.
    assert!(matches!(
        anchor.verify_mdm_signature(&STANDARD.encode(ca.certificate().der()), BODY),
        Err(IdentityError::Malformed(_))
    ));
    let huge = "A".repeat(100 * 1024);
    assert!(matches!(
        anchor.verify_mdm_signature(&huge, BODY),
        Err(IdentityError::TooLarge { .. })
    ));
}

#[test]
fn surrounding_whitespace_in_the_header_is_tolerated() {
    let ca = ec_ca("CA");
    let header = identity(&ca, KeyAlgorithm::EcdsaP256).sign_mdm_body(BODY).unwrap();
    assert!(
        ca.trust_anchor()
            .verify_mdm_signature(&format!(" {header}\r\n"), BODY)
            .is_ok()
    );
}

#[test]
fn attached_content_must_match_the_body() {
    let ca = ec_ca("CA");
    let id = identity(&ca, KeyAlgorithm::EcdsaP256);
    let attached = STANDARD.encode(id.signer().sign(BODY, &SignOptions::default()).unwrap());
    assert!(ca.trust_anchor().verify_mdm_signature(&attached, BODY).is_ok());
    assert_eq!(
        ca.trust_anchor().verify_mdm_signature(&attached, b"other").unwrap_err(),
        IdentityError::DigestMismatch
    );
}

/// The first step of a multi-tenant check: the signature is checked against
/// the certificate it carries, which is returned for the caller to chain.
#[test]
fn signer_of_a_signature_is_returned_only_for_the_signed_body() {
    let ca = mdm_identity::DeviceCa::generate("signer test CA").unwrap();
    let identity = ca
        .issue_identity_with(&mdm_identity::IdentityOptions {
            key_algorithm: mdm_identity::KeyAlgorithm::EcdsaP256,
            ..Default::default()
        })
        .unwrap();
    let body = b"<plist><dict/></plist>";
    let header = identity.sign_mdm_body(body).unwrap();
    let signer = mdm_identity::mdm_signature_signer(&header, body).unwrap();
    assert_eq!(signer.common_name(), Some(identity.enrollment_id()));
    assert!(mdm_identity::mdm_signature_signer(&header, b"another body").is_err());
    assert!(mdm_identity::mdm_signature_signer("not base64!", body).is_err());
    ca.trust_anchor().verify_client_certificate(signer.der()).unwrap();
}
