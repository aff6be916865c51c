//! Jobs (ジョブ): every command to a device is a job, kept durably until the
//! device answers it (SPEC J1, J2; Apple's queue rules in the MDM reference
//! §5.3 and §5.4).
//!
//! The rules this module and its store implement:
//! - Per device, jobs run one at a time in the order registered. A device's
//!   *head* is its oldest unfinished job that is due (`run_at` has passed);
//!   only the head is pushed for or delivered. A job scheduled for later does
//!   not hold up the jobs behind it until its time comes.
//! - The head is pushed for once (`push_sent`). If the device does not fetch
//!   it within the push timeout it becomes `push_timeout`, is pushed again by
//!   the re-push policy, and still runs whenever the device comes back.
//! - Delivering the head marks it `running`. If the device polls again
//!   without answering it (the connection dropped), the same command is
//!   delivered again: Apple keeps a command queued until its own CommandUUID
//!   comes back.
//! - `NotNow` puts the job back to `waiting` at the head. The server sends
//!   nothing more in that response, so the device polls again by itself when
//!   it can; a re-push waits for the re-push interval, so a locked device is
//!   not woken in a loop.
//! - `Acknowledged`, `Error` and `CommandFormatError` finish the job; a second
//!   report for a finished job is ignored (devices may repeat themselves).
//! - Only unfinished jobs can be canceled; a canceled job is never delivered.
//! - A *held* job is unfinished but never the head: an install waiting for
//!   its license (auto mode, SPEC L1), or one the device acknowledged that
//!   waits for the managed app list to show it installed (J7). Jobs behind
//!   it run meanwhile.

mod status;
mod store;

pub use status::JobStatus;
pub use store::JobStore;

use serde::{Deserialize, Serialize};

use crate::ids::{AccountId, AdminId, DeploymentId, DeviceId, JobId};
use crate::time_util::Timestamp;

/// A job as listed in the console.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Job {
    pub id: JobId,
    pub account_id: AccountId,
    pub device_id: DeviceId,
    pub device_number: String,
    pub device_name: String,
    pub command_uuid: String,
    pub request_type: String,
    pub status: JobStatus,
    /// The admin who registered the job; `None` for jobs the server made by
    /// itself, shown as SYSTEM.
    pub created_by: Option<AdminId>,
    pub created_by_name: String,
    pub run_at: Timestamp,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub pushed_at: Option<Timestamp>,
    pub push_count: i64,
    pub delivered_at: Option<Timestamp>,
    pub finished_at: Option<Timestamp>,
    pub not_now_count: i64,
    /// The device's ErrorChain, as it sent it.
    #[schema(value_type = Object)]
    pub error_chain: Option<serde_json::Value>,
    /// The deployment (配信) that made it.
    pub deployment_id: Option<DeploymentId>,
    /// The app or book (adamId) it installs.
    pub content_id: Option<String>,
    /// Why it is unfinished without being the device's head.
    pub hold: Option<JobHold>,
    /// What the server found out about it: the license shortage of a
    /// license-failed job (counts and remedy), or the managed app status
    /// that ended an install.
    #[schema(value_type = Object)]
    pub detail: Option<serde_json::Value>,
}

/// Why an unfinished job is not delivered for now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum JobHold {
    /// Waiting for its deployment's licenses to be assigned.
    License,
    /// Acknowledged; waiting for the managed app list to confirm the install.
    Verifying,
}

impl JobHold {
    pub fn as_str(self) -> &'static str {
        match self {
            JobHold::License => "license",
            JobHold::Verifying => "verifying",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "license" => Some(JobHold::License),
            "verifying" => Some(JobHold::Verifying),
            _ => None,
        }
    }
}

/// What a distribution job carries beyond its command.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JobContent {
    pub deployment_id: Option<DeploymentId>,
    /// The adamId installed.
    pub content_id: String,
    /// Wait for the license before running (auto license mode).
    pub held_for_license: bool,
    /// What to look for in the managed list: the bundle id of an app, the
    /// store id of a book. The device's acknowledgement may correct it.
    pub verify_identifier: Option<String>,
    /// Who the license is for (serial number, or VPP user for books).
    pub license_target: Option<crate::vpp::LicenseTarget>,
    /// Registered already failed: no license could be had (L5), with the
    /// counts and the remedy.
    pub license_failed: Option<serde_json::Value>,
}

/// A command to queue. The command itself is Apple's plist, built by the
/// caller (crate `apple-mdm`); the queue only stores and delivers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewJob {
    pub device_id: DeviceId,
    pub command_uuid: String,
    pub request_type: String,
    /// The XML plist the device receives.
    pub command: String,
    /// When the job may start; now when absent.
    pub run_at: Option<Timestamp>,
    /// Set for installs of apps and books.
    pub content: Option<JobContent>,
}

/// What the device's endpoint hands the device next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub job_id: JobId,
    pub command_uuid: String,
    pub command: String,
    /// True when this command was delivered before without an answer.
    pub redelivered: bool,
}

/// How a device's report ends (or does not end) a job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobOutcome {
    /// Acknowledged, and nothing more to check.
    Succeeded,
    /// Acknowledged, but the result is verified later (J7: an install is a
    /// success only once the managed app list shows it). The identifier is
    /// the bundle id the device named, when it named one.
    Verifying { identifier: Option<String> },
    /// Error or CommandFormatError, with the ErrorChain as sent.
    DeviceError { error_chain: Option<serde_json::Value> },
    /// The device cannot run it now; it stays at the head.
    NotNow,
    /// No license could be assigned for it (distribution).
    LicenseFailed,
}

/// What recording a report did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReportDisposition {
    /// The job moved to this status.
    Recorded(JobStatus),
    /// The job was already finished (or canceled): a repeated or late report.
    AlreadyFinished,
    /// No job of this device has that CommandUUID.
    Unknown,
}

/// When to push, and when to give up waiting for the device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PushPolicy {
    /// A pushed job the device has not fetched after this long is `push_timeout`.
    pub timeout_millis: i64,
    /// Push again for a job still not fetched (or refused with NotNow) after this long.
    pub repush_after_millis: i64,
    /// Stop pushing for a job after this many pushes; it still runs when the
    /// device comes back on its own.
    pub max_pushes: i64,
    /// At most this many pushes wait for their device at once. Pushing
    /// faster than devices come back only makes pushes time out and go out
    /// again, each a wasted device session: at 100,000 devices that
    /// re-push churn made delivery 42 times slower than at 10,000.
    pub max_in_flight: i64,
}

/// A push unanswered after this long no longer holds a place in the
/// window (its device is likely offline), even if its timeout is longer:
/// otherwise offline devices would fill the window and stall the rest.
const IN_FLIGHT_AT_MOST_MILLIS: i64 = 30_000;

impl PushPolicy {
    /// Pushes made since this moment and not fetched yet are in flight.
    pub fn in_flight_since(&self, now: crate::time_util::Timestamp) -> crate::time_util::Timestamp {
        crate::time_util::Timestamp(now.0 - self.timeout_millis.min(IN_FLIGHT_AT_MOST_MILLIS))
    }
}

impl Default for PushPolicy {
    fn default() -> Self {
        Self {
            timeout_millis: 5 * 60_000,
            repush_after_millis: 60 * 60_000,
            max_pushes: 24,
            max_in_flight: 2000,
        }
    }
}

/// A device whose head job needs a push now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushTarget {
    pub job_id: JobId,
    pub account_id: AccountId,
    pub device_id: DeviceId,
}

/// Which jobs an admin is looking at (SPEC J3).
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
pub struct JobQuery {
    /// `YYYY-MM`: jobs registered in that month.
    pub month: Option<String>,
    /// Only jobs not yet finished (scheduled, waiting, push sent, ...).
    #[serde(default)]
    pub active_only: bool,
    pub device_number: Option<String>,
    pub device_id: Option<DeviceId>,
    /// The registering admin's login, or `SYSTEM`.
    pub created_by: Option<String>,
    pub status: Option<JobStatus>,
    /// Jobs of one deployment.
    pub deployment_id: Option<DeploymentId>,
    /// The next page: jobs older than this one.
    pub before_id: Option<JobId>,
    /// Newest first; 100 by default, at most 1000.
    pub limit: Option<i64>,
}

/// Which jobs a cancel applies to (SPEC J4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobSelection {
    /// One job, or the jobs shown on the screen.
    Ids(Vec<JobId>),
    /// Every unfinished job of the account (全キャンセル).
    All,
    /// Every unfinished job of one deployment.
    Deployment(DeploymentId),
}

/// An acknowledged install waiting for the managed list (J7).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyingJob {
    pub id: JobId,
    pub request_type: String,
    pub identifier: Option<String>,
    /// Managed lists read since the acknowledgement.
    pub checks: i64,
    pub delivered_at: Option<Timestamp>,
}

/// What a managed list said of a verifying job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Installed and managed: success.
    Installed,
    /// Ended without the app (UserRejected, Failed, timed out, ...): a
    /// device error, with what was seen as its chain.
    Failed { error_chain: serde_json::Value },
    /// Still on its way; looked at again later.
    Pending { status: Option<String> },
}

/// A job's command as stored, for sending it again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCommand {
    pub device_id: DeviceId,
    pub request_type: String,
    pub status: JobStatus,
    pub command: String,
    pub deployment_id: Option<DeploymentId>,
    pub content_id: Option<String>,
    pub verify_identifier: Option<String>,
    pub detail: Option<serde_json::Value>,
}
