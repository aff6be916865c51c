//! The self-service portal (SPEC D5, seed 000's ポータル): a device's user
//! sees the apps its self-service rules offer and installs one with a tap.
//! The tap does what an admin's deployment does: the license is assigned to
//! the device's serial number first, with no Apple ID and no sign-in.
//!
//! The portal is reached by a signed link an admin hands out (or pushes as
//! a web clip): `<account>.<device>.<expires>.<tag>`, where the tag is an
//! HMAC of the rest under a key derived from the master key. Nothing about
//! the link is stored; it stops working when it expires, when the device
//! is deleted, or when the master key changes.

use serde::Serialize;

use super::rules::{AppRule, DeploymentClaims, DeploymentOrigin, RuleMode};
use super::run::Registered;
use super::{DeployItem, DeploymentRequest, DeviceSelection, LicenseMode};
use crate::DomainError;
use crate::auth::Actor;
use crate::ids::{AccountId, AppRuleId, DeviceId, JobId};
use crate::org::{Device, EnrollmentState};
use crate::service::Services;
use crate::time_util::Timestamp;

const PURPOSE: &str = "portal";
const DAY_MILLIS: i64 = 86_400_000;
/// Links are valid 30 days unless the admin asks otherwise, at most a year.
const DEFAULT_DAYS: i64 = 30;
const MAX_DAYS: i64 = 366;

/// A link to one device's portal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct PortalLink {
    /// The path under the server's address: `/portal/<ticket>`.
    pub path: String,
    pub ticket: String,
    pub expires_at: Timestamp,
}

/// Where an offered app is on the device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PortalAppState {
    /// Can be installed.
    Available,
    /// Asked for; the install job is not finished.
    Installing,
    /// In the device's managed app list.
    Installed,
}

impl PortalAppState {
    pub fn label(self, lang: crate::Lang) -> &'static str {
        match (self, lang) {
            (Self::Available, crate::Lang::Ja) => "インストールできます",
            (Self::Available, crate::Lang::En) => "Available",
            (Self::Installing, crate::Lang::Ja) => "インストール中",
            (Self::Installing, crate::Lang::En) => "Installing",
            (Self::Installed, crate::Lang::Ja) => "インストール済み",
            (Self::Installed, crate::Lang::En) => "Installed",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct PortalApp {
    pub rule_id: AppRuleId,
    pub adam_id: String,
    pub name: String,
    pub icon_url: Option<String>,
    pub version: Option<String>,
    pub size_bytes: Option<i64>,
    pub state: PortalAppState,
    /// The unfinished install job, while installing.
    pub job_id: Option<JobId>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct PortalPage {
    pub device_name: String,
    pub device_number: String,
    pub apps: Vec<PortalApp>,
}

fn bad_link() -> DomainError {
    DomainError::Unauthenticated
}

impl Services {
    /// A signed link to the device's portal, valid `days` (30 by default).
    pub async fn portal_link(
        &self,
        actor: &Actor,
        device: DeviceId,
        days: Option<i64>,
    ) -> Result<PortalLink, DomainError> {
        actor.require_write()?;
        let device = self.get_device(actor, device).await?;
        let days = days.unwrap_or(DEFAULT_DAYS);
        if !(1..=MAX_DAYS).contains(&days) {
            return Err(DomainError::invalid(
                "days",
                format!("有効期間は1〜{MAX_DAYS}日で指定してください。"),
                format!("The link can be valid 1 to {MAX_DAYS} days."),
            ));
        }
        let expires_at = Timestamp(Timestamp::now().0 + days * DAY_MILLIS);
        let message = format!("{}.{}.{}", actor.account_id, device.id, expires_at.0);
        let ticket = format!("{message}.{}", self.master_key.sign(PURPOSE, &message));
        Ok(PortalLink {
            path: format!("/portal/{ticket}"),
            ticket,
            expires_at,
        })
    }

    /// The device a ticket stands for, when its tag, expiry and device hold.
    async fn portal_device(&self, ticket: &str) -> Result<(Actor, Device), DomainError> {
        let (message, tag) = ticket.rsplit_once('.').ok_or_else(bad_link)?;
        if !self.master_key.verify(PURPOSE, message, tag) {
            return Err(bad_link());
        }
        let mut parts = message.split('.').map(str::parse::<i64>);
        let (Some(Ok(account)), Some(Ok(device)), Some(Ok(expires)), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(bad_link());
        };
        if expires < Timestamp::now().0 {
            return Err(DomainError::conflict(
                "portal_link_expired",
                "このポータルのリンクは有効期限が切れています。管理者に新しいリンクを依頼してください。",
                "This portal link has expired. Ask your administrator for a new one.",
            ));
        }
        let actor = Actor::system(AccountId(account));
        let device = self
            .store
            .get_device(actor.account_id, DeviceId(device))
            .await?
            .ok_or_else(bad_link)?;
        Ok((actor, device))
    }

    /// The apps the device's portal offers, with their state on the device.
    pub async fn portal_page(&self, ticket: &str) -> Result<PortalPage, DomainError> {
        let (actor, device) = self.portal_device(ticket).await?;
        let rules = self.portal_rules(&actor, &device).await?;
        let managed = self.managed_apps_of(actor.account_id, device.id).await?;
        let unfinished = self
            .store
            .list_jobs(
                actor.account_id,
                &crate::jobs::JobQuery {
                    device_id: Some(device.id),
                    active_only: true,
                    limit: Some(1000),
                    ..Default::default()
                },
            )
            .await?;
        let mut apps = Vec::with_capacity(rules.len());
        for rule in rules {
            let meta = self.rule_app(&rule).await?;
            let job = unfinished
                .iter()
                .find(|j| j.content_id.as_deref() == Some(rule.input.adam_id.as_str()) && !j.status.is_final());
            let installed = meta
                .bundle_id
                .as_ref()
                .and_then(|b| managed.get(b))
                .is_some_and(|s| s == "Managed");
            let state = match (job, installed) {
                (Some(_), _) => PortalAppState::Installing,
                (None, true) => PortalAppState::Installed,
                (None, false) => PortalAppState::Available,
            };
            apps.push(PortalApp {
                rule_id: rule.id,
                adam_id: rule.input.adam_id.clone(),
                name: if meta.name.is_empty() {
                    rule.input.adam_id.clone()
                } else {
                    meta.name
                },
                icon_url: meta.icon_url,
                version: meta.version,
                size_bytes: meta.size_bytes,
                state,
                job_id: job.map(|j| j.id),
            });
        }
        Ok(PortalPage {
            device_name: device.display_name,
            device_number: device.device_number,
            apps,
        })
    }

    /// A tap: assigns the license and installs, as a deployment of one
    /// device made by SYSTEM. Asking again while the install runs changes
    /// nothing.
    pub async fn portal_install(&self, ticket: &str, rule_id: AppRuleId) -> Result<PortalApp, DomainError> {
        let (actor, device) = self.portal_device(ticket).await?;
        if device.enrollment_state != EnrollmentState::Enrolled {
            return Err(DomainError::conflict(
                "device_not_enrolled",
                "この端末はMDMに登録されていないため、アプリをインストールできません。",
                "This device is not enrolled, so no app can be installed on it.",
            ));
        }
        let rule = self
            .portal_rules(&actor, &device)
            .await?
            .into_iter()
            .find(|r| r.id == rule_id)
            .ok_or(DomainError::not_found(crate::error::Entity::AppRule))?;
        let current = self.portal_state(ticket, rule_id).await?;
        if current.state == PortalAppState::Installing {
            return Ok(current);
        }
        let request = DeploymentRequest {
            name: None,
            items: vec![DeployItem {
                token_id: rule.input.token_id,
                adam_id: rule.input.adam_id.clone(),
            }],
            target_os: rule.input.target_os,
            license_mode: LicenseMode::Auto,
            devices: DeviceSelection {
                include_subgroups: true,
                device_ids: vec![device.id],
                ..DeviceSelection::default()
            },
            options: rule.input.options.clone(),
            run_at: None,
        };
        let claims = DeploymentClaims {
            key: rule.claim_key(),
            devices: vec![device.id],
            renew_finished: true,
        };
        let origin = DeploymentOrigin::SelfService { rule_id };
        match self
            .register_deployment(&actor, &request, Some(origin), Some(&claims))
            .await?
        {
            Registered::Deployment(_) => self.portal_state(ticket, rule_id).await,
            Registered::NothingToDeploy(summary) => {
                let skip = summary.skipped.first();
                let (ja, en) = skip
                    .map(|s| (s.message_ja.clone(), s.message_en.clone()))
                    .unwrap_or_default();
                Err(DomainError::conflict(
                    "portal_not_installable",
                    format!("この端末にはインストールできません: {ja}"),
                    format!("This app cannot be installed on this device: {en}"),
                ))
            }
        }
    }

    async fn portal_state(&self, ticket: &str, rule_id: AppRuleId) -> Result<PortalApp, DomainError> {
        self.portal_page(ticket)
            .await?
            .apps
            .into_iter()
            .find(|a| a.rule_id == rule_id)
            .ok_or(DomainError::not_found(crate::error::Entity::AppRule))
    }

    /// Enabled self-service rules whose group holds the device.
    async fn portal_rules(&self, actor: &Actor, device: &Device) -> Result<Vec<AppRule>, DomainError> {
        let mut offered = self.rules_covering(actor, device, RuleMode::SelfService).await?;
        offered.retain(|r| r.input.enabled);
        Ok(offered)
    }
}
