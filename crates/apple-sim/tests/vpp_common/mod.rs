//! Shared by the `vpp_*` test binaries: a simulator with a location, a real
//! `apple_vpp::VppClient` for it, raw HTTP helpers, and a notification receiver.

// Each test binary uses a different subset.
#![allow(dead_code)]

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use apple_sim::vpp::{AssetSpec, LocationHandle, LocationSpec, VppSim, VppSimOptions};
use apple_vpp::{Notification, RateLimiter, RetryPolicy, StatusResponse, VppClient, VppConfig, VppError};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;

pub const APP: &str = "408709785";
pub const APP2: &str = "377298193";
pub const BOOK: &str = "1000000001";
pub const FREE: &str = "361309726";
pub const NOTIFY_SECRET: &str = "notify-s3cret";

/// A location with a 10-license app, a 5-license second app, a 5-license book and a free app.
pub fn standard_location() -> LocationSpec {
    LocationSpec::new("Example Inc.", "Tokyo HQ")
        .country("JP")
        .asset(AssetSpec::app(APP, 10))
        .asset(AssetSpec::app(APP2, 5))
        .asset(AssetSpec::book(BOOK, 5))
        .asset(AssetSpec::free_app(FREE))
}

pub async fn start(options: VppSimOptions) -> (VppSim, LocationHandle) {
    let sim = VppSim::start(options).await.expect("simulator starts");
    let location = sim.add_location(standard_location());
    (sim, location)
}

/// A client that never retries and does not throttle itself, so tests see every answer.
pub fn client(sim: &VppSim, location: &LocationHandle) -> VppClient {
    client_with(sim, location, RetryPolicy::no_retries())
}

pub fn client_with(sim: &VppSim, location: &LocationHandle, retry: RetryPolicy) -> VppClient {
    let config = VppConfig::new(location.stoken(), reqwest::Client::new())
        .with_base_url(&sim.base_url())
        .expect("base URL")
        .with_retry(retry)
        .with_rate_limiter(Arc::new(RateLimiter::new(10_000)));
    VppClient::new(config)
}

/// Polls `GET status` until the event is finished.
pub async fn finished(client: &VppClient, event_id: &str) -> StatusResponse {
    for _ in 0..2000 {
        let status = client.event_status(event_id).await.expect("status");
        if status.is_finished() {
            return status;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("event {event_id} never finished");
}

/// The Apple error number of a failed call.
pub fn number(err: &VppError) -> i32 {
    err.api_error()
        .unwrap_or_else(|| panic!("not an Apple error: {err}"))
        .response
        .error_number
}

/// A raw request: (status, errorNumber if any, body, Retry-After).
pub async fn raw(
    method: reqwest::Method,
    url: &str,
    auth: Option<&str>,
    content_type: Option<&str>,
    body: &str,
) -> (u16, Option<i64>, serde_json::Value, Option<String>) {
    let mut req = reqwest::Client::new().request(method, url);
    if let Some(a) = auth {
        req = req.header("Authorization", a);
    }
    if let Some(ct) = content_type {
        req = req.header("Content-Type", ct);
    }
    if !body.is_empty() {
        req = req.body(body.to_owned());
    }
    let resp = req.send().await.expect("request");
    let status = resp.status().as_u16();
    let retry_after = resp
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let bytes = resp.bytes().await.expect("body");
    let value: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null);
    let n = value.get("errorNumber").and_then(serde_json::Value::as_i64);
    (status, n, value, retry_after)
}

/// A POST with the location's token and a JSON body; returns (status, errorNumber).
pub async fn post_json(sim: &VppSim, location: &LocationHandle, path: &str, body: &str) -> (u16, Option<i64>) {
    let auth = format!("Bearer {}", location.token_file_contents());
    let (s, n, _, _) = raw(
        reqwest::Method::POST,
        &format!("{}{path}", sim.base_url()),
        Some(&auth),
        Some("application/json"),
        body,
    )
    .await;
    (s, n)
}

/// A GET with the location's token; returns (status, errorNumber, body).
pub async fn get(
    sim: &VppSim,
    location: &LocationHandle,
    path_and_query: &str,
) -> (u16, Option<i64>, serde_json::Value) {
    let auth = format!("Bearer {}", location.token_file_contents());
    let (s, n, v, _) = raw(
        reqwest::Method::GET,
        &format!("{}{path_and_query}", sim.base_url()),
        Some(&auth),
        None,
        "",
    )
    .await;
    (s, n, v)
}

/// What the MDM side received.
#[derive(Default)]
pub struct Inbox {
    pub accepted: Mutex<Vec<Notification>>,
    pub rejected_auth: AtomicU32,
    pub fail_next: AtomicU32,
}

/// A small notification endpoint that checks the bearer like an MDM must.
pub struct Receiver {
    pub url: String,
    pub inbox: Arc<Inbox>,
}

impl Receiver {
    pub async fn start() -> Receiver {
        let inbox = Arc::new(Inbox::default());
        let app = axum::Router::new()
            .route("/vpp/notify", post(receive))
            .with_state(Arc::clone(&inbox));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        Receiver {
            url: format!("http://{addr}/vpp/notify"),
            inbox,
        }
    }

    pub fn all(&self) -> Vec<Notification> {
        self.inbox.accepted.lock().unwrap().clone()
    }

    pub fn fail_next(&self, n: u32) {
        self.inbox.fail_next.store(n, Ordering::SeqCst);
    }
}

async fn receive(State(inbox): State<Arc<Inbox>>, headers: HeaderMap, body: Bytes) -> StatusCode {
    if inbox
        .fail_next
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok()
    {
        return StatusCode::SERVICE_UNAVAILABLE;
    }
    let auth = headers.get("authorization").and_then(|v| v.to_str().ok());
    if apple_vpp::verify_notification_auth(auth, NOTIFY_SECRET).is_err() {
        inbox.rejected_auth.fetch_add(1, Ordering::SeqCst);
        return StatusCode::UNAUTHORIZED;
    }
    match apple_vpp::parse_notification(&body) {
        Ok(n) => {
            inbox.accepted.lock().unwrap().push(n);
            StatusCode::OK
        }
        Err(_) => StatusCode::BAD_REQUEST,
    }
}
