//! The account's APNs push certificate over real HTTP: the topic is read from
//! the certificate, expiry is shown, the key is checked and sealed at rest,
//! a topic change needs confirmation; roles and tenancy. Then enrollment
//! profiles: each carries a fresh device identity from the account's CA.

mod common;

use common::TestServer;
use common::mdm::{
    TOPIC_A, TOPIC_B, download_profile, identity_of, push_certificate, upload_push_certificate as upload,
};
use haishin_domain::auth::Role;
use haishin_domain::ids::AccountId;
use haishin_secrets::MasterKey;
use haishin_storage::on_both_backends;
use reqwest::{Method, StatusCode};
use serde_json::json;

on_both_backends!(push_certificate_lifecycle);
on_both_backends!(enrollment_profiles_carry_a_verifiable_identity);
on_both_backends!(profiles_are_signed_when_a_signer_is_configured);

async fn push_certificate_lifecycle(backend: &str) {
    let server = TestServer::start(backend).await;
    let admin = server.account("プッシュ", Role::AccountAdmin).await;
    let (status, body) = admin
        .in_lang("ja")
        .call(Method::GET, "/mdm/push-certificate", None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["message"], "指定されたMDMプッシュ証明書が見つかりません。");

    let (cert, key) = push_certificate(TOPIC_A, 365);
    let (status, body) = upload(&admin, &cert, &key, false).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["topic"], TOPIC_A);
    assert!((363..=365).contains(&body["days_left"].as_i64().unwrap()), "{body}");
    assert_eq!(admin.get("/mdm/push-certificate").await["topic"], TOPIC_A);

    // At rest the key is sealed with the master key, bound to the account.
    let services = &server.running.services;
    let account = AccountId(admin.account_id);
    let stored = services.store.get_push_certificate(account).await.unwrap().unwrap();
    let sealed = String::from_utf8_lossy(stored.sealed_key.as_bytes());
    assert!(!sealed.contains("PRIVATE KEY") && !sealed.contains(&key[40..80]));
    let (_, opened) = services.push_credentials(account).await.unwrap();
    assert_eq!(opened.expose(), key.trim());
    assert!(
        stored
            .sealed_key
            .open(&MasterKey::generate().0, b"mdm-push-key:account=1")
            .is_err()
    );
    let audit = admin.get("/audit?target_type=push_certificate").await.to_string();
    assert!(audit.contains(TOPIC_A) && !audit.contains("PRIVATE KEY"), "{audit}");

    // Refusals, each with its reason; nothing changes.
    let (other_cert, other_key) = push_certificate(TOPIC_A, 365);
    let (status, body) = upload(&admin, &cert, &other_key, false).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("does not belong to the certificate"),
        "{body}"
    );
    let (status, body) = upload(
        &admin,
        &other_cert,
        "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----",
        false,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["message"].as_str().unwrap().contains("PKCS#8"), "{body}");
    let (not_mdm, not_mdm_key) = push_certificate("com.example.app.abcdef12-3456-7890-abcd-ef1234567890", 365);
    let (status, body) = upload(&admin, &not_mdm, &not_mdm_key, false).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (expired, expired_key) = push_certificate(TOPIC_A, -1);
    let (status, body) = admin
        .in_lang("ja")
        .call(
            Method::PUT,
            "/mdm/push-certificate",
            Some(json!({ "certificate_pem": expired, "private_key_pem": expired_key })),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["message"].as_str().unwrap().contains("失効しています"), "{body}");
    let (status, body) = upload(&admin, "not a certificate", &key, false).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");

    // Renewal (same topic) just works; another topic needs replace.
    let (status, _) = upload(&admin, &other_cert, &other_key, false).await;
    assert_eq!(status, StatusCode::OK);
    let (cert_b, key_b) = push_certificate(TOPIC_B, 365);
    let (status, body) = upload(&admin, &cert_b, &key_b, false).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("push_topic_changed")),
        "{body}"
    );
    assert_eq!(admin.get("/mdm/push-certificate").await["topic"], TOPIC_A);
    let (status, body) = upload(&admin, &cert_b, &key_b, true).await;
    assert_eq!((status, body["topic"].as_str()), (StatusCode::OK, Some(TOPIC_B)));

    // The same certificate exported from Keychain Access as .p12.
    let p12 = {
        use base64::Engine as _;
        let der = mdm_identity::CertificateInfo::parse(cert_b.as_bytes())
            .unwrap()
            .der()
            .to_vec();
        let key = mdm_identity::PrivateKey::from_pkcs8_pem(&key_b).unwrap();
        let pfx = mdm_identity::DeviceIdentity::new(&der, key)
            .unwrap()
            .to_pkcs12("秘密pass")
            .unwrap();
        base64::engine::general_purpose::STANDARD.encode(pfx)
    };
    let (status, body) = admin
        .call(
            Method::PUT,
            "/mdm/push-certificate",
            Some(json!({ "p12_base64": p12, "p12_password": "wrong" })),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body["message"].as_str().unwrap().contains("password"), "{body}");
    let (status, body) = admin
        .call(
            Method::PUT,
            "/mdm/push-certificate",
            Some(json!({ "p12_base64": p12, "p12_password": "秘密pass" })),
        )
        .await;
    assert_eq!(
        (status, body["topic"].as_str()),
        (StatusCode::OK, Some(TOPIC_B)),
        "{body}"
    );

    // Only account admins upload; other accounts see none of it.
    let operator = server.colleague(&admin, Role::Operator).await;
    assert_eq!(operator.get("/mdm/push-certificate").await["topic"], TOPIC_B);
    let (status, _) = upload(&operator, &cert, &key, true).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let stranger = server.account("他社", Role::AccountAdmin).await;
    let (status, _) = stranger.call(Method::GET, "/mdm/push-certificate", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    server.stop().await;
}

async fn enrollment_profiles_carry_a_verifiable_identity(backend: &str) {
    use apple_mdm::PlistRecord;
    use apple_mdm::enrollment::EnrollmentProfile;

    let server = TestServer::start(backend).await;
    let admin = server.account("登録", Role::AccountAdmin).await;
    let (status, body, _) = download_profile(&admin, "").await;
    assert_eq!(status, StatusCode::CONFLICT, "{}", String::from_utf8_lossy(&body));
    assert!(String::from_utf8_lossy(&body).contains("push_certificate_missing"));

    let (cert, key) = push_certificate(TOPIC_A, 365);
    assert_eq!(upload(&admin, &cert, &key, false).await.0, StatusCode::OK);
    let group = admin.post("/groups", json!({ "name": "東京" })).await["id"]
        .as_i64()
        .unwrap();
    let (status, bytes, enrollment_id) = download_profile(&admin, &format!("?group_id={group}")).await;
    assert_eq!(status, StatusCode::OK);
    let profile = EnrollmentProfile::from_xml(&bytes).expect("a well-formed profile");
    let mdm = profile.mdm_payload().expect("an MDM payload");
    assert_eq!(mdm.topic, TOPIC_A);
    assert_eq!(mdm.server_url, format!("{}/mdm/connect", server.running.url()));
    assert_eq!(
        mdm.check_in_url.as_deref(),
        Some(format!("{}/mdm/checkin", server.running.url()).as_str())
    );
    assert_eq!((mdm.sign_message, mdm.check_out_when_removed), (Some(true), Some(true)));
    assert_eq!(mdm.access_rights.map(|r| r.0), Some(8191));

    // The identity chains to the account's CA and signs like a device.
    let identity = identity_of(&profile);
    assert_eq!(identity.enrollment_id(), enrollment_id);
    let services = &server.running.services;
    let account = AccountId(admin.account_id);
    let ca = services.device_ca(account).await.unwrap();
    ca.trust_anchor()
        .verify_client_certificate(identity.certificate().der())
        .unwrap();
    let body = b"<plist><dict><key>MessageType</key><string>Authenticate</string></dict></plist>";
    let signature = identity.sign_mdm_body(body).unwrap();
    let verified = ca.trust_anchor().verify_mdm_signature(&signature, body).unwrap();
    assert_eq!(verified.info().common_name(), Some(enrollment_id.as_str()));
    assert!(ca.trust_anchor().verify_mdm_signature(&signature, b"tampered").is_err());
    let recorded = services
        .store
        .get_enrollment_identity(account, &enrollment_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(recorded.group_id.0, group);
    assert_eq!(recorded.sha256_fingerprint, identity.certificate().sha256_fingerprint());

    // Every download is a new identity from the same CA; the CA key is sealed.
    let (_, second, second_id) = download_profile(&admin, "").await;
    assert_ne!(second_id, enrollment_id);
    let second_identity = identity_of(&EnrollmentProfile::from_xml(&second).unwrap());
    ca.trust_anchor()
        .verify_client_certificate(second_identity.certificate().der())
        .unwrap();
    let stored = services.store.get_device_ca(account).await.unwrap().unwrap();
    assert!(!String::from_utf8_lossy(stored.sealed_key.as_bytes()).contains("PRIVATE KEY"));

    // Another account's CA rejects this account's devices.
    let stranger = server.account("他社", Role::AccountAdmin).await;
    let (cert_b, key_b) = push_certificate(TOPIC_B, 365);
    assert_eq!(upload(&stranger, &cert_b, &key_b, false).await.0, StatusCode::OK);
    let other_ca = services.device_ca(AccountId(stranger.account_id)).await.unwrap();
    assert!(other_ca.trust_anchor().verify_mdm_signature(&signature, body).is_err());
    assert!(
        services
            .store
            .get_enrollment_identity(AccountId(stranger.account_id), &enrollment_id)
            .await
            .unwrap()
            .is_none()
    );
    let (status, _, _) = download_profile(&stranger, &format!("?group_id={group}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "another account's group");

    // Read-only admins cannot hand out identities.
    let reader = server.colleague(&admin, Role::ReadOnly).await;
    assert_eq!(download_profile(&reader, "").await.0, StatusCode::FORBIDDEN);
    let audit = admin.get("/audit?target_type=enrollment_identity").await;
    assert_eq!(audit.as_array().unwrap().len(), 2);
    server.stop().await;
}

async fn profiles_are_signed_when_a_signer_is_configured(backend: &str) {
    use apple_mdm::PlistRecord;
    use apple_mdm::enrollment::EnrollmentProfile;

    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let mut params = rcgen::CertificateParams::new(vec!["mdm.example.jp".into()]).unwrap();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "mdm.example.jp");
    let certificate = params.self_signed(&key).unwrap().pem();
    let dir = tempfile::tempdir().unwrap();
    let (cert_file, key_file) = (dir.path().join("signer.pem"), dir.path().join("signer.key"));
    std::fs::write(&cert_file, &certificate).unwrap();
    std::fs::write(&key_file, key.serialize_pem()).unwrap();
    let server = TestServer::start_with(backend, |c| {
        c.profile_signing_certificate_file = cert_file.display().to_string();
        c.profile_signing_key_file = key_file.display().to_string();
    })
    .await;
    let admin = server.account("署名", Role::AccountAdmin).await;
    let (cert, key) = push_certificate(TOPIC_A, 365);
    assert_eq!(upload(&admin, &cert, &key, false).await.0, StatusCode::OK);
    let (status, bytes, _) = download_profile(&admin, "").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        EnrollmentProfile::from_xml(&bytes).is_err(),
        "a signed profile is CMS, not bare XML"
    );
    let signed = mdm_identity::verify_signed_profile(&bytes, None).expect("a valid CMS signature");
    assert_eq!(signed.signer.common_name(), Some("mdm.example.jp"));
    let profile = EnrollmentProfile::from_xml(&signed.content).unwrap();
    assert_eq!(profile.mdm_payload().unwrap().topic, TOPIC_A);
    identity_of(&profile);
    server.stop().await;
}
