//! MDM helpers: push certificates like Apple's, enrollment profiles, and a
//! hand-driven device for protocol tests that need exact control of every
//! message (the simulated fleet covers realistic behaviour).

use apple_mdm::PlistRecord;
use apple_mdm::enrollment::{EnrollmentProfile, ProfilePayload};
use rcgen::{CertificateParams, DistinguishedName, DnType, DnValue, KeyPair};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::Admin;

pub const TOPIC_A: &str = "com.apple.mgmt.External.11111111-2222-3333-4444-555555555555";
pub const TOPIC_B: &str = "com.apple.mgmt.External.66666666-7777-8888-9999-000000000000";

/// A push certificate like Apple's (subject UID = topic) and its PKCS#8 key.
pub fn push_certificate(topic: &str, days: i64) -> (String, String) {
    let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let mut params = CertificateParams::default();
    let mut name = DistinguishedName::new();
    name.push(
        DnType::CustomDnType(vec![0, 9, 2342, 19200300, 100, 1, 1]),
        DnValue::Utf8String(topic.into()),
    );
    name.push(DnType::CommonName, format!("APSP:{}", &topic[topic.len() - 36..]));
    params.distinguished_name = name;
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now - time::Duration::days(30);
    params.not_after = now + time::Duration::days(days);
    (params.self_signed(&key).unwrap().pem(), key.serialize_pem())
}

pub async fn upload_push_certificate(admin: &Admin, cert: &str, key: &str, replace: bool) -> (StatusCode, Value) {
    let body = json!({ "certificate_pem": cert, "private_key_pem": key, "replace": replace });
    admin.call(Method::PUT, "/mdm/push-certificate", Some(body)).await
}

pub async fn download_profile(admin: &Admin, query: &str) -> (StatusCode, Vec<u8>, String) {
    let response = admin
        .request(Method::GET, &format!("/mdm/enrollment-profile{query}"))
        .send()
        .await
        .unwrap();
    let status = response.status();
    let id = response
        .headers()
        .get("x-enrollment-id")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, response.bytes().await.unwrap().to_vec(), id)
}

/// The identity inside a profile: its PKCS#12 payload opened with its password.
pub fn identity_of(profile: &EnrollmentProfile) -> mdm_identity::DeviceIdentity {
    let pkcs12 = profile
        .payloads
        .iter()
        .find_map(|p| match p {
            ProfilePayload::Other(d)
                if d.get("PayloadType").and_then(|v| v.as_string()) == Some("com.apple.security.pkcs12") =>
            {
                Some(d)
            }
            _ => None,
        })
        .expect("a PKCS#12 payload");
    let pfx = pkcs12["PayloadContent"].as_data().unwrap();
    let password = pkcs12["Password"].as_string().unwrap();
    assert_eq!(
        profile.mdm_payload().unwrap().identity_certificate_uuid,
        pkcs12["PayloadUUID"].as_string().unwrap()
    );
    mdm_identity::DeviceIdentity::from_pkcs12(pfx, password).unwrap()
}

/// A device driven message by message.
pub struct ManualDevice {
    pub http: reqwest::Client,
    pub checkin_url: String,
    pub connect_url: String,
    pub topic: String,
    pub identity: mdm_identity::DeviceIdentity,
    pub udid: String,
}

impl ManualDevice {
    /// Downloads a profile (optionally for a group) and takes its identity.
    pub async fn from_profile(admin: &Admin, query: &str, udid: &str) -> Self {
        let (status, bytes, _) = download_profile(admin, query).await;
        assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&bytes));
        let profile = EnrollmentProfile::from_xml(&bytes).unwrap();
        let mdm = profile.mdm_payload().unwrap();
        Self {
            http: reqwest::Client::new(),
            checkin_url: mdm.check_in_url.clone().unwrap(),
            connect_url: mdm.server_url.clone(),
            topic: mdm.topic.clone(),
            identity: identity_of(&profile),
            udid: udid.into(),
        }
    }

    /// PUTs `body` signed with this device's identity.
    pub async fn put(&self, url: &str, body: Vec<u8>) -> (StatusCode, Vec<u8>) {
        let signature = self.identity.sign_mdm_body(&body).unwrap();
        self.put_with(url, body, Some(signature)).await
    }

    pub async fn put_with(&self, url: &str, body: Vec<u8>, signature: Option<String>) -> (StatusCode, Vec<u8>) {
        let mut request = self.http.put(url).body(body);
        if let Some(signature) = signature {
            request = request.header("Mdm-Signature", signature);
        }
        let response = request.send().await.unwrap();
        (response.status(), response.bytes().await.unwrap().to_vec())
    }

    pub async fn checkin(&self, body: String) -> (StatusCode, Vec<u8>) {
        self.put(&self.checkin_url, body.into_bytes()).await
    }

    pub async fn connect(&self, body: String) -> (StatusCode, Vec<u8>) {
        self.put(&self.connect_url, body.into_bytes()).await
    }

    pub fn authenticate(&self) -> String {
        checkin_plist(&format!(
            "<key>MessageType</key><string>Authenticate</string><key>Topic</key><string>{}</string>\
             <key>UDID</key><string>{}</string><key>SerialNumber</key><string>F9FXK0ABCDEF</string>\
             <key>ProductName</key><string>iPad13,1</string><key>OSVersion</key><string>17.5</string>\
             <key>BuildVersion</key><string>21F79</string>",
            self.topic, self.udid
        ))
    }

    pub fn token_update(&self) -> String {
        checkin_plist(&format!(
            "<key>MessageType</key><string>TokenUpdate</string><key>Topic</key><string>{}</string>\
             <key>UDID</key><string>{}</string><key>Token</key><data>q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA=</data>\
             <key>PushMagic</key><string>5B2C1F54-1B6F-4F4B-9C39-3E5F4D7B0A11</string>\
             <key>UnlockToken</key><data>AAECAwQFBgc=</data>",
            self.topic, self.udid
        ))
    }

    pub fn check_out(&self) -> String {
        checkin_plist(&format!(
            "<key>MessageType</key><string>CheckOut</string><key>Topic</key><string>{}</string>\
             <key>UDID</key><string>{}</string>",
            self.topic, self.udid
        ))
    }

    pub fn idle(&self) -> String {
        checkin_plist(&format!(
            "<key>Status</key><string>Idle</string><key>UDID</key><string>{}</string>",
            self.udid
        ))
    }

    /// A report for `command_uuid` with extra result keys.
    pub fn report(&self, status: &str, command_uuid: &str, extra: &str) -> String {
        checkin_plist(&format!(
            "<key>Status</key><string>{status}</string><key>UDID</key><string>{}</string>\
             <key>CommandUUID</key><string>{command_uuid}</string>{extra}",
            self.udid
        ))
    }
}

pub fn checkin_plist(body: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" \
         \"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n<plist version=\"1.0\"><dict>{body}</dict></plist>"
    )
}

/// The CommandUUID and RequestType of a command body.
pub fn command_of(body: &[u8]) -> (String, String) {
    let command =
        apple_mdm::Command::from_xml(body).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(body)));
    (
        command.command_uuid.as_str().to_owned(),
        command.request_type().to_owned(),
    )
}
