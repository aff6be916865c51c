//! Many pushes multiplexed on one HTTP/2 connection, within the configured limit.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use apple_apns::{ApnsClient, ApnsConfig, MdmPush, PushOutcome, RetryPolicy};

use crate::support::{Expect, FakeApns, Reply, certificate_auth, device_token, hex_index};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_pushes_share_one_connection_and_keep_their_order() {
    let apns = FakeApns::start(Expect::certificate(), |seen| {
        let i = hex_index(seen.token_hex());
        // Every tenth device is gone and some answers are slow, so completion order differs
        // from input order.
        let reply = if i % 10 == 3 {
            Reply::unregistered(1_700_000_000_000 + u64::from(i))
        } else {
            Reply::ok().with_apns_id(format!("00000000-0000-4000-8000-{i:012}"))
        };
        reply.after(Duration::from_millis(u64::from(i % 7) * 3))
    })
    .await;
    let config = ApnsConfig::new(&apns.url, certificate_auth()).with_max_concurrent_pushes(1000);
    let client = ApnsClient::new(config).unwrap();

    let outcomes = client
        .push_many((0..1000).map(|i| MdmPush::new(device_token(i), format!("magic-{i}"))))
        .await;

    assert_eq!(outcomes.len(), 1000);
    for (i, outcome) in outcomes.iter().enumerate() {
        if i % 10 == 3 {
            assert!(matches!(outcome, PushOutcome::Unregistered { .. }), "{i}: {outcome:?}");
        } else {
            let expected = format!("00000000-0000-4000-8000-{i:012}");
            assert_eq!(
                outcome,
                &PushOutcome::Delivered {
                    apns_id: Some(expected)
                },
                "{i}"
            );
        }
    }
    assert_eq!(apns.requests(), 1000);
    assert_eq!(apns.connections(), 1, "all pushes on one HTTP/2 connection");
    assert!(
        apns.max_in_flight() >= 50,
        "pushes overlapped: {}",
        apns.max_in_flight()
    );
    assert_eq!(apns.violations(), Vec::<String>::new());

    // A later batch reuses the same connection.
    let again = client
        .push_many((0..20).map(|i| MdmPush::new(device_token(i), "m")))
        .await;
    assert_eq!(again.len(), 20);
    assert_eq!(apns.connections(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_flight_pushes_stay_within_the_limit() {
    let apns = FakeApns::start(Expect::certificate(), |_| Reply::ok().after(Duration::from_millis(20))).await;
    let config = ApnsConfig::new(&apns.url, certificate_auth()).with_max_concurrent_pushes(8);
    let client = ApnsClient::new(config).unwrap();
    let outcomes = client
        .push_many((0..64).map(|i| MdmPush::new(device_token(i), "m")))
        .await;
    assert!(outcomes.iter().all(PushOutcome::is_delivered));
    let max = apns.max_in_flight();
    assert!((2..=8).contains(&max), "max in flight {max}");
}

#[tokio::test]
async fn retries_inside_a_batch_only_repeat_the_failed_pushes() {
    let failed_once = AtomicBool::new(false);
    let apns = FakeApns::start(Expect::certificate(), move |seen| {
        if hex_index(seen.token_hex()) == 5 && !failed_once.swap(true, Ordering::SeqCst) {
            Reply::error(503, "ServiceUnavailable")
        } else {
            Reply::ok()
        }
    })
    .await;
    let retry = RetryPolicy {
        max_attempts: 5,
        initial_backoff: Duration::from_millis(1),
        max_backoff: Duration::from_millis(2),
    };
    let config = ApnsConfig::new(&apns.url, certificate_auth())
        .with_retry(retry)
        .with_max_concurrent_pushes(1);
    let client = ApnsClient::new(config).unwrap();
    let outcomes = client
        .push_many((0..10).map(|i| MdmPush::new(device_token(i), "m")))
        .await;
    assert!(outcomes.iter().all(PushOutcome::is_delivered), "{outcomes:?}");
    let per_token: Vec<usize> = (0..10)
        .map(|i| apns.seen().iter().filter(|s| hex_index(s.token_hex()) == i).count())
        .collect();
    assert_eq!(per_token, vec![1, 1, 1, 1, 1, 2, 1, 1, 1, 1]);
}

#[tokio::test]
async fn an_empty_batch_sends_nothing() {
    let apns = FakeApns::start(Expect::certificate(), |_| Reply::ok()).await;
    let client = ApnsClient::new(ApnsConfig::new(&apns.url, certificate_auth())).unwrap();
    assert!(client.push_many(Vec::new()).await.is_empty());
    assert_eq!(apns.requests(), 0);
    assert_eq!(apns.connections(), 0, "no connection before the first push");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_connection_carries_one_push_until_it_has_answered() {
    // Until the first answer the client neither knows the server's stream limit (APNs allows
    // a single stream on a new token connection) nor has a pooled connection to share, and
    // a burst then may open a second connection.
    let first_answer = Mutex::new(None::<Instant>);
    let early = Arc::new(AtomicUsize::new(0));
    let early_count = Arc::clone(&early);
    let apns = FakeApns::start(Expect::certificate(), move |_| {
        let mut first = first_answer.lock().unwrap();
        match *first {
            None => {
                let slow = Duration::from_millis(150);
                *first = Some(Instant::now() + slow);
                return Reply::ok().after(slow);
            }
            Some(at) if Instant::now() < at => {
                early_count.fetch_add(1, Ordering::SeqCst);
            }
            Some(_) => {}
        }
        Reply::ok()
    })
    .await;
    let client = ApnsClient::new(ApnsConfig::new(&apns.url, certificate_auth())).unwrap();
    let outcomes = client
        .push_many((0..50).map(|i| MdmPush::new(device_token(i), "m")))
        .await;
    assert!(outcomes.iter().all(PushOutcome::is_delivered));
    assert_eq!(apns.requests(), 50);
    assert_eq!(
        early.load(Ordering::SeqCst),
        0,
        "pushes arrived before the first was answered"
    );
    assert_eq!(apns.connections(), 1);
}
