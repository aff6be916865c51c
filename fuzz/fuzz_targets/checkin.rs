//! Check-in endpoint bodies: `CheckinMessage::from_xml` and, for any message that
//! parses, the accessors and the serializer a server calls next. Also feeds the same
//! bytes to the check-in *responses* (bootstrap token, user authenticate, get token),
//! which share the module and the field readers.
//!
//! Only panics count as findings: errors are the expected answer to garbage.

#![no_main]

use apple_mdm::checkin::{BootstrapTokenResponse, GetTokenResponse, UserAuthenticateResponse};
use apple_mdm::{CheckinMessage, PlistRecord};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(message) = CheckinMessage::from_xml(data) {
        let _ = message.message_type();
        let _ = message.identity();
        let _ = message.channel();
        let _ = message.to_xml();
    }
    let _ = BootstrapTokenResponse::from_xml(data);
    let _ = UserAuthenticateResponse::from_xml(data);
    let _ = GetTokenResponse::from_xml(data);
});
