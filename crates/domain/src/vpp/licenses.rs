//! License operations (SPEC L1, L2, L6): assign and revoke, in as few
//! Apple calls as the limits allow, followed to their end.
//!
//! Durability: an operation is written as pending before Apple is called
//! and each accepted batch is recorded with its event id, so a crash
//! re-sends only unrecorded batches. Apple treats a repeated association
//! or disassociation as a no-op, and licenses are recorded by key, so no
//! license is ever counted twice here.

use std::collections::BTreeSet;

use apple_vpp::{AssetRef, AssetsQuery, ManageAssetsRequest, PricingParam, VppClient};
use serde::Deserialize;

use super::apple::require_writable;
use super::store::{LicenseFilter, LicenseKey};
use super::{
    License, LicenseOperation, LicenseTarget, OperationEvent, OperationFailure, OperationKind, OperationStatus,
    StoredVppToken,
};
use crate::DomainError;
use crate::auth::Actor;
use crate::error::Entity;
use crate::ids::{AccountId, VppOperationId, VppTokenId};
use crate::service::Services;
use crate::time_util::Timestamp;

/// How long one server process holds an operation before another may take it.
const LEASE_MILLIS: i64 = 60_000;
/// Apple: an event still pending after 10 minutes should be sent again.
const RESUBMIT_AFTER_MILLIS: i64 = 10 * 60_000;

/// Assets and targets of an assign or revoke request.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct LicenseRequest {
    pub adam_ids: Vec<String>,
    #[serde(default)]
    pub serial_numbers: Vec<String>,
    #[serde(default)]
    pub client_user_ids: Vec<String>,
}

fn pricing(text: &str) -> PricingParam {
    PricingParam::from(text)
}

fn request_of(assets: &[(String, String)], targets: &[LicenseTarget]) -> ManageAssetsRequest {
    let mut request = ManageAssetsRequest {
        assets: assets
            .iter()
            .map(|(id, p)| AssetRef::new(id.clone(), pricing(p)))
            .collect(),
        ..Default::default()
    };
    for target in targets {
        match target {
            LicenseTarget::Serial(s) => request.serial_numbers.push(s.clone()),
            LicenseTarget::User(u) => request.client_user_ids.push(u.clone()),
        }
    }
    request
}

fn batch_parts(batch: &ManageAssetsRequest) -> (Vec<(String, String)>, Vec<LicenseTarget>) {
    let assets = batch
        .assets
        .iter()
        .map(|a| (a.adam_id.clone(), a.pricing_param.as_str().to_owned()))
        .collect();
    let targets = batch
        .serial_numbers
        .iter()
        .map(|s| LicenseTarget::Serial(s.clone()))
        .chain(batch.client_user_ids.iter().map(|u| LicenseTarget::User(u.clone())))
        .collect();
    (assets, targets)
}

fn failure_of(error: &apple_vpp::ErrorResponse, fallback_targets: &[LicenseTarget]) -> OperationFailure {
    let code = error.code();
    let info = error.error_info.clone().unwrap_or_default();
    let mut targets: Vec<LicenseTarget> = info
        .serial_numbers
        .iter()
        .map(|s| LicenseTarget::Serial(s.clone()))
        .chain(info.client_user_ids.iter().map(|u| LicenseTarget::User(u.clone())))
        .collect();
    if targets.is_empty() {
        targets = fallback_targets.to_vec();
    }
    OperationFailure {
        error_number: error.error_number,
        message_ja: format!("{} ({})", code.explain(apple_vpp::Lang::Ja), error.error_number),
        message_en: format!(
            "{} ({}: {})",
            code.explain(apple_vpp::Lang::En),
            error.error_number,
            error.error_message
        ),
        targets,
        adam_ids: info.assets.iter().map(|a| a.adam_id.clone()).collect(),
    }
}

impl Services {
    /// L1: assigns licenses of the assets to serial numbers and/or users.
    /// `auto_assigned` marks licenses haishin reclaims by itself later (L3).
    pub async fn assign_licenses(
        &self,
        actor: &Actor,
        token: VppTokenId,
        request: &LicenseRequest,
        auto_assigned: bool,
    ) -> Result<LicenseOperation, DomainError> {
        self.queue_license_operation(actor, token, OperationKind::Associate, request, auto_assigned)
            .await
    }

    /// L2: revokes (disassociates) licenses; the counts recover at Apple.
    pub async fn revoke_licenses(
        &self,
        actor: &Actor,
        token: VppTokenId,
        request: &LicenseRequest,
    ) -> Result<LicenseOperation, DomainError> {
        self.queue_license_operation(actor, token, OperationKind::Disassociate, request, false)
            .await
    }

    async fn queue_license_operation(
        &self,
        actor: &Actor,
        token_id: VppTokenId,
        kind: OperationKind,
        request: &LicenseRequest,
        auto_assigned: bool,
    ) -> Result<LicenseOperation, DomainError> {
        actor.require_write()?;
        let token = self.stored_vpp_token(actor, token_id).await?;
        require_writable(&token)?;
        let catalogue = self.store.list_vpp_assets(actor.account_id, token_id).await?;
        let mut assets = Vec::new();
        for adam_id in request.adam_ids.iter().map(|a| a.trim()).collect::<BTreeSet<_>>() {
            let Some(asset) = catalogue.iter().find(|a| a.adam_id == adam_id) else {
                return Err(DomainError::invalid(
                    "adam_ids",
                    format!("アプリ/ブック {adam_id} はこのVPPトークンにありません。購入後に同期を行ってください。"),
                    format!("Asset {adam_id} is not in this token's library. Sync the token after buying it."),
                ));
            };
            if kind == OperationKind::Associate && !request.serial_numbers.is_empty() && !asset.device_assignable {
                return Err(DomainError::invalid(
                    "adam_ids",
                    format!(
                        "{adam_id} は端末(シリアル番号)に割り当てられません(ブック、または端末割り当て不可のApp)。VPPアカウント(ユーザー)に割り当ててください。"
                    ),
                    format!(
                        "{adam_id} cannot be assigned to devices (a book, or an app without device licensing). Assign it to VPP users instead."
                    ),
                ));
            }
            if kind == OperationKind::Disassociate && !asset.revocable {
                return Err(DomainError::invalid(
                    "adam_ids",
                    format!("{adam_id} のライセンスは回収できません(ブックのライセンスは回収不可です)。"),
                    format!("Licenses of {adam_id} cannot be revoked (book licenses are permanent)."),
                ));
            }
            assets.push((asset.adam_id.clone(), asset.pricing_param.clone()));
        }
        let mut targets = BTreeSet::new();
        for serial in &request.serial_numbers {
            let serial = crate::org::validate::serial_number(Some(serial))?;
            targets.extend(serial.map(LicenseTarget::Serial));
        }
        for user in request
            .client_user_ids
            .iter()
            .map(|u| u.trim())
            .filter(|u| !u.is_empty())
        {
            targets.insert(LicenseTarget::User(user.to_owned()));
        }
        if assets.is_empty() || targets.is_empty() {
            return Err(DomainError::invalid(
                "adam_ids",
                "アプリ/ブックと、割り当て先(シリアル番号またはVPPユーザー)を1つ以上指定してください。",
                "Name at least one asset and at least one serial number or VPP user.",
            ));
        }
        let targets: Vec<LicenseTarget> = targets.into_iter().collect();
        let mut operation = LicenseOperation::pending(
            token_id,
            kind,
            assets,
            targets,
            auto_assigned,
            &actor.name,
            Timestamp::now(),
        );
        operation.id = self
            .store
            .insert_vpp_operation(actor, actor.account_id, &operation)
            .await?;
        self.vpp.operations_wake.notify_one();
        Ok(operation)
    }

    pub async fn vpp_operation(&self, actor: &Actor, id: VppOperationId) -> Result<LicenseOperation, DomainError> {
        self.store
            .get_vpp_operation(actor.account_id, id)
            .await?
            .ok_or(DomainError::not_found(Entity::VppOperation))
    }

    pub async fn vpp_operations(&self, actor: &Actor, token: VppTokenId) -> Result<Vec<LicenseOperation>, DomainError> {
        self.stored_vpp_token(actor, token).await?;
        self.store.list_vpp_operations(actor.account_id, token).await
    }

    /// L6: licenses per device (serial), per user, per asset.
    pub async fn licenses(&self, actor: &Actor, filter: &LicenseFilter) -> Result<Vec<License>, DomainError> {
        if let Some(token) = filter.token_id {
            self.stored_vpp_token(actor, token).await?;
        }
        self.store.list_licenses(actor.account_id, filter).await
    }

    /// One pass of the operations worker: leases due operations and moves
    /// each as far as it can go. Returns how many it looked at.
    pub async fn run_vpp_operations_once(&self) -> Result<usize, DomainError> {
        let now = Timestamp::now();
        let leased = self.store.lease_vpp_operations(now, LEASE_MILLIS, 20).await?;
        let count = leased.len();
        for (account, operation) in leased {
            let id = operation.id;
            if let Err(e) = self.advance_operation(account, operation).await {
                tracing::warn!(operation = %id, "license operation: {}", e.message(crate::Lang::En));
            }
        }
        Ok(count)
    }

    /// Runs the worker until `stop` resolves, waking on new operations.
    pub async fn run_vpp_operations(&self, every: std::time::Duration, stop: impl std::future::Future<Output = ()>) {
        tokio::pin!(stop);
        loop {
            if let Err(e) = self.run_vpp_operations_once().await {
                tracing::warn!("license operations: {}", e.message(crate::Lang::En));
            }
            tokio::select! {
                _ = &mut stop => return,
                _ = self.vpp.operations_wake.notified() => {}
                _ = tokio::time::sleep(every) => {}
            }
        }
    }

    async fn advance_operation(&self, account: AccountId, mut operation: LicenseOperation) -> Result<(), DomainError> {
        let Some(mut token) = self.store.get_vpp_token(account, operation.token_id).await? else {
            return Ok(());
        };
        let client = self.vpp_client(&token)?;
        if operation.status == OperationStatus::Pending {
            if let Err(e) = require_writable(&token) {
                return self.fail_operation(operation, e).await;
            }
            self.submit_batches(&client, &mut token, &mut operation).await?;
        }
        if operation.status == OperationStatus::Submitted {
            self.follow_events(&client, &mut token, &mut operation).await?;
        }
        operation.next_check_at = self.next_check(&operation);
        self.store.save_vpp_operation(&operation).await?;
        if operation.status.is_finished() {
            // A deployment may be waiting for these licenses.
            self.mdm.deployments_wake.notify_one();
        }
        Ok(())
    }

    /// When the worker should look at the operation again: a pending one
    /// backs off with its attempts (Apple busy); a submitted one when its
    /// oldest silent event reaches Apple's polling delay.
    fn next_check(&self, operation: &LicenseOperation) -> Timestamp {
        let now = Timestamp::now().0;
        let settings = &self.vpp.settings;
        Timestamp(match operation.status {
            OperationStatus::Pending if operation.attempts == 0 => now,
            OperationStatus::Pending => now + (1_000i64 << operation.attempts.clamp(0, 8)).min(300_000),
            OperationStatus::Submitted => {
                let oldest = operation
                    .events
                    .iter()
                    .filter(|e| e.status == "PENDING")
                    .map(|e| e.submitted_at.0)
                    .min()
                    .unwrap_or(now);
                let due = oldest + settings.poll_after_millis;
                let after_poll = operation.last_polled_at.map_or(0, |p| p.0 + settings.poll_every_millis);
                due.max(after_poll).max(now + 100)
            }
            // Finished operations are never leased again (the lease query
            // selects on status); a representable time keeps the body readable.
            OperationStatus::Complete | OperationStatus::Failed => now,
        })
    }

    async fn fail_operation(&self, mut operation: LicenseOperation, error: DomainError) -> Result<(), DomainError> {
        operation.status = OperationStatus::Failed;
        operation.finished_at = Some(Timestamp::now());
        operation.failures.push(OperationFailure {
            error_number: 0,
            message_ja: error.message(crate::Lang::Ja),
            message_en: error.message(crate::Lang::En),
            targets: operation.targets.clone(),
            adam_ids: operation.assets.iter().map(|(a, _)| a.clone()).collect(),
        });
        self.store.save_vpp_operation(&operation).await
    }

    /// Sends the batches not yet accepted. A transient failure keeps the
    /// operation pending (retried after its lease); a refusal of a batch
    /// records its targets as failed and goes on with the next.
    async fn submit_batches(
        &self,
        client: &VppClient,
        token: &mut StoredVppToken,
        operation: &mut LicenseOperation,
    ) -> Result<(), DomainError> {
        if client.cached_service_config().is_none()
            && let Err(e) = client.refresh_service_config().await
        {
            operation.last_error = Some(e.to_string());
            operation.attempts += 1;
            return Ok(());
        }
        let request = request_of(&operation.assets, &operation.targets);
        let batches = apple_vpp::limits::split_manage_assets(&request, &client.limits());
        for batch in batches {
            let (assets, targets) = batch_parts(&batch);
            let sent = operation
                .events
                .iter()
                .any(|e| e.assets == assets && e.targets == targets)
                || operation
                    .failures
                    .iter()
                    .any(|f| f.targets == targets && f.error_number != 0);
            if sent {
                continue;
            }
            let result = match operation.kind {
                OperationKind::Associate => client.associate_assets(&batch).await,
                OperationKind::Disassociate => client.disassociate_assets(&batch).await,
            };
            match result {
                Ok(event) => {
                    if let Err(conflict) = self.vpp_observe(token, &event.envelope).await {
                        tracing::warn!(operation = %operation.id, "location claimed elsewhere: {conflict}");
                    }
                    self.store
                        .link_vpp_event(operation.token_id, &event.event_id, operation.id)
                        .await?;
                    operation.events.push(OperationEvent {
                        event_id: event.event_id,
                        num_requested: (assets.len() * targets.len()) as i64,
                        assets,
                        targets,
                        status: "PENDING".into(),
                        num_completed: 0,
                        submitted_at: Timestamp::now(),
                    });
                    // Saved per batch: a crash now re-sends only the rest.
                    self.store.save_vpp_operation(operation).await?;
                }
                Err(e)
                    if e.api_error().is_some_and(|a| !a.code.is_transient())
                        && !e.code().is_some_and(|c| c.is_token_problem()) =>
                {
                    let response = e.api_error().map(|a| a.response.clone());
                    if let Some(response) = response {
                        operation.failures.push(failure_of(&response, &targets));
                    }
                    self.store.save_vpp_operation(operation).await?;
                }
                Err(e) => {
                    let message = self.vpp_failed(token, &e).await;
                    operation.last_error = Some(message.message(crate::Lang::Ja));
                    operation.attempts += 1;
                    return Ok(());
                }
            }
        }
        operation.status = OperationStatus::Submitted;
        operation.submitted_at = Some(Timestamp::now());
        operation.last_error = None;
        Ok(())
    }

    /// Reads the status of events that are due (notified, or silent past
    /// Apple's 5 minutes and polled at most every 30 s), applies finished
    /// ones, and ends the operation when all are.
    async fn follow_events(
        &self,
        client: &VppClient,
        token: &mut StoredVppToken,
        operation: &mut LicenseOperation,
    ) -> Result<(), DomainError> {
        let now = Timestamp::now();
        let settings = &self.vpp.settings;
        let polled_recently = operation
            .last_polled_at
            .is_some_and(|t| now.0 - t.0 < settings.poll_every_millis);
        let notified = operation
            .notified_at
            .is_some_and(|n| operation.last_polled_at.is_none_or(|p| n >= p));
        let mut polled = false;
        for index in 0..operation.events.len() {
            let event = &operation.events[index];
            if event.status != "PENDING" {
                continue;
            }
            let silent_long_enough = now.0 - event.submitted_at.0 >= settings.poll_after_millis;
            if !(notified || (silent_long_enough && !polled_recently)) {
                continue;
            }
            polled = true;
            let status = match client.event_status(&event.event_id).await {
                Ok(s) => s,
                Err(e) => {
                    let message = self.vpp_failed(token, &e).await;
                    operation.last_error = Some(message.message(crate::Lang::Ja));
                    continue;
                }
            };
            let event = &mut operation.events[index];
            event.num_completed = status.num_completed as i64;
            if !status.is_finished() {
                if now.0 - event.submitted_at.0 >= RESUBMIT_AFTER_MILLIS {
                    tracing::warn!(event = %event.event_id, "event pending for 10 minutes; sending it again");
                    operation.events.remove(index);
                    operation.status = OperationStatus::Pending;
                    return Ok(());
                }
                continue;
            }
            event.status = status.event_status.as_str().to_owned();
            let event = event.clone();
            let failures: Vec<OperationFailure> =
                status.failures.iter().map(|f| failure_of(f, &event.targets)).collect();
            self.apply_event(token.account_id, operation, &event, &failures).await?;
            operation.failures.extend(failures);
        }
        if polled {
            operation.last_polled_at = Some(now);
        }
        if operation.events.iter().all(|e| e.status != "PENDING") {
            operation.num_completed = operation.events.iter().map(|e| e.num_completed).sum();
            operation.status = if operation.failures.is_empty() {
                OperationStatus::Complete
            } else {
                OperationStatus::Failed
            };
            operation.finished_at = Some(now);
            self.refresh_asset_counts(client, token, &operation.assets).await;
        }
        Ok(())
    }

    /// Records what a finished event did: every (asset, target) pair of the
    /// batch except the failed ones.
    async fn apply_event(
        &self,
        account: AccountId,
        operation: &LicenseOperation,
        event: &OperationEvent,
        failures: &[OperationFailure],
    ) -> Result<(), DomainError> {
        let failed = |adam_id: &str, target: &LicenseTarget| {
            failures.iter().any(|f| {
                f.targets.contains(target) && (f.adam_ids.is_empty() || f.adam_ids.iter().any(|a| a == adam_id))
            })
        };
        let mut keys = Vec::new();
        for (adam_id, pricing_param) in &event.assets {
            for target in &event.targets {
                if !failed(adam_id, target) {
                    keys.push(LicenseKey {
                        adam_id: adam_id.clone(),
                        pricing_param: pricing_param.clone(),
                        target: target.clone(),
                    });
                }
            }
        }
        self.record_license_changes(account, operation, keys).await
    }

    /// Applies licenses Apple confirmed for an operation: associations are
    /// added (flagged auto-assigned when the operation was), disassociations
    /// removed. Both are idempotent, so a notification and a status read of
    /// the same event may both apply it.
    pub(crate) async fn record_license_changes(
        &self,
        account: AccountId,
        operation: &LicenseOperation,
        keys: Vec<LicenseKey>,
    ) -> Result<(), DomainError> {
        match operation.kind {
            OperationKind::Associate => {
                let now = Timestamp::now();
                let licenses: Vec<License> = keys
                    .into_iter()
                    .map(|k| License {
                        token_id: operation.token_id,
                        adam_id: k.adam_id,
                        pricing_param: k.pricing_param,
                        target: k.target,
                        auto_assigned: operation.auto_assigned,
                        assigned_at: now,
                    })
                    .collect();
                self.store.add_licenses(account, &licenses).await?;
            }
            OperationKind::Disassociate => {
                self.store.remove_licenses(operation.token_id, &keys).await?;
            }
        }
        Ok(())
    }

    /// The token's assets whose licenses can be taken back (books cannot).
    pub(crate) async fn revocable_adam_ids(
        &self,
        account: AccountId,
        token: VppTokenId,
    ) -> Result<std::collections::HashSet<String>, DomainError> {
        Ok(self
            .store
            .list_vpp_assets(account, token)
            .await?
            .into_iter()
            .filter(|a| a.revocable)
            .map(|a| a.adam_id)
            .collect())
    }

    /// Re-reads the counts of the assets an operation touched.
    async fn refresh_asset_counts(&self, client: &VppClient, token: &StoredVppToken, assets: &[(String, String)]) {
        for (adam_id, pricing_param) in assets {
            let query = AssetsQuery {
                adam_id: Some(adam_id.clone()),
                pricing_param: Some(pricing(pricing_param)),
                ..Default::default()
            };
            let Ok(page) = client.assets(&query).await else {
                continue;
            };
            for fresh in page.assets {
                let counts = super::store::AssetCounts {
                    total: fresh.total_count,
                    assigned: fresh.assigned_count,
                    available: fresh.available_count,
                    retired: fresh.retired_count,
                };
                if let Err(e) = self
                    .store
                    .set_asset_counts(token.token.id, &fresh.adam_id, fresh.pricing_param.as_str(), &counts)
                    .await
                {
                    tracing::warn!("refreshing asset counts: {e}");
                }
            }
        }
    }
}
