//! The VPP simulator's users and notifications: the test notification with its bearer,
//! ASSET_MANAGEMENT chunks and failures, the user lifecycle with USER_MANAGEMENT and
//! USER_ASSOCIATED, ASSET_COUNT, subscriptions, retries, drops and duplicates.

mod vpp_common;

use std::sync::atomic::Ordering;

use apple_sim::vpp::VppSimOptions;
use apple_vpp::notifications::NotificationResult;
use apple_vpp::{
    AssetRef, ClientConfigRequest, EventStatus, EventType, ManageAssetsRequest, ManageUsersRequest, Notification,
    NotificationBody, NotificationType, PricingParam, RequestUser, UserStatus, UsersQuery, VppClient,
};
use vpp_common::*;

fn app(id: &str) -> AssetRef {
    AssetRef::new(id, PricingParam::Stdq)
}

async fn subscribe(client: &VppClient, receiver: &Receiver, types: Option<Vec<NotificationType>>) {
    let cfg = client
        .set_client_config(&ClientConfigRequest {
            notification_url: Some(receiver.url.clone()),
            notification_auth_token: Some(NOTIFY_SECRET.into()),
            notification_types: types,
            ..Default::default()
        })
        .await
        .expect("client config accepted");
    assert_eq!(cfg.notification_url.as_deref(), Some(receiver.url.as_str()));
}

fn asset_management(all: &[Notification]) -> Vec<apple_vpp::notifications::AssetManagementNotification> {
    all.iter()
        .filter_map(|n| match &n.body {
            NotificationBody::AssetManagement(a) => Some(a.clone()),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn test_notification_carries_the_bearer_and_types_are_kept() {
    let (sim, loc) = start(VppSimOptions::for_tests()).await;
    let client = client(&sim, &loc);
    let receiver = Receiver::start().await;
    subscribe(&client, &receiver, None).await;
    let all = receiver.all();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].body, NotificationBody::Test);
    assert_eq!(all[0].u_id, loc.u_id());
    assert_eq!(receiver.inbox.rejected_auth.load(Ordering::SeqCst), 0);
    // Without a type list, everything is subscribed.
    let cc = client.client_config().await.unwrap();
    assert_eq!(cc.subscribed_notification_types.len(), 4);
    assert_eq!(cc.notification_auth_token.as_deref(), Some(NOTIFY_SECRET));

    // A wrong secret is refused by the receiver, so the sim answers 9728 and keeps the old config.
    let err = client
        .set_client_config(&ClientConfigRequest {
            notification_url: Some(receiver.url.clone()),
            notification_auth_token: Some("wrong".into()),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(number(&err), 9728);
    assert!(receiver.inbox.rejected_auth.load(Ordering::SeqCst) >= 1);
    let cc = client.client_config().await.unwrap();
    assert_eq!(cc.notification_auth_token.as_deref(), Some(NOTIFY_SECRET));

    // notificationTypes replaces the set.
    client
        .set_client_config(&ClientConfigRequest {
            notification_types: Some(vec![NotificationType::AssetCount]),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(loc.snapshot().notification_types, vec![NotificationType::AssetCount]);
}

#[tokio::test]
async fn asset_management_is_chunked_by_100_with_failures_apart() {
    let (sim, loc) = start(VppSimOptions::for_tests()).await;
    let client = client(&sim, &loc);
    let receiver = Receiver::start().await;
    subscribe(&client, &receiver, Some(vec![NotificationType::AssetManagement])).await;
    loc.purchase(APP, PricingParam::Stdq, 240).unwrap();

    let serials: Vec<String> = (0..250).map(|i| format!("C{i:04}")).collect();
    let ev = client
        .associate_assets(&ManageAssetsRequest::for_serials(vec![app(APP)], serials))
        .await
        .unwrap();
    sim.settle().await.unwrap();
    let status = client.event_status(&ev.event_id).await.unwrap();
    assert_eq!(
        (status.event_status, status.num_completed),
        (EventStatus::Complete, 250)
    );
    let notes = asset_management(&receiver.all());
    assert_eq!(
        notes.iter().map(|n| n.assignments.len()).collect::<Vec<_>>(),
        vec![100, 100, 50]
    );
    assert!(
        notes
            .iter()
            .all(|n| n.event_id == ev.event_id && n.result == NotificationResult::Success)
    );
    assert!(notes.iter().all(|n| n.event_type == EventType::Associate));
    // ASSET_COUNT was not subscribed: the purchase was not notified.
    assert!(
        !receiver
            .all()
            .iter()
            .any(|n| matches!(n.body, NotificationBody::AssetCount(_)))
    );

    // APP2 has 5 licenses: 5 succeed, 3 fail with 9709 in their own notification.
    let serials: Vec<String> = (0..8).map(|i| format!("D{i}")).collect();
    let ev = client
        .associate_assets(&ManageAssetsRequest::for_serials(vec![app(APP2)], serials))
        .await
        .unwrap();
    sim.settle().await.unwrap();
    let notes: Vec<_> = asset_management(&receiver.all())
        .into_iter()
        .filter(|n| n.event_id == ev.event_id)
        .collect();
    assert_eq!(notes.len(), 2);
    assert_eq!(
        (notes[0].result.clone(), notes[0].assignments.len()),
        (NotificationResult::Success, 5)
    );
    assert_eq!(
        (notes[1].result.clone(), notes[1].assignments.len()),
        (NotificationResult::Failure, 3)
    );
    assert_eq!(notes[1].error.as_ref().unwrap().error_number, 9709);
    assert!(notes[0].error.is_none());

    // Notification ids are unique.
    let mut ids: Vec<_> = receiver.all().iter().map(|n| n.notification_id.clone()).collect();
    let count = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), count);
}

#[tokio::test]
async fn user_lifecycle_with_notifications() {
    let (sim, loc) = start(VppSimOptions::for_tests()).await;
    let client = client(&sim, &loc);
    let receiver = Receiver::start().await;
    subscribe(&client, &receiver, None).await;

    let mut managed = RequestUser::new("managed");
    managed.managed_apple_id = Some("managed@corp.example".into());
    let mut invited = RequestUser::new("invited");
    invited.email = Some("invited@corp.example".into());
    let ev = client
        .create_users(&ManageUsersRequest {
            users: vec![invited.clone(), managed],
        })
        .await
        .unwrap();
    let s = finished(&client, &ev.event_id).await;
    assert_eq!(
        (s.event_status, s.num_requested, s.event_type),
        (EventStatus::Complete, 2, Some(EventType::Create))
    );
    let users = client.all_users(UsersQuery::default()).await.unwrap().items;
    let registered = users.iter().find(|u| u.client_user_id == "invited").unwrap();
    assert_eq!(registered.status, Some(UserStatus::Registered));
    let invite = registered.invite_code.clone().unwrap();
    assert_eq!(invite.len(), 32);
    assert!(invite.chars().all(|c| c.is_ascii_hexdigit()));
    let associated = users.iter().find(|u| u.client_user_id == "managed").unwrap();
    assert_eq!(associated.status, Some(UserStatus::Associated));
    assert!(associated.id_hash.is_some() && associated.invite_code.is_none());

    // The user accepts: USER_ASSOCIATED with the same idHash.
    let hash = loc.user_accepts_invitation("invited").unwrap();
    sim.settle().await.unwrap();
    let assoc = receiver
        .all()
        .into_iter()
        .find_map(|n| match n.body {
            NotificationBody::UserAssociated(u) => Some(u),
            _ => None,
        })
        .expect("USER_ASSOCIATED");
    assert_eq!(assoc.associated_users[0].client_user_id, "invited");
    assert_eq!(assoc.associated_users[0].id_hash.as_deref(), Some(hash.as_str()));
    assert_eq!(assoc.associated_users[0].status, Some(UserStatus::Associated));

    // Creating an active user again fails asynchronously with 9716.
    let ev = client
        .create_users(&ManageUsersRequest {
            users: vec![RequestUser::new("invited"), RequestUser::new("third")],
        })
        .await
        .unwrap();
    let s = finished(&client, &ev.event_id).await;
    assert_eq!((s.event_status, s.num_completed), (EventStatus::Failed, 1));
    assert_eq!(s.failures[0].error_number, 9716);

    // Update changes the email.
    let mut update = RequestUser::new("third");
    update.email = Some("third@corp.example".into());
    let ev = client
        .update_users(&ManageUsersRequest { users: vec![update] })
        .await
        .unwrap();
    assert_eq!(
        finished(&client, &ev.event_id).await.event_status,
        EventStatus::Complete
    );
    assert_eq!(
        loc.snapshot().active_user("third").unwrap().email.as_deref(),
        Some("third@corp.example")
    );

    // Retire releases the app license but not the book.
    let ev = client
        .associate_assets(&ManageAssetsRequest::for_users(
            vec![app(APP), app(BOOK)],
            vec!["invited".into()],
        ))
        .await
        .unwrap();
    finished(&client, &ev.event_id).await;
    let ev = client
        .retire_users(&ManageUsersRequest {
            users: vec![RequestUser::new("invited")],
        })
        .await
        .unwrap();
    assert_eq!(
        finished(&client, &ev.event_id).await.event_status,
        EventStatus::Complete
    );
    let snap = loc.snapshot();
    assert_eq!(snap.asset(APP).unwrap().assigned_count, 0);
    assert_eq!(snap.asset(BOOK).unwrap().assigned_count, 1);
    assert!(snap.counts_consistent());

    // Re-created after retirement: a new row; filters split them.
    let ev = client
        .create_users(&ManageUsersRequest {
            users: vec![RequestUser::new("invited")],
        })
        .await
        .unwrap();
    assert_eq!(
        finished(&client, &ev.event_id).await.event_status,
        EventStatus::Complete
    );
    let rows = client
        .all_users(UsersQuery {
            client_user_id: Some("invited".into()),
            ..Default::default()
        })
        .await
        .unwrap()
        .items;
    assert_eq!(rows.len(), 2);
    let retired = client
        .all_users(UsersQuery {
            retired_only: Some(true),
            ..Default::default()
        })
        .await
        .unwrap()
        .items;
    assert_eq!(retired.len(), 1);
    let active = client
        .all_users(UsersQuery {
            active_only: Some(true),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(active.items.len(), 3);
    // sinceVersionId on users.
    let v = active.version_id.unwrap();
    let ev = client
        .create_users(&ManageUsersRequest {
            users: vec![RequestUser::new("fourth")],
        })
        .await
        .unwrap();
    finished(&client, &ev.event_id).await;
    let changed = client
        .all_users(UsersQuery {
            since_version_id: Some(v),
            ..Default::default()
        })
        .await
        .unwrap()
        .items;
    assert_eq!(
        changed.iter().map(|u| u.client_user_id.as_str()).collect::<Vec<_>>(),
        vec!["fourth"]
    );

    sim.settle().await.unwrap();
    let kinds: Vec<EventType> = receiver
        .all()
        .into_iter()
        .filter_map(|n| match n.body {
            NotificationBody::UserManagement(u) => Some(u.event_type),
            _ => None,
        })
        .collect();
    assert!(
        kinds.contains(&EventType::Create) && kinds.contains(&EventType::Update) && kinds.contains(&EventType::Retire)
    );
    let failure = receiver.all().into_iter().find_map(|n| match n.body {
        NotificationBody::UserManagement(u) if u.result == NotificationResult::Failure => Some(u),
        _ => None,
    });
    assert_eq!(failure.unwrap().error.unwrap().error_number, 9716);
}

#[tokio::test]
async fn asset_count_retries_drops_and_duplicates() {
    let (sim, loc) = start(VppSimOptions::for_tests()).await;
    let client = client(&sim, &loc);
    let receiver = Receiver::start().await;
    subscribe(&client, &receiver, Some(vec![NotificationType::AssetCount])).await;

    loc.purchase(APP, PricingParam::Stdq, 5).unwrap();
    sim.settle().await.unwrap();
    let counts: Vec<i64> = receiver
        .all()
        .into_iter()
        .filter_map(|n| match n.body {
            NotificationBody::AssetCount(c) => Some(c.count_delta),
            _ => None,
        })
        .collect();
    assert_eq!(counts, vec![5]);
    let asset = loc.snapshot().asset(APP).cloned().unwrap();
    assert_eq!((asset.total_count, asset.available_count), (15, 15));
    assert!(loc.purchase(APP, PricingParam::Stdq, -100).is_err());

    // Two refused attempts, then delivered on the third.
    receiver.fail_next(2);
    loc.purchase(APP, PricingParam::Stdq, -3).unwrap();
    sim.settle().await.unwrap();
    assert_eq!(receiver.all().len(), 3);
    let c = sim.counters().notifications;
    assert_eq!((c.failed_attempts, c.failed), (2, 0));

    // Three refusals exhaust the attempts.
    receiver.fail_next(3);
    loc.purchase(APP, PricingParam::Stdq, 1).unwrap();
    sim.settle().await.unwrap();
    assert_eq!(receiver.all().len(), 3);
    assert_eq!(sim.counters().notifications.failed, 1);

    // Dropped: never arrives.
    sim.drop_notifications(1);
    loc.purchase(APP, PricingParam::Stdq, 1).unwrap();
    sim.settle().await.unwrap();
    assert_eq!(receiver.all().len(), 3);
    assert_eq!(sim.counters().notifications.dropped, 1);

    // Duplicated: the same notificationId twice.
    sim.duplicate_notifications(1);
    loc.purchase(APP, PricingParam::Stdq, 1).unwrap();
    sim.settle().await.unwrap();
    let all = receiver.all();
    assert_eq!(all.len(), 5);
    assert_eq!(all[3].notification_id, all[4].notification_id);

    // Events produce nothing: ASSET_MANAGEMENT is not subscribed.
    let ev = client
        .associate_assets(&ManageAssetsRequest::for_serials(vec![app(APP)], vec!["Z".into()]))
        .await
        .unwrap();
    finished(&client, &ev.event_id).await;
    sim.settle().await.unwrap();
    assert_eq!(receiver.all().len(), 5);
}

#[tokio::test]
async fn invitation_link_associates_the_user() {
    let (sim, loc) = start(VppSimOptions::for_tests()).await;
    let client = client(&sim, &loc);
    let receiver = Receiver::start().await;
    subscribe(&client, &receiver, Some(vec![NotificationType::UserAssociated])).await;
    let ev = client
        .create_users(&ManageUsersRequest {
            users: vec![RequestUser::new("link")],
        })
        .await
        .unwrap();
    finished(&client, &ev.event_id).await;
    let invite = loc.snapshot().active_user("link").unwrap().invite_code.clone().unwrap();
    let cfg = client.refresh_service_config().await.unwrap();
    let url = cfg.urls.invitation_url(&invite).unwrap();
    let resp = reqwest::get(&url).await.unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    sim.settle().await.unwrap();
    assert_eq!(
        loc.snapshot().active_user("link").unwrap().status,
        Some(UserStatus::Associated)
    );
    assert!(
        receiver
            .all()
            .iter()
            .any(|n| matches!(n.body, NotificationBody::UserAssociated(_)))
    );
}
