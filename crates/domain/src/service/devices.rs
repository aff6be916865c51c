use super::{CsvOptions, ExportFile, ExportOptions, Services};
use crate::DomainError;
use crate::auth::Actor;
use crate::csv;
use crate::csv::devices::ImportContext;
use crate::error::Entity;
use crate::ids::{DeviceId, GroupId};
use crate::org::{Device, DeviceInput, DevicePatch, DeviceSearch, GroupTree, ImportSummary, Page};

impl Services {
    pub async fn search_devices(&self, actor: &Actor, search: &DeviceSearch) -> Result<Page<Device>, DomainError> {
        let scope = self
            .group_scope(actor, search.group_id, search.include_subgroups)
            .await?;
        self.store.search_devices(actor.account_id, search, &scope).await
    }

    pub async fn get_device(&self, actor: &Actor, id: DeviceId) -> Result<Device, DomainError> {
        self.store
            .get_device(actor.account_id, id)
            .await?
            .ok_or(DomainError::not_found(Entity::Device))
    }

    /// Checks that the group and owner a device points at are the caller's.
    async fn check_references(&self, actor: &Actor, input: &DeviceInput) -> Result<(), DomainError> {
        self.get_group(actor, input.group_id).await?;
        if let Some(owner) = input.owner_id {
            self.get_user(actor, owner).await?;
        }
        Ok(())
    }

    pub async fn create_device(&self, actor: &Actor, input: &DeviceInput) -> Result<Device, DomainError> {
        actor.require_write()?;
        let input = input.validated()?;
        self.check_references(actor, &input).await?;
        self.store.create_device(actor, &input).await
    }

    pub async fn update_device(&self, actor: &Actor, id: DeviceId, patch: &DevicePatch) -> Result<Device, DomainError> {
        actor.require_write()?;
        let before = self.get_device(actor, id).await?;
        let input = patch.apply_to(&before).validated()?;
        self.check_references(actor, &input).await?;
        let updated = self.store.update_device(actor, &before, &input).await?;
        if updated.group_id != before.group_id {
            self.mdm.rules_wake.notify_one();
        }
        Ok(updated)
    }

    pub async fn delete_device(&self, actor: &Actor, id: DeviceId) -> Result<(), DomainError> {
        actor.require_write()?;
        let device = self.get_device(actor, id).await?;
        // Queued before the device row goes: the reclaim needs its serial.
        self.reclaim_auto_licenses(actor.account_id, id, "device deleted")
            .await?;
        self.store.delete_device(actor, &device).await
    }

    pub async fn import_devices(
        &self,
        actor: &Actor,
        bytes: &[u8],
        options: CsvOptions,
    ) -> Result<ImportSummary, DomainError> {
        actor.require_write()?;
        let (text, _) = csv::decode(bytes, options.encoding)?;
        let groups = GroupTree::new(self.store.list_groups(actor.account_id).await?);
        let users = self.store.user_ids_by_employee_number(actor.account_id).await?;
        let existing = self.store.existing_devices(actor.account_id).await?;
        let context = ImportContext {
            groups: &groups,
            users_by_employee_number: &users,
            existing: &existing,
        };
        let plan = csv::devices::plan_import(&text, &context)?;
        let summary = self.store.import_devices(actor, &plan).await?;
        self.mdm.rules_wake.notify_one();
        Ok(summary)
    }

    pub async fn export_devices(
        &self,
        actor: &Actor,
        group_id: Option<GroupId>,
        include_subgroups: bool,
        options: ExportOptions,
    ) -> Result<ExportFile, DomainError> {
        let scope = self.group_scope(actor, group_id, include_subgroups).await?;
        let devices = self.store.export_devices(actor.account_id, &scope).await?;
        let groups = GroupTree::new(self.store.list_groups(actor.account_id).await?);
        let text = csv::devices::export(&devices, &groups, options.lang);
        Ok(ExportFile {
            bytes: csv::encode(&text, options.encoding)?,
            rows: devices.len(),
        })
    }
}
