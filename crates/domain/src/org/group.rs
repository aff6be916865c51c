use std::collections::HashMap;

use serde::Serialize;

use crate::ids::{AccountId, GroupId};
use crate::time_util::Timestamp;

/// A node of an account's group tree (組織). Every account has exactly one
/// top group, created with the account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Group {
    pub id: GroupId,
    pub account_id: AccountId,
    pub parent_id: Option<GroupId>,
    pub name: String,
    /// Ancestor ids from the top, as `/1/4/9/`: lets "include subgroups" be one
    /// indexed prefix match instead of a recursive walk.
    #[serde(skip)]
    pub id_path: String,
    pub created_at: Timestamp,
}

impl Group {
    pub fn child_id_path(&self, child: GroupId) -> String {
        format!("{}{}/", self.id_path, child.0)
    }

    pub fn is_root(&self) -> bool {
        self.parent_id.is_none()
    }
}

/// An account's whole group tree in memory, for resolving the name paths
/// people type (`本社/営業部/東京`) and for showing them.
pub struct GroupTree {
    by_id: HashMap<GroupId, Group>,
    by_name_path: HashMap<String, GroupId>,
}

impl GroupTree {
    pub fn new(groups: Vec<Group>) -> Self {
        let by_id: HashMap<GroupId, Group> = groups.into_iter().map(|g| (g.id, g)).collect();
        let mut tree = Self {
            by_id,
            by_name_path: HashMap::new(),
        };
        let paths: Vec<(String, GroupId)> = tree.by_id.keys().map(|id| (tree.name_path(*id), *id)).collect();
        tree.by_name_path = paths.into_iter().collect();
        tree
    }

    pub fn get(&self, id: GroupId) -> Option<&Group> {
        self.by_id.get(&id)
    }

    /// The names from the top group down, joined by `/`.
    pub fn name_path(&self, id: GroupId) -> String {
        let mut names = Vec::new();
        let mut cursor = self.by_id.get(&id);
        while let Some(group) = cursor {
            names.push(group.name.as_str());
            cursor = group.parent_id.and_then(|p| self.by_id.get(&p));
        }
        names.reverse();
        names.join("/")
    }

    /// Finds a group by its name path; surrounding spaces of each level are
    /// ignored because spreadsheet users add them.
    pub fn find_by_name_path(&self, path: &str) -> Option<GroupId> {
        let normalised: Vec<&str> = path.split('/').map(str::trim).collect();
        self.by_name_path.get(&normalised.join("/")).copied()
    }

    pub fn root(&self) -> Option<&Group> {
        self.by_id.values().find(|g| g.is_root())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group(id: i64, parent: Option<i64>, name: &str, path: &str) -> Group {
        Group {
            id: GroupId(id),
            account_id: AccountId(1),
            parent_id: parent.map(GroupId),
            name: name.into(),
            id_path: path.into(),
            created_at: Timestamp(0),
        }
    }

    #[test]
    fn name_paths_resolve_both_ways() {
        let tree = GroupTree::new(vec![
            group(1, None, "デモ株式会社", "/1/"),
            group(2, Some(1), "営業部", "/1/2/"),
            group(3, Some(2), "東京", "/1/2/3/"),
        ]);
        assert_eq!(tree.name_path(GroupId(3)), "デモ株式会社/営業部/東京");
        assert_eq!(tree.find_by_name_path("デモ株式会社 / 営業部/東京 "), Some(GroupId(3)));
        assert_eq!(tree.find_by_name_path("デモ株式会社/東京"), None);
        assert_eq!(tree.root().unwrap().id, GroupId(1));
        assert_eq!(tree.get(GroupId(2)).unwrap().child_id_path(GroupId(7)), "/1/2/7/");
    }
}
