//! The operations administrators perform, with their rules: permission
//! checks, validation, tenancy, then a call to the [`Store`].

mod accounts;
mod devices;
mod groups;
pub mod job_detail;
mod jobs;
mod users;

use std::sync::Arc;

pub use accounts::{CreatedToken, LoginOutcome};

use crate::Store;
use crate::auth::Actor;
use crate::error::Entity;
use crate::ids::GroupId;
use crate::org::search::GroupScope;
use crate::{DomainError, Lang};

/// Everything the HTTP layer and CLI call. Cheap to clone.
#[derive(Clone)]
pub struct Services {
    pub store: Arc<dyn Store>,
    /// Seals and opens the secrets the store keeps (push keys, content tokens).
    pub master_key: Arc<haishin_secrets::MasterKey>,
    /// How long a console session lasts without a new login.
    pub session_ttl_millis: i64,
    /// The server's public base URL, as devices reach it (enrollment profiles
    /// point their ServerURL and CheckInURL here).
    pub public_url: String,
    /// State of the device endpoints shared by every clone.
    pub mdm: Arc<crate::mdm::MdmRuntime>,
    /// How Apple's Apps and Books service is reached, shared by every clone.
    pub vpp: Arc<crate::vpp::VppRuntime>,
}

/// The bytes of an export and how to name them.
pub struct ExportFile {
    pub bytes: Vec<u8>,
    pub rows: usize,
}

/// Options shared by the CSV import endpoints.
#[derive(Debug, Clone, Copy, Default)]
pub struct CsvOptions {
    pub encoding: crate::csv::EncodingChoice,
}

impl Services {
    pub fn new(store: Arc<dyn Store>, master_key: Arc<haishin_secrets::MasterKey>) -> Self {
        Self {
            store,
            master_key,
            session_ttl_millis: 12 * 3600 * 1000,
            public_url: "http://127.0.0.1:8080".into(),
            mdm: Arc::new(crate::mdm::MdmRuntime::default()),
            vpp: Arc::new(crate::vpp::VppRuntime::default()),
        }
    }

    /// Resolves an optional group filter of the caller's account into a scope;
    /// a group of another account is "not found", never an empty result.
    pub async fn group_scope(
        &self,
        actor: &Actor,
        group_id: Option<GroupId>,
        include_subgroups: bool,
    ) -> Result<GroupScope, DomainError> {
        let Some(group_id) = group_id else {
            return Ok(GroupScope::All);
        };
        let group = self
            .store
            .get_group(actor.account_id, group_id)
            .await?
            .ok_or(DomainError::not_found(Entity::Group))?;
        Ok(if include_subgroups {
            GroupScope::Subtree(group.id_path)
        } else {
            GroupScope::Exactly(group.id)
        })
    }
}

/// Export settings chosen by the admin.
#[derive(Debug, Clone, Copy)]
pub struct ExportOptions {
    pub encoding: crate::csv::CsvEncoding,
    pub lang: Lang,
}
