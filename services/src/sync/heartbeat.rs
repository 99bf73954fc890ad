//! The heartbeat: every `interval` (30 s by default, or what the centre's last reply asked for)
//! the kiosk reports its versions, devices, item availability and outbox state, and keeps the
//! centre's last reply (which carries the desired catalogue version).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use kiosk_protocol::wire::{DeviceReport, Heartbeat, HeartbeatReply};
use time::OffsetDateTime;

use super::client::{CentralClient, PostError};
use super::signal::{WaitEnd, WorkerSignal, WorkerThread, lock};
use crate::store::{KioskStore, StoreError, format_rfc3339};

/// Shortest and longest interval accepted from the centre's `next_heartbeat_s`.
const INTERVAL_BOUNDS: (Duration, Duration) = (Duration::from_secs(5), Duration::from_secs(600));

/// What the application reports about itself in each heartbeat; the outbox figures come from
/// the store.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct KioskSnapshot {
    pub catalogue_version: u32,
    pub devices: Vec<DeviceReport>,
    pub items_offered: u32,
    pub items_available: u32,
    pub unavailable_items: Vec<String>,
}

/// Supplies a [`KioskSnapshot`] for each heartbeat. Closures returning one implement it.
pub trait HeartbeatSource: Send + Sync + 'static {
    fn snapshot(&self) -> KioskSnapshot;
}

impl<F> HeartbeatSource for F
where
    F: Fn() -> KioskSnapshot + Send + Sync + 'static,
{
    fn snapshot(&self) -> KioskSnapshot {
        self()
    }
}

#[derive(Debug, Clone)]
pub struct HeartbeatConfig {
    /// Interval until the centre says otherwise.
    pub interval: Duration,
    pub software_version: String,
}

impl Default for HeartbeatConfig {
    fn default() -> Self {
        Self {
            interval: Duration::from_secs(30),
            software_version: env!("CARGO_PKG_VERSION").to_string(),
        }
    }
}

/// What the heartbeat thread has seen.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct HeartbeatStatus {
    /// Sequence number of the last heartbeat sent (0: none yet).
    pub last_seq: u64,
    pub last_success_at: Option<OffsetDateTime>,
    pub last_error: Option<String>,
    pub consecutive_failures: u32,
    pub last_reply: Option<HeartbeatReply>,
}

/// Builds heartbeat number `seq` from the application's snapshot and the store's outbox figures.
pub fn compose_heartbeat(
    kiosk_id: &str,
    seq: u64,
    software_version: &str,
    snapshot: KioskSnapshot,
    store: &KioskStore,
    now: OffsetDateTime,
) -> Result<Heartbeat, StoreError> {
    Ok(Heartbeat {
        kiosk_id: kiosk_id.to_string(),
        seq,
        sent_at: format_rfc3339(now),
        software_version: software_version.to_string(),
        catalogue_version: snapshot.catalogue_version,
        devices: snapshot.devices,
        items_offered: snapshot.items_offered,
        items_available: snapshot.items_available,
        unavailable_items: snapshot.unavailable_items,
        outbox_depth: store.outbox_depth()?,
        oldest_unsent_age_s: store.oldest_unsent_age(now)?.map(|age| age.as_secs()),
        dead_letter_count: store.dead_letter_count()?,
    })
}

/// The heartbeat thread.
pub struct HeartbeatSender {
    worker: WorkerThread,
    status: Arc<Mutex<HeartbeatStatus>>,
}

impl HeartbeatSender {
    /// Starts the thread; the first heartbeat goes out at once.
    pub fn spawn(
        store: Arc<KioskStore>,
        client: CentralClient,
        source: impl HeartbeatSource,
        config: HeartbeatConfig,
    ) -> std::io::Result<Self> {
        let status = Arc::new(Mutex::new(HeartbeatStatus::default()));
        let worker = {
            let status = Arc::clone(&status);
            WorkerThread::spawn("heartbeat", move |signal| {
                run(&store, &client, &source, &config, signal, &status)
            })?
        };
        Ok(Self { worker, status })
    }

    /// The centre's last reply.
    pub fn last_reply(&self) -> Option<HeartbeatReply> {
        lock(&self.status).last_reply.clone()
    }

    /// A function that reads the centre's last reply, for another thread.
    pub fn reply_watch(&self) -> impl Fn() -> Option<HeartbeatReply> + Send + 'static {
        let status = Arc::clone(&self.status);
        move || lock(&status).last_reply.clone()
    }

    pub fn status(&self) -> HeartbeatStatus {
        lock(&self.status).clone()
    }

    /// Sends a heartbeat now (e.g. after a device changed state).
    pub fn send_now(&self) {
        self.worker.wake();
    }

    pub fn stop(mut self) {
        self.worker.stop();
    }
}

fn run(
    store: &KioskStore,
    client: &CentralClient,
    source: &dyn HeartbeatSource,
    config: &HeartbeatConfig,
    signal: &WorkerSignal,
    status: &Mutex<HeartbeatStatus>,
) {
    let mut seq = 0u64;
    let mut interval = config.interval;
    loop {
        if signal.stopping() {
            return;
        }
        signal.take_wake();
        seq += 1;
        let now = OffsetDateTime::now_utc();
        let result = compose_heartbeat(
            client.kiosk_id(),
            seq,
            &config.software_version,
            source.snapshot(),
            store,
            now,
        )
        .map_err(|e| (e.to_string(), None))
        .and_then(|heartbeat| client.post_heartbeat(&heartbeat).map_err(|e| describe(&e)));
        let retry_after = {
            let mut status = lock(status);
            status.last_seq = seq;
            match result {
                Ok(reply) => {
                    interval = reply_interval(&reply).unwrap_or(config.interval);
                    status.last_success_at = Some(now);
                    status.last_error = None;
                    status.consecutive_failures = 0;
                    status.last_reply = Some(reply);
                    None
                }
                Err((message, retry_after)) => {
                    tracing::warn!(seq, error = %message, "heartbeat failed");
                    status.last_error = Some(message);
                    status.consecutive_failures = status.consecutive_failures.saturating_add(1);
                    retry_after
                }
            }
        };
        let wait = retry_after.map_or(interval, |floor| floor.max(interval));
        if signal.wait(wait, true) == WaitEnd::Stop {
            return;
        }
    }
}

fn describe(error: &PostError) -> (String, Option<Duration>) {
    let retry_after = match error {
        PostError::Status { retry_after, .. } => *retry_after,
        _ => None,
    };
    (error.to_string(), retry_after)
}

/// The interval the centre asked for, within bounds; `None` when it expressed none.
fn reply_interval(reply: &HeartbeatReply) -> Option<Duration> {
    if reply.next_heartbeat_s == 0 {
        return None;
    }
    let asked = Duration::from_secs(u64::from(reply.next_heartbeat_s));
    Some(asked.clamp(INTERVAL_BOUNDS.0, INTERVAL_BOUNDS.1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(next_heartbeat_s: u32) -> HeartbeatReply {
        HeartbeatReply {
            server_time: "2026-11-21T10:00:00Z".into(),
            desired_catalogue_version: None,
            next_heartbeat_s,
        }
    }

    #[test]
    fn the_centres_interval_is_honoured_within_bounds() {
        assert_eq!(reply_interval(&reply(0)), None);
        assert_eq!(reply_interval(&reply(60)), Some(Duration::from_secs(60)));
        assert_eq!(reply_interval(&reply(1)), Some(Duration::from_secs(5)));
        assert_eq!(
            reply_interval(&reply(86_400)),
            Some(Duration::from_secs(600))
        );
    }
}
