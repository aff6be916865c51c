//! The device endpoints over real HTTP, driven message by message: check-in
//! (Authenticate, TokenUpdate, CheckOut), the command loop with results
//! stored, and every kind of bad request refused without a trace.

mod common;

use common::TestServer;
use common::mdm::{
    ManualDevice, TOPIC_A, TOPIC_B, checkin_plist, command_of, push_certificate, upload_push_certificate,
};
use haishin_domain::auth::Role;
use haishin_storage::on_both_backends;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

on_both_backends!(a_device_enrolls_reports_and_checks_out);
on_both_backends!(bad_device_requests_change_nothing);
on_both_backends!(devices_prove_themselves_with_tls_client_certificates);

const UDID: &str = "00008030-001A2C3E0C43802E";

async fn enrolled_account(server: &TestServer, name: &str, topic: &str) -> common::Admin {
    let admin = server.account(name, Role::AccountAdmin).await;
    let (cert, key) = push_certificate(topic, 365);
    assert_eq!(
        upload_push_certificate(&admin, &cert, &key, false).await.0,
        StatusCode::OK
    );
    admin
}

async fn device_json(admin: &common::Admin, udid: &str) -> Value {
    let page = admin.get(&format!("/devices?q={udid}&field=udid&per_page=100")).await;
    let items = page["items"].as_array().unwrap();
    items.iter().find(|d| d["udid"] == udid).cloned().unwrap_or(Value::Null)
}

async fn a_device_enrolls_reports_and_checks_out(backend: &str) {
    let server = TestServer::start(backend).await;
    let admin = enrolled_account(&server, "営業", TOPIC_A).await;
    let group = admin.post("/groups", json!({ "name": "大阪" })).await["id"]
        .as_i64()
        .unwrap();
    let device = ManualDevice::from_profile(&admin, &format!("?group_id={group}"), UDID).await;

    // Authenticate creates the device in the profile's group, not enrolled yet.
    let (status, body) = device.checkin(device.authenticate()).await;
    assert_eq!((status, body.len()), (StatusCode::OK, 0));
    let found = device_json(&admin, UDID).await;
    assert_eq!(found["group_id"], group);
    assert_eq!(found["serial_number"], "F9FXK0ABCDEF");
    assert_eq!(found["platform"], "iPadOS");
    assert_eq!(found["enrollment_state"], "registered");
    let id = found["id"].as_i64().unwrap();

    // TokenUpdate completes enrollment and queues SYSTEM inventory.
    let (status, _) = device.checkin(device.token_update()).await;
    assert_eq!(status, StatusCode::OK);
    let found = admin.get(&format!("/devices/{id}")).await;
    assert_eq!(found["enrollment_state"], "enrolled");
    let mdm = admin.get(&format!("/devices/{id}/mdm")).await;
    assert_eq!(mdm["enrollment"]["has_push_token"], true);
    assert_eq!(mdm["enrollment"]["has_unlock_token"], true);
    let jobs = admin.get(&format!("/devices/{id}/jobs")).await;
    let types: Vec<&str> = jobs
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["request_type"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["InstalledApplicationList", "DeviceInformation"], "newest first");
    assert!(
        jobs.as_array()
            .unwrap()
            .iter()
            .all(|j| j["created_by_name"] == "SYSTEM")
    );
    // A repeated TokenUpdate does not queue the inventory again.
    assert_eq!(device.checkin(device.token_update()).await.0, StatusCode::OK);
    assert_eq!(
        admin
            .get(&format!("/devices/{id}/jobs"))
            .await
            .as_array()
            .unwrap()
            .len(),
        2
    );

    // The command loop: Idle → DeviceInformation → its answer → app list → empty.
    let (status, body) = device.connect(device.idle()).await;
    assert_eq!(status, StatusCode::OK);
    let (uuid, request_type) = command_of(&body);
    assert_eq!(request_type, "DeviceInformation");
    let answer = "<key>QueryResponses</key><dict><key>DeviceName</key><string>大阪のiPad</string>\
        <key>SerialNumber</key><string>F9FXK0ABCDEF</string><key>OSVersion</key><string>17.6</string>\
        <key>IsSupervised</key><true/><key>IsMultiUser</key><false/>\
        <key>iTunesStoreAccountHash</key><string>pL7wJbZPzwqzcoFXKPZv0Hh+Ers=</string>\
        <key>DeviceCapacity</key><real>64.0</real><key>AvailableDeviceCapacity</key><real>20.5</real>\
        <key>WiFiMAC</key><string>a4:b1:97:00:11:22</string></dict>";
    let (status, body) = device.connect(device.report("Acknowledged", &uuid, answer)).await;
    assert_eq!(status, StatusCode::OK);
    let (apps_uuid, request_type) = command_of(&body);
    assert_eq!(request_type, "InstalledApplicationList");
    let apps = "<key>InstalledApplicationList</key><array><dict><key>Identifier</key><string>jp.co.example.app</string>\
        <key>Name</key><string>業務アプリ</string><key>Version</key><string>3.1</string></dict></array>";
    let (status, body) = device.connect(device.report("Acknowledged", &apps_uuid, apps)).await;
    assert_eq!(
        (status, body.len()),
        (StatusCode::OK, 0),
        "no more commands is an empty body"
    );

    let found = admin.get(&format!("/devices/{id}")).await;
    assert_eq!(found["os_version"], "17.6");
    assert_eq!(found["supervised"], true);
    assert_eq!(found["itunes_store_account_hash"], "pL7wJbZPzwqzcoFXKPZv0Hh+Ers=");
    assert_eq!(
        (found["capacity_mb"].as_i64(), found["available_capacity_mb"].as_i64()),
        (Some(64000), Some(20500))
    );
    assert!(found["last_checkin_at"].is_string() && found["inventory_fetched_at"].is_string());
    let mdm = admin.get(&format!("/devices/{id}/mdm")).await;
    assert_eq!(mdm["inventory"][0]["kind"], "installed_apps");
    assert_eq!(mdm["inventory"][0]["items"][0]["Name"], "業務アプリ");
    let jobs = admin.get(&format!("/devices/{id}/jobs")).await;
    assert!(
        jobs.as_array().unwrap().iter().all(|j| j["status"] == "success"),
        "{jobs}"
    );
    // A repeated report of a finished command changes nothing.
    let (status, _) = device.connect(device.report("Acknowledged", &apps_uuid, apps)).await;
    assert_eq!(status, StatusCode::OK);

    // An admin queues a list; NotNow keeps it, Error ends it with the chain.
    let queued = admin
        .post(
            &format!("/devices/{id}/commands"),
            json!({ "commands": ["ManagedApplicationList"] }),
        )
        .await;
    let job_id = queued["job_ids"][0].as_i64().unwrap();
    let (_, body) = device.connect(device.idle()).await;
    let (uuid, request_type) = command_of(&body);
    assert_eq!(request_type, "ManagedApplicationList");
    let (status, body) = device.connect(device.report("NotNow", &uuid, "")).await;
    assert_eq!((status, body.len()), (StatusCode::OK, 0));
    let job = job_status(&admin, id, job_id).await;
    assert_eq!(job["status"], "waiting");
    assert_eq!(job["not_now_count"], 1);
    let (_, body) = device.connect(device.idle()).await;
    assert_eq!(command_of(&body).0, uuid, "the same command is offered again");
    let chain = "<key>ErrorChain</key><array><dict><key>ErrorCode</key><integer>12064</integer>\
        <key>ErrorDomain</key><string>MCMDMErrorDomain</string><key>LocalizedDescription</key>\
        <string>失敗</string></dict></array>";
    device.connect(device.report("Error", &uuid, chain)).await;
    let job = job_status(&admin, id, job_id).await;
    assert_eq!(job["status"], "device_error");
    assert_eq!(job["error_chain"]["ErrorChain"][0]["ErrorCode"], 12064);
    // Its detail explains it from the knowledge base (J5), with the server's facts.
    let detail = admin.in_lang("ja").get(&format!("/jobs/{job_id}")).await;
    assert_eq!(detail["status_label"], "端末エラー");
    let rows = common::diagnosis_rows(&detail);
    assert!(rows.iter().any(|r| r == "004-12064-not-assigned"), "{rows:?}");
    assert!(
        !rows.iter().any(|r| r.starts_with("003-device-12064")),
        "those need 2605 too: {rows:?}"
    );
    assert_eq!(detail["facts"]["enrollment"], "enrolled", "{}", detail["facts"]);
    let stranger = server.account("他社", Role::AccountAdmin).await;
    let (status, _) = stranger.call(Method::GET, &format!("/jobs/{job_id}"), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Wipe: acknowledged EraseDevice unenrolls the device.
    let wipe = admin.post(&format!("/devices/{id}/wipe"), json!({})).await;
    assert!(wipe["job_ids"][0].is_i64(), "{wipe}");
    let (_, body) = device.connect(device.idle()).await;
    let (uuid, request_type) = command_of(&body);
    assert_eq!(request_type, "EraseDevice");
    let (status, body) = device.connect(device.report("Acknowledged", &uuid, "")).await;
    assert_eq!((status, body.len()), (StatusCode::OK, 0));
    assert_eq!(
        admin.get(&format!("/devices/{id}")).await["enrollment_state"],
        "unenrolled"
    );
    assert_eq!(
        device.connect(device.idle()).await.0,
        StatusCode::UNAUTHORIZED,
        "a wiped device is gone"
    );

    // Re-enrolling with a new profile, then CheckOut: unenrolled again.
    let again = ManualDevice::from_profile(&admin, "", UDID).await;
    assert_eq!(again.checkin(again.authenticate()).await.0, StatusCode::OK);
    assert_eq!(again.checkin(again.token_update()).await.0, StatusCode::OK);
    assert_eq!(
        admin.get(&format!("/devices/{id}")).await["enrollment_state"],
        "enrolled"
    );
    assert_eq!(
        device_json(&admin, UDID).await["group_id"],
        group,
        "an existing device keeps its group"
    );
    assert_eq!(again.checkin(again.check_out()).await.0, StatusCode::OK);
    let found = admin.get(&format!("/devices/{id}")).await;
    assert_eq!(found["enrollment_state"], "unenrolled");
    let jobs = admin.get(&format!("/devices/{id}/jobs?active_only=true")).await;
    assert!(
        jobs.as_array().unwrap().iter().all(|j| j["status"] != "waiting"),
        "{jobs}"
    );
    server.stop().await;
}

async fn job_status(admin: &common::Admin, device: i64, job: i64) -> Value {
    let jobs = admin.get(&format!("/devices/{device}/jobs")).await;
    jobs.as_array()
        .unwrap()
        .iter()
        .find(|j| j["id"] == job)
        .unwrap()
        .clone()
}

/// (what, expected status, endpoint, body, signature: None signs the body,
/// an empty one sends none).
type BadRequest = (&'static str, StatusCode, &'static str, Vec<u8>, Option<String>);

/// What the bad requests must not change: devices, their enrollment, jobs.
async fn snapshot(admin: &common::Admin) -> String {
    let devices = admin.get("/devices?per_page=100").await;
    let mut out = devices.to_string();
    for device in devices["items"].as_array().unwrap() {
        let id = device["id"].as_i64().unwrap();
        out.push_str(&admin.get(&format!("/devices/{id}/mdm")).await.to_string());
        out.push_str(&admin.get(&format!("/devices/{id}/jobs")).await.to_string());
    }
    out
}

async fn bad_device_requests_change_nothing(backend: &str) {
    let server = TestServer::start_with(backend, |c| c.max_device_body_bytes = 256 * 1024).await;
    let admin = enrolled_account(&server, "検証", TOPIC_A).await;
    let device = ManualDevice::from_profile(&admin, "", UDID).await;
    assert_eq!(device.checkin(device.authenticate()).await.0, StatusCode::OK);
    assert_eq!(device.checkin(device.token_update()).await.0, StatusCode::OK);
    let other = ManualDevice::from_profile(&admin, "", "00008030-0000000000000BBB").await;
    assert_eq!(other.checkin(other.authenticate()).await.0, StatusCode::OK);
    assert_eq!(other.checkin(other.token_update()).await.0, StatusCode::OK);
    let before = snapshot(&admin).await;

    let cases: Vec<BadRequest> = vec![
        (
            "malformed plist",
            StatusCode::BAD_REQUEST,
            "checkin",
            b"<plist><dict><key>".to_vec(),
            None,
        ),
        (
            "malformed report",
            StatusCode::BAD_REQUEST,
            "connect",
            b"not xml at all".to_vec(),
            None,
        ),
        (
            "unknown MessageType",
            StatusCode::BAD_REQUEST,
            "checkin",
            checkin_plist("<key>MessageType</key><string>Reboot</string><key>UDID</key><string>X</string>")
                .into_bytes(),
            None,
        ),
        (
            "missing UDID",
            StatusCode::BAD_REQUEST,
            "checkin",
            checkin_plist(&format!(
                "<key>MessageType</key><string>TokenUpdate</string><key>Topic</key><string>{TOPIC_A}</string>\
                 <key>Token</key><data>AAAA</data><key>PushMagic</key><string>x</string>"
            ))
            .into_bytes(),
            None,
        ),
        (
            "no identity",
            StatusCode::UNAUTHORIZED,
            "connect",
            device.idle().into_bytes(),
            Some(String::new()),
        ),
        (
            "signature of another body",
            StatusCode::UNAUTHORIZED,
            "connect",
            device.idle().into_bytes(),
            Some(device.identity.sign_mdm_body(b"something else").unwrap()),
        ),
        (
            "a valid identity claiming another device's UDID",
            StatusCode::UNAUTHORIZED,
            "connect",
            other.idle().into_bytes(),
            None,
        ),
        (
            "a valid identity checking out another device",
            StatusCode::UNAUTHORIZED,
            "checkin",
            other.check_out().into_bytes(),
            None,
        ),
    ];
    for (what, expected, endpoint, body, signature) in cases {
        let url = if endpoint == "checkin" {
            &device.checkin_url
        } else {
            &device.connect_url
        };
        let signature = match signature {
            Some(s) if s.is_empty() => None,
            Some(s) => Some(s),
            None => Some(device.identity.sign_mdm_body(&body).unwrap()),
        };
        let (status, _) = device.put_with(url, body, signature).await;
        assert_eq!(status, expected, "{what}");
    }

    // An identity of another account (its own CA) is refused too.
    let stranger = enrolled_account(&server, "他社", TOPIC_B).await;
    let foreign = ManualDevice::from_profile(&stranger, "", UDID).await;
    let body = device.idle().into_bytes();
    let (status, _) = foreign.put(&device.connect_url, body).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "another account's device claiming this UDID"
    );
    // And a certificate haishin never issued, even with a matching name.
    let ca = mdm_identity::DeviceCa::generate("haishin device CA 1").unwrap();
    let forged = ca
        .issue_identity_with(&mdm_identity::IdentityOptions {
            enrollment_id: Some(device.identity.enrollment_id().to_owned()),
            key_algorithm: mdm_identity::KeyAlgorithm::EcdsaP256,
            ..Default::default()
        })
        .unwrap();
    let body = device.idle().into_bytes();
    let signature = forged.sign_mdm_body(&body).unwrap();
    assert_eq!(
        device.put_with(&device.connect_url, body, Some(signature)).await.0,
        StatusCode::UNAUTHORIZED
    );

    // Oversized: 413 as soon as the limit is passed; the client may see the
    // connection reset before the answer (the unread rest of the body).
    let body = device
        .report(
            "Acknowledged",
            "X",
            &format!("<key>Pad</key><string>{}</string>", "a".repeat(300 * 1024)),
        )
        .into_bytes();
    let signature = device.identity.sign_mdm_body(&body).unwrap();
    let sent = device
        .http
        .put(&device.connect_url)
        .header("Mdm-Signature", signature)
        .body(body)
        .send()
        .await;
    if let Ok(response) = sent {
        assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    }

    assert_eq!(snapshot(&admin).await, before, "nothing stored, nothing dequeued");
    server.stop().await;
}

/// When haishin terminates TLS, the device's TLS client certificate is its
/// identity (no Mdm-Signature); a certificate from another CA is refused.
async fn devices_prove_themselves_with_tls_client_certificates(backend: &str) {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let mut params = rcgen::CertificateParams::new(vec!["localhost".into()]).unwrap();
    params
        .subject_alt_names
        .push(rcgen::SanType::IpAddress([127, 0, 0, 1].into()));
    let server_cert = params.self_signed(&key).unwrap().pem();
    let dir = tempfile::tempdir().unwrap();
    let (cert_file, key_file) = (dir.path().join("tls.pem"), dir.path().join("tls.key"));
    std::fs::write(&cert_file, &server_cert).unwrap();
    std::fs::write(&key_file, key.serialize_pem()).unwrap();
    let server = TestServer::start_with(backend, |c| {
        c.tls_certificate_file = cert_file.display().to_string();
        c.tls_key_file = key_file.display().to_string();
    })
    .await;
    assert!(server.running.url().starts_with("https://"));
    let admin = enrolled_account(&server, "TLS", TOPIC_A).await;
    let mut device = ManualDevice::from_profile(&admin, "", UDID).await;
    assert!(
        device.checkin_url.starts_with("https://"),
        "the profile points devices at HTTPS"
    );
    let with_identity = |identity: &mdm_identity::DeviceIdentity| {
        let mut pem = identity.certificate().to_pem();
        pem.push_str(&identity.key().to_pkcs8_pem());
        reqwest::Client::builder()
            .tls_certs_only([reqwest::Certificate::from_pem(server_cert.as_bytes()).unwrap()])
            .identity(reqwest::Identity::from_pem(pem.as_bytes()).unwrap())
            .build()
            .unwrap()
    };
    device.http = with_identity(&device.identity);
    let authenticate = device.authenticate().into_bytes();
    let (status, _) = device.put_with(&device.checkin_url, authenticate, None).await;
    assert_eq!(status, StatusCode::OK, "the TLS identity alone is enough");
    let (status, _) = device
        .put_with(&device.checkin_url, device.token_update().into_bytes(), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = device
        .put_with(&device.connect_url, device.idle().into_bytes(), None)
        .await;
    assert_eq!(
        (status, command_of(&body).1.as_str()),
        (StatusCode::OK, "DeviceInformation")
    );

    // Without a client certificate or with one of another CA: refused.
    let (status, _) = device
        .put_with(&device.connect_url, device.idle().into_bytes(), None)
        .await;
    assert_eq!(status, StatusCode::OK, "the same device again is fine");
    let ca = mdm_identity::DeviceCa::generate("another CA").unwrap();
    let forged = ca
        .issue_identity_with(&mdm_identity::IdentityOptions {
            enrollment_id: Some(device.identity.enrollment_id().to_owned()),
            key_algorithm: mdm_identity::KeyAlgorithm::EcdsaP256,
            ..Default::default()
        })
        .unwrap();
    device.http = with_identity(&forged);
    let (status, _) = device
        .put_with(&device.connect_url, device.idle().into_bytes(), None)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    device.http = reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(server_cert.as_bytes()).unwrap()])
        .build()
        .unwrap();
    let (status, _) = device
        .put_with(&device.connect_url, device.idle().into_bytes(), None)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    server.stop().await;
}
