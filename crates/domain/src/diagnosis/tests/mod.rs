use std::collections::HashSet;

use apple_mdm::error_chain::domain;
use apple_mdm::{ErrorChain, ErrorChainItem};

use super::*;
use crate::org::EnrollmentState;
use crate::time_util::Timestamp;
use crate::vpp::TokenStatus;

const HOUR: i64 = 60 * 60 * 1000;

/// The chain seed 003 prints for a device error on a VPP install.
fn seed_003_license_chain() -> ErrorChain {
    ErrorChain(vec![
        ErrorChainItem {
            localized_description: Some("iTunes Store ID “1020208655”でAppのライセンスを取得できませんでした。".into()),
            us_english_description: Some(
                "Could not retrieve license for the app with iTunes Store ID 1020208655.".into(),
            ),
            ..ErrorChainItem::new(domain::MCMDM, 12064)
        },
        ErrorChainItem {
            localized_description: Some("App “Sample”のライセンスが見つかりません。".into()),
            ..ErrorChainItem::new(domain::DEVICE_MANAGEMENT, 2605)
        },
    ])
}

/// Facts (and chain items) under which `fact` holds; exhaustive so a new
/// fact cannot go untested.
fn evidence(fact: Fact) -> (ServerFacts, Vec<ErrorChainItem>) {
    let mut facts = ServerFacts::default();
    let mut chain = Vec::new();
    match fact {
        Fact::TokenExpired => facts.token_status = Some(TokenStatus::Expired),
        Fact::TokenUnusable => facts.token_status = Some(TokenStatus::OtherMdm),
        Fact::NoTokenForGroup => facts.no_token_for_group = true,
        Fact::LicenseNotAssigned => facts.license = Some(LicenseState::NotAssigned),
        Fact::LicenseShortage => {
            facts.license = Some(LicenseState::Shortage {
                available: 0,
                needed: 50,
            })
        }
        Fact::LicenseAssigned => facts.license = Some(LicenseState::Assigned),
        Fact::AppStoreRestricted => facts.app_store_restricted = true,
        Fact::AppleIdMismatch => {
            facts.device_itunes_store_account_hash = Some("hashA".into());
            facts.vpp_user_id_hash = Some("hashB".into());
        }
        Fact::SharedIpadUserLoggedIn => {
            facts.shared_ipad = true;
            facts.shared_ipad_logged_in_user = Some("student01".into());
        }
        Fact::LargeAppNeedsWifi => {
            facts.os_version = Some("17.2".into());
            facts.app_size_bytes = Some(250_000_000);
        }
        Fact::InsufficientStorage => {
            facts.app_size_bytes = Some(80_000_000);
            facts.device_free_bytes = Some(10_000_000);
        }
        Fact::OsBelowAppMinimum => {
            facts.os_version = Some("12.5.7".into());
            facts.app_minimum_os = Some("15.0".into());
        }
        Fact::DeviceSilent => {
            facts.last_contact_at = Some(Timestamp(1_700_000_000_000));
            facts.as_of = Some(Timestamp(1_700_000_000_000 + 3 * HOUR));
        }
        Fact::NotEnrolled => facts.enrollment = Some(EnrollmentState::Unenrolled),
        Fact::NetworkErrorInChain => chain.push(ErrorChainItem::new(domain::NSURL, -1009)),
        Fact::DistributedWithoutVpp => facts.distributed_without_vpp = true,
    }
    (facts, chain)
}

/// A job that fits the row's situation and trigger, with nothing else known.
fn input_for(row: &KnowledgeRow) -> (JobStatus, Vec<ErrorChainItem>, ServerFacts) {
    let status = row.situation.statuses()[0];
    match row.rule.trigger {
        Trigger::Chain(codes) => {
            let items = codes
                .iter()
                .map(|c| ErrorChainItem::new(c.domains[0], c.code))
                .collect();
            (status, items, ServerFacts::default())
        }
        Trigger::UnlistedDeviceError => (
            status,
            vec![ErrorChainItem::new(domain::MCMDM, 99_999)],
            ServerFacts::default(),
        ),
        Trigger::Fact(fact) => {
            let (facts, items) = evidence(fact);
            (status, items, facts)
        }
        Trigger::Status | Trigger::Advice => (status, Vec::new(), ServerFacts::default()),
    }
}

fn run(status: JobStatus, items: Vec<ErrorChainItem>, facts: &ServerFacts) -> Diagnosis {
    let chain = ErrorChain(items);
    diagnose(status, Some(&chain), facts)
}

fn position(diagnosis: &Diagnosis, id: &str) -> usize {
    diagnosis
        .row_ids()
        .iter()
        .position(|&x| x == id)
        .unwrap_or_else(|| panic!("{id} not matched: {:?}", diagnosis.row_ids()))
}

#[test]
fn row_counts() {
    let count = |table: SeedTable| ROWS.iter().filter(|r| r.table == table).count();
    assert_eq!(count(SeedTable::ConsoleErrors), 4);
    assert_eq!(count(SeedTable::PushPending), 3);
    assert_eq!(count(SeedTable::LicenseFailed), 5);
    assert_eq!(count(SeedTable::DeviceError), 9);
    assert_eq!(count(SeedTable::SuccessWithoutApp), 9);
    assert_eq!(count(SeedTable::Other), 2);
    assert_eq!(count(SeedTable::NetworkCheck), 4);
    assert_eq!(count(SeedTable::StillFailing), 2);
    assert_eq!(count(SeedTable::DeviceErrorCodes), 18);
    assert_eq!(count(SeedTable::LicensedButError), 1);
    assert_eq!(count(SeedTable::AppleIdHash), 1);
    assert_eq!(ROWS.iter().filter(|r| r.seed == Seed::S003).count(), 38);
    assert_eq!(ROWS.iter().filter(|r| r.seed == Seed::S004).count(), 20);
    assert_eq!(ROWS.len(), 58);
}

#[test]
fn rows_are_well_formed() {
    let mut ids = HashSet::new();
    for row in ROWS {
        assert!(ids.insert(row.id), "duplicate id {}", row.id);
        assert_eq!(row.table.seed(), row.seed, "{}", row.id);
        let prefix = match row.seed {
            Seed::S003 => "003-",
            Seed::S004 => "004-",
        };
        assert!(row.id.starts_with(prefix), "{}", row.id);
        for text in [row.cause, row.remedy] {
            assert!(!text.ja.is_empty() && !text.en.is_empty(), "{}", row.id);
            assert!(!text.ja.is_ascii(), "{}: Japanese is Japanese", row.id);
            assert!(text.en.is_ascii(), "{}: English is ASCII: {}", row.id, text.en);
        }
        // Seed 004's table has no remedy column: only its side sections give one.
        if row.table == SeedTable::DeviceErrorCodes && row.id != "004-12023-network-timeout" {
            assert_eq!(row.remedy_source, TextSource::Haishin, "{}", row.id);
        }
        if let Trigger::Chain(codes) = row.rule.trigger {
            assert_eq!(row.situation, Situation::DeviceError, "{}", row.id);
            assert!(!codes.is_empty());
        }
        assert_eq!(super::row(row.id), Some(row));
    }
    assert!(SeedTable::ALL.iter().all(|t| ROWS.iter().any(|r| r.table == *t)));
}

#[test]
fn every_row_is_reachable_from_its_rule() {
    for row in ROWS {
        let (status, items, facts) = input_for(row);
        let diagnosis = run(status, items, &facts);
        let found = diagnosis
            .matches
            .iter()
            .find(|m| m.row.id == row.id)
            .unwrap_or_else(|| panic!("{} not reachable: {:?}", row.id, diagnosis.row_ids()));
        let expected = match row.rule.trigger {
            Trigger::Chain(_) => MatchedBy::Chain,
            Trigger::Fact(_) => MatchedBy::Fact,
            Trigger::Status => MatchedBy::Status,
            Trigger::UnlistedDeviceError => MatchedBy::UnlistedDeviceError,
            Trigger::Advice => MatchedBy::Advice,
        };
        assert_eq!(found.matched_by, expected, "{}", row.id);
        assert_eq!(found.confirmed_by, None, "{}", row.id);
    }
}

#[test]
fn every_confirmation_confirms_its_row_and_ranks_it_up() {
    for row in ROWS {
        let Some(fact) = row.rule.confirmed_by else { continue };
        let (status, mut items, _) = input_for(row);
        let (facts, extra) = evidence(fact);
        assert!(facts.holds(fact, Some(&ErrorChain(extra.clone()))), "{fact:?}");
        items.extend(extra);
        let plain = run(status, items.clone(), &ServerFacts::default());
        let confirmed = run(status, items, &facts);
        let found = &confirmed.matches[position(&confirmed, row.id)];
        assert_eq!(found.confirmed_by, Some(fact), "{}", row.id);
        assert!(
            position(&confirmed, row.id) <= position(&plain, row.id),
            "{} did not move up",
            row.id
        );
        assert!(confirmed.finding(fact).is_some(), "{}: no finding for {fact:?}", row.id);
    }
}

mod scenarios;
