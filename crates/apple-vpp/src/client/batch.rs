//! Writes larger than Apple's per-call limits, split and sent one batch after another.
//!
//! Batches go out sequentially (the rate limiter spaces them) and stop at the first
//! failure. Earlier batches were accepted by Apple and cannot be undone here, so a
//! failure after the first batch is [`VppError::PartialBatch`] with their events.

use serde::Serialize;

use super::VppClient;
use crate::endpoints::{EventResponse, ManageAssetsRequest, ManageUsersRequest, RevokeAssetsRequest};
use crate::errors::VppError;
use crate::limits::{split_manage_assets, split_revoke, split_users};
use crate::retry::Idempotency;

impl VppClient {
    /// `assets/associate` in as many calls as the limits require.
    pub async fn associate_assets_batched(
        &self,
        request: &ManageAssetsRequest,
    ) -> Result<Vec<EventResponse>, VppError> {
        let batches = split_manage_assets(request, &self.limits());
        self.send_batches("assets/associate", &batches).await
    }

    pub async fn disassociate_assets_batched(
        &self,
        request: &ManageAssetsRequest,
    ) -> Result<Vec<EventResponse>, VppError> {
        let batches = split_manage_assets(request, &self.limits());
        self.send_batches("assets/disassociate", &batches).await
    }

    pub async fn revoke_assets_batched(&self, request: &RevokeAssetsRequest) -> Result<Vec<EventResponse>, VppError> {
        let batches = split_revoke(request, &self.limits());
        self.send_batches("assets/revoke", &batches).await
    }

    pub async fn create_users_batched(&self, request: &ManageUsersRequest) -> Result<Vec<EventResponse>, VppError> {
        let batches = split_users(request, &self.limits());
        self.send_batches("users/create", &batches).await
    }

    pub async fn update_users_batched(&self, request: &ManageUsersRequest) -> Result<Vec<EventResponse>, VppError> {
        let batches = split_users(request, &self.limits());
        self.send_batches("users/update", &batches).await
    }

    pub async fn retire_users_batched(&self, request: &ManageUsersRequest) -> Result<Vec<EventResponse>, VppError> {
        let batches = split_users(request, &self.limits());
        self.send_batches("users/retire", &batches).await
    }

    async fn send_batches<B: Serialize>(
        &self,
        endpoint: &'static str,
        batches: &[B],
    ) -> Result<Vec<EventResponse>, VppError> {
        let mut completed = Vec::with_capacity(batches.len());
        for (i, batch) in batches.iter().enumerate() {
            match self.post(endpoint, batch, Idempotency::NonIdempotent).await {
                Ok(event) => completed.push(event),
                Err(e) if completed.is_empty() => return Err(e),
                Err(e) => {
                    return Err(VppError::PartialBatch {
                        completed,
                        failed_batch: i,
                        total_batches: batches.len(),
                        source: Box::new(e),
                    });
                }
            }
        }
        Ok(completed)
    }
}
