//! The baseline of `haishin bench mdm`: an MDM server without a database.
//!
//! It does the per-request work every MDM server must do, the way haishin
//! does it: parse the plist, verify the `Mdm-Signature` (the CMS signature,
//! then the certificate against the device CA it issued, pinned by
//! fingerprint), check the device is the one the identity enrolled as, and
//! decode a DeviceInformation result. Queues, enrollments and push tokens
//! live in memory, so the difference to haishin is what the database and
//! haishin's bookkeeping cost.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use anyhow::Context;
use apple_mdm::command::DeviceInformation;
use apple_mdm::enrollment::{AccessRights, EnrollmentProfile, MdmPayload, PayloadHeader, ProfilePayload};
use apple_mdm::report::DeviceInformationResult;
use apple_mdm::{CheckinMessage, Command, CommandReport, CommandStatus, Dictionary, PlistRecord, Value};
use apple_sim::{HttpProfileSource, SimEnv};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use mdm_identity::{DeviceCa, IdentityOptions, KeyAlgorithm, generate_pkcs12_password, mdm_signature_signer};
use tokio::sync::oneshot;

use super::{Drive, MdmBench, ServerFigures};

/// The topic of the baseline's profiles (it never pushes).
const TOPIC: &str = "com.apple.mgmt.External.00000000-0000-4000-8000-00000000b45e";
/// The same rights haishin's profiles ask for.
const ACCESS_RIGHTS: u64 = 8191;

/// The baseline server, listening on loopback until [`Baseline::stop`].
pub struct Baseline {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    shutdown: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

struct Shared {
    ca: DeviceCa,
    base: String,
    memory: Mutex<Memory>,
}

#[derive(Default)]
struct Memory {
    /// Enrollment id (certificate CN) → SHA-256 fingerprint of the issued certificate.
    issued: HashMap<String, String>,
    /// Enrollment id → the UDID that authenticated with it.
    bound: HashMap<String, String>,
    /// UDID → push token and PushMagic.
    tokens: HashMap<String, (Vec<u8>, String)>,
    /// UDID → commands not yet answered, head first.
    queues: HashMap<String, VecDeque<Queued>>,
    /// CommandUUID → `success`, or what went wrong.
    outcomes: HashMap<String, String>,
}

struct Queued {
    uuid: String,
    request_type: String,
    body: Bytes,
}

impl Shared {
    fn memory(&self) -> MutexGuard<'_, Memory> {
        self.memory.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Baseline {
    /// Starts on 127.0.0.1 with an ephemeral port, with a fresh device CA
    /// (RSA-2048, as haishin's) issuing P-256 identities.
    pub async fn start() -> anyhow::Result<Baseline> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let ca = DeviceCa::generate("haishin bench baseline CA").context("device CA")?;
        let shared = Arc::new(Shared {
            ca,
            base: format!("http://{addr}"),
            memory: Mutex::new(Memory::default()),
        });
        let app = axum::Router::new()
            .route("/enrollment-profile", get(profile))
            .route("/mdm/checkin", put(checkin))
            .route("/mdm/connect", put(connect))
            .with_state(Arc::clone(&shared));
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = rx.await;
                })
                .await
        });
        Ok(Baseline {
            addr,
            shared,
            shutdown: Some(tx),
            task,
        })
    }

    /// Where devices download their enrollment profile.
    pub fn profile_url(&self) -> String {
        format!("{}/enrollment-profile", self.shared.base)
    }

    /// Queues a DeviceInformation command for the device; returns its CommandUUID.
    pub fn queue_device_information(&self, udid: &str) -> anyhow::Result<String> {
        let command = Command::new(DeviceInformation::for_app_distribution());
        let queued = Queued {
            uuid: command.command_uuid.as_str().to_owned(),
            request_type: command.request_type().to_owned(),
            body: Bytes::from(command.to_xml()?),
        };
        let uuid = queued.uuid.clone();
        self.shared
            .memory()
            .queues
            .entry(udid.to_owned())
            .or_default()
            .push_back(queued);
        Ok(uuid)
    }

    /// `success`, or what happened to the command; `None` if the device never answered it.
    pub fn outcome(&self, uuid: &str) -> Option<String> {
        self.shared.memory().outcomes.get(uuid).cloned()
    }

    pub async fn stop(mut self) -> anyhow::Result<()> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        Ok(self.task.await??)
    }
}

/// Enrolls the fleet against a fresh baseline server and measures it as
/// [`super::measure`] measures haishin.
pub(super) async fn run(args: &MdmBench) -> anyhow::Result<ServerFigures> {
    let server = Baseline::start().await?;
    let env = SimEnv::builder(HttpProfileSource::new(server.profile_url())).build()?;
    let mut drive = Drive::default();
    let fleet = drive.enroll("baseline", env, args).await;
    fleet.stats().reset();
    let mut queued = Vec::new();
    for round in 1..=args.rounds {
        let devices = fleet.enrolled();
        for device in &devices {
            queued.push(server.queue_device_information(device.udid())?);
        }
        eprintln!("[baseline] round {round}: {} commands queued, polling…", devices.len());
        drive.round(&fleet, args.concurrency).await;
    }
    let mut ok = 0;
    for uuid in &queued {
        match server.outcome(uuid) {
            Some(outcome) if outcome == "success" => ok += 1,
            outcome => drive.note(format!(
                "command {uuid}: {}",
                outcome.as_deref().unwrap_or("never answered")
            )),
        }
    }
    server.stop().await?;
    Ok(drive.figures("baseline", &fleet, ok, args.devices * args.rounds))
}

/// A refusal with its status and reason, logged as haishin logs its refusals.
struct Refused(StatusCode, String);

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        tracing::warn!(
            status = self.0.as_u16(),
            "baseline refused a device request: {}",
            self.1
        );
        (self.0, self.1).into_response()
    }
}

fn bad(reason: impl std::fmt::Display) -> Refused {
    Refused(StatusCode::BAD_REQUEST, reason.to_string())
}

fn unauthorized(reason: impl std::fmt::Display) -> Refused {
    Refused(StatusCode::UNAUTHORIZED, reason.to_string())
}

/// What haishin's profile has: a PKCS#12 identity with a random password
/// and the MDM payload, unsigned.
async fn profile(State(shared): State<Arc<Shared>>) -> Result<Response, Refused> {
    let identity = shared
        .ca
        .issue_identity_with(&IdentityOptions {
            key_algorithm: KeyAlgorithm::EcdsaP256,
            ..IdentityOptions::default()
        })
        .map_err(|e| bad(format!("issuing: {e}")))?;
    let password = generate_pkcs12_password().map_err(|e| bad(e.to_string()))?;
    let pfx = identity.to_pkcs12(password.as_str()).map_err(|e| bad(e.to_string()))?;
    let identity_uuid = uuid(identity.enrollment_id(), "ID");
    let mut pkcs12 = Dictionary::new();
    pkcs12.insert("PayloadType".into(), Value::String("com.apple.security.pkcs12".into()));
    pkcs12.insert(
        "PayloadIdentifier".into(),
        Value::String(format!("bench.identity.{identity_uuid}")),
    );
    pkcs12.insert("PayloadUUID".into(), Value::String(identity_uuid.clone()));
    pkcs12.insert("PayloadVersion".into(), Value::Integer(1.into()));
    pkcs12.insert("PayloadContent".into(), Value::Data(pfx));
    pkcs12.insert("Password".into(), Value::String(password.as_str().to_owned()));
    let mdm = MdmPayload {
        header: PayloadHeader {
            identifier: "bench.mdm".into(),
            uuid: uuid(identity.enrollment_id(), "MDM"),
            version: 1,
            display_name: Some("baseline MDM".into()),
        },
        server_url: format!("{}/mdm/connect", shared.base),
        check_in_url: Some(format!("{}/mdm/checkin", shared.base)),
        topic: TOPIC.into(),
        identity_certificate_uuid: identity_uuid,
        access_rights: Some(AccessRights(ACCESS_RIGHTS)),
        sign_message: Some(true),
        check_out_when_removed: Some(true),
        server_capabilities: Some(vec!["com.apple.mdm.per-user-connections".into()]),
        use_development_apns: None,
        extra: Dictionary::new(),
    };
    let profile = EnrollmentProfile {
        header: PayloadHeader {
            identifier: "bench.enroll".into(),
            uuid: uuid(identity.enrollment_id(), "PROFILE"),
            version: 1,
            display_name: Some("haishin bench baseline".into()),
        },
        payloads: vec![ProfilePayload::Other(pkcs12), ProfilePayload::Mdm(Box::new(mdm))],
        extra: Dictionary::new(),
    };
    let bytes = profile.to_xml().map_err(|e| bad(e.to_string()))?;
    let certificate = identity.certificate();
    shared
        .memory()
        .issued
        .insert(identity.enrollment_id().to_owned(), certificate.sha256_fingerprint());
    Ok(([(header::CONTENT_TYPE, "application/x-apple-aspen-config")], bytes).into_response())
}

/// A payload UUID derived from the (random, UUID-shaped) enrollment id.
fn uuid(enrollment_id: &str, kind: &str) -> String {
    format!("{kind}-{enrollment_id}")
}

/// The enrollment id the request proves, with haishin's checks: a valid
/// CMS signature over the exact body, by a certificate this CA issued, and
/// the very certificate handed out for that enrollment.
fn authenticate(shared: &Shared, headers: &HeaderMap, body: &[u8]) -> Result<String, Refused> {
    let signature = headers
        .get("mdm-signature")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| unauthorized("no Mdm-Signature"))?;
    let claimed = mdm_signature_signer(signature, body).map_err(|e| unauthorized(format!("Mdm-Signature: {e}")))?;
    let enrollment_id = claimed
        .common_name()
        .ok_or_else(|| unauthorized("the certificate has no common name"))?
        .to_owned();
    let pinned = shared
        .memory()
        .issued
        .get(&enrollment_id)
        .cloned()
        .ok_or_else(|| unauthorized("the certificate was not issued here"))?;
    let verified = shared
        .ca
        .trust_anchor()
        .verify_client_certificate(claimed.der())
        .map_err(|e| unauthorized(format!("certificate: {e}")))?;
    if verified.sha256_fingerprint() != pinned {
        return Err(unauthorized("not the certificate issued for this enrollment"));
    }
    Ok(enrollment_id)
}

async fn checkin(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Result<StatusCode, Refused> {
    let message = CheckinMessage::from_xml(&body).map_err(bad)?;
    let enrollment_id = authenticate(&shared, &headers, &body)?;
    let udid = message
        .identity()
        .and_then(|i| i.udid())
        .map(|u| u.as_str().to_owned())
        .ok_or_else(|| bad("missing UDID"))?;
    let mut memory = shared.memory();
    match &message {
        CheckinMessage::Authenticate(auth) => {
            if auth.topic != TOPIC {
                return Err(unauthorized("not this server's topic"));
            }
            if memory.bound.get(&enrollment_id).is_some_and(|bound| *bound != udid) {
                return Err(unauthorized("the identity belongs to another device"));
            }
            memory.bound.insert(enrollment_id, udid);
        }
        CheckinMessage::TokenUpdate(update) => {
            if memory.bound.get(&enrollment_id) != Some(&udid) {
                return Err(unauthorized("the identity has not authenticated as this device"));
            }
            if update.identity.user.is_none() {
                memory
                    .tokens
                    .insert(udid, (update.token.clone(), update.push_magic.clone()));
            }
        }
        CheckinMessage::CheckOut(_) => {
            memory.bound.remove(&enrollment_id);
            memory.tokens.remove(&udid);
        }
        other => return Err(bad(format!("MessageType {} is not handled", other.message_type()))),
    }
    Ok(StatusCode::OK)
}

async fn connect(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Result<Response, Refused> {
    let report = CommandReport::from_xml(&body).map_err(bad)?;
    let enrollment_id = authenticate(&shared, &headers, &body)?;
    let udid = report
        .identity
        .udid()
        .map(|u| u.as_str().to_owned())
        .ok_or_else(|| bad("missing UDID"))?;
    if shared.memory().bound.get(&enrollment_id) != Some(&udid) {
        return Err(unauthorized("the identity belongs to another device"));
    }
    if report.identity.user.is_some() {
        return Ok(StatusCode::OK.into_response());
    }
    // Decode the result outside the lock, as haishin decodes before it writes.
    let mut outcome = None;
    if report.status != CommandStatus::Idle {
        let uuid = report
            .command_uuid
            .as_ref()
            .ok_or_else(|| bad("a report without CommandUUID"))?
            .as_str()
            .to_owned();
        let request_type = shared
            .memory()
            .queues
            .get(&udid)
            .and_then(|q| q.iter().find(|c| c.uuid == uuid))
            .map(|c| c.request_type.clone());
        let verdict = match (report.status, request_type.as_deref()) {
            (_, None) => None,
            (CommandStatus::NotNow, Some(_)) => return Ok(StatusCode::OK.into_response()),
            (CommandStatus::Acknowledged, Some("DeviceInformation")) => {
                let result: DeviceInformationResult = report.decode().map_err(bad)?;
                let reported = result.query_responses.udid.as_ref().map(|u| u.as_str());
                Some(if reported == Some(udid.as_str()) {
                    "success".to_owned()
                } else {
                    format!("DeviceInformation reported UDID {reported:?}")
                })
            }
            (CommandStatus::Acknowledged, Some(_)) => Some("success".to_owned()),
            (status, Some(_)) => Some(format!("device answered {status}: {:?}", report.error_chain)),
        };
        outcome = verdict.map(|v| (uuid, v));
    }
    let mut memory = shared.memory();
    if let Some((uuid, verdict)) = outcome {
        if let Some(queue) = memory.queues.get_mut(&udid) {
            queue.retain(|c| c.uuid != uuid);
        }
        memory.outcomes.insert(uuid, verdict);
    }
    // The head stays queued until its own CommandUUID comes back.
    let next = memory.queues.get(&udid).and_then(|q| q.front()).map(|c| c.body.clone());
    drop(memory);
    Ok(match next {
        Some(body) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/xml; charset=UTF-8")],
            body,
        )
            .into_response(),
        None => StatusCode::OK.into_response(),
    })
}
