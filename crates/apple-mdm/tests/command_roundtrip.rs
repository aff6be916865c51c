//! Commands: builder output shape, and a property test that any command the types can
//! express survives serialize -> parse unchanged.

mod common;

use apple_mdm::command::{
    AppAttributes, AppSource, ChangeManagementState, DeleteUser, DeviceConfigured, DeviceInformation, EraseDevice,
    InstallApplication, InstallApplicationOptions, InstallMedia, InstalledApplicationList, InviteToProgram, LogOutUser,
    ManagedApplicationAttributes, ManagedApplicationConfiguration, ManagedApplicationFeedback, ManagedApplicationList,
    ManagedMediaList, ManagementFlags, MediaSource, MediaTarget, MediaType, PurchaseMethod, RemoveApplication,
    RemoveMedia, SettingItem, Settings, UnknownCommand, UserList,
};
use apple_mdm::{Command, CommandRequest, CommandUuid, Dictionary, MdmError, PlistRecord, Value};
use common::assert_round_trips;
use proptest::collection::vec;
use proptest::option::of;
use proptest::prelude::*;

#[test]
fn install_application_serializes_to_apples_shape() {
    let command = Command::with_uuid(
        "0F1E2D3C-0000-4000-8000-000000000001",
        InstallApplication::from_store(361_309_726)
            .with_license_assignment()
            .with_management_flags(ManagementFlags::REMOVE_WITH_MDM_PROFILE | ManagementFlags::PREVENT_BACKUP)
            .with_attributes(AppAttributes::default().with_vpn("VPN-1").with_removable(false))
            .taking_over_management(),
    );
    let dict = command.to_dictionary();
    assert_eq!(
        dict.get("CommandUUID").and_then(Value::as_string),
        Some("0F1E2D3C-0000-4000-8000-000000000001")
    );
    let inner = dict.get("Command").and_then(Value::as_dictionary).expect("Command");
    let get = |key: &str| inner.get(key).cloned();
    assert_eq!(get("RequestType"), Some(Value::from("InstallApplication")));
    assert_eq!(get("iTunesStoreID"), Some(Value::from(361_309_726_u64)));
    assert_eq!(get("ManagementFlags"), Some(Value::from(5_u64)));
    assert_eq!(get("ChangeManagementState"), Some(Value::from("Managed")));
    let options = inner.get("Options").and_then(Value::as_dictionary).expect("Options");
    assert_eq!(options.get("PurchaseMethod"), Some(&Value::from(1_i64)));
    let attributes = inner
        .get("Attributes")
        .and_then(Value::as_dictionary)
        .expect("Attributes");
    assert_eq!(attributes.get("VPNUUID"), Some(&Value::from("VPN-1")));
    assert_eq!(attributes.get("Removable"), Some(&Value::Boolean(false)));
    assert_eq!(inner.len(), 6);
    assert_round_trips(&command);
}

#[test]
fn fresh_commands_get_distinct_uuids() {
    let a = Command::new(UserList::default());
    let b = Command::new(UserList::default());
    assert_ne!(a.command_uuid, b.command_uuid);
    assert_eq!(a.request_type(), "UserList");
}

#[test]
fn settings_items_keep_their_item_key() {
    let mut configuration = Dictionary::new();
    configuration.insert("ServerURL".into(), Value::from("https://example.com"));
    let command = Command::new(Settings::new([
        SettingItem::app_configuration("com.example.app", configuration),
        SettingItem::app_attributes("com.example.app", AppAttributes::default().with_vpn("V")),
    ]));
    let dict = command.to_dictionary();
    let items = dict
        .get("Command")
        .and_then(Value::as_dictionary)
        .and_then(|c| c.get("Settings"))
        .and_then(Value::as_array)
        .expect("Settings array");
    let item_names: Vec<_> = items
        .iter()
        .filter_map(|item| item.as_dictionary()?.get("Item")?.as_string())
        .collect();
    assert_eq!(item_names, ["ApplicationConfiguration", "ApplicationAttributes"]);
    assert_round_trips(&command);
}

#[test]
fn remove_media_accepts_a_string_store_id() {
    let body = br#"<plist version="1.0"><dict>
        <key>CommandUUID</key><string>X</string>
        <key>Command</key><dict>
            <key>RequestType</key><string>RemoveMedia</string>
            <key>MediaType</key><string>Book</string>
            <key>iTunesStoreID</key><string>123456</string>
        </dict></dict></plist>"#;
    let command = Command::from_xml(body).expect("parses");
    let CommandRequest::RemoveMedia(remove) = command.request else {
        panic!("expected RemoveMedia");
    };
    assert_eq!(remove.target, MediaTarget::ITunesStoreId(123_456));
}

#[test]
fn install_application_needs_exactly_one_source() {
    let body = |keys: &str| {
        format!(
            "<plist><dict><key>CommandUUID</key><string>X</string><key>Command</key><dict>\
             <key>RequestType</key><string>InstallApplication</string>{keys}</dict></dict></plist>"
        )
    };
    assert_eq!(
        Command::from_xml(body("").as_bytes()),
        Err(MdmError::MissingOneOf {
            keys: "`Command.iTunesStoreID`, `Command.Identifier`, `Command.ManifestURL`".into()
        })
    );
    let both = body(
        "<key>iTunesStoreID</key><integer>1</integer>\
         <key>Identifier</key><string>com.example</string>",
    );
    assert!(matches!(
        Command::from_xml(both.as_bytes()),
        Err(MdmError::ConflictingKeys { .. })
    ));
}

#[test]
fn unknown_request_types_pass_through() {
    let command = Command::new(UnknownCommand::new("ProfileList"));
    assert_eq!(command.request_type(), "ProfileList");
    assert_round_trips(&command);
}

// ---- property test ---------------------------------------------------------------

/// Printable text, including non-ASCII, as servers and devices send it.
fn text() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9 .,:/_@éü“”<>&\"'\n\t-]{0,20}"
}

/// Keys that no typed field uses, so `extra` entries stay in `extra`.
fn extra() -> impl Strategy<Value = Dictionary> {
    vec(("Zz[A-Za-z]{1,8}", leaf()), 0..3).prop_map(|entries| entries.into_iter().collect::<Dictionary>())
}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        text().prop_map(Value::String),
        any::<bool>().prop_map(Value::Boolean),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        vec(any::<u8>(), 0..16).prop_map(Value::Data),
        (-1.0e12..1.0e12_f64).prop_map(Value::Real),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..4).prop_map(Value::Array),
            vec(("[A-Za-z]{1,8}", inner), 0..4).prop_map(|entries| Value::Dictionary(entries.into_iter().collect())),
        ]
    })
}

fn dictionary() -> impl Strategy<Value = Dictionary> {
    vec(("[A-Za-z.]{1,10}", value()), 0..4).prop_map(|entries| entries.into_iter().collect::<Dictionary>())
}

fn strings() -> impl Strategy<Value = Vec<String>> {
    vec(text(), 0..4)
}

fn attributes() -> impl Strategy<Value = AppAttributes> {
    (
        (of(text()), of(text()), of(text()), of(text()), of(strings())),
        (of(any::<bool>()), of(any::<bool>()), of(any::<bool>())),
        (of(text()), of(any::<bool>()), of(any::<bool>()), extra()),
    )
        .prop_map(
            |((vpn, filter, dns, relay, domains), (direct, removable, tap), (slice, hide, lock, extra))| {
                AppAttributes {
                    vpn_uuid: vpn,
                    content_filter_uuid: filter,
                    dns_proxy_uuid: dns,
                    relay_uuid: relay,
                    associated_domains: domains,
                    associated_domains_enable_direct_downloads: direct,
                    removable,
                    tap_to_pay_screen_lock: tap,
                    cellular_slice_uuid: slice,
                    hideable: hide,
                    lockable: lock,
                    extra,
                }
            },
        )
}

fn install_application() -> impl Strategy<Value = InstallApplication> {
    let source = prop_oneof![
        any::<u64>().prop_map(AppSource::ITunesStoreId),
        text().prop_map(AppSource::BundleId),
        text().prop_map(AppSource::ManifestUrl),
    ];
    let options = (of(any::<i64>().prop_map(PurchaseMethod::from_code)), extra())
        .prop_map(|(purchase_method, extra)| InstallApplicationOptions { purchase_method, extra });
    (
        source,
        of(options),
        of(any::<u64>().prop_map(ManagementFlags)),
        of(dictionary()),
        of(attributes()),
        of(prop_oneof![Just("Managed".to_owned()), text()].prop_map(ChangeManagementState::from)),
        (of(any::<bool>()), of(any::<bool>()), extra()),
    )
        .prop_map(
            |(source, options, flags, configuration, attributes, change, (managed, ios, extra))| InstallApplication {
                source,
                options,
                management_flags: flags,
                configuration,
                attributes,
                change_management_state: change,
                install_as_managed: managed,
                ios_app: ios,
                extra,
            },
        )
}

fn media_requests() -> impl Strategy<Value = CommandRequest> {
    let media_type = prop_oneof![Just("Book".to_owned()), text()].prop_map(MediaType::from);
    let install = (
        media_type.clone(),
        prop_oneof![
            any::<u64>().prop_map(MediaSource::ITunesStoreId),
            text().prop_map(MediaSource::Url)
        ],
        (of(text()), of(text()), of(text()), of(text()), of(text())),
        extra(),
    )
        .prop_map(
            |(media_type, source, (persistent_id, kind, version, author, title), extra)| {
                CommandRequest::from(InstallMedia {
                    media_type,
                    source,
                    persistent_id,
                    kind,
                    version,
                    author,
                    title,
                    extra,
                })
            },
        );
    let remove = (
        media_type,
        prop_oneof![
            any::<u64>().prop_map(MediaTarget::ITunesStoreId),
            text().prop_map(MediaTarget::PersistentId)
        ],
        extra(),
    )
        .prop_map(|(media_type, target, extra)| {
            CommandRequest::from(RemoveMedia {
                media_type,
                target,
                extra,
            })
        });
    let list = extra().prop_map(|extra| CommandRequest::from(ManagedMediaList { extra }));
    prop_oneof![install, remove, list]
}

fn app_requests() -> impl Strategy<Value = CommandRequest> {
    prop_oneof![
        install_application().prop_map(CommandRequest::from),
        (text(), extra()).prop_map(|(identifier, extra)| { RemoveApplication { identifier, extra }.into() }),
        (of(strings()), extra()).prop_map(|(identifiers, extra)| ManagedApplicationList { identifiers, extra }.into()),
        (of(strings()), of(any::<bool>()), of(strings()), extra()).prop_map(
            |(identifiers, managed_apps_only, items, extra)| {
                InstalledApplicationList {
                    identifiers,
                    managed_apps_only,
                    items,
                    extra,
                }
                .into()
            }
        ),
        (strings(), extra())
            .prop_map(|(identifiers, extra)| { ManagedApplicationConfiguration { identifiers, extra }.into() }),
        (strings(), extra())
            .prop_map(|(identifiers, extra)| { ManagedApplicationAttributes { identifiers, extra }.into() }),
        (strings(), of(any::<bool>()), extra()).prop_map(|(identifiers, delete_feedback, extra)| {
            ManagedApplicationFeedback {
                identifiers,
                delete_feedback,
                extra,
            }
            .into()
        }),
        (text(), text(), extra()).prop_map(|(program_id, invitation_url, extra)| {
            InviteToProgram {
                program_id,
                invitation_url,
                extra,
            }
            .into()
        }),
    ]
}

fn device_requests() -> impl Strategy<Value = CommandRequest> {
    let setting = prop_oneof![
        (text(), dictionary()).prop_map(|(id, config)| SettingItem::app_configuration(id, config)),
        (text(), attributes()).prop_map(|(id, attrs)| SettingItem::app_attributes(id, attrs)),
        ("Zz[A-Za-z]{1,8}", extra()).prop_map(|(item, body)| SettingItem::Other { item, body }),
    ];
    prop_oneof![
        (strings(), of(vec(any::<u8>(), 0..24)), extra()).prop_map(|(queries, nonce, extra)| {
            DeviceInformation {
                queries,
                device_attestation_nonce: nonce,
                extra,
            }
            .into()
        }),
        (vec(setting, 0..4), extra()).prop_map(|(settings, extra)| Settings { settings, extra }.into()),
        (
            (of(any::<bool>()), of(any::<bool>()), of(text()), of(text())),
            of(dictionary()),
            extra()
        )
            .prop_map(|((plan, proximity, pin, obliteration), rts, extra)| {
                EraseDevice {
                    preserve_data_plan: plan,
                    disallow_proximity_setup: proximity,
                    pin,
                    obliteration_behavior: obliteration,
                    return_to_service: rts,
                    extra,
                }
                .into()
            }),
        extra().prop_map(|extra| DeviceConfigured { extra }.into()),
        extra().prop_map(|extra| UserList { extra }.into()),
        extra().prop_map(|extra| LogOutUser { extra }.into()),
        (of(text()), of(any::<bool>()), of(any::<bool>()), extra()).prop_map(
            |(user_name, delete_all_users, force_deletion, extra)| {
                DeleteUser {
                    user_name,
                    delete_all_users,
                    force_deletion,
                    extra,
                }
                .into()
            }
        ),
        ("Zz[A-Za-z]{1,12}", extra()).prop_map(|(request_type, body)| UnknownCommand { request_type, body }.into()),
    ]
}

fn command() -> impl Strategy<Value = Command> {
    (
        text(),
        of(any::<bool>()),
        prop_oneof![app_requests(), media_requests(), device_requests()],
    )
        .prop_map(|(uuid, tether, request)| Command {
            command_uuid: CommandUuid::from(uuid),
            request,
            request_requires_network_tether: tether,
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn commands_round_trip_through_xml(command in command()) {
        let bytes = command.to_xml().expect("serializes");
        let parsed = Command::from_xml(&bytes).expect("parses");
        prop_assert_eq!(&parsed, &command);
        prop_assert_eq!(parsed.to_dictionary(), command.to_dictionary());
    }

    #[test]
    fn single_requests_round_trip_as_command_dictionaries(command in command()) {
        // Each request type also reads/writes its `Command` dictionary on its own.
        if let CommandRequest::InstallApplication(install) = &command.request {
            let dict = install.to_dictionary();
            prop_assert_eq!(&InstallApplication::from_dictionary(dict).expect("parses"), install);
        }
    }
}
