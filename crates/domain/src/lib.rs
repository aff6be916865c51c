//! haishin's domain: the types an administrator reasons about (accounts,
//! admins, groups, users, devices), the rules that guard them, the CSV codec
//! for bulk import and export, and the services that tie them to a [`Store`].
//!
//! Nothing here knows SQL or HTTP: storage implements [`store::Store`], the
//! HTTP layer calls [`service::Services`].

pub mod audit;
pub mod auth;
pub mod csv;
pub mod deploy;
pub mod diagnosis;
pub mod error;
pub mod ids;
pub mod jobs;
pub mod lang;
pub mod mdm;
pub mod org;
pub mod service;
pub mod store;
pub mod time_util;
pub mod version;
pub mod vpp;

pub use error::{DomainError, ErrorKind};
pub use lang::Lang;
pub use store::Store;
