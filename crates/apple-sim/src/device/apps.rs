//! App commands: InstallApplication, RemoveApplication and the two app lists, with the
//! decisions and error chains the reference attributes to real devices (§7.1-§7.5, §8.2,
//! §10).

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use apple_mdm::PlistRecord;
use apple_mdm::command::{
    AppSource, InstallApplication, InstalledApplicationList, ManagedApplicationList, PurchaseMethod, RemoveApplication,
};
use apple_mdm::error_chain::domain;
use apple_mdm::report::{
    InstallApplicationResult, InstallRejectionReason, InstalledApplication, InstalledApplicationListResult,
    ManagedAppStatus, ManagedApplication, ManagedApplicationListResult,
};
use apple_mdm::{Dictionary, ErrorChainItem};

use super::behaviour::{DeviceKind, LicenseQuery, LoggedInInstallPolicy};
use super::commands::{Context, Reply};
use super::state::{AppRecord, DeviceState};
use crate::templates;

pub(crate) fn mcmdm(code: i64, text: impl Into<String>) -> ErrorChainItem {
    ErrorChainItem::new(domain::MCMDM, code).with_description(text)
}

/// The app an adamId stands for; the sim has no store catalogue, so its facts are made
/// from the id, the same every time.
pub(crate) fn store_app(store_id: u64) -> AppRecord {
    let short_version = format!("{}.{}.{}", 1 + store_id % 9, store_id % 10, store_id % 7);
    AppRecord {
        bundle_id: format!("com.simvendor.app{store_id}"),
        store_id: Some(store_id),
        name: format!("Sim App {store_id}"),
        version: format!("{short_version}.{}", store_id % 100),
        short_version,
        bundle_size: 20_000_000 + (store_id % 180) * 1_000_000,
        external_version: Some(800_000_000 + store_id % 100_000_000),
        device_based_vpp: false,
        management_flags: 0,
        has_configuration: false,
        managed: false,
        listed: false,
        installed: false,
        status: ManagedAppStatus::Unknown,
        timeline: VecDeque::new(),
        waiting_for_logout: false,
        installs_unmanaged: false,
    }
}

fn bundle_app(bundle_id: &str) -> AppRecord {
    let name = bundle_id.rsplit('.').next().unwrap_or(bundle_id).to_owned();
    AppRecord {
        bundle_id: bundle_id.to_owned(),
        store_id: None,
        name,
        external_version: None,
        ..store_app(bundle_id.bytes().map(u64::from).sum())
    }
}

/// Enterprise apps get their bundle id from the manifest; the sim derives it from the URL.
fn manifest_app(url: &str) -> AppRecord {
    let stem = url
        .rsplit('/')
        .next()
        .unwrap_or(url)
        .split(['.', '?'])
        .next()
        .unwrap_or("app")
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect::<String>();
    bundle_app(&format!(
        "com.enterprise.{}",
        if stem.is_empty() { "app" } else { &stem }
    ))
}

/// The app as the device's App Store lists it, or made up from its id.
pub(crate) fn listed_app(store_id: u64, store: &super::behaviour::StoreCatalogue) -> AppRecord {
    let mut app = store_app(store_id);
    if let Some(listing) = store.lookup(store_id) {
        app.bundle_id = listing.bundle_id;
        app.name = listing.name;
        app.short_version = listing.version.clone();
        app.version = listing.version;
    }
    app
}

/// An App Store app the user installed before MDM took an interest.
pub(crate) fn user_installed(store_id: u64, store: &super::behaviour::StoreCatalogue) -> AppRecord {
    AppRecord {
        installed: true,
        ..listed_app(store_id, store)
    }
}

pub(crate) fn install(state: &mut DeviceState, ctx: &Context<'_>, request: &InstallApplication) -> Reply {
    let reply = decide_install(state, ctx, request);
    match reply {
        // §7.1: macOS gives no reason of its own, always `Other`.
        Reply::Error { chain, mut payload } if ctx.hardware.kind == DeviceKind::Mac => {
            if payload.contains_key("RejectionReason") {
                let other = InstallApplicationResult {
                    rejection_reason: Some(InstallRejectionReason::Unspecified),
                    ..InstallApplicationResult::default()
                };
                payload.extend(other.to_dictionary());
            }
            Reply::Error { chain, payload }
        }
        reply => reply,
    }
}

fn decide_install(state: &mut DeviceState, ctx: &Context<'_>, request: &InstallApplication) -> Reply {
    let b = ctx.behaviour;
    let purchase = request
        .options
        .as_ref()
        .and_then(|o| o.purchase_method)
        .unwrap_or(PurchaseMethod::FreeOrRedemptionCode);
    let device_licensed = purchase == PurchaseMethod::LicenseAssignment;
    let from_store = !matches!(request.source, AppSource::ManifestUrl(_));
    let template = match &request.source {
        AppSource::ITunesStoreId(id) => listed_app(*id, &b.store),
        AppSource::BundleId(id) => bundle_app(id),
        AppSource::ManifestUrl(url) => {
            if !url.starts_with("https://") {
                return error(mcmdm(12034, "The URL is not HTTPS."), None);
            }
            manifest_app(url)
        }
    };
    let user_logged_in = b.channel_user().is_some();
    // §10 step 3: a condition the device waits out, answered before any error.
    if user_logged_in && b.while_user_logged_in == LoggedInInstallPolicy::NotNow {
        return Reply::NotNow;
    }
    // §9.2: only device licenses and in-house apps on a Shared iPad. The reference quotes
    // no ErrorChain for this refusal; 12035 ("app cannot be purchased") is the sim's pick.
    if b.shared_ipad && from_store && !device_licensed {
        return error(
            mcmdm(12035, format!("The app “{}” cannot be purchased.", template.name)),
            Some(InstallRejectionReason::PurchaseMethodNotSupportedInMultiUser),
        );
    }
    // §10 step 5 / §8.2 12031: the restriction blocks store installs unless device-licensed.
    if b.app_store_disabled && from_store && !device_licensed {
        return error(
            mcmdm(12031, "The App Store is disabled."),
            Some(InstallRejectionReason::AppStoreDisabled),
        );
    }
    let bundle_id = template.bundle_id.clone();
    if let Some(existing) = state.apps.get(&bundle_id) {
        let takeover = request.change_management_state.is_some();
        match existing.status.clone() {
            // §8.2 DeviceManagement.error 1407 (captured) and 12026 (device text).
            ManagedAppStatus::Prompting | ManagedAppStatus::PromptingForManagement if existing.listed => {
                return error(templates::get().already_prompting.clone(), None);
            }
            status if existing.listed && status.is_in_progress() => {
                return error(
                    mcmdm(
                        12026,
                        format!("The app “{}” is already scheduled for management.", existing.name),
                    ),
                    Some(InstallRejectionReason::AppAlreadyQueued),
                );
            }
            _ if !existing.managed && existing.installed && !takeover => {
                return error(
                    mcmdm(12025, format!("The app “{}” is already installed.", existing.name)),
                    Some(InstallRejectionReason::AppAlreadyInstalled),
                );
            }
            _ => {}
        }
    }
    // §10 step 8: licenses. Device-based needs the serial assigned; otherwise the signed-in
    // Apple Account owns the app, so without one there is nothing to install it with.
    if from_store && !device_licensed && !b.signed_in_to_app_store {
        return error(mcmdm(12040, "Please log in to your iTunes Store account."), None);
    }
    if let AppSource::ITunesStoreId(store_id) = request.source {
        let hash = ctx.hardware.itunes_store_account_hash.as_str();
        let query = LicenseQuery {
            serial_number: &ctx.hardware.serial_number,
            apple_account_hash: b.signed_in_to_app_store.then_some(hash),
            itunes_store_id: store_id,
            device_based: device_licensed,
        };
        // §7.1: a Mac acknowledges once the request is valid and finds the
        // missing license only when it downloads; the install then ends
        // `Failed` in its managed app list, with no error reported.
        if !b.licenses.allows(&query) && ctx.hardware.kind == DeviceKind::Mac {
            let state_now = schedule(state, ctx, request, template, device_licensed, true);
            return acknowledged(bundle_id, state_now);
        }
        if !b.licenses.allows(&query) {
            return error_chain(
                vec![
                    mcmdm(
                        12064,
                        format!("Could not retrieve license for the app with iTunes Store ID {store_id}."),
                    ),
                    ErrorChainItem::new(domain::DEVICE_MANAGEMENT, 2605)
                        .with_description(format!("No license was found for app “{}”.", template.name)),
                ],
                None,
            );
        }
    }
    let state_now = schedule(state, ctx, request, template, device_licensed, false);
    acknowledged(bundle_id, state_now)
}

fn acknowledged(bundle_id: String, state: ManagedAppStatus) -> Reply {
    Reply::Acknowledged(
        InstallApplicationResult {
            identifier: Some(bundle_id),
            state: Some(state),
            ..InstallApplicationResult::default()
        }
        .to_dictionary(),
    )
}

/// Starts the install, update or takeover and returns the `State` to acknowledge with.
fn schedule(
    state: &mut DeviceState,
    ctx: &Context<'_>,
    request: &InstallApplication,
    template: AppRecord,
    device_licensed: bool,
    fails: bool,
) -> ManagedAppStatus {
    let b = ctx.behaviour;
    let (prompt, install) = (b.prompt_duration, b.install_duration);
    // Lack of space has no documented ErrorChain: the install is acknowledged and ends
    // in the transient `Failed` status of ManagedApplicationList (§7.4).
    let finish = if b.storage_full || fails {
        ManagedAppStatus::Failed
    } else {
        ManagedAppStatus::Managed
    };
    let (short_version, version) = (template.short_version.clone(), template.version.clone());
    let app = state.apps.entry(template.bundle_id.clone()).or_insert(template);
    // An install of a listed app brings the store's current version, also
    // when it updates one already there (§7.1); taking management of the
    // user's copy leaves its version.
    let takeover = app.installed && !app.managed;
    if app.store_id.is_some() && !takeover {
        app.short_version = short_version;
        app.version = version;
    }
    app.listed = true;
    app.device_based_vpp = device_licensed;
    app.management_flags = request.management_flags.map_or(0, |f| f.0);
    app.has_configuration = request.configuration.is_some();
    app.waiting_for_logout = false;
    app.installs_unmanaged = ctx.hardware.kind == DeviceKind::Mac && request.install_as_managed != Some(true);
    let now = ctx.now;
    let steps: Vec<(Duration, ManagedAppStatus)> = if app.managed && app.installed {
        // §7.1: installing a managed app again updates it, without a prompt when supervised.
        vec![(Duration::ZERO, ManagedAppStatus::Updating), (install, finish)]
    } else if !app.managed && app.installed {
        // ChangeManagementState=Managed: unsupervised devices ask the user (§7.1).
        app.managed = true;
        if b.supervised {
            vec![(Duration::ZERO, ManagedAppStatus::Managed)]
        } else if b.cancels_install_prompts {
            vec![
                (Duration::ZERO, ManagedAppStatus::PromptingForManagement),
                (prompt, ManagedAppStatus::ManagementRejected),
            ]
        } else {
            vec![
                (Duration::ZERO, ManagedAppStatus::PromptingForManagement),
                (prompt, ManagedAppStatus::Managed),
            ]
        }
    } else {
        app.managed = true;
        app.installed = false;
        let waits = b.channel_user().is_some() && b.while_user_logged_in == LoggedInInstallPolicy::WaitForLogout;
        if waits {
            app.waiting_for_logout = true;
            vec![(Duration::ZERO, ManagedAppStatus::Installing)]
        } else if b.supervised {
            vec![(Duration::ZERO, ManagedAppStatus::Installing), (install, finish)]
        } else if b.cancels_install_prompts {
            vec![
                (Duration::ZERO, ManagedAppStatus::Prompting),
                (prompt, ManagedAppStatus::UserRejected),
            ]
        } else {
            vec![
                (Duration::ZERO, ManagedAppStatus::Prompting),
                (prompt, ManagedAppStatus::Installing),
                (install, finish),
            ]
        }
    };
    app.plan(now, &steps);
    let first = steps[0].1.clone();
    state.advance(now);
    first
}

/// The Shared iPad user logged out: installs held for it go ahead.
pub(crate) fn resume_after_logout(state: &mut DeviceState, install: Duration, storage_full: bool) {
    let now = Instant::now();
    for app in state.apps.values_mut().filter(|app| app.waiting_for_logout) {
        app.waiting_for_logout = false;
        let finish = if storage_full {
            ManagedAppStatus::Failed
        } else {
            ManagedAppStatus::Managed
        };
        app.plan(now, &[(install, finish)]);
    }
}

pub(crate) fn remove(state: &mut DeviceState, request: &RemoveApplication) -> Reply {
    let Some(app) = state.apps.get(&request.identifier) else {
        return not_managed(&request.identifier);
    };
    if !app.managed || !app.listed {
        return not_managed(&app.name);
    }
    if app.status.is_in_progress() {
        return error(mcmdm(12036, "The app cannot be removed in its current state."), None);
    }
    state.apps.remove(&request.identifier);
    Reply::Acknowledged(Dictionary::new())
}

fn not_managed(name: &str) -> Reply {
    error(mcmdm(12029, format!("The app “{name}” is not managed.")), None)
}

pub(crate) fn managed_list(state: &mut DeviceState, request: &ManagedApplicationList) -> Reply {
    let wanted = |id: &str| {
        request
            .identifiers
            .as_ref()
            .is_none_or(|ids| ids.iter().any(|i| i == id))
    };
    let template = &templates::get().managed_app;
    let mut result = ManagedApplicationListResult::default();
    let mut reported_once = Vec::new();
    for app in state.apps.values().filter(|app| app.listed && wanted(&app.bundle_id)) {
        let mut entry = ManagedApplication {
            status: app.status.clone(),
            management_flags: Some(apple_mdm::command::ManagementFlags(app.management_flags)),
            has_configuration: Some(app.has_configuration),
            is_validated: Some(app.status == ManagedAppStatus::Managed),
            external_version_identifier: app.external_version.filter(|_| app.status != ManagedAppStatus::Failed),
            ..template.clone()
        };
        entry.has_feedback = Some(false);
        result.applications.insert(app.bundle_id.clone(), entry);
        if app.status.is_transient() {
            reported_once.push(app.bundle_id.clone());
        }
    }
    // §7.4: transient statuses disappear from the next query.
    for bundle_id in reported_once {
        match state.apps.get_mut(&bundle_id) {
            // A failed update leaves the previous version installed and managed.
            Some(app) if app.installed && app.managed => app.status = ManagedAppStatus::Managed,
            Some(app) if app.installed => app.listed = false,
            _ => {
                state.apps.remove(&bundle_id);
            }
        }
    }
    Reply::Acknowledged(result.to_dictionary())
}

pub(crate) fn installed_list(state: &DeviceState, request: &InstalledApplicationList) -> Reply {
    let template = &templates::get().installed_app;
    let wanted = |id: &str| {
        request
            .identifiers
            .as_ref()
            .is_none_or(|ids| ids.iter().any(|i| i == id))
    };
    let managed_only = request.managed_apps_only.unwrap_or(false);
    let mut result = InstalledApplicationListResult::default();
    for app in state.apps.values() {
        let installing = matches!(app.status, ManagedAppStatus::Installing) && app.listed && !app.installed;
        if !(app.installed || installing) || !wanted(&app.bundle_id) || (managed_only && !app.managed) {
            continue;
        }
        let entry = InstalledApplication {
            identifier: app.bundle_id.clone(),
            name: Some(app.name.clone()),
            version: Some(app.version.clone()),
            short_version: Some(app.short_version.clone()),
            bundle_size: Some(if installing { 0 } else { app.bundle_size }),
            dynamic_size: Some(if installing { 0 } else { app.bundle_size / 500 }),
            installing: Some(installing),
            is_validated: Some(!installing),
            external_version_identifier: app.external_version,
            app_store_vendable: Some(app.store_id.is_some() && !app.device_based_vpp),
            device_based_vpp: Some(app.device_based_vpp),
            has_update_available: Some(false),
            ..template.clone()
        };
        result.applications.push(match &request.items {
            Some(items) => only_items(entry, items),
            None => entry,
        });
    }
    Reply::Acknowledged(result.to_dictionary())
}

/// `Items` (iOS 14+) limits the keys; `Identifier` is always included (§7.5).
fn only_items(entry: InstalledApplication, items: &[String]) -> InstalledApplication {
    let full = entry.to_dictionary();
    let mut kept = Dictionary::new();
    for (key, value) in full {
        if key == "Identifier" || items.contains(&key) {
            kept.insert(key, value);
        }
    }
    InstalledApplication::from_dictionary(kept).unwrap_or(entry)
}

/// The user deleted a managed app from the home screen.
pub(crate) fn user_deletes(state: &mut DeviceState, bundle_id: &str) -> bool {
    match state.apps.get_mut(bundle_id) {
        Some(app) if app.managed && app.installed => {
            app.installed = false;
            app.status = ManagedAppStatus::ManagedButUninstalled;
            app.timeline.clear();
            true
        }
        Some(app) if app.installed => {
            state.apps.remove(bundle_id);
            true
        }
        _ => false,
    }
}

fn error(item: ErrorChainItem, reason: Option<InstallRejectionReason>) -> Reply {
    error_chain(vec![item], reason)
}

fn error_chain(chain: Vec<ErrorChainItem>, reason: Option<InstallRejectionReason>) -> Reply {
    let payload = InstallApplicationResult {
        rejection_reason: reason,
        ..InstallApplicationResult::default()
    }
    .to_dictionary();
    Reply::Error { chain, payload }
}
