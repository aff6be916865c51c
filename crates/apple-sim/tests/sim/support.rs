//! A small MDM server written for these tests (axum, HTTP/1.1): serves an enrollment
//! profile with a PKCS#12 identity, verifies every `Mdm-Signature`, records check-ins and
//! reports, and hands out queued commands NanoMDM-style. Plus push helpers.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use apple_apns::{ApnsClient, ApnsConfig, CertificateAuth, MdmPush, PushOutcome};
use apple_mdm::enrollment::{AccessRights, EnrollmentProfile, MdmPayload, PayloadHeader, ProfilePayload};
use apple_mdm::{
    CheckinMessage, Command, CommandReport, CommandRequest, CommandStatus, Dictionary, PlistRecord, Value,
};
use apple_sim::{ApnsSim, Behaviour, HttpProfileSource, SimDevice, SimEnv};
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use mdm_identity::{DeviceCa, IdentityOptions, KeyAlgorithm};
use rcgen::{CertificateParams, DistinguishedName, DnType, DnValue, KeyPair};

pub const BEARER: &str = "enroll-secret";
pub const GROUP: i64 = 7;

pub fn topic() -> String {
    format!("com.apple.mgmt.External.{}", uuid::Uuid::new_v4())
}

/// How the fake server behaves; tests flip fields at runtime with [`FakeMdm::set`].
#[derive(Clone)]
pub struct ServerConfig {
    pub topic: String,
    pub sign_message: bool,
    pub sign_profile: bool,
    pub check_out_when_removed: bool,
    pub access_rights: Option<u64>,
    pub include_pkcs12: bool,
    pub include_mdm: bool,
    pub authenticate_status: u16,
    pub token_update_status: u16,
    pub user_token_update_status: u16,
    pub connect_status: u16,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            topic: topic(),
            sign_message: true,
            sign_profile: false,
            check_out_when_removed: true,
            access_rights: Some(8191),
            include_pkcs12: true,
            include_mdm: true,
            authenticate_status: 200,
            token_update_status: 200,
            user_token_update_status: 200,
            connect_status: 200,
        }
    }
}

enum Queued {
    Command(Box<Command>),
    Raw { uuid: String, body: Vec<u8> },
}

impl Queued {
    fn uuid(&self) -> &str {
        match self {
            Queued::Command(c) => c.command_uuid.as_str(),
            Queued::Raw { uuid, .. } => uuid,
        }
    }

    fn body(&self) -> Vec<u8> {
        match self {
            Queued::Command(c) => c.to_xml().unwrap(),
            Queued::Raw { body, .. } => body.clone(),
        }
    }
}

#[derive(Default)]
struct Recorded {
    checkins: Vec<CheckinMessage>,
    reports: Vec<CommandReport>,
    queues: HashMap<String, VecDeque<Queued>>,
    not_now: HashMap<String, std::collections::HashSet<String>>,
    signature_failures: Vec<String>,
    signed_requests: u64,
    unsigned_requests: u64,
    profiles_served: u64,
}

struct ServerState {
    config: Mutex<ServerConfig>,
    recorded: Mutex<Recorded>,
    ca: DeviceCa,
    profile_signer: mdm_identity::DeviceIdentity,
    base: String,
}

pub struct FakeMdm {
    pub base: String,
    state: Arc<ServerState>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeMdm {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn ec_identity(ca: &DeviceCa) -> mdm_identity::DeviceIdentity {
    ca.issue_identity_with(&IdentityOptions {
        key_algorithm: KeyAlgorithm::EcdsaP256,
        ..IdentityOptions::default()
    })
    .unwrap()
}

impl FakeMdm {
    pub async fn start(config: ServerConfig) -> FakeMdm {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let ca = DeviceCa::generate_with(&mdm_identity::CaOptions {
            key_algorithm: KeyAlgorithm::EcdsaP256,
            ..mdm_identity::CaOptions::new("apple-sim test CA")
        })
        .unwrap();
        let profile_signer = ec_identity(&ca);
        let state = Arc::new(ServerState {
            config: Mutex::new(config),
            recorded: Mutex::new(Recorded::default()),
            ca,
            profile_signer,
            base: base.clone(),
        });
        let app = axum::Router::new()
            .route("/api/v1/mdm/enrollment-profile", get(profile))
            .route("/mdm/checkin", put(checkin))
            .route("/mdm/connect", put(connect))
            .with_state(Arc::clone(&state));
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        FakeMdm { base, state, task }
    }

    pub fn profile_source(&self) -> HttpProfileSource {
        HttpProfileSource::for_group(&self.base, GROUP).with_bearer(BEARER)
    }

    pub fn topic(&self) -> String {
        self.state.config.lock().unwrap().topic.clone()
    }

    pub fn set(&self, change: impl FnOnce(&mut ServerConfig)) {
        change(&mut self.state.config.lock().unwrap());
    }

    pub fn queue(&self, udid: &str, request: impl Into<CommandRequest>) -> String {
        let command = Command::new(request);
        let uuid = command.command_uuid.as_str().to_owned();
        self.push_queue(udid, Queued::Command(Box::new(command)));
        uuid
    }

    pub fn queue_raw(&self, udid: &str, uuid: &str, body: Vec<u8>) {
        self.push_queue(
            udid,
            Queued::Raw {
                uuid: uuid.to_owned(),
                body,
            },
        );
    }

    fn push_queue(&self, udid: &str, queued: Queued) {
        let mut recorded = self.state.recorded.lock().unwrap();
        recorded.queues.entry(udid.to_owned()).or_default().push_back(queued);
    }

    pub fn checkins(&self) -> Vec<CheckinMessage> {
        self.state.recorded.lock().unwrap().checkins.clone()
    }

    pub fn checkins_of(&self, udid: &str, message_type: &str) -> Vec<CheckinMessage> {
        self.checkins()
            .into_iter()
            .filter(|m| {
                m.message_type() == message_type
                    && m.identity().and_then(|i| i.udid()).map(|u| u.as_str()) == Some(udid)
            })
            .collect()
    }

    pub fn reports(&self) -> Vec<CommandReport> {
        self.state.recorded.lock().unwrap().reports.clone()
    }

    pub fn reports_for(&self, uuid: &str) -> Vec<CommandReport> {
        self.reports()
            .into_iter()
            .filter(|r| r.command_uuid.as_ref().map(|u| u.as_str()) == Some(uuid))
            .collect()
    }

    pub fn idles_of(&self, udid: &str) -> usize {
        self.reports()
            .iter()
            .filter(|r| r.status == CommandStatus::Idle && r.identity.udid().map(|u| u.as_str()) == Some(udid))
            .count()
    }

    /// Waits for a report about `uuid` whose status is not NotNow (or any, with `any`).
    pub async fn wait_result(&self, uuid: &str, timeout: Duration) -> CommandReport {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(r) = self
                .reports_for(uuid)
                .into_iter()
                .rev()
                .find(|r| r.status != CommandStatus::NotNow)
            {
                return r;
            }
            assert!(
                Instant::now() < deadline,
                "no final report for {uuid}: {:?}",
                self.reports_for(uuid)
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    pub async fn wait_until(&self, what: &str, timeout: Duration, condition: impl Fn(&FakeMdm) -> bool) {
        let deadline = Instant::now() + timeout;
        while !condition(self) {
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    pub fn signature_failures(&self) -> Vec<String> {
        self.state.recorded.lock().unwrap().signature_failures.clone()
    }

    pub fn signed_and_unsigned(&self) -> (u64, u64) {
        let r = self.state.recorded.lock().unwrap();
        (r.signed_requests, r.unsigned_requests)
    }

    pub fn profiles_served(&self) -> u64 {
        self.state.recorded.lock().unwrap().profiles_served
    }
}

async fn profile(
    State(state): State<Arc<ServerState>>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let authorized = headers.get("authorization").and_then(|v| v.to_str().ok()) == Some(&format!("Bearer {BEARER}"));
    if !authorized {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    if query.get("group_id").map(String::as_str) != Some(&GROUP.to_string()) {
        return StatusCode::NOT_FOUND.into_response();
    }
    let config = state.config.lock().unwrap().clone();
    let identity = ec_identity(&state.ca);
    let password = "pkcs12-pass";
    let mut pkcs12 = Dictionary::new();
    pkcs12.insert("PayloadType".into(), Value::String("com.apple.security.pkcs12".into()));
    pkcs12.insert("PayloadIdentifier".into(), Value::String("test.identity".into()));
    pkcs12.insert("PayloadUUID".into(), Value::String("ID-UUID-1".into()));
    pkcs12.insert("PayloadVersion".into(), Value::Integer(1.into()));
    pkcs12.insert(
        "PayloadContent".into(),
        Value::Data(identity.to_pkcs12(password).unwrap()),
    );
    pkcs12.insert("Password".into(), Value::String(password.into()));
    let mdm = MdmPayload {
        header: PayloadHeader {
            identifier: "test.mdm".into(),
            uuid: "MDM-UUID-1".into(),
            version: 1,
            display_name: None,
        },
        server_url: format!("{}/mdm/connect", state.base),
        check_in_url: Some(format!("{}/mdm/checkin", state.base)),
        topic: config.topic.clone(),
        identity_certificate_uuid: "ID-UUID-1".into(),
        access_rights: config.access_rights.map(AccessRights),
        sign_message: Some(config.sign_message),
        check_out_when_removed: Some(config.check_out_when_removed),
        server_capabilities: Some(vec!["com.apple.mdm.per-user-connections".into()]),
        use_development_apns: None,
        extra: Dictionary::new(),
    };
    let mut payloads = Vec::new();
    if config.include_pkcs12 {
        payloads.push(ProfilePayload::Other(pkcs12));
    }
    if config.include_mdm {
        payloads.push(ProfilePayload::Mdm(Box::new(mdm)));
    }
    let profile = EnrollmentProfile {
        header: PayloadHeader {
            identifier: "test.enrollment".into(),
            uuid: "PROFILE-UUID-1".into(),
            version: 1,
            display_name: Some("Test enrollment".into()),
        },
        payloads,
        extra: Dictionary::new(),
    };
    let mut body = profile.to_xml().unwrap();
    if config.sign_profile {
        body = mdm_identity::sign_profile(&body, state.profile_signer.signer()).unwrap();
    }
    state.recorded.lock().unwrap().profiles_served += 1;
    ([("content-type", "application/x-apple-aspen-config")], body).into_response()
}

/// Verifies `Mdm-Signature` when present (400 on failure, as NanoMDM does) and insists on
/// it when the profile asked for signing.
fn check_signature(state: &ServerState, headers: &HeaderMap, body: &[u8]) -> Result<(), StatusCode> {
    let sign_message = state.config.lock().unwrap().sign_message;
    let mut recorded = state.recorded.lock().unwrap();
    match headers.get("mdm-signature").and_then(|v| v.to_str().ok()) {
        Some(signature) => match state.ca.trust_anchor().verify_mdm_signature(signature, body) {
            Ok(_) => {
                recorded.signed_requests += 1;
                Ok(())
            }
            Err(e) => {
                recorded.signature_failures.push(e.to_string());
                Err(StatusCode::BAD_REQUEST)
            }
        },
        None if sign_message => {
            recorded.signature_failures.push("missing Mdm-Signature".into());
            Err(StatusCode::BAD_REQUEST)
        }
        None => {
            recorded.unsigned_requests += 1;
            Ok(())
        }
    }
}

async fn checkin(State(state): State<Arc<ServerState>>, headers: HeaderMap, body: Bytes) -> Response {
    if headers.get("content-type").and_then(|v| v.to_str().ok()) != Some("application/x-apple-aspen-mdm-checkin") {
        return StatusCode::UNSUPPORTED_MEDIA_TYPE.into_response();
    }
    if let Err(status) = check_signature(&state, &headers, &body) {
        return status.into_response();
    }
    let Ok(message) = CheckinMessage::from_xml(&body) else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    let config = state.config.lock().unwrap().clone();
    let status = match &message {
        CheckinMessage::Authenticate(_) => config.authenticate_status,
        CheckinMessage::TokenUpdate(t) if t.identity.user.is_some() => config.user_token_update_status,
        CheckinMessage::TokenUpdate(_) => config.token_update_status,
        _ => 200,
    };
    state.recorded.lock().unwrap().checkins.push(message);
    StatusCode::from_u16(status).unwrap().into_response()
}

async fn connect(State(state): State<Arc<ServerState>>, headers: HeaderMap, body: Bytes) -> Response {
    if headers.get("content-type").and_then(|v| v.to_str().ok()) != Some("application/x-apple-aspen-mdm") {
        return StatusCode::UNSUPPORTED_MEDIA_TYPE.into_response();
    }
    if let Err(status) = check_signature(&state, &headers, &body) {
        return status.into_response();
    }
    let Ok(report) = CommandReport::from_xml(&body) else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    let connect_status = state.config.lock().unwrap().connect_status;
    if connect_status != 200 {
        return StatusCode::from_u16(connect_status).unwrap().into_response();
    }
    let udid = report
        .identity
        .udid()
        .map(|u| u.as_str().to_owned())
        .unwrap_or_default();
    let user_channel = report.identity.user.is_some();
    let mut recorded = state.recorded.lock().unwrap();
    recorded.reports.push(report.clone());
    let key = if user_channel { format!("{udid}/user") } else { udid };
    // NanoMDM's rule (reference §5.3): within one connection, skip what got NotNow.
    let skipped = recorded.not_now.entry(key.clone()).or_default();
    match (&report.command_uuid, report.status) {
        (_, CommandStatus::Idle) => skipped.clear(),
        (Some(uuid), CommandStatus::NotNow) => {
            skipped.insert(uuid.as_str().to_owned());
        }
        _ => {}
    }
    let skipped = skipped.clone();
    let queue = recorded.queues.entry(key).or_default();
    if let Some(uuid) = &report.command_uuid
        && report.status.is_final()
    {
        queue.retain(|q| q.uuid() != uuid.as_str());
    }
    match queue.iter().find(|q| !skipped.contains(q.uuid())) {
        Some(next) => ([("content-type", "application/xml")], next.body()).into_response(),
        None => StatusCode::OK.into_response(),
    }
}

/// A push certificate as Apple issues them: topic in the subject UID.
pub fn push_certificate(topic: &str) -> CertificateAuth {
    let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(
        DnType::CustomDnType(vec![0, 9, 2342, 19200300, 100, 1, 1]),
        DnValue::Utf8String(topic.into()),
    );
    dn.push(DnType::CommonName, format!("APSP:{topic}"));
    params.distinguished_name = dn;
    let cert = params.self_signed(&key).unwrap();
    CertificateAuth::new(cert.pem(), key.serialize_pem())
}

/// An apple-apns client for the simulator, in whichever mode it runs.
pub fn apns_client(apns: &ApnsSim, topic: &str) -> ApnsClient {
    apns_client_with(apns, topic, |c| c)
}

pub fn apns_client_with(apns: &ApnsSim, topic: &str, tweak: impl FnOnce(ApnsConfig) -> ApnsConfig) -> ApnsClient {
    let mut config = ApnsConfig::new(apns.base_url(), push_certificate(topic)).with_topic(topic);
    if let Some(root) = apns.root_ca_pem() {
        config = config.with_root_certificate_pem(root);
    }
    ApnsClient::new(tweak(config)).unwrap()
}

pub async fn push(client: &ApnsClient, device: &SimDevice) -> PushOutcome {
    let push = MdmPush::new(device.push_token().expect("enrolled"), device.push_magic().unwrap());
    client.push(&push).await
}

/// A server, an APNs simulator (h2c), an environment and a push client, wired together.
pub struct World {
    pub server: FakeMdm,
    pub apns: ApnsSim,
    pub env: SimEnv,
    pub client: ApnsClient,
}

impl World {
    pub async fn new(config: ServerConfig) -> World {
        let server = FakeMdm::start(config).await;
        let apns = ApnsSim::start_h2c().await.unwrap();
        let env = SimEnv::builder(server.profile_source())
            .apns(apns.clone())
            .build()
            .unwrap();
        let client = apns_client(&apns, &server.topic());
        World {
            server,
            apns,
            env,
            client,
        }
    }

    pub async fn start() -> World {
        World::new(ServerConfig::default()).await
    }

    pub async fn enrolled(&self, index: usize, behaviour: Behaviour) -> SimDevice {
        let device = SimDevice::new(&self.env, index, 42, behaviour);
        device.enroll().await.unwrap();
        device
    }

    /// Queues a command, pushes, and waits for its final result.
    pub async fn run(&self, device: &SimDevice, request: impl Into<CommandRequest>) -> CommandReport {
        let uuid = self.server.queue(device.udid(), request);
        let outcome = push(&self.client, device).await;
        assert!(outcome.is_delivered(), "{outcome:?}");
        self.server.wait_result(&uuid, Duration::from_secs(10)).await
    }
}

pub const WAIT: Duration = Duration::from_secs(10);
