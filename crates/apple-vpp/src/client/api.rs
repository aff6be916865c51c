//! One typed method per v2 endpoint, plus the content-metadata lookup.

use std::sync::Arc;

use reqwest::Url;

use super::{Auth, VppClient};
use crate::endpoints::{
    AssetsQuery, Assignment, AssignmentsQuery, ClientConfigRequest, ClientConfigResponse, EventResponse,
    GetAssetsResponse, GetAssignmentsResponse, GetUsersResponse, ManageAssetsRequest, ManageUsersRequest,
    MetadataQuery, MetadataResponse, ResponseAsset, ResponseUser, RevokeAssetsRequest, ServiceConfigResponse,
    StatusQuery, StatusResponse, UsersQuery, query_pairs,
};
use crate::errors::VppError;
use crate::limits::BatchLimits;
use crate::pagination::{Collected, PagedQuery, Pager};
use crate::retry::Idempotency;

impl VppClient {
    /// `GET service/config` (no authentication). Does not touch the cache.
    pub async fn service_config(&self) -> Result<ServiceConfigResponse, VppError> {
        let url = self.url("service/config")?;
        self.get("service/config", url, Vec::new(), Auth::None).await
    }

    /// Reads service config and applies its limits (batch sizes, request rate). Apple
    /// asks for this every 5 minutes; the caller schedules it.
    pub async fn refresh_service_config(&self) -> Result<Arc<ServiceConfigResponse>, VppError> {
        let cfg = Arc::new(self.service_config().await?);
        self.set_service_config(cfg.clone());
        Ok(cfg)
    }

    /// Limits from the cached service config, or Apple's documented defaults.
    pub fn limits(&self) -> BatchLimits {
        self.cached_service_config()
            .map(|c| BatchLimits::from(&c.limits))
            .unwrap_or_default()
    }

    /// `GET client/config`: the cheapest token check; shows which MDM claims the location.
    pub async fn client_config(&self) -> Result<ClientConfigResponse, VppError> {
        let url = self.url("client/config")?;
        self.get("client/config", url, Vec::new(), Auth::Bearer).await
    }

    /// `POST client/config`: claim the location (`mdmInfo`) and/or set notifications.
    /// Apple sends a TEST_NOTIFICATION before answering and fails with 9728 if it can't.
    pub async fn set_client_config(&self, request: &ClientConfigRequest) -> Result<ClientConfigResponse, VppError> {
        // Setting the same configuration twice is harmless.
        self.post("client/config", request, Idempotency::Idempotent).await
    }

    /// One page of `GET <path>` for a paginated query.
    pub async fn get_page<Q: PagedQuery>(&self, query: &Q) -> Result<Q::Response, VppError> {
        let url = self.url(Q::PATH)?;
        self.get(Q::PATH, url, query_pairs(query), Auth::Bearer).await
    }

    /// A page-by-page walk from page 0.
    pub fn pager<Q: PagedQuery>(&self, query: Q) -> Pager<'_, Q> {
        Pager::new(self, query, 0)
    }

    /// One page of `GET assets`.
    pub async fn assets(&self, query: &AssetsQuery) -> Result<GetAssetsResponse, VppError> {
        self.get_page(query).await
    }

    /// One page of `GET assignments`.
    pub async fn assignments(&self, query: &AssignmentsQuery) -> Result<GetAssignmentsResponse, VppError> {
        self.get_page(query).await
    }

    /// One page of `GET users`.
    pub async fn users(&self, query: &UsersQuery) -> Result<GetUsersResponse, VppError> {
        self.get_page(query).await
    }

    /// Every page of `GET assets`; fails with [`VppError::VersionChanged`] if the data
    /// changed mid-walk.
    pub async fn all_assets(&self, query: AssetsQuery) -> Result<Collected<ResponseAsset>, VppError> {
        self.pager(query).collect_items().await
    }

    pub async fn all_assignments(&self, query: AssignmentsQuery) -> Result<Collected<Assignment>, VppError> {
        self.pager(query).collect_items().await
    }

    pub async fn all_users(&self, query: UsersQuery) -> Result<Collected<ResponseUser>, VppError> {
        self.pager(query).collect_items().await
    }

    /// `POST assets/associate` (one call; see `associate_assets_batched` for large sets).
    pub async fn associate_assets(&self, request: &ManageAssetsRequest) -> Result<EventResponse, VppError> {
        self.post("assets/associate", request, Idempotency::NonIdempotent).await
    }

    pub async fn disassociate_assets(&self, request: &ManageAssetsRequest) -> Result<EventResponse, VppError> {
        self.post("assets/disassociate", request, Idempotency::NonIdempotent)
            .await
    }

    pub async fn revoke_assets(&self, request: &RevokeAssetsRequest) -> Result<EventResponse, VppError> {
        self.post("assets/revoke", request, Idempotency::NonIdempotent).await
    }

    pub async fn create_users(&self, request: &ManageUsersRequest) -> Result<EventResponse, VppError> {
        self.post("users/create", request, Idempotency::NonIdempotent).await
    }

    pub async fn update_users(&self, request: &ManageUsersRequest) -> Result<EventResponse, VppError> {
        self.post("users/update", request, Idempotency::NonIdempotent).await
    }

    pub async fn retire_users(&self, request: &ManageUsersRequest) -> Result<EventResponse, VppError> {
        self.post("users/retire", request, Idempotency::NonIdempotent).await
    }

    /// `GET status?eventId=`. Apple: poll only when no notification came within 5
    /// minutes, at least 30 s apart.
    pub async fn event_status(&self, event_id: &str) -> Result<StatusResponse, VppError> {
        let url = self.url("status")?;
        let query = query_pairs(&StatusQuery {
            event_id: event_id.to_owned(),
        });
        self.get("status", url, query, Auth::Bearer).await
    }

    /// The content-metadata lookup. With `authenticated`, the sToken goes along as a
    /// cookie so custom (B2B) apps and apps no longer sold are found too.
    pub async fn content_metadata(
        &self,
        query: &MetadataQuery,
        authenticated: bool,
    ) -> Result<MetadataResponse, VppError> {
        let url = self.metadata_lookup_url().await?;
        let auth = if authenticated { Auth::Cookie } else { Auth::None };
        self.get("contentMetadataLookup", url, query_pairs(query), auth).await
    }

    async fn metadata_lookup_url(&self) -> Result<Url, VppError> {
        if let Some(u) = &self.config().metadata_lookup_url {
            return Ok(u.clone());
        }
        let cfg = match self.cached_service_config() {
            Some(c) => c,
            None => self.refresh_service_config().await?,
        };
        let raw = cfg
            .urls
            .content_metadata_lookup
            .as_deref()
            .ok_or_else(|| VppError::Config("service config has no contentMetadataLookup URL".into()))?;
        Url::parse(raw).map_err(|e| VppError::Config(format!("contentMetadataLookup URL: {e}")))
    }
}
