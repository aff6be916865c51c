//! Large writes split by Apple's per-call limits.

use apple_vpp::*;
use serde_json::json;
use wiremock::ResponseTemplate;

use crate::support::*;

#[tokio::test]
async fn associates_2500_serials_in_three_calls() {
    let server = server().await;
    post("assets/associate")
        .respond_with(ResponseTemplate::new(200).set_body_json(event("ev")))
        .expect(3)
        .mount(&server)
        .await;
    let client = client(&server, RetryPolicy::no_retries());
    let serials: Vec<String> = (0..2500).map(|i| format!("SER{i:05}")).collect();
    let req = ManageAssetsRequest::for_serials(vec![AssetRef::new("408709785", PricingParam::Stdq)], serials.clone());
    let events = client.associate_assets_batched(&req).await.unwrap();
    assert_eq!(events.len(), 3);

    let bodies: Vec<ManageAssetsRequest> = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .collect();
    assert_eq!(
        bodies.iter().map(|b| b.serial_numbers.len()).collect::<Vec<_>>(),
        [1000, 1000, 500]
    );
    assert!(
        bodies
            .iter()
            .all(|b| b.assets.len() == 1 && b.client_user_ids.is_empty())
    );
    let sent: Vec<String> = bodies.into_iter().flat_map(|b| b.serial_numbers).collect();
    assert_eq!(sent, serials);
}

#[tokio::test]
async fn failure_after_first_batch_reports_what_was_applied() {
    let server = server().await;
    post("users/create")
        .respond_with(ResponseTemplate::new(200).set_body_json(event("ev-1")))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    post("users/create")
        .respond_with(
            ResponseTemplate::new(403).set_body_json(json!({"errorNumber": 9637, "errorMessage": "facilitator"})),
        )
        .mount(&server)
        .await;
    let client = client(&server, RetryPolicy::no_retries());
    let req = ManageUsersRequest {
        users: (0..250).map(|i| RequestUser::new(format!("u{i}"))).collect(),
    };
    let err = client.create_users_batched(&req).await.unwrap_err();
    match &err {
        VppError::PartialBatch {
            completed,
            failed_batch,
            total_batches,
            ..
        } => {
            assert_eq!(completed[0].event_id, "ev-1");
            assert_eq!((*failed_batch, *total_batches), (1, 3));
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(err.code(), Some(ErrorCode::FacilitatorNotAllowed));
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
}

#[tokio::test]
async fn batch_sizes_follow_service_config() {
    let server = server().await;
    wiremock::Mock::given(wiremock::matchers::method("GET"))
        .and(wiremock::matchers::path("/mdm/v2/service/config"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"limits": {"maxRevokeSerialNumbers": 40}})))
        .mount(&server)
        .await;
    post("assets/revoke")
        .respond_with(ResponseTemplate::new(200).set_body_json(event("ev")))
        .expect(3)
        .mount(&server)
        .await;
    let client = client(&server, RetryPolicy::no_retries());
    client.refresh_service_config().await.unwrap();
    let req = RevokeAssetsRequest {
        serial_numbers: (0..100).map(|i| i.to_string()).collect(),
        ..Default::default()
    };
    assert_eq!(client.revoke_assets_batched(&req).await.unwrap().len(), 3);
}
