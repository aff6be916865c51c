//! The GET endpoints: service/config, client/config, assets, assignments, users, status.

use apple_vpp::{
    AssetsQuery, AssignmentsQuery, ClientConfigResponse, GetAssetsResponse, GetAssignmentsResponse, GetUsersResponse,
    Limits, NotificationType, PageInfo, ServiceConfigResponse, ServiceUrls, StatusQuery, StatusResponse,
    UnlimitedResponseAsset, UserStatus, UsersQuery,
};
use axum::extract::Query;
use axum::http::Uri;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::Shared;
use super::errors::{MESSAGES, Rejection, error_response, reject};
use super::model::{Location, Target};
use super::server::{Caller, Request, location};
use super::validate::limits::*;

/// Advertised as `maxRequestPerSecond` when the simulator does not enforce a rate.
const UNENFORCED_RATE: u32 = 1000;

fn to_json<T: Serialize>(value: &T) -> Result<Value, Rejection> {
    serde_json::to_value(value).map_err(|_| Rejection::new(9603).with_status(500))
}

/// Decodes the query string; a malformed value is 9602, a negative page index 9650.
pub(crate) fn query<T: DeserializeOwned>(uri: &Uri) -> Result<T, Rejection> {
    let pairs = Query::<Vec<(String, String)>>::try_from_uri(uri).map_err(|_| Rejection::new(9602))?;
    if pairs
        .0
        .iter()
        .any(|(k, v)| k == "pageIndex" && v.trim().parse::<i64>().is_ok_and(|n| n < 0))
    {
        return reject(9650);
    }
    Query::<T>::try_from_uri(uri)
        .map(|q| q.0)
        .map_err(|_| Rejection::new(9602))
}

/// One page of `items`; page 0 of an empty set exists (with no records).
fn paginate<T>(
    items: Vec<T>,
    page_index: Option<u32>,
    page_size: u32,
    version: &str,
) -> Result<(Vec<T>, PageInfo), Rejection> {
    let size = page_size.max(1) as usize;
    let total_pages = items.len().div_ceil(size).max(1);
    let index = page_index.unwrap_or(0) as usize;
    if index >= total_pages {
        return reject(9650);
    }
    let page: Vec<T> = items.into_iter().skip(index * size).take(size).collect();
    let info = PageInfo {
        current_page_index: index as u32,
        next_page_index: (index + 1 < total_pages).then_some(index as u32 + 1),
        size: page.len() as u32,
        total_pages: total_pages as u32,
        version_id: Some(version.to_owned()),
    };
    Ok((page, info))
}

fn all_types() -> Vec<NotificationType> {
    vec![
        NotificationType::AssetManagement,
        NotificationType::UserManagement,
        NotificationType::UserAssociated,
        NotificationType::AssetCount,
    ]
}

pub(crate) fn service_config(shared: &Shared) -> Value {
    let v2 = |path: &str| Some(format!("{}/mdm/v2/{path}", shared.root_url));
    let max_rps = shared.options.max_requests_per_second;
    let n = |v: usize| Some(u32::try_from(v).unwrap_or(u32::MAX));
    let l = &shared.options.limits;
    let config = ServiceConfigResponse {
        error_codes: MESSAGES.iter().map(|(n, _)| error_response(*n)).collect(),
        limits: Limits {
            max_assets: n(l.max_assets),
            max_client_user_ids: n(l.max_client_user_ids),
            max_serial_numbers: n(l.max_serial_numbers),
            max_revoke_client_user_ids: n(l.max_revoke_client_user_ids),
            max_revoke_serial_numbers: n(l.max_revoke_serial_numbers),
            max_users: n(l.max_users),
            max_notification_length: n(MAX_NOTIFICATION_LENGTH),
            max_mdm_id_length: n(MAX_MDM_ID_LENGTH),
            max_mdm_name_length: n(MAX_MDM_NAME_LENGTH),
            max_mdm_metadata_length: n(MAX_MDM_METADATA_LENGTH),
            // With enforcement off, a high figure keeps clients from throttling themselves.
            max_request_per_second: Some(if max_rps > 0 { max_rps } else { UNENFORCED_RATE }),
            max_subscriptions: Some(25),
            max_subscription_client_user_ids: Some(1000),
        },
        notification_types: all_types(),
        urls: ServiceUrls {
            client_config: v2("client/config"),
            get_assets: v2("assets"),
            get_assignments: v2("assignments"),
            associate_assets: v2("assets/associate"),
            disassociate_assets: v2("assets/disassociate"),
            revoke_assets: v2("assets/revoke"),
            get_users: v2("users"),
            create_users: v2("users/create"),
            update_users: v2("users/update"),
            retire_users: v2("users/retire"),
            event_status: v2("status"),
            content_metadata_lookup: Some(format!("{}{}", shared.root_url, super::lookup::LOOKUP_PATH)),
            invitation_email: Some(format!(
                "{}{}?inviteCode=%25inviteCode%25&mt=8",
                shared.root_url,
                super::lookup::INVITE_PATH
            )),
            other: Default::default(),
        },
    };
    serde_json::to_value(&config).unwrap_or(Value::Null)
}

pub(crate) fn client_config_response(loc: &Location, caller: &Caller) -> ClientConfigResponse {
    let cfg = &loc.config;
    ClientConfigResponse {
        envelope: caller.envelope(loc),
        country_iso2a_code: Some(loc.country.clone()),
        default_platform: Some(loc.default_platform.clone()),
        location_name: Some(loc.name.clone()),
        notification_auth_token: cfg.notification_auth_token.clone(),
        notification_url: cfg.notification_url.clone(),
        subscribed_notification_types: cfg.notification_types.clone(),
        website_url: Some(
            if loc.default_platform == "volumestore" {
                "https://school.apple.com"
            } else {
                "https://business.apple.com"
            }
            .to_owned(),
        ),
    }
}

pub(crate) fn client_config(shared: &Shared, caller: &Caller) -> Result<Value, Rejection> {
    let mut world = shared.world();
    let loc = location(&mut world, caller)?;
    to_json(&client_config_response(loc, caller))
}

pub(crate) fn assets(shared: &Shared, caller: &Caller, req: &Request<'_>) -> Result<Value, Rejection> {
    let q: AssetsQuery = query(req.uri)?;
    let mut world = shared.world();
    let loc = location(&mut world, caller)?;
    let matching: Vec<_> = loc
        .assets
        .iter()
        .filter(|a| {
            let r = a.response();
            q.product_type
                .as_ref()
                .is_none_or(|p| Some(p) == r.product_type.as_ref())
                && q.pricing_param.as_ref().is_none_or(|p| *p == r.pricing_param)
                && q.revocable.is_none_or(|v| v == r.revocable)
                && q.device_assignable.is_none_or(|v| v == r.device_assignable)
                && q.adam_id.as_ref().is_none_or(|id| *id == r.adam_id)
                && q.max_available_count.is_none_or(|n| r.available_count <= n)
                && q.min_available_count.is_none_or(|n| r.available_count >= n)
                && q.max_assigned_count.is_none_or(|n| r.assigned_count <= n)
                && q.min_assigned_count.is_none_or(|n| r.assigned_count >= n)
                && (q.unlimited != Some(false) || !a.unlimited())
        })
        .collect();
    let (page, info) = paginate(
        matching,
        q.page_index,
        shared.options.page_size,
        loc.assets_version.current(),
    )?;
    let mut response = GetAssetsResponse {
        page: info,
        envelope: caller.envelope(loc),
        ..GetAssetsResponse::default()
    };
    for asset in page {
        let r = asset.response();
        if q.unlimited == Some(true) && asset.unlimited() {
            response.unlimited_assets.push(UnlimitedResponseAsset {
                adam_id: r.adam_id,
                pricing_param: r.pricing_param,
                product_type: r.product_type,
                assigned_count: r.assigned_count,
                device_assignable: r.device_assignable,
                revocable: r.revocable,
                supported_platforms: r.supported_platforms,
            });
        } else {
            response.assets.push(r);
        }
    }
    to_json(&response)
}

pub(crate) fn assignments(shared: &Shared, caller: &Caller, req: &Request<'_>) -> Result<Value, Rejection> {
    let q: AssignmentsQuery = query(req.uri)?;
    let mut world = shared.world();
    let loc = location(&mut world, caller)?;
    let since = match &q.since_version_id {
        Some(v) => Some(loc.assignments_version.seq_of(v).ok_or_else(|| Rejection::new(9721))?),
        None => None,
    };
    let matching: Vec<_> = loc
        .assignments
        .iter()
        .filter(|((key, target), seq)| {
            q.adam_id.as_ref().is_none_or(|id| *id == key.adam_id)
                && q.pricing_param.as_ref().is_none_or(|p| p.as_str() == key.pricing_param)
                && q.client_user_id
                    .as_ref()
                    .is_none_or(|u| matches!(target, Target::User(t) if t == u))
                && q.serial_number
                    .as_ref()
                    .is_none_or(|s| matches!(target, Target::Serial(t) if t == s))
                && since.is_none_or(|s| **seq > s)
                && (q.exclude_inactive_users != Some(true)
                    || !matches!(target, Target::User(u) if loc.active_user(u).is_none()))
        })
        .map(|((key, target), _)| {
            let mut a = key.assignment(target);
            if q.include_user_state == Some(true)
                && let Target::User(u) = target
            {
                let row = loc.latest_user(u);
                a.user_status = Some(row.map_or(UserStatus::Retired, |r| r.status.clone()));
                a.id_hash = row.and_then(|r| r.id_hash.clone());
            }
            a
        })
        .collect();
    let (page, info) = paginate(
        matching,
        q.page_index,
        shared.options.page_size,
        loc.assignments_version.current(),
    )?;
    to_json(&GetAssignmentsResponse {
        assignments: page,
        page: info,
        envelope: caller.envelope(loc),
    })
}

pub(crate) fn users(shared: &Shared, caller: &Caller, req: &Request<'_>) -> Result<Value, Rejection> {
    let q: UsersQuery = query(req.uri)?;
    let mut world = shared.world();
    let loc = location(&mut world, caller)?;
    let since = match &q.since_version_id {
        Some(v) => Some(loc.users_version.seq_of(v).ok_or_else(|| Rejection::new(9721))?),
        None => None,
    };
    let matching: Vec<_> = loc
        .users
        .iter()
        .filter(|u| {
            q.client_user_id.as_ref().is_none_or(|id| *id == u.client_user_id)
                && (q.active_only != Some(true) || u.active())
                && (q.retired_only != Some(true) || u.status == UserStatus::Retired)
                && since.is_none_or(|s| u.seq > s)
        })
        .map(|u| u.response())
        .collect();
    let (page, info) = paginate(
        matching,
        q.page_index,
        shared.options.page_size,
        loc.users_version.current(),
    )?;
    to_json(&GetUsersResponse {
        users: page,
        page: info,
        envelope: caller.envelope(loc),
    })
}

pub(crate) fn status(shared: &Shared, caller: &Caller, req: &Request<'_>) -> Result<Value, Rejection> {
    let q: StatusQuery = query(req.uri)?;
    let mut world = shared.world();
    let loc = location(&mut world, caller)?;
    let event = loc.events.get(&q.event_id).ok_or_else(|| Rejection::new(9708))?;
    to_json(&StatusResponse {
        event_status: event.status.clone(),
        event_type: Some(event.event_type.clone()),
        failures: event.failures.clone(),
        num_completed: event.num_completed,
        num_requested: event.num_requested,
        envelope: caller.envelope(loc),
    })
}
