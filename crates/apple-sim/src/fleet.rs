//! Many devices at once: concurrent enrollment with a bounded number in flight, and
//! helpers to drive and observe them together.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::device::SimDevice;
use crate::device::behaviour::Behaviour;
use crate::device::session::SessionSummary;
use crate::device::state::DeviceSnapshot;
use crate::env::SimEnv;
use crate::error::SimError;
use crate::stats::LatencyRecorder;

/// Chooses each device's behaviour from its index.
pub type BehaviourFn = Arc<dyn Fn(usize) -> Behaviour + Send + Sync>;

/// Builds and enrolls a [`Fleet`].
pub struct FleetBuilder {
    env: SimEnv,
    count: usize,
    concurrency: usize,
    seed: u64,
    behaviour: BehaviourFn,
}

/// A set of enrolled (or failed) simulated devices sharing one [`SimEnv`].
pub struct Fleet {
    env: SimEnv,
    devices: Vec<SimDevice>,
    failures: Vec<(usize, SimError)>,
    enroll_time: Duration,
}

impl std::fmt::Debug for Fleet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fleet")
            .field("devices", &self.devices.len())
            .field("failures", &self.failures.len())
            .field("enroll_time", &self.enroll_time)
            .finish()
    }
}

impl FleetBuilder {
    /// How many devices (default 1).
    #[must_use]
    pub fn devices(mut self, count: usize) -> Self {
        self.count = count;
        self
    }

    /// How many enrollments run at once (default 32).
    #[must_use]
    pub fn concurrency(mut self, concurrency: usize) -> Self {
        self.concurrency = concurrency.max(1);
        self
    }

    /// The seed hardware identifiers derive from (default 0).
    #[must_use]
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Every device gets `behaviour(index)` (default: [`Behaviour::ipad`]).
    #[must_use]
    pub fn behaviour(mut self, behaviour: impl Fn(usize) -> Behaviour + Send + Sync + 'static) -> Self {
        self.behaviour = Arc::new(behaviour);
        self
    }

    /// Every device gets [`Behaviour::realistic`].
    #[must_use]
    pub fn realistic_mix(self) -> Self {
        self.behaviour(Behaviour::realistic)
    }

    /// Creates the devices and enrolls them all, at most `concurrency` at a time. Devices
    /// that fail to enroll stay in the fleet (their snapshot says why) and are listed in
    /// [`Fleet::failures`].
    pub async fn enroll(self) -> Fleet {
        let started = Instant::now();
        let devices: Vec<SimDevice> = (0..self.count)
            .map(|index| SimDevice::new(&self.env, index, self.seed, (self.behaviour)(index)))
            .collect();
        let limit = Arc::new(Semaphore::new(self.concurrency));
        let mut tasks = JoinSet::new();
        for device in &devices {
            let (device, limit) = (device.clone(), Arc::clone(&limit));
            tasks.spawn(async move {
                let _permit = limit.acquire_owned().await;
                (device.index(), device.enroll().await)
            });
        }
        let mut failures = Vec::new();
        while let Some(joined) = tasks.join_next().await {
            match joined {
                Ok((_, Ok(()))) => {}
                Ok((index, Err(e))) => failures.push((index, e)),
                Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
                Err(e) => failures.push((usize::MAX, SimError::Setup(format!("enrollment task: {e}")))),
            }
        }
        failures.sort_by_key(|(index, _)| *index);
        Fleet {
            env: self.env,
            devices,
            failures,
            enroll_time: started.elapsed(),
        }
    }
}

impl Fleet {
    /// Starts building a fleet in `env`.
    pub fn builder(env: SimEnv) -> FleetBuilder {
        FleetBuilder {
            env,
            count: 1,
            concurrency: 32,
            seed: 0,
            behaviour: Arc::new(|_| Behaviour::ipad()),
        }
    }

    /// Every device, by index.
    pub fn devices(&self) -> &[SimDevice] {
        &self.devices
    }

    /// Device `index`.
    pub fn device(&self, index: usize) -> Option<&SimDevice> {
        self.devices.get(index)
    }

    /// The device with this UDID.
    pub fn by_udid(&self, udid: &str) -> Option<&SimDevice> {
        self.devices.iter().find(|d| d.udid() == udid)
    }

    /// How many devices.
    pub fn len(&self) -> usize {
        self.devices.len()
    }

    /// Whether the fleet has no devices.
    pub fn is_empty(&self) -> bool {
        self.devices.is_empty()
    }

    /// Devices whose enrollment failed, with the error.
    pub fn failures(&self) -> &[(usize, SimError)] {
        &self.failures
    }

    /// Devices currently enrolled.
    pub fn enrolled(&self) -> Vec<&SimDevice> {
        self.devices.iter().filter(|d| d.snapshot().is_enrolled()).collect()
    }

    /// Wall-clock time the enrollment of the whole fleet took.
    pub fn enroll_time(&self) -> Duration {
        self.enroll_time
    }

    /// Request timings of every device.
    pub fn stats(&self) -> &LatencyRecorder {
        self.env.stats()
    }

    /// The environment the fleet lives in.
    pub fn env(&self) -> &SimEnv {
        &self.env
    }

    /// Runs [`SimDevice::poll_now`] on every enrolled, online device, `concurrency` at a
    /// time; results are in device order (skipped devices are absent).
    pub async fn poll_all(&self, concurrency: usize) -> Vec<(usize, Result<SessionSummary, SimError>)> {
        let limit = Arc::new(Semaphore::new(concurrency.max(1)));
        let mut tasks = JoinSet::new();
        for device in self
            .devices
            .iter()
            .filter(|d| d.snapshot().is_enrolled() && !d.behaviour().offline)
        {
            let (device, limit) = (device.clone(), Arc::clone(&limit));
            tasks.spawn(async move {
                let _permit = limit.acquire_owned().await;
                (device.index(), device.poll_now().await)
            });
        }
        let mut results = Vec::new();
        while let Some(joined) = tasks.join_next().await {
            match joined {
                Ok(result) => results.push(result),
                Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
                Err(_) => {}
            }
        }
        results.sort_by_key(|(index, _)| *index);
        results
    }

    /// Waits until `condition` holds for every device selected by `which`.
    pub async fn wait_all(
        &self,
        what: &str,
        timeout: Duration,
        which: impl Fn(&SimDevice) -> bool,
        condition: impl Fn(&DeviceSnapshot) -> bool,
    ) -> Result<(), SimError> {
        let deadline = Instant::now() + timeout;
        for device in self.devices.iter().filter(|d| which(d)) {
            let left = deadline.saturating_duration_since(Instant::now());
            device.wait_for(what, left, &condition).await?;
        }
        Ok(())
    }
}
