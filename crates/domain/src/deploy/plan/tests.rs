//! The planner decides who gets a job and who is skipped, and why
//! (SPEC D3, D4, D7, L4, L5). Every test builds its whole world here and
//! asserts the exact outcome.

use std::collections::{HashMap, HashSet};

use super::{Action, DeviceApps, LicenseNeed, Plan, PlanInput, PlannedInstall, Skip, SkipReason, plan};
use crate::deploy::{
    DeployItem, DeployOptions, DeploymentRequest, DeviceSelection, LicenseMode, LicenseSummary, TargetOs,
};
use crate::ids::{AccountId, DeviceId, GroupId, UserId, VppTokenId};
use crate::org::{Device, EnrollmentState, Platform};
use crate::time_util::Timestamp;
use crate::vpp::{AssetMetadata, LicenseTarget, VppAsset};

const TOKEN: VppTokenId = VppTokenId(7);
const OTHER_TOKEN: VppTokenId = VppTokenId(8);
const APP: &str = "361309726";
const OTHER_APP: &str = "284882215";
const BOOK: &str = "1477377355";
const BUNDLE: &str = "jp.example.notes";
const APP_NAME: &str = "Notes Pro";
const BOOK_NAME: &str = "社員ハンドブック";

// ---------------------------------------------------------------- helpers

fn serial_of(id: i64) -> String {
    format!("C02SER{id:05}")
}

fn owner_of(id: i64) -> UserId {
    UserId(1000 + id)
}

fn number_of(id: i64) -> String {
    format!("D{id:04}")
}

/// An enrolled device with a serial number and an owner; every field set.
fn device(id: i64, platform: Platform, os: &str) -> Device {
    Device {
        id: DeviceId(id),
        account_id: AccountId(1),
        group_id: GroupId(10),
        device_number: number_of(id),
        display_name: format!("端末 {id}"),
        udid: Some(format!("00008030-{id:016X}")),
        serial_number: Some(serial_of(id)),
        wifi_mac: Some(format!("a4:83:e7:00:00:{:02x}", id % 256)),
        model: Some("iPhone14,5".into()),
        product_name: Some("iPhone 13".into()),
        platform: Some(platform),
        os_version: Some(os.into()),
        owner_id: Some(owner_of(id)),
        owner_name: Some(format!("利用者 {id}")),
        owner_employee_number: Some(format!("E{id:05}")),
        notes1: String::new(),
        notes2: String::new(),
        notes3: String::new(),
        supervised: true,
        shared_ipad: false,
        itunes_store_account_hash: None,
        imei: None,
        build_version: Some("21A329".into()),
        capacity_mb: Some(128_000),
        available_capacity_mb: Some(64_000),
        enrollment_state: EnrollmentState::Enrolled,
        last_checkin_at: Some(Timestamp(1_700_000_000_000)),
        inventory_fetched_at: Some(Timestamp(1_700_000_000_000)),
        created_at: Timestamp(1_690_000_000_000),
        updated_at: Timestamp(1_700_000_000_000),
    }
}

fn iphone(id: i64) -> Device {
    device(id, Platform::Ios, "17.4")
}

/// A device-assignable app for iPhone and iPad, version 2.0, iOS 16.0 or later.
fn asset(adam: &str, available: i64) -> VppAsset {
    VppAsset {
        adam_id: adam.into(),
        pricing_param: "STDQ".into(),
        product_type: "App".into(),
        revocable: true,
        device_assignable: true,
        platforms: vec!["iOS".into()],
        total_count: available + 5,
        assigned_count: 5,
        available_count: available,
        retired_count: 0,
        metadata: Some(AssetMetadata {
            name: APP_NAME.into(),
            bundle_id: Some(BUNDLE.into()),
            icon_url: None,
            version: Some("2.0".into()),
            size_bytes: Some(50_000_000),
            minimum_os: Some("16.0".into()),
            device_families: vec!["iphone".into(), "ipad".into()],
        }),
        low_on_licenses: false,
        counts_differ: false,
    }
}

fn with_metadata(mut asset: VppAsset, change: impl FnOnce(&mut AssetMetadata)) -> VppAsset {
    change(asset.metadata.as_mut().expect("the helper's assets have metadata"));
    asset
}

/// A book: never device-assignable, no bundle id.
fn book(adam: &str, available: i64) -> VppAsset {
    VppAsset {
        adam_id: adam.into(),
        pricing_param: "STDQ".into(),
        product_type: "Book".into(),
        revocable: false,
        device_assignable: false,
        platforms: vec!["iOS".into(), "macOS".into()],
        total_count: available,
        assigned_count: 0,
        available_count: available,
        retired_count: 0,
        metadata: Some(AssetMetadata {
            name: BOOK_NAME.into(),
            bundle_id: None,
            icon_url: None,
            version: None,
            size_bytes: None,
            minimum_os: Some("99.0".into()),
            device_families: vec!["mac".into()],
        }),
        low_on_licenses: false,
        counts_differ: false,
    }
}

fn item(token_id: VppTokenId, adam: &str) -> DeployItem {
    DeployItem {
        token_id,
        adam_id: adam.into(),
    }
}

fn request(mode: LicenseMode) -> DeploymentRequest {
    DeploymentRequest {
        name: Some("テスト配信".into()),
        items: Vec::new(),
        target_os: TargetOs::Ios,
        license_mode: mode,
        devices: DeviceSelection {
            all: true,
            ..Default::default()
        },
        options: DeployOptions::default(),
        run_at: None,
    }
}

fn apps_installed(version: &str, managed_status: Option<&str>) -> DeviceApps {
    let mut apps = DeviceApps::default();
    apps.installed.insert(BUNDLE.into(), version.into());
    if let Some(status) = managed_status {
        apps.managed.insert(BUNDLE.into(), status.into());
    }
    apps
}

/// Everything `plan` looks at, owned, so each test changes only what it tests.
struct World {
    request: DeploymentRequest,
    assets: Vec<(DeployItem, VppAsset)>,
    devices: Vec<Device>,
    apps: HashMap<DeviceId, DeviceApps>,
    licensed: HashSet<(String, LicenseTarget)>,
    vpp_users: HashMap<(VppTokenId, UserId), String>,
}

impl World {
    fn new(mode: LicenseMode, assets: Vec<VppAsset>, devices: Vec<Device>) -> Self {
        let assets: Vec<(DeployItem, VppAsset)> = assets.into_iter().map(|a| (item(TOKEN, &a.adam_id), a)).collect();
        let mut request = request(mode);
        request.items = assets.iter().map(|(i, _)| i.clone()).collect();
        World {
            request,
            assets,
            devices,
            apps: HashMap::new(),
            licensed: HashSet::new(),
            vpp_users: HashMap::new(),
        }
    }

    fn hold(&mut self, adam: &str, target: LicenseTarget) {
        self.licensed.insert((adam.into(), target));
    }

    fn plan(&self) -> Plan {
        plan(&PlanInput {
            request: &self.request,
            assets: &self.assets,
            devices: &self.devices,
            apps: &self.apps,
            licensed: &self.licensed,
            vpp_users: &self.vpp_users,
        })
    }
}

/// One app, one device, auto mode: the plan, expected to have one skip.
fn only_skip(plan: &Plan) -> &Skip {
    assert!(plan.installs.is_empty(), "no install expected: {:?}", plan.installs);
    assert_eq!(plan.skipped.len(), 1, "one skip expected: {:?}", plan.skipped);
    &plan.skipped[0]
}

fn only_install(plan: &Plan) -> &PlannedInstall {
    assert!(plan.skipped.is_empty(), "no skip expected: {:?}", plan.skipped);
    assert_eq!(plan.installs.len(), 1, "one install expected: {:?}", plan.installs);
    &plan.installs[0]
}

fn reasons(plan: &Plan) -> Vec<(DeviceId, SkipReason)> {
    plan.skipped.iter().map(|s| (s.device_id, s.reason)).collect()
}

fn licenses(plan: &Plan) -> Vec<(DeviceId, LicenseNeed)> {
    plan.installs.iter().map(|i| (i.device_id, i.license.clone())).collect()
}

fn summary(adam: &str, name: &str, counts: [i64; 5]) -> LicenseSummary {
    let [installs, already_held, to_assign, available, short] = counts;
    LicenseSummary {
        token_id: TOKEN,
        adam_id: adam.into(),
        name: name.into(),
        installs,
        already_held,
        to_assign,
        available,
        short,
    }
}

fn assert_messages(skip: &Skip) {
    assert!(!skip.message_ja.trim().is_empty(), "empty Japanese message: {skip:?}");
    assert!(!skip.message_en.trim().is_empty(), "empty English message: {skip:?}");
    assert_ne!(
        skip.message_ja, skip.message_en,
        "the two messages are the same: {skip:?}"
    );
    assert!(
        !skip.message_ja.is_ascii(),
        "the Japanese message has no Japanese: {}",
        skip.message_ja
    );
    assert!(
        skip.message_en.is_ascii(),
        "the English message is not English: {}",
        skip.message_en
    );
}

// ------------------------------------------------- compatibility (D3)

#[test]
fn macos_device_is_skipped_for_an_ios_target() {
    let world = World::new(
        LicenseMode::Auto,
        vec![asset(APP, 10)],
        vec![device(3, Platform::MacOs, "14.4")],
    );
    let plan = world.plan();
    let skip = only_skip(&plan);
    assert_eq!(skip.device_id, DeviceId(3));
    assert_eq!(skip.device_number, "D0003");
    assert_eq!(skip.adam_id, APP);
    assert_eq!(skip.reason, SkipReason::Platform);
    assert_messages(skip);
    assert!(skip.message_ja.contains("macOS"), "{}", skip.message_ja);
    assert!(skip.message_en.contains("macOS"), "{}", skip.message_en);
    // A skipped device is not an install and needs no license.
    assert_eq!(plan.licenses, vec![summary(APP, APP_NAME, [0, 0, 0, 10, 0])]);
}

#[test]
fn ios_target_takes_iphones_and_ipads_only() {
    let devices = vec![
        device(1, Platform::Ios, "17.0"),
        device(2, Platform::IpadOs, "17.0"),
        device(3, Platform::MacOs, "14.0"),
        device(4, Platform::TvOs, "17.0"),
        device(5, Platform::VisionOs, "1.0"),
    ];
    let plan = World::new(LicenseMode::Auto, vec![asset(APP, 10)], devices).plan();
    let installed: Vec<DeviceId> = plan.installs.iter().map(|i| i.device_id).collect();
    assert_eq!(installed, vec![DeviceId(1), DeviceId(2)]);
    assert_eq!(
        reasons(&plan),
        vec![
            (DeviceId(3), SkipReason::Platform),
            (DeviceId(4), SkipReason::Platform),
            (DeviceId(5), SkipReason::Platform),
        ]
    );
}

#[test]
fn macos_target_takes_macs_only() {
    let mac_app = with_metadata(asset(APP, 10), |m| {
        m.device_families = vec!["mac".into()];
        m.minimum_os = Some("13.0".into());
    });
    let devices = vec![
        device(1, Platform::Ios, "17.0"),
        device(2, Platform::MacOs, "14.4"),
        device(3, Platform::IpadOs, "17.0"),
    ];
    let mut world = World::new(LicenseMode::Auto, vec![mac_app], devices);
    world.request.target_os = TargetOs::Macos;
    let plan = world.plan();
    assert_eq!(plan.installs.len(), 1);
    assert_eq!(plan.installs[0].device_id, DeviceId(2));
    assert_eq!(plan.installs[0].action, Action::Install);
    assert_eq!(
        reasons(&plan),
        vec![(DeviceId(1), SkipReason::Platform), (DeviceId(3), SkipReason::Platform)]
    );
}

#[test]
fn device_of_unknown_platform_is_skipped_for_platform() {
    let mut unknown = iphone(1);
    unknown.platform = None;
    let plan = World::new(LicenseMode::Auto, vec![asset(APP, 10)], vec![unknown]).plan();
    let skip = only_skip(&plan);
    assert_eq!(skip.reason, SkipReason::Platform);
    assert_messages(skip);
    assert!(skip.message_en.contains("unknown"), "{}", skip.message_en);
    assert!(skip.message_ja.contains("不明"), "{}", skip.message_ja);
}

#[test]
fn iphone_is_skipped_for_an_ipad_only_app() {
    let ipad_only = with_metadata(asset(APP, 10), |m| m.device_families = vec!["ipad".into()]);
    let devices = vec![device(1, Platform::Ios, "17.0"), device(2, Platform::IpadOs, "17.0")];
    let plan = World::new(LicenseMode::Auto, vec![ipad_only], devices).plan();
    assert_eq!(reasons(&plan), vec![(DeviceId(1), SkipReason::DeviceFamily)]);
    assert_messages(&plan.skipped[0]);
    assert!(plan.skipped[0].message_ja.contains(APP_NAME));
    assert!(plan.skipped[0].message_en.contains(APP_NAME));
    assert_eq!(plan.installs.len(), 1);
    assert_eq!(plan.installs[0].device_id, DeviceId(2));
}

#[test]
fn ipad_is_skipped_for_an_iphone_only_app() {
    let iphone_only = with_metadata(asset(APP, 10), |m| m.device_families = vec!["iphone".into()]);
    let plan = World::new(
        LicenseMode::Auto,
        vec![iphone_only],
        vec![device(2, Platform::IpadOs, "17.0")],
    )
    .plan();
    assert_eq!(only_skip(&plan).reason, SkipReason::DeviceFamily);
}

#[test]
fn device_families_match_ignoring_case() {
    let ipad_only = with_metadata(asset(APP, 10), |m| m.device_families = vec!["iPad".into()]);
    let plan = World::new(
        LicenseMode::Auto,
        vec![ipad_only],
        vec![device(2, Platform::IpadOs, "17.0")],
    )
    .plan();
    assert_eq!(only_install(&plan).action, Action::Install);
}

#[test]
fn no_listed_device_families_means_any_family() {
    let unlisted = with_metadata(asset(APP, 10), |m| m.device_families.clear());
    let devices = vec![device(1, Platform::Ios, "17.0"), device(2, Platform::IpadOs, "17.0")];
    let plan = World::new(LicenseMode::Auto, vec![unlisted], devices).plan();
    assert!(plan.skipped.is_empty(), "{:?}", plan.skipped);
    assert_eq!(plan.installs.len(), 2);
}

#[test]
fn os_below_the_minimum_is_skipped() {
    let plan = World::new(
        LicenseMode::Auto,
        vec![asset(APP, 10)],
        vec![device(1, Platform::Ios, "15.0")],
    )
    .plan();
    let skip = only_skip(&plan);
    assert_eq!(skip.reason, SkipReason::MinimumOs);
    assert_messages(skip);
    for message in [&skip.message_ja, &skip.message_en] {
        assert!(message.contains("16.0"), "the minimum is not named: {message}");
        assert!(message.contains("15.0"), "the device's OS is not named: {message}");
        assert!(message.contains(APP_NAME), "the app is not named: {message}");
    }
}

#[test]
fn minimum_os_is_compared_numerically() {
    let devices = vec![
        device(1, Platform::Ios, "16"),     // equal to 16.0: fits
        device(2, Platform::Ios, "16.0.1"), // above: fits
        device(3, Platform::Ios, "9.3"),    // string-wise above "16.0", numerically below
        device(4, Platform::Ios, "15.7.9"), // below
        device(5, Platform::Ios, "100.0"),  // string-wise below "16.0", numerically above
    ];
    let plan = World::new(LicenseMode::Auto, vec![asset(APP, 10)], devices).plan();
    let installed: Vec<DeviceId> = plan.installs.iter().map(|i| i.device_id).collect();
    assert_eq!(installed, vec![DeviceId(1), DeviceId(2), DeviceId(5)]);
    assert_eq!(
        reasons(&plan),
        vec![
            (DeviceId(3), SkipReason::MinimumOs),
            (DeviceId(4), SkipReason::MinimumOs)
        ]
    );
}

#[test]
fn unknown_os_version_is_not_held_against_the_device() {
    let mut unknown = iphone(1);
    unknown.os_version = None;
    let plan = World::new(LicenseMode::Auto, vec![asset(APP, 10)], vec![unknown]).plan();
    let install = only_install(&plan);
    assert_eq!(install.action, Action::Install);
    assert_eq!(install.os_version, None);
}

#[test]
fn devices_not_enrolled_are_skipped() {
    let mut registered = iphone(1);
    registered.enrollment_state = EnrollmentState::Registered;
    let mut unenrolled = iphone(2);
    unenrolled.enrollment_state = EnrollmentState::Unenrolled;
    // Not enrolled comes before every other reason, even the platform.
    let mut unenrolled_mac = device(3, Platform::MacOs, "14.0");
    unenrolled_mac.enrollment_state = EnrollmentState::Unenrolled;
    let plan = World::new(
        LicenseMode::Auto,
        vec![asset(APP, 10)],
        vec![registered, unenrolled, unenrolled_mac, iphone(4)],
    )
    .plan();
    assert_eq!(
        reasons(&plan),
        vec![
            (DeviceId(1), SkipReason::NotEnrolled),
            (DeviceId(2), SkipReason::NotEnrolled),
            (DeviceId(3), SkipReason::NotEnrolled),
        ]
    );
    plan.skipped.iter().for_each(assert_messages);
    assert_eq!(plan.installs.len(), 1);
    assert_eq!(plan.installs[0].device_id, DeviceId(4));
}

#[test]
fn device_without_serial_number_is_skipped_for_a_device_license() {
    let mut no_serial = iphone(1);
    no_serial.serial_number = None;
    let plan = World::new(LicenseMode::Auto, vec![asset(APP, 10)], vec![no_serial, iphone(2)]).plan();
    assert_eq!(reasons(&plan), vec![(DeviceId(1), SkipReason::NoSerialNumber)]);
    assert_messages(&plan.skipped[0]);
    assert_eq!(licenses(&plan), vec![(DeviceId(2), LicenseNeed::Assign)]);
    assert_eq!(plan.licenses, vec![summary(APP, APP_NAME, [1, 0, 1, 10, 0])]);
}

#[test]
fn app_that_cannot_go_to_devices_is_skipped() {
    let mut user_only = asset(APP, 10);
    user_only.device_assignable = false;
    let plan = World::new(LicenseMode::Auto, vec![user_only], vec![iphone(1)]).plan();
    let skip = only_skip(&plan);
    assert_eq!(skip.reason, SkipReason::NotDeviceAssignable);
    assert_messages(skip);
    assert!(skip.message_en.contains(APP_NAME));
    assert_eq!(plan.licenses, vec![summary(APP, APP_NAME, [0, 0, 0, 10, 0])]);
}

#[test]
fn every_skip_explains_itself_in_both_languages() {
    let ipad_only = with_metadata(asset(APP, 10), |m| m.device_families = vec!["ipad".into()]);
    let mut unenrolled = iphone(1);
    unenrolled.enrollment_state = EnrollmentState::Unenrolled;
    let mut no_serial = device(6, Platform::IpadOs, "17.0");
    no_serial.serial_number = None;
    let devices = vec![
        unenrolled,
        device(2, Platform::MacOs, "14.0"),
        iphone(3),
        device(4, Platform::IpadOs, "15.0"),
        device(5, Platform::IpadOs, "17.0"),
        no_serial,
        device(7, Platform::IpadOs, "17.0"),
    ];
    let mut world = World::new(LicenseMode::Auto, vec![ipad_only], devices);
    world.apps.insert(DeviceId(5), apps_installed("2.0", Some("Managed")));
    world.apps.insert(DeviceId(7), apps_installed("1.0", None));
    let plan = world.plan();
    assert_eq!(
        reasons(&plan),
        vec![
            (DeviceId(1), SkipReason::NotEnrolled),
            (DeviceId(2), SkipReason::Platform),
            (DeviceId(3), SkipReason::DeviceFamily),
            (DeviceId(4), SkipReason::MinimumOs),
            (DeviceId(5), SkipReason::UpToDate),
            (DeviceId(6), SkipReason::NoSerialNumber),
            (DeviceId(7), SkipReason::UserInstalled),
        ]
    );
    assert!(plan.installs.is_empty());
    for skip in &plan.skipped {
        assert_messages(skip);
        assert_eq!(skip.device_number, number_of(skip.device_id.0));
        assert_eq!(skip.adam_id, APP);
    }
    // Every reason has its own words.
    let distinct: HashSet<&str> = plan.skipped.iter().map(|s| s.message_en.as_str()).collect();
    assert_eq!(distinct.len(), plan.skipped.len());
    let distinct: HashSet<&str> = plan.skipped.iter().map(|s| s.message_ja.as_str()).collect();
    assert_eq!(distinct.len(), plan.skipped.len());
}

#[test]
fn app_without_metadata_is_checked_for_platform_only_and_named_by_its_id() {
    let mut bare = asset(APP, 10);
    bare.metadata = None;
    let devices = vec![device(1, Platform::Ios, "9.0"), device(2, Platform::MacOs, "14.0")];
    let mut world = World::new(LicenseMode::Auto, vec![bare], devices);
    // Without a bundle id the inventory can't be matched: install.
    world.apps.insert(DeviceId(1), apps_installed("2.0", Some("Managed")));
    let plan = world.plan();
    assert_eq!(reasons(&plan), vec![(DeviceId(2), SkipReason::Platform)]);
    assert_eq!(plan.installs.len(), 1);
    assert_eq!(plan.installs[0].action, Action::Install);
    assert_eq!(plan.installs[0].verify_identifier, None);
    assert_eq!(plan.licenses, vec![summary(APP, APP, [1, 0, 1, 10, 0])]);
}

// ------------------------------------------------------ actions (D4, D7)

#[test]
fn app_not_installed_is_installed() {
    let mut world = World::new(LicenseMode::Auto, vec![asset(APP, 10)], vec![iphone(1)]);
    let mut apps = DeviceApps::default();
    apps.installed.insert("com.apple.mobilesafari".into(), "17.4".into());
    world.apps.insert(DeviceId(1), apps);
    let plan = world.plan();
    let install = only_install(&plan);
    assert_eq!(
        *install,
        PlannedInstall {
            device_id: DeviceId(1),
            device_number: "D0001".into(),
            token_id: TOKEN,
            adam_id: APP.into(),
            is_book: false,
            action: Action::Install,
            license: LicenseNeed::Assign,
            license_target: LicenseTarget::Serial(serial_of(1)),
            verify_identifier: Some(BUNDLE.into()),
            os_version: Some("17.4".into()),
            waits_for_logout_of: None,
        }
    );
}

#[test]
fn device_never_inventoried_gets_an_install() {
    let world = World::new(LicenseMode::Auto, vec![asset(APP, 10)], vec![iphone(1)]);
    assert!(world.apps.is_empty());
    assert_eq!(only_install(&world.plan()).action, Action::Install);
}

#[test]
fn managed_app_older_than_the_store_is_updated() {
    let mut world = World::new(LicenseMode::Auto, vec![asset(APP, 10)], vec![iphone(1), iphone(2)]);
    world.apps.insert(DeviceId(1), apps_installed("1.9.3", Some("Managed")));
    world.apps.insert(DeviceId(2), apps_installed("1.10", Some("Managed")));
    let plan = world.plan();
    assert!(plan.skipped.is_empty(), "{:?}", plan.skipped);
    let actions: Vec<(DeviceId, Action)> = plan.installs.iter().map(|i| (i.device_id, i.action)).collect();
    assert_eq!(
        actions,
        vec![(DeviceId(1), Action::Update), (DeviceId(2), Action::Update)]
    );
    // An update of an app the device has no license for still needs one.
    assert_eq!(
        licenses(&plan),
        vec![(DeviceId(1), LicenseNeed::Assign), (DeviceId(2), LicenseNeed::Assign)]
    );
}

#[test]
fn store_versions_are_compared_numerically() {
    // As text "9.9" > "10.2"; as versions it is older.
    let newer_store = with_metadata(asset(APP, 10), |m| m.version = Some("10.2".into()));
    let mut world = World::new(LicenseMode::Auto, vec![newer_store], vec![iphone(1), iphone(2)]);
    world.apps.insert(DeviceId(1), apps_installed("9.9", Some("Managed")));
    world.apps.insert(DeviceId(2), apps_installed("10.10", Some("Managed")));
    let plan = world.plan();
    assert_eq!(only_install_of(&plan, DeviceId(1)).action, Action::Update);
    assert_eq!(reasons(&plan), vec![(DeviceId(2), SkipReason::UpToDate)]);
}

fn only_install_of(plan: &Plan, device: DeviceId) -> &PlannedInstall {
    let found: Vec<&PlannedInstall> = plan.installs.iter().filter(|i| i.device_id == device).collect();
    assert_eq!(found.len(), 1, "one install of {device} expected: {:?}", plan.installs);
    found[0]
}

#[test]
fn managed_app_at_the_store_version_or_newer_is_up_to_date() {
    let devices = vec![iphone(1), iphone(2), iphone(3)];
    let mut world = World::new(LicenseMode::Auto, vec![asset(APP, 10)], devices);
    world.apps.insert(DeviceId(1), apps_installed("2.0", Some("Managed")));
    world.apps.insert(DeviceId(2), apps_installed("2", Some("Managed")));
    world.apps.insert(DeviceId(3), apps_installed("10.0", Some("Managed")));
    let plan = world.plan();
    assert_eq!(
        reasons(&plan),
        vec![
            (DeviceId(1), SkipReason::UpToDate),
            (DeviceId(2), SkipReason::UpToDate),
            (DeviceId(3), SkipReason::UpToDate),
        ]
    );
    assert_messages(&plan.skipped[0]);
    assert!(plan.skipped[0].message_en.contains(APP_NAME));
    assert!(plan.installs.is_empty());
    assert_eq!(plan.licenses, vec![summary(APP, APP_NAME, [0, 0, 0, 10, 0])]);
}

#[test]
fn user_installed_app_is_skipped_without_take_management() {
    let mut world = World::new(LicenseMode::Auto, vec![asset(APP, 10)], vec![iphone(1)]);
    world.apps.insert(DeviceId(1), apps_installed("1.0", None));
    let plan = world.plan();
    let skip = only_skip(&plan);
    assert_eq!(skip.reason, SkipReason::UserInstalled);
    assert_messages(skip);
    // The message names the option that would take it over.
    assert!(skip.message_en.contains("take_management"), "{}", skip.message_en);
    assert!(skip.message_ja.contains("take_management"), "{}", skip.message_ja);
}

#[test]
fn user_installed_app_is_taken_over_with_take_management() {
    let mut world = World::new(LicenseMode::Auto, vec![asset(APP, 10)], vec![iphone(1), iphone(2)]);
    world.request.options.take_management = true;
    world.apps.insert(DeviceId(1), apps_installed("1.0", None));
    // Even at the store's version: the point is management, not the version.
    world.apps.insert(DeviceId(2), apps_installed("2.0", None));
    let plan = world.plan();
    assert!(plan.skipped.is_empty(), "{:?}", plan.skipped);
    let actions: Vec<(DeviceId, Action)> = plan.installs.iter().map(|i| (i.device_id, i.action)).collect();
    assert_eq!(
        actions,
        vec![
            (DeviceId(1), Action::TakeManagement),
            (DeviceId(2), Action::TakeManagement)
        ]
    );
    // D7: taking management needs a license first.
    assert_eq!(
        licenses(&plan),
        vec![(DeviceId(1), LicenseNeed::Assign), (DeviceId(2), LicenseNeed::Assign)]
    );
}

#[test]
fn take_management_does_not_touch_managed_or_absent_apps() {
    let devices = vec![iphone(1), iphone(2), iphone(3)];
    let mut world = World::new(LicenseMode::Auto, vec![asset(APP, 10)], devices);
    world.request.options.take_management = true;
    world.apps.insert(DeviceId(1), apps_installed("1.0", Some("Managed")));
    world.apps.insert(DeviceId(2), apps_installed("2.0", Some("Managed")));
    world.apps.insert(DeviceId(3), DeviceApps::default());
    let plan = world.plan();
    assert_eq!(reasons(&plan), vec![(DeviceId(2), SkipReason::UpToDate)]);
    let actions: Vec<(DeviceId, Action)> = plan.installs.iter().map(|i| (i.device_id, i.action)).collect();
    assert_eq!(
        actions,
        vec![(DeviceId(1), Action::Update), (DeviceId(3), Action::Install)]
    );
}

#[test]
fn managed_app_in_another_state_is_installed_again() {
    let devices = vec![iphone(1), iphone(2), iphone(3)];
    let mut world = World::new(LicenseMode::Auto, vec![asset(APP, 10)], devices);
    // Installing: the install is sent again.
    world
        .apps
        .insert(DeviceId(1), apps_installed("2.0", Some("Installing")));
    // Managed but not in the installed list (removed by the user).
    let mut removed = DeviceApps::default();
    removed.managed.insert(BUNDLE.into(), "Managed".into());
    world.apps.insert(DeviceId(2), removed);
    // A version that isn't a dotted number can't be compared: install.
    world.apps.insert(DeviceId(3), apps_installed("beta", Some("Managed")));
    let plan = world.plan();
    assert!(plan.skipped.is_empty(), "{:?}", plan.skipped);
    assert!(
        plan.installs.iter().all(|i| i.action == Action::Install),
        "{:?}",
        plan.installs
    );
    assert_eq!(plan.installs.len(), 3);
}

// ---------------------------------------------------------- licenses (L4, L5)

#[test]
fn device_holding_a_license_reuses_it() {
    let mut world = World::new(LicenseMode::Auto, vec![asset(APP, 0)], vec![iphone(1)]);
    world.hold(APP, LicenseTarget::Serial(serial_of(1)));
    let plan = world.plan();
    let install = only_install(&plan);
    assert_eq!(install.license, LicenseNeed::Held);
    assert!(!install.license.fails());
    assert_eq!(install.license_target, LicenseTarget::Serial(serial_of(1)));
    // No license available, yet nothing is short: the held one is used.
    assert_eq!(plan.licenses, vec![summary(APP, APP_NAME, [1, 1, 0, 0, 0])]);
}

#[test]
fn licenses_of_another_app_or_target_are_not_held() {
    let mut world = World::new(
        LicenseMode::Auto,
        vec![asset(APP, 10)],
        vec![iphone(1), iphone(2), iphone(3)],
    );
    world.hold(OTHER_APP, LicenseTarget::Serial(serial_of(1)));
    world.hold(APP, LicenseTarget::User(serial_of(2)));
    world.hold(APP, LicenseTarget::Serial(serial_of(99)));
    let plan = world.plan();
    assert_eq!(
        licenses(&plan),
        vec![
            (DeviceId(1), LicenseNeed::Assign),
            (DeviceId(2), LicenseNeed::Assign),
            (DeviceId(3), LicenseNeed::Assign),
        ]
    );
    assert_eq!(plan.licenses, vec![summary(APP, APP_NAME, [3, 0, 3, 10, 0])]);
}

#[test]
fn licenses_go_to_the_first_devices_and_the_rest_are_short() {
    // Given out of id order: the order given is the order served.
    let devices = vec![iphone(4), iphone(2), iphone(3), iphone(1)];
    let plan = World::new(LicenseMode::Auto, vec![asset(APP, 2)], devices).plan();
    assert!(plan.skipped.is_empty());
    let short = LicenseNeed::Short {
        needed: 4,
        available: 2,
    };
    assert_eq!(
        licenses(&plan),
        vec![
            (DeviceId(4), LicenseNeed::Assign),
            (DeviceId(2), LicenseNeed::Assign),
            (DeviceId(3), short.clone()),
            (DeviceId(1), short),
        ]
    );
    assert_eq!(
        plan.installs.iter().map(|i| i.license.fails()).collect::<Vec<_>>(),
        vec![false, false, true, true]
    );
    assert_eq!(plan.licenses, vec![summary(APP, APP_NAME, [4, 0, 2, 2, 2])]);
}

#[test]
fn held_licenses_do_not_use_up_available_ones() {
    let devices = vec![iphone(1), iphone(2), iphone(3), iphone(4)];
    let mut world = World::new(LicenseMode::Auto, vec![asset(APP, 2)], devices);
    world.hold(APP, LicenseTarget::Serial(serial_of(2)));
    let plan = world.plan();
    assert_eq!(
        licenses(&plan),
        vec![
            (DeviceId(1), LicenseNeed::Assign),
            (DeviceId(2), LicenseNeed::Held),
            (DeviceId(3), LicenseNeed::Assign),
            (
                DeviceId(4),
                LicenseNeed::Short {
                    needed: 3,
                    available: 2
                }
            ),
        ]
    );
    assert_eq!(plan.licenses, vec![summary(APP, APP_NAME, [4, 1, 2, 2, 1])]);
}

#[test]
fn exactly_enough_licenses_leave_nobody_short() {
    let devices = vec![iphone(1), iphone(2), iphone(3)];
    let mut world = World::new(LicenseMode::Auto, vec![asset(APP, 2)], devices);
    world.hold(APP, LicenseTarget::Serial(serial_of(1)));
    let plan = world.plan();
    assert!(plan.installs.iter().all(|i| !i.license.fails()), "{:?}", plan.installs);
    assert_eq!(plan.licenses, vec![summary(APP, APP_NAME, [3, 1, 2, 2, 0])]);
}

#[test]
fn no_license_available_makes_every_new_install_short() {
    let devices = vec![iphone(1), iphone(2)];
    let plan = World::new(LicenseMode::Auto, vec![asset(APP, 0)], devices).plan();
    let short = LicenseNeed::Short {
        needed: 2,
        available: 0,
    };
    assert_eq!(
        licenses(&plan),
        vec![(DeviceId(1), short.clone()), (DeviceId(2), short)]
    );
    assert_eq!(plan.licenses, vec![summary(APP, APP_NAME, [2, 0, 0, 0, 2])]);
}

#[test]
fn negative_available_count_is_short_of_zero() {
    let plan = World::new(LicenseMode::Auto, vec![asset(APP, -3)], vec![iphone(1)]).plan();
    assert_eq!(
        only_install(&plan).license,
        LicenseNeed::Short {
            needed: 1,
            available: 0
        }
    );
}

#[test]
fn skipped_devices_need_no_license() {
    let mut unenrolled = iphone(2);
    unenrolled.enrollment_state = EnrollmentState::Unenrolled;
    let devices = vec![iphone(1), unenrolled, device(3, Platform::Ios, "15.0"), iphone(4)];
    let mut world = World::new(LicenseMode::Auto, vec![asset(APP, 2)], devices);
    world.apps.insert(DeviceId(4), apps_installed("2.0", Some("Managed")));
    let plan = world.plan();
    assert_eq!(licenses(&plan), vec![(DeviceId(1), LicenseNeed::Assign)]);
    assert_eq!(plan.licenses, vec![summary(APP, APP_NAME, [1, 0, 1, 2, 0])]);
}

#[test]
fn manual_mode_uses_only_licenses_assigned_already() {
    let devices = vec![iphone(1), iphone(2), iphone(3)];
    // Plenty available: manual mode still assigns none.
    let mut world = World::new(LicenseMode::Manual, vec![asset(APP, 50)], devices);
    world.hold(APP, LicenseTarget::Serial(serial_of(2)));
    let plan = world.plan();
    assert!(plan.skipped.is_empty());
    assert_eq!(
        licenses(&plan),
        vec![
            (DeviceId(1), LicenseNeed::NotAssigned),
            (DeviceId(2), LicenseNeed::Held),
            (DeviceId(3), LicenseNeed::NotAssigned),
        ]
    );
    assert_eq!(
        plan.installs.iter().map(|i| i.license.fails()).collect::<Vec<_>>(),
        vec![true, false, true]
    );
    assert_eq!(plan.licenses, vec![summary(APP, APP_NAME, [3, 1, 0, 50, 2])]);
}

#[test]
fn fails_is_true_only_for_missing_licenses() {
    assert!(!LicenseNeed::Held.fails());
    assert!(!LicenseNeed::Assign.fails());
    assert!(
        LicenseNeed::Short {
            needed: 1,
            available: 0
        }
        .fails()
    );
    assert!(LicenseNeed::NotAssigned.fails());
}

#[test]
fn each_item_has_its_own_licenses_and_order() {
    let other = {
        let mut a = asset(OTHER_APP, 5);
        a.metadata = Some(AssetMetadata {
            name: "Other".into(),
            bundle_id: Some("jp.example.other".into()),
            ..Default::default()
        });
        a
    };
    let devices = vec![iphone(1), iphone(2), device(3, Platform::Ios, "15.0")];
    let mut world = World::new(LicenseMode::Auto, vec![asset(APP, 1), other], devices);
    world.hold(OTHER_APP, LicenseTarget::Serial(serial_of(1)));
    let plan = world.plan();
    // Items in order, devices in order within each item.
    let order: Vec<(&str, DeviceId, LicenseNeed)> = plan
        .installs
        .iter()
        .map(|i| (i.adam_id.as_str(), i.device_id, i.license.clone()))
        .collect();
    assert_eq!(
        order,
        vec![
            (APP, DeviceId(1), LicenseNeed::Assign),
            (
                APP,
                DeviceId(2),
                LicenseNeed::Short {
                    needed: 2,
                    available: 1
                }
            ),
            (OTHER_APP, DeviceId(1), LicenseNeed::Held),
            (OTHER_APP, DeviceId(2), LicenseNeed::Assign),
            (OTHER_APP, DeviceId(3), LicenseNeed::Assign),
        ]
    );
    // The minimum OS is the first app's; the other has none.
    assert_eq!(reasons(&plan), vec![(DeviceId(3), SkipReason::MinimumOs)]);
    assert_eq!(plan.skipped[0].adam_id, APP);
    assert_eq!(
        plan.licenses,
        vec![
            summary(APP, APP_NAME, [2, 0, 1, 1, 1]),
            summary(OTHER_APP, "Other", [3, 1, 2, 5, 0]),
        ]
    );
}

// ------------------------------------------------------------------ books

fn book_world(mode: LicenseMode, available: i64, devices: Vec<Device>) -> World {
    let mut world = World::new(mode, vec![book(BOOK, available)], devices);
    for d in &world.devices {
        if let Some(owner) = d.owner_id {
            world
                .vpp_users
                .insert((TOKEN, owner), format!("client-user-{}", owner.0));
        }
    }
    world
}

#[test]
fn book_goes_to_the_owners_vpp_user() {
    let world = book_world(LicenseMode::Auto, 10, vec![iphone(1)]);
    let plan = world.plan();
    assert_eq!(
        *only_install(&plan),
        PlannedInstall {
            device_id: DeviceId(1),
            device_number: "D0001".into(),
            token_id: TOKEN,
            adam_id: BOOK.into(),
            is_book: true,
            action: Action::Install,
            license: LicenseNeed::Assign,
            license_target: LicenseTarget::User("client-user-1001".into()),
            verify_identifier: Some(BOOK.into()),
            os_version: Some("17.4".into()),
            waits_for_logout_of: None,
        }
    );
    assert_eq!(plan.licenses, vec![summary(BOOK, BOOK_NAME, [1, 0, 1, 10, 0])]);
}

#[test]
fn book_product_type_is_matched_ignoring_case() {
    let mut world = book_world(LicenseMode::Auto, 10, vec![iphone(1)]);
    world.assets[0].1.product_type = "BOOK".into();
    let plan = world.plan();
    let install = only_install(&plan);
    assert!(install.is_book);
    assert_eq!(install.license_target, LicenseTarget::User("client-user-1001".into()));
}

#[test]
fn book_for_an_owner_without_vpp_user_is_skipped() {
    let mut no_owner = iphone(3);
    no_owner.owner_id = None;
    let mut world = book_world(LicenseMode::Auto, 10, vec![iphone(1), iphone(2), no_owner]);
    // Device 2's owner has a VPP user, but of another token.
    world.vpp_users.remove(&(TOKEN, owner_of(2)));
    world
        .vpp_users
        .insert((OTHER_TOKEN, owner_of(2)), "client-user-elsewhere".into());
    let plan = world.plan();
    assert_eq!(
        reasons(&plan),
        vec![
            (DeviceId(2), SkipReason::NoVppUser),
            (DeviceId(3), SkipReason::NoVppUser)
        ]
    );
    plan.skipped.iter().for_each(assert_messages);
    assert_eq!(plan.skipped[0].adam_id, BOOK);
    assert_eq!(licenses(&plan), vec![(DeviceId(1), LicenseNeed::Assign)]);
    assert_eq!(plan.licenses, vec![summary(BOOK, BOOK_NAME, [1, 0, 1, 10, 0])]);
}

#[test]
fn book_needs_neither_serial_nor_device_assignability_nor_app_compatibility() {
    // The book's metadata says mac-only and OS 99: not looked at for books.
    let mut no_serial = device(1, Platform::IpadOs, "15.0");
    no_serial.serial_number = None;
    let plan = book_world(LicenseMode::Auto, 10, vec![no_serial, iphone(2)]).plan();
    assert!(plan.skipped.is_empty(), "{:?}", plan.skipped);
    assert_eq!(plan.installs.len(), 2);
    // The platform still counts.
    let plan = book_world(LicenseMode::Auto, 10, vec![device(3, Platform::MacOs, "14.0")]).plan();
    assert_eq!(only_skip(&plan).reason, SkipReason::Platform);
}

#[test]
fn book_held_by_the_user_is_reused() {
    let mut world = book_world(LicenseMode::Manual, 0, vec![iphone(1), iphone(2)]);
    world.hold(BOOK, LicenseTarget::User("client-user-1001".into()));
    // A license on the serial number is not the user's.
    world.hold(BOOK, LicenseTarget::Serial(serial_of(2)));
    let plan = world.plan();
    assert_eq!(
        licenses(&plan),
        vec![
            (DeviceId(1), LicenseNeed::Held),
            (DeviceId(2), LicenseNeed::NotAssigned)
        ]
    );
    assert_eq!(plan.licenses, vec![summary(BOOK, BOOK_NAME, [2, 1, 0, 0, 1])]);
}

#[test]
fn book_in_the_managed_media_list_is_up_to_date() {
    let mut world = book_world(LicenseMode::Auto, 10, vec![iphone(1), iphone(2)]);
    let mut has_it = DeviceApps::default();
    has_it.books.insert(BOOK.into());
    world.apps.insert(DeviceId(1), has_it);
    let mut other_book = DeviceApps::default();
    other_book.books.insert("999".into());
    world.apps.insert(DeviceId(2), other_book);
    let plan = world.plan();
    assert_eq!(reasons(&plan), vec![(DeviceId(1), SkipReason::UpToDate)]);
    assert!(plan.skipped[0].message_ja.contains(BOOK_NAME));
    assert_eq!(plan.installs.len(), 1);
    assert_eq!(plan.installs[0].device_id, DeviceId(2));
    assert_eq!(plan.installs[0].action, Action::Install);
}

#[test]
fn verify_identifier_is_the_bundle_id_for_apps_and_the_store_id_for_books() {
    let devices = vec![iphone(1)];
    let mut world = World::new(LicenseMode::Auto, vec![asset(APP, 10), book(BOOK, 10)], devices);
    world.vpp_users.insert((TOKEN, owner_of(1)), "client-user-1001".into());
    let plan = world.plan();
    let found: Vec<(&str, bool, Option<&str>)> = plan
        .installs
        .iter()
        .map(|i| (i.adam_id.as_str(), i.is_book, i.verify_identifier.as_deref()))
        .collect();
    assert_eq!(found, vec![(APP, false, Some(BUNDLE)), (BOOK, true, Some(BOOK))]);
}

// ------------------------------------------------- license failure detail

#[test]
fn shortage_detail_has_the_counts_and_the_remedy() {
    let detail = super::license_failure_detail(
        &LicenseNeed::Short {
            needed: 4,
            available: 2,
        },
        APP_NAME,
    );
    assert_eq!(detail["reason"], "license_shortage");
    assert_eq!(detail["needed"], 4);
    assert_eq!(detail["available"], 2);
    let ja = detail["message_ja"].as_str().expect("message_ja is text");
    let en = detail["message_en"].as_str().expect("message_en is text");
    assert_ne!(ja, en);
    for message in [ja, en] {
        assert!(message.contains(APP_NAME), "{message}");
        assert!(
            message.contains('4') && message.contains('2'),
            "counts missing: {message}"
        );
    }
    assert!(en.contains("needed 4, available 2"), "{en}");
    assert!(ja.contains("必要数: 4") && ja.contains("利用可能: 2"), "{ja}");
    assert!(en.contains("reclaim"), "the remedy is missing: {en}");
    assert_eq!(detail.as_object().map(|o| o.len()), Some(5), "{detail}");
}

#[test]
fn not_assigned_detail_says_so_without_counts() {
    let detail = super::license_failure_detail(&LicenseNeed::NotAssigned, APP_NAME);
    assert_eq!(detail["reason"], "license_not_assigned");
    let ja = detail["message_ja"].as_str().expect("message_ja is text");
    let en = detail["message_en"].as_str().expect("message_en is text");
    assert!(!ja.is_empty() && !en.is_empty());
    assert_ne!(ja, en);
    assert!(ja.contains(APP_NAME) && en.contains(APP_NAME));
    assert!(en.contains("automatic assignment"), "{en}");
    let object = detail.as_object().expect("an object");
    assert!(
        !object.contains_key("needed") && !object.contains_key("available"),
        "{detail}"
    );
    assert_eq!(object.len(), 3);
}

#[test]
fn planned_shortage_feeds_the_failure_detail() {
    let plan = World::new(
        LicenseMode::Auto,
        vec![asset(APP, 1)],
        vec![iphone(1), iphone(2), iphone(3)],
    )
    .plan();
    let failed: Vec<&LicenseNeed> = plan.installs.iter().map(|i| &i.license).filter(|l| l.fails()).collect();
    assert_eq!(failed.len(), 2);
    let detail = super::license_failure_detail(failed[0], &plan.licenses[0].name);
    assert_eq!(detail["reason"], "license_shortage");
    assert_eq!(detail["needed"], 3);
    assert_eq!(detail["available"], 1);
}
