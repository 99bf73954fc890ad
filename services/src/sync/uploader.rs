//! The outbox uploader: takes the oldest unsynced events from the store, sends them to the centre
//! and marks them synced only after a valid acknowledgement.
//!
//! Rules (see also the crate README):
//!
//! * **Ack** — an acknowledgement is used only if it answers the batch sent: `acked_seq` is not
//!   beyond the last event sent, every rejection names an event of the batch with its key, and it
//!   acknowledges or rejects at least one event. Anything else counts as a failed attempt.
//! * **Retry** — no answer (connection refused or dropped, timeout), 5xx, 408, 429, 401/403
//!   (auth), 404 (wrong address) and unusable acknowledgements are retried with exponential
//!   back-off and full jitter; a `Retry-After` is a floor under the delay. Nothing is
//!   dead-lettered for these: they say nothing about the events.
//! * **Refused request** — any other 4xx refuses the request as a whole, so it is not known which
//!   event is at fault. A batch of several events is then resent one event per request up to its
//!   last event. When a single-event request is refused, an empty batch is sent as a probe: if the
//!   centre accepts it, the event is what the centre refuses and it moves to the dead-letter table
//!   (the queue moves on); if the probe is refused too, the fault is not the event's (protocol or
//!   configuration mismatch), nothing is dead-lettered and the uploader backs off, reporting
//!   [`SyncProblem::CentreRefusesRequests`].
//! * Per-event rejections inside a valid acknowledgement go to the dead-letter table
//!   ([`KioskStore::mark_acked`]).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use kiosk_protocol::wire::{BatchAck, OutboxBatch};
use time::OffsetDateTime;

use super::backoff::BackoffPolicy;
use super::client::{CentralClient, PostError};
use super::signal::{WaitEnd, WorkerSignal, WorkerThread, lock};
use crate::store::{KioskStore, StoreError};

#[derive(Debug, Clone)]
pub struct UploaderConfig {
    /// Most events per request.
    pub batch_size: usize,
    pub backoff: BackoffPolicy,
    /// How often the queue is looked at when nobody calls [`OutboxUploader::wake`].
    pub idle_poll: Duration,
}

impl Default for UploaderConfig {
    fn default() -> Self {
        Self {
            batch_size: 100,
            backoff: BackoffPolicy::default(),
            idle_poll: Duration::from_secs(30),
        }
    }
}

/// Why the outbox is not draining.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncProblem {
    /// No answer: network down, centre down, timeout, connection dropped.
    CentreUnreachable,
    /// 5xx or 408.
    CentreError,
    /// 429: the centre asked to slow down.
    Throttled,
    /// 401/403: this kiosk's credentials are refused.
    AuthRejected,
    /// 404: the configured address is not the centre's kiosk API.
    EndpointNotFound,
    /// A 2xx answer that is not a valid acknowledgement of the batch.
    InvalidAcknowledgement,
    /// The centre refuses even an empty batch: protocol or configuration mismatch.
    CentreRefusesRequests,
    /// The local store failed.
    StoreFailure,
}

/// What one drain achieved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DrainReport {
    /// Requests sent (including probes).
    pub requests: u32,
    /// Events the centre acknowledged as stored (or as already stored).
    pub synced: u64,
    /// Events moved to the dead-letter table.
    pub dead_lettered: u64,
}

/// A drain that stopped before the queue was empty.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct UploadFailure {
    pub problem: SyncProblem,
    /// What went wrong (no personal data).
    pub message: String,
    /// How long the centre asked the kiosk to wait.
    pub retry_after: Option<Duration>,
    /// Progress made before the failure.
    pub report: DrainReport,
}

/// Sends the outbox to the centre until it is empty or an attempt fails. Keeps, between drains,
/// which events are being resent one by one.
#[derive(Debug)]
pub struct OutboxDrainer {
    client: CentralClient,
    batch_size: usize,
    /// Events up to this seq are sent one per request (a batch holding them was refused).
    one_by_one_through: Option<i64>,
}

impl OutboxDrainer {
    pub fn new(client: CentralClient, batch_size: usize) -> Self {
        Self {
            client,
            batch_size: batch_size.max(1),
            one_by_one_through: None,
        }
    }

    /// Uploads until the outbox is empty (`Ok`) or an attempt fails (`Err`, to be retried later).
    pub fn drain(&mut self, store: &KioskStore) -> Result<DrainReport, UploadFailure> {
        let mut report = DrainReport::default();
        loop {
            let mut events = store
                .pending_batch(self.batch_size)
                .map_err(|e| store_failure(e, report))?;
            let Some(first_seq) = events.first().map(|e| e.seq) else {
                self.one_by_one_through = None;
                return Ok(report);
            };
            match self.one_by_one_through {
                Some(through) if first_seq <= through => events.truncate(1),
                Some(_) => self.one_by_one_through = None,
                None => {}
            }
            let last_seq = events.last().map_or(first_seq, |e| e.seq);
            let batch = OutboxBatch {
                kiosk_id: self.client.kiosk_id().to_string(),
                events,
            };
            report.requests += 1;
            let failure = match self.client.post_outbox(&batch) {
                Ok(ack) => match check_ack(&batch, &ack) {
                    Ok(()) => {
                        let outcome = store
                            .mark_acked(&ack)
                            .map_err(|e| store_failure(e, report))?;
                        report.synced += outcome.synced;
                        report.dead_lettered += outcome.dead_lettered;
                        tracing::info!(
                            acked_seq = ack.acked_seq,
                            stored = ack.stored,
                            duplicates = ack.duplicates,
                            rejected = ack.rejected.len(),
                            "outbox batch acknowledged"
                        );
                        continue;
                    }
                    Err(reason) => UploadFailure {
                        problem: SyncProblem::InvalidAcknowledgement,
                        message: format!("centre's acknowledgement is unusable: {reason}"),
                        retry_after: None,
                        report,
                    },
                },
                Err(PostError::Status {
                    status, message, ..
                }) if refuses_the_request(status) => {
                    if batch.events.len() > 1 {
                        tracing::warn!(
                            status,
                            through_seq = last_seq,
                            "centre refused a batch; resending its events one by one"
                        );
                        self.one_by_one_through = Some(last_seq);
                        continue;
                    }
                    match self.probe() {
                        Ok(()) => {
                            report.requests += 1;
                            let reason = format!("refused by the centre: HTTP {status}: {message}");
                            if store
                                .move_to_dead_letter(first_seq, &reason)
                                .map_err(|e| store_failure(e, report))?
                            {
                                report.dead_lettered += 1;
                            }
                            continue;
                        }
                        Err(probe_error) => {
                            report.requests += 1;
                            UploadFailure {
                                problem: SyncProblem::CentreRefusesRequests,
                                message: format!(
                                    "centre refused an event with HTTP {status} ({message}) and an empty batch too: {probe_error}"
                                ),
                                retry_after: None,
                                report,
                            }
                        }
                    }
                }
                Err(error) => classify(error, report),
            };
            if let Err(e) = store.record_attempt_failure(last_seq, &failure.message) {
                tracing::error!(error = %e, "cannot record a failed upload attempt");
            }
            return Err(failure);
        }
    }

    /// Sends an empty batch: accepted means the centre takes requests from this kiosk.
    fn probe(&self) -> Result<(), PostError> {
        let empty = OutboxBatch {
            kiosk_id: self.client.kiosk_id().to_string(),
            events: Vec::new(),
        };
        self.client.post_outbox(&empty).map(|_| ())
    }
}

/// A 4xx that refuses the request itself, as opposed to auth, address, timeout and throttling.
fn refuses_the_request(status: u16) -> bool {
    (400..500).contains(&status) && !matches!(status, 401 | 403 | 404 | 408 | 429)
}

fn classify(error: PostError, report: DrainReport) -> UploadFailure {
    let message = error.to_string();
    let (problem, retry_after) = match error {
        PostError::Unreachable(_) => (SyncProblem::CentreUnreachable, None),
        PostError::InvalidReply(_) => (SyncProblem::InvalidAcknowledgement, None),
        PostError::Status {
            status,
            retry_after,
            ..
        } => {
            let problem = match status {
                401 | 403 => SyncProblem::AuthRejected,
                404 => SyncProblem::EndpointNotFound,
                429 => SyncProblem::Throttled,
                _ => SyncProblem::CentreError,
            };
            (problem, retry_after)
        }
    };
    UploadFailure {
        problem,
        message,
        retry_after,
        report,
    }
}

fn store_failure(error: StoreError, report: DrainReport) -> UploadFailure {
    UploadFailure {
        problem: SyncProblem::StoreFailure,
        message: error.to_string(),
        retry_after: None,
        report,
    }
}

/// Checks that `ack` answers `batch`; the reason when it does not.
fn check_ack(batch: &OutboxBatch, ack: &BatchAck) -> Result<(), String> {
    let (Some(first), Some(last)) = (batch.events.first(), batch.events.last()) else {
        return Ok(());
    };
    if ack.acked_seq > last.seq {
        return Err(format!(
            "acked_seq {} is beyond the last event sent ({})",
            ack.acked_seq, last.seq
        ));
    }
    for rejected in &ack.rejected {
        let sent = batch
            .events
            .iter()
            .any(|e| e.seq == rejected.seq && e.idempotency_key == rejected.idempotency_key);
        if !sent {
            return Err(format!(
                "rejection of seq {} names no event sent",
                rejected.seq
            ));
        }
    }
    if ack.acked_seq < first.seq && ack.rejected.is_empty() {
        return Err(format!(
            "acked_seq {} acknowledges none of the events sent (from {})",
            ack.acked_seq, first.seq
        ));
    }
    Ok(())
}

/// What the uploader thread has seen, for the heartbeat and diagnostics.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct UploaderStatus {
    /// When the outbox was last seen empty after talking to the centre, or an acknowledgement
    /// last arrived.
    pub last_success_at: Option<OffsetDateTime>,
    pub last_attempt_at: Option<OffsetDateTime>,
    /// The last failure's message and kind; cleared by a success.
    pub last_error: Option<String>,
    pub problem: Option<SyncProblem>,
    pub consecutive_failures: u32,
    /// The back-off in force after the last failure.
    pub retry_in: Option<Duration>,
    /// Totals since the uploader started.
    pub events_synced: u64,
    pub events_dead_lettered: u64,
}

/// The outbox uploader thread.
pub struct OutboxUploader {
    worker: WorkerThread,
    status: Arc<Mutex<UploaderStatus>>,
}

impl OutboxUploader {
    /// Starts the thread; it drains the outbox at once, then whenever woken or every
    /// `idle_poll`, backing off after failures.
    pub fn spawn(
        store: Arc<KioskStore>,
        client: CentralClient,
        config: UploaderConfig,
    ) -> std::io::Result<Self> {
        let status = Arc::new(Mutex::new(UploaderStatus::default()));
        let worker = {
            let status = Arc::clone(&status);
            WorkerThread::spawn("outbox-uploader", move |signal| {
                run(&store, client, &config, signal, &status)
            })?
        };
        Ok(Self { worker, status })
    }

    /// Asks for an upload now (after a commit). During a back-off the upload waits for the
    /// back-off to end, so that a busy kiosk does not hammer a centre that is down.
    pub fn wake(&self) {
        self.worker.wake();
    }

    pub fn status(&self) -> UploaderStatus {
        lock(&self.status).clone()
    }

    /// Stops the thread (an upload in flight finishes or times out first) and waits for it.
    pub fn stop(mut self) {
        self.worker.stop();
    }
}

fn run(
    store: &KioskStore,
    client: CentralClient,
    config: &UploaderConfig,
    signal: &WorkerSignal,
    status: &Mutex<UploaderStatus>,
) {
    let mut drainer = OutboxDrainer::new(client, config.batch_size);
    loop {
        if signal.stopping() {
            return;
        }
        signal.take_wake();
        let result = drainer.drain(store);
        let now = OffsetDateTime::now_utc();
        let (wait, wakeable) = {
            let mut status = lock(status);
            status.last_attempt_at = Some(now);
            match result {
                Ok(report) => {
                    status.events_synced += report.synced;
                    status.events_dead_lettered += report.dead_lettered;
                    status.last_success_at = Some(now);
                    status.last_error = None;
                    status.problem = None;
                    status.consecutive_failures = 0;
                    status.retry_in = None;
                    (config.idle_poll, true)
                }
                Err(failure) => {
                    status.events_synced += failure.report.synced;
                    status.events_dead_lettered += failure.report.dead_lettered;
                    if failure.report.synced > 0 {
                        status.last_success_at = Some(now);
                    }
                    status.consecutive_failures = status.consecutive_failures.saturating_add(1);
                    let delay = config
                        .backoff
                        .delay(status.consecutive_failures, failure.retry_after);
                    tracing::warn!(
                        problem = ?failure.problem,
                        error = %failure.message,
                        consecutive_failures = status.consecutive_failures,
                        retry_in_ms = delay.as_millis() as u64,
                        "outbox upload failed"
                    );
                    status.last_error = Some(failure.message);
                    status.problem = Some(failure.problem);
                    status.retry_in = Some(delay);
                    (delay, false)
                }
            }
        };
        if signal.wait(wait, wakeable) == WaitEnd::Stop {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kiosk_protocol::wire::{EventKind, OutboxEvent, RejectedEvent};
    use uuid::Uuid;

    fn batch(seqs: &[i64]) -> OutboxBatch {
        OutboxBatch {
            kiosk_id: "K".into(),
            events: seqs
                .iter()
                .map(|&seq| OutboxEvent {
                    seq,
                    idempotency_key: Uuid::now_v7(),
                    kind: EventKind::Audit,
                    created_at: "2026-11-21T10:00:00Z".into(),
                    payload: serde_json::json!({}),
                    personal: None,
                })
                .collect(),
        }
    }

    fn ack(acked_seq: i64, rejected: Vec<RejectedEvent>) -> BatchAck {
        BatchAck {
            acked_seq,
            stored: 0,
            duplicates: 0,
            rejected,
        }
    }

    #[test]
    fn an_ack_must_answer_the_batch_sent() {
        let sent = batch(&[5, 6, 7]);
        assert!(check_ack(&sent, &ack(7, vec![])).is_ok());
        assert!(check_ack(&sent, &ack(6, vec![])).is_ok(), "partial ack");
        assert!(
            check_ack(&sent, &ack(8, vec![])).is_err(),
            "beyond the batch"
        );
        assert!(check_ack(&sent, &ack(4, vec![])).is_err(), "no progress");
        let rejected_ours = RejectedEvent {
            seq: 6,
            idempotency_key: sent.events[1].idempotency_key,
            reason: "bad".into(),
        };
        assert!(check_ack(&sent, &ack(7, vec![rejected_ours.clone()])).is_ok());
        let rejected_other = RejectedEvent {
            idempotency_key: Uuid::now_v7(),
            ..rejected_ours
        };
        assert!(check_ack(&sent, &ack(7, vec![rejected_other])).is_err());
    }

    #[test]
    fn only_request_level_4xx_refusals_lead_to_dead_letters() {
        for status in [400, 409, 413, 422] {
            assert!(refuses_the_request(status), "{status}");
        }
        for status in [401, 403, 404, 408, 429, 500, 503, 200] {
            assert!(!refuses_the_request(status), "{status}");
        }
    }

    #[test]
    fn failures_are_classified_for_back_off_and_diagnostics() {
        let status = |status| PostError::Status {
            status,
            retry_after: Some(Duration::from_secs(3)),
            message: String::new(),
        };
        let r = DrainReport::default();
        assert_eq!(classify(status(401), r).problem, SyncProblem::AuthRejected);
        assert_eq!(classify(status(403), r).problem, SyncProblem::AuthRejected);
        assert_eq!(
            classify(status(404), r).problem,
            SyncProblem::EndpointNotFound
        );
        assert_eq!(classify(status(503), r).problem, SyncProblem::CentreError);
        let throttled = classify(status(429), r);
        assert_eq!(throttled.problem, SyncProblem::Throttled);
        assert_eq!(throttled.retry_after, Some(Duration::from_secs(3)));
        assert_eq!(
            classify(PostError::Unreachable("refused".into()), r).problem,
            SyncProblem::CentreUnreachable
        );
    }
}
