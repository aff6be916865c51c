//! Commands end to end: a push, a session, the device's answers as the reference says
//! real devices give them.

use std::time::Duration;

use apple_mdm::command::{
    DeviceInformation, InstallApplication, InstallMedia, InstalledApplicationList, ManagedApplicationList,
    ManagedMediaList, RemoveApplication, RemoveMedia, UnknownCommand,
};
use apple_mdm::report::{
    DeviceInformationResult, InstallApplicationResult, InstallMediaResult, InstallRejectionReason,
    InstalledApplicationListResult, ManagedAppStatus, ManagedApplicationListResult, ManagedMediaListResult, MediaState,
};
use apple_mdm::{CommandReport, CommandStatus};
use apple_sim::{Behaviour, LicensePolicy, LoggedInInstallPolicy, ManagedUser};

use crate::support::{WAIT, World, push};

fn chain(report: &CommandReport) -> Vec<(String, i64)> {
    report.error_chain.iter().map(|i| (i.domain.clone(), i.code)).collect()
}

fn mcmdm(code: i64) -> Vec<(String, i64)> {
    vec![("MCMDMErrorDomain".to_owned(), code)]
}

fn install_result(report: &CommandReport) -> InstallApplicationResult {
    report.decode().unwrap()
}

async fn managed_list(world: &World, device: &apple_sim::SimDevice) -> ManagedApplicationListResult {
    let report = world.run(device, ManagedApplicationList::all()).await;
    assert_eq!(report.status, CommandStatus::Acknowledged);
    report.decode().unwrap()
}

#[tokio::test]
async fn device_information_answers_what_was_asked() {
    let world = World::start().await;
    let device = world.enrolled(0, Behaviour::iphone().with_locked(true)).await;
    let mut queries: Vec<String> = apple_mdm::command::query::APP_DISTRIBUTION
        .iter()
        .map(|q| q.to_string())
        .collect();
    queries.extend(["IMEI", "WiFiMAC", "NoSuchQuery"].map(String::from));
    let report = world.run(&device, DeviceInformation::new(queries)).await;
    assert_eq!(report.status, CommandStatus::Acknowledged, "never NotNow, even locked");
    let result: DeviceInformationResult = report.decode().unwrap();
    let q = result.query_responses;
    let hw = device.hardware();
    assert_eq!(q.udid.as_ref().map(|u| u.as_str()), Some(device.udid()));
    assert_eq!(q.serial_number.as_deref(), Some(device.serial_number()));
    assert_eq!(q.product_name.as_deref(), Some(hw.product_name.as_str()));
    assert_eq!(q.model_name.as_deref(), Some("iPhone"));
    assert_eq!(q.os_version.as_deref(), Some("17.5.1"));
    assert_eq!(q.is_supervised, Some(false));
    assert_eq!(q.is_multi_user, Some(false));
    assert_eq!(q.itunes_store_account_is_active, Some(true));
    assert_eq!(
        q.itunes_store_account_hash.as_deref(),
        Some(hw.itunes_store_account_hash.as_str())
    );
    assert_eq!(q.imei, hw.imei);
    assert_eq!(q.wifi_mac.as_deref(), Some(hw.wifi_mac.as_str()));
    assert!(q.device_capacity.unwrap() > q.available_device_capacity.unwrap());
    assert_eq!(q.bluetooth_mac, None, "not asked for");
    assert!(q.extra.is_empty(), "unknown queries are left out: {:?}", q.extra);
}

#[tokio::test]
async fn supervised_installs_go_installing_then_managed() {
    let world = World::start().await;
    let timing = Behaviour::ipad().with_install_timing(Duration::from_millis(100), Duration::from_millis(1500));
    let device = world.enrolled(0, timing).await;
    let report = world
        .run(
            &device,
            InstallApplication::from_store(361_309_726).with_license_assignment(),
        )
        .await;
    assert_eq!(report.status, CommandStatus::Acknowledged);
    let result = install_result(&report);
    let bundle = result.identifier.clone().unwrap();
    assert_eq!(bundle, "com.simvendor.app361309726");
    assert_eq!(result.state, Some(ManagedAppStatus::Installing));
    let list = managed_list(&world, &device).await;
    assert_eq!(list.applications[&bundle].status, ManagedAppStatus::Installing);

    device
        .wait_for("Managed", WAIT, |s| {
            s.app_status(&bundle) == Some(ManagedAppStatus::Managed)
        })
        .await
        .unwrap();
    let list = managed_list(&world, &device).await;
    let app = &list.applications[&bundle];
    assert_eq!(
        (app.status.clone(), app.is_validated),
        (ManagedAppStatus::Managed, Some(true))
    );
    let installed: InstalledApplicationListResult = world
        .run(&device, InstalledApplicationList::all())
        .await
        .decode()
        .unwrap();
    let entry = installed.applications.iter().find(|a| a.identifier == bundle).unwrap();
    assert_eq!((entry.device_based_vpp, entry.installing), (Some(true), Some(false)));
    assert_eq!(entry.name.as_deref(), Some("Sim App 361309726"));

    let removed = world.run(&device, RemoveApplication::new(&bundle)).await;
    assert_eq!(removed.status, CommandStatus::Acknowledged);
    assert!(device.snapshot().app(&bundle).is_none());
    let again = world.run(&device, RemoveApplication::new(&bundle)).await;
    assert_eq!(chain(&again), mcmdm(12029));
}

#[tokio::test]
async fn unsupervised_installs_prompt_first_and_a_second_install_meets_the_prompt() {
    let world = World::start().await;
    let slow_prompt = Behaviour::iphone().with_install_timing(Duration::from_millis(600), Duration::from_millis(100));
    let device = world.enrolled(0, slow_prompt).await;
    let report = world.run(&device, InstallApplication::from_store(42)).await;
    assert_eq!(install_result(&report).state, Some(ManagedAppStatus::Prompting));
    let again = world.run(&device, InstallApplication::from_store(42)).await;
    assert_eq!(again.status, CommandStatus::Error);
    assert_eq!(chain(&again), vec![("DeviceManagement.error".to_owned(), 1407)]);
    device
        .wait_for("Managed", WAIT, |s| {
            s.app_outcomes.get("com.simvendor.app42") == Some(&ManagedAppStatus::Managed)
        })
        .await
        .unwrap();
}

#[tokio::test]
async fn locked_devices_answer_not_now_and_poll_again_once_unlocked() {
    let world = World::start().await;
    let device = world.enrolled(0, Behaviour::ipad().with_locked(true)).await;
    let listed = world.run(&device, InstalledApplicationList::all()).await;
    assert_eq!(
        listed.status,
        CommandStatus::Acknowledged,
        "InstalledApplicationList is never NotNow"
    );

    let uuid = world.server.queue(
        device.udid(),
        InstallApplication::from_store(7).with_license_assignment(),
    );
    assert!(push(&world.client, &device).await.is_delivered());
    let snapshot = device
        .wait_for("end of session", WAIT, |s| s.sessions == 2)
        .await
        .unwrap();
    assert!(snapshot.awaiting_conditions);
    let reports = world.server.reports_for(&uuid);
    assert_eq!(reports.len(), 1);
    assert_eq!(reports[0].status, CommandStatus::NotNow);
    assert!(reports[0].error_chain.is_empty() && reports[0].payload.is_empty());

    // No push: unlocking alone makes the device poll (reference §5.4).
    device.update_behaviour(|b| b.locked = false);
    let report = world.server.wait_result(&uuid, WAIT).await;
    assert_eq!(report.status, CommandStatus::Acknowledged);
    assert_eq!(world.server.idles_of(device.udid()), 3);
    assert!(!device.snapshot().awaiting_conditions);
}

#[tokio::test]
async fn no_automatic_poll_when_not_now_was_not_the_last_status() {
    let world = World::start().await;
    let device = world.enrolled(0, Behaviour::ipad().with_locked(true)).await;
    let install = world.server.queue(
        device.udid(),
        InstallApplication::from_store(8).with_license_assignment(),
    );
    let info = world.server.queue(device.udid(), DeviceInformation::new(["UDID"]));
    assert!(push(&world.client, &device).await.is_delivered());
    assert_eq!(
        world.server.wait_result(&info, WAIT).await.status,
        CommandStatus::Acknowledged
    );
    let snapshot = device
        .wait_for("end of session", WAIT, |s| s.sessions == 1)
        .await
        .unwrap();
    assert!(!snapshot.awaiting_conditions);
    assert_eq!(world.server.reports_for(&install)[0].status, CommandStatus::NotNow);

    // §5.4 (b): the device will not come back by itself; the server must push.
    device.update_behaviour(|b| b.locked = false);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(world.server.idles_of(device.udid()), 1);
    assert!(push(&world.client, &device).await.is_delivered());
    assert_eq!(
        world.server.wait_result(&install, WAIT).await.status,
        CommandStatus::Acknowledged
    );
}

#[tokio::test]
async fn app_failures_carry_the_documented_error_chains() {
    let world = World::start().await;
    let restricted = world.enrolled(0, Behaviour::ipad().with_app_store_disabled(true)).await;
    let report = world.run(&restricted, InstallApplication::from_store(1)).await;
    assert_eq!(chain(&report), mcmdm(12031));
    assert_eq!(
        install_result(&report).rejection_reason,
        Some(InstallRejectionReason::AppStoreDisabled)
    );
    let licensed = world
        .run(&restricted, InstallApplication::from_store(1).with_license_assignment())
        .await;
    assert_eq!(
        licensed.status,
        CommandStatus::Acknowledged,
        "device licenses bypass the restriction"
    );

    let signed_out = world.enrolled(1, Behaviour::iphone().with_signed_in(false)).await;
    assert_eq!(
        chain(&world.run(&signed_out, InstallApplication::from_store(2)).await),
        mcmdm(12040)
    );

    let unlicensed = world
        .enrolled(2, Behaviour::ipad().with_licenses(LicensePolicy::NoneAssigned))
        .await;
    let report = world
        .run(&unlicensed, InstallApplication::from_store(3).with_license_assignment())
        .await;
    assert_eq!(
        chain(&report),
        vec![
            ("MCMDMErrorDomain".to_owned(), 12064),
            ("DeviceManagement.error".to_owned(), 2605)
        ]
    );

    let shared = world.enrolled(3, Behaviour::shared_ipad(None)).await;
    let report = world.run(&shared, InstallApplication::from_store(4)).await;
    assert_eq!(
        install_result(&report).rejection_reason,
        Some(InstallRejectionReason::PurchaseMethodNotSupportedInMultiUser)
    );

    let owner = world.enrolled(4, Behaviour::ipad().with_user_installed_app(5)).await;
    let report = world
        .run(&owner, InstallApplication::from_store(5).with_license_assignment())
        .await;
    assert_eq!(chain(&report), mcmdm(12025));
    assert_eq!(
        install_result(&report).rejection_reason,
        Some(InstallRejectionReason::AppAlreadyInstalled)
    );
    let takeover = InstallApplication::from_store(5)
        .with_license_assignment()
        .taking_over_management();
    assert_eq!(
        install_result(&world.run(&owner, takeover).await).state,
        Some(ManagedAppStatus::Managed)
    );
    let report = world.run(&owner, RemoveApplication::new("com.unknown.app")).await;
    assert_eq!(chain(&report), mcmdm(12029));

    let report = world.run(&owner, UnknownCommand::new("ProfileList")).await;
    assert_eq!(chain(&report), mcmdm(12021));
    assert_eq!(
        report.error_chain.top().and_then(|i| i.description()),
        Some("“ProfileList” is not a valid request type.")
    );
}

#[tokio::test]
async fn user_rejections_and_failures_are_reported_once() {
    let world = World::start().await;
    let cancels = world
        .enrolled(0, Behaviour::iphone().with_cancelled_prompts(true))
        .await;
    let bundle = install_result(&world.run(&cancels, InstallApplication::from_store(10)).await)
        .identifier
        .unwrap();
    cancels
        .wait_for("rejection", WAIT, |s| {
            s.app_status(&bundle) == Some(ManagedAppStatus::UserRejected)
        })
        .await
        .unwrap();
    assert_eq!(
        managed_list(&world, &cancels).await.applications[&bundle].status,
        ManagedAppStatus::UserRejected
    );
    assert!(!managed_list(&world, &cancels).await.applications.contains_key(&bundle));
    assert_eq!(cancels.snapshot().app_outcomes[&bundle], ManagedAppStatus::UserRejected);

    let full = world.enrolled(1, Behaviour::ipad().with_storage_full(true)).await;
    let report = world
        .run(&full, InstallApplication::from_store(11).with_license_assignment())
        .await;
    assert_eq!(install_result(&report).state, Some(ManagedAppStatus::Installing));
    let bundle = install_result(&report).identifier.unwrap();
    full.wait_for("failure", WAIT, |s| {
        s.app_status(&bundle) == Some(ManagedAppStatus::Failed)
    })
    .await
    .unwrap();
    let first = managed_list(&world, &full).await;
    assert_eq!(first.applications[&bundle].status, ManagedAppStatus::Failed);
    assert_eq!(first.applications[&bundle].external_version_identifier, None);
    assert!(!managed_list(&world, &full).await.applications.contains_key(&bundle));
}

#[tokio::test]
async fn malformed_commands_get_command_format_error() {
    let world = World::start().await;
    let device = world.enrolled(0, Behaviour::ipad()).await;
    let uuid = "6B3E6A4C-3C1D-4C7E-9E55-0D1F00000001";
    let body = format!(
        "<?xml version=\"1.0\"?><plist version=\"1.0\"><dict><key>CommandUUID</key><string>{uuid}</string>\
         <key>Command</key><dict><key>Queries</key><array/></dict></dict></plist>"
    );
    world.server.queue_raw(device.udid(), uuid, body.into_bytes());
    assert!(push(&world.client, &device).await.is_delivered());
    let report = world.server.wait_result(uuid, WAIT).await;
    assert_eq!(report.status, CommandStatus::CommandFormatError);
    assert!(report.error_chain.is_empty());
}

#[tokio::test]
async fn books_install_and_wait_for_a_sign_in() {
    let world = World::start().await;
    let reader = world.enrolled(0, Behaviour::iphone()).await;
    let report = world.run(&reader, InstallMedia::store_book(555)).await;
    let result: InstallMediaResult = report.decode().unwrap();
    assert_eq!(
        (result.itunes_store_id, result.state),
        (Some(555), Some(MediaState::Queued))
    );
    reader
        .wait_for("Installed", WAIT, |s| {
            s.book(555).map(|b| &b.state) == Some(&MediaState::Installed)
        })
        .await
        .unwrap();
    let list: ManagedMediaListResult = world.run(&reader, ManagedMediaList::default()).await.decode().unwrap();
    assert_eq!(list.books.len(), 1);
    assert_eq!(list.books[0].state, Some(MediaState::Installed));
    let removed = world.run(&reader, RemoveMedia::store_book(999)).await;
    assert_eq!(
        removed.status,
        CommandStatus::Acknowledged,
        "even when the book is not there"
    );

    let signed_out = world.enrolled(1, Behaviour::ipad()).await;
    let result: InstallMediaResult = world
        .run(&signed_out, InstallMedia::store_book(556))
        .await
        .decode()
        .unwrap();
    assert_eq!(result.state, Some(MediaState::PromptingForLogin));
    signed_out.update_behaviour(|b| b.signed_in_to_app_store = true);
    signed_out
        .wait_for("Installed", WAIT, |s| {
            s.book(556).map(|b| &b.state) == Some(&MediaState::Installed)
        })
        .await
        .unwrap();

    let shared = world.enrolled(2, Behaviour::shared_ipad(None)).await;
    let report = world
        .run(
            &shared,
            InstallMedia::enterprise_book("https://example.com/a.pdf", "com.example.a"),
        )
        .await;
    let result: InstallMediaResult = report.decode().unwrap();
    assert_eq!(
        result.rejection_reason,
        Some(apple_mdm::report::MediaRejectionReason::EnterpriseBooksNotSupportedInMultiUser)
    );
}

#[tokio::test]
async fn shared_ipad_installs_wait_for_the_user_to_log_out() {
    let world = World::start().await;
    let user = ManagedUser::new("aoi@school.example", "Aoi");
    let not_now = world
        .enrolled(
            0,
            Behaviour::shared_ipad(Some(user.clone())).with_logged_in_policy(LoggedInInstallPolicy::NotNow),
        )
        .await;
    let uuid = world.server.queue(
        not_now.udid(),
        InstallApplication::from_store(20).with_license_assignment(),
    );
    assert!(push(&world.client, &not_now).await.is_delivered());
    not_now
        .wait_for("NotNow", WAIT, |s| s.awaiting_conditions)
        .await
        .unwrap();
    not_now.update_behaviour(|b| b.logged_in_user = None);
    assert_eq!(
        world.server.wait_result(&uuid, WAIT).await.status,
        CommandStatus::Acknowledged
    );

    let waits = world
        .enrolled(
            1,
            Behaviour::shared_ipad(Some(user)).with_logged_in_policy(LoggedInInstallPolicy::WaitForLogout),
        )
        .await;
    let report = world
        .run(&waits, InstallApplication::from_store(21).with_license_assignment())
        .await;
    let bundle = install_result(&report).identifier.unwrap();
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(waits.snapshot().app_status(&bundle), Some(ManagedAppStatus::Installing));
    let logout = world.run(&waits, apple_mdm::command::LogOutUser::default()).await;
    assert_eq!(logout.status, CommandStatus::Acknowledged);
    waits
        .wait_for("Managed", WAIT, |s| {
            s.app_status(&bundle) == Some(ManagedAppStatus::Managed)
        })
        .await
        .unwrap();
}

#[tokio::test]
async fn pushes_during_a_session_coalesce_into_one_more_session() {
    let world = World::start().await;
    let device = world
        .enrolled(0, Behaviour::ipad().with_answer_delay(Duration::from_millis(300)))
        .await;
    let uuid = world.server.queue(device.udid(), ManagedApplicationList::all());
    assert!(push(&world.client, &device).await.is_delivered());
    tokio::time::sleep(Duration::from_millis(100)).await;
    for _ in 0..5 {
        assert!(push(&world.client, &device).await.is_delivered());
    }
    world.server.wait_result(&uuid, WAIT).await;
    let snapshot = device
        .wait_for("two sessions", WAIT, |s| s.sessions == 2)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let after = device.snapshot();
    assert_eq!((after.sessions, after.wakes), (2, 2), "{snapshot:?}");
    assert_eq!(world.server.idles_of(device.udid()), 2);
}

#[tokio::test]
async fn a_mac_acknowledges_first_and_reports_failures_only_in_its_list() {
    let world = World::start().await;
    let mac = world
        .enrolled(0, Behaviour::mac().with_licenses(LicensePolicy::Only([21, 24].into())))
        .await;
    assert!(mac.hardware().product_name.starts_with("Mac") || mac.hardware().product_name.starts_with("iMac"));
    assert_eq!(mac.hardware().imei, None);

    let licensed = world
        .run(
            &mac,
            InstallApplication::from_store(21)
                .with_license_assignment()
                .with_install_as_managed(true),
        )
        .await;
    assert_eq!(install_result(&licensed).state, Some(ManagedAppStatus::Installing));
    let managed = install_result(&licensed).identifier.unwrap();
    mac.wait_for("managed", WAIT, |s| {
        s.app_status(&managed) == Some(ManagedAppStatus::Managed)
    })
    .await
    .unwrap();

    // Without InstallAsManaged the app ends up the user's: installed, not
    // managed, not in the managed list.
    let report = world
        .run(&mac, InstallApplication::from_store(24).with_license_assignment())
        .await;
    let unmanaged = install_result(&report).identifier.unwrap();
    mac.wait_for("installed", WAIT, |s| {
        s.apps
            .iter()
            .any(|a| a.bundle_id == unmanaged && a.installed && !a.managed)
    })
    .await
    .unwrap();
    assert!(!managed_list(&world, &mac).await.applications.contains_key(&unmanaged));

    // No license: acknowledged all the same, then `Failed` in the list (§7.1).
    let report = world
        .run(&mac, InstallApplication::from_store(22).with_license_assignment())
        .await;
    assert_eq!(report.status, CommandStatus::Acknowledged, "{report:?}");
    let bundle = install_result(&report).identifier.unwrap();
    mac.wait_for("failure", WAIT, |s| {
        s.app_status(&bundle) == Some(ManagedAppStatus::Failed)
    })
    .await
    .unwrap();
    assert_eq!(
        managed_list(&world, &mac).await.applications[&bundle].status,
        ManagedAppStatus::Failed
    );

    // A refusal carries macOS's only reason, `Other`.
    let restricted = world.enrolled(1, Behaviour::mac().with_app_store_disabled(true)).await;
    let report = world.run(&restricted, InstallApplication::from_store(23)).await;
    assert_eq!(chain(&report), mcmdm(12031));
    assert_eq!(
        install_result(&report).rejection_reason,
        Some(InstallRejectionReason::Unspecified)
    );
}
