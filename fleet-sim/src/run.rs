//! Running load: an open-loop schedule (heartbeats spread evenly over the interval, transactions
//! as a Poisson process) served by a pool of client threads, and a closed-loop ingest run.

use crate::fleet::{Client, Fleet};
use crate::stats::{KindSummary, Sample, summarise};
use rand::Rng;
use serde::Serialize;
use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// Seconds in a day: the 50 transactions per kiosk are spread over this, divided by the
/// compression factor.
const DAY_S: f64 = 86_400.0;

/// What an open-loop run sends.
#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    /// Kiosks taking part (the first `kiosks` of the fleet).
    pub kiosks: usize,
    /// Each kiosk's heartbeat interval; the fleet's heartbeats are spread evenly over it.
    pub heartbeat_interval_s: f64,
    /// Transactions per kiosk per day (0: heartbeats only).
    pub transactions_per_kiosk_day: f64,
    /// How much faster than real time the day runs (1: real time).
    pub compression: f64,
    pub duration_s: f64,
    /// Samples finishing in the first seconds are not counted (connections, caches).
    pub warmup_s: f64,
}

impl Plan {
    pub fn heartbeat_rate(&self) -> f64 {
        self.kiosks as f64 / self.heartbeat_interval_s
    }

    pub fn transaction_rate(&self) -> f64 {
        self.kiosks as f64 * self.transactions_per_kiosk_day * self.compression / DAY_S
    }
}

/// What an open-loop run measured.
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    pub plan: Plan,
    pub target_heartbeats_per_s: f64,
    pub target_transactions_per_s: f64,
    /// Jobs still waiting for a client when the schedule ended (a saturated centre).
    pub backlog_at_end: usize,
    pub by_kind: BTreeMap<&'static str, KindSummary>,
    /// Worst latency (ms) of the requests finishing in each second of the run, warm-up
    /// included: periodic stalls show here (a p99 hides when they happen).
    pub worst_ms_by_second: Vec<f64>,
}

#[derive(Clone, Copy)]
enum JobKind {
    Heartbeat,
    Transaction,
}

struct Job {
    due: Instant,
    kind: JobKind,
    kiosk: usize,
}

#[derive(Default)]
struct Queue {
    jobs: Mutex<QueueState>,
    ready: Condvar,
}

#[derive(Default)]
struct QueueState {
    jobs: VecDeque<Job>,
    closed: bool,
}

impl Queue {
    fn push(&self, batch: impl IntoIterator<Item = Job>) {
        let mut state = self.jobs.lock().unwrap_or_else(|p| p.into_inner());
        state.jobs.extend(batch);
        drop(state);
        self.ready.notify_all();
    }

    /// Ends the run: jobs not yet taken by a client are dropped; how many.
    fn close(&self) -> usize {
        let mut state = self.jobs.lock().unwrap_or_else(|p| p.into_inner());
        state.closed = true;
        let left = state.jobs.len();
        state.jobs.clear();
        drop(state);
        self.ready.notify_all();
        left
    }

    fn pop(&self) -> Option<Job> {
        let mut state = self.jobs.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            if let Some(job) = state.jobs.pop_front() {
                return Some(job);
            }
            if state.closed {
                return None;
            }
            state = self.ready.wait(state).unwrap_or_else(|p| p.into_inner());
        }
    }
}

/// Runs `plan` against the centre at `base` with `workers` client threads.
pub fn open_loop(
    fleet: &Arc<Fleet>,
    base: &str,
    workers: usize,
    timeout: Duration,
    plan: &Plan,
) -> RunReport {
    let queue = Arc::new(Queue::default());
    let samples = Arc::new(Mutex::new(Vec::<(Instant, Sample)>::new()));
    let handles: Vec<_> = (0..workers.max(1))
        .map(|_| {
            let queue = Arc::clone(&queue);
            let samples = Arc::clone(&samples);
            let fleet = Arc::clone(fleet);
            let client = Client::new(base, timeout);
            std::thread::spawn(move || {
                let mut mine = Vec::new();
                while let Some(job) = queue.pop() {
                    let kiosk = &fleet.kiosks[job.kiosk];
                    match job.kind {
                        JobKind::Heartbeat => {
                            mine.push((Instant::now(), client.heartbeat(kiosk, job.due)))
                        }
                        JobKind::Transaction => {
                            for batch in kiosk.transaction_batches(1) {
                                let sample = client.outbox(kiosk, &batch, job.due);
                                mine.push((Instant::now(), sample));
                            }
                        }
                    }
                }
                samples
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .extend(mine);
            })
        })
        .collect();

    let start = Instant::now() + Duration::from_millis(50);
    let end = start + Duration::from_secs_f64(plan.duration_s);
    let kiosks = plan.kiosks.min(fleet.kiosks.len()).max(1);
    let hb_gap = Duration::from_secs_f64(plan.heartbeat_interval_s / kiosks as f64);
    let tx_rate = plan.transaction_rate();
    let mut rng = rand::thread_rng();
    let next_tx_gap = |rng: &mut rand::rngs::ThreadRng| {
        // Exponential gaps: a Poisson process of citizens finishing transactions.
        let u: f64 = rng.r#gen::<f64>().max(f64::MIN_POSITIVE);
        Duration::from_secs_f64(-u.ln() / tx_rate)
    };
    let mut next_hb = start;
    let mut hb_index = 0usize;
    let first_kiosk = fleet.next_heartbeat.load(Ordering::Relaxed);
    let mut next_tx = if tx_rate > 0.0 {
        Some(start + next_tx_gap(&mut rng))
    } else {
        None
    };
    // Hand out every job that is due, then sleep until the next one (at most 2 ms late).
    loop {
        let now = Instant::now();
        if now >= end {
            break;
        }
        let mut due = Vec::new();
        while next_hb <= now && next_hb < end {
            due.push(Job {
                due: next_hb,
                kind: JobKind::Heartbeat,
                kiosk: (first_kiosk + hb_index) % kiosks,
            });
            hb_index += 1;
            next_hb = start + hb_gap.mul_f64(hb_index as f64);
        }
        while let Some(at) = next_tx.filter(|at| *at <= now && *at < end) {
            due.push(Job {
                due: at,
                kind: JobKind::Transaction,
                kiosk: rng.gen_range(0..kiosks),
            });
            next_tx = Some(at + next_tx_gap(&mut rng));
        }
        if !due.is_empty() {
            queue.push(due);
        }
        let next = next_tx.map_or(next_hb, |tx| tx.min(next_hb)).min(end);
        let wait = next.saturating_duration_since(Instant::now());
        if !wait.is_zero() {
            std::thread::sleep(wait.min(Duration::from_millis(2)));
        }
    }
    fleet
        .next_heartbeat
        .store((first_kiosk + hb_index) % kiosks, Ordering::Relaxed);
    let backlog_at_end = queue.close();
    for handle in handles {
        let _ = handle.join();
    }
    let finished_by = Instant::now();
    let warm = start + Duration::from_secs_f64(plan.warmup_s);
    let all = std::mem::take(&mut *samples.lock().unwrap_or_else(|p| p.into_inner()));
    let mut worst_ms_by_second = Vec::new();
    for (at, sample) in &all {
        let second = at.saturating_duration_since(start).as_secs() as usize;
        if worst_ms_by_second.len() <= second {
            worst_ms_by_second.resize(second + 1, 0.0);
        }
        let ms = (sample.latency.as_secs_f64() * 10_000.0).round() / 10.0;
        if ms > worst_ms_by_second[second] {
            worst_ms_by_second[second] = ms;
        }
    }
    let samples: Vec<Sample> = all
        .into_iter()
        .filter(|(at, _)| *at >= warm)
        .map(|(_, s)| s)
        .collect();
    let window = finished_by.max(end).saturating_duration_since(warm);
    RunReport {
        plan: plan.clone(),
        target_heartbeats_per_s: plan.heartbeat_rate(),
        target_transactions_per_s: tx_rate,
        backlog_at_end,
        by_kind: summarise(&samples, window.max(Duration::from_millis(1))),
        worst_ms_by_second,
    }
}

/// What a closed-loop ingest run measured.
#[derive(Debug, Clone, Serialize)]
pub struct IngestReport {
    pub concurrency: usize,
    /// Transactions per kiosk batch (1: the normal case, transaction batch then rating batch).
    pub transactions_per_batch: usize,
    pub duration_s: f64,
    /// Transactions whose every batch the centre acknowledged, per second.
    pub transactions_per_s: f64,
    /// Events stored by the centre per second (a transaction and its rating are two events).
    pub events_per_s: f64,
    pub by_kind: BTreeMap<&'static str, KindSummary>,
}

/// `concurrency` kiosks upload transactions back to back for `duration`: the centre's ingest
/// capacity.
pub fn ingest(
    fleet: &Arc<Fleet>,
    base: &str,
    concurrency: usize,
    transactions_per_batch: usize,
    timeout: Duration,
    duration: Duration,
    warmup: Duration,
) -> IngestReport {
    let stop = Arc::new(AtomicBool::new(false));
    let completed = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let warm = start + warmup;
    let handles: Vec<_> = (0..concurrency.max(1))
        .map(|worker| {
            let fleet = Arc::clone(fleet);
            let stop = Arc::clone(&stop);
            let completed = Arc::clone(&completed);
            let client = Client::new(base, timeout);
            std::thread::spawn(move || {
                let mut mine = Vec::new();
                let mut index = worker;
                while !stop.load(Ordering::Relaxed) {
                    let kiosk = &fleet.kiosks[index % fleet.kiosks.len()];
                    index += concurrency.max(1);
                    let mut all_ok = true;
                    for batch in kiosk.transaction_batches(transactions_per_batch) {
                        let sample = client.outbox(kiosk, &batch, Instant::now());
                        all_ok &= matches!(sample.outcome, crate::stats::Outcome::Ok { .. });
                        if Instant::now() >= warm {
                            mine.push(sample);
                        }
                    }
                    if all_ok && Instant::now() >= warm {
                        completed.fetch_add(transactions_per_batch, Ordering::Relaxed);
                    }
                }
                mine
            })
        })
        .collect();
    std::thread::sleep(warmup + duration);
    stop.store(true, Ordering::Relaxed);
    let window = warm.elapsed();
    let samples: Vec<Sample> = handles
        .into_iter()
        .flat_map(|h| h.join().unwrap_or_default())
        .collect();
    let by_kind = summarise(&samples, window);
    let events = by_kind.get("outbox").map_or(0, |k| k.events_stored);
    IngestReport {
        concurrency,
        transactions_per_batch,
        duration_s: window.as_secs_f64(),
        transactions_per_s: completed.load(Ordering::Relaxed) as f64 / window.as_secs_f64(),
        events_per_s: events as f64 / window.as_secs_f64(),
        by_kind,
    }
}

/// What priming the fleet took.
#[derive(Debug, Clone, Serialize)]
pub struct PrimeReport {
    pub kiosks: usize,
    pub seconds: f64,
    pub errors: usize,
}

/// One heartbeat from every kiosk, as fast as the centre takes them (closed loop, not measured):
/// afterwards every kiosk is known and online, so measured heartbeats are steady-state ones, not
/// a kiosk's first (which also writes its state row, its transitions and its first bucket).
pub fn prime(fleet: &Arc<Fleet>, base: &str, workers: usize, timeout: Duration) -> PrimeReport {
    let started = Instant::now();
    let next = Arc::new(AtomicUsize::new(0));
    let errors = Arc::new(AtomicUsize::new(0));
    let handles: Vec<_> = (0..workers.max(1))
        .map(|_| {
            let fleet = Arc::clone(fleet);
            let next = Arc::clone(&next);
            let errors = Arc::clone(&errors);
            let client = Client::new(base, timeout);
            std::thread::spawn(move || {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(kiosk) = fleet.kiosks.get(i) else {
                        return;
                    };
                    let sample = client.heartbeat(kiosk, Instant::now());
                    if !matches!(sample.outcome, crate::stats::Outcome::Ok { .. }) {
                        errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();
    for handle in handles {
        let _ = handle.join();
    }
    PrimeReport {
        kiosks: fleet.kiosks.len(),
        seconds: started.elapsed().as_secs_f64(),
        errors: errors.load(Ordering::Relaxed),
    }
}
