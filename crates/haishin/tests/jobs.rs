//! The job console over real HTTP (SPEC J3, J4): statuses with the seeds'
//! labels, filters, cancel one / shown / all, roles and tenancy.

mod common;

use haishin_storage::on_both_backends;

use common::TestServer;
use haishin_domain::auth::{Actor, Role};
use haishin_domain::ids::{AccountId, AdminId, DeviceId};
use haishin_domain::jobs::{JobOutcome, NewJob};
use haishin_domain::time_util::Timestamp;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

on_both_backends!(job_console);

fn job(device: i64, uuid: &str) -> NewJob {
    NewJob {
        device_id: DeviceId(device),
        command_uuid: uuid.into(),
        request_type: "InstalledApplicationList".into(),
        command: "<plist/>".into(),
        run_at: None,
        content: None,
    }
}

fn uuids(jobs: &Value) -> Vec<&str> {
    jobs.as_array()
        .unwrap()
        .iter()
        .map(|j| j["command_uuid"].as_str().unwrap())
        .collect()
}

async fn job_console(backend: &str) {
    let server = TestServer::start(backend).await;
    let admin = server.account("ジョブ", Role::AccountAdmin).await;
    let device = |name: &'static str| {
        let admin = admin.clone();
        async move {
            admin
                .post("/devices", json!({ "group_id": 1, "display_name": name }))
                .await
        }
    };
    let first = device("一号機").await;
    let second = device("二号機").await;
    let (d1, d2) = (first["id"].as_i64().unwrap(), second["id"].as_i64().unwrap());

    // Jobs as the MDM layer queues them: two by this admin, one by SYSTEM.
    let store = &server.running.services.store;
    let by_admin = Actor {
        account_id: AccountId(admin.account_id),
        admin_id: Some(AdminId(admin.admin_id)),
        name: "tanaka".into(),
        role: Role::AccountAdmin,
    };
    store
        .enqueue_jobs(&by_admin, &[job(d1, "j1"), job(d1, "j2")], Timestamp::now())
        .await
        .unwrap();
    store
        .enqueue_jobs(
            &Actor::system(AccountId(admin.account_id)),
            &[job(d2, "j3")],
            Timestamp::now(),
        )
        .await
        .unwrap();
    store
        .next_delivery(AccountId(admin.account_id), DeviceId(d1), Timestamp::now())
        .await
        .unwrap();
    store
        .record_report(
            AccountId(admin.account_id),
            DeviceId(d1),
            "j1",
            &JobOutcome::Succeeded,
            Timestamp::now(),
        )
        .await
        .unwrap();

    let all = admin.in_lang("ja").get("/jobs").await;
    assert_eq!(uuids(&all), vec!["j3", "j2", "j1"]);
    assert_eq!(all[2]["status"], "success");
    assert_eq!(all[2]["status_label"], "成功");
    assert_eq!(all[1]["status_label"], "待機中");
    assert_eq!(all[0]["created_by_name"], "SYSTEM");
    assert_eq!(all[0]["device_number"], second["device_number"]);
    let english = admin.get("/jobs?status=success").await;
    assert_eq!(english[0]["status_label"], "Success");
    assert_eq!(uuids(&admin.get("/jobs?active_only=true").await), vec!["j3", "j2"]);
    assert_eq!(uuids(&admin.get("/jobs?created_by=SYSTEM").await), vec!["j3"]);
    let number = first["device_number"].as_str().unwrap();
    assert_eq!(
        uuids(&admin.get(&format!("/jobs?device_number={number}")).await),
        vec!["j2", "j1"]
    );
    assert_eq!(uuids(&admin.get(&format!("/devices/{d2}/jobs")).await), vec!["j3"]);
    let (status, body) = admin.call(Method::GET, "/jobs?month=2026-13", None).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_field"))
    );

    // Read-only admins see jobs but cancel nothing; other accounts see nothing.
    let reader = server.colleague(&admin, Role::ReadOnly).await;
    assert_eq!(reader.get("/jobs").await.as_array().unwrap().len(), 3);
    let (status, _) = reader
        .call(Method::POST, "/jobs/cancel", Some(json!({ "all": true })))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let stranger = server.account("他社", Role::AccountAdmin).await;
    assert!(stranger.get("/jobs").await.as_array().unwrap().is_empty());
    let (status, _) = stranger.call(Method::GET, &format!("/devices/{d1}/jobs"), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let ids: Vec<i64> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["id"].as_i64().unwrap())
        .collect();
    let stolen = stranger.post("/jobs/cancel", json!({ "ids": ids })).await;
    assert_eq!(stolen["canceled"], 0);

    // Cancel the shown jobs: only unfinished ones change. Then cancel all.
    let shown = admin.post("/jobs/cancel", json!({ "ids": [ids[1], ids[2]] })).await;
    assert_eq!(shown["canceled"], 1, "j1 had succeeded");
    let (status, body) = admin.call(Method::POST, "/jobs/cancel", Some(json!({}))).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("cancel_selection"))
    );
    assert_eq!(admin.post("/jobs/cancel", json!({ "all": true })).await["canceled"], 1);
    let after = admin.get("/jobs").await;
    let statuses: Vec<&str> = after
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, vec!["canceled", "canceled", "success"]);
    let audit = admin.get("/audit?target_type=job").await;
    assert_eq!(audit.as_array().unwrap().len(), 2, "each cancel is audited: {audit}");
    server.stop().await;
}
