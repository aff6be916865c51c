//! The license auto-assignment token of each group (SPEC T7, seed 003):
//! set on a group, inherited by its subgroups. A subgroup that sets a
//! different token than the one it would inherit assigns licenses only
//! automatically with it, as the seeds describe. Renewing a token keeps
//! the setting (the seeds make admins set it again; haishin does not).

use serde::{Deserialize, Serialize};

use crate::DomainError;
use crate::auth::Actor;
use crate::ids::{GroupId, VppTokenId};
use crate::org::Group;
use crate::service::Services;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct AutoAssignSetting {
    pub group_id: GroupId,
    /// Set on this group itself.
    pub own_token_id: Option<VppTokenId>,
    /// What applies: the own token, or the nearest ancestor's.
    pub effective_token_id: Option<VppTokenId>,
    /// The group the effective token comes from, when inherited.
    pub inherited_from: Option<GroupId>,
    /// This group overrides an inherited token with another one, so its
    /// licenses are assigned only automatically with its own token.
    pub auto_only: bool,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct AutoAssignRequest {
    /// The token, or null to stop setting one here (inheriting again).
    pub token_id: Option<VppTokenId>,
}

/// Ancestors of a group, nearest first, from its id path (`/1/4/9/`).
fn ancestors(group: &Group) -> Vec<GroupId> {
    let mut ids: Vec<GroupId> = group
        .id_path
        .split('/')
        .filter_map(|p| p.parse().ok())
        .map(GroupId)
        .filter(|id| *id != group.id)
        .collect();
    ids.reverse();
    ids
}

impl Services {
    pub async fn vpp_auto_assign(&self, actor: &Actor, group: GroupId) -> Result<AutoAssignSetting, DomainError> {
        let group = self.get_group(actor, group).await?;
        let settings = self.store.group_auto_assign(actor.account_id).await?;
        let own = |g: GroupId| settings.iter().find(|(id, _)| *id == g).map(|(_, t)| *t);
        let own_token_id = own(group.id);
        let inherited = ancestors(&group).into_iter().find_map(|g| own(g).map(|t| (g, t)));
        Ok(AutoAssignSetting {
            group_id: group.id,
            own_token_id,
            effective_token_id: own_token_id.or(inherited.map(|(_, t)| t)),
            inherited_from: if own_token_id.is_some() {
                None
            } else {
                inherited.map(|(g, _)| g)
            },
            auto_only: matches!((own_token_id, inherited), (Some(mine), Some((_, theirs))) if mine != theirs),
        })
    }

    /// Sets the group's auto-assignment token. The token must serve the
    /// group: registered to or shared with it or one of its ancestors.
    pub async fn set_vpp_auto_assign(
        &self,
        actor: &Actor,
        group_id: GroupId,
        request: &AutoAssignRequest,
    ) -> Result<AutoAssignSetting, DomainError> {
        actor.require_account_admin()?;
        let group = self.get_group(actor, group_id).await?;
        if let Some(token) = request.token_id {
            let stored = self.stored_vpp_token(actor, token).await?;
            let mut lineage = ancestors(&group);
            lineage.push(group.id);
            if !stored.token.group_ids.iter().any(|g| lineage.contains(g)) {
                return Err(DomainError::conflict(
                    "vpp_token_not_shared",
                    "このVPPトークンはこのグループ(または上位グループ)に登録・共有されていません。先にライセンス共有でこのグループに共有してください。",
                    "This token is not registered to or shared with this group or its parents. Share it with the group first.",
                ));
            }
        }
        self.store
            .set_group_auto_assign(actor, group.id, request.token_id)
            .await?;
        self.vpp_auto_assign(actor, group.id).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ancestors_nearest_first() {
        let group = Group {
            id: GroupId(9),
            account_id: crate::ids::AccountId(1),
            parent_id: Some(GroupId(4)),
            name: "x".into(),
            id_path: "/1/4/9/".into(),
            created_at: crate::time_util::Timestamp(0),
        };
        assert_eq!(ancestors(&group), vec![GroupId(4), GroupId(1)]);
    }
}
