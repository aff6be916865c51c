//! The command queue's rules (haishin_domain::jobs) on SQLite and PostgreSQL.

use std::sync::Arc;

use haishin_domain::Store;
use haishin_domain::auth::Actor;
use haishin_domain::ids::{DeviceId, GroupId};
use haishin_domain::jobs::*;
use haishin_domain::org::DeviceInput;
use haishin_domain::time_util::Timestamp;
use haishin_storage::testing::TestDb;

use haishin_storage::on_both_backends;

on_both_backends!(fifo_per_device_with_pushes_and_results);
on_both_backends!(scheduled_not_now_and_push_timeout);
on_both_backends!(cancel_list_purge_and_device_delete);
on_both_backends!(concurrent_claims_push_each_job_once);
on_both_backends!(verifying_lists_are_pushed_before_older_installs);

const POLICY: PushPolicy = PushPolicy {
    timeout_millis: 60_000,
    repush_after_millis: 600_000,
    max_pushes: 3,
    max_in_flight: 2000,
};
const T0: i64 = 1_800_000_000_000;

fn at(offset_millis: i64) -> Timestamp {
    Timestamp(T0 + offset_millis)
}

struct Fleet {
    db: TestDb,
    actor: Actor,
    devices: Vec<DeviceId>,
}

async fn fleet(backend: &str, count: usize) -> Fleet {
    let db = TestDb::open(backend).await;
    let (account, root) = db.store.create_account("キュー").await.unwrap();
    let actor = Actor::system(account.id);
    let mut devices = Vec::new();
    for i in 0..count {
        let input = DeviceInput {
            group_id: GroupId(root.id.0),
            display_name: format!("端末{i}"),
            ..Default::default()
        };
        devices.push(db.store.create_device(&actor, &input).await.unwrap().id);
    }
    Fleet { db, actor, devices }
}

fn job(device: DeviceId, uuid: &str, run_at: Option<Timestamp>) -> NewJob {
    NewJob {
        device_id: device,
        command_uuid: uuid.to_owned(),
        request_type: "DeviceInformation".into(),
        command: format!("<plist><dict><key>CommandUUID</key><string>{uuid}</string></dict></plist>"),
        run_at,
        content: None,
    }
}

/// Installs queued on three devices, then the managed list that verifies
/// an install on a fourth: the list is pushed for first, once due, even
/// though the installs are older; the installs then go in id order.
async fn verifying_lists_are_pushed_before_older_installs(backend: &str) {
    let fleet = fleet(backend, 4).await;
    let store = &fleet.db.store;
    let installs: Vec<NewJob> = fleet.devices[..3]
        .iter()
        .enumerate()
        .map(|(i, d)| NewJob {
            request_type: "InstallApplication".into(),
            ..job(*d, &format!("install{i}"), None)
        })
        .collect();
    store.enqueue_jobs(&fleet.actor, &installs, at(0)).await.unwrap();
    let check = NewJob {
        request_type: "ManagedApplicationList".into(),
        ..job(fleet.devices[3], "check", Some(at(2)))
    };
    store.enqueue_jobs(&fleet.actor, &[check], at(1)).await.unwrap();

    // A claim takes no more than it is given room for (PostgreSQL once
    // claimed every due job for a room of 1).
    let before_due = store.claim_pushes(&POLICY, at(1), 1).await.unwrap();
    assert_eq!(before_due.len(), 1);
    assert_eq!(before_due[0].device_id, fleet.devices[0], "the check is not due yet");
    assert_eq!(status_of(&fleet, "install1").await, JobStatus::Waiting);
    let due = store.claim_pushes(&POLICY, at(2), 1).await.unwrap();
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].device_id, fleet.devices[3], "the due check goes first");
    assert_eq!(status_of(&fleet, "check").await, JobStatus::PushSent);
    let rest = store.claim_pushes(&POLICY, at(3), 10).await.unwrap();
    assert_eq!(
        rest.iter().map(|p| p.device_id).collect::<Vec<_>>(),
        vec![fleet.devices[1], fleet.devices[2]]
    );
    fleet.db.cleanup().await.unwrap();
}

async fn status_of(fleet: &Fleet, uuid: &str) -> JobStatus {
    let jobs = fleet
        .db
        .store
        .list_jobs(
            fleet.actor.account_id,
            &JobQuery {
                limit: Some(1000),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    jobs.into_iter().find(|j| j.command_uuid == uuid).unwrap().status
}

async fn fifo_per_device_with_pushes_and_results(backend: &str) {
    let fleet = fleet(backend, 2).await;
    let (a, b) = (fleet.devices[0], fleet.devices[1]);
    let store = &fleet.db.store;
    let account = fleet.actor.account_id;
    store
        .enqueue_jobs(
            &fleet.actor,
            &[
                job(a, "a1", None),
                job(a, "a2", None),
                job(b, "b1", None),
                job(a, "a3", None),
            ],
            at(0),
        )
        .await
        .unwrap();

    // Only each device's head is pushed for, and only once.
    let pushed = store.claim_pushes(&POLICY, at(1), 100).await.unwrap();
    assert_eq!(pushed.iter().map(|p| p.device_id).collect::<Vec<_>>(), vec![a, b]);
    assert!(store.claim_pushes(&POLICY, at(2), 100).await.unwrap().is_empty());
    assert_eq!(status_of(&fleet, "a1").await, JobStatus::PushSent);
    assert_eq!(status_of(&fleet, "a2").await, JobStatus::Waiting);

    // The device fetches its head; polling again without answering gets the
    // same command again.
    let first = store.next_delivery(account, a, at(3)).await.unwrap().unwrap();
    assert_eq!((first.command_uuid.as_str(), first.redelivered), ("a1", false));
    assert!(first.command.contains("a1"));
    assert_eq!(status_of(&fleet, "a1").await, JobStatus::Running);
    let again = store.next_delivery(account, a, at(4)).await.unwrap().unwrap();
    assert_eq!((again.command_uuid.as_str(), again.redelivered), ("a1", true));

    // A report for another device's command, or an unknown one, changes nothing.
    let wrong = store
        .record_report(account, b, "a1", &JobOutcome::Succeeded, at(5))
        .await
        .unwrap();
    assert_eq!(wrong, ReportDisposition::Unknown);
    // Acknowledged: success, and the next job of that device comes up.
    let done = store
        .record_report(account, a, "a1", &JobOutcome::Succeeded, at(5))
        .await
        .unwrap();
    assert_eq!(done, ReportDisposition::Recorded(JobStatus::Success));
    let repeat = store
        .record_report(account, a, "a1", &JobOutcome::Succeeded, at(6))
        .await
        .unwrap();
    assert_eq!(repeat, ReportDisposition::AlreadyFinished);
    let second = store.next_delivery(account, a, at(7)).await.unwrap().unwrap();
    assert_eq!(second.command_uuid, "a2");

    // An error ends the job with the chain kept as the device sent it.
    let chain = serde_json::json!([{ "ErrorCode": 12064, "ErrorDomain": "MCMDMErrorDomain" }]);
    let failed = store
        .record_report(
            account,
            a,
            "a2",
            &JobOutcome::DeviceError {
                error_chain: Some(chain.clone()),
            },
            at(8),
        )
        .await
        .unwrap();
    assert_eq!(failed, ReportDisposition::Recorded(JobStatus::DeviceError));
    let jobs = store
        .list_jobs(
            account,
            &JobQuery {
                status: Some(JobStatus::DeviceError),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].error_chain, Some(chain));
    assert_eq!(jobs[0].created_by_name, "SYSTEM");

    // a3 is the head now and needs its own push.
    let pushed = store.claim_pushes(&POLICY, at(9), 100).await.unwrap();
    assert_eq!(pushed.len(), 1);
    assert_eq!(pushed[0].device_id, a);
    assert_eq!(status_of(&fleet, "a3").await, JobStatus::PushSent);
    fleet.db.cleanup().await.unwrap();
}

async fn scheduled_not_now_and_push_timeout(backend: &str) {
    let fleet = fleet(backend, 1).await;
    let d = fleet.devices[0];
    let store = &fleet.db.store;
    let account = fleet.actor.account_id;
    let hour = 3_600_000;
    store
        .enqueue_jobs(
            &fleet.actor,
            &[job(d, "later", Some(at(hour))), job(d, "now", None)],
            at(0),
        )
        .await
        .unwrap();
    assert_eq!(status_of(&fleet, "later").await, JobStatus::Scheduled);

    // The scheduled job does not hold up the one behind it.
    let delivery = store.next_delivery(account, d, at(1)).await.unwrap().unwrap();
    assert_eq!(delivery.command_uuid, "now");
    // NotNow: back to waiting at the head, not re-pushed before the interval.
    let not_now = store
        .record_report(account, d, "now", &JobOutcome::NotNow, at(2))
        .await
        .unwrap();
    assert_eq!(not_now, ReportDisposition::Recorded(JobStatus::Waiting));
    assert!(store.claim_pushes(&POLICY, at(3), 10).await.unwrap().is_empty());
    let repushed = store
        .claim_pushes(&POLICY, at(2 + POLICY.repush_after_millis), 10)
        .await
        .unwrap();
    assert_eq!(repushed.len(), 1);
    // In flight until the device fetches it, or until it is old enough.
    let pushed_at = at(2 + POLICY.repush_after_millis);
    assert_eq!(store.count_pushes_in_flight(pushed_at).await.unwrap(), 1);
    assert_eq!(
        store
            .count_pushes_in_flight(at(3 + POLICY.repush_after_millis))
            .await
            .unwrap(),
        0
    );
    let jobs = store.list_jobs(account, &JobQuery::default()).await.unwrap();
    let refused = jobs.iter().find(|j| j.command_uuid == "now").unwrap();
    assert_eq!((refused.not_now_count, refused.push_count), (1, 1));
    // When the device comes back the refused command is offered again.
    let retry = store
        .next_delivery(account, d, at(POLICY.repush_after_millis + 10))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(retry.command_uuid, "now");
    assert_eq!(store.count_pushes_in_flight(pushed_at).await.unwrap(), 0, "fetched");
    store
        .record_report(
            account,
            d,
            "now",
            &JobOutcome::Succeeded,
            at(POLICY.repush_after_millis + 11),
        )
        .await
        .unwrap();

    // Its time comes: the scheduled job is pushed, the device stays away:
    // push timeout; pushes stop at the maximum; it still runs later.
    assert!(store.next_delivery(account, d, at(hour - 1)).await.unwrap().is_none());
    assert_eq!(store.claim_pushes(&POLICY, at(hour), 10).await.unwrap().len(), 1);
    assert_eq!(
        store
            .mark_push_timeouts(&POLICY, at(hour + POLICY.timeout_millis - 1))
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        store
            .mark_push_timeouts(&POLICY, at(hour + POLICY.timeout_millis))
            .await
            .unwrap(),
        1
    );
    assert_eq!(status_of(&fleet, "later").await, JobStatus::PushTimeout);
    let mut clock = hour;
    for _ in 1..POLICY.max_pushes {
        clock += POLICY.repush_after_millis;
        assert_eq!(store.claim_pushes(&POLICY, at(clock), 10).await.unwrap().len(), 1);
    }
    clock += POLICY.repush_after_millis;
    assert!(
        store.claim_pushes(&POLICY, at(clock), 10).await.unwrap().is_empty(),
        "max pushes reached"
    );
    let late = store.next_delivery(account, d, at(clock + 1)).await.unwrap().unwrap();
    assert_eq!(late.command_uuid, "later");
    assert_eq!(
        store
            .record_report(account, d, "later", &JobOutcome::Succeeded, at(clock + 2))
            .await
            .unwrap(),
        ReportDisposition::Recorded(JobStatus::Success)
    );
    fleet.db.cleanup().await.unwrap();
}

async fn cancel_list_purge_and_device_delete(backend: &str) {
    let fleet = fleet(backend, 3).await;
    let store = &fleet.db.store;
    let account = fleet.actor.account_id;
    let (a, b, c) = (fleet.devices[0], fleet.devices[1], fleet.devices[2]);
    store
        .enqueue_jobs(
            &fleet.actor,
            &[
                job(a, "a1", None),
                job(a, "a2", None),
                job(b, "b1", None),
                job(c, "c1", None),
            ],
            at(0),
        )
        .await
        .unwrap();
    store.next_delivery(account, a, at(1)).await.unwrap();
    store
        .record_report(account, a, "a1", &JobOutcome::Succeeded, at(2))
        .await
        .unwrap();

    // Cancel one: only unfinished jobs are affected; a canceled job is never delivered.
    let ids = |uuids: &[&str], jobs: &[Job]| -> Vec<_> {
        jobs.iter()
            .filter(|j| uuids.contains(&j.command_uuid.as_str()))
            .map(|j| j.id)
            .collect()
    };
    let all = store.list_jobs(account, &JobQuery::default()).await.unwrap();
    assert_eq!(
        all.iter().map(|j| j.command_uuid.as_str()).collect::<Vec<_>>(),
        vec!["c1", "b1", "a2", "a1"]
    );
    let canceled = store
        .cancel_jobs(&fleet.actor, &JobSelection::Ids(ids(&["a1", "a2"], &all)), at(3))
        .await
        .unwrap();
    assert_eq!(canceled, 1, "a1 had already succeeded");
    assert!(store.next_delivery(account, a, at(4)).await.unwrap().is_none());
    assert_eq!(status_of(&fleet, "a1").await, JobStatus::Success);
    assert_eq!(status_of(&fleet, "a2").await, JobStatus::Canceled);
    let active = store
        .list_jobs(
            account,
            &JobQuery {
                active_only: true,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(active.len(), 2);

    // Deleting a device deletes its jobs.
    let device = store.get_device(account, c).await.unwrap().unwrap();
    store.delete_device(&fleet.actor, &device).await.unwrap();
    assert_eq!(store.list_jobs(account, &JobQuery::default()).await.unwrap().len(), 3);

    // Cancel all registered; then retention removes finished jobs registered before a date.
    assert_eq!(
        store
            .cancel_jobs(&fleet.actor, &JobSelection::All, at(5))
            .await
            .unwrap(),
        1
    );
    assert_eq!(store.purge_finished_jobs(at(0)).await.unwrap(), 0);
    assert_eq!(store.purge_finished_jobs(at(1)).await.unwrap(), 3);

    // Other accounts cannot queue for these devices, and month filters work.
    let (other, _) = store.create_account("他社").await.unwrap();
    let refused = store
        .enqueue_jobs(&Actor::system(other.id), &[job(a, "x1", None)], at(6))
        .await;
    assert!(matches!(refused, Err(haishin_domain::DomainError::NotFound { .. })));
    let month = store
        .list_jobs(
            account,
            &JobQuery {
                month: Some("2027-01".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(month.is_empty());
    fleet.db.cleanup().await.unwrap();
}

async fn concurrent_claims_push_each_job_once(backend: &str) {
    let fleet = fleet(backend, 200).await;
    let store = Arc::new(fleet.db.store.clone());
    let jobs: Vec<NewJob> = fleet
        .devices
        .iter()
        .flat_map(|d| {
            [
                job(*d, &format!("{}-1", d.0), None),
                job(*d, &format!("{}-2", d.0), None),
            ]
        })
        .collect();
    store.enqueue_jobs(&fleet.actor, &jobs, at(0)).await.unwrap();
    let claimers: Vec<_> = (0..4)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move {
                let mut claimed = Vec::new();
                loop {
                    let batch = store.claim_pushes(&POLICY, at(1), 7).await.unwrap();
                    if batch.is_empty() {
                        break claimed;
                    }
                    claimed.extend(batch.into_iter().map(|p| p.job_id));
                }
            })
        })
        .collect();
    let mut all = Vec::new();
    for claimer in claimers {
        all.extend(claimer.await.unwrap());
    }
    all.sort();
    let before = all.len();
    all.dedup();
    assert_eq!(before, all.len(), "a job was claimed twice");
    assert_eq!(all.len(), 200, "one head per device");
    fleet.db.cleanup().await.unwrap();
}
