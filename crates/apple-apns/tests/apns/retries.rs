//! 429 and 5xx are retried with back-off, a bounded number of times; nothing else is.

use std::time::{Duration, Instant};

use apple_apns::{ApnsClient, ApnsConfig, FailureCause, MdmPush, PushOutcome, Reason, RetryPolicy};

use crate::support::{Expect, FakeApns, Reply, certificate_auth, device_token};

fn policy(max_attempts: u32, initial_ms: u64) -> RetryPolicy {
    RetryPolicy {
        max_attempts,
        initial_backoff: Duration::from_millis(initial_ms),
        max_backoff: Duration::from_millis(initial_ms * 8),
    }
}

fn client(url: &str, retry: RetryPolicy) -> ApnsClient {
    ApnsClient::new(ApnsConfig::new(url, certificate_auth()).with_retry(retry)).unwrap()
}

#[tokio::test]
async fn too_many_requests_then_success_is_retried_once() {
    let apns = FakeApns::start(Expect::certificate(), |seen| match seen.n {
        1 => Reply::error(429, "TooManyRequests"),
        _ => Reply::ok(),
    })
    .await;
    let outcome = client(&apns.url, policy(4, 1))
        .push(&MdmPush::new(device_token(1), "m"))
        .await;
    assert!(outcome.is_delivered(), "{outcome:?}");
    assert_eq!(apns.requests(), 2);
    let seen = apns.seen();
    assert_eq!(seen[0].path, seen[1].path, "the retry is the same push");
    assert_eq!(seen[0].body, seen[1].body);
    assert_eq!(apns.violations(), Vec::<String>::new());
}

#[tokio::test]
async fn internal_server_error_every_time_fails_after_max_attempts() {
    let apns = FakeApns::start(Expect::certificate(), |_| Reply::error(500, "InternalServerError")).await;
    let outcome = client(&apns.url, policy(3, 1))
        .push(&MdmPush::new(device_token(1), "m"))
        .await;
    assert_eq!(
        outcome,
        PushOutcome::Failed {
            attempts: 3,
            cause: FailureCause::Status {
                status: 500,
                reason: Some(Reason::InternalServerError)
            }
        }
    );
    assert_eq!(apns.requests(), 3);
}

#[tokio::test]
async fn service_unavailable_twice_then_success() {
    let apns = FakeApns::start(Expect::certificate(), |seen| match seen.n {
        1 | 2 => Reply::error(503, "ServiceUnavailable"),
        _ => Reply::ok(),
    })
    .await;
    let outcome = client(&apns.url, policy(3, 1))
        .push(&MdmPush::new(device_token(1), "m"))
        .await;
    assert!(outcome.is_delivered(), "{outcome:?}");
    assert_eq!(apns.requests(), 3);
}

#[tokio::test]
async fn a_single_attempt_policy_does_not_retry() {
    let apns = FakeApns::start(Expect::certificate(), |_| Reply::error(503, "Shutdown")).await;
    let outcome = client(&apns.url, RetryPolicy::none())
        .push(&MdmPush::new(device_token(1), "m"))
        .await;
    assert!(
        matches!(outcome, PushOutcome::Failed { attempts: 1, .. }),
        "{outcome:?}"
    );
    assert_eq!(apns.requests(), 1);
}

#[tokio::test]
async fn too_many_provider_token_updates_is_not_retried() {
    let apns = FakeApns::start(Expect::certificate(), |_| {
        Reply::error(429, "TooManyProviderTokenUpdates")
    })
    .await;
    let outcome = client(&apns.url, policy(4, 1))
        .push(&MdmPush::new(device_token(1), "m"))
        .await;
    assert!(
        matches!(
            outcome,
            PushOutcome::Rejected {
                status: 429,
                reason: Reason::TooManyProviderTokenUpdates,
                ..
            }
        ),
        "{outcome:?}"
    );
    assert_eq!(apns.requests(), 1);
}

#[tokio::test]
async fn back_off_waits_between_attempts() {
    let apns = FakeApns::start(Expect::certificate(), |_| Reply::error(503, "ServiceUnavailable")).await;
    let started = Instant::now();
    // Waits of at least 40/2 + 80/2 ms with jitter.
    let outcome = client(&apns.url, policy(3, 40))
        .push(&MdmPush::new(device_token(1), "m"))
        .await;
    let elapsed = started.elapsed();
    assert!(
        matches!(outcome, PushOutcome::Failed { attempts: 3, .. }),
        "{outcome:?}"
    );
    assert!(elapsed >= Duration::from_millis(60), "{elapsed:?}");
}

#[tokio::test]
async fn slow_answers_time_out_and_are_retried() {
    let apns = FakeApns::start(Expect::certificate(), |seen| match seen.n {
        1 => Reply::ok().after(Duration::from_secs(5)),
        _ => Reply::ok(),
    })
    .await;
    let config = ApnsConfig::new(&apns.url, certificate_auth())
        .with_retry(policy(2, 1))
        .with_request_timeout(Duration::from_millis(300));
    let outcome = ApnsClient::new(config)
        .unwrap()
        .push(&MdmPush::new(device_token(1), "m"))
        .await;
    assert!(outcome.is_delivered(), "{outcome:?}");
    assert_eq!(apns.requests(), 2);

    let always_slow = FakeApns::start(Expect::certificate(), |_| Reply::ok().after(Duration::from_secs(5))).await;
    let config = ApnsConfig::new(&always_slow.url, certificate_auth())
        .with_retry(policy(2, 1))
        .with_request_timeout(Duration::from_millis(200));
    let outcome = ApnsClient::new(config)
        .unwrap()
        .push(&MdmPush::new(device_token(1), "m"))
        .await;
    assert_eq!(
        outcome,
        PushOutcome::Failed {
            attempts: 2,
            cause: FailureCause::Timeout
        }
    );
}

#[tokio::test]
async fn refused_connection_is_a_transport_failure_after_retries() {
    // Bind then drop a listener to get a port nobody listens on.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let outcome = client(&format!("http://127.0.0.1:{port}"), policy(2, 1))
        .push(&MdmPush::new(device_token(1), "m"))
        .await;
    match outcome {
        PushOutcome::Failed {
            attempts: 2,
            cause: FailureCause::Transport(msg),
        } => assert!(!msg.is_empty()),
        other => panic!("{other:?}"),
    }
}
