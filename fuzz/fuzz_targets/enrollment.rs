//! Enrollment profiles (`.mobileconfig` bodies): `EnrollmentProfile::from_xml` via
//! `PlistRecord`, the `com.apple.mdm` payload on its own, and the serializer.
//!
//! Only panics count as findings: errors are the expected answer to garbage.

#![no_main]

use apple_mdm::PlistRecord;
use apple_mdm::enrollment::{EnrollmentProfile, MdmPayload};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(profile) = EnrollmentProfile::from_xml(data) {
        if let Some(mdm) = profile.mdm_payload() {
            let _ = mdm.access_rights.map(|rights| rights.is_valid());
        }
        let _ = profile.to_xml();
    }
    let _ = MdmPayload::from_xml(data);
});
