//! An in-process fake of APNs: HTTP/2 on 127.0.0.1 (h2c, or TLS with client certificates),
//! checking every request the way APNs would and answering from a per-test script.

use std::collections::HashSet;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use apple_apns::{CertificateAuth, TokenAuth};
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED, UnparsedPublicKey};
use axum::Extension;
use axum::body::Bytes;
use axum::extract::Request;
use axum::http::{HeaderMap, Method, StatusCode, Version};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::service::TowerToHyperService;
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, DnValue, ExtendedKeyUsagePurpose, IsCa, Issuer,
    KeyPair, SanType,
};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls;

pub const TOPIC: &str = "com.apple.mgmt.External.3f5c7a2e-1b4d-4e8f-9a6b-0c2d1e3f4a5b";
pub const KEY_ID: &str = "ABC123DEFG";
pub const TEAM_ID: &str = "TEAM456XYZ";

/// What the fake answers to one (valid) request.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub body: String,
    pub apns_id: Option<String>,
    pub delay: Duration,
}

impl Reply {
    pub fn ok() -> Reply {
        Reply {
            status: 200,
            body: String::new(),
            apns_id: None,
            delay: Duration::ZERO,
        }
    }

    pub fn error(status: u16, reason: &str) -> Reply {
        Reply {
            status,
            body: serde_json::json!({ "reason": reason }).to_string(),
            ..Reply::ok()
        }
    }

    pub fn unregistered(timestamp_ms: u64) -> Reply {
        Reply {
            status: 410,
            body: serde_json::json!({ "reason": "Unregistered", "timestamp": timestamp_ms }).to_string(),
            ..Reply::ok()
        }
    }

    pub fn with_apns_id(mut self, id: impl Into<String>) -> Reply {
        self.apns_id = Some(id.into());
        self
    }

    pub fn after(mut self, delay: Duration) -> Reply {
        self.delay = delay;
        self
    }
}

/// One request as the fake received it.
#[derive(Debug, Clone)]
pub struct Seen {
    /// 1-based arrival order.
    pub n: usize,
    pub method: Method,
    pub path: String,
    pub version: Version,
    pub headers: HeaderMap,
    pub body: Bytes,
    pub peer_certificate: Option<Vec<u8>>,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn token_hex(&self) -> &str {
        self.path.strip_prefix("/3/device/").unwrap_or("")
    }

    pub fn jwt(&self) -> Option<&str> {
        self.header("authorization")?.strip_prefix("bearer ")
    }
}

/// What the fake insists on, beyond the fixed MDM format.
#[derive(Clone)]
pub struct Expect {
    pub topic: String,
    /// With token authentication: the P-256 public key the JWT must verify with.
    pub jwt_public_key: Option<Vec<u8>>,
}

impl Expect {
    pub fn certificate() -> Expect {
        Expect {
            topic: TOPIC.into(),
            jwt_public_key: None,
        }
    }

    pub fn token(auth: &TokenAuth) -> Expect {
        Expect {
            topic: TOPIC.into(),
            jwt_public_key: Some(auth.public_key()),
        }
    }
}

type Script = dyn Fn(&Seen) -> Reply + Send + Sync;

struct State {
    expect: Expect,
    script: Box<Script>,
    seen: Mutex<Vec<Seen>>,
    violations: Mutex<Vec<String>>,
    requests: AtomicUsize,
    connections: AtomicUsize,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
}

pub struct FakeApns {
    pub url: String,
    state: Arc<State>,
    task: JoinHandle<()>,
}

impl Drop for FakeApns {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Streams per connection the fake allows (APNs decides its own; hyper's default).
const MAX_STREAMS: u32 = 200;

impl FakeApns {
    /// Plain HTTP/2 (prior knowledge), like a loopback simulator.
    pub async fn start(expect: Expect, script: impl Fn(&Seen) -> Reply + Send + Sync + 'static) -> FakeApns {
        Self::serve(expect, Box::new(script), None).await
    }

    /// HTTP/2 over TLS that requires a client certificate issued by `pki`'s CA.
    pub async fn start_tls(
        expect: Expect,
        pki: &TestPki,
        script: impl Fn(&Seen) -> Reply + Send + Sync + 'static,
    ) -> FakeApns {
        Self::serve(expect, Box::new(script), Some(pki.server_acceptor())).await
    }

    async fn serve(expect: Expect, script: Box<Script>, tls: Option<TlsAcceptor>) -> FakeApns {
        let tcp = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = tcp.local_addr().unwrap();
        let scheme = if tls.is_some() { "https" } else { "http" };
        let state = Arc::new(State {
            expect,
            script,
            seen: Mutex::new(Vec::new()),
            violations: Mutex::new(Vec::new()),
            requests: AtomicUsize::new(0),
            connections: AtomicUsize::new(0),
            in_flight: AtomicUsize::new(0),
            max_in_flight: AtomicUsize::new(0),
        });
        let handler_state = Arc::clone(&state);
        let app = axum::Router::new().fallback(move |Extension(peer): Extension<Peer>, req: Request| {
            let state = Arc::clone(&handler_state);
            async move { handle(state, peer, req).await }
        });
        let accept_state = Arc::clone(&state);
        let task = tokio::spawn(async move {
            loop {
                let Ok((tcp, _)) = tcp.accept().await else { continue };
                accept_state.connections.fetch_add(1, Ordering::SeqCst);
                let app = app.clone();
                let tls = tls.clone();
                tokio::spawn(async move {
                    let (io, peer): (Pin<Box<dyn Io>>, Peer) = match tls {
                        None => (Box::pin(tcp), Peer { certificate: None }),
                        Some(acceptor) => {
                            // A failed handshake (no or wrong client certificate) is the answer.
                            let Ok(stream) = acceptor.accept(tcp).await else { return };
                            let certificate = stream
                                .get_ref()
                                .1
                                .peer_certificates()
                                .and_then(|c| c.first())
                                .map(|c| c.as_ref().to_vec());
                            (Box::pin(stream), Peer { certificate })
                        }
                    };
                    let service = TowerToHyperService::new(app.layer(Extension(peer)));
                    let _ = hyper::server::conn::http2::Builder::new(TokioExecutor::new())
                        .max_concurrent_streams(MAX_STREAMS)
                        .serve_connection(TokioIo::new(io), service)
                        .await;
                });
            }
        });
        FakeApns {
            url: format!("{scheme}://{addr}"),
            state,
            task,
        }
    }

    pub fn requests(&self) -> usize {
        self.state.requests.load(Ordering::SeqCst)
    }

    pub fn connections(&self) -> usize {
        self.state.connections.load(Ordering::SeqCst)
    }

    pub fn max_in_flight(&self) -> usize {
        self.state.max_in_flight.load(Ordering::SeqCst)
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.state.seen.lock().unwrap().clone()
    }

    /// Every way a request differed from what APNs accepts; tests assert it is empty.
    pub fn violations(&self) -> Vec<String> {
        self.state.violations.lock().unwrap().clone()
    }
}

async fn handle(state: Arc<State>, peer: Peer, req: Request) -> Response {
    let n = state.requests.fetch_add(1, Ordering::SeqCst) + 1;
    let now = state.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    state.max_in_flight.fetch_max(now, Ordering::SeqCst);
    let (parts, body) = req.into_parts();
    let body = axum::body::to_bytes(body, 64 * 1024).await.unwrap_or_default();
    let seen = Seen {
        n,
        method: parts.method,
        path: parts.uri.path().to_owned(),
        version: parts.version,
        headers: parts.headers,
        body,
        peer_certificate: peer.certificate,
    };
    state.seen.lock().unwrap().push(seen.clone());
    let reply = match check(&state.expect, &seen) {
        Ok(()) => (state.script)(&seen),
        Err((status, reason, why)) => {
            state.violations.lock().unwrap().push(format!("request {n}: {why}"));
            Reply::error(status, reason)
        }
    };
    if !reply.delay.is_zero() {
        tokio::time::sleep(reply.delay).await;
    }
    state.in_flight.fetch_sub(1, Ordering::SeqCst);
    let mut response = (StatusCode::from_u16(reply.status).unwrap(), reply.body).into_response();
    let apns_id = reply
        .apns_id
        .unwrap_or_else(|| format!("00000000-0000-4000-8000-{n:012}"));
    response.headers_mut().insert("apns-id", apns_id.parse().unwrap());
    if reply.status != 200 {
        response
            .headers_mut()
            .insert("content-type", "application/json".parse().unwrap());
    }
    response
}

type Violation = (u16, &'static str, String);

/// The checks APNs makes, answered with the reason APNs would give.
fn check(expect: &Expect, seen: &Seen) -> Result<(), Violation> {
    let fail = |status, reason, why: String| Err((status, reason, why));
    if seen.version != Version::HTTP_2 {
        return fail(400, "BadPath", format!("HTTP version {:?}", seen.version));
    }
    if seen.method != Method::POST {
        return fail(405, "MethodNotAllowed", format!("method {}", seen.method));
    }
    let token = seen.token_hex();
    if !seen.path.starts_with("/3/device/") || token.is_empty() {
        return fail(404, "BadPath", format!("path {}", seen.path));
    }
    if !token.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) || !token.len().is_multiple_of(2) {
        return fail(400, "BadDeviceToken", format!("token `{token}` is not lower-case hex"));
    }
    match seen.header("apns-topic") {
        None => return fail(400, "MissingTopic", "no apns-topic".into()),
        Some(t) if t != expect.topic => return fail(400, "BadTopic", format!("topic {t}")),
        _ => {}
    }
    if seen.header("apns-push-type") != Some("mdm") {
        return fail(
            400,
            "InvalidPushType",
            format!("push type {:?}", seen.header("apns-push-type")),
        );
    }
    if seen.header("apns-priority") != Some("10") {
        return fail(
            400,
            "BadPriority",
            format!("priority {:?}", seen.header("apns-priority")),
        );
    }
    if seen.header("content-type") != Some("application/json") {
        return fail(
            400,
            "PayloadEmpty",
            format!("content-type {:?}", seen.header("content-type")),
        );
    }
    if let Some(exp) = seen.header("apns-expiration")
        && exp.parse::<u64>().is_err()
    {
        return fail(400, "BadExpirationDate", format!("expiration {exp}"));
    }
    if let Some(id) = seen.header("apns-id")
        && !is_canonical_uuid(id)
    {
        return fail(400, "BadMessageId", format!("apns-id {id}"));
    }
    let body: serde_json::Value = match serde_json::from_slice(&seen.body) {
        Ok(v) => v,
        Err(_) => return fail(400, "PayloadEmpty", "body is not JSON".into()),
    };
    let keys: Vec<&String> = body.as_object().map(|o| o.keys().collect()).unwrap_or_default();
    if keys != ["mdm"] || !body["mdm"].is_string() {
        return fail(400, "PayloadEmpty", format!("body {body}"));
    }
    match (&expect.jwt_public_key, seen.jwt()) {
        (None, None) => Ok(()),
        (None, Some(_)) => fail(403, "Forbidden", "bearer token with certificate authentication".into()),
        (Some(_), None) => fail(403, "MissingProviderToken", "no bearer token".into()),
        (Some(key), Some(jwt)) => verify_jwt(jwt, key).map_err(|why| (403, "InvalidProviderToken", why)),
    }
}

fn is_canonical_uuid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.iter().map(|g| g.len()).eq([8, 4, 4, 4, 12])
        && groups
            .iter()
            .all(|g| g.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)))
}

/// Checks a provider token as APNs does: ES256 over `header.claims`, our key id and team,
/// issued within the last hour.
pub fn verify_jwt(jwt: &str, public_key: &[u8]) -> Result<(), String> {
    let parts: Vec<&str> = jwt.split('.').collect();
    let [header, claims, signature] = parts[..] else {
        return Err(format!("{} JWT parts", parts.len()));
    };
    let decode = |p: &str| -> Result<serde_json::Value, String> {
        let raw = URL_SAFE_NO_PAD.decode(p).map_err(|e| e.to_string())?;
        serde_json::from_slice(&raw).map_err(|e| e.to_string())
    };
    let h = decode(header)?;
    let c = decode(claims)?;
    if h != serde_json::json!({"alg": "ES256", "kid": KEY_ID}) {
        return Err(format!("header {h}"));
    }
    if c["iss"] != TEAM_ID || c.as_object().map(|o| o.len()) != Some(2) {
        return Err(format!("claims {c}"));
    }
    let iat = c["iat"].as_u64().ok_or("no iat")?;
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
    if iat > now + 60 || now - iat > 3600 {
        return Err(format!("iat {iat} is not within the last hour of {now}"));
    }
    let sig = URL_SAFE_NO_PAD.decode(signature).map_err(|e| e.to_string())?;
    UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, public_key)
        .verify(format!("{header}.{claims}").as_bytes(), &sig)
        .map_err(|_| "signature does not verify".to_owned())
}

/// Per-connection facts handed to the handler.
#[derive(Clone, Debug)]
pub struct Peer {
    certificate: Option<Vec<u8>>,
}

pub trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// A CA, a server certificate for 127.0.0.1, and an MDM push certificate (RSA, with the
/// topic in its subject UID, as Apple issues them).
pub struct TestPki {
    pub ca_pem: String,
    ca_der: rustls::pki_types::CertificateDer<'static>,
    server_cert: rcgen::Certificate,
    server_key: KeyPair,
    pub push_cert_pem: String,
    pub push_cert_der: Vec<u8>,
    pub push_key_pem: String,
}

impl TestPki {
    pub fn new() -> TestPki {
        let ca_key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let mut ca_params = CertificateParams::default();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "Test Application Integration CA");
        let ca_cert = ca_params.self_signed(&ca_key).unwrap();
        let issuer = Issuer::new(ca_params, ca_key);

        let server_key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let mut server_params = CertificateParams::default();
        server_params.subject_alt_names = vec![SanType::IpAddress([127, 0, 0, 1].into())];
        let server_cert = server_params.signed_by(&server_key, &issuer).unwrap();

        let push_key = KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256).unwrap();
        let push_params = push_cert_params(TOPIC);
        let push_cert = push_params.signed_by(&push_key, &issuer).unwrap();

        TestPki {
            ca_pem: ca_cert.pem(),
            ca_der: ca_cert.der().clone(),
            server_cert,
            server_key,
            push_cert_pem: push_cert.pem(),
            push_cert_der: push_cert.der().to_vec(),
            push_key_pem: push_key.serialize_pem(),
        }
    }

    pub fn certificate_auth(&self) -> CertificateAuth {
        CertificateAuth::new(self.push_cert_pem.clone(), self.push_key_pem.clone())
    }

    fn server_acceptor(&self) -> TlsAcceptor {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let mut roots = rustls::RootCertStore::empty();
        roots.add(self.ca_der.clone()).unwrap();
        let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
            .build()
            .unwrap();
        let key = rustls::pki_types::PrivateKeyDer::try_from(self.server_key.serialize_der()).unwrap();
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_client_cert_verifier(verifier)
            .with_single_cert(vec![self.server_cert.der().clone()], key)
            .unwrap();
        config.alpn_protocols = vec![b"h2".to_vec()];
        TlsAcceptor::from(Arc::new(config))
    }
}

pub fn push_cert_params(topic: &str) -> CertificateParams {
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(
        DnType::CustomDnType(vec![0, 9, 2342, 19200300, 100, 1, 1]),
        DnValue::Utf8String(topic.into()),
    );
    dn.push(DnType::CommonName, format!("APSP:{}", &topic[topic.len() - 36..]));
    dn.push(DnType::CountryName, "JP");
    params.distinguished_name = dn;
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    params
}

/// A self-signed push certificate and its key, for h2c tests (TLS is not checked there).
pub fn certificate_auth() -> CertificateAuth {
    let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let cert = push_cert_params(TOPIC).self_signed(&key).unwrap();
    CertificateAuth::new(cert.pem(), key.serialize_pem())
}

pub fn token_auth() -> TokenAuth {
    let p8 = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)
        .unwrap()
        .serialize_pem();
    TokenAuth::from_p8(p8.as_bytes(), KEY_ID, TEAM_ID).unwrap()
}

/// A 32-byte device token whose hex form encodes `i`, so outcomes can be matched to pushes.
pub fn device_token(i: u32) -> Vec<u8> {
    let mut t = vec![0xa0; 32];
    t[28..].copy_from_slice(&i.to_be_bytes());
    t
}

pub fn hex_index(token_hex: &str) -> u32 {
    u32::from_str_radix(&token_hex[56..], 16).unwrap()
}

/// Counts distinct values, for "how many different JWTs did the server see".
pub fn distinct<'a>(values: impl IntoIterator<Item = &'a str>) -> usize {
    values.into_iter().collect::<HashSet<_>>().len()
}
