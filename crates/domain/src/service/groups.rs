use super::Services;
use crate::DomainError;
use crate::auth::Actor;
use crate::error::Entity;
use crate::ids::GroupId;
use crate::org::Group;
use crate::org::validate;

impl Services {
    pub async fn list_groups(&self, actor: &Actor) -> Result<Vec<Group>, DomainError> {
        self.store.list_groups(actor.account_id).await
    }

    pub async fn get_group(&self, actor: &Actor, id: GroupId) -> Result<Group, DomainError> {
        self.store
            .get_group(actor.account_id, id)
            .await?
            .ok_or(DomainError::not_found(Entity::Group))
    }

    /// Creates a group under `parent` (the top group when absent).
    pub async fn create_group(&self, actor: &Actor, parent: Option<GroupId>, name: &str) -> Result<Group, DomainError> {
        actor.require_write()?;
        let name = validate::group_name(name)?;
        let parent = match parent {
            Some(id) => self.get_group(actor, id).await?,
            None => self.root_group(actor).await?,
        };
        self.store.create_group(actor, &parent, &name).await
    }

    /// Renames and/or moves a group (with its whole subtree).
    pub async fn update_group(
        &self,
        actor: &Actor,
        id: GroupId,
        name: Option<&str>,
        parent: Option<GroupId>,
    ) -> Result<Group, DomainError> {
        actor.require_write()?;
        let group = self.get_group(actor, id).await?;
        let name = match name {
            Some(name) => validate::group_name(name)?,
            None => group.name.clone(),
        };
        let new_parent = match (parent, group.parent_id) {
            (Some(_), None) => return Err(DomainError::RootGroup),
            (Some(parent_id), Some(_)) => {
                let parent = self.get_group(actor, parent_id).await?;
                if parent.id_path.starts_with(&group.id_path) {
                    return Err(DomainError::GroupCycle);
                }
                parent
            }
            (None, Some(current)) => self.get_group(actor, current).await?,
            // The top group may be renamed; it stays its own parent-less self.
            (None, None) => group.clone(),
        };
        self.store.update_group(actor, &group, &name, &new_parent).await
    }

    /// Deletes a group only when it holds no subgroups, users or devices.
    pub async fn delete_group(&self, actor: &Actor, id: GroupId) -> Result<(), DomainError> {
        actor.require_write()?;
        let group = self.get_group(actor, id).await?;
        if group.is_root() {
            return Err(DomainError::RootGroup);
        }
        let (subgroups, users, devices) = self.store.group_contents(actor.account_id, id).await?;
        if subgroups + users + devices > 0 {
            return Err(DomainError::GroupNotEmpty {
                subgroups,
                users,
                devices,
            });
        }
        self.store.delete_group(actor, &group).await
    }

    pub async fn root_group(&self, actor: &Actor) -> Result<Group, DomainError> {
        self.store
            .list_groups(actor.account_id)
            .await?
            .into_iter()
            .find(Group::is_root)
            .ok_or(DomainError::not_found(Entity::Group))
    }
}
