//! The passes that deploy without an admin (SPEC D5):
//! - auto-install: each enabled rule's group is looked at for enrolled,
//!   inventoried devices it has not been applied to (new enrollments and
//!   devices that joined the group), and one deployment takes them all;
//! - automatic updates: managed apps whose store version moved are updated
//!   on at most `batch` devices per pass, so a fleet is not hit at once.
//!
//! Both are reconciliations, not reactions to events: a crash, a missed
//! wake-up or a second server changes nothing, because the claims written
//! with each deployment say what has been done.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use super::rules::{AppRule, DeploymentClaims, DeploymentOrigin};
use super::run::Registered;
use super::{DeployItem, DeployOptions, DeploymentRequest, DeviceSelection, LicenseMode, TargetOs};
use crate::DomainError;
use crate::auth::Actor;
use crate::ids::{AccountId, DeviceId};
use crate::org::Platform;
use crate::org::search::GroupScope;
use crate::service::Services;
use crate::vpp::{LicenseTarget, TokenStatus};

/// Devices one auto-install deployment takes at most.
const RULE_BATCH: i64 = 1_000;
/// How long a wake-up waits for more devices before the pass.
const GATHER: Duration = Duration::from_secs(5);

/// How automatic updates are spread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AutoUpdateSettings {
    /// Time between passes.
    pub every: Duration,
    /// Devices updated per pass and account, at most.
    pub batch: usize,
}

impl Default for AutoUpdateSettings {
    fn default() -> Self {
        Self {
            every: Duration::from_secs(15 * 60),
            batch: 500,
        }
    }
}

/// Accounts whose last automatic-update pass found nothing, with the store
/// versions it looked at and when.
#[derive(Default)]
pub struct IdleUpdates(std::sync::Mutex<HashMap<AccountId, (u64, tokio::time::Instant)>>);

/// A day: even an idle account's devices are looked at again.
const IDLE_RECHECK: Duration = Duration::from_secs(24 * 3600);

impl IdleUpdates {
    fn is_idle(&self, account: AccountId, versions: u64) -> bool {
        let idle = self.0.lock().expect("idle updates");
        idle.get(&account)
            .is_some_and(|(seen, at)| *seen == versions && at.elapsed() < IDLE_RECHECK)
    }

    fn record(&self, account: AccountId, versions: u64, found_nothing: bool) {
        let mut idle = self.0.lock().expect("idle updates");
        if found_nothing {
            idle.insert(account, (versions, tokio::time::Instant::now()));
        } else {
            idle.remove(&account);
        }
    }
}

fn versions_fingerprint(outdated: &[(crate::ids::VppTokenId, String, String, String)]) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    outdated.hash(&mut hasher);
    hasher.finish()
}

/// What one pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PassOutcome {
    pub deployments: usize,
    pub devices: usize,
}

impl PassOutcome {
    fn add(&mut self, devices: usize, registered: &Registered) {
        self.devices += devices;
        if matches!(registered, Registered::Deployment(_)) {
            self.deployments += 1;
        }
    }
}

impl Services {
    /// One auto-install pass over every enabled rule.
    pub async fn run_auto_install_once(&self) -> Result<PassOutcome, DomainError> {
        let mut outcome = PassOutcome::default();
        for rule in self.store.enabled_auto_install_rules().await? {
            match self.apply_rule(&rule).await {
                Ok(Some((devices, registered))) => outcome.add(devices, &registered),
                Ok(None) => {}
                Err(e) => tracing::warn!(rule = %rule.id, "auto-install: {}", e.message(crate::Lang::En)),
            }
        }
        Ok(outcome)
    }

    async fn apply_rule(&self, rule: &AppRule) -> Result<Option<(usize, Registered)>, DomainError> {
        let actor = Actor::system(rule.account_id);
        let input = &rule.input;
        let scope = self
            .group_scope(&actor, input.group_id, input.include_subgroups)
            .await?;
        let key = rule.claim_key();
        let candidates = self
            .store
            .rule_candidates(rule.account_id, &scope, &key, RULE_BATCH)
            .await?;
        if candidates.is_empty() {
            return Ok(None);
        }
        let request = DeploymentRequest {
            name: None,
            items: vec![DeployItem {
                token_id: input.token_id,
                adam_id: input.adam_id.clone(),
            }],
            target_os: input.target_os,
            license_mode: LicenseMode::Auto,
            devices: DeviceSelection {
                group_id: input.group_id,
                include_subgroups: input.include_subgroups,
                device_ids: candidates.clone(),
                ..DeviceSelection::default()
            },
            options: input.options.clone(),
            run_at: None,
        };
        let claims = DeploymentClaims {
            key,
            devices: candidates,
            renew_finished: false,
        };
        let origin = DeploymentOrigin::AutoInstall { rule_id: rule.id };
        let registered = self
            .register_deployment(&actor, &request, Some(origin), Some(&claims))
            .await?;
        tracing::info!(rule = %rule.id, devices = claims.devices.len(), "auto-install applied");
        Ok(Some((claims.devices.len(), registered)))
    }

    /// One automatic-update pass over every account.
    pub async fn run_auto_updates_once(&self, batch: usize) -> Result<PassOutcome, DomainError> {
        let mut outcome = PassOutcome::default();
        for account in self.store.list_accounts().await? {
            if let Err(e) = self.update_account_apps(account.id, batch, &mut outcome).await {
                tracing::warn!(account = %account.id, "automatic updates: {}", e.message(crate::Lang::En));
            }
        }
        Ok(outcome)
    }

    async fn update_account_apps(
        &self,
        account: AccountId,
        batch: usize,
        outcome: &mut PassOutcome,
    ) -> Result<(), DomainError> {
        let actor = Actor::system(account);
        let opted_out = self.store.auto_update_opt_outs(account).await?;
        let mut outdated = Vec::new();
        for token in self.store.list_vpp_tokens(account).await? {
            if token.token.status != TokenStatus::Active {
                continue;
            }
            for asset in self.store.list_vpp_assets(account, token.token.id).await? {
                let Some(meta) = &asset.metadata else { continue };
                let (Some(bundle), Some(version)) = (&meta.bundle_id, &meta.version) else {
                    continue;
                };
                if asset.product_type.eq_ignore_ascii_case("book")
                    || opted_out.contains(&(token.token.id, asset.adam_id.clone()))
                {
                    continue;
                }
                outdated.push((token.token.id, asset.adam_id.clone(), bundle.clone(), version.clone()));
            }
        }
        if outdated.is_empty() {
            return Ok(());
        }
        // Reading every device's app lists is the cost of a pass. When the
        // last one found nothing to update and the store versions have not
        // moved since, nothing can have changed: devices only get these apps
        // (at the store's version) from haishin. Looked at again daily anyway.
        let versions = versions_fingerprint(&outdated);
        if self.mdm.auto_update_idle.is_idle(account, versions) {
            return Ok(());
        }
        let found_before = outcome.devices;
        let devices = self.store.export_devices(account, &GroupScope::All).await?;
        let enrolled: Vec<_> = devices
            .into_iter()
            .filter(|d| d.enrollment_state == crate::org::EnrollmentState::Enrolled)
            .collect();
        // Parsed once per pass, not once per app.
        let inventories = self.inventories(&actor, &enrolled).await?;
        let platform_of: HashMap<DeviceId, Option<Platform>> = enrolled.iter().map(|d| (d.id, d.platform)).collect();
        let serial_of: HashMap<DeviceId, String> = enrolled
            .iter()
            .filter_map(|d| Some((d.id, d.serial_number.clone()?)))
            .collect();
        let mut budget = batch;
        for (token_id, adam_id, bundle, version) in outdated {
            if budget == 0 {
                break;
            }
            let key = format!("update:{token_id}:{adam_id}:{version}");
            let tried = self.store.claimed_devices(account, &key).await?;
            let busy = self.store.devices_with_unfinished(account, &adam_id).await?;
            // Only where the serial number holds the license: an automatic
            // update never spends a license. Apps licensed to an Apple ID
            // are updated by the App Store with it (seed 000).
            let mut licensed = HashSet::new();
            let item = DeployItem {
                token_id,
                adam_id: adam_id.clone(),
            };
            self.add_licenses_of(account, &item, &mut licensed).await?;
            let mut by_os: HashMap<TargetOs, Vec<DeviceId>> = HashMap::new();
            for (device, inventory) in &inventories {
                let holds_license = serial_of
                    .get(device)
                    .is_some_and(|serial| licensed.contains(&(adam_id.clone(), LicenseTarget::Serial(serial.clone()))));
                if tried.contains(device) || busy.contains(device) || !holds_license {
                    continue;
                }
                let apps = &inventory.apps;
                let managed = apps.managed.get(&bundle).is_some_and(|s| s == "Managed");
                let older = apps
                    .installed
                    .get(&bundle)
                    .is_some_and(|installed| crate::version::lt(installed, &version) == Some(true));
                if managed && older {
                    let os = match platform_of.get(device).copied().flatten() {
                        Some(Platform::MacOs) => TargetOs::Macos,
                        _ => TargetOs::Ios,
                    };
                    by_os.entry(os).or_default().push(*device);
                }
            }
            for (os, mut devices) in by_os {
                if budget == 0 {
                    break;
                }
                devices.sort();
                devices.truncate(budget);
                budget -= devices.len();
                let registered = self
                    .update_devices(&actor, token_id, &adam_id, &version, os, &key, devices.clone())
                    .await?;
                outcome.add(devices.len(), &registered);
            }
        }
        self.mdm
            .auto_update_idle
            .record(account, versions, outcome.devices == found_before);
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    async fn update_devices(
        &self,
        actor: &Actor,
        token_id: crate::ids::VppTokenId,
        adam_id: &str,
        version: &str,
        target_os: TargetOs,
        key: &str,
        devices: Vec<DeviceId>,
    ) -> Result<Registered, DomainError> {
        let request = DeploymentRequest {
            name: None,
            items: vec![DeployItem {
                token_id,
                adam_id: adam_id.to_owned(),
            }],
            target_os,
            license_mode: LicenseMode::Auto,
            devices: DeviceSelection {
                include_subgroups: true,
                device_ids: devices.clone(),
                ..DeviceSelection::default()
            },
            options: DeployOptions::default(),
            run_at: None,
        };
        let claims = DeploymentClaims {
            key: key.to_owned(),
            devices,
            renew_finished: false,
        };
        let origin = DeploymentOrigin::AutoUpdate {
            version: version.to_owned(),
        };
        tracing::info!(%adam_id, %version, devices = claims.devices.len(), "automatic update");
        self.register_deployment(actor, &request, Some(origin), Some(&claims))
            .await
    }

    /// Runs both passes until `stop` resolves: auto-install every `every`
    /// and when woken (a device enrolled, joined a group, or a rule
    /// changed), automatic updates as their settings say.
    pub async fn run_app_rules(
        &self,
        every: Duration,
        updates: AutoUpdateSettings,
        stop: impl std::future::Future<Output = ()>,
    ) {
        tokio::pin!(stop);
        let mut next_update = tokio::time::Instant::now();
        loop {
            if let Err(e) = self.run_auto_install_once().await {
                tracing::warn!("auto-install: {}", e.message(crate::Lang::En));
            }
            if let Err(e) = self.finish_device_deletions().await {
                tracing::warn!("device deletions: {}", e.message(crate::Lang::En));
            }
            if updates.batch > 0 && tokio::time::Instant::now() >= next_update {
                next_update = tokio::time::Instant::now() + updates.every;
                if let Err(e) = self.run_auto_updates_once(updates.batch).await {
                    tracing::warn!("automatic updates: {}", e.message(crate::Lang::En));
                }
            }
            let wait = every.min(next_update.saturating_duration_since(tokio::time::Instant::now()));
            tokio::select! {
                _ = &mut stop => return,
                _ = self.mdm.rules_wake.notified() => {
                    // Devices enrolling together arrive one by one: gather
                    // them into one deployment (and one Apple call) rather
                    // than one each.
                    tokio::select! {
                        _ = &mut stop => return,
                        _ = tokio::time::sleep(every.min(GATHER)) => {}
                    }
                }
                _ = tokio::time::sleep(wait) => {}
            }
        }
    }
}
