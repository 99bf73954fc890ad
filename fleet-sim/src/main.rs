//! `fleet-sim`: N virtual kiosks against a running `kiosk-central`, over loopback HTTP (issue 7,
//! Performance).
//!
//! Every virtual kiosk is enrolled with its own Ed25519 key (one-time code from the admin API,
//! then `POST /api/v1/enrol`) and signs each request as the real kiosk does, so requests go
//! through the centre's real signature middleware. Modes:
//!
//! * `enrol` — enrol the fleet (kiosks already enrolled with the same key are skipped), then
//!   prime it: one heartbeat from every kiosk, so later runs measure steady-state heartbeats.
//! * `load` — heartbeats every 30 s spread evenly over the fleet, plus 50 transactions per
//!   kiosk per day compressed in time (`--compression`), each uploaded like the kiosk does (the
//!   transaction batch, then the rating batch); per-request latency p50/p99/max, achieved rate,
//!   errors.
//! * `ramp` — heartbeat-only steps at rising rates (the fleet's heartbeat interval shortened to
//!   reach each rate), then a short bisection: the highest rate whose p99 stays under the limit
//!   with no errors and no backlog.
//! * `ingest` — kiosks uploading transactions back to back: transactions stored per second.
//!
//! Latency is measured from the moment a request was due in the schedule, so time spent waiting
//! for a free client thread (a saturated centre) counts.
//!
//! Results print as text; `--json FILE` writes them for the report script.

mod fleet;
mod run;
mod stats;

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};
use fleet::{Client, Fleet};
use run::{Plan, RunReport};
use serde::Serialize;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

#[derive(Parser)]
#[command(
    name = "fleet-sim",
    about = "Virtual kiosk fleet against a running kiosk-central"
)]
struct Cli {
    #[command(flatten)]
    common: Common,
    #[command(subcommand)]
    mode: Mode,
}

#[derive(Args, Clone)]
struct Common {
    /// The centre, e.g. http://127.0.0.1:8080.
    #[arg(long, global = true, default_value = "http://127.0.0.1:8080")]
    central: String,
    /// The centre's admin token (for enrolment codes).
    #[arg(
        long,
        global = true,
        env = "KIOSK_CENTRAL_ADMIN_TOKEN",
        hide_env_values = true,
        default_value = ""
    )]
    admin_token: String,
    /// Virtual kiosks in the fleet.
    #[arg(long, global = true, default_value_t = 1000)]
    kiosks: usize,
    /// Kiosk ids are `<prefix>-00001` ….
    #[arg(long, global = true, default_value = "sim")]
    prefix: String,
    /// Keys are derived from this seed and the kiosk id (same seed: same enrolled kiosks).
    #[arg(long, global = true, default_value = "fleet-sim")]
    seed: String,
    /// Client threads (each one connection to the centre).
    #[arg(long, global = true, default_value_t = 64)]
    workers: usize,
    /// Limit for one request.
    #[arg(long, global = true, default_value_t = 10)]
    timeout_s: u64,
    /// Write the results as JSON here.
    #[arg(long, global = true)]
    json: Option<PathBuf>,
    /// Free text stored with the results (e.g. the engine).
    #[arg(long, global = true, default_value = "")]
    label: String,
}

#[derive(Subcommand)]
enum Mode {
    /// Enrol the fleet, then send one heartbeat from every kiosk (unless --no-prime).
    Enrol {
        /// Skip the priming heartbeats.
        #[arg(long)]
        no_prime: bool,
    },
    /// Heartbeats every interval and transactions compressed in time.
    Load(LoadArgs),
    /// The highest sustained heartbeat rate with p99 under a limit.
    Ramp(RampArgs),
    /// Transaction ingest capacity (closed loop).
    Ingest(IngestArgs),
}

#[derive(Args)]
struct LoadArgs {
    #[arg(long, default_value_t = 30.0)]
    heartbeat_interval_s: f64,
    #[arg(long, default_value_t = 50.0)]
    transactions_per_kiosk_day: f64,
    /// The simulated day runs this many times faster than real time.
    #[arg(long, default_value_t = 1.0)]
    compression: f64,
    #[arg(long, default_value_t = 60.0)]
    duration_s: f64,
    #[arg(long, default_value_t = 5.0)]
    warmup_s: f64,
}

#[derive(Args)]
struct RampArgs {
    /// First step's heartbeat rate (per second).
    #[arg(long, default_value_t = 200.0)]
    start_rate: f64,
    /// Each step's rate is the previous one's times this, until a step fails.
    #[arg(long, default_value_t = 1.5)]
    factor: f64,
    #[arg(long, default_value_t = 20_000.0)]
    max_rate: f64,
    /// Bisection steps between the last passing and the first failing rate.
    #[arg(long, default_value_t = 2)]
    refine: u32,
    #[arg(long, default_value_t = 15.0)]
    step_s: f64,
    #[arg(long, default_value_t = 3.0)]
    warmup_s: f64,
    /// A step passes when its heartbeat p99 is below this.
    #[arg(long, default_value_t = 100.0)]
    p99_limit_ms: f64,
    /// A failed step is run again this many times before it counts as failed (a shared machine
    /// has stalls that are not the centre's limit).
    #[arg(long, default_value_t = 1)]
    retries: u32,
}

#[derive(Args)]
struct IngestArgs {
    /// Kiosks uploading at once.
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// Transactions per batch (1: transaction batch then rating batch, as normally; more: a
    /// kiosk catching up after an outage).
    #[arg(long, default_value_t = 1)]
    transactions_per_batch: usize,
    #[arg(long, default_value_t = 20.0)]
    duration_s: f64,
    #[arg(long, default_value_t = 3.0)]
    warmup_s: f64,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let common = cli.common;
    if common.kiosks == 0 {
        bail!("--kiosks must be at least 1");
    }
    let fleet = Arc::new(Fleet::new(&common.prefix, common.kiosks, &common.seed));
    let enrolled = enrol(&fleet, &common)?;
    let timeout = Duration::from_secs(common.timeout_s.max(1));
    let machine = machine();
    let result = match cli.mode {
        Mode::Enrol { no_prime } => {
            let primed = (!no_prime).then(|| {
                println!(
                    "priming: one heartbeat from each of {} kiosks…",
                    fleet.kiosks.len()
                );
                let report = run::prime(&fleet, &common.central, common.workers, timeout);
                println!(
                    "primed in {:.1} s ({:.0}/s), {} errors",
                    report.seconds,
                    report.kiosks as f64 / report.seconds,
                    report.errors
                );
                report
            });
            serde_json::json!({ "enrolment": enrolled, "prime": primed })
        }
        Mode::Load(args) => {
            let plan = Plan {
                kiosks: common.kiosks,
                heartbeat_interval_s: args.heartbeat_interval_s,
                transactions_per_kiosk_day: args.transactions_per_kiosk_day,
                compression: args.compression,
                duration_s: args.duration_s,
                warmup_s: args.warmup_s,
            };
            println!(
                "load: {} kiosks, heartbeat every {} s ({:.0}/s), {:.1} transactions/s \
                 (compression {}), {} s",
                plan.kiosks,
                plan.heartbeat_interval_s,
                plan.heartbeat_rate(),
                plan.transaction_rate(),
                plan.compression,
                plan.duration_s
            );
            let report = run::open_loop(&fleet, &common.central, common.workers, timeout, &plan);
            print_run(&report);
            serde_json::json!({ "load": report })
        }
        Mode::Ramp(args) => {
            let ramp = ramp(&fleet, &common, timeout, &args);
            serde_json::json!({ "ramp": ramp })
        }
        Mode::Ingest(args) => {
            println!(
                "ingest: {} kiosks uploading back to back, {} transaction(s) per batch, {} s",
                args.concurrency, args.transactions_per_batch, args.duration_s
            );
            let report = run::ingest(
                &fleet,
                &common.central,
                args.concurrency,
                args.transactions_per_batch.max(1),
                timeout,
                Duration::from_secs_f64(args.duration_s),
                Duration::from_secs_f64(args.warmup_s),
            );
            println!(
                "  {:.0} transactions/s, {:.0} events/s",
                report.transactions_per_s, report.events_per_s
            );
            for (kind, summary) in &report.by_kind {
                print_kind(kind, summary);
            }
            serde_json::json!({ "ingest": report })
        }
    };
    if let Some(path) = &common.json {
        let mut document = serde_json::json!({
            "label": common.label,
            "central": common.central,
            "kiosks": common.kiosks,
            "workers": common.workers,
            "machine": machine,
            "enrolment": enrolled,
        });
        if let (Some(doc), Some(extra)) = (document.as_object_mut(), result.as_object()) {
            for (k, v) in extra {
                doc.insert(k.clone(), v.clone());
            }
        }
        std::fs::write(path, serde_json::to_vec_pretty(&document)?)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

#[derive(Debug, Clone, Serialize)]
struct Enrolment {
    already: usize,
    enrolled: usize,
    seconds: f64,
}

/// Enrols every kiosk the centre does not know with this key.
fn enrol(fleet: &Arc<Fleet>, common: &Common) -> anyhow::Result<Enrolment> {
    let started = Instant::now();
    let client = Client::new(&common.central, Duration::from_secs(30));
    let known = client
        .enrolled_keys(&common.admin_token)
        .context("asking the centre which kiosks are enrolled (is --admin-token right?)")?;
    let missing: Vec<usize> = fleet
        .kiosks
        .iter()
        .enumerate()
        .filter(|(_, k)| known.get(&k.id) != Some(&k.public_key_hex()))
        .map(|(i, _)| i)
        .collect();
    let already = fleet.kiosks.len() - missing.len();
    if missing.is_empty() {
        return Ok(Enrolment {
            already,
            enrolled: 0,
            seconds: started.elapsed().as_secs_f64(),
        });
    }
    println!(
        "enrolling {} kiosks ({} already enrolled)…",
        missing.len(),
        already
    );
    let missing = Arc::new(missing);
    let next = Arc::new(AtomicUsize::new(0));
    let threads = common.workers.clamp(1, 32);
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let fleet = Arc::clone(fleet);
            let missing = Arc::clone(&missing);
            let next = Arc::clone(&next);
            let client = Client::new(&common.central, Duration::from_secs(30));
            let token = common.admin_token.clone();
            std::thread::spawn(move || -> anyhow::Result<()> {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(&index) = missing.get(i) else {
                        return Ok(());
                    };
                    client.enrol(&fleet.kiosks[index], &token)?;
                }
            })
        })
        .collect();
    for handle in handles {
        handle
            .join()
            .map_err(|_| anyhow::anyhow!("enrolment thread panicked"))??;
    }
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "enrolled {} kiosks in {seconds:.1} s ({:.0}/s)",
        missing.len(),
        missing.len() as f64 / seconds
    );
    Ok(Enrolment {
        already,
        enrolled: missing.len(),
        seconds,
    })
}

#[derive(Debug, Clone, Serialize)]
struct RampStep {
    target_per_s: f64,
    passed: bool,
    why_not: Option<String>,
    report: RunReport,
}

#[derive(Debug, Clone, Serialize)]
struct RampResult {
    p99_limit_ms: f64,
    /// The highest step rate that passed (`None`: not even the first).
    highest_sustained_per_s: Option<f64>,
    /// That step's heartbeat figures.
    at_highest: Option<stats::KindSummary>,
    /// Every step run, retries included, in order.
    steps: Vec<RampStep>,
}

fn ramp(fleet: &Arc<Fleet>, common: &Common, timeout: Duration, args: &RampArgs) -> RampResult {
    let mut steps = Vec::new();
    let mut run_step = |rate: f64| -> bool {
        let plan = Plan {
            kiosks: common.kiosks,
            heartbeat_interval_s: common.kiosks as f64 / rate,
            transactions_per_kiosk_day: 0.0,
            compression: 1.0,
            duration_s: args.step_s,
            warmup_s: args.warmup_s,
        };
        let report = run::open_loop(fleet, &common.central, common.workers, timeout, &plan);
        let why_not = judge(&report, args.p99_limit_ms);
        let passed = why_not.is_none();
        let hb = report.by_kind.get("heartbeat").cloned().unwrap_or_default();
        println!(
            "ramp {rate:>7.0}/s: achieved {:>7.1}/s  p50 {:>6.1} ms  p99 {:>7.1} ms  max {:>7.1} ms  \
             errors {}  backlog {}  {}",
            hb.achieved_per_s,
            hb.latency.p50_ms,
            hb.latency.p99_ms,
            hb.latency.max_ms,
            hb.error_count(),
            report.backlog_at_end,
            why_not.as_deref().unwrap_or("pass")
        );
        steps.push(RampStep {
            target_per_s: rate,
            passed,
            why_not,
            report,
        });
        // Let the centre drain before the next step.
        std::thread::sleep(Duration::from_secs(2));
        passed
    };
    let mut run_step = |rate: f64| -> bool {
        for attempt in 0..=args.retries {
            if attempt > 0 {
                println!(
                    "  … step failed; running it again ({attempt} of {})",
                    args.retries
                );
            }
            if run_step(rate) {
                return true;
            }
        }
        false
    };
    let mut best: Option<f64> = None;
    let mut failed: Option<f64> = None;
    let mut rate = args.start_rate;
    while rate <= args.max_rate {
        if run_step(rate) {
            best = Some(rate);
            rate *= args.factor;
        } else {
            failed = Some(rate);
            break;
        }
    }
    if let Some(mut high) = failed {
        let mut low = best.unwrap_or(0.0);
        for _ in 0..args.refine {
            let mid = ((low + high) / 2.0).round();
            if mid <= low + 1.0 || mid >= high - 1.0 {
                break;
            }
            if run_step(mid) {
                low = mid;
                best = Some(mid);
            } else {
                high = mid;
            }
        }
    }
    let at_highest = best.and_then(|b| {
        steps
            .iter()
            .find(|s| s.passed && s.target_per_s == b)
            .and_then(|s| s.report.by_kind.get("heartbeat").cloned())
    });
    match best {
        Some(b) => println!(
            "highest sustained heartbeat rate with p99 < {} ms: {b:.0}/s",
            args.p99_limit_ms
        ),
        None => println!("no step kept p99 < {} ms", args.p99_limit_ms),
    }
    RampResult {
        p99_limit_ms: args.p99_limit_ms,
        highest_sustained_per_s: best,
        at_highest,
        steps,
    }
}

/// Why a ramp step does not count as sustained (`None`: it does).
fn judge(report: &RunReport, p99_limit_ms: f64) -> Option<String> {
    let Some(hb) = report.by_kind.get("heartbeat") else {
        return Some("no heartbeat finished".into());
    };
    if hb.error_count() > 0 {
        return Some(format!("{} errors {:?}", hb.error_count(), hb.errors));
    }
    let target = report.target_heartbeats_per_s;
    if hb.achieved_per_s < 0.95 * target {
        return Some(format!(
            "achieved {:.0}/s of {target:.0}/s",
            hb.achieved_per_s
        ));
    }
    if report.backlog_at_end as f64 > (0.005 * target * report.plan.duration_s).max(5.0) {
        return Some(format!("{} requests still queued", report.backlog_at_end));
    }
    if hb.latency.p99_ms >= p99_limit_ms {
        return Some(format!("p99 {:.1} ms", hb.latency.p99_ms));
    }
    None
}

fn print_run(report: &RunReport) {
    if report.backlog_at_end > 0 {
        println!(
            "  {} requests were still queued at the end",
            report.backlog_at_end
        );
    }
    for (kind, summary) in &report.by_kind {
        print_kind(kind, summary);
    }
}

fn print_kind(kind: &str, s: &stats::KindSummary) {
    println!(
        "  {kind:<9} {:>7} requests  {:>7.1}/s  p50 {:>6.2} ms  p90 {:>6.2} ms  p99 {:>7.2} ms  \
         max {:>7.1} ms  errors {} {:?}",
        s.requests,
        s.achieved_per_s,
        s.latency.p50_ms,
        s.latency.p90_ms,
        s.latency.p99_ms,
        s.latency.max_ms,
        s.error_count(),
        s.errors
    );
}

/// CPU model, cores and memory, for the report.
fn machine() -> serde_json::Value {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, v)| v.trim().to_string())
        .unwrap_or_default();
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let mem_kb: u64 = std::fs::read_to_string("/proc/meminfo")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("MemTotal"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    serde_json::json!({ "cpu": model, "cores": cores, "memory_gib": mem_kb / 1024 / 1024 })
}
