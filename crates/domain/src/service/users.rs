use super::{CsvOptions, ExportFile, ExportOptions, Services};
use crate::DomainError;
use crate::auth::Actor;
use crate::csv;
use crate::error::Entity;
use crate::ids::UserId;
use crate::org::{GroupTree, ImportSummary, Page, User, UserInput, UserPatch, UserSearch};

impl Services {
    pub async fn search_users(&self, actor: &Actor, search: &UserSearch) -> Result<Page<User>, DomainError> {
        let scope = self
            .group_scope(actor, search.group_id, search.include_subgroups)
            .await?;
        self.store.search_users(actor.account_id, search, &scope).await
    }

    pub async fn get_user(&self, actor: &Actor, id: UserId) -> Result<User, DomainError> {
        self.store
            .get_user(actor.account_id, id)
            .await?
            .ok_or(DomainError::not_found(Entity::User))
    }

    pub async fn create_user(&self, actor: &Actor, input: &UserInput) -> Result<User, DomainError> {
        actor.require_write()?;
        let input = input.validated()?;
        self.get_group(actor, input.group_id).await?;
        self.store.create_user(actor, &input).await
    }

    pub async fn update_user(&self, actor: &Actor, id: UserId, patch: &UserPatch) -> Result<User, DomainError> {
        actor.require_write()?;
        let before = self.get_user(actor, id).await?;
        let input = patch.apply_to(&before).validated()?;
        self.get_group(actor, input.group_id).await?;
        self.store.update_user(actor, &before, &input).await
    }

    /// Deleting a user leaves their devices in place, without an owner.
    pub async fn delete_user(&self, actor: &Actor, id: UserId) -> Result<(), DomainError> {
        actor.require_write()?;
        let user = self.get_user(actor, id).await?;
        self.store.delete_user(actor, &user).await
    }

    pub async fn import_users(
        &self,
        actor: &Actor,
        bytes: &[u8],
        options: CsvOptions,
    ) -> Result<ImportSummary, DomainError> {
        actor.require_write()?;
        let (text, _) = csv::decode(bytes, options.encoding)?;
        let groups = GroupTree::new(self.store.list_groups(actor.account_id).await?);
        let existing = self.store.user_ids_by_employee_number(actor.account_id).await?;
        let plan = csv::users::plan_import(&text, &groups, &existing)?;
        self.store.import_users(actor, &plan).await
    }

    pub async fn export_users(
        &self,
        actor: &Actor,
        group_id: Option<crate::ids::GroupId>,
        include_subgroups: bool,
        options: ExportOptions,
    ) -> Result<ExportFile, DomainError> {
        let scope = self.group_scope(actor, group_id, include_subgroups).await?;
        let users = self.store.export_users(actor.account_id, &scope).await?;
        let groups = GroupTree::new(self.store.list_groups(actor.account_id).await?);
        let text = csv::users::export(&users, &groups, options.lang);
        Ok(ExportFile {
            bytes: csv::encode(&text, options.encoding)?,
            rows: users.len(),
        })
    }
}
