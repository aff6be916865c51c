//! The command endpoint (MDM reference §5): the device reports the result of
//! its last command (or Idle) and gets its next one from the durable queue.

use apple_mdm::{CommandReport, CommandStatus};

use super::device_auth::{ClientProof, DeviceRequestError};
use super::results::effects_of;
use super::store::InventoryKind;
use crate::jobs::JobOutcome;
use crate::org::EnrollmentState;
use crate::service::Services;
use crate::time_util::Timestamp;

/// The reply body: a command plist, or empty for "nothing more" (it must be
/// truly empty, not an empty plist).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectReply {
    pub body: Vec<u8>,
}

fn bad(reason: impl std::fmt::Display) -> DeviceRequestError {
    DeviceRequestError::Malformed(reason.to_string())
}

impl Services {
    pub async fn handle_connect(&self, proof: &ClientProof, body: &[u8]) -> Result<ConnectReply, DeviceRequestError> {
        let report = CommandReport::from_xml(body).map_err(bad)?;
        let identity = self.authenticate_device_request(proof, body).await?;
        let device = self.bound_device(&identity, report.identity.udid().map(|u| u.as_str()))?;
        if identity
            .bound
            .as_ref()
            .is_some_and(|b| b.enrollment_state == EnrollmentState::Unenrolled)
        {
            return Err(DeviceRequestError::Unauthorized("the device checked out".into()));
        }
        let account = identity.identity.account_id;
        let now = Timestamp::now();
        self.touch(account, device, now).await?;
        if report.identity.user.is_some() {
            // haishin queues nothing on user channels yet; "no command" is
            // the documented answer.
            return Ok(ConnectReply { body: Vec::new() });
        }
        if report.status != CommandStatus::Idle {
            let uuid = report
                .command_uuid
                .as_ref()
                .ok_or_else(|| bad("a report without CommandUUID"))?
                .as_str()
                .to_owned();
            let request_type = self.store.job_request_type(account, device, &uuid).await?;
            let effects = match &request_type {
                Some(request_type) => Some(effects_of(request_type, &report).map_err(bad)?),
                // Not a command of ours (or purged): nothing to apply.
                None => None,
            };
            if let Some(effects) = effects {
                if let Some(facts) = &effects.facts {
                    self.record_facts(account, device, facts, now).await?;
                }
                if let Some((kind, items)) = &effects.inventory {
                    self.store.put_inventory(account, device, *kind, items, now).await?;
                    if *kind == InventoryKind::InstalledApps {
                        // A newly enrolled device is ready for auto-install
                        // once its app list is known.
                        self.mdm.rules_wake.notify_one();
                    }
                }
                let recorded = self
                    .store
                    .record_report(account, device, &uuid, &effects.outcome, now)
                    .await?;
                let first_report = matches!(recorded, crate::jobs::ReportDisposition::Recorded(_));
                if first_report && matches!(effects.outcome, JobOutcome::Verifying { .. }) {
                    let request_type = request_type.as_deref().unwrap_or_default();
                    self.install_acknowledged(account, device, request_type, now).await?;
                }
                if let Some((kind, items)) = &effects.inventory
                    && matches!(kind, InventoryKind::ManagedApps | InventoryKind::ManagedMedia)
                {
                    self.verify_installs(account, device, *kind, items, now).await?;
                }
                if effects.wiped {
                    self.device_left(account, device, now, "device wiped").await?;
                    return Ok(ConnectReply { body: Vec::new() });
                }
                if effects.outcome == JobOutcome::NotNow {
                    // Reference §5.4 (a): send nothing more, so the device
                    // polls again by itself when it can.
                    return Ok(ConnectReply { body: Vec::new() });
                }
            } else if report.status == CommandStatus::NotNow {
                return Ok(ConnectReply { body: Vec::new() });
            }
        }
        let next = self.store.next_delivery(account, device, now).await?;
        Ok(ConnectReply {
            body: next.map(|d| d.command.into_bytes()).unwrap_or_default(),
        })
    }

    /// Applies reported facts; a serial number another device of the account
    /// already has (a mistyped CSV row, say) is left out rather than
    /// failing the report forever.
    pub(crate) async fn record_facts(
        &self,
        account: crate::ids::AccountId,
        device: crate::ids::DeviceId,
        facts: &super::store::DeviceFacts,
        now: Timestamp,
    ) -> Result<(), DeviceRequestError> {
        match self.store.record_device_facts(account, device, facts, now).await {
            Err(crate::DomainError::Conflict { .. }) => {
                tracing::warn!(%device, "reported serial number belongs to another device; not recorded");
                let facts = super::store::DeviceFacts {
                    serial_number: None,
                    udid: None,
                    ..facts.clone()
                };
                Ok(self.store.record_device_facts(account, device, &facts, now).await?)
            }
            other => Ok(other?),
        }
    }

    /// Records the check-in time at most once a minute per device, so a
    /// session of many commands does not write it every time.
    pub(crate) async fn touch(
        &self,
        account: crate::ids::AccountId,
        device: crate::ids::DeviceId,
        now: Timestamp,
    ) -> Result<(), DeviceRequestError> {
        if self.mdm.touches.should_touch(device, now) {
            self.store.touch_device(account, device, now).await?;
        }
        Ok(())
    }
}
