//! Token (.p8 / JWT) authentication.

use std::sync::Mutex;
use std::time::Duration;

use apple_apns::{ApnsClient, ApnsConfig, ConfigError, MdmPush, PushOutcome, Reason, RetryPolicy, TokenAuth};

use crate::support::{Expect, FakeApns, Reply, TOPIC, device_token, distinct, token_auth, verify_jwt};

fn client(url: &str, auth: TokenAuth) -> ApnsClient {
    let retry = RetryPolicy {
        max_attempts: 3,
        initial_backoff: Duration::from_millis(1),
        max_backoff: Duration::from_millis(2),
    };
    ApnsClient::new(ApnsConfig::new(url, auth).with_topic(TOPIC).with_retry(retry)).unwrap()
}

/// Test-only timing: Apple's 20-minute floor would forbid any refresh within a test.
fn refreshable(auth: TokenAuth) -> TokenAuth {
    auth.with_refresh_timing(apple_apns::TOKEN_REFRESH_AFTER, Duration::ZERO)
}

#[tokio::test]
async fn bearer_token_verifies_with_the_public_key_and_is_reused() {
    let auth = token_auth();
    let public_key = auth.public_key();
    let apns = FakeApns::start(Expect::token(&auth), |_| Reply::ok()).await;
    let client = client(&apns.url, auth);
    let outcomes = client
        .push_many((0..5).map(|i| MdmPush::new(device_token(i), "m")))
        .await;
    assert!(outcomes.iter().all(PushOutcome::is_delivered), "{outcomes:?}");
    assert_eq!(apns.violations(), Vec::<String>::new(), "the fake verified every JWT");

    let seen = apns.seen();
    assert!(
        seen.iter()
            .all(|s| s.header("authorization").unwrap().starts_with("bearer "))
    );
    let jwt = seen[0].jwt().unwrap();
    verify_jwt(jwt, &public_key).unwrap();
    // One token for the whole connection: minting per push earns TooManyProviderTokenUpdates.
    assert_eq!(distinct(seen.iter().map(|s| s.jwt().unwrap())), 1);
    // A token signed by another key must not verify: the check above is not vacuous.
    assert!(verify_jwt(jwt, &token_auth().public_key()).is_err());
}

#[tokio::test]
async fn expired_provider_token_is_refreshed_once_and_retried() {
    let auth = refreshable(token_auth());
    let public_key = auth.public_key();
    let first_jwt = Mutex::new(None::<String>);
    let apns = FakeApns::start(Expect::token(&auth), move |seen| {
        let jwt = seen.jwt().unwrap().to_owned();
        let mut first = first_jwt.lock().unwrap();
        let first = first.get_or_insert_with(|| jwt.clone());
        if *first == jwt {
            Reply::error(403, "ExpiredProviderToken")
        } else {
            Reply::ok()
        }
    })
    .await;
    let outcome = client(&apns.url, auth).push(&MdmPush::new(device_token(1), "m")).await;
    assert!(outcome.is_delivered(), "{outcome:?}");
    assert_eq!(apns.requests(), 2);
    let seen = apns.seen();
    let (old, new) = (seen[0].jwt().unwrap(), seen[1].jwt().unwrap());
    assert_ne!(old, new, "the retry carries a new token");
    verify_jwt(new, &public_key).unwrap();
    assert_eq!(apns.violations(), Vec::<String>::new());
}

#[tokio::test]
async fn a_token_still_refused_after_refresh_is_not_refreshed_again() {
    let auth = refreshable(token_auth());
    let apns = FakeApns::start(Expect::token(&auth), |_| Reply::error(403, "ExpiredProviderToken")).await;
    let outcome = client(&apns.url, auth).push(&MdmPush::new(device_token(1), "m")).await;
    assert!(
        matches!(
            outcome,
            PushOutcome::Rejected {
                status: 403,
                reason: Reason::ExpiredProviderToken,
                ..
            }
        ),
        "{outcome:?}"
    );
    assert_eq!(apns.requests(), 2, "one refresh, one retry, no more");
}

#[tokio::test]
async fn apples_twenty_minute_floor_blocks_an_early_refresh() {
    let auth = token_auth();
    let apns = FakeApns::start(Expect::token(&auth), |_| Reply::error(403, "ExpiredProviderToken")).await;
    let outcome = client(&apns.url, auth).push(&MdmPush::new(device_token(1), "m")).await;
    assert_eq!(outcome.reason(), Some(&Reason::ExpiredProviderToken));
    assert_eq!(apns.requests(), 1, "a token younger than 20 minutes is not replaced");
}

#[tokio::test]
async fn concurrent_rejections_of_one_token_mint_only_one_new_token() {
    let auth = refreshable(token_auth());
    let first_jwt = Mutex::new(None::<String>);
    let apns = FakeApns::start(Expect::token(&auth), move |seen| {
        let jwt = seen.jwt().unwrap().to_owned();
        let mut first = first_jwt.lock().unwrap();
        if *first.get_or_insert_with(|| jwt.clone()) == jwt {
            // Slow enough that every push is in flight with the first token.
            Reply::error(403, "ExpiredProviderToken").after(Duration::from_millis(50))
        } else {
            Reply::ok()
        }
    })
    .await;
    let outcomes = client(&apns.url, auth)
        .push_many((0..50).map(|i| MdmPush::new(device_token(i), "m")))
        .await;
    assert!(outcomes.iter().all(PushOutcome::is_delivered), "{outcomes:?}");
    let seen = apns.seen();
    assert_eq!(
        distinct(seen.iter().map(|s| s.jwt().unwrap())),
        2,
        "old token and one new one"
    );
}

#[tokio::test]
async fn token_auth_needs_a_topic_and_valid_identifiers() {
    let err = ApnsClient::new(ApnsConfig::new("http://127.0.0.1:9", token_auth())).unwrap_err();
    assert!(matches!(err, ConfigError::MissingTopic), "{err}");
    let err = TokenAuth::from_p8(
        b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
        "K",
        "T",
    )
    .unwrap_err();
    assert!(matches!(err, ConfigError::BadSigningKey(_)), "{err}");
}
