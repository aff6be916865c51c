//! Fleets: concurrent enrollment, distinct identities, polling and latency statistics.

use std::collections::HashSet;
use std::time::Duration;

use apple_mdm::command::DeviceInformation;
use apple_sim::{Behaviour, Endpoint, Fleet, Lifecycle};

use crate::support::{World, push};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_realistic_fleet_enrolls_and_answers() {
    let world = World::start().await;
    let fleet = Fleet::builder(world.env.clone())
        .devices(120)
        .concurrency(32)
        .seed(9)
        .realistic_mix()
        .enroll()
        .await;
    assert!(fleet.failures().is_empty(), "{:?}", fleet.failures());
    assert_eq!(fleet.enrolled().len(), 120);
    let udids: HashSet<&str> = fleet.devices().iter().map(|d| d.udid()).collect();
    let serials: HashSet<&str> = fleet.devices().iter().map(|d| d.serial_number()).collect();
    assert_eq!((udids.len(), serials.len()), (120, 120));
    assert_eq!(world.server.signature_failures(), Vec::<String>::new());
    assert_eq!(world.server.profiles_served(), 120);
    let authenticate = fleet.stats().summary(Endpoint::Authenticate).unwrap();
    assert_eq!(authenticate.count, 120);
    assert!(authenticate.p50 <= authenticate.p99);

    let online: Vec<_> = fleet.devices().iter().filter(|d| !d.behaviour().offline).collect();
    for device in &online {
        world
            .server
            .queue(device.udid(), DeviceInformation::new(["UDID", "SerialNumber"]));
    }
    let results = fleet.poll_all(16).await;
    assert_eq!(results.len(), online.len());
    for (index, result) in &results {
        let summary = result.as_ref().unwrap_or_else(|e| panic!("device {index}: {e}"));
        assert_eq!(summary.commands.len(), 1, "device {index}");
        assert_eq!(summary.round_trips, 2);
    }
    let connect = fleet.stats().summary(Endpoint::Connect).unwrap();
    assert_eq!(connect.count, online.len() * 2);
    assert!(connect.per_second > 0.0);

    // An offline member of the mix stays quiet when pushed.
    let offline = fleet
        .devices()
        .iter()
        .find(|d| d.behaviour().offline)
        .expect("the mix has one");
    assert!(push(&world.client, offline).await.is_delivered());
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(world.server.idles_of(offline.udid()), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_hundred_devices_enroll_well_under_a_minute() {
    let world = World::start().await;
    let fleet = Fleet::builder(world.env.clone())
        .devices(500)
        .behaviour(|i| {
            if i % 2 == 0 {
                Behaviour::ipad()
            } else {
                Behaviour::iphone()
            }
        })
        .enroll()
        .await;
    assert!(
        fleet.failures().is_empty(),
        "{:?}",
        &fleet.failures()[..fleet.failures().len().min(3)]
    );
    eprintln!("500 devices enrolled in {:?}", fleet.enroll_time());
    assert!(
        fleet.enroll_time() < Duration::from_secs(45),
        "{:?}",
        fleet.enroll_time()
    );
    assert_eq!(world.apns.registered_tokens(), 500);

    // Every device wakes on a push and ends its session.
    let outcomes = world
        .client
        .push_many(
            fleet
                .devices()
                .iter()
                .map(|d| apple_apns::MdmPush::new(d.push_token().unwrap(), d.push_magic().unwrap())),
        )
        .await;
    assert!(outcomes.iter().all(apple_apns::PushOutcome::is_delivered));
    fleet
        .wait_all("a session", Duration::from_secs(30), |_| true, |s| s.sessions == 1)
        .await
        .unwrap();
    assert!(
        fleet
            .devices()
            .iter()
            .all(|d| d.snapshot().lifecycle == Lifecycle::Enrolled)
    );
}
