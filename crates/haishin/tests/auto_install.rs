//! Apps that reach devices by themselves (SPEC D5), end to end over real
//! HTTP with simulated devices, Apps and Books and APNs:
//! - an auto-install rule on a group (with subgroups) installs its app on
//!   every device that enrolls into it, and on devices moved into it later,
//!   with licenses assigned by SYSTEM and installs verified;
//! - a self-service portal, reached by a signed link, installs an app on a
//!   tap, once however often it is tapped;
//! - when the store version of an installed app moves, devices are updated
//!   a few per pass, and an app opted out of automatic updates is not.

mod common;

use std::time::Duration;

use apple_sim::vpp::{AppInfo, AssetSpec, LocationHandle, LocationSpec};
use apple_sim::{Behaviour, Fleet, ManagedUser};
use common::deploy::DeployWorld;
use common::{Admin, eventually};
use haishin_storage::on_both_backends;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

on_both_backends!(auto_install_portal_and_automatic_updates);

/// Auto-installed on the head office and its subgroups.
const APP_AUTO: &str = "1000001";
/// Offered in the portal of the other department.
const APP_PORTAL: &str = "1000002";
/// Devices per group: head office, its sales subgroup, another department.
const PER_GROUP: usize = 12;
/// Devices moved from the other department into sales.
const MOVED: usize = 3;
/// Devices updated per automatic-update pass.
const UPDATE_BATCH: usize = 5;

fn location(sim: &apple_sim::vpp::VppSim) -> LocationHandle {
    let mut auto = AppInfo::app(APP_AUTO);
    auto.name = "勤怠管理".into();
    let mut portal = AppInfo::app(APP_PORTAL);
    portal.name = "社内ポータル <β>".into();
    sim.add_location(
        LocationSpec::new("株式会社サンプル", "本社")
            .asset(AssetSpec::app(APP_AUTO, 100).metadata(auto))
            .asset(AssetSpec::app(APP_PORTAL, 100).metadata(portal)),
    )
}

/// Jobs of every deployment whose origin is `kind`, with the deployments.
async fn deployments_of(admin: &Admin, kind: &str) -> Vec<Value> {
    admin
        .get("/deployments")
        .await
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["origin"]["kind"] == kind)
        .cloned()
        .collect()
}

fn settled(deployments: &[Value], jobs: i64) -> Result<(), String> {
    let total: i64 = deployments.iter().map(|d| d["jobs"].as_i64().unwrap()).sum();
    let succeeded: i64 = deployments.iter().map(|d| d["succeeded"].as_i64().unwrap()).sum();
    if total == jobs && succeeded == jobs {
        Ok(())
    } else {
        Err(format!("{succeeded} of {total} jobs succeeded, {jobs} expected"))
    }
}

async fn auto_install_portal_and_automatic_updates(backend: &str) {
    let world = DeployWorld::start(backend, "自動配信", location, |c| {
        c.auto_install_check_seconds = 1;
        c.auto_update_interval_seconds = 1;
        c.auto_update_devices_per_pass = UPDATE_BATCH;
        c.vpp_metadata_refresh_hours = 0;
    })
    .await;
    let DeployWorld {
        location,
        server,
        admin,
        token,
        ..
    } = &world;
    let token = *token;
    let group = |name: &str, parent: Option<i64>| {
        let admin = admin.clone();
        let body = json!({ "name": name, "parent_id": parent });
        async move { admin.post("/groups", body).await["id"].as_i64().unwrap() }
    };
    let head_office = group("本社", None).await;
    let sales = group("営業部", Some(head_office)).await;
    let other = group("開発部", None).await;

    // The rule exists before the devices: enrolling is what triggers it.
    let (status, rule) = admin
        .call(
            Method::POST,
            "/app-rules",
            Some(json!({
                "token_id": token, "adam_id": APP_AUTO, "mode": "auto_install",
                "group_id": head_office, "include_subgroups": true,
                "options": { "removable": false }
            })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{rule}");
    let rule_id = rule["id"].as_i64().unwrap();
    assert_eq!(rule["app_name"], "勤怠管理");
    // A rule for an app the token does not have is refused with the reason.
    let (status, refused) = admin
        .call(
            Method::POST,
            "/app-rules",
            Some(json!({ "token_id": token, "adam_id": "999", "mode": "auto_install" })),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");

    let licenses = location.license_policy();
    let mut fleets = Vec::new();
    for (n, group) in [head_office, sales, other].into_iter().enumerate() {
        let env = world.env(group);
        let (licenses, store) = (licenses.clone(), location.store_catalogue());
        let fleet = Fleet::builder(env)
            .devices(PER_GROUP)
            .seed(n as u64 * 1000 + 1)
            .behaviour(move |i| {
                let base = if n == 2 && i == PER_GROUP - 1 {
                    Behaviour::shared_ipad(Some(ManagedUser::new("hanako@school.example.jp", "山田 花子")))
                } else if i % 2 == 0 {
                    Behaviour::iphone()
                } else {
                    Behaviour::ipad()
                };
                base.with_licenses(licenses.clone())
                    .with_store(store.clone())
                    .with_install_timing(Duration::from_millis(50), Duration::from_millis(100))
            })
            .enroll()
            .await;
        assert!(fleet.failures().is_empty(), "{:?}", &fleet.failures()[..1]);
        fleets.push(fleet);
    }

    // Every device of the head office and sales gets the app, verified.
    let in_scope = 2 * PER_GROUP as i64;
    eventually("auto-install on enrollment", Duration::from_secs(120), || async {
        settled(&deployments_of(admin, "auto_install").await, in_scope)
    })
    .await;
    let applied = admin.get(&format!("/app-rules/{rule_id}")).await;
    assert_eq!(applied["devices_applied"], in_scope);
    for deployment in deployments_of(admin, "auto_install").await {
        assert_eq!(deployment["created_by_name"], "SYSTEM");
        assert!(deployment["name"].as_str().unwrap().starts_with("【自動インストール】"));
    }
    let jobs = admin.get("/jobs?created_by=SYSTEM&status=success&limit=1000").await;
    let installs = jobs
        .as_array()
        .unwrap()
        .iter()
        .filter(|j| j["request_type"] == "InstallApplication")
        .count();
    assert_eq!(installs as i64, in_scope, "SYSTEM registered the installs");
    for fleet in &fleets[..2] {
        for device in fleet.devices() {
            let app = device
                .snapshot()
                .apps
                .into_iter()
                .find(|a| a.itunes_store_id == Some(1000001));
            assert!(
                app.is_some_and(|a| a.managed && a.installed),
                "{}",
                device.serial_number()
            );
        }
    }
    assert!(
        fleets[2]
            .devices()
            .iter()
            .all(|d| d.snapshot().apps.iter().all(|a| a.itunes_store_id != Some(1000001))),
        "devices outside the rule's group got nothing"
    );

    // D9 in the dry run: the shared iPad with a user logged in is flagged,
    // its install waiting for the logout.
    let shared_serial = fleets[2].device(PER_GROUP - 1).unwrap().serial_number().to_owned();
    let preview = admin
        .post(
            "/deployments/preview",
            json!({
                "items": [{ "token_id": token, "adam_id": APP_PORTAL }],
                "target_os": "ios", "license_mode": "auto",
                "devices": { "group_id": other, "all": true }
            }),
        )
        .await;
    assert_eq!(preview["summary"]["waiting_for_logout"], 1, "{preview}");
    let waiting: Vec<&Value> = preview["installs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i.get("waits_for_logout_of").is_some())
        .collect();
    assert_eq!(waiting.len(), 1);
    assert_eq!(waiting[0]["waits_for_logout_of"], "hanako@school.example.jp");

    // Devices moved into sales get it too.
    let devices = admin.get(&format!("/devices?group_id={other}&per_page=100")).await;
    assert_eq!(devices["items"].as_array().unwrap().len(), PER_GROUP);
    let other_devices: Vec<i64> = devices["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["serial_number"] != shared_serial.as_str())
        .map(|d| d["id"].as_i64().unwrap())
        .collect();
    for id in &other_devices[..MOVED] {
        let moved = admin
            .patch(&format!("/devices/{id}"), json!({ "group_id": sales }))
            .await;
        assert_eq!(moved["group_id"], sales, "{moved}");
    }
    eventually("auto-install on joining the group", Duration::from_secs(60), || async {
        settled(&deployments_of(admin, "auto_install").await, in_scope + MOVED as i64)
    })
    .await;

    // The portal of a device that stayed in the other department.
    let (status, portal_rule) = admin
        .call(
            Method::POST,
            "/app-rules",
            Some(json!({
                "token_id": token, "adam_id": APP_PORTAL, "mode": "self_service",
                "group_id": other, "include_subgroups": false
            })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{portal_rule}");
    let portal_rule = portal_rule["id"].as_i64().unwrap();
    let user_device = other_devices[MOVED];
    let link = admin
        .post(&format!("/devices/{user_device}/portal-link?days=7"), json!({}))
        .await;
    let path = link["path"].as_str().unwrap().to_owned();
    let ticket = link["ticket"].as_str().unwrap().to_owned();
    let anonymous = reqwest::Client::new();
    let page = anonymous
        .get(server.url(&path))
        .header("accept-language", "ja")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("社内ポータル &lt;β&gt;"), "names are escaped: {html}");
    assert!(html.contains("インストール</button>"), "{html}");
    let apps_url = server.url(&format!("/api/v1/portal/{ticket}/apps"));
    let apps: Value = anonymous.get(&apps_url).send().await.unwrap().json().await.unwrap();
    assert_eq!(apps["apps"].as_array().unwrap().len(), 1, "{apps}");
    assert_eq!(apps["apps"][0]["state"], "available");
    // A forged or altered link opens nothing.
    let forged = format!("{}x", &ticket[..ticket.len() - 1]);
    for bad in [forged.as_str(), "1.2.99999999999999.AAAA", "nonsense"] {
        let response = anonymous
            .get(server.url(&format!("/api/v1/portal/{bad}/apps")))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{bad}");
    }
    // Two taps at once make one install.
    let install_url = server.url(&format!("/api/v1/portal/{ticket}/apps/{portal_rule}/install"));
    let (first, second) = tokio::join!(anonymous.post(&install_url).send(), anonymous.post(&install_url).send());
    let statuses = [first.unwrap().status(), second.unwrap().status()];
    assert!(statuses.contains(&StatusCode::OK), "{statuses:?}");
    eventually("the portal install", Duration::from_secs(60), || async {
        let apps: Value = anonymous.get(&apps_url).send().await.unwrap().json().await.unwrap();
        match apps["apps"][0]["state"].as_str() {
            Some("installed") => Ok(()),
            other => Err(format!("state {other:?}")),
        }
    })
    .await;
    let portal_deployments = deployments_of(admin, "self_service").await;
    assert_eq!(portal_deployments.len(), 1, "one deployment for two taps");
    settled(&portal_deployments, 1).unwrap();
    // A device outside the portal rule's group is offered nothing.
    let head_device = admin.get(&format!("/devices?group_id={head_office}&per_page=1")).await["items"][0]["id"]
        .as_i64()
        .unwrap();
    let link = admin
        .post(&format!("/devices/{head_device}/portal-link"), json!({}))
        .await;
    let apps: Value = anonymous
        .get(server.url(&format!("/api/v1/portal/{}/apps", link["ticket"].as_str().unwrap())))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(apps["apps"].as_array().unwrap().is_empty(), "{apps}");

    // New store versions: the portal app is opted out of automatic updates.
    let opted = admin
        .request(
            Method::PUT,
            &format!("/vpp/tokens/{token}/assets/{APP_PORTAL}/auto-update"),
        )
        .json(&json!({ "enabled": false }))
        .send()
        .await
        .unwrap();
    assert_eq!(opted.status(), StatusCode::OK);
    location.publish_version(APP_AUTO, "2.0.0");
    location.publish_version(APP_PORTAL, "2.0.0");
    let synced = admin.post(&format!("/vpp/tokens/{token}/sync"), json!({})).await;
    assert!(synced.get("code").is_none(), "{synced}");
    let updated = in_scope + MOVED as i64;
    eventually("automatic updates", Duration::from_secs(120), || async {
        settled(&deployments_of(admin, "auto_update").await, updated)
    })
    .await;
    let updates = deployments_of(admin, "auto_update").await;
    assert!(
        updates
            .iter()
            .all(|d| d["jobs"].as_i64().unwrap() <= UPDATE_BATCH as i64),
        "spread over passes of at most {UPDATE_BATCH} devices"
    );
    assert!(updates.len() >= (updated as usize).div_ceil(UPDATE_BATCH));
    assert!(
        updates.iter().all(|d| d["request"]["items"][0]["adam_id"] == APP_AUTO),
        "the opted-out app was not updated"
    );
    for fleet in &fleets {
        for device in fleet.devices() {
            let snapshot = device.snapshot();
            if let Some(app) = snapshot.apps.iter().find(|a| a.itunes_store_id == Some(1000001)) {
                assert_eq!(app.short_version, "2.0.0", "{}", device.serial_number());
            }
            if let Some(app) = snapshot.apps.iter().find(|a| a.itunes_store_id == Some(1000002)) {
                assert_eq!(app.short_version, "1.0.0", "{}", device.serial_number());
            }
        }
    }

    // Apple's records: every license associated once, and only to devices
    // that got an app.
    let apple = location.snapshot();
    assert_eq!(apple.max_associations_per_pair(), 1);
    assert!(apple.counts_consistent());
    assert_eq!(apple.asset(APP_AUTO).unwrap().assigned_count, updated);
    assert_eq!(apple.asset(APP_PORTAL).unwrap().assigned_count, 1);

    // Reapplying looks at every device again; those that have the app are
    // skipped as up to date, so no new install is made.
    let reapplied = admin.post(&format!("/app-rules/{rule_id}/reapply"), json!({})).await;
    assert_eq!(reapplied["released"], updated);
    eventually("the rule applied again", Duration::from_secs(60), || async {
        let rule = admin.get(&format!("/app-rules/{rule_id}")).await;
        if rule["devices_applied"] == updated {
            Ok(())
        } else {
            Err(format!("{}", rule["devices_applied"]))
        }
    })
    .await;
    settled(&deployments_of(admin, "auto_install").await, updated).unwrap();

    // L3: deleting with "remove auto-installed apps" uninstalls the rule's
    // app first; without it the app stays. Licenses are reclaimed either way.
    let head = admin.get(&format!("/devices?group_id={head_office}&per_page=2")).await;
    let head: Vec<(i64, String)> = head["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["id"].as_i64().unwrap(),
                d["serial_number"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let sim_device = |serial: &str| {
        fleets[0]
            .devices()
            .iter()
            .find(|d| d.serial_number() == serial)
            .unwrap()
            .clone()
    };
    let has_auto_app = |device: &apple_sim::SimDevice| {
        device
            .snapshot()
            .apps
            .iter()
            .any(|a| a.itunes_store_id == Some(1000001) && a.installed)
    };
    let (with_removal, without) = (&head[0], &head[1]);
    let (status, pending) = admin
        .call(
            Method::DELETE,
            &format!("/devices/{}?remove_auto_installed_apps=true", with_removal.0),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{pending}");
    assert_eq!(pending["state"], "removing_apps");
    assert_eq!(pending["bundle_ids"], json!(["com.example.app1000001"]));
    let (status, again) = admin
        .call(
            Method::DELETE,
            &format!("/devices/{}?remove_auto_installed_apps=true", with_removal.0),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{again}");
    let (status, _) = admin
        .call(Method::DELETE, &format!("/devices/{}", without.0), None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    eventually(
        "the device deleted after its app was removed",
        Duration::from_secs(120),
        || async {
            let (status, _) = admin
                .call(Method::GET, &format!("/devices/{}", with_removal.0), None)
                .await;
            if status == StatusCode::NOT_FOUND {
                Ok(())
            } else {
                Err(format!("device still there ({status})"))
            }
        },
    )
    .await;
    assert!(!has_auto_app(&sim_device(&with_removal.1)), "the app was uninstalled");
    assert!(
        has_auto_app(&sim_device(&without.1)),
        "the app stays without the option"
    );
    eventually("both licenses reclaimed", Duration::from_secs(60), || async {
        let assigned = location.snapshot().asset(APP_AUTO).unwrap().assigned_count;
        if assigned == updated - 2 {
            Ok(())
        } else {
            Err(format!("{assigned} assigned"))
        }
    })
    .await;
    assert_eq!(location.snapshot().max_associations_per_pair(), 1);
    world.server.stop().await;
}
