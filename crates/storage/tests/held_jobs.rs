//! Held jobs (haishin_domain::jobs, deploy) on SQLite and PostgreSQL: an
//! install waiting for its license or for verification is unfinished but
//! never the head, so the device's other jobs run.

use haishin_domain::Store;
use haishin_domain::auth::Actor;
use haishin_domain::deploy::{
    Deployment, DeploymentRequest, DeploymentStatus, DeploymentStore, DeploymentSummary, DeviceSelection, LicenseMode,
    TargetOs,
};
use haishin_domain::ids::{DeploymentId, GroupId};
use haishin_domain::jobs::*;
use haishin_domain::org::DeviceInput;
use haishin_domain::time_util::Timestamp;
use haishin_domain::vpp::LicenseTarget;
use haishin_storage::on_both_backends;
use haishin_storage::testing::TestDb;

on_both_backends!(held_jobs_wait_without_blocking_the_queue);
on_both_backends!(a_job_delivered_unpushed_whose_answer_was_lost_is_pushed_again);

fn at(offset: i64) -> Timestamp {
    Timestamp(1_800_000_000_000 + offset)
}

fn install(device: haishin_domain::ids::DeviceId, uuid: &str, content: JobContent) -> NewJob {
    NewJob {
        device_id: device,
        command_uuid: uuid.into(),
        request_type: "InstallApplication".into(),
        command: "<plist/>".into(),
        run_at: None,
        content: Some(content),
    }
}

async fn held_jobs_wait_without_blocking_the_queue(backend: &str) {
    let db = TestDb::open(backend).await;
    let store = &db.store;
    let (account, root) = store.create_account("保留").await.unwrap();
    let actor = Actor::system(account.id);
    let input = DeviceInput {
        group_id: GroupId(root.id.0),
        display_name: "端末".into(),
        serial_number: Some("C02XK0AAAAAA".into()),
        ..Default::default()
    };
    let device = store.create_device(&actor, &input).await.unwrap().id;
    let now = at(0);
    let content = |held: bool, failed: bool| JobContent {
        deployment_id: None,
        content_id: "1000001".into(),
        held_for_license: held,
        verify_identifier: Some("com.example.app1000001".into()),
        license_target: Some(LicenseTarget::Serial("C02XK0AAAAAA".into())),
        license_failed: failed
            .then(|| serde_json::json!({ "reason": "license_shortage", "needed": 2, "available": 1 })),
    };
    let mut query_job = install(device, "LIST", content(false, false));
    query_job.request_type = "ManagedApplicationList".into();
    query_job.content = None;
    let jobs = [
        install(device, "HELD", content(true, false)),
        install(device, "SHORT", content(true, true)),
        query_job,
    ];
    let deployment = Deployment {
        id: DeploymentId(0),
        account_id: account.id,
        name: "試験".into(),
        status: DeploymentStatus::Scheduled,
        request: DeploymentRequest {
            name: None,
            items: Vec::new(),
            target_os: TargetOs::Ios,
            license_mode: LicenseMode::Auto,
            devices: DeviceSelection::default(),
            options: Default::default(),
            run_at: None,
        },
        summary: DeploymentSummary::default(),
        run_at: now,
        created_by: None,
        created_by_name: "SYSTEM".into(),
        created_at: now,
        updated_at: now,
        origin: None,
    };
    let id = store
        .insert_deployment(&actor, &deployment, &jobs, None, now)
        .await
        .unwrap();
    let listed = store
        .list_jobs(
            account.id,
            &JobQuery {
                deployment_id: Some(id),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(listed.len(), 3);
    let by_uuid = |uuid: &str| listed.iter().find(|j| j.command_uuid == uuid).unwrap().clone();
    assert_eq!(by_uuid("HELD").hold, Some(JobHold::License));
    assert_eq!(by_uuid("HELD").status, JobStatus::Waiting);
    assert_eq!(
        by_uuid("SHORT").status,
        JobStatus::LicenseFailed,
        "registered already failed"
    );
    assert_eq!(by_uuid("SHORT").detail.as_ref().unwrap()["needed"], 2);
    assert_eq!(by_uuid("LIST").deployment_id, Some(id));

    // The held install is not the head: the list behind it runs, and is the
    // only job pushed for.
    let pushed = store.claim_pushes(&PushPolicy::default(), now, 10).await.unwrap();
    assert_eq!(pushed.len(), 1);
    assert_eq!(pushed[0].job_id, by_uuid("LIST").id);
    let next = store.next_delivery(account.id, device, now).await.unwrap().unwrap();
    assert_eq!(next.command_uuid, "LIST");
    store
        .record_report(account.id, device, "LIST", &JobOutcome::Succeeded, at(1))
        .await
        .unwrap();
    assert_eq!(store.next_delivery(account.id, device, at(2)).await.unwrap(), None);

    // The worker leases the deployment once at a time.
    let held = store.held_jobs(id).await.unwrap();
    assert_eq!(held.len(), 1);
    assert_eq!(held[0].target, LicenseTarget::Serial("C02XK0AAAAAA".into()));
    let leased = store.lease_deployments(at(3), 3_000, 10).await.unwrap();
    assert_eq!(leased.len(), 1);
    assert!(
        store.lease_deployments(at(4), 3_000, 10).await.unwrap().is_empty(),
        "leased once"
    );

    // Released: it becomes the head, is delivered, and once acknowledged it
    // is held again while the managed list is awaited (J7).
    store.finish_licensing(id, &[held[0].job_id], &[], at(5)).await.unwrap();
    assert_eq!(
        store.get_deployment(account.id, id).await.unwrap().unwrap().status,
        DeploymentStatus::Released
    );
    let next = store.next_delivery(account.id, device, at(6)).await.unwrap().unwrap();
    assert_eq!(next.command_uuid, "HELD");
    let verifying = JobOutcome::Verifying {
        identifier: Some("com.example.app1000001".into()),
    };
    store
        .record_report(account.id, device, "HELD", &verifying, at(7))
        .await
        .unwrap();
    assert_eq!(store.next_delivery(account.id, device, at(8)).await.unwrap(), None);
    assert!(
        store
            .has_unfinished(account.id, device, "InstallApplication")
            .await
            .unwrap()
    );
    let waiting = store.verifying_jobs(account.id, device).await.unwrap();
    assert_eq!(waiting.len(), 1);
    assert_eq!(waiting[0].identifier.as_deref(), Some("com.example.app1000001"));
    let job = waiting[0].id;
    store
        .settle_verifications(
            account.id,
            device,
            &[(
                job,
                Verdict::Pending {
                    status: Some("Installing".into()),
                },
            )],
            at(9),
        )
        .await
        .unwrap();
    assert_eq!(store.verifying_jobs(account.id, device).await.unwrap()[0].checks, 1);
    store
        .settle_verifications(account.id, device, &[(job, Verdict::Installed)], at(10))
        .await
        .unwrap();
    assert!(store.verifying_jobs(account.id, device).await.unwrap().is_empty());
    let counts = store.deployment_job_counts(account.id, id).await.unwrap();
    let count = |status: JobStatus| counts.iter().filter(|c| c.0 == status).map(|c| c.2).sum::<i64>();
    assert_eq!(count(JobStatus::Success), 2);
    assert_eq!(count(JobStatus::LicenseFailed), 1);

    // Cancelling a deployment leaves finished jobs alone.
    let canceled = store
        .cancel_jobs(&actor, &JobSelection::Deployment(id), at(11))
        .await
        .unwrap();
    assert_eq!(canceled, 0);
    db.cleanup().await.ok();
}

/// A device asks for its next command within a session, so that job is
/// delivered without a push of its own; if the server dies before the
/// answer arrives, the job must still be pushed again later.
async fn a_job_delivered_unpushed_whose_answer_was_lost_is_pushed_again(backend: &str) {
    let db = TestDb::open(backend).await;
    let store = &db.store;
    let (account, root) = store.create_account("再送").await.unwrap();
    let actor = Actor::system(account.id);
    let input = DeviceInput {
        group_id: GroupId(root.id.0),
        display_name: "端末".into(),
        ..Default::default()
    };
    let device = store.create_device(&actor, &input).await.unwrap().id;
    let mut job = install(device, "LOST", JobContent::default());
    job.content = None;
    store.enqueue_jobs(&actor, &[job], at(0)).await.unwrap();
    let delivered = store.next_delivery(account.id, device, at(1)).await.unwrap().unwrap();
    assert_eq!(delivered.command_uuid, "LOST");
    let policy = PushPolicy {
        timeout_millis: 1_000,
        repush_after_millis: 10_000,
        max_pushes: 5,
        max_in_flight: 2000,
    };
    assert!(
        store.claim_pushes(&policy, at(5_000), 10).await.unwrap().is_empty(),
        "too soon"
    );
    let pushed = store.claim_pushes(&policy, at(20_000), 10).await.unwrap();
    assert_eq!(pushed.len(), 1, "the unanswered job is pushed again");
    db.cleanup().await.ok();
}
