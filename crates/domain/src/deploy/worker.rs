//! The deployment worker: at a deployment's start time it writes the
//! license operations its held installs need; when Apple has answered them
//! it releases the installs that got a license and fails the others (L5).
//! Also the "resend" of an install the user refused.

use std::collections::{BTreeMap, HashMap, HashSet};

use super::store::HeldJob;
use super::{Deployment, DeploymentStatus};
use crate::DomainError;
use crate::auth::Actor;
use crate::error::Entity;
use crate::ids::{AccountId, JobId, VppTokenId};
use crate::jobs::{JobContent, JobStatus, NewJob};
use crate::service::Services;
use crate::time_util::Timestamp;
use crate::vpp::apple::require_writable;
use crate::vpp::store::LicenseFilter;
use crate::vpp::{LicenseOperation, LicenseTarget, OperationKind};

/// Short: a deployment is looked at again soon after its lease, and its
/// steps are safe to repeat (each moves on only from the state it expects).
const LEASE_MILLIS: i64 = 3_000;

/// Targets, and the `(adamId, pricingParam)` pairs they all get.
type TargetsAndAssets = (Vec<LicenseTarget>, Vec<(String, String)>);

fn failure_detail(ja: String, en: String, error_number: Option<i32>) -> serde_json::Value {
    let mut detail = serde_json::json!({ "reason": "license_assignment_failed", "message_ja": ja, "message_en": en });
    if let Some(number) = error_number {
        detail["apple_error_number"] = number.into();
    }
    detail
}

impl Services {
    /// One pass: advances every deployment that has something to do.
    pub async fn run_deployments_once(&self) -> Result<usize, DomainError> {
        if let Err(e) = self.resume_verifications().await {
            tracing::warn!("resuming verifications: {}", e.message(crate::Lang::En));
        }
        let now = Timestamp::now();
        let leased = self.store.lease_deployments(now, LEASE_MILLIS, 20).await?;
        let count = leased.len();
        for deployment in leased {
            let id = deployment.id;
            if let Err(e) = self.advance_deployment(deployment).await {
                tracing::warn!(deployment = %id, "deployment: {}", e.message(crate::Lang::En));
            }
        }
        Ok(count)
    }

    /// Runs the worker until `stop` resolves.
    pub async fn run_deployments(&self, every: std::time::Duration, stop: impl std::future::Future<Output = ()>) {
        tokio::pin!(stop);
        loop {
            if let Err(e) = self.run_deployments_once().await {
                tracing::warn!("deployments: {}", e.message(crate::Lang::En));
            }
            tokio::select! {
                _ = &mut stop => return,
                _ = self.mdm.deployments_wake.notified() => {}
                _ = tokio::time::sleep(every) => {}
            }
        }
    }

    async fn advance_deployment(&self, deployment: Deployment) -> Result<(), DomainError> {
        match deployment.status {
            DeploymentStatus::Scheduled => self.start_deployment(&deployment).await,
            DeploymentStatus::Licensing => self.finish_deployment_licensing(&deployment).await,
            DeploymentStatus::Canceled => self.settle_canceled_holds(&deployment).await,
            DeploymentStatus::Released => Ok(()),
        }
    }

    /// Writes one operation per token and set of targets: two apps for the
    /// same devices go to Apple together, batched by its limits.
    async fn start_deployment(&self, deployment: &Deployment) -> Result<(), DomainError> {
        let account = deployment.account_id;
        let held = self.store.held_jobs(deployment.id).await?;
        let now = Timestamp::now();
        if held.is_empty() {
            return self.store.finish_licensing(deployment.id, &[], &[], now).await;
        }
        let by_token = by_token(deployment, &held);
        let mut operations = Vec::new();
        let mut refused: Vec<(JobId, serde_json::Value)> = Vec::new();
        for (token_id, assets) in by_token {
            let token = self.store.get_vpp_token(account, token_id).await?;
            let writable = match &token {
                Some(token) => require_writable(token),
                None => Err(DomainError::not_found(Entity::VppToken)),
            };
            if let Err(problem) = writable {
                let detail = failure_detail(problem.message(crate::Lang::Ja), problem.message(crate::Lang::En), None);
                for job in held.iter().filter(|j| assets.contains_key(&j.content_id)) {
                    refused.push((job.job_id, detail.clone()));
                }
                continue;
            }
            operations.extend(
                self.grouped_operations(account, token_id, assets, OperationKind::Associate, now)
                    .await?,
            );
        }
        if operations.is_empty() {
            return self.store.finish_licensing(deployment.id, &[], &refused, now).await;
        }
        if !refused.is_empty() {
            // Jobs of an unusable token end now; the rest wait for Apple.
            self.store.fail_held_jobs(deployment.id, &refused, now).await?;
        }
        if self.store.start_licensing(deployment, &operations, now).await? {
            tracing::info!(deployment = %deployment.id, operations = operations.len(), licenses = held.len(), "assigning licenses");
            self.vpp.operations_wake.notify_one();
        }
        Ok(())
    }

    /// Once Apple has answered every operation: release the installs that
    /// got a license, fail the rest with Apple's reason.
    async fn finish_deployment_licensing(&self, deployment: &Deployment) -> Result<(), DomainError> {
        let operations = self.store.deployment_operations(deployment.id).await?;
        if operations.iter().any(|op| !op.status.is_finished()) {
            return Ok(());
        }
        let account = deployment.account_id;
        let held = self.store.held_jobs(deployment.id).await?;
        let licensed = self.licensed_targets(account, deployment, &held).await?;
        let mut release = Vec::new();
        let mut fail = Vec::new();
        for job in held {
            if licensed.contains(&(job.content_id.clone(), job.target.clone())) {
                release.push(job.job_id);
                continue;
            }
            let failure = operations.iter().flat_map(|op| op.failures.iter()).find(|f| {
                f.targets.contains(&job.target) && (f.adam_ids.is_empty() || f.adam_ids.contains(&job.content_id))
            });
            let detail = match failure {
                Some(f) => failure_detail(f.message_ja.clone(), f.message_en.clone(), Some(f.error_number)),
                None => failure_detail(
                    "Appleがライセンスの割り当てを確認しませんでした。VPPトークンを同期してライセンスの状況を確認し、再度配信してください。".into(),
                    "Apple did not confirm the license. Sync the token to see the licenses, then deploy again.".into(),
                    None,
                ),
            };
            fail.push((job.job_id, detail));
        }
        tracing::info!(deployment = %deployment.id, released = release.len(), failed = fail.len(), "licenses settled");
        self.store
            .finish_licensing(deployment.id, &release, &fail, Timestamp::now())
            .await?;
        self.mdm.push_wake.notify_one();
        self.settle_canceled_holds(deployment).await
    }

    /// Installs canceled while they waited for their license: what Apple
    /// assigned them anyway (through this deployment's operations) is
    /// revoked, in the transaction that clears their hold, so once.
    async fn settle_canceled_holds(&self, deployment: &Deployment) -> Result<(), DomainError> {
        let canceled = self.store.canceled_holds(deployment.id).await?;
        if canceled.is_empty() {
            return Ok(());
        }
        let operations = self.store.deployment_operations(deployment.id).await?;
        if operations.iter().any(|op| !op.status.is_finished()) {
            return Ok(());
        }
        let assigned_here: HashSet<(String, LicenseTarget)> = operations
            .iter()
            .filter(|op| op.kind == OperationKind::Associate)
            .flat_map(|op| {
                op.assets
                    .iter()
                    .flat_map(|(adam, _)| op.targets.iter().map(move |t| (adam.clone(), t.clone())))
            })
            .collect();
        let account = deployment.account_id;
        let licensed = self.licensed_targets(account, deployment, &canceled).await?;
        let assigned: Vec<HeldJob> = canceled
            .iter()
            .filter(|j| {
                let key = (j.content_id.clone(), j.target.clone());
                assigned_here.contains(&key) && licensed.contains(&key)
            })
            .cloned()
            .collect();
        let now = Timestamp::now();
        let mut reclaim = Vec::new();
        for (token_id, assets) in by_token(deployment, &assigned) {
            reclaim.extend(
                self.grouped_operations(account, token_id, assets, OperationKind::Disassociate, now)
                    .await?,
            );
        }
        let ids: Vec<JobId> = canceled.iter().map(|j| j.job_id).collect();
        self.store
            .settle_canceled_holds(deployment, &reclaim, &ids, now)
            .await?;
        tracing::info!(deployment = %deployment.id, canceled = ids.len(), revoked = assigned.len(), "canceled installs settled");
        if !reclaim.is_empty() {
            self.vpp.operations_wake.notify_one();
        }
        Ok(())
    }

    async fn licensed_targets(
        &self,
        account: AccountId,
        deployment: &Deployment,
        held: &[HeldJob],
    ) -> Result<HashSet<(String, LicenseTarget)>, DomainError> {
        let wanted: HashSet<&str> = held.iter().map(|j| j.content_id.as_str()).collect();
        let mut licensed = HashSet::new();
        for item in deployment
            .request
            .items
            .iter()
            .filter(|i| wanted.contains(i.adam_id.as_str()))
        {
            self.add_licenses_of(account, item, &mut licensed).await?;
        }
        Ok(licensed)
    }

    /// Adds the licenses of one item held now, as `(adamId, target)`.
    pub(super) async fn add_licenses_of(
        &self,
        account: AccountId,
        item: &super::DeployItem,
        licensed: &mut HashSet<(String, LicenseTarget)>,
    ) -> Result<(), DomainError> {
        let filter = LicenseFilter {
            token_id: Some(item.token_id),
            adam_id: Some(item.adam_id.clone()),
            limit: Some(i64::MAX),
            ..Default::default()
        };
        for license in self.store.list_licenses(account, &filter).await? {
            licensed.insert((license.adam_id, license.target));
        }
        Ok(())
    }

    /// Sends an install again (a new CommandUUID) after the user refused it
    /// or it failed; the license it had is still assigned.
    pub async fn resend_job(&self, actor: &Actor, id: JobId) -> Result<JobId, DomainError> {
        actor.require_write()?;
        let stored = self
            .store
            .job_command(actor.account_id, id)
            .await?
            .ok_or(DomainError::not_found(Entity::Job))?;
        let resendable = matches!(stored.request_type.as_str(), "InstallApplication" | "InstallMedia")
            && matches!(stored.status, JobStatus::DeviceError | JobStatus::Canceled);
        if !resendable {
            return Err(DomainError::conflict(
                "job_not_resendable",
                "再送できるのは、端末エラーまたはキャンセルで終了したアプリ/ブックのインストールジョブのみです。",
                "Only app or book installs that ended in a device error or were canceled can be sent again.",
            ));
        }
        let command = apple_mdm::Command::from_xml(stored.command.as_bytes()).map_err(DomainError::internal)?;
        let again = apple_mdm::Command::new(command.request);
        let xml = again.to_xml().map_err(DomainError::internal)?;
        let job = NewJob {
            device_id: stored.device_id,
            command_uuid: again.command_uuid.as_str().to_owned(),
            request_type: stored.request_type.clone(),
            command: String::from_utf8(xml).map_err(DomainError::internal)?,
            run_at: None,
            content: stored.content_id.map(|content_id| JobContent {
                deployment_id: stored.deployment_id,
                content_id,
                held_for_license: false,
                verify_identifier: stored.verify_identifier,
                license_target: None,
                license_failed: None,
            }),
        };
        let ids = self.enqueue(actor, &[job]).await?;
        Ok(ids[0])
    }
}

/// Held (or canceled) installs by token and app, with their targets.
fn by_token(deployment: &Deployment, jobs: &[HeldJob]) -> BTreeMap<VppTokenId, BTreeMap<String, Vec<LicenseTarget>>> {
    let token_of: HashMap<&str, VppTokenId> = deployment
        .request
        .items
        .iter()
        .map(|i| (i.adam_id.as_str(), i.token_id))
        .collect();
    let mut out: BTreeMap<VppTokenId, BTreeMap<String, Vec<LicenseTarget>>> = BTreeMap::new();
    for job in jobs {
        if let Some(token) = token_of.get(job.content_id.as_str()) {
            out.entry(*token)
                .or_default()
                .entry(job.content_id.clone())
                .or_default()
                .push(job.target.clone());
        }
    }
    out
}

impl Services {
    /// One operation per set of targets: apps for the same devices go to
    /// Apple together (the operations worker batches them by its limits).
    async fn grouped_operations(
        &self,
        account: AccountId,
        token_id: VppTokenId,
        assets: BTreeMap<String, Vec<LicenseTarget>>,
        kind: OperationKind,
        now: Timestamp,
    ) -> Result<Vec<LicenseOperation>, DomainError> {
        let catalogue = self.store.list_vpp_assets(account, token_id).await?;
        let pricing = |adam: &str| {
            catalogue
                .iter()
                .find(|a| a.adam_id == adam)
                .map_or_else(|| "STDQ".to_owned(), |a| a.pricing_param.clone())
        };
        let mut groups: Vec<TargetsAndAssets> = Vec::new();
        for (adam_id, mut targets) in assets {
            targets.sort();
            targets.dedup();
            let pair = (adam_id.clone(), pricing(&adam_id));
            match groups.iter_mut().find(|(t, _)| *t == targets) {
                Some((_, list)) => list.push(pair),
                None => groups.push((targets, vec![pair])),
            }
        }
        Ok(groups
            .into_iter()
            .map(|(targets, assets)| LicenseOperation::pending(token_id, kind, assets, targets, true, "SYSTEM", now))
            .collect())
    }
}
