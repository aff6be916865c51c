//! Command bodies as a device (or the device simulator) receives them:
//! `Command::from_xml`, which dispatches on `Command.RequestType` to every modelled
//! request type, then the serializer.
//!
//! Only panics count as findings: errors are the expected answer to garbage.

#![no_main]

use apple_mdm::Command;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(command) = Command::from_xml(data) {
        let _ = command.request_type();
        let _ = command.to_xml();
    }
});
