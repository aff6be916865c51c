//! Books and Macs end to end (SPEC D1-D3, L4, J5, J7; seed 001's
//! "apps and books × target platform"): a book goes to the VPP users of
//! the devices' owners and is verified in the managed media list; a device
//! signed in with another Apple Account than its user's fails, and its
//! diagnosis says so; a Mac app goes to the Macs only, verified in their
//! managed app lists. Apple's records show each license assigned once.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use apple_sim::vpp::{AppInfo, AssetSpec, LocationSpec};
use apple_sim::{Behaviour, Fleet, SimDevice};
use apple_vpp::Platform;
use common::deploy::DeployWorld;
use common::{Admin, deployment_finished, diagnosis_rows, eventually, no_job_open};
use haishin_storage::on_both_backends;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

on_both_backends!(books_to_vpp_users_and_apps_to_macs);

const BOOK: &str = "2000001";
const MAC_APP: &str = "4000001";
const IOS_APP: &str = "1000001";

/// iPad `i` is signed in to the App Store with this account.
fn account_of(ipad: usize) -> String {
    format!("c2ltLWFjY291bnQt{ipad:04}")
}

/// What each iPad's owner is, by index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Owner {
    /// A VPP user who accepted the invitation signed in as on the iPad.
    Joined,
    /// A VPP user who accepted signed in with another Apple Account.
    JoinedAsSomeoneElse,
    /// Nobody: no VPP user to license the book to.
    Nobody,
}

const IPADS: [Owner; 4] = [Owner::Joined, Owner::Joined, Owner::JoinedAsSomeoneElse, Owner::Nobody];
const MACS: usize = 3;

async fn books_to_vpp_users_and_apps_to_macs(backend: &str) {
    let world = DeployWorld::start(
        backend,
        "書籍",
        |sim| {
            let mut mac_app = AppInfo::mac_app(MAC_APP);
            mac_app.name = "経費精算 for Mac".into();
            sim.add_location(
                LocationSpec::new("株式会社サンプル", "本社")
                    .asset(AssetSpec::book(BOOK, 10))
                    .asset(
                        AssetSpec::app(MAC_APP, 10)
                            .platforms(vec![Platform::MacOs])
                            .metadata(mac_app),
                    )
                    .asset(AssetSpec::app(IOS_APP, 10).metadata(AppInfo::app(IOS_APP))),
            )
        },
        |_| {},
    )
    .await;
    let DeployWorld {
        location,
        admin,
        token,
        top,
        ..
    } = &world;
    let (licenses, store) = (location.license_policy(), location.store_catalogue());
    let ipads = {
        let (licenses, store) = (licenses.clone(), store.clone());
        Fleet::builder(world.env(*top))
            .devices(IPADS.len())
            .behaviour(move |i| {
                Behaviour::ipad()
                    .with_signed_in(true)
                    .with_apple_account_hash(account_of(i))
                    .with_licenses(licenses.clone())
                    .with_store(store.clone())
            })
            .enroll()
            .await
    };
    let macs = Fleet::builder(world.env(*top))
        .devices(MACS)
        .seed(7)
        .behaviour(move |_| {
            Behaviour::mac()
                .with_licenses(licenses.clone())
                .with_store(store.clone())
        })
        .enroll()
        .await;
    assert!(ipads.failures().is_empty() && macs.failures().is_empty());
    no_job_open(admin, "the first inventories", Duration::from_secs(60)).await;

    let devices = device_ids(admin).await;
    let mac_ids: Vec<i64> = macs
        .devices()
        .iter()
        .map(|d| devices[&serial(d)]["id"].as_i64().unwrap())
        .collect();
    for mac in &mac_ids {
        let device = admin.get(&format!("/devices/{mac}")).await;
        assert_eq!(device["platform"], "macOS", "{device}");
    }

    // The iPads' owners, and their VPP users.
    let mut client_user_of = BTreeMap::new();
    for (i, owner) in IPADS.iter().enumerate() {
        let person = admin
            .post(
                "/users",
                json!({ "group_id": top, "employee_number": format!("E{i:03}"), "name": format!("社員 {i}"), "email": format!("e{i}@example.jp") }),
            )
            .await;
        let person_id = person["id"].as_i64().unwrap();
        let ipad = devices[&serial(&ipads.devices()[i])]["id"].as_i64().unwrap();
        admin
            .patch(&format!("/devices/{ipad}"), json!({ "owner_id": person_id }))
            .await;
        let apple_account = match owner {
            Owner::Joined => account_of(i),
            Owner::JoinedAsSomeoneElse => "c29tZW9uZS1lbHNl".to_owned(),
            Owner::Nobody => continue,
        };
        let user = admin
            .post(&format!("/vpp/tokens/{token}/users"), json!({ "user_id": person_id }))
            .await;
        let client_user_id = user["client_user_id"].as_str().unwrap().to_owned();
        location
            .user_accepts_invitation_as(&client_user_id, &apple_account)
            .unwrap();
        client_user_of.insert(i, client_user_id);
    }
    eventually("the users associated", Duration::from_secs(30), || async {
        let users = admin.get(&format!("/vpp/tokens/{token}/users")).await;
        let associated = users
            .as_array()
            .unwrap()
            .iter()
            .filter(|u| u["status"] == "associated")
            .count();
        if associated == client_user_of.len() {
            Ok(())
        } else {
            Err(format!("{users}"))
        }
    })
    .await;

    // The book, to every device: the Macs are skipped for the platform
    // chosen, the iPad whose owner has no VPP user for that reason.
    let book_request = json!({
        "items": [{ "token_id": token, "adam_id": BOOK }],
        "target_os": "ios", "license_mode": "auto",
        "devices": { "group_id": top, "all": true },
    });
    let preview = admin.post("/deployments/preview", book_request.clone()).await;
    let reasons = skip_reasons(&preview);
    assert_eq!(reasons.get("platform"), Some(&MACS), "{preview}");
    assert_eq!(reasons.get("no_vpp_user"), Some(&1), "{preview}");
    assert_eq!(preview["summary"]["installs"], 3, "{preview}");
    let book_jobs = run_deployment(admin, book_request, 3).await;

    // Licensed to the users, not the serial numbers; installed and seen in
    // the managed media list where the Apple Account is the user's.
    let apple = location.snapshot();
    assert_eq!(apple.asset(BOOK).unwrap().assigned_count, 3);
    assert_eq!(apple.max_associations_per_pair(), 1);
    let held = admin.get(&format!("/vpp/licenses?adam_id={BOOK}")).await;
    let mut held_by: Vec<&str> = held
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["target"]["id"].as_str().unwrap())
        .collect();
    held_by.sort_unstable();
    let mut expected: Vec<&str> = client_user_of.values().map(String::as_str).collect();
    expected.sort_unstable();
    assert_eq!(held_by, expected);
    for (i, owner) in IPADS.iter().enumerate() {
        let ipad = &ipads.devices()[i];
        let job = book_jobs
            .iter()
            .find(|j| j["device_id"] == devices[&serial(ipad)]["id"]);
        let has_book = ipad
            .snapshot()
            .books
            .iter()
            .any(|b| b.itunes_store_id == Some(BOOK.parse().unwrap()));
        match owner {
            Owner::Joined => {
                assert_eq!(job.unwrap()["status"], "success", "{job:?}");
                assert!(has_book, "iPad {i} has the book");
            }
            Owner::JoinedAsSomeoneElse => {
                let job = job.unwrap();
                assert_eq!(job["status"], "device_error", "{job}");
                assert!(!has_book);
                let detail = admin.in_lang("ja").get(&format!("/jobs/{}", job["id"])).await;
                let rows = diagnosis_rows(&detail);
                assert!(
                    rows.iter().any(|r| r == "004-apple-id-hash-mismatch"),
                    "{rows:?} {detail}"
                );
            }
            Owner::Nobody => assert!(job.is_none() && !has_book),
        }
    }

    // An iPhone/iPad app cannot be deployed for macOS: refused, with the reason.
    let (status, refused) = admin
        .call(
            Method::POST,
            "/deployments/preview",
            Some(json!({
                "items": [{ "token_id": token, "adam_id": IOS_APP }],
                "target_os": "macos", "license_mode": "auto",
                "devices": { "group_id": top, "all": true },
            })),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
    assert!(refused["message"].as_str().unwrap().contains("macOS"), "{refused}");

    // The Mac app, for macOS: it goes to the Macs only.
    let mac_request = json!({
        "items": [{ "token_id": token, "adam_id": MAC_APP }],
        "target_os": "macos", "license_mode": "auto",
        "devices": { "group_id": top, "all": true },
    });
    let preview = admin.post("/deployments/preview", mac_request.clone()).await;
    let reasons = skip_reasons(&preview);
    assert_eq!(reasons.get("platform"), Some(&IPADS.len()), "{preview}");
    assert_eq!(reasons.len(), 1, "{preview}");
    let mac_jobs = run_deployment(admin, mac_request, MACS).await;
    assert!(mac_jobs.iter().all(|j| j["status"] == "success"), "{mac_jobs:?}");
    assert!(
        mac_jobs
            .iter()
            .all(|j| mac_ids.contains(&j["device_id"].as_i64().unwrap()))
    );
    let apple = location.snapshot();
    assert_eq!(apple.asset(MAC_APP).unwrap().assigned_count as usize, MACS);
    assert_eq!(apple.max_associations_per_pair(), 1);
    for mac in macs.devices() {
        let app = mac
            .snapshot()
            .apps
            .into_iter()
            .find(|a| a.itunes_store_id == Some(MAC_APP.parse().unwrap()))
            .expect("the Mac app installed");
        assert!(app.managed && app.installed, "{app:?}");
    }
    world.server.stop().await;
}

fn serial(device: &SimDevice) -> String {
    device.hardware().serial_number.clone()
}

/// Every device of the account, by serial number.
async fn device_ids(admin: &Admin) -> BTreeMap<String, Value> {
    let page = admin.get("/devices?per_page=100&page=1").await;
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["serial_number"].as_str().unwrap().to_owned(), d.clone()))
        .collect()
}

fn skip_reasons(preview: &Value) -> BTreeMap<String, usize> {
    let mut reasons = BTreeMap::new();
    for skip in preview["summary"]["skipped"].as_array().unwrap() {
        *reasons.entry(skip["reason"].as_str().unwrap().to_owned()).or_default() += 1;
    }
    reasons
}

/// Creates the deployment, waits for every job to end, returns the jobs.
async fn run_deployment(admin: &Admin, request: Value, jobs: usize) -> Vec<Value> {
    let (status, deployment) = admin.call(Method::POST, "/deployments", Some(request)).await;
    assert_eq!(status, StatusCode::CREATED, "{deployment}");
    assert_eq!(deployment["jobs"], jobs, "{deployment}");
    let id = deployment["id"].as_i64().unwrap();
    deployment_finished(admin, id, Duration::from_secs(120)).await;
    admin
        .get(&format!("/jobs?deployment_id={id}"))
        .await
        .as_array()
        .unwrap()
        .clone()
}
