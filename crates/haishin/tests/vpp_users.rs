//! VPP users over real HTTP against the simulated Apps and Books service
//! (SPEC U1-U6): create, invite by mail (a real SMTP conversation), the
//! user accepts, USER_ASSOCIATED arrives, a license is granted; the Apple
//! ID hash compared with the devices'; retiring releases the license.

mod common;

use std::time::{Duration, Instant};

use common::TestServer;
use common::mdm::{ManualDevice, TOPIC_A, command_of, push_certificate, upload_push_certificate};
use common::vpp::{catalogue_location, finished_operation, register, start_sim, top_group, use_sim};
use haishin_domain::auth::Role;
use haishin_domain::ids::{AccountId, DeviceId};
use haishin_domain::mdm::store::DeviceFacts;
use haishin_domain::time_util::Timestamp;
use haishin_mail::testing::SmtpSink;
use haishin_storage::on_both_backends;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

on_both_backends!(invite_accept_license_compare_and_retire);

async fn invite_accept_license_compare_and_retire(backend: &str) {
    let sim = start_sim().await;
    let location = catalogue_location(&sim, "本社", 1, 10);
    let sink = SmtpSink::start().await.unwrap();
    let server = TestServer::start_with(backend, |c| {
        use_sim(c, &sim);
        c.smtp_url = sink.url();
        c.mail_from = "haishin <noreply@haishin.test>".into();
    })
    .await;
    let admin = server.account("ユーザー", Role::AccountAdmin).await;
    let group = top_group(&admin).await;
    let (_, token) = register(&admin, group, &location).await;
    let token = token["id"].as_i64().unwrap();
    let person = admin
        .post(
            "/users",
            json!({ "group_id": group, "employee_number": "E001", "name": "山田 太郎", "email": "yamada@example.jp" }),
        )
        .await;
    let person_id = person["id"].as_i64().unwrap();

    // U1: created and registered at Apple, with an invitation code.
    let (status, user) = admin
        .call(
            Method::POST,
            &format!("/vpp/tokens/{token}/users"),
            Some(json!({ "user_id": person_id })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{user}");
    assert_eq!(user["status"], "registered", "{user}");
    let client_user_id = user["client_user_id"].as_str().unwrap().to_owned();
    let invite_code = user["invite_code"].as_str().expect("an invitation code").to_owned();
    let apple = location.snapshot();
    assert_eq!(
        apple.active_user(&client_user_id).unwrap().email.as_deref(),
        Some("yamada@example.jp")
    );

    // U2: no device to notify is a refusal that says so; the mail goes out.
    let (status, body) = admin
        .in_lang("ja")
        .call(
            Method::POST,
            &format!("/vpp/tokens/{token}/users/{client_user_id}/invite"),
            Some(json!({ "by": "device" })),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("vpp_user_no_device")),
        "{body}"
    );
    let (status, body) = admin
        .call(
            Method::POST,
            &format!("/vpp/tokens/{token}/users/{client_user_id}/invite"),
            Some(json!({ "by": "mail" })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let mails = sink.wait_for(1, Duration::from_secs(10)).await.unwrap();
    assert_eq!(mails[0].rcpt_to, vec!["yamada@example.jp".to_owned()]);
    let text = mails[0].text_body().unwrap();
    assert!(
        text.contains(&invite_code),
        "the invitation URL carries the code: {text}"
    );

    // Through the user's devices once one is enrolled: an InviteToProgram
    // job carrying the same invitation.
    let (cert, key) = push_certificate(TOPIC_A, 365);
    assert_eq!(
        upload_push_certificate(&admin, &cert, &key, false).await.0,
        StatusCode::OK
    );
    let ipad = ManualDevice::from_profile(&admin, "", "00008030-00BB2C3E0C43802A").await;
    assert_eq!(ipad.checkin(ipad.authenticate()).await.0, StatusCode::OK);
    assert_eq!(ipad.checkin(ipad.token_update()).await.0, StatusCode::OK);
    let ipad_id = admin.get("/devices?q=00008030-00BB2C3E0C43802A&field=udid").await["items"][0]["id"]
        .as_i64()
        .unwrap();
    admin
        .patch(&format!("/devices/{ipad_id}"), json!({ "owner_id": person_id }))
        .await;
    let invited = admin
        .post(
            &format!("/vpp/tokens/{token}/users/{client_user_id}/invite"),
            json!({ "by": "device" }),
        )
        .await;
    let jobs = invited["job_ids"].as_array().unwrap();
    assert_eq!(jobs.len(), 1, "{invited}");
    let job = admin.get(&format!("/jobs/{}", jobs[0])).await;
    assert_eq!(job["request_type"], "InviteToProgram");
    assert_eq!(job["device_id"], ipad_id);
    // The device fetches the command with the invitation URL in it.
    let mut body = ipad.connect(ipad.idle()).await.1;
    loop {
        let (uuid, request_type) = command_of(&body);
        if request_type == "InviteToProgram" {
            assert!(String::from_utf8_lossy(&body).contains(&invite_code));
            break;
        }
        body = ipad.connect(ipad.report("Error", &uuid, "")).await.1;
    }

    // The user accepts: USER_ASSOCIATED reaches haishin.
    let id_hash = location.user_accepts_invitation(&client_user_id).unwrap();
    let associated = wait_for_user(&admin, token, &client_user_id, |u| u["status"] == "associated").await;
    assert_eq!(associated["id_hash"], id_hash.as_str());

    // U4: a license for the associated user.
    let (status, operation) = admin
        .call(
            Method::POST,
            &format!("/vpp/tokens/{token}/licenses/assign"),
            Some(json!({ "adam_ids": ["1000001"], "client_user_ids": [client_user_id] })),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{operation}");
    let operation = finished_operation(&admin, operation["id"].as_i64().unwrap()).await;
    assert_eq!(operation["status"], "complete", "{operation}");
    let held = admin
        .get(&format!("/vpp/licenses?client_user_id={client_user_id}"))
        .await;
    assert_eq!(held.as_array().unwrap().len(), 1);
    assert_eq!(location.snapshot().asset("1000001").unwrap().assigned_count, 1);

    // U5: the user's iPad is signed in with another Apple Account, and a
    // colleague's device with this user's: both are flagged.
    let store = &server.running.services.store;
    let account = AccountId(admin.account_id);
    let own = admin
        .post(
            "/devices",
            json!({ "group_id": group, "display_name": "山田のiPad", "owner_id": person_id }),
        )
        .await;
    let other = admin
        .post("/devices", json!({ "group_id": group, "display_name": "共用iPad" }))
        .await;
    for (device, hash) in [(&own, "someone-else"), (&other, id_hash.as_str())] {
        let facts = DeviceFacts {
            itunes_store_account_hash: Some(hash.to_owned()),
            ..Default::default()
        };
        store
            .record_device_facts(
                account,
                DeviceId(device["id"].as_i64().unwrap()),
                &facts,
                Timestamp::now(),
            )
            .await
            .unwrap();
    }
    let users = admin.get(&format!("/vpp/tokens/{token}/users")).await;
    let viewed = users
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["client_user_id"] == client_user_id.as_str())
        .unwrap();
    assert_eq!(viewed["apple_id_mismatch_devices"], json!([own["id"]]), "{viewed}");
    assert_eq!(viewed["devices_with_this_apple_id"], json!([other["id"]]), "{viewed}");

    // U3: a refresh reads the same state back from Apple.
    let refreshed = admin
        .post(&format!("/vpp/tokens/{token}/users/refresh"), json!({}))
        .await;
    assert!(
        refreshed
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u["status"] == "associated")
    );

    // U6: retiring gives the license back.
    let retired = admin
        .post(&format!("/vpp/tokens/{token}/users/{client_user_id}/retire"), json!({}))
        .await;
    assert_eq!(retired["status"], "retired", "{retired}");
    let held = admin
        .get(&format!("/vpp/licenses?client_user_id={client_user_id}"))
        .await;
    assert!(held.as_array().unwrap().is_empty());
    sim.settle().await.unwrap();
    assert_eq!(location.snapshot().asset("1000001").unwrap().assigned_count, 0);

    // Another account sees none of it.
    let stranger = server.account("他人", Role::AccountAdmin).await;
    let (status, _) = stranger
        .call(Method::GET, &format!("/vpp/tokens/{token}/users"), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    server.stop().await;
    sim.shutdown();
}

async fn wait_for_user(
    admin: &common::Admin,
    token: i64,
    client_user_id: &str,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let started = Instant::now();
    loop {
        let users = admin.get(&format!("/vpp/tokens/{token}/users")).await;
        if let Some(user) = users
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["client_user_id"] == client_user_id && done(u))
        {
            return user.clone();
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "user never reached the state: {users}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
