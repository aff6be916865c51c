//! The pusher: wakes devices whose head job is due (SPEC M3), marks jobs the
//! device did not fetch in time as push timeout, and stops pushing to tokens
//! APNs no longer accepts. Safe with several servers on one database: the
//! store hands each job to one claimer.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use apple_apns::{ApnsClient, ApnsConfig, CertificateAuth, DeviceToken, MdmPush, PushOutcome};
use tokio::sync::Mutex;

use super::store::PushChannel;
use crate::DomainError;
use crate::ids::AccountId;
use crate::jobs::PushPolicy;
use crate::service::Services;
use crate::time_util::Timestamp;

/// Where APNs is and how to trust it.
#[derive(Debug, Clone)]
pub struct ApnsSettings {
    /// `https://api.push.apple.com` in production; the simulator's URL in tests.
    pub base_url: String,
    /// Extra roots to trust (the simulator's CA); Apple's are in the system roots.
    pub root_ca_pem: Option<String>,
}

/// What one round did, for logs and metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PushRound {
    pub timed_out: u64,
    pub claimed: usize,
    pub delivered: usize,
    pub token_invalid: usize,
    pub failed: usize,
    /// Claimed jobs of devices with no usable token (never enrolled, or
    /// unregistered): they stay pushed-for and time out.
    pub unreachable: usize,
}

pub struct Pusher {
    services: Services,
    settings: ApnsSettings,
    policy: PushPolicy,
    /// One client (one HTTP/2 connection) per account, rebuilt when the
    /// account's certificate changes.
    clients: Mutex<HashMap<AccountId, (String, ApnsClient)>>,
}

/// How many jobs one round claims at most.
const CLAIM_BATCH: i64 = 2000;

impl Pusher {
    pub fn new(services: Services, settings: ApnsSettings, policy: PushPolicy) -> Self {
        Self {
            services,
            settings,
            policy,
            clients: Mutex::new(HashMap::new()),
        }
    }

    async fn client(&self, account: AccountId) -> Result<Option<ApnsClient>, DomainError> {
        let Some(stored) = self.services.store.get_push_certificate(account).await? else {
            return Ok(None);
        };
        let mut clients = self.clients.lock().await;
        if let Some((pem, client)) = clients.get(&account)
            && *pem == stored.certificate_pem
        {
            return Ok(Some(client.clone()));
        }
        let (certificate_pem, key) = self.services.push_credentials(account).await?;
        let mut config = ApnsConfig::new(
            self.settings.base_url.clone(),
            CertificateAuth::new(certificate_pem.clone(), key.expose().to_owned()),
        )
        .with_topic(stored.certificate.topic.clone());
        if let Some(root) = &self.settings.root_ca_pem {
            config = config.with_root_certificate_pem(root.clone());
        }
        let client = ApnsClient::new(config).map_err(|e| DomainError::internal(format!("APNs client: {e}")))?;
        clients.insert(account, (certificate_pem, client.clone()));
        Ok(Some(client))
    }

    /// One pass: time out, claim, push, record refusals.
    pub async fn run_once(&self, now: Timestamp) -> Result<PushRound, DomainError> {
        let store = &self.services.store;
        let mut round = PushRound {
            timed_out: store.mark_push_timeouts(&self.policy, now).await?,
            ..PushRound::default()
        };
        let in_flight = store.count_pushes_in_flight(self.policy.in_flight_since(now)).await?;
        let room = (self.policy.max_in_flight - in_flight).min(CLAIM_BATCH);
        if room <= 0 {
            return Ok(round);
        }
        let targets = store.claim_pushes(&self.policy, now, room).await?;
        round.claimed = targets.len();
        if targets.is_empty() {
            return Ok(round);
        }
        let mut devices: Vec<_> = targets.iter().map(|t| t.device_id).collect();
        devices.sort();
        devices.dedup();
        let channels = store.push_channels(&devices).await?;
        round.unreachable = devices.len() - channels.len();
        let mut by_account: HashMap<AccountId, Vec<PushChannel>> = HashMap::new();
        for channel in channels {
            by_account.entry(channel.account_id).or_default().push(channel);
        }
        for (account, channels) in by_account {
            let Some(client) = self.client(account).await? else {
                tracing::warn!(%account, devices = channels.len(), "jobs wait for a push certificate");
                round.unreachable += channels.len();
                continue;
            };
            let pushes: Vec<MdmPush> = channels
                .iter()
                .map(|c| {
                    MdmPush::new(
                        DeviceToken::from_hex(&c.push_token_hex).unwrap_or_else(|| DeviceToken::new(Vec::new())),
                        c.push_magic.clone(),
                    )
                })
                .collect();
            let outcomes = client.push_many(pushes).await;
            for (channel, outcome) in channels.iter().zip(outcomes) {
                match &outcome {
                    PushOutcome::Delivered { .. } => round.delivered += 1,
                    _ if outcome.token_is_invalid() => {
                        round.token_invalid += 1;
                        let reason = outcome.reason().map(|r| r.as_str().to_owned()).unwrap_or_default();
                        store.mark_push_failed(channel.device_id, &reason, now).await?;
                    }
                    other => {
                        round.failed += 1;
                        tracing::warn!(%account, device = %channel.device_id, "push failed: {other:?}");
                    }
                }
            }
        }
        metrics::counter!("haishin_pushes_delivered_total").increment(round.delivered as u64);
        metrics::counter!("haishin_pushes_failed_total").increment((round.failed + round.token_invalid) as u64);
        Ok(round)
    }

    /// Runs until `stop` resolves: a pass every `interval`, or at once when
    /// jobs are queued.
    pub async fn run(self: Arc<Self>, interval: Duration, stop: impl std::future::Future<Output = ()>) {
        tokio::pin!(stop);
        loop {
            match self.run_once(Timestamp::now()).await {
                Ok(round) if round.claimed > 0 || round.timed_out > 0 => {
                    tracing::debug!(?round, "push round");
                }
                Ok(_) => {}
                Err(e) => tracing::error!("push round failed: {e}"),
            }
            tokio::select! {
                _ = &mut stop => return,
                _ = self.services.mdm.push_wake.notified() => {}
                _ = tokio::time::sleep(interval) => {}
            }
        }
    }
}
