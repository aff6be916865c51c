//! Request shape (method, path, headers, body, query) and response parsing per endpoint.

use apple_vpp::*;
use serde_json::json;
use wiremock::matchers::{body_json, header, method, path, query_param, query_param_is_missing};
use wiremock::{Mock, ResponseTemplate};

use crate::support::*;

fn service_config_body(lookup: &str) -> serde_json::Value {
    json!({
        "errorCodes": [{"errorNumber": 9601, "errorMessage": "Login required."}],
        "limits": {"maxAssets": 10, "maxClientUserIds": 500, "maxSerialNumbers": 400,
                   "maxRevokeClientUserIds": 50, "maxRevokeSerialNumbers": 50, "maxUsers": 20,
                   "maxRequestPerSecond": 7},
        "notificationTypes": ["ASSET_MANAGEMENT"],
        "urls": {"contentMetadataLookup": lookup}
    })
}

#[tokio::test]
async fn service_config_needs_no_auth_and_sets_limits() {
    let server = server().await;
    Mock::given(method("GET"))
        .and(path("/mdm/v2/service/config"))
        .respond_with(ResponseTemplate::new(200).set_body_json(service_config_body("https://x/lookup")))
        .expect(1)
        .mount(&server)
        .await;
    let client = client(&server, RetryPolicy::no_retries());
    assert_eq!(client.limits(), BatchLimits::default());
    let cfg = client.refresh_service_config().await.unwrap();
    assert_eq!(cfg.error_codes[0].code(), ErrorCode::LoginRequired);
    let limits = client.limits();
    assert_eq!(
        (limits.max_assets, limits.max_serial_numbers, limits.max_users),
        (10, 400, 20)
    );
    assert!(client.config().rate_limiter.interval() > std::time::Duration::from_millis(140));
    let reqs = server.received_requests().await.unwrap();
    assert!(reqs[0].headers.get("authorization").is_none());
}

#[tokio::test]
async fn client_config_get_and_post() {
    let server = server().await;
    let response = envelope(json!({
        "countryISO2ACode": "JP", "defaultPlatform": "enterprisestore", "locationName": "Tokyo",
        "mdmInfo": {"id": "mdm-1", "name": "haishin", "metadata": "mdm.example.jp"},
        "notificationAuthToken": "n-secret", "notificationUrl": "https://mdm.example.jp/vpp/notify",
        "subscribedNotificationTypes": ["ASSET_MANAGEMENT", "USER_ASSOCIATED"],
        "websiteURL": "https://business.apple.com"
    }));
    get("client/config")
        .respond_with(ResponseTemplate::new(200).set_body_json(&response))
        .expect(1)
        .mount(&server)
        .await;
    post("client/config")
        .and(body_json(json!({
            "mdmInfo": {"id": "mdm-1", "name": "haishin", "metadata": "mdm.example.jp"},
            "notificationUrl": "https://mdm.example.jp/vpp/notify",
            "notificationAuthToken": "n-secret",
            "notificationTypes": ["ASSET_MANAGEMENT", "USER_ASSOCIATED"]
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(&response))
        .expect(1)
        .mount(&server)
        .await;
    let client = client(&server, RetryPolicy::no_retries());

    let got = client.client_config().await.unwrap();
    assert_eq!(got.location_name.as_deref(), Some("Tokyo"));
    assert_eq!(got.default_platform.as_deref(), Some("enterprisestore"));
    assert!(got.envelope.mdm_conflict("mdm-1").is_none());
    assert!(got.envelope.mdm_conflict("mdm-2").is_some());

    let set = client
        .set_client_config(&ClientConfigRequest {
            mdm_info: Some(MdmInfo {
                id: "mdm-1".into(),
                name: "haishin".into(),
                metadata: "mdm.example.jp".into(),
            }),
            notification_url: Some("https://mdm.example.jp/vpp/notify".into()),
            notification_auth_token: Some("n-secret".into()),
            notification_types: Some(vec![
                NotificationType::AssetManagement,
                NotificationType::UserAssociated,
            ]),
        })
        .await
        .unwrap();
    assert_eq!(set.subscribed_notification_types.len(), 2);
}

#[tokio::test]
async fn get_assets_with_filters() {
    let server = server().await;
    get("assets")
        .and(query_param("productType", "App"))
        .and(query_param("deviceAssignable", "true"))
        .and(query_param("minAvailableCount", "1"))
        .and(query_param("unlimited", "true"))
        .and(query_param_is_missing("pageIndex"))
        .respond_with(ResponseTemplate::new(200).set_body_json(envelope(json!({
            "assets": [{"adamId": "408709785", "pricingParam": "STDQ", "productType": "App",
                "assignedCount": 5, "availableCount": 10, "retiredCount": 0, "totalCount": 15,
                "deviceAssignable": true, "revocable": true, "supportedPlatforms": ["iOS", "macOS"]}],
            "unlimitedAssets": [{"adamId": "1", "pricingParam": "STDQ", "productType": "App",
                "assignedCount": 3, "deviceAssignable": true, "revocable": true, "supportedPlatforms": ["iOS"]}],
            "currentPageIndex": 0, "size": 1, "totalPages": 1, "versionId": "v1"
        }))))
        .expect(1)
        .mount(&server)
        .await;
    let client = client(&server, RetryPolicy::no_retries());
    let page = client
        .assets(&AssetsQuery {
            product_type: Some(ProductType::App),
            device_assignable: Some(true),
            min_available_count: Some(1),
            unlimited: Some(true),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        page.assets[0].asset_ref(),
        AssetRef::new("408709785", PricingParam::Stdq)
    );
    assert_eq!(page.assets[0].supported_platforms, vec![Platform::Ios, Platform::MacOs]);
    assert_eq!(page.unlimited_assets[0].assigned_count, 3);
    assert_eq!(page.page.version_id.as_deref(), Some("v1"));
}

#[tokio::test]
async fn get_assignments_and_users() {
    let server = server().await;
    get("assignments")
        .and(query_param("adamId", "408709785"))
        .and(query_param("sinceVersionId", "v0"))
        .and(query_param("includeUserState", "true"))
        .respond_with(ResponseTemplate::new(200).set_body_json(envelope(json!({
            "assignments": [
                {"adamId": "408709785", "pricingParam": "STDQ", "clientUserId": "client-1"},
                {"adamId": "408709785", "pricingParam": "STDQ", "serialNumber": "serial-1"}],
            "currentPageIndex": 0, "size": 2, "totalPages": 1, "versionId": "v1"
        }))))
        .expect(1)
        .mount(&server)
        .await;
    get("users")
        .and(query_param("activeOnly", "true"))
        .and(query_param("clientUserId", "client-101"))
        .respond_with(ResponseTemplate::new(200).set_body_json(envelope(json!({
            "users": [{"clientUserId": "client-101", "email": "client-101@example.com",
                       "inviteCode": "46bc93ea", "status": "Registered"}],
            "currentPageIndex": 0, "size": 1, "totalPages": 1, "versionId": "u1"
        }))))
        .expect(1)
        .mount(&server)
        .await;
    let client = client(&server, RetryPolicy::no_retries());
    let a = client
        .assignments(&AssignmentsQuery {
            adam_id: Some("408709785".into()),
            since_version_id: Some("v0".into()),
            include_user_state: Some(true),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(a.assignments[1].serial_number.as_deref(), Some("serial-1"));
    let u = client
        .users(&UsersQuery {
            active_only: Some(true),
            client_user_id: Some("client-101".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(u.users[0].status, Some(UserStatus::Registered));
    assert_eq!(u.users[0].invite_code.as_deref(), Some("46bc93ea"));
}

#[tokio::test]
async fn asset_writes_send_documented_bodies() {
    let server = server().await;
    let assets =
        json!([{"adamId": "408709785", "pricingParam": "STDQ"}, {"adamId": "377298193", "pricingParam": "PLUS"}]);
    post("assets/associate")
        .and(body_json(
            json!({"assets": assets, "clientUserIds": ["client-1"], "serialNumbers": ["serial-1"]}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(event("ev-assoc")))
        .expect(1)
        .mount(&server)
        .await;
    post("assets/disassociate")
        .and(body_json(json!({"assets": assets, "serialNumbers": ["serial-1"]})))
        .respond_with(ResponseTemplate::new(200).set_body_json(event("ev-dis")))
        .expect(1)
        .mount(&server)
        .await;
    post("assets/revoke")
        .and(body_json(
            json!({"clientUserIds": ["client-1"], "serialNumbers": ["serial-1"]}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(event("ev-rev")))
        .expect(1)
        .mount(&server)
        .await;
    let client = client(&server, RetryPolicy::no_retries());
    let refs = vec![
        AssetRef::new("408709785", PricingParam::Stdq),
        AssetRef::new("377298193", PricingParam::Plus),
    ];
    let ev = client
        .associate_assets(&ManageAssetsRequest {
            assets: refs.clone(),
            client_user_ids: vec!["client-1".into()],
            serial_numbers: vec!["serial-1".into()],
        })
        .await
        .unwrap();
    assert_eq!(ev.event_id, "ev-assoc");
    assert_eq!(ev.envelope.u_id.as_deref(), Some("2049025000431439"));
    let ev = client
        .disassociate_assets(&ManageAssetsRequest::for_serials(refs, vec!["serial-1".into()]))
        .await
        .unwrap();
    assert_eq!(ev.event_id, "ev-dis");
    let ev = client
        .revoke_assets(&RevokeAssetsRequest {
            client_user_ids: vec!["client-1".into()],
            serial_numbers: vec!["serial-1".into()],
        })
        .await
        .unwrap();
    assert_eq!(ev.event_id, "ev-rev");
}

#[tokio::test]
async fn user_writes_send_documented_bodies() {
    let server = server().await;
    post("users/create")
        .and(body_json(json!({"users": [
            {"clientUserId": "u1", "email": "u1@example.com"},
            {"clientUserId": "u2", "managedAppleId": "u2@appleid.example.com"}]})))
        .respond_with(ResponseTemplate::new(200).set_body_json(event("ev-create")))
        .expect(1)
        .mount(&server)
        .await;
    post("users/update")
        .and(body_json(
            json!({"users": [{"clientUserId": "u1", "email": "new@example.com"}]}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(event("ev-update")))
        .expect(1)
        .mount(&server)
        .await;
    post("users/retire")
        .and(body_json(json!({"users": [{"clientUserId": "u1"}]})))
        .respond_with(ResponseTemplate::new(200).set_body_json(event("ev-retire")))
        .expect(1)
        .mount(&server)
        .await;
    let client = client(&server, RetryPolicy::no_retries());
    let create = ManageUsersRequest {
        users: vec![
            RequestUser {
                email: Some("u1@example.com".into()),
                ..RequestUser::new("u1")
            },
            RequestUser {
                managed_apple_id: Some("u2@appleid.example.com".into()),
                ..RequestUser::new("u2")
            },
        ],
    };
    assert_eq!(client.create_users(&create).await.unwrap().event_id, "ev-create");
    let update = ManageUsersRequest {
        users: vec![RequestUser {
            email: Some("new@example.com".into()),
            ..RequestUser::new("u1")
        }],
    };
    assert_eq!(client.update_users(&update).await.unwrap().event_id, "ev-update");
    let retire = ManageUsersRequest {
        users: vec![RequestUser::new("u1")],
    };
    assert_eq!(client.retire_users(&retire).await.unwrap().event_id, "ev-retire");
}

#[tokio::test]
async fn event_status_by_id() {
    let server = server().await;
    get("status")
        .and(query_param("eventId", "954910a8"))
        .respond_with(ResponseTemplate::new(200).set_body_json(envelope(json!({
            "eventStatus": "FAILED", "eventType": "ASSOCIATE",
            "failures": [{"errorNumber": 9609, "errorMessage": "Registered user not found",
                          "errorInfo": {"clientUserIds": ["client-4"]}}],
            "numCompleted": 14, "numRequested": 16
        }))))
        .expect(1)
        .mount(&server)
        .await;
    let client = client(&server, RetryPolicy::no_retries());
    let st = client.event_status("954910a8").await.unwrap();
    assert_eq!(st.event_status, EventStatus::Failed);
    assert_eq!(st.event_type, Some(EventType::Associate));
    assert_eq!((st.num_completed, st.num_requested), (14, 16));
    let failure = &st.failures[0];
    assert_eq!(failure.code(), ErrorCode::RegisteredUserNotFound);
    assert!(failure.code().explain(Lang::Ja).contains("clientUserId"));
}

#[tokio::test]
async fn metadata_lookup_uses_service_config_url_and_cookie() {
    let server = server().await;
    Mock::given(method("GET"))
        .and(path("/mdm/v2/service/config"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(service_config_body(&format!("{}/wa/lookup", server.uri()))),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/wa/lookup"))
        .and(query_param("version", "2"))
        .and(query_param("id", "361309726,2"))
        .and(query_param("p", "mdm-lockup"))
        .and(query_param("caller", "MDM"))
        .and(query_param("platform", "enterprisestore"))
        .and(query_param("cc", "jp"))
        .and(query_param("l", "ja"))
        .and(header("cookie", format!("itvt={TOKEN}").as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "results": {"361309726": {"id": 361309726, "name": "Pages", "bundleId": "com.apple.Pages",
                "kind": "iosSoftware", "deviceFamilies": ["iphone", "ipad", "mac"],
                "offers": [{"version": {"display": "14.1"}, "assets": [{"flavor": "iosSoftware", "size": 1000}]}]}},
            "version": 2, "isAuthenticated": false
        })))
        .expect(2)
        .mount(&server)
        .await;
    let client = client(&server, RetryPolicy::no_retries());
    let q = MetadataQuery::new(["361309726", "2"], "enterprisestore")
        .country("JP")
        .language("ja");
    let r = client.content_metadata(&q, true).await.unwrap();
    let app = &r.results["361309726"];
    assert_eq!(app.name.as_deref(), Some("Pages"));
    assert_eq!(app.version(), Some("14.1"));
    assert!(app.runs_on_mac());
    // Second call reuses the cached service config.
    client.content_metadata(&q, true).await.unwrap();
    let reqs = server.received_requests().await.unwrap();
    assert!(reqs.iter().all(|r| r.headers.get("authorization").is_none()));
}

/// The server runs these calls on spawned tasks, so their futures must be `Send`.
#[test]
fn client_futures_are_send() {
    fn assert_send<T: Send>(_: &T) {}
    let client = VppClient::new(VppConfig::new(SToken::new(TOKEN), reqwest::Client::new()));
    let req = ManageAssetsRequest::default();
    assert_send(&client.associate_assets_batched(&req));
    assert_send(&client.all_assignments(AssignmentsQuery::default()));
    assert_send(&client.content_metadata(&MetadataQuery::new(["1"], "volumestore"), true));
    assert_send(&client.refresh_service_config());
}
