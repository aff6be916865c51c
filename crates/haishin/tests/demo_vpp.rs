//! The demo's Apps and Books set-up against a running server and the demo's
//! simulated location: the token is registered, claimed and synced with the
//! whole catalogue, the demo app's licenses reach every serial, and a second
//! run with the same data (a new simulator token of the same location)
//! renews the token instead of failing, without assigning anything twice.

mod common;

use std::collections::BTreeSet;

use apple_sim::vpp::VppSim;
use common::TestServer;
use common::vpp::use_sim;
use haishin::demo::set_up_vpp;
use haishin::sim_vpp::{self, DEMO_APP};
use haishin_domain::auth::{Actor, Role};
use haishin_domain::vpp::store::LicenseFilter;
use haishin_domain::vpp::{LicenseTarget, OperationStatus, TokenStatus};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_registers_syncs_and_assigns_then_reuses_its_token() {
    let sim = VppSim::start(sim_vpp::sim_options()).await.unwrap();
    let location = sim.add_location(sim_vpp::demo_catalogue());
    let server = TestServer::start_with("sqlite", |c| use_sim(c, &sim)).await;
    let services = &server.running.services;
    let (account, root) = services.create_account("デモ株式会社").await.unwrap();
    let admin = services
        .create_admin(
            &Actor::system(account.id),
            "demo-admin",
            "デモ管理者",
            Role::AccountAdmin,
            "correct horse battery",
        )
        .await
        .unwrap();
    let actor = Actor::admin(&admin);
    let serials: Vec<String> = (1..=30).map(|n| format!("C02DEMO{n:05}")).collect();

    let first = set_up_vpp(services, &actor, root.id, &location.token_file_contents(), &serials)
        .await
        .unwrap();
    assert!(!first.reused);
    assert_eq!(first.token.status, TokenStatus::Active);
    assert_eq!(first.token.location_uid, location.u_id());
    assert_eq!(
        (first.token.org_name.as_str(), first.token.location_name.as_str()),
        ("株式会社サンプル", "東京本社")
    );
    assert_eq!(first.token.country, "JP");
    assert_eq!(first.token.group_ids, vec![root.id]);
    assert!(first.token.notifications, "the server asked Apple for notifications");
    assert_eq!(first.token.last_sync_error, None);
    let claimed = location.snapshot();
    assert_eq!(
        claimed.notification_url,
        Some(format!(
            "{}/vpp/notifications/{}",
            server.running.url(),
            claimed.mdm_info.as_ref().expect("claimed by haishin").id
        ))
    );

    assert_eq!(first.assets.len(), sim_vpp::demo_catalogue().assets.len());
    assert_eq!(first.assets.len(), 18);
    let names: BTreeSet<&str> = first
        .assets
        .iter()
        .filter_map(|a| a.metadata.as_ref().map(|m| m.name.as_str()))
        .collect();
    for name in [
        "勤怠管理Pro",
        "翻訳アシスタント",
        "社内ポータル",
        "製品カタログ 2025年度版",
    ] {
        assert!(names.contains(name), "{name} missing from {names:?}");
    }
    let cad = first.assets.iter().find(|a| a.adam_id == "1459000106").unwrap();
    assert_eq!(cad.metadata.as_ref().unwrap().size_bytes, Some(236 * 1024 * 1024));
    let books = first.assets.iter().filter(|a| a.product_type == "Book").count();
    assert_eq!(books, 2);
    let scarce = first.assets.iter().find(|a| a.adam_id == sim_vpp::SCARCE_APP).unwrap();
    assert_eq!((scarce.total_count, scarce.available_count), (5, 5));

    let operation = first.operation.as_ref().expect("serials were given");
    assert_eq!(operation.status, OperationStatus::Complete, "{operation:?}");
    assert_eq!((operation.num_requested, operation.num_completed), (30, 30));
    assert!(operation.failures.is_empty(), "{:?}", operation.failures);
    let filter = LicenseFilter {
        token_id: Some(first.token.id),
        adam_id: Some(DEMO_APP.to_owned()),
        ..Default::default()
    };
    let licensed: BTreeSet<LicenseTarget> = services
        .licenses(&actor, &filter)
        .await
        .unwrap()
        .into_iter()
        .map(|l| l.target)
        .collect();
    let expected: BTreeSet<LicenseTarget> = serials.iter().cloned().map(LicenseTarget::Serial).collect();
    assert_eq!(licensed, expected);
    let at_apple = location.snapshot();
    let demo_app = at_apple.asset(DEMO_APP).unwrap();
    assert_eq!((demo_app.assigned_count, demo_app.available_count), (30, 970));

    // A second `haishin demo --dir` run: a new simulator hands out a new
    // token of the same location, expiring later.
    let renewed = location.issue_renewed_token(time::OffsetDateTime::now_utc() + time::Duration::days(400));
    let second = set_up_vpp(services, &actor, root.id, &renewed.token_file_contents(), &serials)
        .await
        .unwrap();
    assert!(second.reused);
    assert_eq!(second.token.id, first.token.id);
    assert!(second.token.expires_at > first.token.expires_at);
    assert!(second.token.renewed_at.is_some());
    assert_eq!(second.token.status, TokenStatus::Active);
    assert_eq!(services.list_vpp_tokens(&actor, None).await.unwrap().len(), 1);
    let again = second.operation.as_ref().unwrap();
    assert_eq!(again.status, OperationStatus::Complete, "{again:?}");
    assert_eq!(services.licenses(&actor, &filter).await.unwrap().len(), 30);
    let demo_app = location.snapshot();
    let demo_app = demo_app.asset(DEMO_APP).unwrap();
    assert_eq!(demo_app.assigned_count, 30, "nothing assigned twice");

    server.stop().await;
}
