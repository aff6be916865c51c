//! How a simulated device behaves: what it is, what state its owner left it in, and which
//! of the failures real devices report it will produce.

use std::collections::BTreeSet;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// iPhone, iPad or Mac.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeviceKind {
    /// An iPhone (has an IMEI).
    IPhone,
    /// An iPad.
    IPad,
    /// A Mac with Apple silicon, on its device channel. It acknowledges an
    /// app install once the request is valid and reports what happens next
    /// only in its managed app list (reference §7.1).
    Mac,
}

/// The Managed Apple Account logged in on a Shared iPad.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManagedUser {
    /// `UserShortName`: the Managed Apple Account.
    pub short_name: String,
    /// `UserLongName`.
    pub long_name: String,
}

impl ManagedUser {
    /// A user with both names.
    pub fn new(short_name: impl Into<String>, long_name: impl Into<String>) -> Self {
        Self {
            short_name: short_name.into(),
            long_name: long_name.into(),
        }
    }
}

/// What a Shared iPad does with an app install while a user is logged in. Apple documents
/// none of these (reference §9.2, §11.4), so the harness chooses.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum LoggedInInstallPolicy {
    /// Installs as if nobody were logged in.
    #[default]
    Install,
    /// Answers `NotNow` until the user logs out.
    NotNow,
    /// Acknowledges, then stays `Installing` until the user logs out.
    WaitForLogout,
}

/// One license question: may this device install this store item?
#[derive(Debug, Clone, Copy)]
pub struct LicenseQuery<'a> {
    /// The device's serial number (device-based assignment).
    pub serial_number: &'a str,
    /// The signed-in account's `iTunesStoreAccountHash`, if any (user-based assignment).
    pub apple_account_hash: Option<&'a str>,
    /// The adamId being installed.
    pub itunes_store_id: u64,
    /// True for `PurchaseMethod` 1 (license assigned to the serial number).
    pub device_based: bool,
}

/// Where the device's Apps & Books licenses come from.
#[derive(Clone, Default)]
pub enum LicensePolicy {
    /// Every item is licensed.
    #[default]
    AlwaysAssigned,
    /// Nothing is licensed: store installs fail with 12064 (reference §8.2).
    NoneAssigned,
    /// Only these adamIds are licensed.
    Only(BTreeSet<u64>),
    /// A harness-supplied oracle, e.g. backed by an Apps & Books simulator.
    Oracle(Arc<dyn Fn(&LicenseQuery<'_>) -> bool + Send + Sync>),
}

impl LicensePolicy {
    /// Whether the license exists.
    pub fn allows(&self, query: &LicenseQuery<'_>) -> bool {
        match self {
            LicensePolicy::AlwaysAssigned => true,
            LicensePolicy::NoneAssigned => false,
            LicensePolicy::Only(ids) => ids.contains(&query.itunes_store_id),
            LicensePolicy::Oracle(oracle) => oracle(query),
        }
    }
}

impl fmt::Debug for LicensePolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LicensePolicy::AlwaysAssigned => f.write_str("AlwaysAssigned"),
            LicensePolicy::NoneAssigned => f.write_str("NoneAssigned"),
            LicensePolicy::Only(ids) => f.debug_tuple("Only").field(ids).finish(),
            LicensePolicy::Oracle(_) => f.write_str("Oracle(..)"),
        }
    }
}

/// What the App Store lists for an app: the device installs this bundle
/// id at this version when it installs the app by store id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreListing {
    /// The bundle id.
    pub bundle_id: String,
    /// The app's name.
    pub name: String,
    /// The version the store offers (CFBundleShortVersionString).
    pub version: String,
}

/// The App Store the device installs from. Empty by default: apps are then
/// made up from their store id. Tests and the demo point it at the Apps and
/// Books simulator, so both simulators agree on bundle ids and versions.
#[derive(Clone, Default)]
pub struct StoreCatalogue(Option<Arc<dyn Fn(u64) -> Option<StoreListing> + Send + Sync>>);

impl StoreCatalogue {
    /// A catalogue answered by `lookup`.
    pub fn new(lookup: impl Fn(u64) -> Option<StoreListing> + Send + Sync + 'static) -> Self {
        Self(Some(Arc::new(lookup)))
    }

    /// The listing of a store id, if the catalogue knows it.
    pub fn lookup(&self, store_id: u64) -> Option<StoreListing> {
        self.0.as_ref().and_then(|lookup| lookup(store_id))
    }
}

impl fmt::Debug for StoreCatalogue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_some() {
            "StoreCatalogue(..)"
        } else {
            "StoreCatalogue(none)"
        })
    }
}

/// Everything a test can set about one device. Build with [`Behaviour::ipad`] or
/// [`Behaviour::iphone`] and the `with_*` methods; change it at runtime through
/// [`crate::SimDevice::update_behaviour`].
#[derive(Debug, Clone)]
pub struct Behaviour {
    /// iPhone or iPad (decides the model, IMEI and default name).
    pub kind: DeviceKind,
    /// `OSVersion`; the build is derived from it.
    pub os_version: String,
    /// Supervised devices install without prompting (reference §7.1).
    pub supervised: bool,
    /// No APNs connection and no HTTP requests while true. Enrollment ignores it (the
    /// profile was installed while online); it takes effect once enrolled.
    pub offline: bool,
    /// Locked since boot: commands that may be refused answer `NotNow` (reference §5.4).
    pub locked: bool,
    /// Waited before each command's answer.
    pub answer_delay: Duration,
    /// A restriction disables the App Store (reference §8.2, 12031).
    pub app_store_disabled: bool,
    /// An Apple Account is signed in to the App Store.
    pub signed_in_to_app_store: bool,
    /// Overrides the generated `iTunesStoreAccountHash`.
    pub apple_account_hash: Option<String>,
    /// Installs fail for lack of space (reported as `Failed`, reference §7.4).
    pub storage_full: bool,
    /// The user taps Cancel on every install prompt (`UserRejected`, reference §7.4).
    pub cancels_install_prompts: bool,
    /// A Shared iPad (`IsMultiUser`, reference §9.2).
    pub shared_ipad: bool,
    /// The user logged in on a Shared iPad; it gets its own user channel.
    pub logged_in_user: Option<ManagedUser>,
    /// App installs on a Shared iPad with a user logged in.
    pub while_user_logged_in: LoggedInInstallPolicy,
    /// Sends an `UnlockToken` in TokenUpdate (never on Shared iPad, reference §4.1).
    pub unlock_token: bool,
    /// `IsActivationLockEnabled`.
    pub activation_lock: bool,
    /// How long an install prompt stays on screen before the user answers.
    pub prompt_duration: Duration,
    /// How long a download and install takes.
    pub install_duration: Duration,
    /// Which store items are licensed for this device or its user.
    pub licenses: LicensePolicy,
    /// App Store apps the user installed before MDM managed them (adamIds).
    pub user_installed_apps: Vec<u64>,
    /// The App Store apps are installed from.
    pub store: StoreCatalogue,
}

impl Default for Behaviour {
    fn default() -> Self {
        Self::ipad()
    }
}

impl Behaviour {
    /// A supervised iPad on iOS 17.5.1, unlocked, online, nobody signed in to the App Store:
    /// the usual school or company device.
    pub fn ipad() -> Self {
        Self {
            kind: DeviceKind::IPad,
            os_version: "17.5.1".to_owned(),
            supervised: true,
            offline: false,
            locked: false,
            answer_delay: Duration::ZERO,
            app_store_disabled: false,
            signed_in_to_app_store: false,
            apple_account_hash: None,
            storage_full: false,
            cancels_install_prompts: false,
            shared_ipad: false,
            logged_in_user: None,
            while_user_logged_in: LoggedInInstallPolicy::default(),
            unlock_token: true,
            activation_lock: false,
            prompt_duration: Duration::from_millis(150),
            install_duration: Duration::from_millis(250),
            licenses: LicensePolicy::default(),
            user_installed_apps: Vec::new(),
            store: StoreCatalogue::default(),
        }
    }

    /// An unsupervised iPhone with its owner's Apple Account signed in.
    pub fn iphone() -> Self {
        Self {
            kind: DeviceKind::IPhone,
            supervised: false,
            signed_in_to_app_store: true,
            ..Self::ipad()
        }
    }

    /// A Mac on macOS 14.6.1 enrolled through Automated Device Enrollment
    /// (supervised), nobody signed in to the App Store.
    pub fn mac() -> Self {
        Self {
            kind: DeviceKind::Mac,
            os_version: "14.6.1".to_owned(),
            ..Self::ipad()
        }
    }

    /// A Shared iPad (always supervised) with `user` logged in, or nobody.
    pub fn shared_ipad(user: Option<ManagedUser>) -> Self {
        Self {
            shared_ipad: true,
            logged_in_user: user,
            unlock_token: false,
            ..Self::ipad()
        }
    }

    /// Sets the OS version.
    #[must_use]
    pub fn with_os_version(mut self, version: impl Into<String>) -> Self {
        self.os_version = version.into();
        self
    }

    /// Sets supervision.
    #[must_use]
    pub fn with_supervised(mut self, supervised: bool) -> Self {
        self.supervised = supervised;
        self
    }

    /// Starts offline (or not).
    #[must_use]
    pub fn with_offline(mut self, offline: bool) -> Self {
        self.offline = offline;
        self
    }

    /// Starts locked (or not).
    #[must_use]
    pub fn with_locked(mut self, locked: bool) -> Self {
        self.locked = locked;
        self
    }

    /// Waits this long before answering each command.
    #[must_use]
    pub fn with_answer_delay(mut self, delay: Duration) -> Self {
        self.answer_delay = delay;
        self
    }

    /// Disables the App Store by restriction.
    #[must_use]
    pub fn with_app_store_disabled(mut self, disabled: bool) -> Self {
        self.app_store_disabled = disabled;
        self
    }

    /// Signs an Apple Account in to the App Store, or out.
    #[must_use]
    pub fn with_signed_in(mut self, signed_in: bool) -> Self {
        self.signed_in_to_app_store = signed_in;
        self
    }

    /// Uses this `iTunesStoreAccountHash` (e.g. an Apps & Books user's `itsIdHash`).
    #[must_use]
    pub fn with_apple_account_hash(mut self, hash: impl Into<String>) -> Self {
        self.apple_account_hash = Some(hash.into());
        self
    }

    /// Fills the storage so installs fail.
    #[must_use]
    pub fn with_storage_full(mut self, full: bool) -> Self {
        self.storage_full = full;
        self
    }

    /// Makes the user cancel install prompts.
    #[must_use]
    pub fn with_cancelled_prompts(mut self, cancels: bool) -> Self {
        self.cancels_install_prompts = cancels;
        self
    }

    /// Sets what installs do on a Shared iPad while a user is logged in.
    #[must_use]
    pub fn with_logged_in_policy(mut self, policy: LoggedInInstallPolicy) -> Self {
        self.while_user_logged_in = policy;
        self
    }

    /// Sets how long prompts stay up and installs take.
    #[must_use]
    pub fn with_install_timing(mut self, prompt: Duration, install: Duration) -> Self {
        self.prompt_duration = prompt;
        self.install_duration = install;
        self
    }

    /// Sets where licenses come from.
    #[must_use]
    pub fn with_licenses(mut self, licenses: LicensePolicy) -> Self {
        self.licenses = licenses;
        self
    }

    /// Installs apps as this App Store lists them.
    #[must_use]
    pub fn with_store(mut self, store: StoreCatalogue) -> Self {
        self.store = store;
        self
    }

    /// Adds an App Store app the user installed themselves.
    #[must_use]
    pub fn with_user_installed_app(mut self, itunes_store_id: u64) -> Self {
        self.user_installed_apps.push(itunes_store_id);
        self
    }

    /// A plausible fleet: mostly healthy supervised iPads and personal iPhones, a few Macs, with a few
    /// percent of each failure a real deployment sees. Deterministic per `index`.
    pub fn realistic(index: usize) -> Self {
        let bucket = (index as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(17) % 100;
        let os = match index % 10 {
            0 => "16.7.8",
            1 | 2 => "18.1",
            _ => "17.5.1",
        };
        let behaviour = match bucket {
            0..42 => Self::ipad(),
            // Macs keep their macOS version.
            42..45 => return Self::mac(),
            45..70 => Self::iphone(),
            70..78 => Self::iphone().with_supervised(true),
            78..83 => Self::ipad().with_locked(true),
            83..87 => Self::ipad().with_app_store_disabled(true),
            87..90 => Self::iphone().with_signed_in(false),
            90..93 => Self::shared_ipad(Some(ManagedUser::new(
                format!("student{index}@school.example"),
                format!("Student {index}"),
            ))),
            93..95 => Self::ipad().with_storage_full(true),
            95..97 => Self::iphone().with_cancelled_prompts(true),
            97..99 => Self::ipad().with_answer_delay(Duration::from_millis(200)),
            _ => Self::iphone().with_offline(true),
        };
        behaviour.with_os_version(os)
    }

    /// Whether the device currently refuses deferrable commands with `NotNow`.
    pub(crate) fn blocks_deferrable_commands(&self) -> bool {
        self.locked
    }

    /// The user whose channel is open: only Shared iPads have one.
    pub(crate) fn channel_user(&self) -> Option<&ManagedUser> {
        self.logged_in_user.as_ref().filter(|_| self.shared_ipad)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn realistic_mix_has_every_kind_of_device() {
        let fleet: Vec<Behaviour> = (0..1000).map(Behaviour::realistic).collect();
        let share = |f: &dyn Fn(&Behaviour) -> bool| fleet.iter().filter(|b| f(b)).count();
        assert!(share(&|b| b.kind == DeviceKind::IPad && !b.shared_ipad) > 400);
        assert!(share(&|b| b.kind == DeviceKind::IPhone) > 250);
        for (name, count) in [
            ("locked", share(&|b| b.locked)),
            ("app store disabled", share(&|b| b.app_store_disabled)),
            ("shared", share(&|b| b.shared_ipad && b.logged_in_user.is_some())),
            ("storage", share(&|b| b.storage_full)),
            ("cancels", share(&|b| b.cancels_install_prompts)),
            ("offline", share(&|b| b.offline)),
            (
                "mac",
                share(&|b| b.kind == DeviceKind::Mac && b.os_version.starts_with("14.")),
            ),
        ] {
            assert!((3..100).contains(&count), "{name}: {count}");
        }
    }

    #[test]
    fn license_policies() {
        let query = LicenseQuery {
            serial_number: "X",
            apple_account_hash: None,
            itunes_store_id: 42,
            device_based: true,
        };
        assert!(LicensePolicy::AlwaysAssigned.allows(&query));
        assert!(!LicensePolicy::NoneAssigned.allows(&query));
        assert!(LicensePolicy::Only([42].into()).allows(&query));
        assert!(!LicensePolicy::Only([7].into()).allows(&query));
        let oracle = LicensePolicy::Oracle(Arc::new(|q| q.serial_number == "X"));
        assert!(oracle.allows(&query));
    }
}
