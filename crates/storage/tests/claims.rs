//! Deployment claims (SPEC D5) on SQLite and PostgreSQL: the devices an
//! auto-install rule, a portal tap or an automatic update was applied to
//! are written with the deployment, so the same device is never claimed
//! twice and a refused claim leaves no deployment and no job behind.

use haishin_domain::Store;
use haishin_domain::auth::Actor;
use haishin_domain::deploy::{
    Deployment, DeploymentClaims, DeploymentOrigin, DeploymentRequest, DeploymentStatus, DeploymentStore,
    DeploymentSummary, DeviceSelection, LicenseMode, TargetOs,
};
use haishin_domain::ids::{AppRuleId, DeploymentId, DeviceId, GroupId};
use haishin_domain::jobs::*;
use haishin_domain::org::DeviceInput;
use haishin_domain::time_util::Timestamp;
use haishin_storage::on_both_backends;
use haishin_storage::testing::TestDb;

on_both_backends!(a_device_is_claimed_once_and_a_refused_claim_writes_nothing);

fn install(device: DeviceId, uuid: &str) -> NewJob {
    NewJob {
        device_id: device,
        command_uuid: uuid.into(),
        request_type: "InstallApplication".into(),
        command: "<plist/>".into(),
        run_at: None,
        content: Some(JobContent {
            deployment_id: None,
            content_id: "1000001".into(),
            held_for_license: false,
            verify_identifier: Some("com.example.app1000001".into()),
            license_target: None,
            license_failed: None,
        }),
    }
}

fn deployment(now: Timestamp, account: haishin_domain::ids::AccountId) -> Deployment {
    Deployment {
        id: DeploymentId(0),
        account_id: account,
        name: "自動".into(),
        status: DeploymentStatus::Released,
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
        origin: Some(DeploymentOrigin::AutoInstall { rule_id: AppRuleId(7) }),
    }
}

async fn a_device_is_claimed_once_and_a_refused_claim_writes_nothing(backend: &str) {
    let db = TestDb::open(backend).await;
    let store = &db.store;
    let (account, root) = store.create_account("請求").await.unwrap();
    let actor = Actor::system(account.id);
    let mut devices = Vec::new();
    for n in 0..3 {
        let input = DeviceInput {
            group_id: GroupId(root.id.0),
            display_name: format!("端末{n}"),
            serial_number: Some(format!("C02CLAIM000{n}")),
            ..Default::default()
        };
        devices.push(store.create_device(&actor, &input).await.unwrap().id);
    }
    let now = Timestamp(1_800_000_000_000);
    let key = "rule:7".to_owned();
    let claims = |devices: Vec<DeviceId>, renew_finished: bool| DeploymentClaims {
        key: key.clone(),
        devices,
        renew_finished,
    };

    let first = store
        .insert_deployment(
            &actor,
            &deployment(now, account.id),
            &[install(devices[0], "A0"), install(devices[1], "A1")],
            Some(&claims(vec![devices[0], devices[1]], false)),
            now,
        )
        .await
        .unwrap();
    let stored = store.get_deployment(account.id, first).await.unwrap().unwrap();
    assert_eq!(
        stored.origin,
        Some(DeploymentOrigin::AutoInstall { rule_id: AppRuleId(7) })
    );
    assert_eq!(store.claim_count(account.id, &key).await.unwrap(), 2);

    // A second pass (or server) that saw the same device: refused whole.
    let refused = store
        .insert_deployment(
            &actor,
            &deployment(now, account.id),
            &[install(devices[1], "B1"), install(devices[2], "B2")],
            Some(&claims(vec![devices[1], devices[2]], false)),
            now,
        )
        .await;
    assert!(refused.is_err());
    assert_eq!(store.list_deployments(account.id, 10).await.unwrap().len(), 1);
    let all_jobs = store.list_jobs(account.id, &JobQuery::default()).await.unwrap();
    assert_eq!(all_jobs.len(), 2, "the refused deployment left no job");
    assert!(
        !store
            .claimed_devices(account.id, &key)
            .await
            .unwrap()
            .contains(&devices[2])
    );

    // Renewing (a portal tap again) is refused while the job runs ...
    let again = deployment(now, account.id);
    let again_jobs = [install(devices[0], "C0")];
    let again_claims = claims(vec![devices[0]], true);
    let renew = || store.insert_deployment(&actor, &again, &again_jobs, Some(&again_claims), now);
    assert!(renew().await.is_err());
    assert_eq!(
        store
            .devices_with_unfinished(account.id, "1000001")
            .await
            .unwrap()
            .len(),
        2
    );
    // ... and allowed once it is finished.
    let job_of_device0 = all_jobs.iter().find(|j| j.device_id == devices[0]).unwrap().id;
    store
        .cancel_jobs(&actor, &JobSelection::Ids(vec![job_of_device0]), now)
        .await
        .unwrap();
    let renewed = renew().await.unwrap();
    assert_eq!(store.claim_count(account.id, &key).await.unwrap(), 2);

    // Claims without a deployment (every device skipped), then released.
    store
        .claim_devices(&actor, &claims(vec![devices[2]], false), None, now)
        .await
        .unwrap();
    assert_eq!(store.claim_count(account.id, &key).await.unwrap(), 3);
    assert_eq!(store.release_claims(&actor, &key).await.unwrap(), 3);
    assert!(store.claimed_devices(account.id, &key).await.unwrap().is_empty());

    // The list view's counts, for both deployments in one query.
    let counts = store
        .deployments_job_counts(account.id, &[first, renewed])
        .await
        .unwrap();
    let total = |id: DeploymentId| counts.iter().filter(|c| c.0 == id).map(|c| c.3).sum::<i64>();
    assert_eq!((total(first), total(renewed)), (2, 1));
    assert!(
        counts
            .iter()
            .any(|c| c.0 == first && c.1 == JobStatus::Canceled && c.3 == 1)
    );
    db.cleanup().await.unwrap();
}
