//! Asynchronous events: the `EventResponse` every write returns, and `GET status`.

use serde::{Deserialize, Serialize};

use super::{Envelope, ErrorResponse, string_enum};

string_enum! {
    /// `FAILED` means processing finished with at least one failed task; the others were
    /// still applied and counted in `numCompleted`.
    EventStatus { Pending => "PENDING", Complete => "COMPLETE", Failed => "FAILED" }
}

string_enum! {
    EventType {
        Associate => "ASSOCIATE",
        Disassociate => "DISASSOCIATE",
        Revoke => "REVOKE",
        Create => "CREATE",
        Update => "UPDATE",
        Retire => "RETIRE",
    }
}

/// Returned by every write endpoint: the request was accepted and will be processed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventResponse {
    pub event_id: String,
    #[serde(flatten)]
    pub envelope: Envelope,
}

/// `GET status?eventId=`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusResponse {
    pub event_status: EventStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_type: Option<EventType>,
    /// One entry per error kind, each naming the affected entities in `errorInfo`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub failures: Vec<ErrorResponse>,
    #[serde(default)]
    pub num_completed: u32,
    #[serde(default)]
    pub num_requested: u32,
    #[serde(flatten)]
    pub envelope: Envelope,
}

impl StatusResponse {
    pub fn is_finished(&self) -> bool {
        matches!(self.event_status, EventStatus::Complete | EventStatus::Failed)
    }
}

/// Query of `GET status`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusQuery {
    pub event_id: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::errors::ErrorCode;

    #[test]
    fn status_example_parses() {
        let json = r#"{"eventStatus":"FAILED","eventType":"ASSOCIATE",
          "failures":[{"errorNumber":9609,"errorMessage":"Registered user not found","errorInfo":{"clientUserIds":["client-4"]}}],
          "numCompleted":14,"numRequested":16,"tokenExpirationDate":"2030-11-08T22:33:22+0000","uId":"2049025000431439"}"#;
        let s: StatusResponse = serde_json::from_str(json).unwrap();
        assert!(s.is_finished());
        assert_eq!(s.failures[0].code(), ErrorCode::RegisteredUserNotFound);
        assert_eq!(
            s.failures[0].error_info.as_ref().unwrap().client_user_ids,
            vec!["client-4"]
        );
        let v = serde_json::to_value(&s).unwrap();
        assert_eq!(v, serde_json::from_str::<serde_json::Value>(json).unwrap());
    }
}
