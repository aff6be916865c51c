//! Deployments end to end (SPEC D1-D4, L3-L5, J2-J5, J7): a simulated
//! fleet in a group with a subgroup, two apps from the simulated Apps and
//! Books service, automatic licenses with one app short of licenses. Every
//! install is verified against the device's managed app list; the devices
//! set to fail end in device error with the right diagnosis; the simulator's
//! records show no license associated twice.
//!
//! The fleet size is `DEPLOY_TEST_DEVICES` (2,000 by default).

mod common;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::{Duration, Instant};

use apple_sim::vpp::{AppInfo, AssetSpec, LocationHandle, LocationSpec};
use apple_sim::{Behaviour, Fleet, LicensePolicy, StoreCatalogue};
use common::deploy::DeployWorld;
use common::{Admin, deployment_finished, diagnosis_rows, eventually, no_job_open};
use haishin_storage::on_both_backends;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

on_both_backends!(two_apps_to_a_fleet_with_licenses_short);

const APP_A: &str = "1000001";
const APP_B: &str = "1000002";
/// Deployed later, on a schedule.
const APP_C: &str = "1000003";
/// App A has this many licenses fewer than devices.
const SHORT: usize = 50;

fn fleet_size() -> usize {
    std::env::var("DEPLOY_TEST_DEVICES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000)
}

/// What a device of the fleet does, by index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Healthy,
    /// Unsupervised; the user taps Cancel on the install prompt.
    Refuses,
    /// No space left: the install fails after it was accepted.
    StorageFull,
    /// iOS 15: too old for app B (minimum 16.0), so skipped for it.
    OldOs,
}

fn kind_of(index: usize) -> Kind {
    match index % 50 {
        7 => Kind::Refuses,
        19 => Kind::StorageFull,
        31 => Kind::OldOs,
        _ => Kind::Healthy,
    }
}

fn behaviour(index: usize, licenses: LicensePolicy, store: StoreCatalogue) -> Behaviour {
    let base = match kind_of(index) {
        Kind::Refuses => Behaviour::iphone().with_cancelled_prompts(true),
        Kind::StorageFull => Behaviour::ipad().with_storage_full(true),
        Kind::OldOs => Behaviour::ipad().with_os_version("15.7"),
        Kind::Healthy if index.is_multiple_of(3) => Behaviour::iphone(),
        Kind::Healthy => Behaviour::ipad(),
    };
    base.with_licenses(licenses)
        .with_store(store)
        .with_install_timing(Duration::from_millis(50), Duration::from_millis(100))
}

/// Every job of a deployment, through the console's filter, a page at a time.
async fn jobs_of(admin: &Admin, deployment: i64) -> Vec<Value> {
    let mut all: Vec<Value> = Vec::new();
    loop {
        let before = all
            .last()
            .map(|j| format!("&before_id={}", j["id"]))
            .unwrap_or_default();
        let page = admin
            .get(&format!("/jobs?deployment_id={deployment}&limit=1000{before}"))
            .await;
        let page = page.as_array().unwrap().clone();
        if page.is_empty() {
            return all;
        }
        all.extend(page);
    }
}

fn location(sim: &apple_sim::vpp::VppSim, devices: usize) -> LocationHandle {
    let mut a = AppInfo::app(APP_A);
    a.name = "勤怠管理".into();
    let mut b = AppInfo::app(APP_B);
    b.name = "経費精算".into();
    b.minimum_os_version = "16.0".into();
    sim.add_location(
        LocationSpec::new("株式会社サンプル", "本社")
            .asset(AssetSpec::app(APP_A, (devices - SHORT) as i64).metadata(a))
            .asset(AssetSpec::app(APP_B, devices as i64 * 2).metadata(b))
            .asset(AssetSpec::app(APP_C, devices as i64)),
    )
}

async fn two_apps_to_a_fleet_with_licenses_short(backend: &str) {
    let devices = fleet_size();
    let world = DeployWorld::start(backend, "配信", |sim| location(sim, devices), |_| {}).await;
    let DeployWorld {
        location, admin, token, ..
    } = &world;
    let token = *token;
    let head_office = admin.post("/groups", json!({ "name": "本社" })).await["id"]
        .as_i64()
        .unwrap();
    let sales = admin
        .post("/groups", json!({ "name": "営業部", "parent_id": head_office }))
        .await["id"]
        .as_i64()
        .unwrap();

    // Devices install only what Apple says their serial number is licensed for.
    let licenses = location.license_policy();
    let half = devices / 2;
    let mut fleets = Vec::new();
    for (group, range) in [(head_office, 0..half), (sales, half..devices)] {
        let env = world.env(group);
        let start = range.start;
        let licenses = licenses.clone();
        let store = location.store_catalogue();
        let fleet = Fleet::builder(env)
            .devices(range.len())
            .seed(start as u64 + 1)
            .behaviour(move |i| behaviour(start + i, licenses.clone(), store.clone()))
            .enroll()
            .await;
        assert!(fleet.failures().is_empty(), "{:?}", &fleet.failures()[..1]);
        fleets.push((start, fleet));
    }
    let index_of: HashMap<String, usize> = fleets
        .iter()
        .flat_map(|(start, fleet)| {
            fleet
                .devices()
                .iter()
                .enumerate()
                .map(move |(i, d)| (d.serial_number().to_owned(), start + i))
        })
        .collect();
    no_job_open(admin, "the first inventory of every device", Duration::from_secs(300)).await;

    // The dry run: every device gets app A (50 of them without a license);
    // the iOS 15 devices are skipped for app B with the reason.
    let request = json!({
        "items": [{ "token_id": token, "adam_id": APP_A }, { "token_id": token, "adam_id": APP_B }],
        "target_os": "ios",
        "license_mode": "auto",
        "devices": { "group_id": head_office, "include_subgroups": true, "all": true },
        "options": { "prevent_backup": true, "configuration": { "server": "https://kintai.example.jp" } },
    });
    let old_os = (0..devices).filter(|i| kind_of(*i) == Kind::OldOs).count();
    let preview = admin.post("/deployments/preview", request.clone()).await;
    let summary = &preview["summary"];
    assert_eq!(summary["devices_selected"], devices);
    assert_eq!(summary["installs"], 2 * devices - old_os);
    assert_eq!(summary["licenses"][0]["short"], SHORT, "{}", summary["licenses"]);
    assert_eq!(summary["licenses"][0]["to_assign"], devices - SHORT);
    assert_eq!(summary["licenses"][1]["short"], 0);
    let skipped = summary["skipped"].as_array().unwrap();
    assert_eq!(skipped.len(), old_os);
    assert!(
        skipped
            .iter()
            .all(|s| s["reason"] == "minimum_os" && s["adam_id"] == APP_B)
    );
    assert!(skipped[0]["message_ja"].as_str().unwrap().contains("16.0"));
    assert_eq!(
        admin.get("/jobs?active_only=true&limit=1").await,
        json!([]),
        "a dry run queues nothing"
    );

    // The deployment: licenses first, then verified installs.
    let started = Instant::now();
    let request_again = request.clone();
    let (status, deployment) = admin.call(Method::POST, "/deployments", Some(request)).await;
    assert_eq!(status, StatusCode::CREATED, "{deployment}");
    let id = deployment["id"].as_i64().unwrap();
    assert_eq!(deployment["jobs"], 2 * devices - old_os);
    deployment_finished(admin, id, Duration::from_secs(900)).await;
    let elapsed = started.elapsed();

    let jobs = jobs_of(admin, id).await;
    assert_eq!(jobs.len(), 2 * devices - old_os);
    let succeeded = jobs.iter().filter(|j| j["status"] == "success").count();

    // D4: once the app lists are fetched again (SYSTEM, after each verified
    // install), the same deployment would skip what is installed already.
    no_job_open(admin, "the app lists after the installs", Duration::from_secs(120)).await;
    let again = admin.post("/deployments/preview", request_again.clone()).await;
    let up_to_date = again["summary"]["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["reason"] == "up_to_date")
        .count();
    assert_eq!(up_to_date, succeeded, "{}", again["summary"]["licenses"]);
    let mut outcome: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    for job in &jobs {
        *outcome
            .entry((job["content_id"].as_str().unwrap(), job["status"].as_str().unwrap()))
            .or_default() += 1;
    }
    // L5: exactly the shortage ends license-failed, with counts and remedy.
    assert_eq!(outcome.get(&(APP_A, "license_failed")), Some(&SHORT), "{outcome:?}");
    assert_eq!(outcome.get(&(APP_B, "license_failed")), None, "{outcome:?}");
    let failed_license = jobs.iter().find(|j| j["status"] == "license_failed").unwrap();
    assert_eq!(failed_license["detail"]["needed"], devices);
    assert_eq!(failed_license["detail"]["available"], devices - SHORT);
    let detail = admin
        .in_lang("ja")
        .get(&format!("/jobs/{}", failed_license["id"]))
        .await;
    assert_eq!(detail["status_label"], "ライセンス割り当て失敗");
    let rows = diagnosis_rows(&detail);
    assert!(rows.iter().any(|r| r == "003-license-shortage"), "{rows:?}");

    // Devices set to fail end in device error; every other install succeeded,
    // which the managed app list confirmed (J7).
    let serial_of: HashMap<i64, String> = {
        let page = admin.get("/devices?per_page=1000&page=1").await;
        let mut map = HashMap::new();
        let total = page["total"].as_u64().unwrap() as usize;
        for p in 1..=total.div_ceil(1000) {
            let page = admin.get(&format!("/devices?per_page=1000&page={p}")).await;
            for d in page["items"].as_array().unwrap() {
                map.insert(
                    d["id"].as_i64().unwrap(),
                    d["serial_number"].as_str().unwrap().to_owned(),
                );
            }
        }
        map
    };
    let kind_of_job = |job: &Value| kind_of(index_of[&serial_of[&job["device_id"].as_i64().unwrap()]]);
    let mut refused_job = None;
    let mut full_job = None;
    for job in &jobs {
        match (job["status"].as_str().unwrap(), kind_of_job(job)) {
            ("license_failed", _) => {}
            ("success", Kind::Healthy | Kind::OldOs) => {}
            ("device_error", Kind::Refuses) => refused_job = Some(job["id"].as_i64().unwrap()),
            ("device_error", Kind::StorageFull) => full_job = Some(job["id"].as_i64().unwrap()),
            (status, kind) => panic!("{kind:?} device ended {status}: {job}"),
        }
    }
    let refused_job = refused_job.expect("a refused install among those with a license");
    let detail = admin.get(&format!("/jobs/{refused_job}")).await;
    let rows = diagnosis_rows(&detail);
    assert!(rows.iter().any(|r| r == "004-12063-user-rejected"), "{rows:?}");
    assert_eq!(detail["error_chain"]["ManagedStatus"], "UserRejected");
    // An install accepted but never confirmed (no space): the seeds' row for
    // 成功 without the app, confirmed by the free space, comes first.
    let full = admin.get(&format!("/jobs/{}", full_job.expect("a full device"))).await;
    assert_eq!(full["error_chain"]["ManagedStatus"], "Failed");
    assert_eq!(diagnosis_rows(&full)[0], "003-success-storage", "{}", full["diagnosis"]);

    // Apple's side: each license once, counts consistent, and the devices
    // that got a license are exactly those haishin recorded.
    let apple = location.snapshot();
    assert_eq!(apple.max_associations_per_pair(), 1);
    assert!(apple.counts_consistent());
    assert_eq!(apple.asset(APP_A).unwrap().available_count, 0);
    assert_eq!(apple.asset(APP_A).unwrap().assigned_count as usize, devices - SHORT);
    let recorded = admin.get(&format!("/vpp/licenses?adam_id={APP_A}&limit=100000")).await;
    let recorded: HashSet<&str> = recorded
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["target"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(recorded.len(), devices - SHORT);

    // Resend (再送): the user agrees the second time.
    let refused_device = detail["device_id"].as_i64().unwrap();
    let serial = &serial_of[&refused_device];
    let (start, fleet) = fleets
        .iter()
        .find(|(s, f)| index_of[serial] >= *s && index_of[serial] - s < f.len())
        .unwrap();
    fleet
        .device(index_of[serial] - start)
        .unwrap()
        .update_behaviour(|b| b.cancels_install_prompts = false);
    let (status, resent) = admin
        .call(Method::POST, &format!("/jobs/{refused_job}/resend"), None)
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{resent}");
    let resent = resent["job_id"].as_i64().unwrap();
    eventually("the resent install", Duration::from_secs(60), || async {
        let job = admin.get(&format!("/jobs/{resent}")).await;
        match job["status"].as_str() {
            Some("success") => Ok(()),
            other => Err(format!("{other:?}")),
        }
    })
    .await;

    // A scheduled deployment waits for its time, and can't be later than
    // the day before the token expires.
    let now = time::OffsetDateTime::now_utc();
    let rfc3339 = |t: time::OffsetDateTime| t.format(&time::format_description::well_known::Rfc3339).unwrap();
    let scheduled = json!({
        "items": [{ "token_id": token, "adam_id": APP_C }],
        "target_os": "ios",
        "license_mode": "auto",
        "devices": { "group_id": sales, "all": true },
        "run_at": rfc3339(now + time::Duration::hours(1)),
    });
    let mut too_late = scheduled.clone();
    too_late["run_at"] = json!(rfc3339(now + time::Duration::days(400)));
    let (status, refused) = admin
        .in_lang("ja")
        .call(Method::POST, "/deployments", Some(too_late))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
    assert!(refused["message"].as_str().unwrap().contains("前日まで"), "{refused}");
    let operations_before = location.snapshot().events.len();
    let (status, later) = admin.call(Method::POST, "/deployments", Some(scheduled)).await;
    assert_eq!(status, StatusCode::CREATED, "{later}");
    let later_id = later["id"].as_i64().unwrap();
    assert_eq!(later["status"], "scheduled");
    tokio::time::sleep(Duration::from_secs(2)).await;
    let waiting = jobs_of(admin, later_id).await;
    assert!(!waiting.is_empty());
    assert!(waiting.iter().all(|j| j["status"] == "scheduled"), "{}", waiting[0]);
    assert_eq!(
        location.snapshot().events.len(),
        operations_before,
        "no license before its time"
    );
    // Cancel one, then the rest of the deployment.
    let (status, one) = admin
        .call(Method::POST, "/jobs/cancel", Some(json!({ "ids": [waiting[0]["id"]] })))
        .await;
    assert_eq!((status, one["canceled"].as_u64()), (StatusCode::OK, Some(1)));
    let (status, rest) = admin
        .call(Method::POST, &format!("/deployments/{later_id}/cancel"), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(rest["canceled"].as_u64(), Some(waiting.len() as u64 - 1));
    let later = admin.get(&format!("/deployments/{later_id}")).await;
    assert_eq!(later["status"], "canceled");
    assert_eq!(later["finished"], later["jobs"]);

    // Deleting a device reclaims its automatic licenses and deletes its jobs;
    // so does a wipe, once the device acknowledges it.
    let licensed_device = |skip: i64| {
        jobs.iter()
            .filter(|j| j["status"] == "success" && j["content_id"] == APP_A)
            .map(|j| j["device_id"].as_i64().unwrap())
            .find(|d| *d != skip)
            .unwrap()
    };
    let deleted = licensed_device(0);
    let wiped = licensed_device(deleted);
    let (status, _) = admin.call(Method::DELETE, &format!("/devices/{deleted}"), None).await;
    assert!(status.is_success());
    let (status, _) = admin.call(Method::POST, &format!("/devices/{wiped}/wipe"), None).await;
    assert!(status.is_success());
    for device in [deleted, wiped] {
        let serial = serial_of[&device].clone();
        let location = location.clone();
        eventually("the automatic licenses to go back", Duration::from_secs(120), || {
            let location = location.clone();
            let serial = serial.clone();
            async move {
                let held: Vec<&str> = [APP_A, APP_B]
                    .into_iter()
                    .filter(|a| location.serial_holds_license(a, &serial))
                    .collect();
                if held.is_empty() {
                    Ok(())
                } else {
                    Err(format!("{serial} holds {held:?}"))
                }
            }
        })
        .await;
    }
    let (status, _) = admin.call(Method::GET, &format!("/devices/{deleted}/jobs"), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let gone = admin.get(&format!("/jobs?device_id={deleted}")).await;
    assert_eq!(gone, json!([]));
    assert_eq!(location.snapshot().max_associations_per_pair(), 1);

    eprintln!(
        "{backend}: {devices} devices, {} jobs finished in {:.1} s; {outcome:?}",
        jobs.len(),
        elapsed.as_secs_f64()
    );
    world.server.stop().await;
}
