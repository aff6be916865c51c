//! Content tokens over real HTTP against the simulated Apps and Books
//! service (SPEC T1-T3, T5, T6, T8): registration and its refusals, the
//! location claimed with mdmInfo, a catalogue synced across pages, every
//! renewal refusal reason, another MDM taking the location and the
//! confirmed takeover.

mod common;

use apple_sim::vpp::{AssetSpec, LocationSpec};
use apple_vpp::MdmInfo;
use common::TestServer;
use common::vpp::{catalogue_location, register, start_sim, top_group, use_sim};
use haishin_domain::auth::Role;
use haishin_storage::on_both_backends;
use reqwest::{Method, StatusCode};
use serde_json::json;

on_both_backends!(register_claim_sync_share_and_refusals);
on_both_backends!(renewal_reasons_takeover_and_other_accounts);

fn days_from_now(days: i64) -> time::OffsetDateTime {
    time::OffsetDateTime::now_utc() + time::Duration::days(days)
}

async fn register_claim_sync_share_and_refusals(backend: &str) {
    let sim = start_sim().await;
    let location = catalogue_location(&sim, "東京本社", 10, 50);
    let server = TestServer::start_with(backend, |c| use_sim(c, &sim)).await;
    let admin = server.account("VPP", Role::AccountAdmin).await;
    let ja = admin.in_lang("ja");
    let group = top_group(&admin).await;

    // T8: a group without a token gets the seeds' message.
    let (status, body) = ja.call(Method::GET, &format!("/groups/{group}/vpp-tokens"), None).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["code"], "vpp_token_not_registered");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .starts_with("VPPトークンが登録されていません"),
        "{body}"
    );

    // T1: malformed, expired and revoked files are refused, each saying which.
    let (status, body) = admin
        .call(
            Method::POST,
            "/vpp/tokens",
            Some(json!({ "group_id": group, "token_file": "not a token" })),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body["message"].as_str().unwrap().contains("content token"), "{body}");
    let expired = sim.add_location(LocationSpec::new("株式会社サンプル", "期限切れ").expires_at(days_from_now(-1)));
    let (status, body) = register(&ja, group, &expired).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["code"], "vpp_token_expired");
    assert!(
        body["message"].as_str().unwrap().contains("有効期限が切れています"),
        "{body}"
    );
    let revoked = sim.add_location(LocationSpec::new("株式会社サンプル", "無効"));
    revoked.revoke_token();
    let (status, body) = register(&admin, group, &revoked).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["code"], "vpp_token_revoked");
    assert!(admin.get("/vpp/tokens").await.as_array().unwrap().is_empty());

    // T1 + T2 + T5: registered, claimed with our mdmInfo, synced.
    let (status, token) = register(&admin, group, &location).await;
    assert_eq!(status, StatusCode::CREATED, "{token}");
    assert_eq!(token["status"], "active");
    assert_eq!(token["location_name"], "東京本社");
    assert_eq!(token["org_name"], "株式会社サンプル");
    assert_eq!(token["notifications"], true);
    assert_eq!(token["expiring_soon"], false);
    assert!(token["last_sync_at"].is_string(), "registration syncs: {token}");
    let id = token["id"].as_i64().unwrap();
    let snapshot = location.snapshot();
    let claimed = snapshot.mdm_info.clone().expect("the location is claimed");
    assert_eq!(claimed.name, "haishin");
    assert!(
        snapshot
            .notification_url
            .as_deref()
            .unwrap()
            .contains("/vpp/notifications/")
    );
    sim.settle().await.unwrap();
    assert!(
        sim.counters()
            .notifications
            .delivered_by_type
            .get("TEST_NOTIFICATION")
            .copied()
            .unwrap_or(0)
            >= 1
    );

    // The catalogue spans several pages (page size 3); counts equal Apple's.
    let summary = admin.post(&format!("/vpp/tokens/{id}/sync"), json!({})).await;
    assert_eq!(summary["assets"], 12, "{summary}");
    assert!(summary["pages"].as_u64().unwrap() >= 4, "{summary}");
    let assets = admin.get(&format!("/vpp/tokens/{id}/assets")).await;
    let assets = assets.as_array().unwrap();
    assert_eq!(assets.len(), 12);
    for apple in &snapshot.assets {
        let ours = assets.iter().find(|a| a["adam_id"] == apple.adam_id.as_str()).unwrap();
        assert_eq!(ours["total_count"], apple.total_count);
        assert_eq!(ours["available_count"], apple.available_count);
        assert_eq!(ours["device_assignable"], apple.device_assignable);
    }
    let app = assets.iter().find(|a| a["adam_id"] == "1000001").unwrap();
    assert_eq!(
        app["metadata"]["name"], "業務アプリ 0",
        "metadata from the lookup: {app}"
    );
    let book = assets.iter().find(|a| a["adam_id"] == "2000001").unwrap();
    assert_eq!(book["product_type"], "Book");

    // The same location twice in one account is refused.
    let (status, body) = register(&admin, group, &location).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["code"], "vpp_token_already_registered");

    // T6: shared with a subgroup, the token serves both.
    let sub = admin
        .post("/groups", json!({ "name": "大阪支店", "parent_id": group }))
        .await;
    let sub = sub["id"].as_i64().unwrap();
    let shared = admin
        .call(
            Method::PUT,
            &format!("/vpp/tokens/{id}/groups"),
            Some(json!({ "group_ids": [group, sub] })),
        )
        .await;
    assert_eq!(shared.0, StatusCode::OK, "{}", shared.1);
    let of_sub = admin.get(&format!("/groups/{sub}/vpp-tokens")).await;
    assert_eq!(of_sub[0]["id"], id);

    // T7: the top group's auto-assignment token is inherited by the
    // subgroup; a subgroup with a token of its own assigns only with it.
    let none = admin.get(&format!("/groups/{sub}/vpp-auto-assign")).await;
    assert!(none["effective_token_id"].is_null(), "{none}");
    let set = admin
        .call(
            Method::PUT,
            &format!("/groups/{group}/vpp-auto-assign"),
            Some(json!({ "token_id": id })),
        )
        .await;
    assert_eq!(set.0, StatusCode::OK, "{}", set.1);
    let inherited = admin.get(&format!("/groups/{sub}/vpp-auto-assign")).await;
    assert_eq!(inherited["effective_token_id"], id);
    assert_eq!(inherited["inherited_from"], group);
    assert_eq!(inherited["auto_only"], false);
    let branch = catalogue_location(&sim, "大阪", 1, 5);
    let (status, branch) = register(&admin, sub, &branch).await;
    assert_eq!(status, StatusCode::CREATED, "{branch}");
    let branch = branch["id"].as_i64().unwrap();
    let (status, body) = admin
        .call(
            Method::PUT,
            &format!("/groups/{group}/vpp-auto-assign"),
            Some(json!({ "token_id": branch })),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("vpp_token_not_shared")),
        "{body}"
    );
    let own = admin
        .call(
            Method::PUT,
            &format!("/groups/{sub}/vpp-auto-assign"),
            Some(json!({ "token_id": branch })),
        )
        .await
        .1;
    assert_eq!(own["effective_token_id"], branch, "{own}");
    assert_eq!(own["auto_only"], true, "{own}");

    // Another account can't see or use it.
    let other = server.account("他社", Role::AccountAdmin).await;
    let (status, _) = other.call(Method::GET, &format!("/vpp/tokens/{id}"), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = other.call(Method::POST, &format!("/vpp/tokens/{id}/sync"), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // The token is sealed at rest: the stored bytes do not contain it.
    let stored = server
        .running
        .services
        .store
        .get_vpp_token(
            haishin_domain::ids::AccountId(admin.account_id),
            haishin_domain::ids::VppTokenId(id),
        )
        .await
        .unwrap()
        .unwrap();
    let raw = location.token_file_contents();
    assert!(!String::from_utf8_lossy(stored.sealed_token.as_bytes()).contains(raw.trim()));

    // Read-only admins can't register.
    let reader = server.colleague(&admin, Role::ReadOnly).await;
    let another = sim.add_location(LocationSpec::new("株式会社サンプル", "名古屋").asset(AssetSpec::app("9", 1)));
    let (status, _) = register(&reader, group, &another).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    server.stop().await;
    sim.shutdown();
}

async fn renewal_reasons_takeover_and_other_accounts(backend: &str) {
    let sim = start_sim().await;
    let location = sim.add_location(
        LocationSpec::new("株式会社サンプル", "本社")
            .expires_at(days_from_now(20))
            .asset(AssetSpec::app("1000001", 10)),
    );
    let elsewhere = sim.add_location(LocationSpec::new("株式会社サンプル", "別拠点").expires_at(days_from_now(300)));
    let server = TestServer::start_with(backend, |c| use_sim(c, &sim)).await;
    let admin = server.account("更新", Role::AccountAdmin).await;
    let group = top_group(&admin).await;
    let (status, token) = register(&admin, group, &location).await;
    assert_eq!(status, StatusCode::CREATED, "{token}");
    assert_eq!(token["expiring_soon"], true, "20 days left shows the banner: {token}");
    let id = token["id"].as_i64().unwrap();
    let renew = |file: String| {
        let admin = admin.clone();
        async move {
            admin
                .call(
                    Method::POST,
                    &format!("/vpp/tokens/{id}/renew"),
                    Some(json!({ "token_file": file })),
                )
                .await
        }
    };

    // Not registered.
    let (status, body) = admin
        .call(
            Method::POST,
            "/vpp/tokens/999999/renew",
            Some(json!({ "token_file": location.token_file_contents() })),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("vpp_renew_not_registered"))
    );
    // Not newer.
    let (status, body) = renew(location.token_file_contents()).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("vpp_renew_not_newer")),
        "{body}"
    );
    // Another location's token.
    let (status, body) = renew(elsewhere.token_file_contents()).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("vpp_renew_other_location"))
    );
    // Managed by another MDM.
    let renewed = location.issue_renewed_token(days_from_now(385));
    location.set_mdm_info(Some(MdmInfo {
        id: "jamf-1234".into(),
        name: "Jamf Pro".into(),
        metadata: "jamf.example.com".into(),
    }));
    let (status, body) = renew(renewed.token_file_contents()).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("vpp_renew_other_mdm")),
        "{body}"
    );
    assert!(body["message"].as_str().unwrap().contains("Jamf Pro"));

    // The next sync notices the other MDM: writes stop until a confirmed takeover.
    admin.post(&format!("/vpp/tokens/{id}/sync"), json!({})).await;
    let token = admin.get(&format!("/vpp/tokens/{id}")).await;
    assert_eq!(token["status"], "other_mdm", "{token}");
    assert_eq!(token["other_manager"]["name"], "Jamf Pro");
    let (status, body) = admin
        .call(
            Method::POST,
            &format!("/vpp/tokens/{id}/licenses/assign"),
            Some(json!({ "adam_ids": ["1000001"], "serial_numbers": ["C02XYZ000001"] })),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("vpp_location_other_mdm"))
    );
    let (status, body) = admin
        .call(Method::POST, &format!("/vpp/tokens/{id}/takeover"), Some(json!({})))
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("vpp_takeover_unconfirmed"))
    );
    let taken = admin
        .call(
            Method::POST,
            &format!("/vpp/tokens/{id}/takeover"),
            Some(json!({ "confirm": true })),
        )
        .await;
    assert_eq!(taken.0, StatusCode::OK, "{}", taken.1);
    assert_eq!(taken.1["status"], "active");
    assert_eq!(location.snapshot().mdm_info.unwrap().name, "haishin");

    // Renewed: later expiry, same token id, settings kept (the seeds make
    // admins set the auto-assignment token again after a renewal).
    admin
        .call(
            Method::PUT,
            &format!("/groups/{group}/vpp-auto-assign"),
            Some(json!({ "token_id": id })),
        )
        .await;
    let (status, body) = renew(renewed.token_file_contents()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["id"], id);
    assert_eq!(body["expiring_soon"], false);
    assert!(body["renewed_at"].is_string());
    let summary = admin.post(&format!("/vpp/tokens/{id}/sync"), json!({})).await;
    assert_eq!(summary["assets"], 1, "the renewed token works: {summary}");
    let kept = admin.get(&format!("/groups/{group}/vpp-auto-assign")).await;
    assert_eq!(kept["own_token_id"], id, "{kept}");

    // Another account of this server registering the same location is told
    // so and stays read-only; renewing there is refused with that reason.
    let other = server.account("別アカウント", Role::AccountAdmin).await;
    let other_group = top_group(&other).await;
    let (status, theirs) = register(&other, other_group, &location).await;
    assert_eq!(status, StatusCode::CREATED, "{theirs}");
    assert_eq!(theirs["status"], "other_account");
    let theirs = theirs["id"].as_i64().unwrap();
    let newer = location.issue_renewed_token(days_from_now(400));
    let (status, body) = other
        .call(
            Method::POST,
            &format!("/vpp/tokens/{theirs}/renew"),
            Some(json!({ "token_file": newer.token_file_contents() })),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("vpp_renew_other_account")),
        "{body}"
    );

    // The location no longer exists at Apple.
    location.delete_location();
    let (status, body) = renew(location.issue_renewed_token(days_from_now(450)).token_file_contents()).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("vpp_renew_location_gone")),
        "{body}"
    );
    server.stop().await;
    sim.shutdown();
}
