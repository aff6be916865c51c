//! DeviceInformation and the Shared iPad user commands (reference §7.9, §7.12).

use apple_mdm::command::DeviceInformation;
use apple_mdm::enrollment::AccessRights;
use apple_mdm::report::{DeviceInformationResult, QueryResponses, UserAccount, UserListResult};
use apple_mdm::{PlistRecord, Udid};

use super::behaviour::DeviceKind;
use super::commands::{Context, Reply};
use crate::templates;

/// Every OS since 13.4 reports 32 (§7.9).
const MAXIMUM_RESIDENT_USERS: u64 = 32;
/// Free space on a device whose storage is full, in GB.
const FULL_STORAGE_GB: f64 = 0.05;

/// Answers the queries the device can and may answer; the rest are silently left out
/// (§7.9). Never NotNow.
pub(crate) fn device_information(ctx: &Context<'_>, request: &DeviceInformation) -> Reply {
    let hw = ctx.hardware;
    let b = ctx.behaviour;
    let template = &templates::get().device_information.query_responses;
    let rights = ctx.rights;
    let mut all = QueryResponses {
        udid: Some(Udid::from(hw.udid.as_str())),
        awaiting_configuration: Some(false),
        ..QueryResponses::default()
    };
    if rights.contains(AccessRights::QUERY_DEVICE_INFORMATION) {
        let available = if b.storage_full {
            FULL_STORAGE_GB
        } else {
            (hw.capacity_gb * 0.57 * 100.0).round() / 100.0
        };
        all.serial_number = Some(hw.serial_number.clone());
        all.device_name = Some(hw.device_name.clone());
        all.os_version = Some(hw.os_version.clone());
        all.build_version = Some(hw.build_version.clone());
        all.product_name = Some(hw.product_name.clone());
        all.model_name = Some(hw.model_name.clone());
        all.model = Some(hw.model.clone());
        all.device_capacity = Some(hw.capacity_gb);
        all.available_device_capacity = Some(available);
        all.is_supervised = Some(b.supervised);
        all.is_multi_user = Some(b.shared_ipad);
        all.is_activation_lock_enabled = Some(b.activation_lock);
        all.time_zone = Some("Asia/Tokyo".to_owned());
        if b.shared_ipad {
            all.maximum_resident_users = Some(MAXIMUM_RESIDENT_USERS);
        }
    }
    if rights.contains(AccessRights::QUERY_NETWORK_INFORMATION) {
        all.wifi_mac = Some(hw.wifi_mac.clone());
        all.bluetooth_mac = Some(hw.bluetooth_mac.clone());
        all.imei = hw.imei.clone();
        all.is_roaming = template.is_roaming;
        all.data_roaming_enabled = template.data_roaming_enabled;
        all.voice_roaming_enabled = template.voice_roaming_enabled;
        // The captured iPad has no SIM and reports empty carrier codes; a simulated
        // iPhone reports a Japanese carrier.
        let (mcc, mnc) = match hw.kind {
            DeviceKind::IPhone => (Some("440".to_owned()), Some("10".to_owned())),
            DeviceKind::IPad => (template.subscriber_mcc.clone(), template.subscriber_mnc.clone()),
            DeviceKind::Mac => (None, None),
        };
        all.subscriber_mcc = mcc;
        all.subscriber_mnc = mnc;
    }
    if rights.contains(AccessRights::APP_MANAGEMENT) {
        all.itunes_store_account_is_active = Some(b.signed_in_to_app_store);
        if b.signed_in_to_app_store {
            all.itunes_store_account_hash = Some(hw.itunes_store_account_hash.clone());
        }
    }
    let full = all.to_dictionary();
    let mut answered = apple_mdm::Dictionary::new();
    for query in &request.queries {
        if let Some(value) = full.get(query) {
            answered.insert(query.clone(), value.clone());
        }
    }
    let responses = QueryResponses::from_dictionary(answered).unwrap_or_default();
    Reply::Acknowledged(
        DeviceInformationResult {
            query_responses: responses,
            ..DeviceInformationResult::default()
        }
        .to_dictionary(),
    )
}

pub(crate) fn user_list(ctx: &Context<'_>) -> Reply {
    let users = ctx
        .behaviour
        .logged_in_user
        .iter()
        .map(|user| UserAccount {
            user_name: user.short_name.clone(),
            is_logged_in: Some(true),
            has_data_to_sync: Some(false),
            ..UserAccount::default()
        })
        .collect();
    Reply::Acknowledged(
        UserListResult {
            users,
            ..UserListResult::default()
        }
        .to_dictionary(),
    )
}
