//! Cancelling a deployment while its licenses are being assigned (SPEC J4,
//! L3): the installs never reach the devices, and the licenses Apple
//! assigns them anyway are revoked once it has answered, each exactly once
//! (checked against the simulator's records).

mod common;

use std::time::Duration;

use apple_sim::vpp::{AppInfo, AssetSpec, LocationSpec};
use apple_sim::{Behaviour, Fleet};
use common::deploy::DeployWorld;
use common::eventually;
use haishin_storage::on_both_backends;
use serde_json::json;

on_both_backends!(a_deployment_canceled_while_licensing_gives_its_licenses_back);

const APP: &str = "1000001";
const DEVICES: usize = 8;

async fn a_deployment_canceled_while_licensing_gives_its_licenses_back(backend: &str) {
    let world = DeployWorld::start(
        backend,
        "取消",
        |sim| {
            sim.add_location(
                LocationSpec::new("株式会社サンプル", "本社")
                    .asset(AssetSpec::app(APP, 20).metadata(AppInfo::app(APP))),
            )
        },
        |_| {},
    )
    .await;
    let DeployWorld {
        sim,
        location,
        admin,
        token,
        top,
        ..
    } = &world;
    let env = world.env(*top);
    let (licenses, store) = (location.license_policy(), location.store_catalogue());
    let fleet = Fleet::builder(env)
        .devices(DEVICES)
        .behaviour(move |_| {
            Behaviour::ipad()
                .with_licenses(licenses.clone())
                .with_store(store.clone())
        })
        .enroll()
        .await;
    assert!(fleet.failures().is_empty(), "{:?}", &fleet.failures()[..1]);

    // Apple takes its time: the deployment stays in licensing.
    sim.set_event_delay(Some(Duration::from_secs(3)));
    let created = admin
        .post(
            "/deployments",
            json!({
                "items": [{ "token_id": token, "adam_id": APP }],
                "target_os": "ios", "license_mode": "auto",
                "devices": { "group_id": top, "all": true }
            }),
        )
        .await;
    let id = created["id"].as_i64().unwrap_or_else(|| panic!("{created}"));
    eventually("licensing", Duration::from_secs(30), || async {
        let deployment = admin.get(&format!("/deployments/{id}")).await;
        match deployment["status"].as_str() {
            Some("licensing") => Ok(()),
            other => Err(format!("{other:?}")),
        }
    })
    .await;
    let canceled = admin.post(&format!("/deployments/{id}/cancel"), json!({})).await;
    assert_eq!(canceled["canceled"], DEVICES, "{canceled}");

    // Apple assigns, then haishin revokes: every license back, once each.
    eventually("the licenses given back", Duration::from_secs(60), || async {
        let apple = location.snapshot();
        let tallies: Vec<_> = apple.tallies.values().collect();
        let assigned = apple.asset(APP).unwrap().assigned_count;
        if assigned == 0 && tallies.len() == DEVICES && tallies.iter().all(|t| t.released == 1) {
            Ok(())
        } else {
            Err(format!("{assigned} assigned, tallies {tallies:?}"))
        }
    })
    .await;
    let apple = location.snapshot();
    assert!(apple.tallies.values().all(|t| t.associated == 1 && t.released == 1));
    assert!(apple.counts_consistent());
    let deployment = admin.get(&format!("/deployments/{id}")).await;
    assert_eq!(deployment["status"], "canceled");
    assert_eq!(deployment["by_status"][0]["status"], "canceled", "{deployment}");
    assert_eq!(deployment["by_status"][0]["waiting_for_license"], 0, "{deployment}");
    // Settled once: another pass of the worker revokes nothing more.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(location.snapshot().tallies.values().all(|t| t.released == 1));
    for device in fleet.devices() {
        assert!(
            device
                .snapshot()
                .apps
                .iter()
                .all(|a| a.itunes_store_id != Some(1000001)),
            "nothing was installed"
        );
    }
    world.server.stop().await;
}
