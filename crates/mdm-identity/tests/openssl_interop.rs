//! Interoperability with the OpenSSL command line, when it is installed.
//! Each test returns early (and says so) on machines without `openssl`.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use common::{BODY, ec_ca, identity, rsa_fixture};
use mdm_identity::{DeviceCa, DeviceIdentity, IdentityError, KeyAlgorithm, PrivateKey, sign_profile};

fn openssl_available() -> bool {
    let ok = Command::new("openssl")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!("openssl CLI not found: interop test skipped");
    }
    ok
}

fn openssl(dir: &Path, args: &[&str]) -> Output {
    let out = Command::new("openssl").current_dir(dir).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "openssl {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn write_identity(dir: &Path, id: &DeviceIdentity) {
    std::fs::write(dir.join("cert.pem"), id.certificate().to_pem()).unwrap();
    std::fs::write(dir.join("key.pem"), id.key().to_pkcs8_pem().as_bytes()).unwrap();
    std::fs::write(dir.join("body.plist"), BODY).unwrap();
}

/// Signs body.plist with `openssl cms -sign` (detached unless told otherwise)
/// and returns the base64 an `Mdm-Signature` header would carry.
fn openssl_sign(dir: &Path, extra: &[&str]) -> String {
    let mut args = vec![
        "cms",
        "-sign",
        "-binary",
        "-outform",
        "DER",
        "-in",
        "body.plist",
        "-signer",
        "cert.pem",
        "-inkey",
        "key.pem",
        "-out",
        "sig.der",
    ];
    args.extend_from_slice(extra);
    openssl(dir, &args);
    STANDARD.encode(std::fs::read(dir.join("sig.der")).unwrap())
}

fn check_openssl_signatures(ca: &DeviceCa, id: &DeviceIdentity, variants: &[&[&str]]) {
    let dir = tempfile::tempdir().unwrap();
    write_identity(dir.path(), id);
    for extra in variants {
        let header = openssl_sign(dir.path(), extra);
        let cert = ca
            .trust_anchor()
            .verify_mdm_signature(&header, BODY)
            .unwrap_or_else(|e| panic!("openssl cms -sign {extra:?}: {e}"));
        assert_eq!(cert.info(), id.certificate(), "{extra:?}");
        let mut tampered = BODY.to_vec();
        tampered[0] ^= 1;
        let err = ca.trust_anchor().verify_mdm_signature(&header, &tampered).unwrap_err();
        let expected = if extra.contains(&"-noattr") {
            IdentityError::BadSignature
        } else {
            IdentityError::DigestMismatch
        };
        assert_eq!(err, expected, "{extra:?}");
    }
}

#[test]
fn rsa_bodies_signed_by_openssl_verify_here() {
    if !openssl_available() {
        return;
    }
    let (ca, id) = rsa_fixture();
    check_openssl_signatures(
        ca,
        id,
        &[
            &["-md", "sha256"],
            &["-md", "sha1"],
            &["-md", "sha256", "-keyid"],
            &["-md", "sha256", "-noattr"],
            // -stream with DER output writes indefinite-length BER.
            &["-md", "sha256", "-stream"],
        ],
    );
}

#[test]
fn ecdsa_bodies_signed_by_openssl_verify_here() {
    if !openssl_available() {
        return;
    }
    let ca = ec_ca("openssl EC CA");
    let id = identity(&ca, KeyAlgorithm::EcdsaP256);
    check_openssl_signatures(
        &ca,
        &id,
        &[
            &["-md", "sha256"],
            &["-md", "sha256", "-keyid"],
            &["-md", "sha256", "-stream"],
        ],
    );
}

#[test]
fn openssl_sha1_ecdsa_is_refused_as_unsupported() {
    if !openssl_available() {
        return;
    }
    let ca = ec_ca("openssl EC CA");
    let id = identity(&ca, KeyAlgorithm::EcdsaP256);
    let dir = tempfile::tempdir().unwrap();
    write_identity(dir.path(), &id);
    let header = openssl_sign(dir.path(), &["-md", "sha1"]);
    assert!(matches!(
        ca.trust_anchor().verify_mdm_signature(&header, BODY),
        Err(IdentityError::UnsupportedAlgorithm(_))
    ));
}

#[test]
fn profiles_signed_here_pass_openssl_cms_verify() {
    if !openssl_available() {
        return;
    }
    let (rsa_ca, rsa_id) = rsa_fixture();
    let ec_ca = ec_ca("openssl EC CA");
    let ec_id = identity(&ec_ca, KeyAlgorithm::EcdsaP256);
    for (ca, id) in [(rsa_ca, rsa_id), (&ec_ca, &ec_id)] {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("ca.pem"), ca.certificate_pem()).unwrap();
        std::fs::write(
            dir.path().join("signed.mobileconfig"),
            sign_profile(BODY, id.signer()).unwrap(),
        )
        .unwrap();
        // Device identities carry clientAuth only, so S/MIME purpose checking is off.
        openssl(
            dir.path(),
            &[
                "cms",
                "-verify",
                "-inform",
                "DER",
                "-in",
                "signed.mobileconfig",
                "-CAfile",
                "ca.pem",
                "-purpose",
                "any",
                "-out",
                "content.plist",
            ],
        );
        assert_eq!(std::fs::read(dir.path().join("content.plist")).unwrap(), BODY);

        // A different CA must make OpenSSL refuse it too.
        let other = common::ec_ca("unrelated");
        std::fs::write(dir.path().join("other.pem"), other.certificate_pem()).unwrap();
        let out = Command::new("openssl")
            .current_dir(dir.path())
            .args([
                "cms",
                "-verify",
                "-inform",
                "DER",
                "-in",
                "signed.mobileconfig",
                "-CAfile",
                "other.pem",
                "-purpose",
                "any",
                "-out",
                "/dev/null",
            ])
            .output()
            .unwrap();
        assert!(!out.status.success());
    }
}

fn pem_block(text: &str, label: &str) -> String {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = text.find(&begin).unwrap();
    let stop = text.find(&end).unwrap() + end.len();
    text[start..stop].to_owned()
}

#[test]
fn pkcs12_made_here_reads_in_openssl_with_the_legacy_algorithms() {
    if !openssl_available() {
        return;
    }
    let (_, id) = rsa_fixture();
    let password = mdm_identity::generate_pkcs12_password().unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("id.p12"), id.to_pkcs12(password.as_str()).unwrap()).unwrap();
    let pass = format!("pass:{}", password.as_str());

    let info = openssl(
        dir.path(),
        &["pkcs12", "-info", "-nokeys", "-in", "id.p12", "-passin", &pass],
    );
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&info.stdout),
        String::from_utf8_lossy(&info.stderr)
    );
    assert!(report.contains("MAC: sha1"), "{report}");
    assert!(report.contains("pbeWithSHA1And3-KeyTripleDES-CBC"), "{report}");
    assert!(!report.contains("AES"), "{report}");
    let cert = pem_block(&report, "CERTIFICATE");
    assert_eq!(cert.trim(), id.certificate().to_pem().trim());

    let keys = openssl(
        dir.path(),
        &["pkcs12", "-nocerts", "-nodes", "-in", "id.p12", "-passin", &pass],
    );
    let key = PrivateKey::from_pkcs8_pem(&pem_block(&String::from_utf8_lossy(&keys.stdout), "PRIVATE KEY")).unwrap();
    assert!(DeviceIdentity::new(id.certificate().der(), key).is_ok());

    let wrong = Command::new("openssl")
        .current_dir(dir.path())
        .args(["pkcs12", "-info", "-nokeys", "-in", "id.p12", "-passin", "pass:wrong"])
        .output()
        .unwrap();
    assert!(!wrong.status.success());
}

#[test]
fn pkcs12_made_by_openssl_reads_here() {
    if !openssl_available() {
        return;
    }
    let ca = ec_ca("openssl p12 CA");
    let id = identity(&ca, KeyAlgorithm::EcdsaP256);
    let dir = tempfile::tempdir().unwrap();
    write_identity(dir.path(), &id);
    for extra in [
        &[][..],
        &[
            "-certpbe",
            "PBE-SHA1-3DES",
            "-keypbe",
            "PBE-SHA1-3DES",
            "-macalg",
            "sha1",
        ][..],
    ] {
        let mut args = vec![
            "pkcs12",
            "-export",
            "-in",
            "cert.pem",
            "-inkey",
            "key.pem",
            "-passout",
            "pass:s3cret",
            "-out",
            "x.p12",
        ];
        args.extend_from_slice(extra);
        openssl(dir.path(), &args);
        let back = DeviceIdentity::from_pkcs12(&std::fs::read(dir.path().join("x.p12")).unwrap(), "s3cret").unwrap();
        assert_eq!(back.certificate(), id.certificate(), "{extra:?}");
    }
}
