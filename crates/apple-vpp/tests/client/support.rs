use std::sync::Arc;

use apple_vpp::{RateLimiter, RetryPolicy, SToken, VppClient, VppConfig};
use serde_json::{Value, json};
use wiremock::MockServer;
use wiremock::matchers::{header, method, path};

pub const TOKEN: &str = "eyJ0b2tlbiI6InQiLCJleHBEYXRlIjoiMjAzMC0xMS0wOFQyMjozMzoyMiswMDAwIiwib3JnTmFtZSI6Ik8ifQ==";
pub const BEARER: &str =
    "Bearer eyJ0b2tlbiI6InQiLCJleHBEYXRlIjoiMjAzMC0xMS0wOFQyMjozMzoyMiswMDAwIiwib3JnTmFtZSI6Ik8ifQ==";

pub async fn server() -> MockServer {
    MockServer::start().await
}

pub fn client(server: &MockServer, retry: RetryPolicy) -> VppClient {
    let config = VppConfig::new(SToken::new(TOKEN), reqwest::Client::new())
        .with_base_url(&format!("{}/mdm/v2", server.uri()))
        .unwrap()
        .with_retry(retry)
        // Tests measure retry delays; keep request spacing out of the way.
        .with_rate_limiter(Arc::new(RateLimiter::new(1000)));
    VppClient::new(config)
}

pub fn get(p: &str) -> wiremock::MockBuilder {
    wiremock::Mock::given(method("GET"))
        .and(path(format!("/mdm/v2/{p}")))
        .and(header("authorization", BEARER))
        .and(header("accept", "application/json"))
}

pub fn post(p: &str) -> wiremock::MockBuilder {
    wiremock::Mock::given(method("POST"))
        .and(path(format!("/mdm/v2/{p}")))
        .and(header("authorization", BEARER))
        .and(header("content-type", "application/json"))
}

pub fn envelope(mut v: Value) -> Value {
    let obj = v.as_object_mut().unwrap();
    obj.insert("uId".into(), json!("2049025000431439"));
    obj.insert("tokenExpirationDate".into(), json!("2030-11-08T22:33:22+0000"));
    v
}

pub fn event(id: &str) -> Value {
    envelope(json!({ "eventId": id }))
}

pub fn apple_error(number: i32, message: &str) -> Value {
    json!({ "errorNumber": number, "errorMessage": message })
}
