//! Configuration errors and what Debug output shows.

use apple_apns::{
    ApnsClient, ApnsConfig, CertificateAuth, ConfigError, PRODUCTION_URL, RetryPolicy, SANDBOX_URL, TokenAuth,
};

use crate::support::{KEY_ID, TEAM_ID, TOPIC, TestPki, certificate_auth};

#[test]
fn constants_and_defaults() {
    assert_eq!(PRODUCTION_URL, "https://api.push.apple.com");
    assert_eq!(SANDBOX_URL, "https://api.sandbox.push.apple.com");
    let client = ApnsClient::new(ApnsConfig::sandbox(certificate_auth())).unwrap();
    assert_eq!(client.base_url(), "https://api.sandbox.push.apple.com/");
    assert_eq!(client.topic(), TOPIC);
    let client =
        ApnsClient::new(ApnsConfig::production(certificate_auth()).with_topic("com.apple.mgmt.other")).unwrap();
    assert_eq!(client.topic(), "com.apple.mgmt.other", "an explicit topic wins");
}

#[test]
fn bad_settings_are_refused_with_their_own_error() {
    type Expected = fn(&ConfigError) -> bool;
    let cases: Vec<(ApnsConfig, Expected)> = vec![
        (ApnsConfig::new("not a url", certificate_auth()), |e| {
            matches!(e, ConfigError::BadBaseUrl(_))
        }),
        (ApnsConfig::new("ftp://127.0.0.1", certificate_auth()), |e| {
            matches!(e, ConfigError::BadBaseUrl(_))
        }),
        (
            ApnsConfig::production(certificate_auth()).with_max_concurrent_pushes(0),
            |e| matches!(e, ConfigError::NoConcurrency),
        ),
        (
            ApnsConfig::production(certificate_auth()).with_retry(RetryPolicy {
                max_attempts: 0,
                ..RetryPolicy::default()
            }),
            |e| matches!(e, ConfigError::NoAttempts),
        ),
        (
            ApnsConfig::production(certificate_auth()).with_root_certificate_pem("nope"),
            |e| matches!(e, ConfigError::BadRootCertificate(_)),
        ),
        (
            ApnsConfig::production(certificate_auth()).with_topic("bad\ntopic"),
            |e| matches!(e, ConfigError::BadTopic(_)),
        ),
        (
            ApnsConfig::production(CertificateAuth::new("not a cert", "not a key")),
            |e| matches!(e, ConfigError::BadCertificate(_)),
        ),
    ];
    for (config, expected) in cases {
        let err = ApnsClient::new(config).unwrap_err();
        assert!(expected(&err), "unexpected error: {err}");
        assert!(!err.to_string().is_empty());
    }
}

#[test]
fn debug_output_never_contains_keys() {
    let pki = TestPki::new();
    let p8 = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)
        .unwrap()
        .serialize_pem();
    let token = TokenAuth::from_p8(p8.as_bytes(), KEY_ID, TEAM_ID).unwrap();
    let configs = [
        ApnsConfig::production(pki.certificate_auth()),
        ApnsConfig::production(token).with_topic(TOPIC),
    ];
    let secret_lines: Vec<&str> = pki
        .push_key_pem
        .lines()
        .chain(p8.lines())
        .filter(|l| !l.starts_with("-----"))
        .collect();
    for config in configs {
        let dbg = format!("{config:?} {:?}", ApnsClient::new(config.clone()).unwrap());
        assert!(dbg.contains(TOPIC) || dbg.contains(KEY_ID), "{dbg}");
        assert!(!dbg.contains("PRIVATE KEY"), "{dbg}");
        for line in &secret_lines {
            assert!(!dbg.contains(line), "key material in {dbg}");
        }
    }
}
