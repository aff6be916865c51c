//! What an account needs to manage devices with Apple's MDM protocol: the
//! APNs push certificate that wakes its devices, and the device CA and
//! enrollment profiles that give each device its identity.

pub mod enrollment;
pub mod push_certificate;

pub use enrollment::{StoredDeviceCa, StoredEnrollmentIdentity};
pub use push_certificate::{PushCertificate, StoredPushCertificate};
