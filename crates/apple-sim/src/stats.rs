//! Timing of the devices' HTTP requests, for benchmarks that report round trips per second
//! and latency percentiles per endpoint.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::error::Endpoint;

/// Collects one duration per request; cheap to clone and share across a fleet.
#[derive(Debug, Clone, Default)]
pub struct LatencyRecorder {
    inner: Arc<Mutex<BTreeMap<Endpoint, Samples>>>,
}

#[derive(Debug, Default)]
struct Samples {
    durations: Vec<Duration>,
    failures: u64,
    first_start: Option<Instant>,
    last_end: Option<Instant>,
}

/// Percentiles and throughput of one endpoint.
#[derive(Debug, Clone, PartialEq)]
pub struct LatencySummary {
    /// Which requests.
    pub endpoint: Endpoint,
    /// Requests that got an HTTP answer.
    pub count: usize,
    /// Requests that got none (transport errors); not in the percentiles.
    pub failures: u64,
    /// Median.
    pub p50: Duration,
    /// 90th percentile.
    pub p90: Duration,
    /// 99th percentile.
    pub p99: Duration,
    /// Slowest.
    pub max: Duration,
    /// Average.
    pub mean: Duration,
    /// Answered requests per second between the first start and the last answer.
    pub per_second: f64,
}

impl LatencyRecorder {
    /// An empty recorder.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<Endpoint, Samples>> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Records a request that started at `started` and got an answer now.
    pub fn record(&self, endpoint: Endpoint, started: Instant) {
        let now = Instant::now();
        let mut all = self.lock();
        let samples = all.entry(endpoint).or_default();
        samples.durations.push(now.saturating_duration_since(started));
        samples.first_start = Some(samples.first_start.map_or(started, |first| first.min(started)));
        samples.last_end = Some(samples.last_end.map_or(now, |last| last.max(now)));
    }

    /// Records a request that got no HTTP answer.
    pub fn record_failure(&self, endpoint: Endpoint) {
        self.lock().entry(endpoint).or_default().failures += 1;
    }

    /// Every recorded duration of an endpoint, in arrival order.
    pub fn samples(&self, endpoint: Endpoint) -> Vec<Duration> {
        self.lock()
            .get(&endpoint)
            .map(|s| s.durations.clone())
            .unwrap_or_default()
    }

    /// Answered requests over all endpoints.
    pub fn total(&self) -> usize {
        self.lock().values().map(|s| s.durations.len()).sum()
    }

    /// The summary of one endpoint, if it saw any answered request.
    pub fn summary(&self, endpoint: Endpoint) -> Option<LatencySummary> {
        let all = self.lock();
        let samples = all.get(&endpoint)?;
        summarise(endpoint, samples)
    }

    /// Summaries of every endpoint that saw requests, in [`Endpoint::ALL`] order.
    pub fn summaries(&self) -> Vec<LatencySummary> {
        let all = self.lock();
        all.iter()
            .filter_map(|(endpoint, samples)| summarise(*endpoint, samples))
            .collect()
    }

    /// Forgets everything (e.g. after the enrollment phase of a benchmark).
    pub fn reset(&self) {
        self.lock().clear();
    }
}

fn summarise(endpoint: Endpoint, samples: &Samples) -> Option<LatencySummary> {
    if samples.durations.is_empty() {
        return None;
    }
    let mut sorted = samples.durations.clone();
    sorted.sort_unstable();
    let at = |q: f64| sorted[((sorted.len() - 1) as f64 * q).round() as usize];
    let total: Duration = sorted.iter().sum();
    let window = match (samples.first_start, samples.last_end) {
        (Some(start), Some(end)) => end.saturating_duration_since(start),
        _ => Duration::ZERO,
    };
    let per_second = if window.is_zero() {
        0.0
    } else {
        sorted.len() as f64 / window.as_secs_f64()
    };
    Some(LatencySummary {
        endpoint,
        count: sorted.len(),
        failures: samples.failures,
        p50: at(0.50),
        p90: at(0.90),
        p99: at(0.99),
        max: sorted[sorted.len() - 1],
        mean: total / u32::try_from(sorted.len()).unwrap_or(u32::MAX),
        per_second,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_come_from_the_samples() {
        let recorder = LatencyRecorder::new();
        assert!(recorder.summary(Endpoint::Connect).is_none());
        let base = Instant::now();
        {
            let mut all = recorder.lock();
            let samples = all.entry(Endpoint::Connect).or_default();
            samples.durations = (1..=100).map(Duration::from_millis).collect();
            samples.first_start = Some(base);
            samples.last_end = Some(base + Duration::from_secs(2));
        }
        recorder.record_failure(Endpoint::Connect);
        let s = recorder.summary(Endpoint::Connect).unwrap();
        assert_eq!(s.count, 100);
        assert_eq!(s.failures, 1);
        assert_eq!(s.p50, Duration::from_millis(51));
        assert_eq!(s.p99, Duration::from_millis(99));
        assert_eq!(s.max, Duration::from_millis(100));
        assert!((s.per_second - 50.0).abs() < 0.01, "{}", s.per_second);
        recorder.record(Endpoint::Profile, Instant::now());
        assert_eq!(recorder.total(), 101);
        assert_eq!(recorder.summaries().len(), 2);
        recorder.reset();
        assert_eq!(recorder.total(), 0);
    }
}
