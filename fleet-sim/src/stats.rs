//! Latency samples and their summary: every request's latency is kept (microseconds), sorted once
//! at the end. A run of a few minutes at a few thousand requests per second is a few hundred
//! thousand `u32`s — exact percentiles, no histogram buckets needed.

use serde::Serialize;
use std::collections::BTreeMap;
use std::time::Duration;

/// What one request was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RequestKind {
    Heartbeat,
    Outbox,
}

impl RequestKind {
    pub fn name(self) -> &'static str {
        match self {
            RequestKind::Heartbeat => "heartbeat",
            RequestKind::Outbox => "outbox",
        }
    }
}

/// How one request ended.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// 2xx; for an outbox batch, how many events the centre stored.
    Ok { stored: u32 },
    /// Another HTTP status.
    Status(u16),
    /// No HTTP answer (connection refused or reset, timeout).
    Transport,
}

/// One finished request.
#[derive(Debug, Clone)]
pub struct Sample {
    pub kind: RequestKind,
    /// From the moment the request was due (open loop: its place in the schedule) to the last
    /// byte of the answer. Includes any wait for a free client, so a saturated centre shows as
    /// growing latency instead of a silently lower send rate (no coordinated omission).
    pub latency: Duration,
    /// From sending to the last byte of the answer.
    pub service: Duration,
    pub outcome: Outcome,
}

/// Percentiles of one set of latencies, in milliseconds.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Percentiles {
    pub count: usize,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub p999_ms: f64,
    pub max_ms: f64,
    pub mean_ms: f64,
}

impl Percentiles {
    pub fn of(mut micros: Vec<u32>) -> Self {
        if micros.is_empty() {
            return Self::default();
        }
        micros.sort_unstable();
        let at = |q: f64| -> f64 {
            // Nearest-rank percentile.
            let rank = ((q * micros.len() as f64).ceil() as usize).clamp(1, micros.len());
            f64::from(micros[rank - 1]) / 1000.0
        };
        let sum: u64 = micros.iter().map(|&m| u64::from(m)).sum();
        Self {
            count: micros.len(),
            p50_ms: at(0.50),
            p90_ms: at(0.90),
            p99_ms: at(0.99),
            p999_ms: at(0.999),
            max_ms: f64::from(*micros.last().unwrap_or(&0)) / 1000.0,
            mean_ms: sum as f64 / micros.len() as f64 / 1000.0,
        }
    }
}

/// The summary of one kind of request over one measured window.
#[derive(Debug, Clone, Default, Serialize)]
pub struct KindSummary {
    /// Requests that finished inside the window.
    pub requests: usize,
    /// Finished requests per second over the window.
    pub achieved_per_s: f64,
    pub ok: usize,
    /// Non-2xx answers by status, and `transport` for requests without an answer.
    pub errors: BTreeMap<String, usize>,
    /// Latency from the scheduled time (see [`Sample::latency`]).
    pub latency: Percentiles,
    /// Latency from the moment the request was sent.
    pub service: Percentiles,
    /// Events the centre stored (outbox only).
    pub events_stored: u64,
}

impl KindSummary {
    pub fn error_count(&self) -> usize {
        self.errors.values().sum()
    }
}

/// Summarises samples per kind over a window of `window` length.
pub fn summarise(samples: &[Sample], window: Duration) -> BTreeMap<&'static str, KindSummary> {
    let mut by_kind: BTreeMap<RequestKind, Vec<&Sample>> = BTreeMap::new();
    for sample in samples {
        by_kind.entry(sample.kind).or_default().push(sample);
    }
    let seconds = window.as_secs_f64().max(1e-9);
    by_kind
        .into_iter()
        .map(|(kind, samples)| {
            let mut summary = KindSummary {
                requests: samples.len(),
                achieved_per_s: samples.len() as f64 / seconds,
                ..KindSummary::default()
            };
            for sample in &samples {
                match &sample.outcome {
                    Outcome::Ok { stored } => {
                        summary.ok += 1;
                        summary.events_stored += u64::from(*stored);
                    }
                    Outcome::Status(status) => {
                        *summary.errors.entry(status.to_string()).or_default() += 1
                    }
                    Outcome::Transport => {
                        *summary.errors.entry("transport".into()).or_default() += 1
                    }
                }
            }
            summary.latency = Percentiles::of(samples.iter().map(|s| micros(s.latency)).collect());
            summary.service = Percentiles::of(samples.iter().map(|s| micros(s.service)).collect());
            (kind.name(), summary)
        })
        .collect()
}

fn micros(d: Duration) -> u32 {
    u32::try_from(d.as_micros()).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let p = Percentiles::of((1..=1000).map(|ms| ms * 1000).collect());
        assert_eq!(p.count, 1000);
        assert_eq!(p.p50_ms, 500.0);
        assert_eq!(p.p99_ms, 990.0);
        assert_eq!(p.p999_ms, 999.0);
        assert_eq!(p.max_ms, 1000.0);
        assert!((p.mean_ms - 500.5).abs() < 1e-9);
        assert_eq!(Percentiles::of(Vec::new()).count, 0);
    }

    #[test]
    fn summary_counts_errors_by_status() {
        let sample = |outcome| Sample {
            kind: RequestKind::Outbox,
            latency: Duration::from_millis(2),
            service: Duration::from_millis(1),
            outcome,
        };
        let samples = vec![
            sample(Outcome::Ok { stored: 2 }),
            sample(Outcome::Status(503)),
            sample(Outcome::Transport),
        ];
        let summary = &summarise(&samples, Duration::from_secs(1))["outbox"];
        assert_eq!(summary.requests, 3);
        assert_eq!(summary.ok, 1);
        assert_eq!(summary.events_stored, 2);
        assert_eq!(summary.errors["503"], 1);
        assert_eq!(summary.errors["transport"], 1);
        assert_eq!(summary.error_count(), 2);
    }
}
