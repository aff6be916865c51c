//! The wizard's device step (SPEC D1, D2): a group with or without its
//! subgroups, devices picked one by one or all of them, a keyword search,
//! and the install-status search of seed 001.

use std::collections::{HashMap, HashSet};

use super::plan::DeviceApps;
use super::{DeviceSelection, InstallStatus};
use crate::DomainError;
use crate::auth::Actor;
use crate::ids::{DeviceId, GroupId};
use crate::mdm::{Inventory, InventoryKind};
use crate::org::search::GroupScope;
use crate::org::{Device, DeviceSearch};
use crate::service::Services;
use crate::time_util::Timestamp;

/// The app lists of one device as the plan reads them, with when the
/// installed-app list was fetched (None: never).
pub(crate) struct Inventoried {
    pub apps: DeviceApps,
    pub installed_fetched_at: Option<Timestamp>,
}

fn text_of(item: &serde_json::Value, key: &str) -> Option<String> {
    match item.get(key)? {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

pub(crate) fn inventoried(lists: &[Inventory]) -> Inventoried {
    let mut apps = DeviceApps::default();
    let mut installed_fetched_at = None;
    for list in lists {
        let items = list.items.as_array().map(Vec::as_slice).unwrap_or_default();
        match list.kind {
            InventoryKind::InstalledApps => {
                installed_fetched_at = Some(list.fetched_at);
                for item in items {
                    if let Some(id) = text_of(item, "Identifier") {
                        let version = text_of(item, "ShortVersion").unwrap_or_default();
                        apps.installed.insert(id, version);
                    }
                }
            }
            InventoryKind::ManagedApps => {
                for item in items {
                    if let (Some(id), Some(status)) = (text_of(item, "Identifier"), text_of(item, "Status")) {
                        apps.managed.insert(id, status);
                    }
                }
            }
            InventoryKind::ManagedMedia => {
                for item in items {
                    if let Some(id) = text_of(item, "iTunesStoreID") {
                        apps.books.insert(id);
                    }
                }
            }
        }
    }
    Inventoried {
        apps,
        installed_fetched_at,
    }
}

fn picked_outside_group() -> DomainError {
    DomainError::invalid(
        "devices",
        "選択した端末の一部が、選択したグループ(と検索条件)にありません。",
        "Some picked devices are not in the chosen group (and search).",
    )
}

/// Whether a device passes the install-status search for `bundle_id`.
pub(crate) fn install_status_matches(
    selection: &DeviceSelection,
    inventory: Option<&Inventoried>,
    bundle_id: Option<&str>,
) -> bool {
    let Some(wanted) = selection.install_status else {
        return true;
    };
    let fetched_at = inventory.and_then(|i| i.installed_fetched_at);
    let Some(fetched_at) = fetched_at else {
        return wanted == InstallStatus::NeverInventoried;
    };
    if wanted == InstallStatus::NeverInventoried {
        return false;
    }
    if selection.inventory_older_than.is_some_and(|limit| fetched_at >= limit) {
        return false;
    }
    let version = bundle_id.and_then(|b| inventory.and_then(|i| i.apps.installed.get(b)));
    match wanted {
        InstallStatus::NotInstalled => version.is_none(),
        InstallStatus::Installed => match (&selection.installed_version, version) {
            (_, None) => false,
            (None, Some(_)) => true,
            (Some(wanted), Some(found)) => wanted == found,
        },
        InstallStatus::NeverInventoried => false,
    }
}

impl Services {
    /// The devices a selection names, in device-number order.
    pub(crate) async fn select_devices(
        &self,
        actor: &Actor,
        selection: &DeviceSelection,
    ) -> Result<Vec<Device>, DomainError> {
        let scope = self
            .group_scope(actor, selection.group_id, selection.include_subgroups)
            .await?;
        let keyword = selection.search.as_deref().map(str::trim).filter(|q| !q.is_empty());
        if !selection.all && keyword.is_none() && !selection.device_ids.is_empty() {
            // Picked devices (a portal tap, an auto-install batch) are read
            // by id rather than by listing the whole group.
            return self.picked_devices(actor, selection, &scope).await;
        }
        let mut devices = match keyword {
            None => self.store.export_devices(actor.account_id, &scope).await?,
            Some(q) => self.search_all(actor, selection, &scope, q).await?,
        };
        if !selection.all {
            if selection.device_ids.is_empty() {
                return Err(DomainError::invalid(
                    "devices",
                    "配信先の端末にチェックを付けるか、全選択を指定してください。",
                    "Pick the devices to deploy to, or choose all.",
                ));
            }
            let picked: HashSet<DeviceId> = selection.device_ids.iter().copied().collect();
            devices.retain(|d| picked.contains(&d.id));
            if devices.len() != picked.len() {
                return Err(picked_outside_group());
            }
        }
        devices.sort_by(|a, b| a.device_number.cmp(&b.device_number));
        Ok(devices)
    }

    async fn picked_devices(
        &self,
        actor: &Actor,
        selection: &DeviceSelection,
        scope: &GroupScope,
    ) -> Result<Vec<Device>, DomainError> {
        let picked: HashSet<DeviceId> = selection.device_ids.iter().copied().collect();
        let ids: Vec<DeviceId> = picked.iter().copied().collect();
        let mut devices = self.store.devices_by_ids(actor.account_id, &ids).await?;
        let paths: HashMap<GroupId, String> = match scope {
            GroupScope::Subtree(_) => self
                .store
                .list_groups(actor.account_id)
                .await?
                .into_iter()
                .map(|g| (g.id, g.id_path))
                .collect(),
            _ => HashMap::new(),
        };
        devices.retain(|d| match scope {
            GroupScope::All => true,
            GroupScope::Exactly(group) => d.group_id == *group,
            GroupScope::Subtree(prefix) => paths.get(&d.group_id).is_some_and(|p| p.starts_with(prefix.as_str())),
        });
        if devices.len() != picked.len() {
            return Err(picked_outside_group());
        }
        devices.sort_by(|a, b| a.device_number.cmp(&b.device_number));
        Ok(devices)
    }

    async fn search_all(
        &self,
        actor: &Actor,
        selection: &DeviceSelection,
        scope: &GroupScope,
        q: &str,
    ) -> Result<Vec<Device>, DomainError> {
        let mut found = Vec::new();
        let mut page = 1;
        loop {
            let search = DeviceSearch {
                q: Some(q.to_owned()),
                field: selection.search_field,
                group_id: selection.group_id,
                include_subgroups: selection.include_subgroups,
                page: Some(page),
                per_page: Some(1000),
            };
            let result = self.store.search_devices(actor.account_id, &search, scope).await?;
            let done = result.items.len() < 1000;
            found.extend(result.items);
            if done {
                return Ok(found);
            }
            page += 1;
        }
    }

    /// The app lists of these devices.
    pub(crate) async fn inventories(
        &self,
        actor: &Actor,
        devices: &[Device],
    ) -> Result<HashMap<DeviceId, Inventoried>, DomainError> {
        let ids: Vec<DeviceId> = devices.iter().map(|d| d.id).collect();
        let mut lists: HashMap<DeviceId, Vec<Inventory>> = HashMap::new();
        for (device, inventory) in self.store.inventories_of(actor.account_id, &ids).await? {
            lists.entry(device).or_default().push(inventory);
        }
        Ok(lists.into_iter().map(|(d, l)| (d, inventoried(&l))).collect())
    }
}
