//! The APNs simulator against the real push client the server uses (apple-apns), in both
//! transports, plus raw HTTP/2 requests for what that client never sends.

use std::time::{Duration, Instant, SystemTime};

use apple_apns::{Expiration, FailureCause, MdmPush, PushOutcome, Reason, RetryPolicy};
use apple_sim::{ApnsSim, PushWaker, Throttle};

use crate::support::{apns_client, apns_client_with, push_certificate, topic};

fn token(i: u8) -> Vec<u8> {
    let mut t = vec![0x5a; 32];
    t[31] = i;
    t
}

fn rejected(outcome: &PushOutcome) -> (u16, Reason) {
    match outcome {
        PushOutcome::Rejected { status, reason, .. } => (*status, reason.clone()),
        other => panic!("expected a rejection, got {other:?}"),
    }
}

fn quick_retries(attempts: u32) -> RetryPolicy {
    RetryPolicy {
        max_attempts: attempts,
        initial_backoff: Duration::from_millis(1),
        max_backoff: Duration::from_millis(4),
    }
}

/// A raw HTTP/2 cleartext client, for requests apple-apns would never build.
fn raw_h2c() -> reqwest::Client {
    reqwest::Client::builder()
        .http2_prior_knowledge()
        .no_proxy()
        .build()
        .unwrap()
}

async fn raw_reason(request: reqwest::RequestBuilder) -> (u16, Option<String>) {
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let bytes = response.bytes().await.unwrap();
    let body: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null);
    (status, body["reason"].as_str().map(str::to_owned))
}

#[tokio::test]
async fn h2c_push_wakes_the_registered_device() {
    let apns = ApnsSim::start_h2c().await.unwrap();
    assert!(apns.base_url().starts_with("http://127.0.0.1:"));
    assert!(apns.root_ca_pem().is_none());
    let topic = topic();
    let waker = PushWaker::new();
    apns.register(&topic, &token(1), waker.clone());
    let client = apns_client(&apns, &topic);

    let outcome = client
        .push(&MdmPush::new(token(1), "MAGIC-1").with_apns_id("0f0e0d0c-0b0a-4909-8807-060504030201"))
        .await;
    assert_eq!(
        outcome,
        PushOutcome::Delivered {
            apns_id: Some("0f0e0d0c-0b0a-4909-8807-060504030201".into())
        }
    );
    assert_eq!(waker.try_take(), Some(vec!["MAGIC-1".to_owned()]));
    let outcome = client.push(&MdmPush::new(token(1), "MAGIC-1")).await;
    assert!(
        matches!(&outcome, PushOutcome::Delivered { apns_id: Some(id) } if id.len() == 36),
        "{outcome:?}"
    );
    let counters = apns.counters();
    assert_eq!(counters.requests, 2);
    assert_eq!(counters.status(200), 2);
    assert_eq!(counters.token(&token(1)), 2);
}

#[tokio::test]
async fn tls_takes_the_topic_from_the_client_certificate() {
    let apns = ApnsSim::start_tls().await.unwrap();
    assert!(apns.base_url().starts_with("https://127.0.0.1:"));
    let topic = topic();
    let waker = PushWaker::new();
    apns.register(&topic, &token(2), waker.clone());

    // No explicit topic: the client derives it from its certificate, as production does.
    let config = apple_apns::ApnsConfig::new(apns.base_url(), push_certificate(&topic))
        .with_root_certificate_pem(apns.root_ca_pem().unwrap());
    let client = apple_apns::ApnsClient::new(config).unwrap();
    assert!(client.push(&MdmPush::new(token(2), "M")).await.is_delivered());
    assert_eq!(waker.try_take(), Some(vec!["M".to_owned()]));

    let explicit = apns_client(&apns, &topic);
    assert!(explicit.push(&MdmPush::new(token(2), "M")).await.is_delivered());
}

#[tokio::test]
async fn tls_certificate_and_header_topics_must_agree() {
    let apns = ApnsSim::start_tls().await.unwrap();
    let (mine, other) = (topic(), topic());
    apns.register(&mine, &token(3), PushWaker::new());
    let client = apns_client_with(&apns, &mine, |c| c.with_topic(other.clone()));
    let outcome = client.push(&MdmPush::new(token(3), "M")).await;
    assert_eq!(rejected(&outcome), (403, Reason::BadCertificate));
}

#[tokio::test]
async fn tls_without_a_client_certificate_gets_no_answer() {
    let apns = ApnsSim::start_tls().await.unwrap();
    let root = reqwest::Certificate::from_pem(apns.root_ca_pem().unwrap().as_bytes()).unwrap();
    let client = reqwest::Client::builder()
        .tls_certs_only([root])
        .http2_prior_knowledge()
        .build()
        .unwrap();
    let url = format!("{}/3/device/{}", apns.base_url(), "ab".repeat(32));
    let result = client.post(url).body(r#"{"mdm":"M"}"#).send().await;
    assert!(result.is_err(), "{result:?}");
    assert_eq!(apns.counters().requests, 0);
}

#[tokio::test]
async fn every_documented_refusal() {
    let apns = ApnsSim::start_h2c().await.unwrap();
    let (topic_a, topic_b) = (topic(), topic());
    apns.register(&topic_a, &token(4), PushWaker::new());
    let client = apns_client(&apns, &topic_a);

    let short = client.push(&MdmPush::new(vec![1, 2, 3], "M")).await;
    assert_eq!(rejected(&short), (400, Reason::BadDeviceToken));

    let foreign = apns_client(&apns, &topic_b).push(&MdmPush::new(token(4), "M")).await;
    assert_eq!(rejected(&foreign), (400, Reason::DeviceTokenNotForTopic));

    let app_topic = apns_client_with(&apns, &topic_a, |c| c.with_topic("com.example.app"));
    let outcome = app_topic.push(&MdmPush::new(token(4), "M")).await;
    assert_eq!(rejected(&outcome), (400, Reason::TopicDisallowed));

    let bad_topic = apns_client_with(&apns, &topic_a, |c| c.with_topic("com.apple.mgmt."));
    let outcome = bad_topic.push(&MdmPush::new(token(4), "M")).await;
    assert_eq!(rejected(&outcome), (400, Reason::BadTopic));

    let unknown = client.push(&MdmPush::new(token(99), "M")).await;
    assert!(
        matches!(unknown, PushOutcome::Unregistered { since: Some(_), .. }),
        "{unknown:?}"
    );

    let raw = raw_h2c();
    let url = format!("{}/3/device/{}", apns.base_url(), apple_sim_hex(&token(4)));
    let post = || raw.post(&url).header("apns-topic", &topic_a);
    assert_eq!(
        raw_reason(raw.post(&url).body(r#"{"mdm":"M"}"#)).await,
        (400, Some("MissingTopic".into()))
    );
    assert_eq!(raw_reason(post()).await, (400, Some("PayloadEmpty".into())));
    assert_eq!(
        raw_reason(post().body(r#"{"aps":{}}"#)).await,
        (400, Some("PayloadEmpty".into()))
    );
    assert_eq!(
        raw_reason(post().body("x".repeat(5000))).await,
        (413, Some("PayloadTooLarge".into()))
    );
    assert_eq!(
        raw_reason(post().header("apns-expiration", "soon").body(r#"{"mdm":"M"}"#)).await,
        (400, Some("BadExpirationDate".into()))
    );
    assert_eq!(
        raw_reason(post().header("apns-priority", "7").body(r#"{"mdm":"M"}"#)).await,
        (400, Some("BadPriority".into()))
    );
    assert_eq!(
        raw_reason(raw.get(&url).header("apns-topic", &topic_a)).await,
        (405, Some("MethodNotAllowed".into()))
    );
    assert_eq!(
        raw_reason(
            raw.post(format!("{}/3/devices/x", apns.base_url()))
                .body(r#"{"mdm":"M"}"#)
        )
        .await,
        (404, Some("BadPath".into()))
    );
    assert_eq!(raw_reason(post().body(r#"{"mdm":"M"}"#)).await, (200, None));

    let counters = apns.counters();
    assert_eq!(counters.reason("BadDeviceToken"), 1);
    assert_eq!(counters.reason("PayloadEmpty"), 2);
    assert_eq!(counters.status(200), 1);
}

fn apple_sim_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test]
async fn unregistered_tokens_get_410_with_the_time() {
    let apns = ApnsSim::start_h2c().await.unwrap();
    let topic = topic();
    apns.register(&topic, &token(5), PushWaker::new());
    let at = SystemTime::UNIX_EPOCH + Duration::from_millis(1_750_000_000_123);
    apns.unregister_at(&token(5), at);
    assert!(!apns.is_registered(&token(5)));
    let outcome = apns_client(&apns, &topic).push(&MdmPush::new(token(5), "M")).await;
    assert_eq!(
        outcome,
        PushOutcome::Unregistered {
            since: Some(at),
            reason: Reason::Unregistered,
            apns_id: outcome_id(&outcome)
        }
    );
    // A new TokenUpdate revives the token.
    apns.register(&topic, &token(5), PushWaker::new());
    assert!(
        apns_client(&apns, &topic)
            .push(&MdmPush::new(token(5), "M"))
            .await
            .is_delivered()
    );
}

fn outcome_id(outcome: &PushOutcome) -> Option<String> {
    match outcome {
        PushOutcome::Unregistered { apns_id, .. } => apns_id.clone(),
        _ => None,
    }
}

#[tokio::test]
async fn pushes_to_a_busy_device_coalesce_into_one_wake() {
    let apns = ApnsSim::start_h2c().await.unwrap();
    let topic = topic();
    let waker = PushWaker::new();
    apns.register(&topic, &token(6), waker.clone());
    let client = apns_client(&apns, &topic);
    for _ in 0..5 {
        assert!(client.push(&MdmPush::new(token(6), "M")).await.is_delivered());
    }
    assert_eq!(waker.received(), 5);
    assert_eq!(waker.wait().await, vec!["M".to_owned()]);
    let second = tokio::time::timeout(Duration::from_millis(50), waker.wait()).await;
    assert!(second.is_err(), "a second wake: {second:?}");
}

#[tokio::test]
async fn offline_devices_get_the_latest_stored_push_on_return() {
    let apns = ApnsSim::start_h2c().await.unwrap();
    let topic = topic();
    let waker = PushWaker::new();
    apns.register(&topic, &token(7), waker.clone());
    let client = apns_client(&apns, &topic);
    apns.set_connected(&token(7), false);

    let later = Expiration::At(SystemTime::now() + Duration::from_secs(300));
    for magic in ["first", "second"] {
        assert!(
            client
                .push(&MdmPush::new(token(7), magic).with_expiration(later))
                .await
                .is_delivered()
        );
    }
    assert!(waker.try_take().is_none(), "an offline device was woken");
    assert!(apns.set_connected(&token(7), true));
    assert_eq!(waker.try_take(), Some(vec!["second".to_owned()]));

    apns.set_connected(&token(7), false);
    let once = MdmPush::new(token(7), "once").with_expiration(Expiration::Immediately);
    assert!(client.push(&once).await.is_delivered());
    assert!(!apns.set_connected(&token(7), true), "expiration 0 must not be stored");
    assert!(waker.try_take().is_none());

    apns.set_connected(&token(7), false);
    assert!(client.push(&MdmPush::new(token(7), "default")).await.is_delivered());
    assert!(apns.set_connected(&token(7), true), "no header: APNs stores it");
    assert_eq!(waker.try_take(), Some(vec!["default".to_owned()]));
}

#[tokio::test]
async fn throttling_is_survived_by_the_clients_retries() {
    let apns = ApnsSim::start_h2c().await.unwrap();
    let topic = topic();
    apns.register(&topic, &token(8), PushWaker::new());
    let client = apns_client_with(&apns, &topic, |c| c.with_retry(quick_retries(4)));

    apns.fail_next(2, Throttle::TooManyRequests);
    assert!(client.push(&MdmPush::new(token(8), "M")).await.is_delivered());
    apns.fail_next(3, Throttle::ServiceUnavailable);
    assert!(client.push(&MdmPush::new(token(8), "M")).await.is_delivered());
    let counters = apns.counters();
    assert_eq!(
        (counters.status(429), counters.status(503), counters.status(200)),
        (2, 3, 2)
    );

    apns.fail_fraction(1.0, Throttle::ServiceUnavailable);
    let outcome = client.push(&MdmPush::new(token(8), "M")).await;
    assert_eq!(
        outcome,
        PushOutcome::Failed {
            attempts: 4,
            cause: FailureCause::Status {
                status: 503,
                reason: Some(Reason::ServiceUnavailable)
            }
        }
    );
    apns.fail_fraction(0.3, Throttle::TooManyRequests);
    let outcomes = client.push_many((0..40).map(|_| MdmPush::new(token(8), "M"))).await;
    assert!(outcomes.iter().all(PushOutcome::is_delivered), "{outcomes:?}");
    assert!(apns.counters().status(429) > 2);
}

#[tokio::test]
async fn an_expired_push_certificate_and_slow_answers() {
    let apns = ApnsSim::start_tls().await.unwrap();
    let topic = topic();
    apns.register(&topic, &token(9), PushWaker::new());
    let client = apns_client(&apns, &topic);

    apns.set_certificate_expired(true);
    let outcome = client.push(&MdmPush::new(token(9), "M")).await;
    assert_eq!(rejected(&outcome), (403, Reason::BadCertificate));
    apns.clear_faults();

    apns.set_delay(Duration::from_millis(200));
    let started = Instant::now();
    assert!(client.push(&MdmPush::new(token(9), "M")).await.is_delivered());
    assert!(started.elapsed() >= Duration::from_millis(200));
}

#[tokio::test]
async fn stop_closes_the_service() {
    let apns = ApnsSim::start_h2c().await.unwrap();
    let topic = topic();
    apns.register(&topic, &token(10), PushWaker::new());
    let client = apns_client_with(&apns, &topic, |c| c.with_retry(RetryPolicy::none()));
    assert!(client.push(&MdmPush::new(token(10), "M")).await.is_delivered());
    apns.stop();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let outcome = client.push(&MdmPush::new(token(10), "M")).await;
    assert!(matches!(outcome, PushOutcome::Failed { .. }), "{outcome:?}");
}
