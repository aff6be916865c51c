//! Simulated iOS and iPadOS devices speaking the MDM protocol over real HTTP.
//!
//! A [`SimDevice`] enrolls from a profile, checks in, registers its push token with the
//! APNs simulator and then, like a real device, contacts the server only when woken by a
//! push (or by [`SimDevice::poll_now`], standing in for the device deciding to poll).

pub(crate) mod apps;
pub(crate) mod behaviour;
pub(crate) mod commands;
pub(crate) mod enroll;
pub(crate) mod hardware;
pub(crate) mod info;
pub(crate) mod media;
pub(crate) mod profile;
pub(crate) mod session;
pub(crate) mod state;

use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

use apple_mdm::Channel;
use tokio::sync::{Notify, watch};

use crate::apns::PushWaker;
use crate::env::SimEnv;
use crate::error::SimError;
use behaviour::Behaviour;
use hardware::Hardware;
use profile::Enrollment;
use session::SessionSummary;
use state::{DeviceSnapshot, DeviceState, Lifecycle};

/// A push token and PushMagic of one channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PushCredentials {
    pub(crate) token: Vec<u8>,
    pub(crate) magic: String,
    pub(crate) unlock_token: Option<Vec<u8>>,
}

/// One simulated device. Clones are handles to the same device.
#[derive(Clone)]
pub struct SimDevice {
    inner: Arc<Inner>,
}

pub(crate) struct Inner {
    index: usize,
    hardware: Hardware,
    env: SimEnv,
    behaviour: Mutex<Behaviour>,
    state: Mutex<DeviceState>,
    enrollment: Mutex<Option<Arc<Enrollment>>>,
    device_push: Mutex<Option<PushCredentials>>,
    user_push: Mutex<Option<(String, PushCredentials)>>,
    device_waker: PushWaker,
    user_waker: PushWaker,
    conditions: Arc<Notify>,
    session: tokio::sync::Mutex<()>,
    stop: Mutex<Option<watch::Sender<bool>>>,
}

impl std::fmt::Debug for SimDevice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimDevice")
            .field("index", &self.inner.index)
            .field("udid", &self.inner.hardware.udid)
            .finish_non_exhaustive()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

impl SimDevice {
    /// Device `index` of a fleet seeded with `seed`; its hardware follows from both and
    /// from the behaviour's kind and OS version.
    pub fn new(env: &SimEnv, index: usize, seed: u64, behaviour: Behaviour) -> Self {
        let hardware = Hardware::generate(seed, index, &behaviour);
        let mut state = DeviceState::new();
        for &store_id in &behaviour.user_installed_apps {
            let app = apps::user_installed(store_id, &behaviour.store);
            state.apps.insert(app.bundle_id.clone(), app);
        }
        Self {
            inner: Arc::new(Inner {
                index,
                hardware,
                env: env.clone(),
                behaviour: Mutex::new(behaviour),
                state: Mutex::new(state),
                enrollment: Mutex::new(None),
                device_push: Mutex::new(None),
                user_push: Mutex::new(None),
                device_waker: PushWaker::new(),
                user_waker: PushWaker::new(),
                conditions: Arc::new(Notify::new()),
                session: tokio::sync::Mutex::new(()),
                stop: Mutex::new(None),
            }),
        }
    }

    /// The position in its fleet.
    pub fn index(&self) -> usize {
        self.inner.index
    }

    /// `UDID`.
    pub fn udid(&self) -> &str {
        &self.inner.hardware.udid
    }

    /// `SerialNumber`.
    pub fn serial_number(&self) -> &str {
        &self.inner.hardware.serial_number
    }

    /// Everything the device claims about its hardware.
    pub fn hardware(&self) -> &Hardware {
        &self.inner.hardware
    }

    /// The device channel's APNs token, once enrolled.
    pub fn push_token(&self) -> Option<Vec<u8>> {
        lock(&self.inner.device_push).as_ref().map(|c| c.token.clone())
    }

    /// The device channel's PushMagic, once enrolled.
    pub fn push_magic(&self) -> Option<String> {
        lock(&self.inner.device_push).as_ref().map(|c| c.magic.clone())
    }

    /// The Shared iPad user channel's token and PushMagic, while a user is logged in.
    pub fn user_push(&self) -> Option<(Vec<u8>, String)> {
        lock(&self.inner.user_push)
            .as_ref()
            .map(|(_, c)| (c.token.clone(), c.magic.clone()))
    }

    /// A copy of the current behaviour.
    pub fn behaviour(&self) -> Behaviour {
        lock(&self.inner.behaviour).clone()
    }

    /// Changes the behaviour; the device reacts as a real one would (see
    /// [`SimDevice::update_behaviour`]).
    pub fn set_behaviour(&self, behaviour: Behaviour) {
        self.update_behaviour(|b| *b = behaviour);
    }

    /// Changes the behaviour in place. Going offline drops the APNs connection; coming
    /// back delivers a stored push. Unlocking (or the Shared iPad user logging out) after a
    /// session that ended on `NotNow` makes the device poll by itself (reference §5.4).
    /// Signing in to the App Store lets books waiting for a sign-in proceed. A new Shared
    /// iPad user sends a user-channel TokenUpdate. Kind and OS version are fixed at creation.
    pub fn update_behaviour(&self, change: impl FnOnce(&mut Behaviour)) {
        let (old, new) = {
            let mut behaviour = lock(&self.inner.behaviour);
            let old = behaviour.clone();
            change(&mut behaviour);
            (old, behaviour.clone())
        };
        Inner::behaviour_changed(&self.inner, &old, &new);
    }

    /// A copy of the device's state, with app and book progress brought up to now.
    pub fn snapshot(&self) -> DeviceSnapshot {
        lock(&self.inner.state).snapshot()
    }

    /// Polls the snapshot until `condition` holds, or fails after `timeout`.
    pub async fn wait_for(
        &self,
        what: &str,
        timeout: Duration,
        condition: impl Fn(&DeviceSnapshot) -> bool,
    ) -> Result<DeviceSnapshot, SimError> {
        let deadline = Instant::now() + timeout;
        loop {
            let snapshot = self.snapshot();
            if condition(&snapshot) {
                return Ok(snapshot);
            }
            if Instant::now() >= deadline {
                return Err(SimError::Timeout(format!(
                    "{what} on device {} ({}); last state: {:?}, last error: {:?}",
                    self.inner.index, self.inner.hardware.udid, snapshot.lifecycle, snapshot.last_error
                )));
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Enrolls: fetches and installs the profile, sends Authenticate and TokenUpdate,
    /// registers with APNs. Fails with the HTTP status if the server refuses.
    pub async fn enroll(&self) -> Result<(), SimError> {
        Inner::enroll(&self.inner).await
    }

    /// Starts a device-channel session without a push, as a device that decides to poll.
    pub async fn poll_now(&self) -> Result<SessionSummary, SimError> {
        Inner::run_session(&self.inner, Channel::Device).await
    }

    /// Starts a user-channel session (Shared iPad with a user logged in).
    pub async fn poll_user_channel_now(&self) -> Result<SessionSummary, SimError> {
        Inner::run_session(&self.inner, Channel::User).await
    }

    /// The user removes the MDM profile: one CheckOut if the profile asks for it (never
    /// retried), the push token dies, managed content leaves.
    pub async fn unenroll(&self) -> Result<(), SimError> {
        Inner::unenroll(&self.inner).await
    }

    /// The user deletes an app from the home screen; a managed app becomes
    /// `ManagedButUninstalled`. Returns whether the app was there.
    pub fn user_deletes_app(&self, bundle_id: &str) -> bool {
        apps::user_deletes(&mut lock(&self.inner.state), bundle_id)
    }
}

impl Inner {
    pub(crate) fn state(&self) -> MutexGuard<'_, DeviceState> {
        lock(&self.state)
    }

    pub(crate) fn current_behaviour(&self) -> Behaviour {
        lock(&self.behaviour).clone()
    }

    pub(crate) fn record_error(&self, error: &SimError) {
        self.state().last_error = Some(error.to_string());
    }

    /// The installed profile, or why there is none.
    pub(crate) fn enrollment(&self) -> Result<Arc<Enrollment>, SimError> {
        match &self.state().lifecycle {
            Lifecycle::Enrolled => {}
            Lifecycle::Wiped => return Err(SimError::Wiped),
            _ => return Err(SimError::NotEnrolled),
        }
        lock(&self.enrollment).clone().ok_or(SimError::NotEnrolled)
    }

    fn behaviour_changed(this: &Arc<Self>, old: &Behaviour, new: &Behaviour) {
        if old.offline != new.offline {
            this.set_apns_connected(!new.offline);
        }
        if !old.signed_in_to_app_store && new.signed_in_to_app_store {
            media::resume_after_sign_in(&mut this.state(), new.install_duration, new.storage_full);
        }
        let logged_out = old.channel_user().is_some() && new.channel_user().is_none();
        if logged_out {
            apps::resume_after_logout(&mut this.state(), new.install_duration, new.storage_full);
            this.user_logged_out();
        }
        if let Some(user) = new.channel_user()
            && old.channel_user() != Some(user)
            && this.enrollment().is_ok()
        {
            let (device, user) = (Arc::clone(this), user.clone());
            tokio::spawn(async move {
                if let Err(e) = device.user_login(&user).await {
                    device.record_error(&e);
                }
            });
        }
        // §5.4: a device that ended its last session on NotNow polls again by itself when
        // the condition that made it answer NotNow goes away.
        let cleared = (old.locked && !new.locked) || (old.offline && !new.offline) || logged_out;
        if cleared && !new.locked && !new.offline && this.state().awaiting.is_some() {
            this.conditions.notify_one();
        }
    }

    fn set_apns_connected(&self, connected: bool) {
        let Some(apns) = self.env.apns() else { return };
        if let Some(creds) = lock(&self.device_push).as_ref() {
            apns.set_connected(&creds.token, connected);
        }
        if let Some((_, creds)) = lock(&self.user_push).as_ref() {
            apns.set_connected(&creds.token, connected);
        }
    }

    /// Makes every token of this device invalid at APNs (profile gone or device erased).
    pub(crate) fn unregister_tokens(&self) {
        let device = lock(&self.device_push).take();
        let user = lock(&self.user_push).take();
        if let Some(apns) = self.env.apns() {
            for creds in device.iter().chain(user.iter().map(|(_, c)| c)) {
                apns.unregister(&creds.token);
            }
        }
    }

    /// Ends the wake-up loop and forgets the profile.
    pub(crate) fn shut_down(&self, lifecycle: Lifecycle) {
        self.unregister_tokens();
        lock(&self.enrollment).take();
        if let Some(stop) = lock(&self.stop).take() {
            stop.send_replace(true);
        }
        let mut state = self.state();
        state.forget_managed_content(lifecycle == Lifecycle::Wiped);
        state.awaiting = None;
        state.unsent_result = None;
        state.lifecycle = lifecycle;
    }

    /// Starts the loop that waits for pushes and condition changes.
    pub(crate) fn start_wake_loop(this: &Arc<Self>) {
        let (stop, watcher) = watch::channel(false);
        if let Some(old) = lock(&this.stop).replace(stop) {
            old.send_replace(true);
        }
        tokio::spawn(wake_loop(Arc::downgrade(this), watcher));
    }
}

enum Wake {
    Push(Channel, Vec<String>),
    Conditions,
}

/// Holds only a weak reference, so dropping every handle of a device ends its loop at the
/// next wake.
async fn wake_loop(device: Weak<Inner>, mut stop: watch::Receiver<bool>) {
    let Some((device_waker, user_waker, conditions)) = device
        .upgrade()
        .map(|d| (d.device_waker.clone(), d.user_waker.clone(), Arc::clone(&d.conditions)))
    else {
        return;
    };
    loop {
        let wake = tokio::select! {
            _ = stop.wait_for(|stopped| *stopped) => return,
            magics = device_waker.wait() => Wake::Push(Channel::Device, magics),
            magics = user_waker.wait() => Wake::Push(Channel::User, magics),
            () = conditions.notified() => Wake::Conditions,
        };
        let Some(inner) = device.upgrade() else { return };
        let channel = match wake {
            Wake::Push(channel, magics) => {
                let expected = match channel {
                    Channel::Device => lock(&inner.device_push).as_ref().map(|c| c.magic.clone()),
                    Channel::User => lock(&inner.user_push).as_ref().map(|(_, c)| c.magic.clone()),
                };
                let mut state = inner.state();
                // A push with a stale PushMagic is logged and ignored by iOS (reference §6.3).
                if expected.is_none_or(|magic| !magics.contains(&magic)) {
                    state.pushes_ignored += 1;
                    continue;
                }
                state.wakes += 1;
                channel
            }
            Wake::Conditions => match inner.state().awaiting {
                Some(channel) => channel,
                None => continue,
            },
        };
        if inner.current_behaviour().offline {
            continue;
        }
        let _turn = inner.env.session_turn().await;
        if let Err(e) = Inner::run_session(&inner, channel).await {
            tracing::debug!(udid = %inner.hardware.udid, error = %e, "session failed");
        }
    }
}
