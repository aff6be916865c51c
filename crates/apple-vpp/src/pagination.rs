//! Walking Get Assets / Get Assignments / Get Users page by page.
//!
//! `versionId` names the whole data set; any write changes it. A walk whose pages carry
//! different versions mixes two data sets, so it is reported as
//! [`VppError::VersionChanged`] and the caller restarts from page 0. Pages must also
//! follow each other (`nextPageIndex == currentPageIndex + 1`); the walk stops when
//! `nextPageIndex` is absent (Apple's "until currentPageIndex equals totalPages" is off by one).

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::client::VppClient;
use crate::endpoints::{
    AssetsQuery, Assignment, AssignmentsQuery, GetAssetsResponse, GetAssignmentsResponse, GetUsersResponse, PageInfo,
    ResponseAsset, ResponseUser, UsersQuery,
};
use crate::errors::VppError;

/// A paginated response.
pub trait Paginated {
    type Item;
    fn page_info(&self) -> &PageInfo;
    fn into_items(self) -> Vec<Self::Item>;
}

/// A query of a paginated endpoint.
pub trait PagedQuery: Serialize + Clone {
    type Response: Paginated + DeserializeOwned;
    /// Path relative to the v2 base URL.
    const PATH: &'static str;
    fn set_page_index(&mut self, index: u32);
}

impl Paginated for GetAssetsResponse {
    type Item = ResponseAsset;
    fn page_info(&self) -> &PageInfo {
        &self.page
    }
    /// Only `assets`; with `unlimited=true` walk pages to also see `unlimitedAssets`.
    fn into_items(self) -> Vec<ResponseAsset> {
        self.assets
    }
}

impl Paginated for GetAssignmentsResponse {
    type Item = Assignment;
    fn page_info(&self) -> &PageInfo {
        &self.page
    }
    fn into_items(self) -> Vec<Assignment> {
        self.assignments
    }
}

impl Paginated for GetUsersResponse {
    type Item = ResponseUser;
    fn page_info(&self) -> &PageInfo {
        &self.page
    }
    fn into_items(self) -> Vec<ResponseUser> {
        self.users
    }
}

impl PagedQuery for AssetsQuery {
    type Response = GetAssetsResponse;
    const PATH: &'static str = "assets";
    fn set_page_index(&mut self, index: u32) {
        self.page_index = Some(index);
    }
}

impl PagedQuery for AssignmentsQuery {
    type Response = GetAssignmentsResponse;
    const PATH: &'static str = "assignments";
    fn set_page_index(&mut self, index: u32) {
        self.page_index = Some(index);
    }
}

impl PagedQuery for UsersQuery {
    type Response = GetUsersResponse;
    const PATH: &'static str = "users";
    fn set_page_index(&mut self, index: u32) {
        self.page_index = Some(index);
    }
}

/// Everything a finished walk returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Collected<T> {
    pub items: Vec<T>,
    /// The version of the data set: the next `sinceVersionId`.
    pub version_id: Option<String>,
    pub pages: u32,
}

/// Fetches pages one at a time, checking versions and page order.
pub struct Pager<'c, Q: PagedQuery> {
    client: &'c VppClient,
    query: Q,
    next: Option<u32>,
    version_id: Option<String>,
    pages: u32,
}

impl<'c, Q: PagedQuery> Pager<'c, Q> {
    /// Starts at the query's `pageIndex` (normally unset, i.e. page 0).
    pub fn new(client: &'c VppClient, query: Q, start: u32) -> Self {
        Self {
            client,
            query,
            next: Some(start),
            version_id: None,
            pages: 0,
        }
    }

    /// The version seen on the first page fetched.
    pub fn version_id(&self) -> Option<&str> {
        self.version_id.as_deref()
    }

    /// The next page, or `None` when the walk is complete.
    pub async fn next_page(&mut self) -> Result<Option<Q::Response>, VppError> {
        let Some(index) = self.next else {
            return Ok(None);
        };
        self.query.set_page_index(index);
        let page = self.client.get_page(&self.query).await?;
        self.next = self.check(index, page.page_info())?;
        self.pages += 1;
        Ok(Some(page))
    }

    fn check(&mut self, requested: u32, info: &PageInfo) -> Result<Option<u32>, VppError> {
        if info.current_page_index != requested {
            return Err(VppError::PageSequence {
                requested,
                detail: format!("currentPageIndex {}", info.current_page_index),
            });
        }
        match (&self.version_id, &info.version_id) {
            // Compared only when both pages carry one: a missing versionId proves nothing.
            (Some(first), Some(current)) if first != current => {
                return Err(VppError::VersionChanged {
                    first: first.clone(),
                    current: current.clone(),
                    page_index: requested,
                });
            }
            (None, Some(v)) if self.pages == 0 => self.version_id = Some(v.clone()),
            _ => {}
        }
        match info.next_page_index {
            None => Ok(None),
            Some(n) if n == requested + 1 && (info.total_pages == 0 || n < info.total_pages) => Ok(Some(n)),
            Some(n) => Err(VppError::PageSequence {
                requested,
                detail: format!("nextPageIndex {n} of {} pages", info.total_pages),
            }),
        }
    }

    /// Walks to the end and returns every item.
    pub async fn collect_items(mut self) -> Result<Collected<<Q::Response as Paginated>::Item>, VppError> {
        let mut items = Vec::new();
        while let Some(page) = self.next_page().await? {
            items.extend(page.into_items());
        }
        Ok(Collected {
            items,
            version_id: self.version_id,
            pages: self.pages,
        })
    }

    /// Walks to the end and returns the pages themselves.
    pub async fn collect_pages(mut self) -> Result<Vec<Q::Response>, VppError> {
        let mut pages = Vec::new();
        while let Some(page) = self.next_page().await? {
            pages.push(page);
        }
        Ok(pages)
    }
}
