//! Automatic reclaim (SPEC L3): the licenses haishin assigned by itself
//! to a device go back to the pool when the device leaves management:
//! deleted, wiped, or checked out. Licenses an admin assigned, or that were
//! found at Apple, stay (seed 001: a pre-existing license is not haishin's
//! to take back).

use std::collections::BTreeMap;

use super::LicenseTarget;
use super::licenses::LicenseRequest;
use super::store::LicenseFilter;
use crate::DomainError;
use crate::auth::Actor;
use crate::ids::{AccountId, DeviceId, VppOperationId, VppTokenId};
use crate::service::Services;
use crate::time_util::Timestamp;

impl Services {
    /// Queues revocation of the device's automatically assigned licenses,
    /// as SYSTEM. Returns the operations queued (one per token).
    pub async fn reclaim_auto_licenses(
        &self,
        account: AccountId,
        device: DeviceId,
        why: &'static str,
    ) -> Result<Vec<VppOperationId>, DomainError> {
        let Some(device) = self.store.get_device(account, device).await? else {
            return Ok(Vec::new());
        };
        let Some(serial) = device.serial_number else {
            return Ok(Vec::new());
        };
        let filter = LicenseFilter {
            target: Some(LicenseTarget::Serial(serial.clone())),
            ..Default::default()
        };
        let mut by_token: BTreeMap<VppTokenId, Vec<String>> = BTreeMap::new();
        for license in self.store.list_licenses(account, &filter).await? {
            if license.auto_assigned {
                by_token.entry(license.token_id).or_default().push(license.adam_id);
            }
        }
        let actor = Actor::system(account);
        let mut queued = Vec::new();
        for (token, adam_ids) in by_token {
            let revocable_here = self.revocable_adam_ids(account, token).await?;
            let revocable: Vec<String> = adam_ids.into_iter().filter(|a| revocable_here.contains(a)).collect();
            if revocable.is_empty() {
                continue;
            }
            let request = LicenseRequest {
                adam_ids: revocable,
                serial_numbers: vec![serial.clone()],
                client_user_ids: Vec::new(),
            };
            match self.revoke_licenses(&actor, token, &request).await {
                Ok(operation) => {
                    tracing::info!(%serial, %token, why, operation = %operation.id, "reclaiming automatic licenses");
                    queued.push(operation.id);
                }
                // A token that can't write (expired, another MDM) keeps the
                // license at Apple; the admin sees it on the token.
                Err(e) => tracing::warn!(%serial, %token, why, "automatic licenses not reclaimed: {e}"),
            }
        }
        Ok(queued)
    }

    /// The device left management by itself (CheckOut, or an acknowledged
    /// EraseDevice): it is unenrolled and its automatic licenses reclaimed.
    /// A reclaim that fails must not fail the device's request.
    pub(crate) async fn device_left(
        &self,
        account: AccountId,
        device: DeviceId,
        now: Timestamp,
        why: &'static str,
    ) -> Result<(), DomainError> {
        self.store.unenroll_device(account, device, now).await?;
        if let Err(e) = self.reclaim_auto_licenses(account, device, why).await {
            tracing::warn!(%device, why, "automatic licenses not reclaimed: {e}");
        }
        Ok(())
    }
}
