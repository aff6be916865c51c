//! License operations survive a server restart at any stage: queued but
//! not sent, sent with Apple's events still pending. The restarted server
//! finishes them, and the simulator's tallies prove no license was
//! associated twice. A sync then re-converges with changes made at Apple
//! by someone else.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use apple_sim::vpp::VppFault;
use common::TestServer;
use common::vpp::{catalogue_location, finished_operation, register, serials, start_sim, top_group, use_sim};
use haishin::config::Config;
use haishin::server;
use haishin_domain::auth::Role;
use haishin_secrets::MasterKey;
use haishin_storage::on_both_backends;
use haishin_storage::testing::TestDb;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

on_both_backends!(operations_finish_after_a_restart_and_sync_reconverges);

async fn wait_for_status(admin: &common::Admin, id: i64, status: &str) -> Value {
    let started = Instant::now();
    loop {
        let operation = admin.get(&format!("/vpp/operations/{id}")).await;
        if operation["status"] == status {
            return operation;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "never {status}: {operation}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn operations_finish_after_a_restart_and_sync_reconverges(backend: &str) {
    let sim = start_sim().await;
    let location = catalogue_location(&sim, "本社", 2, 5000);
    let mut config = Config {
        listen: "127.0.0.1:0".into(),
        ..Config::default()
    };
    use_sim(&mut config, &sim);
    let db = TestDb::open(backend).await;
    let key = Arc::new(MasterKey::generate().0);
    let running = server::start_with_store(&config, db.store.clone(), key.clone())
        .await
        .unwrap();
    let mut server = TestServer {
        running,
        db: Some(db),
        http: reqwest::Client::new(),
    };
    let admin = server.account("再起動", Role::AccountAdmin).await;
    let group = top_group(&admin).await;
    let (_, token) = register(&admin, group, &location).await;
    let token = token["id"].as_i64().unwrap();

    // One operation sent with Apple's events held pending; another that
    // Apple keeps refusing with 503, so it is still unsent.
    sim.hold_events(true);
    let sent = admin
        .post(
            &format!("/vpp/tokens/{token}/licenses/assign"),
            json!({ "adam_ids": ["1000001"], "serial_numbers": serials("HELD", 2500) }),
        )
        .await;
    let sent = sent["id"].as_i64().unwrap();
    let submitted = wait_for_status(&admin, sent, "submitted").await;
    assert_eq!(submitted["events"].as_array().unwrap().len(), 3);
    sim.inject(VppFault::Unavailable { retry_after_secs: 0 }, 1000);
    let (status, unsent) = admin
        .call(
            Method::POST,
            &format!("/vpp/tokens/{token}/licenses/assign"),
            Some(json!({ "adam_ids": ["1000002"], "serial_numbers": serials("LATE", 1500) })),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{unsent}");
    let unsent = unsent["id"].as_i64().unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let pending = admin.get(&format!("/vpp/operations/{unsent}")).await;
    assert_eq!(pending["status"], "pending", "{pending}");

    // The server goes away and another takes over the same database.
    let first = std::mem::replace(
        &mut server.running,
        server::start_with_store(&config, server.db.as_ref().unwrap().store.clone(), key.clone())
            .await
            .unwrap(),
    );
    first.stop().await.unwrap();
    let admin = common::Admin {
        base: server.running.url(),
        ..admin
    };
    sim.clear_faults();
    sim.hold_events(false);
    sim.release_events();
    let sent = finished_operation(&admin, sent).await;
    let unsent = finished_operation(&admin, unsent).await;
    assert_eq!(sent["status"], "complete", "{sent}");
    assert_eq!(unsent["status"], "complete", "{unsent}");
    let snapshot = location.snapshot();
    assert_eq!(snapshot.asset("1000001").unwrap().assigned_count, 2500);
    assert_eq!(snapshot.asset("1000002").unwrap().assigned_count, 1500);
    assert_eq!(snapshot.max_associations_per_pair(), 1, "no license associated twice");
    let recorded = admin.get(&format!("/vpp/licenses?token_id={token}&limit=100000")).await;
    assert_eq!(recorded.as_array().unwrap().len(), 4000);

    // Someone assigns at Apple directly; the next sync records it, once.
    let apple = apple_vpp::VppClient::new(
        apple_vpp::VppConfig::new(location.stoken(), reqwest::Client::new())
            .with_base_url(&sim.base_url())
            .unwrap(),
    );
    let outside = apple_vpp::ManageAssetsRequest::for_serials(
        vec![apple_vpp::AssetRef::new("1000001", apple_vpp::PricingParam::Stdq)],
        serials("OUTSIDE", 5),
    );
    apple.associate_assets(&outside).await.unwrap();
    sim.settle().await.unwrap();
    for _ in 0..2 {
        let summary = admin.post(&format!("/vpp/tokens/{token}/sync"), json!({})).await;
        assert_eq!(summary["licenses"], 4005, "{summary}");
    }
    let outsider = admin.get("/vpp/licenses?serial_number=OUTSIDE000003").await;
    assert_eq!(outsider[0]["auto_assigned"], false);
    server.stop().await;
    sim.shutdown();
}
