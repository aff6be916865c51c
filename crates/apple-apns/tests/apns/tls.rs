//! Certificate authentication over real TLS: the push certificate is the client identity.

use apple_apns::{ApnsClient, ApnsConfig, CertificateAuth, ConfigError, MdmPush, PushOutcome};

use crate::support::{Expect, FakeApns, Reply, TOPIC, TestPki, device_token};

#[tokio::test]
async fn push_certificate_is_presented_as_the_tls_client_identity() {
    let pki = TestPki::new();
    let apns = FakeApns::start_tls(Expect::certificate(), &pki, |_| Reply::ok()).await;
    assert!(apns.url.starts_with("https://"));
    let config = ApnsConfig::new(&apns.url, pki.certificate_auth()).with_root_certificate_pem(pki.ca_pem.clone());
    let client = ApnsClient::new(config).unwrap();
    assert_eq!(client.topic(), TOPIC);

    let outcomes = client
        .push_many((0..20).map(|i| MdmPush::new(device_token(i), "m")))
        .await;
    assert!(outcomes.iter().all(PushOutcome::is_delivered), "{outcomes:?}");
    assert_eq!(apns.violations(), Vec::<String>::new());
    let seen = apns.seen();
    assert_eq!(seen.len(), 20);
    for s in &seen {
        assert_eq!(s.peer_certificate.as_deref(), Some(&pki.push_cert_der[..]));
        assert_eq!(s.header("apns-topic"), Some(TOPIC));
    }
    assert_eq!(apns.connections(), 1);
}

#[tokio::test]
async fn a_certificate_the_server_does_not_trust_gets_no_answer() {
    let pki = TestPki::new();
    let stranger = TestPki::new();
    let apns = FakeApns::start_tls(Expect::certificate(), &pki, |_| Reply::ok()).await;
    let config = ApnsConfig::new(&apns.url, stranger.certificate_auth())
        .with_root_certificate_pem(pki.ca_pem.clone())
        .with_retry(apple_apns::RetryPolicy::none());
    let outcome = ApnsClient::new(config)
        .unwrap()
        .push(&MdmPush::new(device_token(1), "m"))
        .await;
    assert!(matches!(outcome, PushOutcome::Failed { .. }), "{outcome:?}");
    assert_eq!(apns.requests(), 0);
}

#[tokio::test]
async fn the_system_roots_do_not_trust_a_private_ca() {
    let pki = TestPki::new();
    let apns = FakeApns::start_tls(Expect::certificate(), &pki, |_| Reply::ok()).await;
    let config = ApnsConfig::new(&apns.url, pki.certificate_auth()).with_retry(apple_apns::RetryPolicy::none());
    let outcome = ApnsClient::new(config)
        .unwrap()
        .push(&MdmPush::new(device_token(1), "m"))
        .await;
    assert!(matches!(outcome, PushOutcome::Failed { .. }), "{outcome:?}");
    assert_eq!(apns.requests(), 0);
}

#[test]
fn a_key_that_does_not_match_the_certificate_is_refused_up_front() {
    let pki = TestPki::new();
    let other = TestPki::new();
    let auth = CertificateAuth::new(pki.push_cert_pem.clone(), other.push_key_pem.clone());
    let err = ApnsClient::new(ApnsConfig::production(auth)).unwrap_err();
    assert!(matches!(err, ConfigError::Http(_)), "{err}");
    assert!(!err.to_string().contains("PRIVATE KEY"), "{err}");
}
