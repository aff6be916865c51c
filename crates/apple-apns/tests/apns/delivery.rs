//! Request format and the outcomes of non-retried answers.

use std::time::{Duration, UNIX_EPOCH};

use apple_apns::{ApnsClient, ApnsConfig, Expiration, MdmPush, PushOutcome, Reason, ReasonKind, RetryPolicy};
use axum::http::{Method, Version};

use crate::support::{Expect, FakeApns, Reply, TOPIC, certificate_auth, device_token};

fn client(apns: &FakeApns) -> ApnsClient {
    let retry = RetryPolicy {
        max_attempts: 3,
        initial_backoff: Duration::from_millis(1),
        max_backoff: Duration::from_millis(5),
    };
    ApnsClient::new(ApnsConfig::new(&apns.url, certificate_auth()).with_retry(retry)).unwrap()
}

#[tokio::test]
async fn delivered_push_carries_the_mdm_request_and_returns_apns_id() {
    let apns = FakeApns::start(Expect::certificate(), |_| {
        Reply::ok().with_apns_id("4a1c1e0b-8f3a-4d6e-9b2c-7d5e6f708192")
    })
    .await;
    let client = client(&apns);
    assert_eq!(client.topic(), TOPIC, "topic read from the certificate's UID");

    let token = vec![0x0a, 0xbc, 0xde, 0xf0, 0x12];
    let push = MdmPush::new(token, "7C1D2A9E-PUSH-MAGIC")
        .with_expiration(Expiration::At(UNIX_EPOCH + Duration::from_secs(1_900_000_000)))
        .with_apns_id("0f1e2d3c-4b5a-4978-8a6b-5c4d3e2f1a00");
    let outcome = client.push(&push).await;

    assert_eq!(
        outcome,
        PushOutcome::Delivered {
            apns_id: Some("4a1c1e0b-8f3a-4d6e-9b2c-7d5e6f708192".into())
        }
    );
    assert_eq!(apns.violations(), Vec::<String>::new());
    let seen = apns.seen();
    assert_eq!(seen.len(), 1);
    let req = &seen[0];
    assert_eq!(req.version, Version::HTTP_2);
    assert_eq!(req.method, Method::POST);
    assert_eq!(req.path, "/3/device/0abcdef012");
    assert_eq!(req.header("apns-topic"), Some(TOPIC));
    assert_eq!(req.header("apns-push-type"), Some("mdm"));
    assert_eq!(req.header("apns-priority"), Some("10"));
    assert_eq!(req.header("apns-expiration"), Some("1900000000"));
    assert_eq!(req.header("apns-id"), Some("0f1e2d3c-4b5a-4978-8a6b-5c4d3e2f1a00"));
    assert_eq!(
        req.header("authorization"),
        None,
        "certificate auth sends no bearer token"
    );
    assert_eq!(&req.body[..], br#"{"mdm":"7C1D2A9E-PUSH-MAGIC"}"#);
}

#[tokio::test]
async fn optional_headers_are_left_out_and_expiration_zero_is_sent_as_zero() {
    let apns = FakeApns::start(Expect::certificate(), |_| Reply::ok()).await;
    let client = client(&apns);
    let plain = client.push(&MdmPush::new(device_token(1), "m")).await;
    let now_or_never = client
        .push(&MdmPush::new(device_token(2), "m").with_expiration(Expiration::Immediately))
        .await;
    assert!(plain.is_delivered() && now_or_never.is_delivered());
    let seen = apns.seen();
    assert_eq!(seen[0].header("apns-expiration"), None);
    assert_eq!(seen[0].header("apns-id"), None);
    assert_eq!(seen[1].header("apns-expiration"), Some("0"));
    // The fake always answers with an apns-id, as APNs does when the request had none.
    assert!(matches!(plain, PushOutcome::Delivered { apns_id: Some(_) }));
}

#[tokio::test]
async fn gone_token_reports_unregistered_with_its_timestamp() {
    let apns = FakeApns::start(Expect::certificate(), |_| Reply::unregistered(1_700_000_123_456)).await;
    let outcome = client(&apns).push(&MdmPush::new(device_token(7), "m")).await;
    match &outcome {
        PushOutcome::Unregistered { since, reason, apns_id } => {
            assert_eq!(*since, Some(UNIX_EPOCH + Duration::from_millis(1_700_000_123_456)));
            assert_eq!(*reason, Reason::Unregistered);
            assert!(apns_id.is_some());
        }
        other => panic!("{other:?}"),
    }
    assert!(outcome.token_is_invalid());
    assert_eq!(apns.requests(), 1, "410 is not retried");
}

#[tokio::test]
async fn bad_device_token_is_rejected_once_with_apples_reason() {
    let apns = FakeApns::start(Expect::certificate(), |_| Reply::error(400, "BadDeviceToken")).await;
    let outcome = client(&apns).push(&MdmPush::new(device_token(3), "m")).await;
    assert!(
        matches!(
            outcome,
            PushOutcome::Rejected {
                status: 400,
                reason: Reason::BadDeviceToken,
                ..
            }
        ),
        "{outcome:?}"
    );
    assert!(outcome.token_is_invalid());
    assert_eq!(apns.requests(), 1);
}

#[tokio::test]
async fn every_documented_permanent_reason_is_reported_and_not_retried() {
    // 403 ExpiredProviderToken (token refresh) and the retried 429/5xx are covered elsewhere.
    let permanent: Vec<Reason> = Reason::documented()
        .filter(|r| {
            let status = r.documented_status().unwrap();
            status < 500 && *r != Reason::TooManyRequests && *r != Reason::ExpiredProviderToken
        })
        .collect();
    assert!(permanent.len() >= 25, "{permanent:?}");
    let table = permanent.clone();
    let apns = FakeApns::start(Expect::certificate(), move |seen| {
        let reason = &table[crate::support::hex_index(seen.token_hex()) as usize];
        Reply::error(reason.documented_status().unwrap(), reason.as_str())
    })
    .await;
    let pushes = (0..permanent.len() as u32).map(|i| MdmPush::new(device_token(i), "m"));
    let outcomes = client(&apns).push_many(pushes).await;
    for (reason, outcome) in permanent.iter().zip(&outcomes) {
        assert_eq!(outcome.reason(), Some(reason), "{outcome:?}");
        match outcome {
            PushOutcome::Unregistered { .. } => assert_eq!(reason.documented_status(), Some(410)),
            PushOutcome::Rejected { status, .. } => assert_eq!(Some(*status), reason.documented_status()),
            other => panic!("{reason}: {other:?}"),
        }
        assert_eq!(
            outcome.token_is_invalid(),
            reason.kind() == ReasonKind::DeviceToken,
            "{reason}"
        );
    }
    assert_eq!(apns.requests(), permanent.len(), "one request per push: none retried");
}

#[tokio::test]
async fn undocumented_reason_and_reasonless_errors_are_kept() {
    let apns = FakeApns::start(Expect::certificate(), |seen| match seen.n {
        1 => Reply::error(400, "BrandNewReason"),
        _ => Reply {
            status: 418,
            ..Reply::ok()
        },
    })
    .await;
    let client = client(&apns);
    let first = client.push(&MdmPush::new(device_token(1), "m")).await;
    assert_eq!(first.reason(), Some(&Reason::Other("BrandNewReason".into())));
    let second = client.push(&MdmPush::new(device_token(2), "m")).await;
    assert!(
        matches!(second, PushOutcome::Rejected { status: 418, reason: Reason::Other(ref s), .. } if s.is_empty()),
        "{second:?}"
    );
    assert_eq!(apns.requests(), 2);
}

#[tokio::test]
async fn push_magic_is_json_escaped() {
    let apns = FakeApns::start(Expect::certificate(), |_| Reply::ok()).await;
    let outcome = client(&apns)
        .push(&MdmPush::new(device_token(1), "quote\" back\\slash 日本"))
        .await;
    assert!(outcome.is_delivered());
    let body: serde_json::Value = serde_json::from_slice(&apns.seen()[0].body).unwrap();
    assert_eq!(body, serde_json::json!({ "mdm": "quote\" back\\slash 日本" }));
}
