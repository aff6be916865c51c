//! Apple's error bodies as the simulator sends them: number, message, HTTP status.

use apple_vpp::{ErrorCode, ErrorResponse, ResponseErrorInfo};

/// The numbers the simulator can answer with, and the wording it uses. The wording is
/// ours; clients must key on the number, never the text.
pub(crate) const MESSAGES: &[(i32, &str)] = &[
    (9601, "Login required."),
    (9602, "Invalid argument."),
    (9603, "Internal error; try again later."),
    (9609, "Registered user not found."),
    (9621, "The sToken has expired. Download a new one."),
    (9625, "The server has revoked the sToken."),
    (9637, "This operation is not allowed for a read-only content manager."),
    (9644, "The service is in maintenance mode; try again later."),
    (9646, "Too many requests for this organization; back off and retry."),
    (9650, "pageIndex must be at least 0 and less than totalPages."),
    (9700, "Too many assets in one request."),
    (9701, "Too many clientUserIds in one request."),
    (9702, "Too many serialNumbers in one request."),
    (9703, "The request contains duplicate assets."),
    (9704, "The request contains duplicate clientUserIds."),
    (9705, "The request contains duplicate serialNumbers."),
    (9706, "The asset is not revocable."),
    (9707, "The asset cannot be assigned to devices."),
    (9708, "No event with this eventId."),
    (9709, "There aren't enough licenses available for this asset."),
    (9710, "notificationUrl and notificationAuthToken must be sent together."),
    (9711, "notificationUrl or notificationAuthToken is too long."),
    (9712, "notificationUrl must be a valid HTTPS URL."),
    (9713, "mdmInfo.metadata is too long."),
    (9714, "Too many users in one request."),
    (9715, "The request contains duplicate users."),
    (9716, "A registered user with this clientUserId already exists."),
    (9717, "Invalid email address."),
    (9718, "assets is required."),
    (9719, "clientUserIds or serialNumbers is required."),
    (9720, "users is required."),
    (9721, "Invalid sinceVersionId."),
    (9722, "The Authorization header must be of the form 'Bearer {sToken}'."),
    (9723, "mdmInfo requires id, name and metadata."),
    (9724, "mdmInfo.id is too long."),
    (9725, "mdmInfo.name is too long."),
    (
        9726,
        "This request contains an unsupported HTTP method for the requested endpoint.",
    ),
    (
        9727,
        "This request contains an unsupported Content-Type; use application/json.",
    ),
    (9728, "The notification URL is unreachable."),
    (9729, "The service is temporarily unavailable."),
];

/// Message for `number`, or a generic one for numbers outside [`MESSAGES`].
pub(crate) fn message(number: i32) -> &'static str {
    MESSAGES.iter().find(|(n, _)| *n == number).map_or("Error.", |(_, m)| m)
}

/// An error body for `number` without entity details.
pub(crate) fn error_response(number: i32) -> ErrorResponse {
    ErrorResponse {
        error_number: number,
        error_message: message(number).to_owned(),
        error_info: None,
    }
}

/// A synchronous rejection: the request created nothing. The body is boxed to keep
/// every `Result` of the request path small.
#[derive(Debug, Clone)]
pub(crate) struct Rejection {
    pub status: u16,
    pub body: Box<ErrorResponse>,
    pub retry_after: Option<u64>,
}

impl Rejection {
    /// With the HTTP status Apple documents for the number (400 when it documents none).
    pub fn new(number: i32) -> Self {
        Self {
            status: ErrorCode::from_number(number).http_status().unwrap_or(400),
            body: Box::new(error_response(number)),
            retry_after: None,
        }
    }

    pub fn with_status(mut self, status: u16) -> Self {
        self.status = status;
        self
    }

    pub fn with_info(mut self, info: ResponseErrorInfo) -> Self {
        self.body.error_info = Some(info);
        self
    }
}

/// Shorthand for a rejected request.
pub(crate) fn reject<T>(number: i32) -> Result<T, Rejection> {
    Err(Rejection::new(number))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_follow_apples_table() {
        assert_eq!(Rejection::new(9601).status, 401);
        assert_eq!(Rejection::new(9637).status, 403);
        assert_eq!(Rejection::new(9646).status, 429);
        assert_eq!(Rejection::new(9726).status, 405);
        assert_eq!(Rejection::new(9727).status, 415);
        assert_eq!(Rejection::new(9729).status, 503);
        assert_eq!(Rejection::new(9709).status, 400);
        assert!(MESSAGES.windows(2).all(|w| w[0].0 < w[1].0));
    }
}
