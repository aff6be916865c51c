//! The VPP simulator's licenses: service and client config, assets, associate /
//! disassociate / revoke with the count invariant, partial failures, pagination with
//! versions, filters, and the metadata lookup. Driven through the real `VppClient`.

mod vpp_common;

use apple_sim::vpp::{AppInfo, AssetSpec, LocationSpec, VppSim, VppSimOptions};
use apple_vpp::{
    AssetRef, AssetsQuery, AssignmentsQuery, ClientConfigRequest, ContentToken, ErrorCode, EventStatus, EventType,
    ManageAssetsRequest, ManageUsersRequest, MdmInfo, MetadataQuery, PricingParam, ProductType, RequestUser,
    RevokeAssetsRequest,
};
use vpp_common::*;

fn app(id: &str) -> AssetRef {
    AssetRef::new(id, PricingParam::Stdq)
}

fn serials(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}{i:05}")).collect()
}

#[tokio::test]
async fn service_config_token_file_and_client_config() {
    let (sim, loc) = start(VppSimOptions::for_tests()).await;
    let client = client(&sim, &loc);

    let token = ContentToken::parse(&loc.token_file_contents()).expect("token file parses");
    assert_eq!(token.org_name(), "Example Inc.");

    let cfg = client.refresh_service_config().await.unwrap();
    assert_eq!(
        cfg.urls.get_assets.as_deref(),
        Some(format!("{}assets", sim.base_url()).as_str())
    );
    assert_eq!(cfg.limits.max_assets, Some(25));
    assert_eq!(cfg.limits.max_serial_numbers, Some(1000));
    assert!(cfg.error_codes.iter().any(|e| e.error_number == 9709));
    let invite = cfg.urls.invitation_url("abc").unwrap();
    assert!(invite.contains("inviteCode=abc"), "{invite}");

    let cc = client.client_config().await.unwrap();
    assert_eq!(cc.location_name.as_deref(), Some("Tokyo HQ"));
    assert_eq!(cc.country_iso2a_code.as_deref(), Some("JP"));
    assert_eq!(cc.default_platform.as_deref(), Some("enterprisestore"));
    assert_eq!(cc.envelope.u_id.as_deref(), Some(loc.u_id().as_str()));
    assert!(cc.envelope.mdm_info.is_none());
    let exp = cc.envelope.token_expiration_date.clone().unwrap();
    assert!(exp.ends_with("+0000") && exp.len() == 24, "{exp}");
    assert_eq!(cc.envelope.token_expiration().unwrap(), token.expires_at());

    let mine = MdmInfo {
        id: "haishin-1".into(),
        name: "haishin".into(),
        metadata: "test".into(),
    };
    let claimed = client
        .set_client_config(&ClientConfigRequest {
            mdm_info: Some(mine.clone()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(claimed.envelope.mdm_info.as_ref(), Some(&mine));
    // Echoed on every later response.
    let assets = client.assets(&AssetsQuery::default()).await.unwrap();
    assert_eq!(assets.envelope.mdm_info.as_ref(), Some(&mine));
    // Another MDM takes the location.
    loc.set_mdm_info(Some(MdmInfo {
        id: "other".into(),
        name: "Other MDM".into(),
        metadata: "x".into(),
    }));
    let assets = client.assets(&AssetsQuery::default()).await.unwrap();
    assert_eq!(assets.envelope.mdm_conflict("haishin-1").unwrap().name, "Other MDM");
}

#[tokio::test]
async fn associate_disassociate_revoke_keep_the_count_invariant() {
    let (sim, loc) = start(VppSimOptions::for_tests()).await;
    let client = client(&sim, &loc);
    let created = client
        .create_users(&ManageUsersRequest {
            users: vec![RequestUser::new("u1")],
        })
        .await
        .unwrap();
    assert_eq!(
        finished(&client, &created.event_id).await.event_status,
        EventStatus::Complete
    );

    let mut req = ManageAssetsRequest::for_serials(vec![app(APP)], serials("S", 3));
    req.client_user_ids = vec!["u1".into()];
    let ev = client.associate_assets(&req).await.unwrap();
    let status = finished(&client, &ev.event_id).await;
    assert_eq!(status.event_status, EventStatus::Complete);
    assert_eq!((status.num_completed, status.num_requested), (4, 4));
    assert_eq!(status.event_type, Some(EventType::Associate));

    let a = client.all_assets(AssetsQuery::default()).await.unwrap();
    let asset = a.items.iter().find(|x| x.adam_id == APP).unwrap();
    assert_eq!(
        (asset.assigned_count, asset.available_count, asset.total_count),
        (4, 6, 10)
    );

    // Associating what is already held consumes nothing and still completes.
    let ev = client.associate_assets(&req).await.unwrap();
    let again = finished(&client, &ev.event_id).await;
    assert_eq!((again.event_status, again.num_completed), (EventStatus::Complete, 4));
    let snap = loc.snapshot();
    assert_eq!(snap.asset(APP).unwrap().assigned_count, 4);
    assert_eq!(snap.max_associations_per_pair(), 1);

    // Disassociating one serial and one never-assigned serial: both complete.
    let dis = ManageAssetsRequest::for_serials(vec![app(APP)], vec!["S00000".into(), "NEVER".into()]);
    let ev = client.disassociate_assets(&dis).await.unwrap();
    assert_eq!(
        finished(&client, &ev.event_id).await.event_status,
        EventStatus::Complete
    );
    assert_eq!(loc.snapshot().asset(APP).unwrap().assigned_count, 3);

    // Revoke removes every revocable assignment of the user.
    let ev = client
        .revoke_assets(&RevokeAssetsRequest {
            client_user_ids: vec!["u1".into()],
            serial_numbers: vec![],
        })
        .await
        .unwrap();
    let revoked = finished(&client, &ev.event_id).await;
    assert_eq!((revoked.num_requested, revoked.num_completed), (1, 1));
    let snap = loc.snapshot();
    let asset = snap.asset(APP).unwrap();
    assert_eq!((asset.assigned_count, asset.available_count), (2, 8));
    assert!(snap.counts_consistent());
    let left = client.all_assignments(AssignmentsQuery::default()).await.unwrap();
    let mut serials_left: Vec<_> = left.items.iter().filter_map(|a| a.serial_number.clone()).collect();
    serials_left.sort();
    assert_eq!(serials_left, vec!["S00001", "S00002"]);
}

#[tokio::test]
async fn five_thousand_serials_in_five_calls() {
    let sim = VppSim::start(VppSimOptions::for_tests().page_size(1000)).await.unwrap();
    let loc = sim.add_location(LocationSpec::new("Big Org", "Fleet").asset(AssetSpec::app(APP, 6000)));
    let client = client(&sim, &loc);
    client.refresh_service_config().await.unwrap();
    let req = ManageAssetsRequest::for_serials(vec![app(APP)], serials("F", 5000));
    let events = client.associate_assets_batched(&req).await.unwrap();
    assert_eq!(events.len(), 5);
    for ev in &events {
        let s = finished(&client, &ev.event_id).await;
        assert_eq!((s.event_status, s.num_completed), (EventStatus::Complete, 1000));
    }
    assert_eq!(sim.counters().by_endpoint["assets/associate"], 5);
    let snap = loc.snapshot();
    let asset = snap.asset(APP).unwrap();
    assert_eq!((asset.assigned_count, asset.available_count), (5000, 1000));
    assert_eq!(snap.max_associations_per_pair(), 1);
    let all = client.all_assignments(AssignmentsQuery::default()).await.unwrap();
    assert_eq!((all.items.len(), all.pages), (5000, 5));
}

#[tokio::test]
async fn too_few_licenses_fail_the_excess_tasks_with_9709() {
    let (sim, loc) = start(VppSimOptions::for_tests()).await;
    let client = client(&sim, &loc);
    let req = ManageAssetsRequest::for_serials(vec![app(APP2)], serials("X", 8));
    let ev = client.associate_assets(&req).await.unwrap();
    let s = finished(&client, &ev.event_id).await;
    assert_eq!(s.event_status, EventStatus::Failed);
    assert_eq!((s.num_completed, s.num_requested), (5, 8));
    assert_eq!(s.failures.len(), 1);
    assert_eq!(s.failures[0].code(), ErrorCode::NotEnoughLicenses);
    let info = s.failures[0].error_info.as_ref().unwrap();
    assert_eq!(info.serial_numbers, vec!["X00005", "X00006", "X00007"]);
    assert_eq!(info.assets, vec![app(APP2)]);
    let snap = loc.snapshot();
    let asset = snap.asset(APP2).unwrap();
    assert_eq!(
        (asset.assigned_count, asset.available_count, asset.total_count),
        (5, 0, 5)
    );
    assert!(snap.counts_consistent());

    // Unknown users fail with 9609 while registered ones succeed.
    let created = client
        .create_users(&ManageUsersRequest {
            users: vec![RequestUser::new("real")],
        })
        .await
        .unwrap();
    finished(&client, &created.event_id).await;
    let req = ManageAssetsRequest::for_users(vec![app(APP)], vec!["real".into(), "ghost".into()]);
    let ev = client.associate_assets(&req).await.unwrap();
    let s = finished(&client, &ev.event_id).await;
    assert_eq!(
        (s.event_status, s.num_completed, s.num_requested),
        (EventStatus::Failed, 1, 2)
    );
    assert_eq!(s.failures[0].error_number, 9609);
    assert_eq!(
        s.failures[0].error_info.as_ref().unwrap().client_user_ids,
        vec!["ghost"]
    );

    // Free apps never run out.
    let req = ManageAssetsRequest::for_serials(vec![app(FREE)], serials("F", 50));
    let ev = client.associate_assets(&req).await.unwrap();
    assert_eq!(
        finished(&client, &ev.event_id).await.event_status,
        EventStatus::Complete
    );
    let free = loc.snapshot().asset(FREE).cloned().unwrap();
    assert_eq!((free.total_count, free.assigned_count), (i32::MAX as i64, 50));
}

#[tokio::test]
async fn pages_versions_and_since_version_id() {
    let (sim, loc) = start(VppSimOptions::for_tests()).await;
    let client = client(&sim, &loc);
    let ev = client
        .associate_assets(&ManageAssetsRequest::for_serials(vec![app(APP)], serials("P", 8)))
        .await
        .unwrap();
    finished(&client, &ev.event_id).await;

    let p0 = client.assignments(&AssignmentsQuery::default()).await.unwrap();
    assert_eq!(
        (
            p0.page.current_page_index,
            p0.page.next_page_index,
            p0.page.size,
            p0.page.total_pages
        ),
        (0, Some(1), 3, 3)
    );
    let last = client
        .assignments(&AssignmentsQuery {
            page_index: Some(2),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!((last.page.next_page_index, last.page.size), (None, 2));
    let err = client
        .assignments(&AssignmentsQuery {
            page_index: Some(3),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(number(&err), 9650);
    let (status, n, _) = get(&sim, &loc, "assignments?pageIndex=-1").await;
    assert_eq!((status, n), (400, Some(9650)));

    let all = client.all_assignments(AssignmentsQuery::default()).await.unwrap();
    assert_eq!((all.items.len(), all.pages), (8, 3));
    let v1 = all.version_id.unwrap();

    // Two more assignments: a versioned query returns only those.
    let ev = client
        .associate_assets(&ManageAssetsRequest::for_serials(
            vec![app(APP)],
            vec!["NEW1".into(), "NEW2".into()],
        ))
        .await
        .unwrap();
    finished(&client, &ev.event_id).await;
    let since = client
        .all_assignments(AssignmentsQuery {
            since_version_id: Some(v1.clone()),
            ..Default::default()
        })
        .await
        .unwrap();
    let mut got: Vec<_> = since.items.iter().filter_map(|a| a.serial_number.clone()).collect();
    got.sort();
    assert_eq!(got, vec!["NEW1", "NEW2"]);
    assert_ne!(since.version_id.as_deref(), Some(v1.as_str()));
    // Nothing changed since the newest version: an empty page, not an error.
    let none = client
        .assignments(&AssignmentsQuery {
            since_version_id: since.version_id.clone(),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(none.assignments.is_empty());
    let err = client
        .assignments(&AssignmentsQuery {
            since_version_id: Some("not-a-version".into()),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(number(&err), 9721);
    // Get Assets ignores sinceVersionId.
    let (status, _, body) = get(&sim, &loc, "assets?sinceVersionId=nope").await;
    assert_eq!(status, 200);
    assert!(body["versionId"].is_string());

    // Filters.
    let one = client
        .assignments(&AssignmentsQuery {
            serial_number: Some("NEW2".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(one.assignments.len(), 1);
}

#[tokio::test]
async fn books_flags_and_asset_filters() {
    let (sim, loc) = start(VppSimOptions::for_tests().page_size(10)).await;
    let client = client(&sim, &loc);
    let err = client
        .associate_assets(&ManageAssetsRequest::for_serials(vec![app(BOOK)], vec!["S1".into()]))
        .await
        .unwrap_err();
    assert_eq!(number(&err), 9707);
    assert_eq!(err.http_status(), Some(400));
    let created = client
        .create_users(&ManageUsersRequest {
            users: vec![RequestUser::new("reader")],
        })
        .await
        .unwrap();
    finished(&client, &created.event_id).await;
    let ev = client
        .associate_assets(&ManageAssetsRequest::for_users(
            vec![app(BOOK), app(APP)],
            vec!["reader".into()],
        ))
        .await
        .unwrap();
    assert_eq!(finished(&client, &ev.event_id).await.num_completed, 2);
    let err = client
        .disassociate_assets(&ManageAssetsRequest::for_users(vec![app(BOOK)], vec!["reader".into()]))
        .await
        .unwrap_err();
    assert_eq!(number(&err), 9706);
    // Revoke skips the book.
    let ev = client
        .revoke_assets(&RevokeAssetsRequest {
            client_user_ids: vec!["reader".into()],
            serial_numbers: vec![],
        })
        .await
        .unwrap();
    assert_eq!(finished(&client, &ev.event_id).await.num_completed, 1);
    let snap = loc.snapshot();
    assert_eq!(snap.asset(BOOK).unwrap().assigned_count, 1);
    assert_eq!(snap.asset(APP).unwrap().assigned_count, 0);

    let books = client
        .assets(&AssetsQuery {
            product_type: Some(ProductType::Book),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(books.assets.len(), 1);
    assert!(!books.assets[0].revocable && !books.assets[0].device_assignable);
    let split = client
        .assets(&AssetsQuery {
            unlimited: Some(true),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!((split.assets.len(), split.unlimited_assets.len()), (3, 1));
    assert_eq!(split.unlimited_assets[0].adam_id, FREE);
    let limited = client
        .assets(&AssetsQuery {
            unlimited: Some(false),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(limited.assets.len(), 3);
    let everything = client.assets(&AssetsQuery::default()).await.unwrap();
    assert_eq!(everything.assets.len(), 4);
    let at_most_five = client
        .assets(&AssetsQuery {
            max_available_count: Some(5),
            ..Default::default()
        })
        .await
        .unwrap();
    let mut ids: Vec<_> = at_most_five.assets.iter().map(|a| a.adam_id.as_str()).collect();
    ids.sort();
    assert_eq!(ids, vec![BOOK, APP2]);
}

#[tokio::test]
async fn metadata_lookup_with_and_without_the_itvt_cookie() {
    let sim = VppSim::start(VppSimOptions::for_tests()).await.unwrap();
    let mut custom = AppInfo::app("900000001").b2b();
    custom.name = "Internal Tool".into();
    custom.size_bytes = 123_456;
    let loc = sim.add_location(
        LocationSpec::new("Example Inc.", "HQ")
            .asset(AssetSpec::app(APP, 1))
            .asset(AssetSpec::app("900000001", 1).metadata(custom)),
    );
    let other = sim.add_location(LocationSpec::new("Other Inc.", "HQ"));
    let client = client(&sim, &loc);
    let query = MetadataQuery::new([APP, "900000001", "555"], "enterprisestore").country("JP");

    let public = client.content_metadata(&query, false).await.unwrap();
    assert_eq!(public.results.keys().collect::<Vec<_>>(), vec![APP]);
    let app = &public.results[APP];
    assert_eq!(app.bundle_id.as_deref(), Some(format!("com.example.app{APP}").as_str()));
    assert_eq!(app.version(), Some("1.0.0"));
    assert!(app.icon_url(512, "png").unwrap().ends_with("512x512bb.png"));
    assert_eq!(app.is_vpp_device_based_licensing_enabled, Some(true));

    let authed = client.content_metadata(&query, true).await.unwrap();
    let tool = &authed.results["900000001"];
    assert_eq!(
        (tool.name.as_deref(), tool.size_bytes(), tool.is_b2b_custom_app),
        (Some("Internal Tool"), Some(123_456), Some(true))
    );
    // Another location's token does not unlock this location's custom app.
    let other_client = vpp_common::client(&sim, &other);
    let seen = other_client.content_metadata(&query, true).await.unwrap();
    assert!(!seen.results.contains_key("900000001"));
    assert_eq!(sim.counters().lookups, 3);
}

#[tokio::test]
async fn a_renewed_token_manages_the_same_location() {
    let (sim, loc) = start(VppSimOptions::for_tests()).await;
    let renewed = loc.issue_renewed_token(time::OffsetDateTime::now_utc() + time::Duration::days(700));
    assert_ne!(renewed.token_file_contents(), loc.token_file_contents());
    let old = client(&sim, &loc);
    let new = client(&sim, &renewed);
    let a = old.client_config().await.unwrap();
    let b = new.client_config().await.unwrap();
    assert_eq!(a.envelope.u_id, b.envelope.u_id);
    assert!(b.envelope.token_expiration().unwrap() > a.envelope.token_expiration().unwrap());
    let ev = new
        .associate_assets(&ManageAssetsRequest::for_serials(vec![app(APP)], vec!["R1".into()]))
        .await
        .unwrap();
    finished(&new, &ev.event_id).await;
    // The old token sees the change and keeps working until revoked.
    let seen = old.all_assignments(AssignmentsQuery::default()).await.unwrap();
    assert_eq!(seen.items.len(), 1);
    loc.revoke_token();
    assert_eq!(number(&old.client_config().await.unwrap_err()), 9625);
    assert!(new.client_config().await.is_ok());
}

#[tokio::test]
async fn user_state_in_assignments_and_mdm_info_on_every_response() {
    let (sim, loc) = start(VppSimOptions::for_tests().page_size(10)).await;
    let client = client(&sim, &loc);
    let mine = MdmInfo {
        id: "haishin-2".into(),
        name: "haishin".into(),
        metadata: "host".into(),
    };
    client
        .set_client_config(&ClientConfigRequest {
            mdm_info: Some(mine.clone()),
            ..Default::default()
        })
        .await
        .unwrap();
    let ev = client
        .create_users(&ManageUsersRequest {
            users: vec![RequestUser::new("stays"), RequestUser::new("leaves")],
        })
        .await
        .unwrap();
    assert_eq!(ev.envelope.mdm_info.as_ref(), Some(&mine));
    let status = finished(&client, &ev.event_id).await;
    assert_eq!(status.envelope.mdm_info.as_ref(), Some(&mine));
    let ev = client
        .associate_assets(&ManageAssetsRequest::for_users(
            vec![app(BOOK)],
            vec!["stays".into(), "leaves".into()],
        ))
        .await
        .unwrap();
    finished(&client, &ev.event_id).await;
    let ev = client
        .retire_users(&ManageUsersRequest {
            users: vec![RequestUser::new("leaves")],
        })
        .await
        .unwrap();
    finished(&client, &ev.event_id).await;

    // Books stay with retired users; the user state says who is gone.
    let with_state = client
        .assignments(&AssignmentsQuery {
            include_user_state: Some(true),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(with_state.envelope.mdm_info.as_ref(), Some(&mine));
    let state_of = |id: &str| {
        with_state
            .assignments
            .iter()
            .find(|a| a.client_user_id.as_deref() == Some(id))
            .and_then(|a| a.user_status.clone())
    };
    assert_eq!(state_of("stays"), Some(apple_vpp::UserStatus::Registered));
    assert_eq!(state_of("leaves"), Some(apple_vpp::UserStatus::Retired));
    let active = client
        .assignments(&AssignmentsQuery {
            exclude_inactive_users: Some(true),
            ..Default::default()
        })
        .await
        .unwrap();
    let ids: Vec<_> = active
        .assignments
        .iter()
        .filter_map(|a| a.client_user_id.clone())
        .collect();
    assert_eq!(ids, vec!["stays"]);
    let users = client.users(&apple_vpp::UsersQuery::default()).await.unwrap();
    assert_eq!(users.envelope.mdm_info.as_ref(), Some(&mine));
    // Without includeUserState no state is sent.
    let plain = client.assignments(&AssignmentsQuery::default()).await.unwrap();
    assert!(plain.assignments.iter().all(|a| a.user_status.is_none()));
}
