//! The simulated Apps and Books service, wired into a test server.

use std::time::{Duration, Instant};

use apple_sim::vpp::{AppInfo, AssetSpec, LocationHandle, LocationSpec, VppSim, VppSimOptions};
use haishin::config::Config;
use reqwest::Method;
use serde_json::{Value, json};

use super::Admin;

pub async fn start_sim() -> VppSim {
    VppSim::start(VppSimOptions::for_tests()).await.expect("VPP simulator")
}

/// Points a server at the simulator, with test-sized delays: notifications
/// over loopback HTTP, status polls after a second without one, quick
/// back-off under 429/5xx.
pub fn use_sim(config: &mut Config, sim: &VppSim) {
    config.vpp_url = sim.base_url();
    config.vpp_metadata_url = sim.metadata_lookup_url();
    config.vpp_allow_http_notifications = true;
    config.vpp_poll_after_seconds = 1;
    config.vpp_poll_every_seconds = 1;
    config.vpp_retry_initial_ms = 5;
}

/// A location with `apps` paid apps (licenses each), a book and a free app.
pub fn catalogue_location(sim: &VppSim, location: &str, apps: usize, licenses: i64) -> LocationHandle {
    let mut spec = LocationSpec::new("株式会社サンプル", location);
    for n in 0..apps {
        let adam_id = format!("{}", 1_000_001 + n);
        let mut info = AppInfo::app(&adam_id);
        info.name = format!("業務アプリ {n}");
        spec = spec.asset(AssetSpec::app(adam_id, licenses).metadata(info));
    }
    spec = spec.asset(AssetSpec::book("2000001", 20));
    spec = spec.asset(AssetSpec::free_app("3000001"));
    sim.add_location(spec)
}

pub async fn top_group(admin: &Admin) -> i64 {
    let groups = admin.get("/groups").await;
    groups
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["parent_id"].is_null())
        .expect("a top group")["id"]
        .as_i64()
        .unwrap()
}

pub async fn register(admin: &Admin, group: i64, location: &LocationHandle) -> (reqwest::StatusCode, Value) {
    admin
        .call(
            Method::POST,
            "/vpp/tokens",
            Some(json!({ "group_id": group, "token_file": location.token_file_contents() })),
        )
        .await
}

/// Waits for a license operation to finish and returns it.
pub async fn finished_operation(admin: &Admin, id: i64) -> Value {
    let started = Instant::now();
    loop {
        let operation = admin.get(&format!("/vpp/operations/{id}")).await;
        if matches!(operation["status"].as_str(), Some("complete" | "failed")) {
            return operation;
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "operation {id} did not finish: {operation}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub fn serials(prefix: &str, count: usize) -> Vec<String> {
    (0..count).map(|n| format!("{prefix}{n:06}")).collect()
}
