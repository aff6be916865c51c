//! Walking paginated endpoints: page order, versionId consistency.

use apple_vpp::*;
use serde_json::json;
use wiremock::ResponseTemplate;
use wiremock::matchers::query_param;

use crate::support::*;

fn assignments_page(index: u32, total: u32, version: &str) -> serde_json::Value {
    let mut body = envelope(json!({
        "assignments": [
            {"adamId": "1", "pricingParam": "STDQ", "serialNumber": format!("S{index}a")},
            {"adamId": "1", "pricingParam": "STDQ", "serialNumber": format!("S{index}b")}],
        "currentPageIndex": index, "size": 2, "totalPages": total, "versionId": version
    }));
    if index + 1 < total {
        body["nextPageIndex"] = json!(index + 1);
    }
    body
}

#[tokio::test]
async fn walks_three_pages() {
    let server = server().await;
    for i in 0..3u32 {
        get("assignments")
            .and(query_param("pageIndex", i.to_string().as_str()))
            .and(query_param("sinceVersionId", "old"))
            .respond_with(ResponseTemplate::new(200).set_body_json(assignments_page(i, 3, "v7")))
            .expect(1)
            .mount(&server)
            .await;
    }
    let client = client(&server, RetryPolicy::no_retries());
    let all = client
        .all_assignments(AssignmentsQuery {
            since_version_id: Some("old".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(all.pages, 3);
    assert_eq!(all.version_id.as_deref(), Some("v7"));
    let serials: Vec<_> = all.items.iter().filter_map(|a| a.serial_number.as_deref()).collect();
    assert_eq!(serials, ["S0a", "S0b", "S1a", "S1b", "S2a", "S2b"]);
}

#[tokio::test]
async fn version_change_mid_walk_is_a_typed_error() {
    let server = server().await;
    get("users")
        .and(query_param("pageIndex", "0"))
        .respond_with(ResponseTemplate::new(200).set_body_json(envelope(json!({
            "users": [{"clientUserId": "a", "status": "Registered"}],
            "currentPageIndex": 0, "nextPageIndex": 1, "size": 1, "totalPages": 3, "versionId": "v1"
        }))))
        .expect(1)
        .mount(&server)
        .await;
    get("users")
        .and(query_param("pageIndex", "1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(envelope(json!({
            "users": [{"clientUserId": "b", "status": "Registered"}],
            "currentPageIndex": 1, "nextPageIndex": 2, "size": 1, "totalPages": 3, "versionId": "v2"
        }))))
        .expect(1)
        .mount(&server)
        .await;
    let client = client(&server, RetryPolicy::no_retries());
    let err = client.all_users(UsersQuery::default()).await.unwrap_err();
    match &err {
        VppError::VersionChanged {
            first,
            current,
            page_index,
        } => {
            assert_eq!((first.as_str(), current.as_str(), *page_index), ("v1", "v2", 1));
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(err.is_restart_listing());
}

#[tokio::test]
async fn pager_yields_pages_and_rejects_skips() {
    let server = server().await;
    get("assets")
        .and(query_param("pageIndex", "0"))
        .respond_with(ResponseTemplate::new(200).set_body_json(envelope(json!({
            "assets": [], "currentPageIndex": 0, "nextPageIndex": 2, "size": 0, "totalPages": 3, "versionId": "v"
        }))))
        .mount(&server)
        .await;
    let client = client(&server, RetryPolicy::no_retries());
    let mut pager = client.pager(AssetsQuery::default());
    let err = pager.next_page().await.unwrap_err();
    assert!(matches!(err, VppError::PageSequence { requested: 0, .. }));
}

#[tokio::test]
async fn out_of_range_page_index_means_restart() {
    let server = server().await;
    get("assignments")
        .respond_with(ResponseTemplate::new(400).set_body_json(apple_error(9650, "pageIndex out of range")))
        .mount(&server)
        .await;
    let client = client(&server, RetryPolicy::fast(3));
    let err = client.all_assignments(AssignmentsQuery::default()).await.unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::InvalidPageIndex));
    assert!(err.is_restart_listing());
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}
