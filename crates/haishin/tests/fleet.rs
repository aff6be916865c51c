//! The MDM protocol end to end with the Apple simulator: a simulated fleet
//! enrolls through real enrollment profiles, APNs pushes wake it over
//! HTTP/2, and the durable queue drives it (SPEC J1, J2, M1-M5).

mod common;

use std::time::Duration;

use apple_sim::{ApnsSim, Behaviour, Fleet, HttpProfileSource, Lifecycle, ManagedUser, SimEnv};
use common::mdm::{TOPIC_A, push_certificate, upload_push_certificate};
use common::{TestServer, eventually};
use haishin_domain::auth::Role;
use haishin_storage::on_both_backends;
use reqwest::StatusCode;
use serde_json::{Value, json};

on_both_backends!(a_fleet_enrolls_and_the_queue_drives_it);

const FLEET: usize = 500;
const LOCKED: usize = 7;
const OFFLINE: usize = 11;
const LEAVER: usize = 13;
const ORDERED: usize = 17;
const SHARED: usize = 19;
const SILENT_LEAVER: usize = 23;

async fn device_id(admin: &common::Admin, udid: &str) -> i64 {
    // Keyword search matches substrings; pick the exact UDID.
    let page = admin.get(&format!("/devices?q={udid}&field=udid&per_page=100")).await;
    let items = page["items"].as_array().unwrap();
    let found = items.iter().find(|d| d["udid"] == udid);
    found
        .and_then(|d| d["id"].as_i64())
        .unwrap_or_else(|| panic!("device {udid} not among {} results", items.len()))
}

async fn jobs_of(admin: &common::Admin, device: i64) -> Vec<Value> {
    admin
        .get(&format!("/devices/{device}/jobs"))
        .await
        .as_array()
        .unwrap()
        .clone()
}

async fn a_fleet_enrolls_and_the_queue_drives_it(backend: &str) {
    let apns = ApnsSim::start_tls().await.unwrap();
    let ca_file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(ca_file.path(), apns.root_ca_pem().unwrap()).unwrap();
    let server = TestServer::start_with(backend, |c| {
        c.apns_url = apns.base_url().to_owned();
        c.apns_ca_file = ca_file.path().display().to_string();
        c.push_interval_ms = 100;
        c.push_timeout_seconds = 2;
        c.repush_after_seconds = 3;
    })
    .await;
    let admin = server.account("全社", Role::AccountAdmin).await;
    let (cert, key) = push_certificate(TOPIC_A, 365);
    assert_eq!(
        upload_push_certificate(&admin, &cert, &key, false).await.0,
        StatusCode::OK
    );
    let group = admin.post("/groups", json!({ "name": "営業本部" })).await["id"]
        .as_i64()
        .unwrap();

    let env = SimEnv::builder(HttpProfileSource::for_group(&server.running.url(), group).with_bearer(&admin.token))
        .apns(apns.clone())
        .build()
        .unwrap();
    let fleet = Fleet::builder(env)
        .devices(FLEET)
        .behaviour(|i| match i {
            LOCKED => Behaviour::ipad().with_locked(true),
            SHARED => Behaviour::shared_ipad(Some(ManagedUser::new("hanako@school.example.jp", "山田 花子"))),
            i if i % 3 == 0 => Behaviour::iphone(),
            _ => Behaviour::ipad(),
        })
        .enroll()
        .await;
    assert!(
        fleet.failures().is_empty(),
        "{:?}",
        &fleet.failures()[..fleet.failures().len().min(3)]
    );
    assert_eq!(admin.get("/devices?per_page=1").await["total"], FLEET);

    // Every device's SYSTEM DeviceInformation succeeds, pushed through APNs.
    eventually("SYSTEM inventory of the fleet", Duration::from_secs(120), || async {
        let done = admin.get("/jobs?created_by=SYSTEM&status=success&limit=1000").await;
        let device_info = done
            .as_array()
            .unwrap()
            .iter()
            .filter(|j| j["request_type"] == "DeviceInformation")
            .count();
        if device_info == FLEET {
            Ok(())
        } else {
            Err(format!("{device_info} done"))
        }
    })
    .await;
    let device = admin
        .get(&format!(
            "/devices/{}",
            device_id(&admin, fleet.devices()[1].udid()).await
        ))
        .await;
    assert_eq!(device["enrollment_state"], "enrolled");
    assert_eq!(device["platform"], "iPadOS");
    assert!(
        device["os_version"].is_string() && device["capacity_mb"].is_i64(),
        "{device}"
    );
    assert_eq!(device["supervised"], true);
    let iphone = admin
        .get(&format!(
            "/devices/{}",
            device_id(&admin, fleet.devices()[3].udid()).await
        ))
        .await;
    assert_eq!(iphone["platform"], "iOS");
    assert!(iphone["itunes_store_account_hash"].is_string(), "signed in: {iphone}");
    assert!(apns.counters().status(200) >= FLEET as u64);

    // A device that goes offline: its job times out, and still runs when it
    // comes back.
    let offline = &fleet.devices()[OFFLINE];
    let offline_id = device_id(&admin, offline.udid()).await;
    offline.update_behaviour(|b| b.offline = true);
    admin
        .post(
            &format!("/devices/{offline_id}/commands"),
            json!({ "commands": ["DeviceInformation"] }),
        )
        .await;
    eventually("the offline device's push timeout", Duration::from_secs(30), || async {
        let jobs = jobs_of(&admin, offline_id).await;
        if jobs[0]["status"] == "push_timeout" {
            Ok(())
        } else {
            Err(jobs[0]["status"].to_string())
        }
    })
    .await;
    offline.update_behaviour(|b| b.offline = false);
    eventually(
        "the offline device's jobs after it returns",
        Duration::from_secs(30),
        || async {
            let jobs = jobs_of(&admin, offline_id).await;
            if jobs.iter().all(|j| j["status"] == "success") {
                Ok(())
            } else {
                Err(format!("{jobs:?}"))
            }
        },
    )
    .await;

    // A locked device answers NotNow; the job waits and succeeds after unlock.
    let locked = &fleet.devices()[LOCKED];
    let locked_id = device_id(&admin, locked.udid()).await;
    let queued = admin
        .post(
            &format!("/devices/{locked_id}/commands"),
            json!({ "commands": ["ManagedApplicationList"] }),
        )
        .await;
    let job = queued["job_ids"][0].as_i64().unwrap();
    let job_of = |jobs: Vec<Value>| jobs.into_iter().find(|j| j["id"] == job).unwrap();
    eventually("NotNow from the locked device", Duration::from_secs(30), || async {
        let j = job_of(jobs_of(&admin, locked_id).await);
        if j["not_now_count"].as_i64() >= Some(1) && j["status"] == "waiting" {
            Ok(())
        } else {
            Err(j.to_string())
        }
    })
    .await;
    locked.update_behaviour(|b| b.locked = false);
    eventually(
        "the locked device's job after unlock",
        Duration::from_secs(30),
        || async {
            let j = job_of(jobs_of(&admin, locked_id).await);
            if j["status"] == "success" {
                Ok(())
            } else {
                Err(j.to_string())
            }
        },
    )
    .await;

    // One device's jobs run strictly in the order registered.
    let ordered = &fleet.devices()[ORDERED];
    let ordered_id = device_id(&admin, ordered.udid()).await;
    let sequence = [
        "ManagedMediaList",
        "DeviceInformation",
        "ManagedApplicationList",
        "InstalledApplicationList",
    ];
    let mut expected = Vec::new();
    for _ in 0..3 {
        let queued = admin
            .post(
                &format!("/devices/{ordered_id}/commands"),
                json!({ "commands": sequence }),
            )
            .await;
        expected.extend(sequence);
        assert_eq!(queued["job_ids"].as_array().unwrap().len(), sequence.len());
    }
    eventually("the ordered device's twelve jobs", Duration::from_secs(30), || async {
        let jobs = jobs_of(&admin, ordered_id).await;
        let open = jobs.iter().filter(|j| j["status"] != "success").count();
        if open == 0 { Ok(()) } else { Err(format!("{open} open")) }
    })
    .await;
    let seen: Vec<String> = ordered
        .snapshot()
        .commands
        .iter()
        .map(|c| c.request_type.clone())
        .collect();
    assert_eq!(
        &seen[seen.len() - expected.len()..],
        expected.as_slice(),
        "device saw {seen:?}"
    );
    let jobs = jobs_of(&admin, ordered_id).await;
    let mut by_id: Vec<&Value> = jobs.iter().collect();
    by_id.sort_by_key(|j| j["id"].as_i64());
    let rfc3339 = &time::format_description::well_known::Rfc3339;
    let delivered: Vec<time::OffsetDateTime> = by_id
        .iter()
        .map(|j| time::OffsetDateTime::parse(j["delivered_at"].as_str().unwrap(), rfc3339).unwrap())
        .collect();
    assert!(
        delivered.windows(2).all(|w| w[0] <= w[1]),
        "delivered in id order: {delivered:?}"
    );

    // A device whose profile is removed checks out and is unenrolled.
    let leaver = &fleet.devices()[LEAVER];
    let leaver_id = device_id(&admin, leaver.udid()).await;
    leaver.unenroll().await.unwrap();
    assert!(matches!(leaver.snapshot().lifecycle, Lifecycle::Unenrolled { .. }));
    assert_eq!(
        admin.get(&format!("/devices/{leaver_id}")).await["enrollment_state"],
        "unenrolled"
    );

    // A Shared iPad's logged-in user has a channel of its own, apart from the device's.
    let shared_id = device_id(&admin, fleet.devices()[SHARED].udid()).await;
    eventually("the Shared iPad user channel", Duration::from_secs(20), || async {
        let mdm = admin.get(&format!("/devices/{shared_id}/mdm")).await;
        let channels = &mdm["enrollment"]["user_channels"];
        if channels[0] == "hanako@school.example.jp" {
            Ok(())
        } else {
            Err(channels.to_string())
        }
    })
    .await;
    let shared = admin.get(&format!("/devices/{shared_id}")).await;
    assert_eq!(shared["shared_ipad"], true);

    // A device removed while offline cannot send its CheckOut; APNs then
    // answers Unregistered and the server stops pushing to it.
    let silent = &fleet.devices()[SILENT_LEAVER];
    let silent_id = device_id(&admin, silent.udid()).await;
    silent.update_behaviour(|b| b.offline = true);
    silent.unenroll().await.unwrap();
    admin
        .post(
            &format!("/devices/{silent_id}/commands"),
            json!({ "commands": ["DeviceInformation"] }),
        )
        .await;
    eventually("Unregistered recorded", Duration::from_secs(20), || async {
        let mdm = admin.get(&format!("/devices/{silent_id}/mdm")).await;
        let failure = &mdm["enrollment"]["push_failure"];
        if failure == "Unregistered" {
            Ok(())
        } else {
            Err(failure.to_string())
        }
    })
    .await;
    let pushes = apns.counters().status(410);
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert_eq!(
        apns.counters().status(410),
        pushes,
        "no more pushes to a dead token after re-push time"
    );

    // Wipe: the device acknowledges EraseDevice and is gone; APNs then says
    // Unregistered and the server stops pushing to it.
    let wiped = &fleet.devices()[1];
    let wiped_id = device_id(&admin, wiped.udid()).await;
    admin.post(&format!("/devices/{wiped_id}/wipe"), json!({})).await;
    wiped
        .wait_for("wiped", Duration::from_secs(30), |s| {
            matches!(s.lifecycle, Lifecycle::Wiped)
        })
        .await
        .unwrap();
    eventually("the wiped device unenrolled", Duration::from_secs(10), || async {
        let d = admin.get(&format!("/devices/{wiped_id}")).await;
        if d["enrollment_state"] == "unenrolled" {
            Ok(())
        } else {
            Err(d["enrollment_state"].to_string())
        }
    })
    .await;

    // Deleting a device deletes its jobs.
    assert_eq!(
        admin
            .call(reqwest::Method::DELETE, &format!("/devices/{ordered_id}"), None)
            .await
            .0,
        StatusCode::NO_CONTENT
    );
    let all = admin.get("/jobs?limit=1000").await;
    assert!(all.as_array().unwrap().iter().all(|j| j["device_id"] != ordered_id));
    server.stop().await;
    apns.stop();
}
