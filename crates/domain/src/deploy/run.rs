//! Registering a deployment: validation, the plan, its jobs and commands.

use std::collections::{BTreeSet, HashMap, HashSet};

use apple_mdm::command::{AppAttributes, InstallApplication, InstallMedia, ManagementFlags};

use super::plan::{Action, DeviceApps, LicenseNeed, PlanInput, PlannedInstall, license_failure_detail, plan};
use super::rules::{DeploymentClaims, DeploymentOrigin};
use super::select::install_status_matches;
use super::{
    DeployItem, Deployment, DeploymentPreview, DeploymentProgress, DeploymentRequest, DeploymentStatus,
    DeploymentSummary, LicenseMode, StatusCount, TargetOs,
};
use crate::DomainError;
use crate::auth::Actor;
use crate::error::Entity;
use crate::ids::{DeploymentId, DeviceId, UserId, VppTokenId};
use crate::jobs::{JobContent, JobHold, JobSelection, JobStatus, NewJob};
use crate::mdm::commands::job_for;
use crate::org::Device;
use crate::service::Services;
use crate::time_util::{Timestamp, millis_to_rfc3339};
use crate::vpp::VppAsset;
use crate::vpp::apple::require_writable;

const DAY_MILLIS: i64 = 86_400_000;

/// What registering came to.
pub(crate) enum Registered {
    Deployment(Box<DeploymentProgress>),
    /// Every device was skipped; the summary says why.
    NothingToDeploy(Box<DeploymentSummary>),
}

/// Everything a plan was drawn from.
struct Prepared {
    assets: Vec<(DeployItem, VppAsset)>,
    devices: Vec<Device>,
    installs: Vec<PlannedInstall>,
    summary: DeploymentSummary,
}

fn json_to_plist(value: &serde_json::Value) -> Option<plist::Value> {
    Some(match value {
        serde_json::Value::Null => return None,
        serde_json::Value::Bool(b) => plist::Value::Boolean(*b),
        serde_json::Value::Number(n) => match n.as_i64() {
            Some(i) => plist::Value::Integer(i.into()),
            None => plist::Value::Real(n.as_f64()?),
        },
        serde_json::Value::String(s) => plist::Value::String(s.clone()),
        serde_json::Value::Array(items) => plist::Value::Array(items.iter().filter_map(json_to_plist).collect()),
        serde_json::Value::Object(map) => plist::Value::Dictionary(
            map.iter()
                .filter_map(|(k, v)| json_to_plist(v).map(|v| (k.clone(), v)))
                .collect(),
        ),
    })
}

/// The command for one planned install, with the wizard's options.
fn command_for(install: &PlannedInstall, request: &DeploymentRequest) -> Result<NewJob, DomainError> {
    let options = &request.options;
    let run_at = request.run_at;
    if install.is_book {
        let id: u64 = install.adam_id.parse().map_err(DomainError::internal)?;
        return job_for(install.device_id, InstallMedia::store_book(id), run_at);
    }
    let id: u64 = install.adam_id.parse().map_err(DomainError::internal)?;
    let mut command = InstallApplication::from_store(id).with_license_assignment();
    let mut flags = ManagementFlags::NONE;
    if options.remove_on_mdm_removal {
        flags = flags | ManagementFlags::REMOVE_WITH_MDM_PROFILE;
    }
    if options.prevent_backup {
        flags = flags | ManagementFlags::PREVENT_BACKUP;
    }
    if flags != ManagementFlags::NONE {
        command = command.with_management_flags(flags);
    }
    if let Some(configuration) = &options.configuration
        && let Some(plist::Value::Dictionary(dict)) = json_to_plist(&serde_json::Value::Object(configuration.clone()))
    {
        command = command.with_configuration(dict);
    }
    let mut attributes = AppAttributes::default();
    if let Some(vpn) = options.vpn_uuid.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
        attributes = attributes.with_vpn(vpn);
    }
    // Removable exists from iOS 14; older devices would refuse the key.
    let supports_removable = install
        .os_version
        .as_deref()
        .and_then(crate::version::major)
        .is_some_and(|major| major >= 14);
    if request.target_os == TargetOs::Ios && supports_removable && !options.removable {
        attributes = attributes.with_removable(false);
    }
    if attributes != AppAttributes::default() {
        command = command.with_attributes(attributes);
    }
    if install.action == Action::TakeManagement {
        command = command.taking_over_management();
    }
    if request.target_os == TargetOs::Macos {
        command = command.with_install_as_managed(true);
    }
    job_for(install.device_id, command, run_at)
}

impl Services {
    /// The dry run: who gets a job and who is skipped, and why.
    pub async fn preview_deployment(
        &self,
        actor: &Actor,
        request: &DeploymentRequest,
    ) -> Result<DeploymentPreview, DomainError> {
        let prepared = self.prepare_deployment(actor, request).await?;
        Ok(DeploymentPreview {
            summary: prepared.summary,
            installs: prepared.installs,
        })
    }

    /// Registers a deployment with all its jobs; the worker takes it from
    /// there at its start time.
    pub async fn create_deployment(
        &self,
        actor: &Actor,
        request: &DeploymentRequest,
    ) -> Result<DeploymentProgress, DomainError> {
        match self.register_deployment(actor, request, None, None).await? {
            Registered::Deployment(progress) => Ok(*progress),
            Registered::NothingToDeploy(_) => Err(DomainError::conflict(
                "nothing_to_deploy",
                "配信対象の端末がありません(すべての端末が対象外です)。確認画面で理由をご確認ください。",
                "No device gets a job: every device is skipped. See the dry run for why.",
            )),
        }
    }

    /// Registers a deployment, or with `claims` and nothing to install,
    /// records the claims alone (the devices were looked at and skipped).
    pub(crate) async fn register_deployment(
        &self,
        actor: &Actor,
        request: &DeploymentRequest,
        origin: Option<DeploymentOrigin>,
        claims: Option<&DeploymentClaims>,
    ) -> Result<Registered, DomainError> {
        let prepared = self.prepare_deployment(actor, request).await?;
        if prepared.installs.is_empty() {
            if let Some(claims) = claims {
                self.store.claim_devices(actor, claims, None, Timestamp::now()).await?;
            }
            return Ok(Registered::NothingToDeploy(Box::new(prepared.summary)));
        }
        let names: HashMap<&str, String> = prepared
            .summary
            .licenses
            .iter()
            .map(|l| (l.adam_id.as_str(), l.name.clone()))
            .collect();
        let mut jobs = Vec::with_capacity(prepared.installs.len());
        for install in &prepared.installs {
            let mut job = command_for(install, request)?;
            let name = names.get(install.adam_id.as_str()).cloned().unwrap_or_default();
            job.content = Some(JobContent {
                deployment_id: None,
                content_id: install.adam_id.clone(),
                held_for_license: install.license == LicenseNeed::Assign,
                verify_identifier: install.verify_identifier.clone(),
                license_target: Some(install.license_target.clone()),
                license_failed: install
                    .license
                    .fails()
                    .then(|| license_failure_detail(&install.license, &name)),
            });
            jobs.push(job);
        }
        let now = Timestamp::now();
        let first_name = prepared
            .summary
            .licenses
            .first()
            .map(|l| l.name.clone())
            .unwrap_or_default();
        let name = request
            .name
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(str::to_owned)
            .unwrap_or_else(|| {
                let what = match prepared.assets.len() {
                    1 => format!("{first_name} の配信"),
                    n => format!("{first_name} ほか{}件の配信", n - 1),
                };
                match &origin {
                    Some(origin) => format!("【{}】{what}", origin.label_ja()),
                    None => what,
                }
            });
        let mut deployment = Deployment {
            id: DeploymentId(0),
            account_id: actor.account_id,
            name: name.chars().take(200).collect(),
            status: DeploymentStatus::Scheduled,
            request: request.clone(),
            summary: prepared.summary,
            run_at: request.run_at.unwrap_or(now),
            created_by: actor.admin_id,
            created_by_name: actor.name.clone(),
            created_at: now,
            updated_at: now,
            origin,
        };
        deployment.id = self
            .store
            .insert_deployment(actor, &deployment, &jobs, claims, now)
            .await?;
        tracing::info!(deployment = %deployment.id, jobs = jobs.len(), devices = prepared.devices.len(), "deployment registered");
        self.mdm.deployments_wake.notify_one();
        self.mdm.push_wake.notify_one();
        Ok(Registered::Deployment(Box::new(
            self.deployment(actor, deployment.id).await?,
        )))
    }

    /// The request's apps and books, each checked: chosen once, in the
    /// token's library, for the target platform, the token usable and the
    /// start time before it expires.
    pub(crate) async fn validated_items(
        &self,
        actor: &Actor,
        request: &DeploymentRequest,
    ) -> Result<Vec<(DeployItem, VppAsset)>, DomainError> {
        if request.items.is_empty() {
            return Err(DomainError::invalid(
                "items",
                "配信するアプリ/ブックを1つ以上選択してください。",
                "Choose at least one app or book to deploy.",
            ));
        }
        let mut seen = BTreeSet::new();
        let mut assets = Vec::new();
        let mut catalogues: HashMap<VppTokenId, Vec<VppAsset>> = HashMap::new();
        let now = Timestamp::now();
        for item in &request.items {
            let adam_id = item.adam_id.trim().to_owned();
            if !seen.insert(adam_id.clone()) {
                return Err(DomainError::invalid(
                    "items",
                    format!("{adam_id} が2回選択されています。"),
                    format!("{adam_id} is chosen twice."),
                ));
            }
            let token = self.stored_vpp_token(actor, item.token_id).await?;
            if request.license_mode == LicenseMode::Auto {
                require_writable(&token)?;
            }
            if let Some(run_at) = request.run_at
                && run_at.0 > now.0
                && run_at.0 > token.token.expires_at.0 - DAY_MILLIS
            {
                return Err(DomainError::invalid(
                    "run_at",
                    format!(
                        "予約配信日は、VPPトークン「{}」の失効日時({})の前日までです。トークンを更新してから予約してください。",
                        token.token.location_name,
                        millis_to_rfc3339(token.token.expires_at.0)
                    ),
                    format!(
                        "A deployment can be scheduled up to the day before token \"{}\" expires ({}). Renew the token first.",
                        token.token.location_name,
                        millis_to_rfc3339(token.token.expires_at.0)
                    ),
                ));
            }
            if let std::collections::hash_map::Entry::Vacant(entry) = catalogues.entry(item.token_id) {
                entry.insert(self.store.list_vpp_assets(actor.account_id, item.token_id).await?);
            }
            let Some(asset) = catalogues[&item.token_id].iter().find(|a| a.adam_id == adam_id) else {
                return Err(DomainError::invalid(
                    "items",
                    format!("アプリ/ブック {adam_id} はこのVPPトークンにありません。購入後に同期を行ってください。"),
                    format!("Asset {adam_id} is not in this token's library. Sync the token after buying it."),
                ));
            };
            let platform = match request.target_os {
                TargetOs::Ios => "iOS",
                TargetOs::Macos => "macOS",
            };
            let is_book = asset.product_type.eq_ignore_ascii_case("book");
            if !is_book && !asset.platforms.is_empty() && !asset.platforms.iter().any(|p| p == platform) {
                return Err(DomainError::invalid(
                    "target_os",
                    format!(
                        "{adam_id} は {platform} 端末に配信できません(対応: {})。",
                        asset.platforms.join(", ")
                    ),
                    format!(
                        "{adam_id} cannot be deployed to {platform} devices (it supports {}).",
                        asset.platforms.join(", ")
                    ),
                ));
            }
            assets.push((
                DeployItem {
                    token_id: item.token_id,
                    adam_id,
                },
                asset.clone(),
            ));
        }
        Ok(assets)
    }

    async fn prepare_deployment(&self, actor: &Actor, request: &DeploymentRequest) -> Result<Prepared, DomainError> {
        actor.require_write()?;
        let assets = self.validated_items(actor, request).await?;
        let mut devices = self.select_devices(actor, &request.devices).await?;
        let inventories = self.inventories(actor, &devices).await?;
        let first_bundle = assets[0].1.metadata.as_ref().and_then(|m| m.bundle_id.clone());
        devices.retain(|d| install_status_matches(&request.devices, inventories.get(&d.id), first_bundle.as_deref()));
        let apps: HashMap<DeviceId, DeviceApps> = inventories.into_iter().map(|(d, i)| (d, i.apps)).collect();
        let mut licensed = HashSet::new();
        let mut vpp_users: HashMap<(VppTokenId, UserId), String> = HashMap::new();
        for (item, asset) in &assets {
            self.add_licenses_of(actor.account_id, item, &mut licensed).await?;
            let by_user =
                asset.product_type.eq_ignore_ascii_case("book") || request.license_mode == LicenseMode::Manual;
            if by_user {
                for user in self.store.vpp_users(actor.account_id, item.token_id).await? {
                    if let (Some(owner), crate::vpp::users::VppUserStatus::Associated) = (user.user_id, user.status) {
                        vpp_users.insert((item.token_id, owner), user.client_user_id.clone());
                    }
                }
            }
        }
        let mut plan = plan(&PlanInput {
            request,
            assets: &assets,
            devices: &devices,
            apps: &apps,
            licensed: &licensed,
            vpp_users: &vpp_users,
        });
        let waiting_for_logout = self.mark_logged_in_users(actor, &devices, &mut plan.installs).await?;
        let summary = DeploymentSummary {
            devices_selected: devices.len() as i64,
            installs: plan.installs.len() as i64,
            licenses: plan.licenses,
            skipped: plan.skipped,
            waiting_for_logout,
        };
        Ok(Prepared {
            assets,
            devices,
            installs: plan.installs,
            summary,
        })
    }

    /// D9: names the user logged in on each shared iPad that gets an
    /// install (its user channel), since the install waits for the logout.
    async fn mark_logged_in_users(
        &self,
        actor: &Actor,
        devices: &[Device],
        installs: &mut [PlannedInstall],
    ) -> Result<i64, DomainError> {
        let mut users: HashMap<DeviceId, String> = HashMap::new();
        for device in devices.iter().filter(|d| d.shared_ipad) {
            if let Some(record) = self.store.get_enrollment_record(actor.account_id, device.id).await?
                && let Some(user) = record.user_channels.first()
            {
                users.insert(device.id, user.clone());
            }
        }
        let mut waiting = 0;
        for install in installs.iter_mut() {
            install.waits_for_logout_of = users.get(&install.device_id).cloned();
            waiting += i64::from(install.waits_for_logout_of.is_some());
        }
        Ok(waiting)
    }

    /// A deployment with its per-status job counts.
    pub async fn deployment(&self, actor: &Actor, id: DeploymentId) -> Result<DeploymentProgress, DomainError> {
        let deployment = self
            .store
            .get_deployment(actor.account_id, id)
            .await?
            .ok_or(DomainError::not_found(Entity::Deployment))?;
        let counts = self.store.deployment_job_counts(actor.account_id, id).await?;
        Ok(progress(deployment, &counts))
    }

    /// The latest deployments, newest first, with their progress.
    pub async fn deployments(&self, actor: &Actor) -> Result<Vec<DeploymentProgress>, DomainError> {
        let deployments = self.store.list_deployments(actor.account_id, 100).await?;
        let ids: Vec<DeploymentId> = deployments.iter().map(|d| d.id).collect();
        let mut counts: HashMap<DeploymentId, Vec<(JobStatus, Option<JobHold>, i64)>> = HashMap::new();
        for (id, status, hold, n) in self.store.deployments_job_counts(actor.account_id, &ids).await? {
            counts.entry(id).or_default().push((status, hold, n));
        }
        Ok(deployments
            .into_iter()
            .map(|d| {
                let of = counts.remove(&d.id).unwrap_or_default();
                progress(d, &of)
            })
            .collect())
    }

    /// Cancels the deployment's unfinished jobs; licenses not yet asked for
    /// are not assigned, and those being assigned are revoked once Apple
    /// has answered. Returns how many jobs were canceled.
    pub async fn cancel_deployment(&self, actor: &Actor, id: DeploymentId) -> Result<u64, DomainError> {
        actor.require_write()?;
        let deployment = self
            .store
            .get_deployment(actor.account_id, id)
            .await?
            .ok_or(DomainError::not_found(Entity::Deployment))?;
        let canceled = self
            .store
            .cancel_jobs(actor, &JobSelection::Deployment(deployment.id), Timestamp::now())
            .await?;
        if deployment.status != DeploymentStatus::Released {
            self.store
                .set_deployment_status(Some(actor), id, DeploymentStatus::Canceled, Timestamp::now())
                .await?;
        }
        // Licenses Apple assigns the canceled installs anyway are revoked
        // by the worker once its operations are answered.
        self.mdm.deployments_wake.notify_one();
        Ok(canceled)
    }
}

fn progress(deployment: Deployment, counts: &[(JobStatus, Option<JobHold>, i64)]) -> DeploymentProgress {
    let mut by_status: Vec<StatusCount> = Vec::new();
    for status in JobStatus::ALL {
        let rows = counts.iter().filter(|(s, _, _)| *s == status);
        let mut entry = StatusCount {
            status,
            label_ja: status.label_ja(),
            label_en: status.label_en(),
            count: 0,
            waiting_for_license: 0,
            verifying: 0,
        };
        for (_, hold, n) in rows {
            entry.count += n;
            match hold {
                Some(JobHold::License) => entry.waiting_for_license += n,
                Some(JobHold::Verifying) => entry.verifying += n,
                None => {}
            }
        }
        if entry.count > 0 {
            by_status.push(entry);
        }
    }
    let count = |f: &dyn Fn(JobStatus) -> bool| by_status.iter().filter(|c| f(c.status)).map(|c| c.count).sum();
    let jobs = count(&|_| true);
    let finished = count(&|s| s.is_final());
    let succeeded = count(&|s| s == JobStatus::Success);
    let failed = count(&|s| matches!(s, JobStatus::LicenseFailed | JobStatus::DeviceError));
    DeploymentProgress {
        status_label: format!("{} / {}", deployment.status.label_ja(), deployment.status.label_en()),
        deployment,
        jobs,
        finished,
        succeeded,
        failed,
        by_status,
    }
}
