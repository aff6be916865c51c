//! Nothing this crate (or reqwest, hyper and h2 under it) logs contains a provider token.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use apple_apns::{ApnsClient, ApnsConfig, MdmPush, RetryPolicy};

use crate::support::{Expect, FakeApns, Reply, TOPIC, device_token, token_auth};

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn trace_logs_of_a_token_push_with_refresh_hold_no_token() {
    // The fake runs on its own runtime threads, outside the capturing subscriber: only the
    // client side is under test.
    let server_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let auth = token_auth().with_refresh_timing(apple_apns::TOKEN_REFRESH_AFTER, Duration::ZERO);
    let apns = server_rt.block_on(FakeApns::start(Expect::token(&auth), |seen| match seen.n {
        1 => Reply::error(403, "ExpiredProviderToken"),
        2 => Reply::error(503, "ServiceUnavailable"),
        _ => Reply::ok(),
    }));

    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let client_rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let outcome = tracing::subscriber::with_default(subscriber, || {
        client_rt.block_on(async {
            let retry = RetryPolicy {
                max_attempts: 3,
                initial_backoff: Duration::from_millis(1),
                max_backoff: Duration::from_millis(2),
            };
            let client = ApnsClient::new(ApnsConfig::new(&apns.url, auth).with_topic(TOPIC).with_retry(retry)).unwrap();
            client.push(&MdmPush::new(device_token(1), "m")).await
        })
    });
    assert!(outcome.is_delivered(), "{outcome:?}");

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("minted a new APNs provider token"), "{logs}");
    assert!(logs.contains("retrying"), "{logs}");
    let seen = apns.seen();
    assert_eq!(seen.len(), 3);
    for jwt in seen.iter().map(|s| s.jwt().unwrap()) {
        let signature = jwt.rsplit('.').next().unwrap();
        assert!(!logs.contains(signature), "a token signature was logged");
    }
    // Base64 of any JSON object starts with "eyJ": no JWT part, whole or in pieces.
    assert!(!logs.contains("eyJ"), "JWT material in the logs");
}
