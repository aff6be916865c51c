//! The push window (`max_pushes_in_flight`): no more pushes wait for their
//! devices at once than configured; the other jobs wait their turn without
//! being pushed, and go out as devices answer.

mod common;

use std::time::Duration;

use apple_sim::vpp::{AssetSpec, LocationSpec};
use apple_sim::{Behaviour, Fleet};
use common::deploy::DeployWorld;
use common::{Admin, eventually, no_job_open};
use haishin_storage::on_both_backends;
use serde_json::json;

on_both_backends!(pushes_wait_for_room_in_the_window);

const DEVICES: usize = 10;
const WINDOW: i64 = 3;

async fn pushes_wait_for_room_in_the_window(backend: &str) {
    let world = DeployWorld::start(
        backend,
        "窓",
        |sim| sim.add_location(LocationSpec::new("株式会社サンプル", "本社").asset(AssetSpec::app("1000001", 1))),
        |c| {
            c.max_pushes_in_flight = WINDOW;
            c.push_timeout_seconds = 120;
            c.repush_after_seconds = 600;
        },
    )
    .await;
    let admin = &world.admin;
    let fleet = Fleet::builder(world.env(world.top))
        .devices(DEVICES)
        .behaviour(|_| Behaviour::ipad())
        .enroll()
        .await;
    assert!(fleet.failures().is_empty());
    no_job_open(admin, "the first inventories", Duration::from_secs(60)).await;

    // Every device away, a command for each: only the window is pushed.
    for device in fleet.devices() {
        device.update_behaviour(|b| b.offline = true);
    }
    let devices = admin.get("/devices?per_page=100&page=1").await;
    let mut jobs = Vec::new();
    for device in devices["items"].as_array().unwrap() {
        let queued = admin
            .post(
                &format!("/devices/{}/commands", device["id"]),
                json!({ "commands": ["DeviceInformation"] }),
            )
            .await;
        jobs.extend(
            queued["job_ids"]
                .as_array()
                .unwrap()
                .iter()
                .map(|id| id.as_i64().unwrap()),
        );
    }
    assert_eq!(jobs.len(), DEVICES);
    let jobs = &jobs;
    eventually("the window filled", Duration::from_secs(10), || async {
        match count(admin, jobs, "push_sent").await {
            n if n == WINDOW as usize => Ok(()),
            n => Err(format!("{n} pushed")),
        }
    })
    .await;
    // Many push rounds later (every 100 ms here), still no more.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(count(admin, jobs, "push_sent").await, WINDOW as usize);
    assert_eq!(count(admin, jobs, "waiting").await, DEVICES - WINDOW as usize);

    // The devices come back: the window moves on until every job has run.
    for device in fleet.devices() {
        device.update_behaviour(|b| b.offline = false);
    }
    eventually("every command answered", Duration::from_secs(60), || async {
        match count(admin, jobs, "success").await {
            DEVICES => Ok(()),
            n => Err(format!("{n} succeeded")),
        }
    })
    .await;
    world.server.stop().await;
}

/// How many of these jobs have this status.
async fn count(admin: &Admin, jobs: &[i64], status: &str) -> usize {
    let mut n = 0;
    for id in jobs {
        if admin.get(&format!("/jobs/{id}")).await["status"] == status {
            n += 1;
        }
    }
    n
}
