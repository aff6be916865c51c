//! Back-off on 9646/429, Retry-After on 5xx, exhaustion, error bodies on HTTP 200, and
//! no blind retry of writes.

use std::time::{Duration, Instant};

use apple_vpp::*;
use serde_json::json;
use wiremock::ResponseTemplate;

use crate::support::*;

async fn request_count(server: &wiremock::MockServer) -> usize {
    server.received_requests().await.unwrap().len()
}

fn assoc_request() -> ManageAssetsRequest {
    ManageAssetsRequest::for_serials(vec![AssetRef::new("1", PricingParam::Stdq)], vec!["S".into()])
}

#[tokio::test]
async fn too_many_requests_9646_then_success() {
    let server = server().await;
    post("assets/associate")
        .respond_with(ResponseTemplate::new(429).set_body_json(apple_error(9646, "Too many requests")))
        .up_to_n_times(2)
        .mount(&server)
        .await;
    post("assets/associate")
        .respond_with(ResponseTemplate::new(200).set_body_json(event("ev")))
        .mount(&server)
        .await;
    let client = client(&server, RetryPolicy::fast(4));
    // A throttled write was refused, not applied, so even a write is retried.
    let ev = client.associate_assets(&assoc_request()).await.unwrap();
    assert_eq!(ev.event_id, "ev");
    assert_eq!(request_count(&server).await, 3);
}

#[tokio::test]
async fn service_unavailable_honours_retry_after() {
    let server = server().await;
    get("client/config")
        .respond_with(
            ResponseTemplate::new(503)
                .insert_header("Retry-After", "1")
                .set_body_json(apple_error(9729, "Service unavailable")),
        )
        .up_to_n_times(1)
        .mount(&server)
        .await;
    get("client/config")
        .respond_with(ResponseTemplate::new(200).set_body_json(envelope(json!({"locationName": "L"}))))
        .mount(&server)
        .await;
    let client = client(&server, RetryPolicy::fast(3));
    let start = Instant::now();
    let cfg = client.client_config().await.unwrap();
    assert_eq!(cfg.location_name.as_deref(), Some("L"));
    assert_eq!(request_count(&server).await, 2);
    // The back-off alone would be 1 ms; the header asked for a second.
    assert!(start.elapsed() >= Duration::from_secs(1), "{:?}", start.elapsed());
}

#[tokio::test]
async fn retry_after_beyond_the_cap_is_returned_not_slept() {
    let server = server().await;
    get("client/config")
        .respond_with(ResponseTemplate::new(503).insert_header("Retry-After", "120"))
        .mount(&server)
        .await;
    let client = client(&server, RetryPolicy::fast(3));
    let err = client.client_config().await.unwrap_err();
    assert!(matches!(err, VppError::Http { status: 503, .. }));
    assert_eq!(err.retry_after(), Some(Duration::from_secs(120)));
    assert_eq!(request_count(&server).await, 1);
}

#[tokio::test]
async fn server_errors_exhaust_into_a_typed_error() {
    let server = server().await;
    get("assets")
        .respond_with(ResponseTemplate::new(500).set_body_json(apple_error(9603, "Internal error")))
        .mount(&server)
        .await;
    let client = client(&server, RetryPolicy::fast(3));
    let err = client.assets(&AssetsQuery::default()).await.unwrap_err();
    match &err {
        VppError::RetriesExhausted { attempts, last } => {
            assert_eq!(*attempts, 3);
            assert_eq!(last.http_status(), Some(500));
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(err.code(), Some(ErrorCode::InternalError));
    assert_eq!(request_count(&server).await, 3);
    assert!(!err.explain(Lang::Ja).is_empty());
}

#[tokio::test]
async fn http_200_with_error_number_is_a_typed_error() {
    let server = server().await;
    get("client/config")
        .respond_with(ResponseTemplate::new(200).set_body_json(apple_error(9625, "The server has revoked the sToken.")))
        .mount(&server)
        .await;
    let client = client(&server, RetryPolicy::fast(3));
    let err = client.client_config().await.unwrap_err();
    let api = err.api_error().expect("typed Apple error");
    assert_eq!(api.code, ErrorCode::TokenRevoked);
    assert_eq!(api.http_status, 200);
    assert!(api.code.is_token_problem());
    assert!(err.explain(Lang::En).contains("revoked"));
    assert_eq!(request_count(&server).await, 1);
}

#[tokio::test]
async fn ambiguous_write_failure_is_not_retried() {
    let server = server().await;
    // A gateway timeout without Apple's body: the write may have been applied.
    post("users/create")
        .respond_with(ResponseTemplate::new(504))
        .mount(&server)
        .await;
    let client = client(&server, RetryPolicy::fast(4));
    let req = ManageUsersRequest {
        users: vec![RequestUser::new("u1")],
    };
    let err = client.create_users(&req).await.unwrap_err();
    assert!(matches!(err, VppError::Http { status: 504, .. }));
    assert_eq!(request_count(&server).await, 1);
}

#[tokio::test]
async fn validation_errors_are_not_retried() {
    let server = server().await;
    post("assets/associate")
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({
            "errorNumber": 9707, "errorMessage": "not device assignable",
            "errorInfo": {"assets": [{"adamId": "1", "pricingParam": "STDQ"}]}
        })))
        .mount(&server)
        .await;
    let client = client(&server, RetryPolicy::fast(4));
    let err = client.associate_assets(&assoc_request()).await.unwrap_err();
    let api = err.api_error().unwrap();
    assert_eq!(api.code, ErrorCode::AssetNotDeviceAssignable);
    assert_eq!(api.response.error_info.as_ref().unwrap().assets[0].adam_id, "1");
    assert_eq!(request_count(&server).await, 1);
}
