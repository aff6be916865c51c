//! Enrollment, check-ins, signatures, and the ways a device leaves management.

use std::time::{Duration, SystemTime};

use apple_apns::{Expiration, MdmPush, PushOutcome};
use apple_mdm::command::EraseDevice;
use apple_mdm::{CheckinMessage, CommandStatus, SHARED_IPAD_USER_ID};
use apple_sim::{
    Behaviour, Endpoint, HttpProfileSource, Lifecycle, ManagedUser, SimDevice, SimEnv, SimError, UserChannel,
};

use crate::support::{ServerConfig, WAIT, World, push};

fn token_update(message: &CheckinMessage) -> &apple_mdm::checkin::TokenUpdate {
    match message {
        CheckinMessage::TokenUpdate(t) => t,
        other => panic!("not a TokenUpdate: {other:?}"),
    }
}

#[tokio::test]
async fn enrollment_checks_in_signed_and_registers_the_push_token() {
    let world = World::start().await;
    let device = world.enrolled(0, Behaviour::ipad()).await;
    let udid = device.udid();
    assert!(device.snapshot().is_enrolled());

    let checkins = world.server.checkins();
    let types: Vec<&str> = checkins.iter().map(CheckinMessage::message_type).collect();
    assert_eq!(types, ["Authenticate", "TokenUpdate"]);
    let CheckinMessage::Authenticate(auth) = &checkins[0] else {
        unreachable!()
    };
    assert_eq!(auth.identity.udid().unwrap().as_str(), udid);
    assert_eq!(auth.topic, world.server.topic());
    assert_eq!(auth.serial_number.as_deref(), Some(device.serial_number()));
    assert_eq!(auth.os_version.as_deref(), Some("17.5.1"));
    assert_eq!(auth.build_version.as_deref(), Some("21F90"));
    assert!(auth.product_name.as_deref().unwrap().starts_with("iPad"));
    assert_eq!(auth.imei, None);

    let update = token_update(&checkins[1]);
    assert_eq!(update.token, device.push_token().unwrap());
    assert_eq!(update.token.len(), 32);
    assert_eq!(update.push_magic, device.push_magic().unwrap());
    assert!(update.unlock_token.as_ref().is_some_and(|t| !t.is_empty()));
    assert_eq!(update.awaiting_configuration, Some(false));
    assert!(update.identity.user.is_none());

    assert_eq!(world.server.signature_failures(), Vec::<String>::new());
    assert_eq!(world.server.signed_and_unsigned(), (2, 0));
    assert!(world.apns.is_registered(&device.push_token().unwrap()));

    // The first push starts the first session.
    assert!(push(&world.client, &device).await.is_delivered());
    world
        .server
        .wait_until("an Idle", WAIT, |s| s.idles_of(udid) == 1)
        .await;
    device.wait_for("a session", WAIT, |s| s.sessions == 1).await.unwrap();
    assert_eq!(world.server.signed_and_unsigned(), (3, 0));
    let stats = world.env.stats();
    for endpoint in [
        Endpoint::Profile,
        Endpoint::Authenticate,
        Endpoint::TokenUpdate,
        Endpoint::Connect,
    ] {
        assert_eq!(stats.summary(endpoint).map(|s| s.count), Some(1), "{endpoint}");
    }
}

#[tokio::test]
async fn cms_signed_profiles_and_unsigned_messages() {
    let world = World::new(ServerConfig {
        sign_profile: true,
        sign_message: false,
        ..ServerConfig::default()
    })
    .await;
    let device = world.enrolled(1, Behaviour::iphone().with_os_version("18.1")).await;
    let CheckinMessage::Authenticate(auth) = &world.server.checkins()[0] else {
        unreachable!()
    };
    assert_eq!(
        (auth.os_version.as_deref(), auth.build_version.as_deref()),
        (Some("18.1"), Some("22B83"))
    );
    assert!(auth.product_name.as_deref().unwrap().starts_with("iPhone"));
    let imei = auth.imei.clone().expect("iPhones send their IMEI");
    assert_eq!(Some(imei), device.hardware().imei);
    assert_eq!(world.server.signed_and_unsigned(), (0, 2));
}

#[tokio::test]
async fn profiles_ios_would_refuse_are_refused() {
    type Change = fn(&mut ServerConfig);
    let cases: [(&str, Change); 4] = [
        ("pkcs12", |c| c.include_pkcs12 = false),
        ("mdm", |c| c.include_mdm = false),
        ("rights", |c| c.access_rights = Some(2)),
        ("topic", |c| c.topic = "com.example.not-mdm".into()),
    ];
    for (name, change) in cases {
        let mut config = ServerConfig::default();
        change(&mut config);
        let world = World::new(config).await;
        let device = SimDevice::new(&world.env, 0, 1, Behaviour::ipad());
        let error = device.enroll().await.unwrap_err();
        assert!(matches!(error, SimError::ProfileRefused(_)), "{name}: {error}");
        assert!(
            matches!(device.snapshot().lifecycle, Lifecycle::EnrollFailed(_)),
            "{name}"
        );
        assert!(world.server.checkins().is_empty(), "{name}");
    }
}

#[tokio::test]
async fn http_failures_surface_their_status() {
    let world = World::start().await;
    let stranger = HttpProfileSource::for_group(&world.server.base, crate::support::GROUP).with_bearer("wrong");
    let env = SimEnv::builder(stranger).build().unwrap();
    let error = SimDevice::new(&env, 0, 1, Behaviour::ipad())
        .enroll()
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            SimError::Status {
                endpoint: Endpoint::Profile,
                status: 401,
                ..
            }
        ),
        "{error}"
    );

    world.server.set(|c| c.authenticate_status = 401);
    let device = SimDevice::new(&world.env, 1, 1, Behaviour::ipad());
    let error = device.enroll().await.unwrap_err();
    assert_eq!((error.status(), device.push_token()), (Some(401), None));

    world.server.set(|c| {
        c.authenticate_status = 200;
        c.token_update_status = 403;
    });
    let error = device.enroll().await.unwrap_err();
    assert!(
        matches!(
            error,
            SimError::Status {
                endpoint: Endpoint::TokenUpdate,
                status: 403,
                ..
            }
        ),
        "{error}"
    );
    assert_eq!(world.apns.registered_tokens(), 0);

    world.server.set(|c| c.token_update_status = 200);
    device.enroll().await.unwrap();
    assert_eq!(world.apns.registered_tokens(), 1);
}

#[tokio::test]
async fn removing_the_profile_checks_out_once() {
    let world = World::start().await;
    let device = world.enrolled(0, Behaviour::ipad()).await;
    let token = device.push_token().unwrap();
    device.unenroll().await.unwrap();
    assert_eq!(device.snapshot().lifecycle, Lifecycle::Unenrolled { by_server: false });
    assert_eq!(world.server.checkins_of(device.udid(), "CheckOut").len(), 1);
    let outcome = world.client.push(&MdmPush::new(token, "x")).await;
    assert!(matches!(outcome, PushOutcome::Unregistered { .. }), "{outcome:?}");
    assert!(matches!(device.unenroll().await, Err(SimError::NotEnrolled)));
    assert_eq!(world.server.checkins_of(device.udid(), "CheckOut").len(), 1);

    let quiet = World::new(ServerConfig {
        check_out_when_removed: false,
        ..ServerConfig::default()
    })
    .await;
    let device = quiet.enrolled(1, Behaviour::ipad()).await;
    device.unenroll().await.unwrap();
    assert!(quiet.server.checkins_of(device.udid(), "CheckOut").is_empty());
}

#[tokio::test]
async fn erase_device_acknowledges_then_wipes() {
    let world = World::start().await;
    let device = world.enrolled(0, Behaviour::ipad().with_locked(true)).await;
    let token = device.push_token().unwrap();
    let report = world.run(&device, EraseDevice::default()).await;
    assert_eq!(
        report.status,
        CommandStatus::Acknowledged,
        "EraseDevice never answers NotNow"
    );
    device
        .wait_for("the wipe", WAIT, |s| s.lifecycle == Lifecycle::Wiped)
        .await
        .unwrap();
    let outcome = world.client.push(&MdmPush::new(token, "x")).await;
    assert!(
        matches!(outcome, PushOutcome::Unregistered { since: Some(_), .. }),
        "{outcome:?}"
    );
    assert!(world.server.checkins_of(device.udid(), "CheckOut").is_empty());
    assert!(matches!(device.poll_now().await, Err(SimError::Wiped)));
}

#[tokio::test]
async fn a_server_that_no_longer_knows_the_device_unenrolls_it() {
    let world = World::start().await;
    let device = world.enrolled(0, Behaviour::ipad()).await;
    let token = device.push_token().unwrap();
    world.server.set(|c| c.connect_status = 401);
    assert!(push(&world.client, &device).await.is_delivered());
    device
        .wait_for("unenrollment", WAIT, |s| {
            s.lifecycle == Lifecycle::Unenrolled { by_server: true }
        })
        .await
        .unwrap();
    assert!(!world.apns.is_registered(&token));
}

#[tokio::test]
async fn shared_ipad_users_get_their_own_channel() {
    let world = World::start().await;
    let user = ManagedUser::new("kana@school.example", "Kana Sato");
    let device = world.enrolled(0, Behaviour::shared_ipad(Some(user.clone()))).await;
    let updates = world.server.checkins_of(device.udid(), "TokenUpdate");
    assert_eq!(updates.len(), 2);
    let (device_update, user_update) = (token_update(&updates[0]), token_update(&updates[1]));
    assert!(device_update.identity.user.is_none());
    assert!(device_update.unlock_token.is_none(), "no UnlockToken on Shared iPad");
    let identity = user_update.identity.user.as_ref().unwrap();
    assert_eq!(identity.user_id.as_deref(), Some(SHARED_IPAD_USER_ID));
    assert_eq!(identity.short_name.as_deref(), Some("kana@school.example"));
    assert_eq!(identity.long_name.as_deref(), Some("Kana Sato"));
    assert_eq!(user_update.not_on_console, None);
    let (user_token, user_magic) = device.user_push().unwrap();
    assert_eq!(user_update.token, user_token);
    assert_ne!(user_token, device.push_token().unwrap());
    assert_eq!(
        device.snapshot().user_channel,
        UserChannel::Active {
            short_name: user.short_name.clone()
        }
    );

    assert!(
        world
            .client
            .push(&MdmPush::new(user_token, user_magic))
            .await
            .is_delivered()
    );
    world
        .server
        .wait_until("a user-channel Idle", WAIT, |s| {
            s.reports()
                .iter()
                .any(|r| r.identity.user.is_some() && r.status == CommandStatus::Idle)
        })
        .await;

    world.server.set(|c| c.user_token_update_status = 410);
    let declined = world.enrolled(1, Behaviour::shared_ipad(Some(user.clone()))).await;
    assert!(declined.snapshot().is_enrolled());
    assert_eq!(
        declined.snapshot().user_channel,
        UserChannel::Declined {
            short_name: user.short_name
        }
    );
    assert!(declined.user_push().is_none());
}

#[tokio::test]
async fn an_offline_device_gets_its_stored_push_when_it_returns() {
    let world = World::start().await;
    let device = world.enrolled(0, Behaviour::ipad()).await;
    device.update_behaviour(|b| b.offline = true);
    assert!(matches!(device.poll_now().await, Err(SimError::Offline)));
    let later = Expiration::At(SystemTime::now() + Duration::from_secs(300));
    let push = MdmPush::new(device.push_token().unwrap(), device.push_magic().unwrap()).with_expiration(later);
    assert!(world.client.push(&push).await.is_delivered());
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(world.server.idles_of(device.udid()), 0);
    device.update_behaviour(|b| b.offline = false);
    world
        .server
        .wait_until("the stored push", WAIT, |s| s.idles_of(device.udid()) == 1)
        .await;
}

#[tokio::test]
async fn pushes_with_another_push_magic_are_ignored() {
    let world = World::start().await;
    let device = world.enrolled(0, Behaviour::ipad()).await;
    let stale = MdmPush::new(device.push_token().unwrap(), "00000000-0000-0000-0000-000000000000");
    assert!(world.client.push(&stale).await.is_delivered());
    device
        .wait_for("the ignored push", WAIT, |s| s.pushes_ignored == 1)
        .await
        .unwrap();
    assert_eq!(
        (device.snapshot().sessions, world.server.idles_of(device.udid())),
        (0, 0)
    );
}
