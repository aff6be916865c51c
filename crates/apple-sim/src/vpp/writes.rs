//! The POST endpoints: client/config (synchronous, with the test notification) and the
//! writes that answer with an event and are processed in the background.

use std::sync::Arc;

use apple_vpp::{
    EventResponse, EventStatus, EventType, ManageAssetsRequest, NotificationBody, NotificationType, RevokeAssetsRequest,
};
use serde_json::Value;

use super::Shared;
use super::errors::Rejection;
use super::events::revocable_of;
use super::model::{EventState, EventWork, Target};
use super::notify::{self, Outgoing};
use super::reads::client_config_response;
use super::server::{Api, Caller, Request, location};
use super::validate;

/// POST client/config. Omitted fields keep their stored value (a partial update);
/// `notificationTypes`, when sent, replaces the subscribed set.
pub(crate) async fn client_config(
    shared: &Arc<Shared>,
    caller: &Caller,
    req: &Request<'_>,
) -> Result<Value, Rejection> {
    let request = validate::client_config(req.body, shared.options.allow_http_notification_urls)?;
    if let (Some(url), Some(token)) = (&request.notification_url, &request.notification_auth_token) {
        let u_id = {
            let mut world = shared.world();
            location(&mut world, caller)?.u_id.clone()
        };
        // Apple refuses the configuration when its test notification cannot be delivered.
        let test = Outgoing::new(url, token, &u_id, NotificationBody::Test);
        if !notify::deliver(shared, &test).await {
            return Err(Rejection::new(9728));
        }
    }
    let mut world = shared.world();
    let loc = location(&mut world, caller)?;
    let cfg = &mut loc.config;
    if request.mdm_info.is_some() {
        cfg.mdm_info = request.mdm_info;
    }
    if request.notification_url.is_some() {
        if cfg.notification_url.is_none() && request.notification_types.is_none() {
            // A first configuration without a type list subscribes to everything.
            cfg.notification_types = vec![
                NotificationType::AssetManagement,
                NotificationType::AssetCount,
                NotificationType::UserManagement,
                NotificationType::UserAssociated,
            ];
        }
        cfg.notification_url = request.notification_url;
        cfg.notification_auth_token = request.notification_auth_token;
    }
    if let Some(types) = request.notification_types {
        cfg.notification_types = types;
    }
    serde_json::to_value(client_config_response(loc, caller)).map_err(|_| Rejection::new(9603).with_status(500))
}

/// associate, disassociate, revoke, users/create|update|retire: validate, record a
/// PENDING event, answer with its id, process it in the background.
pub(crate) fn event(shared: &Arc<Shared>, caller: &Caller, api: Api, req: &Request<'_>) -> Result<Value, Rejection> {
    let (event_type, work) = match api {
        Api::Associate => (EventType::Associate, EventWork::Manage(validate::json_body(req.body)?)),
        Api::Disassociate => (
            EventType::Disassociate,
            EventWork::Manage(validate::json_body(req.body)?),
        ),
        Api::Revoke => (EventType::Revoke, EventWork::Revoke(validate::json_body(req.body)?)),
        Api::CreateUsers => (EventType::Create, EventWork::Users(validate::json_body(req.body)?)),
        Api::UpdateUsers => (EventType::Update, EventWork::Users(validate::json_body(req.body)?)),
        _ => (EventType::Retire, EventWork::Users(validate::json_body(req.body)?)),
    };
    let event_id = uuid::Uuid::new_v4().to_string();
    let limits = &shared.options.limits;
    let response = {
        let mut world = shared.world();
        let loc = location(&mut world, caller)?;
        let num_requested = match &work {
            EventWork::Manage(r) => {
                validate::manage_assets(r, loc, event_type == EventType::Disassociate, limits)?;
                tasks(r)
            }
            EventWork::Revoke(r) => {
                validate::revoke(r, limits)?;
                revoke_tasks(loc, r)
            }
            EventWork::Users(r) => {
                validate::users(r, limits)?;
                r.users.len() as u32
            }
        };
        loc.events.insert(
            event_id.clone(),
            EventState {
                event_type,
                status: EventStatus::Pending,
                num_requested,
                num_completed: 0,
                failures: Vec::new(),
                work: Some(work),
            },
        );
        loc.event_order.push(event_id.clone());
        EventResponse {
            event_id: event_id.clone(),
            envelope: caller.envelope(loc),
        }
    };
    shared.spawn_event(caller.location, event_id);
    serde_json::to_value(response).map_err(|_| Rejection::new(9603).with_status(500))
}

/// One task per (asset, target) pair.
fn tasks(r: &ManageAssetsRequest) -> u32 {
    (r.assets.len() * (r.client_user_ids.len() + r.serial_numbers.len())) as u32
}

/// The revocable assignments the request would remove as things stand now.
fn revoke_tasks(loc: &super::model::Location, r: &RevokeAssetsRequest) -> u32 {
    let users = r.client_user_ids.iter().cloned().map(Target::User);
    let serials = r.serial_numbers.iter().cloned().map(Target::Serial);
    users.chain(serials).map(|t| revocable_of(loc, &t).len() as u32).sum()
}
