//! Apps that reach devices without an admin's deployment (SPEC D5):
//! - an auto-install rule (自動インストールアプリケーション) deploys its app to
//!   every device of its group that enrolls into it or joins it later;
//! - a self-service rule offers its app in the device's portal, where a tap
//!   assigns the license and installs.
//!
//! Both go through the deployment machinery ([`super::run`]) as SYSTEM, so
//! licenses, verification and diagnosis are the same as for an admin's
//! deployment. Which device a rule has been applied to is a *claim*, written
//! in the transaction that registers the deployment.

use serde::{Deserialize, Serialize};

use super::{DeployOptions, TargetOs};
use crate::DomainError;
use crate::auth::Actor;
use crate::error::Entity;
use crate::ids::{AccountId, AppRuleId, DeviceId, GroupId, VppTokenId};
use crate::service::Services;
use crate::time_util::Timestamp;

/// How a rule's app reaches devices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RuleMode {
    /// 自動インストール: on enrollment and on joining the group.
    AutoInstall,
    /// ポータル: offered to the device's user, installed on a tap.
    SelfService,
}

impl RuleMode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AutoInstall => "auto_install",
            Self::SelfService => "self_service",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [Self::AutoInstall, Self::SelfService]
            .into_iter()
            .find(|m| m.as_str() == text)
    }
}

fn yes() -> bool {
    true
}

/// A rule as an admin writes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AppRuleInput {
    pub token_id: VppTokenId,
    pub adam_id: String,
    pub mode: RuleMode,
    #[serde(default = "ios")]
    pub target_os: TargetOs,
    /// The group; every device of the account when absent.
    #[serde(default)]
    pub group_id: Option<GroupId>,
    #[serde(default = "yes")]
    pub include_subgroups: bool,
    #[serde(default)]
    pub options: DeployOptions,
    #[serde(default = "yes")]
    pub enabled: bool,
}

fn ios() -> TargetOs {
    TargetOs::Ios
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AppRule {
    pub id: AppRuleId,
    pub account_id: AccountId,
    #[serde(flatten)]
    pub input: AppRuleInput,
    pub created_by_name: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl AppRule {
    /// Whether the rule's group holds devices of `group`.
    pub fn covers(&self, group: &crate::org::Group) -> bool {
        match self.input.group_id {
            None => true,
            Some(own) if own == group.id => true,
            Some(own) if self.input.include_subgroups => group.id_path.split('/').any(|part| part == own.0.to_string()),
            Some(_) => false,
        }
    }

    /// The claim key of its devices.
    pub fn claim_key(&self) -> String {
        format!("rule:{}", self.id)
    }
}

/// A rule with what it has done, for the console.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct AppRuleView {
    #[serde(flatten)]
    pub rule: AppRule,
    /// The app's name, when its metadata is known.
    pub app_name: Option<String>,
    /// Devices the rule has been applied to (a job, or a skip).
    pub devices_applied: i64,
}

/// Devices a deployment applies a rule (or an automatic update) to, written
/// with the deployment in one transaction. A device already claimed under
/// the key makes the transaction fail, so nothing is deployed twice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeploymentClaims {
    pub key: String,
    pub devices: Vec<DeviceId>,
    /// Drop an earlier claim of these devices first when all its jobs are
    /// finished (a portal app asked for again after it was removed).
    pub renew_finished: bool,
}

/// Why a deployment exists when no admin made it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DeploymentOrigin {
    /// An auto-install rule, for devices that enrolled into or joined its group.
    AutoInstall { rule_id: AppRuleId },
    /// A tap in a device's self-service portal.
    SelfService { rule_id: AppRuleId },
    /// The store version of an installed app moved.
    AutoUpdate { version: String },
}

impl DeploymentOrigin {
    pub fn label_ja(&self) -> &'static str {
        match self {
            Self::AutoInstall { .. } => "自動インストール",
            Self::SelfService { .. } => "ポータル",
            Self::AutoUpdate { .. } => "自動アップデート",
        }
    }
}

/// Where the rule's deployments stand.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct RuleReapplied {
    /// Claims dropped: these devices are looked at again.
    pub released: u64,
}

/// Whether automatic updates are on for one app (on unless opted out).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AutoUpdateSetting {
    pub token_id: VppTokenId,
    pub adam_id: String,
    pub enabled: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
pub struct AutoUpdateRequest {
    pub enabled: bool,
}

impl Services {
    pub async fn app_rules(&self, actor: &Actor) -> Result<Vec<AppRuleView>, DomainError> {
        let rules = self.store.list_app_rules(actor.account_id).await?;
        let mut out = Vec::with_capacity(rules.len());
        for rule in rules {
            out.push(self.view_rule(actor, rule).await?);
        }
        Ok(out)
    }

    pub async fn app_rule(&self, actor: &Actor, id: AppRuleId) -> Result<AppRuleView, DomainError> {
        let rule = self.stored_rule(actor, id).await?;
        self.view_rule(actor, rule).await
    }

    pub async fn create_app_rule(&self, actor: &Actor, input: &AppRuleInput) -> Result<AppRuleView, DomainError> {
        actor.require_write()?;
        let input = self.validated_rule(actor, input).await?;
        let now = Timestamp::now();
        let mut rule = AppRule {
            id: AppRuleId(0),
            account_id: actor.account_id,
            input,
            created_by_name: actor.name.clone(),
            created_at: now,
            updated_at: now,
        };
        rule.id = self.store.insert_app_rule(actor, &rule).await?;
        self.mdm.rules_wake.notify_one();
        self.view_rule(actor, rule).await
    }

    pub async fn update_app_rule(
        &self,
        actor: &Actor,
        id: AppRuleId,
        input: &AppRuleInput,
    ) -> Result<AppRuleView, DomainError> {
        actor.require_write()?;
        let before = self.stored_rule(actor, id).await?;
        let input = self.validated_rule(actor, input).await?;
        let rule = AppRule {
            input,
            updated_at: Timestamp::now(),
            ..before
        };
        self.store.update_app_rule(actor, &rule).await?;
        self.mdm.rules_wake.notify_one();
        self.view_rule(actor, rule).await
    }

    /// Deletes the rule. Apps it installed stay, and so do their licenses.
    pub async fn delete_app_rule(&self, actor: &Actor, id: AppRuleId) -> Result<(), DomainError> {
        actor.require_write()?;
        let rule = self.stored_rule(actor, id).await?;
        self.store.delete_app_rule(actor, &rule).await
    }

    /// Forgets which devices the rule was applied to, so every device of
    /// its group is looked at again (after buying licenses, say, or once
    /// devices were updated to the app's minimum OS).
    pub async fn reapply_app_rule(&self, actor: &Actor, id: AppRuleId) -> Result<RuleReapplied, DomainError> {
        actor.require_write()?;
        let rule = self.stored_rule(actor, id).await?;
        let released = self.store.release_claims(actor, &rule.claim_key()).await?;
        self.mdm.rules_wake.notify_one();
        Ok(RuleReapplied { released })
    }

    pub async fn auto_update_setting(
        &self,
        actor: &Actor,
        token_id: VppTokenId,
        adam_id: &str,
    ) -> Result<AutoUpdateSetting, DomainError> {
        self.stored_vpp_token(actor, token_id).await?;
        let off = self.store.auto_update_opt_outs(actor.account_id).await?;
        Ok(AutoUpdateSetting {
            token_id,
            adam_id: adam_id.to_owned(),
            enabled: !off.contains(&(token_id, adam_id.to_owned())),
        })
    }

    /// Turns automatic updates of one app off or back on.
    pub async fn set_auto_update(
        &self,
        actor: &Actor,
        token_id: VppTokenId,
        adam_id: &str,
        enabled: bool,
    ) -> Result<AutoUpdateSetting, DomainError> {
        actor.require_write()?;
        self.stored_vpp_token(actor, token_id).await?;
        let assets = self.store.list_vpp_assets(actor.account_id, token_id).await?;
        if !assets.iter().any(|a| a.adam_id == adam_id) {
            return Err(DomainError::not_found(Entity::VppAsset));
        }
        self.store.set_auto_update(actor, token_id, adam_id, enabled).await?;
        Ok(AutoUpdateSetting {
            token_id,
            adam_id: adam_id.to_owned(),
            enabled,
        })
    }

    /// The account's rules of `mode` whose group holds the device.
    pub(crate) async fn rules_covering(
        &self,
        actor: &Actor,
        device: &crate::org::Device,
        mode: RuleMode,
    ) -> Result<Vec<AppRule>, DomainError> {
        let group = self.get_group(actor, device.group_id).await?;
        let mut rules = self.store.list_app_rules(actor.account_id).await?;
        rules.retain(|r| r.input.mode == mode && r.covers(&group));
        Ok(rules)
    }

    /// What the store says of the rule's app (empty when not looked up yet).
    pub(crate) async fn rule_app(&self, rule: &AppRule) -> Result<crate::vpp::AssetMetadata, DomainError> {
        let assets = self.store.list_vpp_assets(rule.account_id, rule.input.token_id).await?;
        Ok(assets
            .into_iter()
            .find(|a| a.adam_id == rule.input.adam_id)
            .and_then(|a| a.metadata)
            .unwrap_or_default())
    }

    /// The device's managed apps and their status, from its last list.
    pub(crate) async fn managed_apps_of(
        &self,
        account: AccountId,
        device: DeviceId,
    ) -> Result<std::collections::HashMap<String, String>, DomainError> {
        let inventory = self.store.get_inventory(account, device).await?;
        Ok(inventory
            .iter()
            .find(|i| i.kind == crate::mdm::InventoryKind::ManagedApps)
            .map(|i| super::select::inventoried(std::slice::from_ref(i)).apps.managed)
            .unwrap_or_default())
    }

    async fn stored_rule(&self, actor: &Actor, id: AppRuleId) -> Result<AppRule, DomainError> {
        self.store
            .get_app_rule(actor.account_id, id)
            .await?
            .ok_or(DomainError::not_found(Entity::AppRule))
    }

    async fn view_rule(&self, actor: &Actor, rule: AppRule) -> Result<AppRuleView, DomainError> {
        let app = self.rule_app(&rule).await?;
        let app_name = Some(app.name).filter(|n| !n.is_empty());
        let devices_applied = self.store.claim_count(actor.account_id, &rule.claim_key()).await?;
        Ok(AppRuleView {
            rule,
            app_name,
            devices_applied,
        })
    }

    /// The same checks as a deployment of the app: the token, the app in
    /// its library, the platform, the group.
    async fn validated_rule(&self, actor: &Actor, input: &AppRuleInput) -> Result<AppRuleInput, DomainError> {
        let mut input = input.clone();
        input.adam_id = input.adam_id.trim().to_owned();
        if let Some(group) = input.group_id {
            self.get_group(actor, group).await?;
        }
        let request = super::DeploymentRequest {
            name: None,
            items: vec![super::DeployItem {
                token_id: input.token_id,
                adam_id: input.adam_id.clone(),
            }],
            target_os: input.target_os,
            license_mode: super::LicenseMode::Auto,
            devices: super::DeviceSelection::default(),
            options: input.options.clone(),
            run_at: None,
        };
        self.validated_items(actor, &request).await?;
        Ok(input)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::org::Group;

    fn group(id: i64, path: &str) -> Group {
        Group {
            id: GroupId(id),
            account_id: AccountId(1),
            parent_id: None,
            name: String::new(),
            id_path: path.into(),
            created_at: Timestamp(0),
        }
    }

    fn rule(group_id: Option<i64>, include_subgroups: bool) -> AppRule {
        AppRule {
            id: AppRuleId(1),
            account_id: AccountId(1),
            input: AppRuleInput {
                token_id: VppTokenId(1),
                adam_id: "1".into(),
                mode: RuleMode::AutoInstall,
                target_os: TargetOs::Ios,
                group_id: group_id.map(GroupId),
                include_subgroups,
                options: DeployOptions::default(),
                enabled: true,
            },
            created_by_name: "SYSTEM".into(),
            created_at: Timestamp(0),
            updated_at: Timestamp(0),
        }
    }

    #[test]
    fn a_rule_covers_its_group_and_with_subgroups_its_subtree() {
        let sales = group(4, "/1/4/");
        let sales_tokyo = group(9, "/1/4/9/");
        let other = group(41, "/1/41/");
        assert!(rule(None, false).covers(&other));
        assert!(rule(Some(4), false).covers(&sales));
        assert!(!rule(Some(4), false).covers(&sales_tokyo));
        assert!(rule(Some(4), true).covers(&sales_tokyo));
        // Path parts are compared whole: group 4 is not group 41.
        assert!(!rule(Some(4), true).covers(&other));
        assert_eq!(rule(Some(4), true).claim_key(), "rule:1");
    }

    #[test]
    fn modes_round_trip_their_stored_text() {
        for mode in [RuleMode::AutoInstall, RuleMode::SelfService] {
            assert_eq!(RuleMode::parse(mode.as_str()), Some(mode));
        }
        assert_eq!(RuleMode::parse("manual"), None);
    }
}
