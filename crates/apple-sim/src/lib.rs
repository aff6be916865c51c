//! The Apple simulator: loopback peers of Apple's services for haishin's end-to-end
//! tests, benchmarks and `haishin demo`.
//!
//! * [`ApnsSim`]: the APNs provider API (HTTP/2, TLS with client certificates or h2c),
//!   answering with Apple's status codes and reasons, with fault injection and counters.
//! * [`SimDevice`] and [`Fleet`]: iOS/iPadOS devices that enroll from a real enrollment
//!   profile, check in, sign their requests, wake on pushes and answer app, book and
//!   device commands the way the protocol reference says real devices do.
//! * [`VppSim`]: Apple's Apps and Books (VPP) API v2 with locations, licenses, users,
//!   asynchronous events, notifications and the content-metadata lookup ([`vpp`]).
//!
//! Nothing here reaches into a server: devices speak only Apple's wire protocols over
//! HTTP, and servers reach the APNs simulator only through its HTTP API.
//!
//! ```no_run
//! # async fn demo() -> Result<(), apple_sim::SimError> {
//! use apple_sim::{ApnsSim, Behaviour, Fleet, HttpProfileSource, SimEnv};
//!
//! let apns = ApnsSim::start_tls().await?;
//! let profiles = HttpProfileSource::for_group("http://127.0.0.1:8080", 1).with_bearer("token");
//! let env = SimEnv::builder(profiles).apns(apns.clone()).build()?;
//! let fleet = Fleet::builder(env).devices(500).behaviour(|_| Behaviour::ipad()).enroll().await;
//! assert!(fleet.failures().is_empty());
//! # Ok(()) }
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod apns;
mod device;
mod env;
mod error;
mod fleet;
mod stats;
mod templates;
pub mod vpp;

pub use apns::{ApnsCounters, ApnsMode, ApnsSim, MDM_TOPIC_PREFIX, PushWaker, Throttle};
pub use device::SimDevice;
pub use device::behaviour::{
    Behaviour, DeviceKind, LicensePolicy, LicenseQuery, LoggedInInstallPolicy, ManagedUser, StoreCatalogue,
    StoreListing,
};
pub use device::hardware::Hardware;
pub use device::profile::{
    Enrollment, HttpProfileSource, PROFILE_CONTENT_TYPE, ProfileFuture, ProfileSource, StaticProfileSource,
    read_profile,
};
pub use device::session::SessionSummary;
pub use device::state::{AppSnapshot, BookSnapshot, CommandRecord, DeviceSnapshot, Lifecycle, UserChannel};
pub use env::{SimEnv, SimEnvBuilder};
pub use error::{Endpoint, SimError};
pub use fleet::{BehaviourFn, Fleet, FleetBuilder};
pub use stats::{LatencyRecorder, LatencySummary};
pub use vpp::{VppSim, VppSimOptions};
