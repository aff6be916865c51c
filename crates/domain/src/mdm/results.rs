//! What an answered command means: a handler per request type turns the
//! device's report into a job outcome and what the server learns from it
//! (device facts, inventory), per MDM reference §5 and §7.

use apple_mdm::report::{
    DeviceInformationResult, InstallApplicationResult, InstalledApplicationListResult, ManagedApplicationListResult,
    ManagedMediaListResult,
};
use apple_mdm::{CommandReport, CommandStatus, ErrorChain, Value};
use serde_json::json;

use super::checkin::platform_of;
use super::store::{DeviceFacts, InventoryKind};
use crate::jobs::JobOutcome;

/// What the server does with an answered command.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportEffects {
    pub outcome: JobOutcome,
    pub facts: Option<DeviceFacts>,
    pub inventory: Option<(InventoryKind, serde_json::Value)>,
    /// EraseDevice acknowledged: the device is gone once the job is recorded.
    pub wiped: bool,
}

impl ReportEffects {
    fn outcome(outcome: JobOutcome) -> Self {
        Self {
            outcome,
            facts: None,
            inventory: None,
            wiped: false,
        }
    }
}

/// Decodes a final report of a command of `request_type`. A payload that
/// does not match the command is an error, so nothing is recorded.
pub fn effects_of(request_type: &str, report: &CommandReport) -> Result<ReportEffects, apple_mdm::MdmError> {
    match report.status {
        // Reference §8.2: 12026 (already scheduled) and 1407 (already
        // prompting) mean an install of this app is in flight, for instance
        // this very command delivered again after a lost answer: wait for
        // the managed list rather than failing or sending it again.
        CommandStatus::Error if request_type == "InstallApplication" && install_in_flight(&report.error_chain) => {
            return Ok(ReportEffects::outcome(JobOutcome::Verifying { identifier: None }));
        }
        CommandStatus::Error => {
            return Ok(ReportEffects::outcome(JobOutcome::DeviceError {
                error_chain: Some(error_chain_json(&report.error_chain, report)),
            }));
        }
        CommandStatus::CommandFormatError => {
            return Ok(ReportEffects::outcome(JobOutcome::DeviceError { error_chain: None }));
        }
        CommandStatus::NotNow => return Ok(ReportEffects::outcome(JobOutcome::NotNow)),
        CommandStatus::Idle | CommandStatus::Acknowledged => {}
    }
    let mut effects = ReportEffects::outcome(JobOutcome::Succeeded);
    match request_type {
        "DeviceInformation" => {
            let result: DeviceInformationResult = report.decode()?;
            effects.facts = Some(facts_from(&result));
        }
        "InstalledApplicationList" => {
            let _: InstalledApplicationListResult = report.decode()?;
            effects.inventory = Some((
                InventoryKind::InstalledApps,
                list_json(report.payload.get("InstalledApplicationList")),
            ));
        }
        "ManagedApplicationList" => {
            let _: ManagedApplicationListResult = report.decode()?;
            let apps = match report.payload.get("ManagedApplicationList") {
                Some(Value::Dictionary(apps)) => apps
                    .iter()
                    .map(|(bundle_id, app)| {
                        let mut item = plist_json(app);
                        if let Some(obj) = item.as_object_mut() {
                            obj.insert("Identifier".into(), json!(bundle_id));
                        }
                        item
                    })
                    .collect(),
                _ => Vec::new(),
            };
            effects.inventory = Some((InventoryKind::ManagedApps, serde_json::Value::Array(apps)));
        }
        "ManagedMediaList" => {
            let _: ManagedMediaListResult = report.decode()?;
            effects.inventory = Some((InventoryKind::ManagedMedia, list_json(report.payload.get("Books"))));
        }
        "EraseDevice" => effects.wiped = true,
        // J7: accepted is not installed; the managed list decides.
        "InstallApplication" => {
            let result: InstallApplicationResult = report.decode()?;
            effects.outcome = JobOutcome::Verifying {
                identifier: result.identifier,
            };
        }
        "InstallMedia" => effects.outcome = JobOutcome::Verifying { identifier: None },
        _ => {}
    }
    Ok(effects)
}

fn install_in_flight(chain: &ErrorChain) -> bool {
    use apple_mdm::error_chain::domain;
    chain.iter().any(|item| {
        (item.domain == domain::MCMDM && item.code == 12026)
            || (item.domain == domain::DEVICE_MANAGEMENT && item.code == 1407)
    })
}

fn facts_from(result: &DeviceInformationResult) -> DeviceFacts {
    let q = &result.query_responses;
    let megabytes = |gb: Option<f64>| {
        gb.filter(|g| g.is_finite() && *g >= 0.0)
            .map(|g| (g * 1000.0).round() as i64)
    };
    DeviceFacts {
        udid: None,
        display_name: q.device_name.clone(),
        serial_number: q.serial_number.clone(),
        model: q.model.clone(),
        product_name: q.product_name.clone(),
        platform: platform_of(q.product_name.as_deref(), q.model_name.as_deref()),
        os_version: q.os_version.clone(),
        build_version: q.build_version.clone(),
        imei: q.imei.clone(),
        wifi_mac: q.wifi_mac.clone(),
        supervised: q.is_supervised,
        shared_ipad: q.is_multi_user,
        itunes_store_account_hash: q.itunes_store_account_hash.clone(),
        capacity_mb: megabytes(q.device_capacity),
        available_capacity_mb: megabytes(q.available_device_capacity),
    }
}

/// The ErrorChain as JSON, with the rejection reason when the command has one.
fn error_chain_json(chain: &ErrorChain, report: &CommandReport) -> serde_json::Value {
    let items: Vec<serde_json::Value> = chain
        .iter()
        .map(|item| {
            json!({
                "ErrorCode": item.code,
                "ErrorDomain": item.domain,
                "LocalizedDescription": item.localized_description,
                "USEnglishDescription": item.us_english_description,
            })
        })
        .collect();
    match report.payload.get("RejectionReason") {
        Some(reason) => json!({ "ErrorChain": items, "RejectionReason": plist_json(reason) }),
        None => json!({ "ErrorChain": items }),
    }
}

fn list_json(value: Option<&Value>) -> serde_json::Value {
    match value {
        Some(Value::Array(items)) => serde_json::Value::Array(items.iter().map(plist_json).collect()),
        _ => serde_json::Value::Array(Vec::new()),
    }
}

/// A plist value as JSON; data becomes base64 and dates RFC 3339.
pub fn plist_json(value: &Value) -> serde_json::Value {
    use base64::Engine as _;
    match value {
        Value::Dictionary(d) => serde_json::Value::Object(d.iter().map(|(k, v)| (k.clone(), plist_json(v))).collect()),
        Value::Array(items) => serde_json::Value::Array(items.iter().map(plist_json).collect()),
        Value::String(s) => json!(s),
        Value::Boolean(b) => json!(b),
        Value::Integer(i) => i
            .as_signed()
            .map(|n| json!(n))
            .or_else(|| i.as_unsigned().map(|n| json!(n)))
            .unwrap_or(serde_json::Value::Null),
        Value::Real(r) => json!(r),
        Value::Data(bytes) => json!(base64::engine::general_purpose::STANDARD.encode(bytes)),
        Value::Date(date) => json!(date.to_xml_format()),
        _ => serde_json::Value::Null,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> CommandReport {
        let path = format!("{}/../apple-mdm/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
        CommandReport::from_xml(&std::fs::read(path).unwrap()).unwrap()
    }

    #[test]
    fn device_information_becomes_device_facts() {
        let effects = effects_of("DeviceInformation", &fixture("deviceinformation-ios11-ipad.plist")).unwrap();
        assert_eq!(effects.outcome, JobOutcome::Succeeded);
        let facts = effects.facts.unwrap();
        assert!(facts.serial_number.is_some());
        assert!(facts.os_version.is_some());
        assert_eq!(facts.platform, Some(crate::org::Platform::IpadOs));
    }

    #[test]
    fn app_lists_become_inventory() {
        let installed = effects_of(
            "InstalledApplicationList",
            &fixture("installedapplicationlist-ios11.plist"),
        )
        .unwrap();
        let (kind, items) = installed.inventory.unwrap();
        assert_eq!(kind, InventoryKind::InstalledApps);
        assert!(!items.as_array().unwrap().is_empty());
        assert!(items[0]["Identifier"].is_string());

        let managed = effects_of(
            "ManagedApplicationList",
            &fixture("managedapplicationlist-managed-ios12.plist"),
        )
        .unwrap();
        let (kind, items) = managed.inventory.unwrap();
        assert_eq!(kind, InventoryKind::ManagedApps);
        assert_eq!(items[0]["Status"], "Managed");
        assert!(items[0]["Identifier"].is_string());
    }

    #[test]
    fn an_install_already_in_flight_is_verified_not_failed() {
        let report = fixture("installapplication-error-dm1407-already-prompting-ios11.plist");
        let effects = effects_of("InstallApplication", &report).unwrap();
        assert_eq!(effects.outcome, JobOutcome::Verifying { identifier: None });
        // The same chain for another command is an ordinary device error.
        let other = effects_of("InstallMedia", &report).unwrap();
        assert!(matches!(other.outcome, JobOutcome::DeviceError { .. }));
    }

    #[test]
    fn errors_keep_the_chain_and_a_wrong_payload_is_refused() {
        let error = effects_of(
            "ProfileList",
            &fixture("result-error-12013-profile-not-managed-ios11.plist"),
        )
        .unwrap();
        let JobOutcome::DeviceError {
            error_chain: Some(chain),
        } = error.outcome
        else {
            panic!("expected a device error");
        };
        assert_eq!(chain["ErrorChain"][0]["ErrorCode"], 12013);

        let format = effects_of("X", &fixture("result-commandformaterror-ios11.plist")).unwrap();
        assert_eq!(format.outcome, JobOutcome::DeviceError { error_chain: None });
    }
}
