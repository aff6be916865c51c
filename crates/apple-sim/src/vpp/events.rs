//! Background processing of write events: the per-task rules of reference §8 items
//! 4–7 and 13, the event's final status, and the notifications it produces.

use std::collections::BTreeMap;

use apple_vpp::notifications::{AssetManagementNotification, NotificationResult, UserManagementNotification};
use apple_vpp::{
    AssetRef, Assignment, ErrorResponse, EventStatus, EventType, ManageAssetsRequest, ManageUsersRequest,
    NotificationBody, NotificationType, ResponseErrorInfo, ResponseUser, RevokeAssetsRequest, UserStatus,
};

use super::errors::error_response;
use super::model::{AssetKey, EventWork, Location, Target, UserRow};
use super::notify::Outgoing;

/// Apple puts at most this many elements in one notification.
const NOTIFICATION_CHUNK: usize = 100;

/// A notification for `loc`, if it configured a URL and subscribed to the type.
pub(crate) fn notification_for(loc: &Location, body: NotificationBody) -> Option<Outgoing> {
    let cfg = &loc.config;
    let (url, token) = (
        cfg.notification_url.as_deref()?,
        cfg.notification_auth_token.as_deref()?,
    );
    let kind = body.notification_type();
    let subscribed = kind == NotificationType::TestNotification || cfg.notification_types.contains(&kind);
    subscribed.then(|| Outgoing::new(url, token, &loc.u_id, body))
}

/// Entities that failed with one error number.
#[derive(Default)]
struct FailureGroup {
    assets: Vec<AssetRef>,
    client_user_ids: Vec<String>,
    serial_numbers: Vec<String>,
    assignments: Vec<Assignment>,
    users: Vec<ResponseUser>,
}

impl FailureGroup {
    fn add_task(&mut self, asset: &AssetKey, target: &Target) {
        let asset_ref = AssetRef::new(asset.adam_id.clone(), asset.pricing_param.as_str().into());
        if !self.assets.contains(&asset_ref) {
            self.assets.push(asset_ref);
        }
        self.add_target(target);
        self.assignments.push(asset.assignment(target));
    }

    fn add_target(&mut self, target: &Target) {
        let (list, id) = match target {
            Target::User(u) => (&mut self.client_user_ids, u),
            Target::Serial(s) => (&mut self.serial_numbers, s),
        };
        if !list.contains(id) {
            list.push(id.clone());
        }
    }

    fn error(&self, number: i32) -> ErrorResponse {
        ErrorResponse {
            error_info: Some(ResponseErrorInfo {
                assets: self.assets.clone(),
                client_user_ids: self.client_user_ids.clone(),
                serial_numbers: self.serial_numbers.clone(),
            }),
            ..error_response(number)
        }
    }
}

#[derive(Default)]
struct Outcome {
    completed: u32,
    requested: Option<u32>,
    successes: Vec<Assignment>,
    users: Vec<ResponseUser>,
    failures: BTreeMap<i32, FailureGroup>,
}

/// Applies the event's work to `loc`, finishes the event, and returns its notifications.
pub(crate) fn process(loc: &mut Location, event_id: &str) -> Vec<Outgoing> {
    let Some(event) = loc.events.get_mut(event_id) else {
        return Vec::new();
    };
    let Some(work) = event.work.take() else {
        return Vec::new();
    };
    let event_type = event.event_type.clone();
    let outcome = match &work {
        EventWork::Manage(req) if event_type == EventType::Associate => associate(loc, req),
        EventWork::Manage(req) => disassociate(loc, req),
        EventWork::Revoke(req) => revoke(loc, req),
        EventWork::Users(req) => users(loc, &event_type, req),
    };
    let failures: Vec<ErrorResponse> = outcome.failures.iter().map(|(n, g)| g.error(*n)).collect();
    if let Some(event) = loc.events.get_mut(event_id) {
        event.num_completed = outcome.completed;
        if let Some(requested) = outcome.requested {
            event.num_requested = requested;
        }
        event.status = if failures.is_empty() {
            EventStatus::Complete
        } else {
            EventStatus::Failed
        };
        event.failures = failures;
    }
    let mut out = Vec::new();
    if matches!(work, EventWork::Users(_)) {
        user_notifications(loc, event_id, &event_type, &outcome, &mut out);
    } else {
        asset_notifications(loc, event_id, &event_type, &outcome, &mut out);
    }
    out
}

fn targets(client_user_ids: &[String], serial_numbers: &[String]) -> Vec<Target> {
    client_user_ids
        .iter()
        .cloned()
        .map(Target::User)
        .chain(serial_numbers.iter().cloned().map(Target::Serial))
        .collect()
}

fn associate(loc: &mut Location, req: &ManageAssetsRequest) -> Outcome {
    let seq = loc.assignments_version.bump();
    loc.assets_version.bump();
    let mut outcome = Outcome::default();
    let targets = targets(&req.client_user_ids, &req.serial_numbers);
    for asset in &req.assets {
        let key = AssetKey::new(&asset.adam_id, &asset.pricing_param);
        for target in &targets {
            let pair = (key.clone(), target.clone());
            let failure = if loc.assignments.contains_key(&pair) {
                // Already held: nothing consumed, and the task still counts as done.
                None
            } else if matches!(target, Target::User(u) if loc.active_user(u).is_none()) {
                Some(9609)
            } else {
                match loc.asset_mut(&key) {
                    Some(state) if state.unlimited() || state.available() > 0 => {
                        state.assigned += 1;
                        loc.assignments.insert(pair.clone(), seq);
                        loc.tallies.entry(pair).or_default().associated += 1;
                        None
                    }
                    // An adamId the location does not own has no licenses to give.
                    _ => Some(9709),
                }
            };
            match failure {
                None => {
                    outcome.completed += 1;
                    outcome.successes.push(key.assignment(target));
                }
                Some(n) => outcome.failures.entry(n).or_default().add_task(&key, target),
            }
        }
    }
    outcome
}

/// Removes one assignment and returns its license; false when it did not exist.
pub(crate) fn release(loc: &mut Location, key: &AssetKey, target: &Target) -> bool {
    let pair = (key.clone(), target.clone());
    if loc.assignments.remove(&pair).is_none() {
        return false;
    }
    if let Some(state) = loc.asset_mut(key) {
        state.assigned = (state.assigned - 1).max(0);
    }
    loc.tallies.entry(pair).or_default().released += 1;
    true
}

fn disassociate(loc: &mut Location, req: &ManageAssetsRequest) -> Outcome {
    loc.assignments_version.bump();
    loc.assets_version.bump();
    let mut outcome = Outcome::default();
    for asset in &req.assets {
        let key = AssetKey::new(&asset.adam_id, &asset.pricing_param);
        for target in targets(&req.client_user_ids, &req.serial_numbers) {
            // Removing what is not assigned is a completed no-op.
            release(loc, &key, &target);
            outcome.completed += 1;
            outcome.successes.push(key.assignment(&target));
        }
    }
    outcome
}

/// Revocable assignments of `target`.
pub(crate) fn revocable_of(loc: &Location, target: &Target) -> Vec<AssetKey> {
    loc.assignments
        .keys()
        .filter(|(key, t)| t == target && loc.asset(key).is_some_and(|a| a.spec.revocable))
        .map(|(key, _)| key.clone())
        .collect()
}

fn revoke(loc: &mut Location, req: &RevokeAssetsRequest) -> Outcome {
    loc.assignments_version.bump();
    loc.assets_version.bump();
    let mut outcome = Outcome::default();
    for target in targets(&req.client_user_ids, &req.serial_numbers) {
        for key in revocable_of(loc, &target) {
            release(loc, &key, &target);
            outcome.completed += 1;
            outcome.successes.push(key.assignment(&target));
        }
    }
    outcome.requested = Some(outcome.completed);
    outcome
}

fn users(loc: &mut Location, event_type: &EventType, req: &ManageUsersRequest) -> Outcome {
    let seq = loc.users_version.bump();
    let mut outcome = Outcome::default();
    for user in &req.users {
        let id = user.client_user_id.as_str();
        let result = match event_type {
            EventType::Create if loc.active_user(id).is_some() => Err(9716),
            EventType::Create => {
                let row = UserRow {
                    client_user_id: id.to_owned(),
                    email: user.email.clone(),
                    id_hash: user.managed_apple_id.as_deref().map(id_hash),
                    invite_code: user
                        .managed_apple_id
                        .is_none()
                        .then(|| uuid::Uuid::new_v4().simple().to_string()),
                    status: if user.managed_apple_id.is_some() {
                        UserStatus::Associated
                    } else {
                        UserStatus::Registered
                    },
                    seq,
                };
                let response = row.response();
                loc.users.push(row);
                Ok(response)
            }
            EventType::Update => match loc.active_user_mut(id) {
                None => Err(9609),
                Some(row) => {
                    if user.email.is_some() {
                        row.email = user.email.clone();
                    }
                    if let Some(apple_id) = &user.managed_apple_id {
                        row.id_hash = Some(id_hash(apple_id));
                        row.invite_code = None;
                        row.status = UserStatus::Associated;
                    }
                    row.seq = seq;
                    Ok(row.response())
                }
            },
            _ => retire(loc, id, seq),
        };
        match result {
            Ok(response) => {
                outcome.completed += 1;
                outcome.users.push(response);
            }
            Err(n) => {
                let group = outcome.failures.entry(n).or_default();
                group.add_target(&Target::User(id.to_owned()));
                group.users.push(ResponseUser {
                    client_user_id: id.to_owned(),
                    email: user.email.clone(),
                    id_hash: None,
                    invite_code: None,
                    status: None,
                });
            }
        }
    }
    outcome
}

/// Retiring releases the user's revocable licenses; books stay with the retired user.
fn retire(loc: &mut Location, id: &str, seq: u64) -> Result<ResponseUser, i32> {
    let response = {
        let row = loc.active_user_mut(id).ok_or(9609)?;
        row.status = UserStatus::Retired;
        row.invite_code = None;
        row.seq = seq;
        row.response()
    };
    let target = Target::User(id.to_owned());
    let keys = revocable_of(loc, &target);
    if !keys.is_empty() {
        loc.assignments_version.bump();
        loc.assets_version.bump();
    }
    for key in keys {
        release(loc, &key, &target);
    }
    Ok(response)
}

/// A stable stand-in for the hash of a store account.
pub(crate) fn id_hash(account: &str) -> String {
    use base64::Engine;
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY, account.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(digest.as_ref())
}

fn asset_notifications(loc: &Location, event_id: &str, kind: &EventType, outcome: &Outcome, out: &mut Vec<Outgoing>) {
    let mut push = |assignments: &[Assignment], error: Option<ErrorResponse>| {
        for chunk in assignments.chunks(NOTIFICATION_CHUNK) {
            let body = NotificationBody::AssetManagement(AssetManagementNotification {
                assignments: chunk.to_vec(),
                result: if error.is_some() {
                    NotificationResult::Failure
                } else {
                    NotificationResult::Success
                },
                error: error.clone(),
                event_id: event_id.to_owned(),
                event_type: kind.clone(),
            });
            out.extend(notification_for(loc, body));
        }
    };
    push(&outcome.successes, None);
    for (number, group) in &outcome.failures {
        push(&group.assignments, Some(error_response(*number)));
    }
}

fn user_notifications(loc: &Location, event_id: &str, kind: &EventType, outcome: &Outcome, out: &mut Vec<Outgoing>) {
    let mut push = |users: &[ResponseUser], error: Option<ErrorResponse>| {
        for chunk in users.chunks(NOTIFICATION_CHUNK) {
            let body = NotificationBody::UserManagement(UserManagementNotification {
                event_id: event_id.to_owned(),
                result: if error.is_some() {
                    NotificationResult::Failure
                } else {
                    NotificationResult::Success
                },
                event_type: kind.clone(),
                users: chunk.to_vec(),
                error: error.clone(),
            });
            out.extend(notification_for(loc, body));
        }
    };
    push(&outcome.users, None);
    for (number, group) in &outcome.failures {
        push(&group.users, Some(error_response(*number)));
    }
}
