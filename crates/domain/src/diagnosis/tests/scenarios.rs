//! Whole diagnoses of the situations the seeds describe.

use apple_mdm::error_chain::domain;
use apple_mdm::{CommandReport, ErrorChainItem};

use super::{HOUR, position, run, seed_003_license_chain};
use crate::diagnosis::*;
use crate::jobs::JobStatus;
use crate::org::{EnrollmentState, Platform};
use crate::time_util::Timestamp;
use crate::vpp::TokenStatus;

#[test]
fn seed_003_license_chain_matches_the_license_rows_first() {
    let chain = seed_003_license_chain();
    let facts = ServerFacts {
        license: Some(LicenseState::NotAssigned),
        ..ServerFacts::default()
    };
    let d = diagnose(JobStatus::DeviceError, Some(&chain), &facts);
    let ids = d.row_ids();
    assert_eq!(ids[0], "003-device-12064-license-not-assigned");
    assert_eq!(d.matches[0].matched_by, MatchedBy::Chain);
    assert_eq!(d.matches[0].confirmed_by, Some(Fact::LicenseNotAssigned));
    // Confirmed rows first, then the two-code rows of seed 003 before seed
    // 004's one-code rows, each in seed order.
    assert_eq!(
        &ids[..8],
        &[
            "003-device-12064-license-not-assigned",
            "004-12064-not-assigned",
            "003-device-12064-power-off",
            "003-device-12064-network",
            "003-device-12064-auto-assign-token",
            "004-12064-not-invited",
            "004-12064-other-apple-id",
            "004-licensed-but-12064",
        ]
    );
    assert!(d.matches[..8].iter().all(|m| m.matched_by == MatchedBy::Chain));
    assert_eq!(d.matches[1].confirmed_by, Some(Fact::LicenseNotAssigned));
    assert_eq!(d.matches[2].confirmed_by, None);
    // Then only the general advice.
    assert!(d.matches[8..].iter().all(|m| m.matched_by == MatchedBy::Advice));
    // A recognised chain does not bring up the catch-alls or other codes.
    assert!(!ids.contains(&"003-device-other-requirements"));
    assert!(!ids.iter().any(|id| id.starts_with("004-12023")));
    assert_eq!(
        d.error_chain.as_deref(),
        Some(
            "MCMDMErrorDomain 12064: \"Could not retrieve license for the app with iTunes Store ID 1020208655.\" \
             <- DeviceManagement.error 2605: \"App “Sample”のライセンスが見つかりません。\""
        )
    );
    assert_eq!(
        d.finding(Fact::LicenseNotAssigned).map(|f| f.en.as_str()),
        Some("No license of the app is assigned to this device (or its VPP user).")
    );

    // Without server facts the license row is still there, unconfirmed.
    let plain = diagnose(JobStatus::DeviceError, Some(&chain), &ServerFacts::default());
    assert_eq!(plain.row_ids()[0], "003-device-12064-power-off");
    assert!(plain.row_ids().contains(&"003-device-12064-license-not-assigned"));
    assert!(plain.findings.is_empty());
}

#[test]
fn push_timeout_lists_power_left_mdm_and_network() {
    let d = diagnose(JobStatus::PushTimeout, None, &ServerFacts::default());
    assert_eq!(
        &d.row_ids()[..3],
        &["003-push-power-off", "003-push-left-mdm", "003-push-network"]
    );
    assert!(d.matches[..3].iter().all(|m| m.matched_by == MatchedBy::Status));
    assert!(
        d.row_ids()[3..]
            .iter()
            .all(|id| ROWS.iter().any(|r| r.id == *id && r.rule.trigger == Trigger::Advice))
    );
    assert_eq!(d.row_ids().len(), 3 + 6);
    assert_eq!(
        diagnose(JobStatus::PushSent, None, &ServerFacts::default()).row_ids(),
        d.row_ids()
    );

    let facts = ServerFacts {
        enrollment: Some(EnrollmentState::Unenrolled),
        ..ServerFacts::default()
    };
    let d = diagnose(JobStatus::PushTimeout, None, &facts);
    assert_eq!(d.row_ids()[0], "003-push-left-mdm");
    assert_eq!(d.matches[0].matched_by, MatchedBy::Fact);
    assert_eq!(
        d.finding(Fact::NotEnrolled).map(|f| f.ja.as_str()),
        Some("端末はMDMから離脱しています(MDMプロファイルが削除されました)。")
    );
}

#[test]
fn silence_is_measured_up_to_as_of() {
    let mut facts = ServerFacts {
        last_contact_at: Some(Timestamp(1_700_000_000_000)),
        as_of: Some(Timestamp(1_700_000_000_000 + HOUR - 1)),
        ..ServerFacts::default()
    };
    assert!(!facts.holds(Fact::DeviceSilent, None));
    facts.as_of = Some(Timestamp(1_700_000_000_000 + 3 * 24 * HOUR));
    let d = diagnose(JobStatus::PushTimeout, None, &facts);
    assert_eq!(d.row_ids()[0], "003-push-power-off");
    assert_eq!(
        d.finding(Fact::DeviceSilent).map(|f| f.ja.as_str()),
        Some("端末は2023-11-14T22:13:20Zから3日以上サーバーと通信していません。")
    );
}

fn wifi(os: &str, bytes: u64) -> Option<String> {
    let facts = ServerFacts {
        os_version: Some(os.into()),
        app_size_bytes: Some(bytes),
        ..ServerFacts::default()
    };
    let d = diagnose(JobStatus::PushTimeout, None, &facts);
    let confirmed = d
        .matches
        .iter()
        .any(|m| m.row.id == "003-push-network" && m.confirmed_by == Some(Fact::LargeAppNeedsWifi));
    let finding = d.finding(Fact::LargeAppNeedsWifi).map(|f| f.ja.clone());
    assert_eq!(confirmed, finding.is_some());
    finding
}

#[test]
fn large_apps_need_wifi_at_the_os_limit() {
    assert_eq!(
        wifi("13.0", 200_000_000).as_deref(),
        Some(
            "アプリのサイズ(200 MB)がiOS 13.0のモバイルデータ通信の上限(200 MB)以上のため、端末をWi-Fiに接続する必要があります。"
        )
    );
    assert_eq!(wifi("13.0", 199_000_000), None);
    assert_eq!(wifi("13.0", 199_999_999), None);
    assert_eq!(wifi("13.0", 150_000_000), None);
    assert_eq!(
        wifi("12.5.7", 150_000_000).as_deref(),
        Some(
            "アプリのサイズ(150 MB)がiOS 12.5.7のモバイルデータ通信の上限(150 MB)以上のため、端末をWi-Fiに接続する必要があります。"
        )
    );
    assert_eq!(wifi("12.5.7", 149_999_999), None);
    assert_eq!(cellular_limit_bytes(Some(17)), 200_000_000);
    assert_eq!(cellular_limit_bytes(None), 150_000_000);

    let mac = ServerFacts {
        platform: Some(Platform::MacOs),
        os_version: Some("14.0".into()),
        app_size_bytes: Some(900_000_000),
        ..ServerFacts::default()
    };
    assert!(!mac.holds(Fact::LargeAppNeedsWifi, None));
}

#[test]
fn dm1407_fixture_falls_back_to_the_generic_device_error_rows() {
    let bytes = include_bytes!(
        "../../../../apple-mdm/tests/fixtures/installapplication-error-dm1407-already-prompting-ios11.plist"
    );
    let report = CommandReport::from_xml(bytes).unwrap();
    assert_eq!(report.error_chain.top().map(|i| i.code), Some(1407));
    let d = diagnose(
        JobStatus::DeviceError,
        Some(&report.error_chain),
        &ServerFacts::default(),
    );
    let ids = d.row_ids();
    // The seeds have no row for 1407: the catch-alls, in seed order, then advice.
    assert_eq!(
        &ids[..5],
        &[
            "003-device-exec-network",
            "003-device-exec-app-store-app",
            "003-device-other-requirements",
            "003-device-other-apple-blocked",
            "003-device-other-network",
        ]
    );
    assert!(
        d.matches[..5]
            .iter()
            .all(|m| m.matched_by == MatchedBy::UnlistedDeviceError)
    );
    assert!(!ids.iter().any(|id| id.contains("12064") || id.contains("12023")));
    assert_eq!(
        d.error_chain.as_deref(),
        Some("DeviceManagement.error 1407: \"The user is already being prompted.\"")
    );
}

#[test]
fn store_timeout_puts_the_two_code_row_first_and_flags_the_network() {
    let d = run(
        JobStatus::DeviceError,
        vec![
            ErrorChainItem::new(domain::MCMDM, 12023),
            ErrorChainItem::new(domain::NSURL, -1001),
            ErrorChainItem::new(domain::NSURL, -1001),
        ],
        &ServerFacts::default(),
    );
    let ids = d.row_ids();
    assert_eq!(ids[0], "004-12023-network-timeout");
    assert_eq!(ids[1], "004-12023-vpp-not-assigned");
    assert_eq!(ids.iter().filter(|id| id.starts_with("004-12023")).count(), 8);
    // The network catch-alls come up because the chain itself shows a network error.
    let exec = &d.matches[position(&d, "003-device-exec-network")];
    assert_eq!(exec.matched_by, MatchedBy::Fact);
    assert_eq!(exec.confirmed_by, Some(Fact::NetworkErrorInChain));
    assert!(!ids.contains(&"003-device-other-requirements"));
    assert_eq!(
        d.finding(Fact::NetworkErrorInChain).map(|f| f.en.as_str()),
        Some("The device reports a network error (NSURLErrorDomain -1001).")
    );
}

#[test]
fn license_shortage_and_apple_id_findings() {
    let facts = ServerFacts {
        license: Some(LicenseState::Shortage {
            available: 0,
            needed: 50,
        }),
        device_itunes_store_account_hash: Some("abc=".into()),
        vpp_user_id_hash: Some("xyz=".into()),
        ..ServerFacts::default()
    };
    let d = diagnose(JobStatus::LicenseFailed, None, &facts);
    assert_eq!(d.row_ids()[..2], ["003-license-not-assigned", "003-license-shortage"]);
    let shortage = d.finding(Fact::LicenseShortage).unwrap();
    assert_eq!(shortage.ja, "ライセンスが不足しています(必要 50 / 残り 0)");
    assert_eq!(shortage.en, "Not enough licenses (needed 50, available 0).");
    assert!(
        d.finding(Fact::AppleIdMismatch)
            .unwrap()
            .ja
            .contains("(abc=)がVPPユーザーのハッシュ(xyz=)")
    );
    // The hash comparison row belongs to device errors.
    assert!(!d.row_ids().contains(&"004-apple-id-hash-mismatch"));

    let d = run(
        JobStatus::DeviceError,
        vec![ErrorChainItem::new(domain::MCMDM, 12064)],
        &facts,
    );
    assert_eq!(d.row_ids()[0], "004-12064-not-assigned");
    assert_eq!(d.matches[1].row.id, "004-12064-other-apple-id");
    assert_eq!(d.matches[1].confirmed_by, Some(Fact::AppleIdMismatch));
    assert!(d.row_ids().contains(&"004-apple-id-hash-mismatch"));

    let same = ServerFacts {
        device_itunes_store_account_hash: Some("abc=".into()),
        vpp_user_id_hash: Some(" abc=".into()),
        ..ServerFacts::default()
    };
    assert!(!same.holds(Fact::AppleIdMismatch, None));
}

#[test]
fn shared_ipad_and_console_errors_apply_whatever_the_status() {
    let facts = ServerFacts {
        shared_ipad: true,
        shared_ipad_logged_in_user: Some("student01".into()),
        token_status: Some(TokenStatus::Revoked),
        ..ServerFacts::default()
    };
    let d = diagnose(JobStatus::Waiting, None, &facts);
    assert_eq!(d.row_ids(), ["003-console-token-expired", "003-shared-ipad"]);
    assert_eq!(
        d.finding(Fact::SharedIpadUserLoggedIn).map(|f| f.ja.as_str()),
        Some(
            "共有iPadにユーザー「student01」がログインしています。全てのユーザーがログアウトするまでインストールは行われません。"
        )
    );
    assert!(d.finding(Fact::TokenExpired).is_some());
    assert!(
        diagnose(JobStatus::Waiting, None, &ServerFacts::default())
            .matches
            .is_empty()
    );
}

#[test]
fn success_without_app_lists_the_success_rows_and_restore() {
    let d = diagnose(JobStatus::Success, None, &ServerFacts::default());
    let ids = d.row_ids();
    assert_eq!(ids.len(), 9 + 1 + 6);
    assert!(ids.contains(&"003-restored-backup"));
    assert!(
        ids.iter()
            .all(|id| !id.starts_with("004-") && !id.starts_with("003-device"))
    );
}

#[test]
fn os_versions_compare_numerically() {
    let facts = |os: &str, min: &str| ServerFacts {
        os_version: Some(os.into()),
        app_minimum_os: Some(min.into()),
        ..ServerFacts::default()
    };
    assert!(facts("9.3.5", "13.0").holds(Fact::OsBelowAppMinimum, None));
    assert!(!facts("13", "13.0").holds(Fact::OsBelowAppMinimum, None));
    assert!(!facts("17.1", "16.4").holds(Fact::OsBelowAppMinimum, None));
    assert!(!facts("beta", "16.4").holds(Fact::OsBelowAppMinimum, None));
}

#[test]
fn diagnosis_serialises_for_the_job_detail_api() {
    let chain = seed_003_license_chain();
    let d = diagnose(JobStatus::DeviceError, Some(&chain), &ServerFacts::default());
    let json = serde_json::to_value(&d).unwrap();
    assert_eq!(json["status"], "device_error");
    let first = &json["matches"][0];
    assert_eq!(first["matched_by"], "chain");
    assert_eq!(first["row"]["id"], "003-device-12064-power-off");
    assert_eq!(first["row"]["seed"], "003");
    assert_eq!(first["row"]["table"], "device_error");
    assert_eq!(first["row"]["cause"]["ja"], "端末の電源が入っていない。");
    assert_eq!(first["row"]["remedy_source"], "seed");
    assert_eq!(first["row"]["rule"]["trigger"]["kind"], "chain");
    assert_eq!(first["row"]["rule"]["trigger"]["value"][1]["code"], 2605);
    assert_eq!(first["row"]["rule"]["confirmed_by"], "device_silent");

    let facts: ServerFacts =
        serde_json::from_str(r#"{"license":{"state":"shortage","available":3,"needed":10},"os_version":"16.0"}"#)
            .unwrap();
    assert_eq!(
        facts.license,
        Some(LicenseState::Shortage {
            available: 3,
            needed: 10
        })
    );
}

#[test]
fn an_install_the_managed_list_never_confirmed_gets_the_success_without_app_rows() {
    // J7 turns the seeds' "成功 yet no app" into a device error; with too
    // little space the storage row comes first, before the catch-alls.
    let facts = ServerFacts {
        install_not_confirmed: true,
        license: Some(LicenseState::Assigned),
        device_free_bytes: Some(10_000_000),
        app_size_bytes: Some(50_000_000),
        ..ServerFacts::default()
    };
    let d = diagnose(JobStatus::DeviceError, None, &facts);
    assert_eq!(d.row_ids()[0], "003-success-storage", "{:?}", d.row_ids());
    // Without the flag a device error never shows the success rows.
    let plain = ServerFacts {
        install_not_confirmed: false,
        ..facts
    };
    let d = diagnose(JobStatus::DeviceError, None, &plain);
    assert!(!d.row_ids().contains(&"003-success-storage"));
}
