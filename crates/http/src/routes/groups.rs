//! The group tree.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use haishin_domain::ids::GroupId;
use haishin_domain::org::{Group, GroupTree};
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ErrorBody};
use crate::extract::ApiJson;

/// A group as listed, with its full name path (`本社/営業部/東京`).
#[derive(Serialize, utoipa::ToSchema)]
pub struct GroupView {
    #[serde(flatten)]
    pub group: Group,
    pub path: String,
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct NewGroupRequest {
    pub name: String,
    /// The parent group; the account's top group when absent.
    pub parent_id: Option<GroupId>,
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct GroupPatch {
    /// A new name.
    pub name: Option<String>,
    /// A new parent: moves the group with all its subgroups.
    pub parent_id: Option<GroupId>,
}

fn view(tree: &GroupTree, group: Group) -> GroupView {
    GroupView {
        path: tree.name_path(group.id),
        group,
    }
}

/// Every group of the account, parents before children.
#[utoipa::path(get, path = "/groups", tag = "groups", responses((status = 200, body = Vec<GroupView>)))]
pub async fn list(State(state): State<AppState>, caller: Caller) -> Result<Json<Vec<GroupView>>, ApiError> {
    let groups = state.services.list_groups(&caller.actor).await?;
    let tree = GroupTree::new(groups.clone());
    Ok(Json(groups.into_iter().map(|g| view(&tree, g)).collect()))
}

async fn view_one(state: &AppState, caller: &Caller, group: Group) -> Result<GroupView, ApiError> {
    let tree = GroupTree::new(state.services.list_groups(&caller.actor).await?);
    Ok(view(&tree, group))
}

#[utoipa::path(post, path = "/groups", tag = "groups", request_body = NewGroupRequest,
    responses((status = 201, body = GroupView), (status = 409, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<NewGroupRequest>,
) -> Result<(StatusCode, Json<GroupView>), ApiError> {
    let group = state
        .services
        .create_group(&caller.actor, body.parent_id, &body.name)
        .await?;
    Ok((StatusCode::CREATED, Json(view_one(&state, &caller, group).await?)))
}

#[utoipa::path(get, path = "/groups/{id}", tag = "groups", params(("id" = i64, Path)),
    responses((status = 200, body = GroupView), (status = 404, body = ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Json<GroupView>, ApiError> {
    let group = state.services.get_group(&caller.actor, GroupId(id)).await?;
    Ok(Json(view_one(&state, &caller, group).await?))
}

/// Rename and/or move a group.
#[utoipa::path(patch, path = "/groups/{id}", tag = "groups", params(("id" = i64, Path)), request_body = GroupPatch,
    responses((status = 200, body = GroupView), (status = 409, body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
    ApiJson(body): ApiJson<GroupPatch>,
) -> Result<Json<GroupView>, ApiError> {
    let group = state
        .services
        .update_group(&caller.actor, GroupId(id), body.name.as_deref(), body.parent_id)
        .await?;
    Ok(Json(view_one(&state, &caller, group).await?))
}

/// Delete an empty group.
#[utoipa::path(delete, path = "/groups/{id}", tag = "groups", params(("id" = i64, Path)),
    responses((status = 204), (status = 409, body = ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    state.services.delete_group(&caller.actor, GroupId(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}
