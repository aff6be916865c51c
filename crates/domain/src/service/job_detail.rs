//! A job's detail (SPEC J5): the job, and for one that did not succeed the
//! matching causes and remedies of the knowledge base joined with what the
//! server knows of the device, its Apple ID and its tokens.

use apple_mdm::{ErrorChain, ErrorChainItem};
use serde::Serialize;

use super::Services;
use crate::DomainError;
use crate::auth::Actor;
use crate::diagnosis::{Diagnosis, LicenseState, ServerFacts, diagnose};
use crate::error::Entity;
use crate::ids::JobId;
use crate::jobs::Job;
use crate::time_util::Timestamp;
use crate::vpp::TokenStatus;
use crate::vpp::store::LicenseFilter;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct JobDetail {
    #[serde(flatten)]
    pub job: Job,
    pub diagnosis: Diagnosis,
    /// The facts the diagnosis was drawn from.
    pub facts: ServerFacts,
}

/// The chain as stored (`{"ErrorChain": [{ErrorCode, ErrorDomain, ...}]}`).
fn stored_chain(json: &serde_json::Value) -> Option<ErrorChain> {
    let items = json.get("ErrorChain")?.as_array()?;
    let chain: Vec<ErrorChainItem> = items
        .iter()
        .filter_map(|item| {
            let mut parsed = ErrorChainItem::new(item.get("ErrorDomain")?.as_str()?, item.get("ErrorCode")?.as_i64()?);
            parsed.localized_description = item
                .get("LocalizedDescription")
                .and_then(|v| v.as_str())
                .map(str::to_owned);
            parsed.us_english_description = item
                .get("USEnglishDescription")
                .and_then(|v| v.as_str())
                .map(str::to_owned);
            Some(parsed)
        })
        .collect();
    (!chain.is_empty()).then_some(ErrorChain(chain))
}

/// Commands that install content, for which tokens and licenses matter.
fn installs_content(request_type: &str) -> bool {
    matches!(request_type, "InstallApplication" | "InstallMedia" | "InviteToProgram")
}

impl Services {
    pub async fn job_detail(&self, actor: &Actor, id: JobId) -> Result<JobDetail, DomainError> {
        let account = actor.account_id;
        let job = self
            .store
            .get_job(account, id)
            .await?
            .ok_or(DomainError::not_found(Entity::Job))?;
        let mut facts = ServerFacts {
            as_of: Some(Timestamp::now()),
            ..Default::default()
        };
        if let Some(device) = self.store.get_device(account, job.device_id).await? {
            facts.enrollment = Some(device.enrollment_state);
            facts.last_contact_at = device.last_checkin_at;
            facts.os_version = device.os_version.clone();
            facts.platform = device.platform;
            facts.shared_ipad = device.shared_ipad;
            if device.shared_ipad {
                // D9: a user channel means a user logged in on the shared
                // iPad; installs wait until nobody is.
                facts.shared_ipad_logged_in_user = self
                    .store
                    .get_enrollment_record(account, device.id)
                    .await?
                    .and_then(|record| record.user_channels.first().cloned());
            }
            facts.device_itunes_store_account_hash = device.itunes_store_account_hash.clone();
            facts.device_free_bytes = device
                .available_capacity_mb
                .and_then(|mb| u64::try_from(mb).ok())
                .map(|mb| mb * 1_000_000);
            let tokens: Vec<_> = self
                .store
                .list_vpp_tokens(account)
                .await?
                .into_iter()
                .filter(|t| t.token.group_ids.contains(&device.group_id))
                .collect();
            if installs_content(&job.request_type) {
                facts.no_token_for_group = tokens.is_empty();
                // The worst state among the group's tokens: one expired or
                // revoked token explains a failed install.
                facts.token_status = tokens
                    .iter()
                    .map(|t| t.token.status)
                    .find(|s| matches!(s, TokenStatus::Revoked | TokenStatus::Expired))
                    .or(tokens.first().map(|t| t.token.status));
            }
            if let Some(owner) = device.owner_id {
                for token in &tokens {
                    let users = self.store.vpp_users(account, token.token.id).await?;
                    if let Some(hash) = users
                        .iter()
                        .find(|u| u.user_id == Some(owner) && u.id_hash.is_some())
                        .and_then(|u| u.id_hash.clone())
                    {
                        facts.vpp_user_id_hash = Some(hash);
                        break;
                    }
                }
            }
        }
        self.content_facts(account, &job, &mut facts).await?;
        facts.install_not_confirmed = job
            .error_chain
            .as_ref()
            .is_some_and(|chain| chain["Source"] == "ManagedApplicationList");
        let chain = job.error_chain.as_ref().and_then(stored_chain);
        let diagnosis = diagnose(job.status, chain.as_ref(), &facts);
        Ok(JobDetail { job, diagnosis, facts })
    }
}

impl Services {
    /// For an install: the license state of its app for the device (the
    /// shortage the deployment recorded, or what is held now), and the
    /// app's size and minimum OS from the token's catalogue.
    async fn content_facts(
        &self,
        account: crate::ids::AccountId,
        job: &Job,
        facts: &mut ServerFacts,
    ) -> Result<(), DomainError> {
        let Some(adam_id) = &job.content_id else {
            return Ok(());
        };
        let shortage = job
            .detail
            .as_ref()
            .filter(|d| d["reason"] == "license_shortage")
            .and_then(|d| Some((d["needed"].as_u64()?, d["available"].as_u64()?)));
        if let Some((needed, available)) = shortage {
            facts.license = Some(LicenseState::Shortage {
                needed: needed as u32,
                available: available as u32,
            });
        } else if let Some(serial) = self
            .store
            .get_device(account, job.device_id)
            .await?
            .and_then(|d| d.serial_number)
        {
            let filter = LicenseFilter {
                adam_id: Some(adam_id.clone()),
                target: Some(crate::vpp::LicenseTarget::Serial(serial)),
                ..Default::default()
            };
            let held = !self.store.list_licenses(account, &filter).await?.is_empty();
            facts.license = Some(if held {
                LicenseState::Assigned
            } else {
                LicenseState::NotAssigned
            });
        }
        if let Some(deployment) = job.deployment_id
            && let Some(deployment) = self.store.get_deployment(account, deployment).await?
            && let Some(item) = deployment.request.items.iter().find(|i| &i.adam_id == adam_id)
        {
            let assets = self.store.list_vpp_assets(account, item.token_id).await?;
            if let Some(metadata) = assets
                .iter()
                .find(|a| &a.adam_id == adam_id)
                .and_then(|a| a.metadata.as_ref())
            {
                facts.app_size_bytes = metadata.size_bytes.and_then(|b| u64::try_from(b).ok());
                facts.app_minimum_os = metadata.minimum_os.clone();
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stored_chain_reads_back() {
        let json = serde_json::json!({ "ErrorChain": [
            { "ErrorCode": 12064, "ErrorDomain": "MCMDMErrorDomain", "LocalizedDescription": "ライセンスを取得できませんでした", "USEnglishDescription": null },
            { "ErrorCode": 2605, "ErrorDomain": "DeviceManagement.error" }
        ]});
        let chain = stored_chain(&json).unwrap();
        assert_eq!(chain.0.len(), 2);
        assert_eq!(chain.0[0].code, 12064);
        assert_eq!(chain.0[1].domain, "DeviceManagement.error");
        assert_eq!(
            chain.0[0].localized_description.as_deref(),
            Some("ライセンスを取得できませんでした")
        );
        assert!(stored_chain(&serde_json::json!({ "ErrorChain": [] })).is_none());
    }
}
