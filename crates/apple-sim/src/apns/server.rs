//! One APNs request: the checks APNs makes, in the order it makes them, answered with the
//! status and reason APNs documents (reference §6.1, §6.2).

use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};

use super::faults::FaultVerdict;
use super::registry::{PushResult, Storage};
use super::{MDM_TOPIC_PREFIX, Shared};

/// APNs refuses payloads above 4 KB; an MDM payload is about 50 bytes.
pub(crate) const MAX_PAYLOAD: usize = 4096;
pub(crate) const DEVICE_PATH: &str = "/3/device/";
/// The token length the simulated devices use (Apple issues 32-byte tokens).
const TOKEN_HEX_LEN: usize = 64;

/// A request as read off the HTTP/2 stream.
pub(crate) struct Incoming {
    pub(crate) method: Method,
    pub(crate) path: String,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
    /// `Some(topic)` on TLS connections: the client certificate's UID, when it has one.
    pub(crate) certificate_topic: Option<Option<String>>,
}

/// The answer, before it becomes an HTTP response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) reason: Option<&'static str>,
    pub(crate) timestamp_ms: Option<u64>,
}

impl Answer {
    fn ok() -> Self {
        Self {
            status: 200,
            reason: None,
            timestamp_ms: None,
        }
    }

    fn error(status: u16, reason: &'static str) -> Self {
        Self {
            status,
            reason: Some(reason),
            timestamp_ms: None,
        }
    }
}

pub(crate) fn token_hex(path: &str) -> Option<&str> {
    path.strip_prefix(DEVICE_PATH)
        .filter(|t| !t.is_empty() && !t.contains('/'))
}

pub(crate) fn evaluate(shared: &Shared, request: &Incoming, now: SystemTime) -> Answer {
    if request.method != Method::POST {
        return Answer::error(405, "MethodNotAllowed");
    }
    let Some(token_hex) = token_hex(&request.path) else {
        return Answer::error(404, "BadPath");
    };
    match shared.faults().verdict() {
        FaultVerdict::Pass => {}
        FaultVerdict::CertificateExpired => return Answer::error(403, "BadCertificate"),
        FaultVerdict::Throttle(throttle) => return Answer::error(throttle.status(), throttle.reason()),
    }
    let topic = match resolve_topic(request) {
        Ok(topic) => topic,
        Err(answer) => return answer,
    };
    let Some(token) = decode_token(token_hex) else {
        return Answer::error(400, "BadDeviceToken");
    };
    if let Err(answer) = check_headers(&request.headers) {
        return answer;
    }
    let storage = match storage(&request.headers, now) {
        Ok(storage) => storage,
        Err(answer) => return answer,
    };
    let magic = match mdm_payload(&request.body) {
        Ok(magic) => magic,
        Err(answer) => return answer,
    };
    match shared.registry.push(&token, &topic, &magic, storage, now) {
        PushResult::Delivered | PushResult::Stored | PushResult::Dropped => Answer::ok(),
        PushResult::NotForTopic => Answer::error(400, "DeviceTokenNotForTopic"),
        PushResult::Unregistered(at) => Answer {
            status: 410,
            reason: Some("Unregistered"),
            timestamp_ms: Some(millis(at)),
        },
    }
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).map(|v| v.to_str().unwrap_or("\u{fffd}"))
}

/// With certificate authentication the certificate names the topic and a header may only
/// repeat it; over h2c only the header can.
fn resolve_topic(request: &Incoming) -> Result<String, Answer> {
    let from_header = header(&request.headers, "apns-topic").map(str::to_owned);
    let topic = match &request.certificate_topic {
        None => from_header.ok_or(Answer::error(400, "MissingTopic"))?,
        Some(None) => return Err(Answer::error(403, "BadCertificate")),
        Some(Some(certificate_topic)) => match from_header {
            Some(t) if &t != certificate_topic => return Err(Answer::error(403, "BadCertificate")),
            _ => certificate_topic.clone(),
        },
    };
    if topic.is_empty() || topic.ends_with('.') || !topic.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(Answer::error(400, "BadTopic"));
    }
    if !topic.starts_with(MDM_TOPIC_PREFIX) {
        return Err(Answer::error(400, "TopicDisallowed"));
    }
    Ok(topic)
}

fn decode_token(hex: &str) -> Option<Vec<u8>> {
    if hex.len() != TOKEN_HEX_LEN || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).ok())
        .collect()
}

fn check_headers(headers: &HeaderMap) -> Result<(), Answer> {
    if let Some(priority) = header(headers, "apns-priority")
        && !matches!(priority, "5" | "10")
    {
        return Err(Answer::error(400, "BadPriority"));
    }
    // A `com.apple.mgmt.` topic only takes MDM pushes.
    if let Some(push_type) = header(headers, "apns-push-type")
        && push_type != "mdm"
    {
        return Err(Answer::error(400, "InvalidPushType"));
    }
    if let Some(id) = header(headers, "apns-id")
        && !uuid::Uuid::try_parse(id).is_ok_and(|u| u.hyphenated().to_string() == id.to_ascii_lowercase())
    {
        return Err(Answer::error(400, "BadMessageId"));
    }
    Ok(())
}

fn storage(headers: &HeaderMap, now: SystemTime) -> Result<Storage, Answer> {
    let Some(raw) = header(headers, "apns-expiration") else {
        return Ok(Storage::Indefinitely);
    };
    let seconds: u64 = raw.parse().map_err(|_| Answer::error(400, "BadExpirationDate"))?;
    Ok(match seconds {
        0 => Storage::DoNotStore,
        s => {
            let until = UNIX_EPOCH + std::time::Duration::from_secs(s);
            if until <= now {
                Storage::DoNotStore
            } else {
                Storage::Until(until)
            }
        }
    })
}

/// The body must be exactly `{"mdm":"<PushMagic>"}` (reference §6.1). Apple documents no
/// distinct reason for a malformed MDM payload; `PayloadEmpty` makes a client classify
/// it as the request bug it is.
fn mdm_payload(body: &[u8]) -> Result<String, Answer> {
    if body.is_empty() {
        return Err(Answer::error(400, "PayloadEmpty"));
    }
    if body.len() > MAX_PAYLOAD {
        return Err(Answer::error(413, "PayloadTooLarge"));
    }
    let value: serde_json::Value = serde_json::from_slice(body).map_err(|_| Answer::error(400, "PayloadEmpty"))?;
    match value.as_object() {
        Some(object) if object.len() == 1 => match object.get("mdm").and_then(|m| m.as_str()) {
            Some(magic) if !magic.is_empty() => Ok(magic.to_owned()),
            _ => Err(Answer::error(400, "PayloadEmpty")),
        },
        _ => Err(Answer::error(400, "PayloadEmpty")),
    }
}

fn millis(at: SystemTime) -> u64 {
    at.duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

pub(crate) fn into_response(answer: &Answer, request_id: Option<&HeaderValue>) -> Response {
    let apns_id = request_id
        .cloned()
        .unwrap_or_else(|| HeaderValue::from_str(&uuid::Uuid::new_v4().to_string()).expect("a UUID is ASCII"));
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = match answer.reason {
        None => status.into_response(),
        Some(reason) => {
            let mut body = serde_json::json!({ "reason": reason });
            if let Some(ms) = answer.timestamp_ms {
                body["timestamp"] = ms.into();
            }
            let mut response = (status, body.to_string()).into_response();
            response
                .headers_mut()
                .insert("content-type", HeaderValue::from_static("application/json"));
            response
        }
    };
    response.headers_mut().insert("apns-id", apns_id);
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_must_be_exactly_one_mdm_string() {
        assert_eq!(mdm_payload(br#"{"mdm":"ABC"}"#), Ok("ABC".to_owned()));
        for bad in [
            &b""[..],
            b"{}",
            br#"{"mdm":""}"#,
            br#"{"mdm":1}"#,
            br#"{"mdm":"a","aps":{}}"#,
            b"[1]",
            b"not json",
        ] {
            assert!(mdm_payload(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
        assert_eq!(mdm_payload(&[b' '; MAX_PAYLOAD + 1]).unwrap_err().status, 413);
    }

    #[test]
    fn tokens_are_64_hex_digits() {
        assert_eq!(decode_token(&"ab".repeat(32)).map(|t| t.len()), Some(32));
        assert_eq!(decode_token(&"AB".repeat(32)).map(|t| t.len()), Some(32));
        assert!(decode_token(&"ab".repeat(31)).is_none());
        assert!(decode_token(&"zz".repeat(32)).is_none());
        assert_eq!(token_hex("/3/device/"), None);
        assert_eq!(token_hex("/3/device/ab/cd"), None);
        assert_eq!(token_hex("/3/device/abcd"), Some("abcd"));
    }

    #[test]
    fn expiration_zero_or_past_is_not_stored() {
        let now = SystemTime::now();
        let mut headers = HeaderMap::new();
        assert_eq!(storage(&headers, now), Ok(Storage::Indefinitely));
        headers.insert("apns-expiration", HeaderValue::from_static("0"));
        assert_eq!(storage(&headers, now), Ok(Storage::DoNotStore));
        headers.insert("apns-expiration", HeaderValue::from_static("1"));
        assert_eq!(storage(&headers, now), Ok(Storage::DoNotStore));
        headers.insert("apns-expiration", HeaderValue::from_static("4000000000"));
        assert!(matches!(storage(&headers, now), Ok(Storage::Until(_))));
        headers.insert("apns-expiration", HeaderValue::from_static("soon"));
        assert_eq!(storage(&headers, now).unwrap_err().reason, Some("BadExpirationDate"));
    }
}
