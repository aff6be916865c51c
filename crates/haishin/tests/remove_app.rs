//! Uninstalling apps (SPEC D8) over the real MDM protocol: only an app the
//! managed app list shows can be removed; a user-installed one is refused
//! with the explanation of what to do instead.

mod common;

use common::TestServer;
use common::mdm::{ManualDevice, TOPIC_A, command_of, push_certificate, upload_push_certificate};
use haishin_domain::auth::Role;
use haishin_storage::on_both_backends;
use reqwest::{Method, StatusCode};
use serde_json::json;

on_both_backends!(only_managed_apps_are_removed);

const UDID: &str = "00008030-00CC2C3E0C43802B";

async fn only_managed_apps_are_removed(backend: &str) {
    let server = TestServer::start(backend).await;
    let admin = server.account("削除", Role::AccountAdmin).await;
    let (cert, key) = push_certificate(TOPIC_A, 365);
    assert_eq!(
        upload_push_certificate(&admin, &cert, &key, false).await.0,
        StatusCode::OK
    );
    let device = ManualDevice::from_profile(&admin, "", UDID).await;
    assert_eq!(device.checkin(device.authenticate()).await.0, StatusCode::OK);
    assert_eq!(device.checkin(device.token_update()).await.0, StatusCode::OK);
    let id = admin.get(&format!("/devices?q={UDID}&field=udid")).await["items"][0]["id"]
        .as_i64()
        .unwrap();
    let remove = |identifier: &'static str| {
        let admin = admin.in_lang("ja");
        async move {
            admin
                .call(
                    Method::POST,
                    &format!("/devices/{id}/apps/remove"),
                    Some(json!({ "identifier": identifier })),
                )
                .await
        }
    };
    let (status, body) = remove("com.apple.Numbers").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("managed_apps_unknown")),
        "{body}"
    );

    // The enrollment's inventory: an app the user installed.
    let (_, mut body) = device.connect(device.idle()).await;
    loop {
        let (uuid, request_type) = command_of(&body);
        let answer = match request_type.as_str() {
            "InstalledApplicationList" => {
                "<key>InstalledApplicationList</key><array><dict><key>Identifier</key><string>jp.co.example.game</string>\
                 <key>Name</key><string>ゲーム</string><key>Version</key><string>1.0</string></dict></array>"
            }
            _ => "",
        };
        let status = if answer.is_empty() { "Error" } else { "Acknowledged" };
        let (code, next) = device.connect(device.report(status, &uuid, answer)).await;
        assert_eq!(code, StatusCode::OK);
        if next.is_empty() {
            break;
        }
        body = next;
    }
    // The managed list: Numbers, installed by the MDM.
    admin
        .post(
            &format!("/devices/{id}/commands"),
            json!({ "commands": ["ManagedApplicationList"] }),
        )
        .await;
    let (_, body) = device.connect(device.idle()).await;
    let (uuid, request_type) = command_of(&body);
    assert_eq!(request_type, "ManagedApplicationList");
    let managed = "<key>ManagedApplicationList</key><dict><key>com.apple.Numbers</key><dict>\
        <key>Status</key><string>Managed</string><key>ManagementFlags</key><integer>0</integer></dict></dict>";
    assert_eq!(
        device.connect(device.report("Acknowledged", &uuid, managed)).await.0,
        StatusCode::OK
    );

    let (status, body) = remove("jp.co.example.game").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("app_not_managed")),
        "{body}"
    );
    assert!(body["message"].as_str().unwrap().contains("管理状態を変更"), "{body}");
    let (status, body) = remove("jp.co.example.absent").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("app_not_on_device")),
        "{body}"
    );
    let jobs_before = admin
        .get(&format!("/devices/{id}/jobs"))
        .await
        .as_array()
        .unwrap()
        .len();

    let (status, body) = remove("com.apple.Numbers").await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(
        admin
            .get(&format!("/devices/{id}/jobs"))
            .await
            .as_array()
            .unwrap()
            .len(),
        jobs_before + 1,
        "only the managed app's removal was queued"
    );
    let (_, body) = device.connect(device.idle()).await;
    let (_, request_type) = command_of(&body);
    assert_eq!(request_type, "RemoveApplication");
    assert!(String::from_utf8_lossy(&body).contains("com.apple.Numbers"));
    server.stop().await;
}
