//! Automatic reclaim (SPEC L3) over the real MDM protocol and the
//! simulated Apps and Books service: the licenses haishin assigned by
//! itself to a device go back when the device checks out, is wiped, or is
//! deleted; licenses an admin assigned stay.

mod common;

use common::TestServer;
use common::mdm::{ManualDevice, TOPIC_A, command_of, push_certificate, upload_push_certificate};
use common::vpp::{catalogue_location, finished_operation, register, start_sim, top_group, use_sim};
use haishin_domain::auth::{Actor, Role};
use haishin_domain::ids::{AccountId, VppTokenId};
use haishin_domain::vpp::licenses::LicenseRequest;
use haishin_storage::on_both_backends;
use reqwest::{Method, StatusCode};
use serde_json::Value;

on_both_backends!(automatic_licenses_are_reclaimed_when_a_device_leaves);

const SERIAL: &str = "F9FXK0ABCDEF";

async fn licenses_of(admin: &common::Admin, serial: &str) -> Vec<Value> {
    admin
        .get(&format!("/vpp/licenses?serial_number={serial}"))
        .await
        .as_array()
        .unwrap()
        .clone()
}

/// Waits until every license operation of the token has finished.
async fn settle_operations(admin: &common::Admin, token: i64) {
    for operation in admin
        .get(&format!("/vpp/tokens/{token}/operations"))
        .await
        .as_array()
        .unwrap()
    {
        finished_operation(admin, operation["id"].as_i64().unwrap()).await;
    }
}

async fn automatic_licenses_are_reclaimed_when_a_device_leaves(backend: &str) {
    let sim = start_sim().await;
    let location = catalogue_location(&sim, "本社", 2, 10);
    let server = TestServer::start_with(backend, |c| use_sim(c, &sim)).await;
    let admin = server.account("回収", Role::AccountAdmin).await;
    let (cert, key) = push_certificate(TOPIC_A, 365);
    assert_eq!(
        upload_push_certificate(&admin, &cert, &key, false).await.0,
        StatusCode::OK
    );
    let group = top_group(&admin).await;
    let (_, token) = register(&admin, group, &location).await;
    let token = token["id"].as_i64().unwrap();
    let services = &server.running.services;
    let system = Actor::system(AccountId(admin.account_id));

    // An enrolled device with one automatic license and one an admin gave.
    let enroll = || async {
        let device = ManualDevice::from_profile(&admin, "", "00008030-00AA2C3E0C43802F").await;
        assert_eq!(device.checkin(device.authenticate()).await.0, StatusCode::OK);
        assert_eq!(device.checkin(device.token_update()).await.0, StatusCode::OK);
        device
    };
    let give = |adam_id: &'static str, auto: bool| {
        let system = system.clone();
        let admin = admin.clone();
        async move {
            let request = LicenseRequest {
                adam_ids: vec![adam_id.into()],
                serial_numbers: vec![SERIAL.into()],
                client_user_ids: Vec::new(),
            };
            let operation = services
                .assign_licenses(&system, VppTokenId(token), &request, auto)
                .await
                .unwrap();
            finished_operation(&admin, operation.id.0).await
        }
    };
    let device = enroll().await;
    give("1000001", true).await;
    give("1000002", false).await;
    assert_eq!(licenses_of(&admin, SERIAL).await.len(), 2);

    // CheckOut: the automatic license goes back, the other stays.
    assert_eq!(device.checkin(device.check_out()).await.0, StatusCode::OK);
    settle_operations(&admin, token).await;
    let left = licenses_of(&admin, SERIAL).await;
    assert_eq!(left.len(), 1, "{left:?}");
    assert_eq!(left[0]["adam_id"], "1000002");
    let apple = location.snapshot();
    assert_eq!(apple.asset("1000001").unwrap().assigned_count, 0);
    assert_eq!(apple.asset("1000002").unwrap().assigned_count, 1);

    // Wipe: once the device acknowledges EraseDevice.
    let device = enroll().await;
    give("1000001", true).await;
    let id = admin.get("/devices?q=00008030-00AA2C3E0C43802F&field=udid").await["items"][0]["id"]
        .as_i64()
        .unwrap();
    let (status, body) = admin.call(Method::POST, &format!("/devices/{id}/wipe"), None).await;
    assert!(status.is_success(), "{body}");
    assert_eq!(
        licenses_of(&admin, SERIAL).await.len(),
        2,
        "nothing happens before the device wipes"
    );
    // The inventory jobs of the new enrollment come first; the device
    // refuses them, then acknowledges the erase.
    let (_, mut command) = device.connect(device.idle()).await;
    loop {
        let (uuid, request_type) = command_of(&command);
        if request_type == "EraseDevice" {
            assert_eq!(
                device.connect(device.report("Acknowledged", &uuid, "")).await.0,
                StatusCode::OK
            );
            break;
        }
        let (status, next) = device.connect(device.report("Error", &uuid, "")).await;
        assert_eq!(status, StatusCode::OK);
        command = next;
    }
    settle_operations(&admin, token).await;
    assert_eq!(licenses_of(&admin, SERIAL).await.len(), 1);
    assert_eq!(location.snapshot().asset("1000001").unwrap().assigned_count, 0);

    // Delete: the automatic license goes back, the device and its jobs go.
    let device = enroll().await;
    give("1000001", true).await;
    drop(device);
    let (status, _) = admin.call(Method::DELETE, &format!("/devices/{id}"), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    settle_operations(&admin, token).await;
    let left = licenses_of(&admin, SERIAL).await;
    assert_eq!(left.len(), 1, "{left:?}");
    assert_eq!(left[0]["adam_id"], "1000002");
    let apple = location.snapshot();
    assert_eq!(apple.asset("1000001").unwrap().assigned_count, 0);
    assert_eq!(
        apple.max_associations_per_pair(),
        3,
        "three separate automatic assignments"
    );
    let operations = admin.get(&format!("/vpp/tokens/{token}/operations")).await;
    let reclaims = operations
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["kind"] == "disassociate" && o["created_by"] == "SYSTEM")
        .count();
    assert_eq!(reclaims, 3);
    server.stop().await;
    sim.shutdown();
}
