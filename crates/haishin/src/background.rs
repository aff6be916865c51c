//! The server's periodic work besides pushing: Apps and Books operations,
//! syncs and expiry notices, job retention, and the database's planner
//! statistics.

use std::future::Future;
use std::time::Duration;

use haishin_domain::service::Services;
use haishin_domain::time_util::Timestamp;
use haishin_domain::vpp::TokenStatus;
use haishin_storage::SqlStore;
use tokio::sync::watch;

/// Resolves when the server starts stopping.
async fn stopped(mut stop: watch::Receiver<bool>) {
    while !*stop.borrow() {
        if stop.changed().await.is_err() {
            return;
        }
    }
}

/// Runs `task` every `period` until the server stops; the first run is at
/// once unless `skip_first`.
async fn every<F, Fut>(period: Duration, skip_first: bool, stop: watch::Receiver<bool>, mut task: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = ()>,
{
    let mut ticks = tokio::time::interval(period);
    if skip_first {
        ticks.tick().await;
    }
    let mut stop = std::pin::pin!(stopped(stop));
    loop {
        tokio::select! {
            _ = ticks.tick() => task().await,
            _ = &mut stop => return,
        }
    }
}

/// License operations as they are queued (and retried), deployments as
/// their time comes and their licenses are settled, a sync of every
/// usable token every `sync_every` (T5's schedule), and the expiry notices
/// that are due (T4), looked for every `notice_every`.
pub async fn run_vpp(services: Services, sync_every: Duration, notice_every: Duration, stop: watch::Receiver<bool>) {
    let worker = services.run_vpp_operations(Duration::from_secs(1), stopped(stop.clone()));
    let deployments = services.run_deployments(Duration::from_secs(1), stopped(stop.clone()));
    let scheduler = every(sync_every, true, stop.clone(), || sync_all(&services));
    let notices = every(notice_every, false, stop, || async {
        if let Err(e) = services.send_due_expiry_notices(Timestamp::now()).await {
            tracing::warn!("expiry notices: {e}");
        }
    });
    tokio::join!(worker, deployments, scheduler, notices);
}

async fn sync_all(services: &Services) {
    let tokens = match services.store.all_vpp_tokens().await {
        Ok(tokens) => tokens,
        Err(e) => {
            tracing::warn!("listing VPP tokens to sync: {e}");
            return;
        }
    };
    for token in tokens {
        if matches!(
            token.token.status,
            TokenStatus::Active | TokenStatus::OtherMdm | TokenStatus::OtherAccount
        ) {
            services.sync_vpp_token_in_background(token.clone()).await;
            if token.token.status == TokenStatus::Active {
                services.refresh_vpp_users_in_background(token).await;
            }
        }
    }
}

/// Job history retention (SPEC J6), hourly: finished jobs older than the
/// current month and the two before are deleted.
pub async fn purge_jobs_periodically(services: Services, stop: watch::Receiver<bool>) {
    every(Duration::from_secs(3600), false, stop, || async {
        match services.purge_expired_jobs(Timestamp::now()).await {
            Ok(0) => {}
            Ok(purged) => tracing::info!(purged, "old jobs deleted (retention)"),
            Err(e) => tracing::warn!("job retention: {e}"),
        }
    })
    .await
}

/// Keeps SQLite's planner statistics current as tables grow (see
/// `SqlStore::refresh_statistics`); the first pass runs at start-up.
pub async fn refresh_statistics_periodically(store: SqlStore, stop: watch::Receiver<bool>) {
    every(Duration::from_secs(30), false, stop, || async {
        if let Err(error) = store.refresh_statistics().await {
            tracing::warn!(%error, "refreshing planner statistics");
        }
    })
    .await
}
