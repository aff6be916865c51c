//! What an account needs to manage devices with Apple's MDM protocol. So
//! far: the APNs push certificate that wakes its devices.

pub mod push_certificate;

pub use push_certificate::{PushCertificate, StoredPushCertificate};
