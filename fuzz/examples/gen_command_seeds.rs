//! Writes the `command` target's seed corpus.
//!
//! The shared fixtures are all device-sent (check-ins, reports, a profile), so there
//! is no captured command body to copy. This serializes one `Command` per modelled
//! `RequestType` (plus an unknown one) with the crate's own writer, under fixed
//! CommandUUIDs so reruns produce identical files.
//!
//! Run from `fuzz/`: `cargo run --example gen_command_seeds -- corpus/command`

use std::path::PathBuf;

use apple_mdm::command::{
    AppAttributes, DeleteUser, DeviceConfigured, DeviceInformation, DeviceNameSetting, EraseDevice, InstallApplication,
    InstallMedia, InstalledApplicationList, InviteToProgram, LogOutUser, ManagedApplicationAttributes,
    ManagedApplicationConfiguration, ManagedApplicationFeedback, ManagedApplicationList, ManagedMediaList,
    OrganizationInfo, OrganizationInfoSetting, RemoveApplication, RemoveMedia, SettingItem, Settings, UnknownCommand,
    UserList,
};
use apple_mdm::{Command, CommandRequest, Dictionary, Value};

fn main() {
    let dir = PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| "corpus/command".into()));
    std::fs::create_dir_all(&dir).expect("create corpus dir");

    let mut configuration = Dictionary::new();
    configuration.insert("ServerURL".into(), Value::from("https://example.com/app"));
    configuration.insert("Retries".into(), Value::from(3));

    let requests: Vec<(&str, CommandRequest)> = vec![
        ("deviceinformation", DeviceInformation::for_app_distribution().into()),
        (
            "installedapplicationlist-managed",
            InstalledApplicationList::managed_only().into(),
        ),
        (
            "managedapplicationlist-only",
            ManagedApplicationList::only(["com.example.app"]).into(),
        ),
        (
            "installapplication-store-vpp",
            InstallApplication::from_store(361_309_726)
                .with_license_assignment()
                .with_configuration(configuration.clone())
                .with_attributes(AppAttributes::default().with_vpn("VPN-UUID").with_removable(false))
                .into(),
        ),
        (
            "installapplication-manifest",
            InstallApplication::from_manifest_url("https://example.com/manifest.plist").into(),
        ),
        (
            "installapplication-bundleid",
            InstallApplication::from_bundle_id("com.example.app").into(),
        ),
        ("removeapplication", RemoveApplication::new("com.example.app").into()),
        (
            "managedapplicationconfiguration",
            ManagedApplicationConfiguration::new(["com.example.app"]).into(),
        ),
        (
            "managedapplicationattributes",
            ManagedApplicationAttributes::new(["com.example.app"]).into(),
        ),
        (
            "managedapplicationfeedback",
            ManagedApplicationFeedback {
                identifiers: vec!["com.example.app".into()],
                delete_feedback: Some(true),
                ..Default::default()
            }
            .into(),
        ),
        ("installmedia-store", InstallMedia::store_book(1_234_567).into()),
        (
            "installmedia-enterprise",
            InstallMedia::enterprise_book("https://example.com/book.epub", "com.example.book").into(),
        ),
        ("removemedia", RemoveMedia::enterprise_book("com.example.book").into()),
        ("managedmedialist", ManagedMediaList::default().into()),
        (
            "invitetoprogram",
            InviteToProgram::cloud_vpp("https://example.com/invite").into(),
        ),
        (
            "settings",
            Settings::new([
                SettingItem::app_configuration("com.example.app", configuration),
                SettingItem::app_attributes("com.example.app", AppAttributes::default().with_removable(true)),
                SettingItem::DeviceName(DeviceNameSetting {
                    device_name: "iPad 7".into(),
                    ..Default::default()
                }),
                SettingItem::OrganizationInfo(OrganizationInfoSetting {
                    organization_info: Some(OrganizationInfo {
                        name: "Example".into(),
                        email: Some("it@example.com".into()),
                        ..Default::default()
                    }),
                    ..Default::default()
                }),
            ])
            .into(),
        ),
        (
            "erasedevice",
            EraseDevice {
                pin: Some("123456".into()),
                preserve_data_plan: Some(true),
                ..Default::default()
            }
            .into(),
        ),
        ("deviceconfigured", DeviceConfigured::default().into()),
        ("userlist", UserList::default().into()),
        ("logoutuser", LogOutUser::default().into()),
        ("deleteuser", DeleteUser::user("student01").into()),
        ("unknown-profilelist", UnknownCommand::new("ProfileList").into()),
    ];

    for (index, (name, request)) in requests.into_iter().enumerate() {
        let uuid = format!("00000000-0000-4000-8000-{index:012}");
        let mut command = Command::with_uuid(uuid, request);
        if name == "erasedevice" {
            command.request_requires_network_tether = Some(false);
        }
        let body = command.to_xml().expect("serializes");
        Command::from_xml(&body).expect("generated seed parses back");
        let path = dir.join(format!("command-{name}.plist"));
        std::fs::write(&path, body).expect("write seed");
        println!("{}", path.display());
    }
}
