//! Apple's notifications (reference §4), posted to
//! `/vpp/notifications/{mdm_id}`: authenticated by the secret set in
//! client/config, de-duplicated by `notificationId`, answered at once and
//! acted on in the background.

use apple_vpp::notifications::{AssetManagementNotification, NotificationResult};
use apple_vpp::{NotificationBody, parse_notification, verify_notification_auth};

use crate::service::Services;
use crate::time_util::Timestamp;

/// Why a notification was refused; the HTTP layer maps these to 401/400/404.
#[derive(Debug, thiserror::Error)]
pub enum NotificationError {
    #[error("unknown notification path")]
    UnknownToken,
    #[error("notification not authenticated: {0}")]
    Unauthorized(#[from] apple_vpp::NotificationAuthError),
    #[error("malformed notification: {0}")]
    Malformed(String),
    #[error("{0}")]
    Internal(String),
}

impl From<crate::DomainError> for NotificationError {
    fn from(e: crate::DomainError) -> Self {
        Self::Internal(e.to_string())
    }
}

impl Services {
    /// Checks and records one notification. Returns once it is safe to
    /// answer 200; the work it implies runs on a spawned task.
    pub async fn receive_vpp_notification(
        &self,
        mdm_id: &str,
        authorization: Option<&str>,
        body: &[u8],
    ) -> Result<(), NotificationError> {
        let token = self
            .store
            .vpp_token_by_mdm_id(mdm_id)
            .await?
            .ok_or(NotificationError::UnknownToken)?;
        if token.sealed_notification_secret.is_none() {
            return Err(NotificationError::UnknownToken);
        }
        let secret = self.notification_secret(&token)?;
        verify_notification_auth(authorization, secret.expose())?;
        let notification = parse_notification(body).map_err(|e| NotificationError::Malformed(e.to_string()))?;
        if notification.u_id != token.token.location_uid {
            return Err(NotificationError::Malformed(format!(
                "uId {} is not this token's location",
                notification.u_id
            )));
        }
        if !self
            .store
            .first_vpp_notification(token.token.id, &notification.notification_id, Timestamp::now())
            .await?
        {
            tracing::debug!(id = %notification.notification_id, "duplicate VPP notification ignored");
            return Ok(());
        }
        metrics::counter!("haishin_vpp_notifications_total").increment(1);
        let services = self.clone();
        tokio::spawn(async move {
            match notification.body {
                NotificationBody::Test => {}
                NotificationBody::AssetManagement(n) => services.on_asset_management(&token, &n).await,
                NotificationBody::AssetCount(_) => services.sync_vpp_token_in_background(token).await,
                NotificationBody::UserManagement(n) => {
                    if let Err(e) = services.apply_apple_users(&token, &n.users).await {
                        tracing::warn!("applying USER_MANAGEMENT: {e}");
                    }
                }
                NotificationBody::UserAssociated(n) => {
                    if let Err(e) = services.apply_apple_users(&token, &n.associated_users).await {
                        tracing::warn!("applying USER_ASSOCIATED: {e}");
                    }
                }
                NotificationBody::Other { notification_type, .. } => {
                    tracing::debug!(%notification_type, "VPP notification type not handled");
                }
            }
        });
        Ok(())
    }

    /// Records the licenses a successful batch changed at once, and marks
    /// the event so the worker reads its final status now instead of after
    /// Apple's 5 minutes.
    async fn on_asset_management(&self, token: &super::StoredVppToken, n: &AssetManagementNotification) {
        let result = async {
            let Some(operation_id) = self.store.vpp_operation_by_event(token.token.id, &n.event_id).await? else {
                // Not ours (another tool, or an operation already purged):
                // the scheduled sync reconciles.
                return Ok::<_, crate::DomainError>(());
            };
            if n.result == NotificationResult::Success {
                let keys: Vec<super::store::LicenseKey> = n
                    .assignments
                    .iter()
                    .filter_map(super::store::LicenseKey::from_assignment)
                    .collect();
                let operation = self.store.get_vpp_operation(token.account_id, operation_id).await?;
                if let Some(operation) = operation {
                    self.record_license_changes(token.account_id, &operation, keys).await?;
                }
            }
            self.store.mark_vpp_event_notified(token.token.id, &n.event_id).await?;
            self.vpp.operations_wake.notify_one();
            Ok(())
        }
        .await;
        if let Err(e) = result {
            tracing::warn!(event = %n.event_id, "applying an ASSET_MANAGEMENT notification: {e}");
        }
    }
}
