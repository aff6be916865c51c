//! TLS client certificates and proxy-forwarded certificates.

mod common;

use std::time::{Duration, SystemTime};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use common::{ec_ca, identity, rsa_fixture};
use mdm_identity::{CertificateInfo, DeviceIdentity, IdentityError, KeyAlgorithm, generate_pkcs12_password};

#[test]
fn der_pem_and_rfc9440_forms_all_verify() {
    let (ca, id) = rsa_fixture();
    let anchor = ca.trust_anchor();
    let der = id.certificate().der();
    let pem = id.certificate().to_pem();
    let rfc9440 = format!(":{}:", STANDARD.encode(der));
    for input in [der, pem.as_bytes(), rfc9440.as_bytes()] {
        let verified = anchor.verify_client_certificate(input).unwrap();
        assert_eq!(verified.info(), id.certificate());
    }
}

#[test]
fn certificate_info_reports_subject_serial_and_fingerprint() {
    let (ca, id) = rsa_fixture();
    let info = CertificateInfo::parse(id.certificate().to_pem().as_bytes()).unwrap();
    assert_eq!(info.subject(), format!("CN={},O=haishin", id.enrollment_id()));
    assert_eq!(info.issuer(), ca.certificate().subject());
    assert_eq!(info.serial_hex().len(), 32);
    assert_eq!(info.sha256_fingerprint().len(), 64);
    assert!(info.sha256_fingerprint().chars().all(|c| c.is_ascii_hexdigit()));
}

#[test]
fn wrong_ca_expired_and_ca_certificates_are_refused() {
    let ca = ec_ca("CA");
    let other = ec_ca("other");
    let id = identity(&ca, KeyAlgorithm::EcdsaP256);
    let der = id.certificate().der();
    assert_eq!(
        other.trust_anchor().verify_client_certificate(der).unwrap_err(),
        IdentityError::WrongCa
    );
    let after = id.certificate().not_after() + Duration::from_secs(1);
    assert!(matches!(
        ca.trust_anchor().verify_client_certificate_at(der, after),
        Err(IdentityError::Expired { .. })
    ));
    assert!(matches!(
        ca.trust_anchor().verify_client_certificate(ca.certificate().der()),
        Err(IdentityError::NotADeviceCertificate(_))
    ));
    assert!(
        ca.trust_anchor()
            .verify_client_certificate_at(der, SystemTime::now() + Duration::from_secs(3600))
            .is_ok()
    );
}

#[test]
fn garbage_certificates_are_refused() {
    let ca = ec_ca("CA");
    let anchor = ca.trust_anchor();
    let der = identity(&ca, KeyAlgorithm::EcdsaP256).certificate().der().to_vec();
    for input in [
        &b""[..],
        b"garbage",
        &der[..der.len() - 1],
        b"-----BEGIN CERTIFICATE-----\n!!\n-----END CERTIFICATE-----",
    ] {
        let err = anchor.verify_client_certificate(input).unwrap_err();
        assert!(
            matches!(err, IdentityError::Malformed(_) | IdentityError::InvalidPem(_)),
            "{err:?}"
        );
    }
    assert_eq!(
        anchor.verify_client_certificate(b":not base64:").unwrap_err(),
        IdentityError::InvalidBase64
    );
    let mut flipped = der.clone();
    let last = flipped.len() - 1;
    flipped[last] ^= 1;
    assert_eq!(
        anchor.verify_client_certificate(&flipped).unwrap_err(),
        IdentityError::WrongCa
    );
}

#[test]
fn pkcs12_identity_still_chains_after_the_round_trip() {
    let (ca, id) = rsa_fixture();
    let password = generate_pkcs12_password().unwrap();
    let pfx = id.to_pkcs12(password.as_str()).unwrap();
    let device = DeviceIdentity::from_pkcs12(&pfx, password.as_str()).unwrap();
    let header = device.sign_mdm_body(common::BODY).unwrap();
    let verified = ca.trust_anchor().verify_mdm_signature(&header, common::BODY).unwrap();
    assert_eq!(verified.sha256_fingerprint(), id.certificate().sha256_fingerprint());
}
