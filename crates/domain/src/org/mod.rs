//! The organisation an administrator models: a group tree, the people who own
//! devices (users), and the devices (SPEC §2).

pub mod device;
pub mod group;
pub mod search;
pub mod user;
pub(crate) mod validate;

pub use device::{Device, DeviceInput, DevicePatch, EnrollmentState, Platform};
pub use group::{Group, GroupTree};
pub use search::{DeviceSearch, Page, SearchField, UserSearch};
pub use user::{User, UserInput, UserPatch};

/// Counts returned by a bulk import.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct ImportSummary {
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
}
