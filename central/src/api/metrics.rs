//! `GET /metrics`: Prometheus text format (version 0.0.4). Counters live in this process (they
//! restart from zero with it, as Prometheus expects); fleet gauges are read from the store, so
//! every central instance reports the same fleet.
//!
//! No authentication: it holds only totals, no kiosk ids. Keep it on the internal network.

use super::{ApiError, AppState, with_store};
use crate::storage::Connectivity;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::collections::{BTreeMap, HashSet};
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// The service's own counters.
#[derive(Default)]
pub struct Metrics {
    /// Requests by (route template, status code).
    requests: Mutex<BTreeMap<(String, u16), u64>>,
    pub batches: AtomicU64,
    pub events_stored: AtomicU64,
    pub events_duplicate: AtomicU64,
    pub events_rejected: AtomicU64,
    pub heartbeats: AtomicU64,
}

impl Metrics {
    pub fn record_batch(&self, stored: u32, duplicates: u32, rejected: usize) {
        self.batches.fetch_add(1, Ordering::Relaxed);
        self.events_stored
            .fetch_add(u64::from(stored), Ordering::Relaxed);
        self.events_duplicate
            .fetch_add(u64::from(duplicates), Ordering::Relaxed);
        self.events_rejected
            .fetch_add(rejected as u64, Ordering::Relaxed);
    }

    fn record_request(&self, route: String, status: u16) {
        let mut requests = self
            .requests
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        *requests.entry((route, status)).or_default() += 1;
    }
}

/// Middleware: counts every request by its route template (never the raw path, which could
/// carry ids) and status.
pub async fn count_requests(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |p| p.as_str().to_string());
    let response = next.run(request).await;
    state
        .metrics
        .record_request(route, response.status().as_u16());
    response
}

pub async fn render(State(state): State<AppState>) -> Result<Response, ApiError> {
    let (kiosks, (alarms, open_tickets)) = with_store(&state, "metrics", |store| {
        Ok((store.kiosk_connectivity()?, store.alarm_counts()?))
    })
    .await?;
    let configured: Vec<&str> = state.credentials.kiosk_ids().collect();
    let seen: HashSet<&str> = kiosks.iter().map(|(id, _)| id.as_str()).collect();
    let online = kiosks
        .iter()
        .filter(|(_, c)| *c == Connectivity::Online)
        .count();
    let offline = kiosks.len() - online;
    let never_seen = configured.iter().filter(|id| !seen.contains(*id)).count();

    let m = &state.metrics;
    let mut out = String::new();
    let mut counter = |name: &str, help: &str, value: u64| {
        let _ = writeln!(
            out,
            "# HELP {name} {help}\n# TYPE {name} counter\n{name} {value}"
        );
    };
    counter(
        "kiosk_central_outbox_batches_total",
        "Outbox batches committed.",
        m.batches.load(Ordering::Relaxed),
    );
    counter(
        "kiosk_central_events_stored_total",
        "Outbox events stored.",
        m.events_stored.load(Ordering::Relaxed),
    );
    counter(
        "kiosk_central_events_duplicate_total",
        "Outbox events already stored (resends).",
        m.events_duplicate.load(Ordering::Relaxed),
    );
    counter(
        "kiosk_central_events_rejected_total",
        "Outbox events refused at validation.",
        m.events_rejected.load(Ordering::Relaxed),
    );
    counter(
        "kiosk_central_heartbeats_total",
        "Heartbeats received.",
        m.heartbeats.load(Ordering::Relaxed),
    );

    let _ = writeln!(
        out,
        "# HELP kiosk_central_http_requests_total HTTP requests by route and status.\n\
         # TYPE kiosk_central_http_requests_total counter"
    );
    {
        let requests = m
            .requests
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        for ((route, status), count) in requests.iter() {
            let _ = writeln!(
                out,
                "kiosk_central_http_requests_total{{route=\"{}\",status=\"{status}\"}} {count}",
                escape_label(route)
            );
        }
    }

    let _ = writeln!(
        out,
        "# HELP kiosk_central_kiosks Kiosks by status (never_seen: configured, no heartbeat yet).\n\
         # TYPE kiosk_central_kiosks gauge\n\
         kiosk_central_kiosks{{status=\"online\"}} {online}\n\
         kiosk_central_kiosks{{status=\"offline\"}} {offline}\n\
         kiosk_central_kiosks{{status=\"never_seen\"}} {never_seen}"
    );
    let _ = writeln!(
        out,
        "# HELP kiosk_central_open_alarms Active alarms by severity.\n\
         # TYPE kiosk_central_open_alarms gauge"
    );
    for severity in ["critical", "major", "minor", "warning"] {
        let count = alarms.get(severity).copied().unwrap_or(0);
        let _ = writeln!(
            out,
            "kiosk_central_open_alarms{{severity=\"{severity}\"}} {count}"
        );
    }
    let _ = writeln!(
        out,
        "# HELP kiosk_central_open_tickets Fault tickets not yet resolved.\n\
         # TYPE kiosk_central_open_tickets gauge\n\
         kiosk_central_open_tickets {open_tickets}"
    );
    let mut response = out.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    Ok(response)
}

fn escape_label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}
