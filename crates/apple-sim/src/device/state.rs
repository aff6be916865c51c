//! What a device holds between commands: its apps and books with their progress over
//! time, its lifecycle, and counters the harness reads.

use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant};

use apple_mdm::report::{ManagedAppStatus, MediaState};
use apple_mdm::{Channel, CommandStatus};

/// How many command results a device remembers for [`DeviceSnapshot::commands`].
const COMMAND_LOG: usize = 2000;

/// Where the device is in its MDM life.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lifecycle {
    /// Never enrolled, or enrollment is under way.
    NotEnrolled,
    /// Enrollment failed; the device holds no MDM profile.
    EnrollFailed(String),
    /// The MDM profile is installed and the first TokenUpdate was accepted.
    Enrolled,
    /// The profile was removed, by the user (`by_server: false`) or because the server
    /// refused the device with 401/403 (`by_server: true`).
    Unenrolled {
        /// Whether the server's refusal caused it.
        by_server: bool,
    },
    /// Erased by `EraseDevice`.
    Wiped,
}

/// What the user channel of a Shared iPad is doing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserChannel {
    /// No user is logged in, or the device is not a Shared iPad.
    None,
    /// The user's TokenUpdate was accepted.
    Active {
        /// `UserShortName`.
        short_name: String,
    },
    /// The server answered the user's TokenUpdate with 410: not managed until next login.
    Declined {
        /// `UserShortName`.
        short_name: String,
    },
}

/// One command the device answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandRecord {
    /// `CommandUUID`.
    pub command_uuid: String,
    /// `RequestType` (empty when the command could not be parsed).
    pub request_type: String,
    /// What the device answered.
    pub status: CommandStatus,
    /// Top `ErrorChain` item as `domain code`, for `Error` answers.
    pub error: Option<String>,
    /// True when the command came on the user channel.
    pub user_channel: bool,
}

/// An app as the harness sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppSnapshot {
    /// Bundle identifier.
    pub bundle_id: String,
    /// adamId, for App Store apps.
    pub itunes_store_id: Option<u64>,
    /// `Name`.
    pub name: String,
    /// `ShortVersion`.
    pub short_version: String,
    /// Whether MDM manages it.
    pub managed: bool,
    /// Whether its binary is on the device.
    pub installed: bool,
    /// Status in ManagedApplicationList terms (`None` for unmanaged apps).
    pub status: Option<ManagedAppStatus>,
}

/// A book as the harness sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookSnapshot {
    /// Store books: adamId.
    pub itunes_store_id: Option<u64>,
    /// Enterprise books: `PersistentID`.
    pub persistent_id: Option<String>,
    /// Current state.
    pub state: MediaState,
}

/// A copy of a device's state for assertions and dashboards.
#[derive(Debug, Clone)]
pub struct DeviceSnapshot {
    /// Where the device is in its MDM life.
    pub lifecycle: Lifecycle,
    /// Apps on the device or being installed.
    pub apps: Vec<AppSnapshot>,
    /// The last final state each app reached (`Managed`, `UserRejected`, `Failed`, ...),
    /// kept after the device stopped reporting it.
    pub app_outcomes: BTreeMap<String, ManagedAppStatus>,
    /// Books.
    pub books: Vec<BookSnapshot>,
    /// Completed command sessions.
    pub sessions: u64,
    /// Pushes that woke the device, after coalescing.
    pub wakes: u64,
    /// Pushes ignored because their PushMagic was not the device's.
    pub pushes_ignored: u64,
    /// HTTP requests sent.
    pub requests: u64,
    /// Answered commands, oldest first (bounded).
    pub commands: Vec<CommandRecord>,
    /// The last failure (HTTP, transport, parse), if any.
    pub last_error: Option<String>,
    /// The last session ended on `NotNow`: the device will poll by itself once the
    /// condition clears (reference §5.4).
    pub awaiting_conditions: bool,
    /// The Shared iPad user channel.
    pub user_channel: UserChannel,
}

impl DeviceSnapshot {
    /// The app with this bundle id.
    pub fn app(&self, bundle_id: &str) -> Option<&AppSnapshot> {
        self.apps.iter().find(|app| app.bundle_id == bundle_id)
    }

    /// The ManagedApplicationList status of an app.
    pub fn app_status(&self, bundle_id: &str) -> Option<ManagedAppStatus> {
        self.app(bundle_id).and_then(|app| app.status.clone())
    }

    /// The store book with this adamId.
    pub fn book(&self, itunes_store_id: u64) -> Option<&BookSnapshot> {
        self.books.iter().find(|b| b.itunes_store_id == Some(itunes_store_id))
    }

    /// Results of commands with this `RequestType`.
    pub fn commands_of(&self, request_type: &str) -> Vec<&CommandRecord> {
        self.commands
            .iter()
            .filter(|c| c.request_type == request_type)
            .collect()
    }

    /// Whether the device is enrolled.
    pub fn is_enrolled(&self) -> bool {
        self.lifecycle == Lifecycle::Enrolled
    }
}

#[derive(Debug, Clone)]
pub(crate) struct AppRecord {
    pub(crate) bundle_id: String,
    pub(crate) store_id: Option<u64>,
    pub(crate) name: String,
    pub(crate) short_version: String,
    pub(crate) version: String,
    pub(crate) bundle_size: u64,
    pub(crate) external_version: Option<u64>,
    pub(crate) device_based_vpp: bool,
    pub(crate) management_flags: u64,
    pub(crate) has_configuration: bool,
    /// MDM manages it (or is trying to).
    pub(crate) managed: bool,
    /// Appears in ManagedApplicationList.
    pub(crate) listed: bool,
    pub(crate) installed: bool,
    pub(crate) status: ManagedAppStatus,
    /// Status changes still to come, each at its time.
    pub(crate) timeline: VecDeque<(Instant, ManagedAppStatus)>,
    /// Held in `Installing` until the Shared iPad user logs out.
    pub(crate) waiting_for_logout: bool,
    /// A Mac installing without `InstallAsManaged`: once installed, the app
    /// is the user's, not managed and not in the managed list (§7.1).
    pub(crate) installs_unmanaged: bool,
}

impl AppRecord {
    pub(crate) fn plan(&mut self, now: Instant, steps: &[(Duration, ManagedAppStatus)]) {
        self.timeline.clear();
        let mut at = now;
        for (after, status) in steps {
            at += *after;
            self.timeline.push_back((at, status.clone()));
        }
    }

    pub(crate) fn snapshot(&self) -> AppSnapshot {
        AppSnapshot {
            bundle_id: self.bundle_id.clone(),
            itunes_store_id: self.store_id,
            name: self.name.clone(),
            short_version: self.short_version.clone(),
            managed: self.managed,
            installed: self.installed,
            status: self.listed.then(|| self.status.clone()),
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct BookRecord {
    pub(crate) store_id: Option<u64>,
    pub(crate) url: Option<String>,
    pub(crate) persistent_id: Option<String>,
    pub(crate) kind: Option<String>,
    pub(crate) version: Option<String>,
    pub(crate) author: Option<String>,
    pub(crate) title: Option<String>,
    pub(crate) state: MediaState,
    pub(crate) timeline: VecDeque<(Instant, MediaState)>,
}

pub(crate) struct DeviceState {
    pub(crate) lifecycle: Lifecycle,
    pub(crate) apps: BTreeMap<String, AppRecord>,
    pub(crate) app_outcomes: BTreeMap<String, ManagedAppStatus>,
    pub(crate) books: Vec<BookRecord>,
    pub(crate) sessions: u64,
    pub(crate) wakes: u64,
    pub(crate) pushes_ignored: u64,
    pub(crate) requests: u64,
    pub(crate) commands: VecDeque<CommandRecord>,
    pub(crate) last_error: Option<String>,
    pub(crate) awaiting: Option<Channel>,
    pub(crate) unsent_result: Option<(Channel, Vec<u8>)>,
    pub(crate) user_channel: UserChannel,
}

impl DeviceState {
    pub(crate) fn new() -> Self {
        Self {
            lifecycle: Lifecycle::NotEnrolled,
            apps: BTreeMap::new(),
            app_outcomes: BTreeMap::new(),
            books: Vec::new(),
            sessions: 0,
            wakes: 0,
            pushes_ignored: 0,
            requests: 0,
            commands: VecDeque::new(),
            last_error: None,
            awaiting: None,
            unsent_result: None,
            user_channel: UserChannel::None,
        }
    }

    /// Applies every status change whose time has come.
    pub(crate) fn advance(&mut self, now: Instant) {
        for app in self.apps.values_mut() {
            while app.timeline.front().is_some_and(|(at, _)| *at <= now) {
                let Some((_, status)) = app.timeline.pop_front() else {
                    break;
                };
                match status {
                    ManagedAppStatus::Managed if app.installs_unmanaged => {
                        app.installed = true;
                        app.managed = false;
                        app.listed = false;
                        app.installs_unmanaged = false;
                    }
                    ManagedAppStatus::Managed => {
                        app.installed = true;
                        app.managed = true;
                        self.app_outcomes.insert(app.bundle_id.clone(), status.clone());
                    }
                    ManagedAppStatus::UserRejected | ManagedAppStatus::Failed => {
                        self.app_outcomes.insert(app.bundle_id.clone(), status.clone());
                    }
                    ManagedAppStatus::ManagementRejected => {
                        app.managed = false;
                        self.app_outcomes.insert(app.bundle_id.clone(), status.clone());
                    }
                    _ => {}
                }
                app.status = status;
            }
        }
        for book in &mut self.books {
            while book.timeline.front().is_some_and(|(at, _)| *at <= now) {
                if let Some((_, state)) = book.timeline.pop_front() {
                    book.state = state;
                }
            }
        }
    }

    pub(crate) fn log_command(&mut self, record: CommandRecord) {
        if self.commands.len() == COMMAND_LOG {
            self.commands.pop_front();
        }
        self.commands.push_back(record);
    }

    /// Everything the device had from MDM goes; what the user installed stays.
    pub(crate) fn forget_managed_content(&mut self, erase_everything: bool) {
        if erase_everything {
            self.apps.clear();
            self.books.clear();
            return;
        }
        // Apps with "remove with MDM profile" (ManagementFlags 1) and enterprise books
        // leave with the profile (reference §7.1, §7.7); the rest become unmanaged.
        self.apps
            .retain(|_, app| app.management_flags & 1 == 0 && app.installed);
        for app in self.apps.values_mut() {
            app.managed = false;
            app.listed = false;
            app.timeline.clear();
        }
        self.books.retain(|book| book.url.is_none());
    }

    pub(crate) fn snapshot(&mut self) -> DeviceSnapshot {
        self.advance(Instant::now());
        DeviceSnapshot {
            lifecycle: self.lifecycle.clone(),
            apps: self.apps.values().map(AppRecord::snapshot).collect(),
            app_outcomes: self.app_outcomes.clone(),
            books: self
                .books
                .iter()
                .map(|b| BookSnapshot {
                    itunes_store_id: b.store_id,
                    persistent_id: b.persistent_id.clone(),
                    state: b.state.clone(),
                })
                .collect(),
            sessions: self.sessions,
            wakes: self.wakes,
            pushes_ignored: self.pushes_ignored,
            requests: self.requests,
            commands: self.commands.iter().cloned().collect(),
            last_error: self.last_error.clone(),
            awaiting_conditions: self.awaiting.is_some(),
            user_channel: self.user_channel.clone(),
        }
    }
}
