//! Sync (SPEC T5, A1): Apple's assets with their counts, every assignment,
//! and the metadata of apps and books, into this server's records.
//!
//! Assignments are read in full each time: `sinceVersionId` returns what
//! changed but cannot say what was removed, and a removal missed is a
//! license the console would show forever.

use std::collections::BTreeSet;

use apple_vpp::{AssetsQuery, AssignmentsQuery, MetadataQuery};
use serde::Serialize;

use super::store::LicenseKey;
use super::{AssetMetadata, StoredVppToken, TokenStatus, VppAsset};
use crate::DomainError;
use crate::auth::Actor;
use crate::ids::VppTokenId;
use crate::service::Services;
use crate::time_util::Timestamp;

/// How many ids one metadata lookup carries.
const METADATA_BATCH: usize = 50;

/// What a sync found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct SyncSummary {
    pub assets: usize,
    pub licenses: usize,
    pub licenses_added: u64,
    pub licenses_removed: u64,
    pub metadata_fetched: usize,
    pub pages: u32,
}

impl Services {
    /// Syncs one token now (同期), for the admin who asked.
    pub async fn sync_vpp_token(&self, actor: &Actor, id: VppTokenId) -> Result<SyncSummary, DomainError> {
        actor.require_write()?;
        let mut stored = self.stored_vpp_token(actor, id).await?;
        self.sync_stored_token(&mut stored).await
    }

    /// The scheduled and notification-triggered sync; the scheduled one
    /// also refreshes the VPP users' status (U3's daily refresh).
    pub async fn sync_vpp_token_in_background(&self, mut stored: StoredVppToken) {
        let id = stored.token.id;
        if let Err(e) = self.sync_stored_token(&mut stored).await {
            tracing::warn!(token = %id, "VPP sync: {}", e.message(crate::Lang::En));
        }
    }

    pub async fn refresh_vpp_users_in_background(&self, mut stored: StoredVppToken) {
        let id = stored.token.id;
        if let Err(e) = self.refresh_users_of(&mut stored).await {
            tracing::warn!(token = %id, "VPP users: {}", e.message(crate::Lang::En));
        }
    }

    pub(crate) async fn sync_stored_token(&self, stored: &mut StoredVppToken) -> Result<SyncSummary, DomainError> {
        let result = self.sync_inner(stored).await;
        // Reload: a sync is long and an admin may have changed the token meanwhile.
        if let Some(mut current) = self.store.get_vpp_token(stored.account_id, stored.token.id).await? {
            current.token.last_sync_at = Some(Timestamp::now());
            current.token.last_sync_error = result.as_ref().err().map(|e| e.message(crate::Lang::Ja));
            if let Ok((_, version)) = &result {
                current.assignments_version = version.clone();
            }
            if matches!(stored.token.status, TokenStatus::Expired | TokenStatus::Revoked)
                || stored.token.other_manager.is_some()
            {
                current.token.status = stored.token.status;
                current.token.other_manager = stored.token.other_manager.clone();
            }
            self.store.save_vpp_token(None, "vpp_token.sync", &current).await?;
            *stored = current;
        }
        result.map(|(summary, _)| summary)
    }

    async fn sync_inner(&self, stored: &mut StoredVppToken) -> Result<(SyncSummary, Option<String>), DomainError> {
        let client = self.vpp_client(stored)?;
        let config = match client.client_config().await {
            Ok(c) => c,
            Err(e) => return Err(self.vpp_failed(stored, &e).await),
        };
        // A location taken by another MDM is still read: the admin sees its
        // licenses while deciding whether to take it over.
        if let Err(conflict) = self.vpp_observe(stored, &config.envelope).await {
            tracing::info!(token = %stored.token.id, "syncing a location another MDM holds: {conflict}");
        }
        if let Err(e) = client.refresh_service_config().await {
            return Err(self.vpp_failed(stored, &e).await);
        }
        let assets = match client.all_assets(AssetsQuery::default()).await {
            Ok(a) => a,
            Err(e) => return Err(self.vpp_failed(stored, &e).await),
        };
        let assignments = match client.all_assignments(AssignmentsQuery::default()).await {
            Ok(a) => a,
            Err(e) => return Err(self.vpp_failed(stored, &e).await),
        };
        let known = self.store.list_vpp_assets(stored.account_id, stored.token.id).await?;
        let rows: Vec<VppAsset> = assets
            .items
            .iter()
            .map(|a| VppAsset {
                adam_id: a.adam_id.clone(),
                pricing_param: a.pricing_param.as_str().to_owned(),
                product_type: a
                    .product_type
                    .as_ref()
                    .map(|p| p.as_str().to_owned())
                    .unwrap_or_else(|| "App".into()),
                revocable: a.revocable,
                device_assignable: a.device_assignable,
                platforms: a.supported_platforms.iter().map(|p| p.as_str().to_owned()).collect(),
                total_count: a.total_count,
                assigned_count: a.assigned_count,
                available_count: a.available_count,
                retired_count: a.retired_count,
                metadata: known
                    .iter()
                    .find(|k| k.adam_id == a.adam_id && k.pricing_param == a.pricing_param.as_str())
                    .and_then(|k| k.metadata.clone()),
                low_on_licenses: false,
                counts_differ: false,
            })
            .collect();
        self.store.replace_vpp_assets(stored.token.id, &rows).await?;
        let licenses: BTreeSet<LicenseKey> = assignments
            .items
            .iter()
            .filter_map(LicenseKey::from_assignment)
            .collect();
        let licenses: Vec<LicenseKey> = licenses.into_iter().collect();
        let (added, removed) = self
            .store
            .replace_licenses(stored.account_id, stored.token.id, &licenses)
            .await?;
        let metadata_fetched = self.fetch_missing_metadata(&client, stored, &rows).await;
        Ok((
            SyncSummary {
                assets: rows.len(),
                licenses: licenses.len(),
                licenses_added: added,
                licenses_removed: removed,
                metadata_fetched,
                pages: assets.pages + assignments.pages,
            },
            assignments.version_id,
        ))
    }

    /// Looks up names, icons, versions and sizes of assets without them, or
    /// whose metadata is older than the configured age (a new version).
    /// A lookup failure leaves the assets listed by id; the next sync retries.
    async fn fetch_missing_metadata(
        &self,
        client: &apple_vpp::VppClient,
        stored: &StoredVppToken,
        assets: &[VppAsset],
    ) -> usize {
        let now = Timestamp::now();
        let stale_before = Timestamp(now.0 - self.vpp.settings.metadata_max_age_millis);
        let stale: BTreeSet<String> = match self.store.stale_asset_metadata(stored.token.id, stale_before).await {
            Ok(ids) => ids.into_iter().collect(),
            Err(e) => {
                tracing::warn!(token = %stored.token.id, "finding stale metadata: {}", e.message(crate::Lang::En));
                BTreeSet::new()
            }
        };
        let missing: Vec<&str> = assets
            .iter()
            .filter(|a| a.metadata.is_none() || stale.contains(&a.adam_id))
            .map(|a| a.adam_id.as_str())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let mut fetched = 0;
        for chunk in missing.chunks(METADATA_BATCH) {
            let query = MetadataQuery::new(chunk.iter().copied(), &stored.token.default_platform)
                .country(&stored.token.country.to_lowercase());
            let response = match client.content_metadata(&query, true).await {
                Ok(r) => r,
                Err(e) => {
                    tracing::warn!(token = %stored.token.id, "metadata lookup: {e}");
                    return fetched;
                }
            };
            for (adam_id, app) in &response.results {
                let metadata = AssetMetadata {
                    name: app.name.clone().unwrap_or_else(|| adam_id.clone()),
                    bundle_id: app.bundle_id.clone(),
                    icon_url: app.icon_url(512, "png"),
                    version: app.version().map(str::to_owned),
                    size_bytes: app.size_bytes().map(|b| b as i64),
                    minimum_os: app.minimum_os_version.clone(),
                    device_families: app.device_families.clone(),
                };
                if self
                    .store
                    .set_asset_metadata(stored.token.id, adam_id, &metadata, now)
                    .await
                    .is_ok()
                {
                    fetched += 1;
                }
            }
        }
        fetched
    }

    /// Assets of a token with their counts and metadata (A1), flagged
    /// when licenses run low or this server's records drift from Apple's.
    pub async fn vpp_assets(&self, actor: &Actor, id: VppTokenId) -> Result<Vec<VppAsset>, DomainError> {
        self.stored_vpp_token(actor, id).await?;
        let mut assets = self.store.list_vpp_assets(actor.account_id, id).await?;
        let recorded: std::collections::HashMap<(String, String), i64> = self
            .store
            .license_counts(actor.account_id, id)
            .await?
            .into_iter()
            .map(|(adam_id, pricing, count)| ((adam_id, pricing), count))
            .collect();
        let threshold = self.vpp.settings.low_license_threshold;
        for asset in &mut assets {
            let unlimited = asset.total_count >= i64::from(i32::MAX);
            asset.low_on_licenses = !unlimited && asset.available_count < threshold;
            let ours = recorded
                .get(&(asset.adam_id.clone(), asset.pricing_param.clone()))
                .copied()
                .unwrap_or(0);
            asset.counts_differ = ours != asset.assigned_count;
        }
        Ok(assets)
    }
}
