//! The uploader's rules against a scripted centre: answers the real centre gives only under
//! faults (5xx, 429, 401, a whole batch refused, a broken acknowledgement).

mod support;

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use kiosk_protocol::SealingKey;
use kiosk_protocol::wire::{EventKind, paths};
use kiosk_services::KioskStore;
use kiosk_services::sync::{
    BackoffPolicy, CentralClient, CentralEndpoint, OutboxDrainer, OutboxUploader, SyncProblem,
    UploaderConfig,
};
use serde_json::json;
use support::scripted_central::{RecordedRequest, Reply, ScriptedCentral};
use support::{NAME, ScratchDir, applicant, eventually, transaction};

const TOKEN: &str = "kiosk-token-1";

fn client(url: &str) -> CentralClient {
    let mut endpoint = CentralEndpoint::new(url, "K-0001", TOKEN);
    endpoint.request_timeout = Duration::from_secs(5);
    CentralClient::new(endpoint)
}

fn fast_config() -> UploaderConfig {
    UploaderConfig {
        batch_size: 10,
        backoff: BackoffPolicy {
            base: Duration::from_millis(10),
            cap: Duration::from_millis(50),
            max_retry_after: Duration::from_secs(120),
        },
        idle_poll: Duration::from_secs(60),
    }
}

fn open_store(dir: &ScratchDir) -> Arc<KioskStore> {
    Arc::new(KioskStore::open(&dir.path("kiosk.db"), SealingKey::generate()).unwrap())
}

/// What a well-behaved centre would answer: stores each key once, acknowledges the whole batch.
/// Batches holding an event whose payload says `"poison": true` are refused as a whole (400).
#[derive(Default)]
struct FakeCentre {
    stored: Mutex<BTreeSet<String>>,
}

impl FakeCentre {
    fn answer(&self, request: &RecordedRequest) -> Reply {
        let events = request.body["events"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if events.iter().any(|e| e["payload"]["poison"] == json!(true)) {
            return Reply::json(400, json!({ "error": "payload.item_code is malformed" }));
        }
        let mut stored = self.stored.lock().unwrap();
        let (mut new, mut duplicates) = (0, 0);
        for event in &events {
            if stored.insert(event["idempotency_key"].as_str().unwrap_or("").to_string()) {
                new += 1;
            } else {
                duplicates += 1;
            }
        }
        let acked_seq = events
            .iter()
            .filter_map(|e| e["seq"].as_i64())
            .max()
            .unwrap_or(0);
        Reply::json(
            200,
            json!({ "acked_seq": acked_seq, "stored": new, "duplicates": duplicates, "rejected": [] }),
        )
    }

    fn stored_count(&self) -> usize {
        self.stored.lock().unwrap().len()
    }
}

#[test]
fn delivers_with_the_bearer_token_then_marks_synced_and_purges_personal_data() {
    let dir = ScratchDir::new("deliver");
    let store = open_store(&dir);
    let centre = Arc::new(FakeCentre::default());
    let server = {
        let centre = Arc::clone(&centre);
        ScriptedCentral::start(move |r| centre.answer(r))
    };
    store
        .commit_transaction(&transaction("T-1"), Some(&applicant()))
        .unwrap();
    store
        .enqueue_event(
            EventKind::Rating,
            &json!({ "transaction_id": "T-1", "rating": 5 }),
            None,
        )
        .unwrap();

    let report = OutboxDrainer::new(client(&server.url()), 10)
        .drain(&store)
        .unwrap();
    assert_eq!(report.synced, 2);
    assert_eq!(centre.stored_count(), 2);
    let sent = server.requests_to(paths::OUTBOX);
    assert_eq!(sent.len(), 1);
    assert_eq!(
        sent[0].authorization.as_deref(),
        Some(&*format!("Bearer {TOKEN}"))
    );
    assert_eq!(sent[0].body["kiosk_id"], "K-0001");
    assert_eq!(
        sent[0].body["events"][0]["personal"]["name"], NAME,
        "personal data travels"
    );
    assert_eq!(store.outbox_depth().unwrap(), 0);
    assert!(
        !store
            .transaction("T-1")
            .unwrap()
            .unwrap()
            .holds_sealed_personal_data
    );
}

#[test]
fn server_errors_back_off_keep_the_events_and_deliver_once_the_centre_recovers() {
    let dir = ScratchDir::new("5xx");
    let store = open_store(&dir);
    let centre = Arc::new(FakeCentre::default());
    let failing = Arc::new(AtomicBool::new(true));
    let server = {
        let (centre, failing) = (Arc::clone(&centre), Arc::clone(&failing));
        ScriptedCentral::start(move |r| {
            if failing.load(Ordering::SeqCst) {
                Reply::json(503, json!({ "error": "database unavailable" }))
            } else {
                centre.answer(r)
            }
        })
    };
    store.commit_transaction(&transaction("T-1"), None).unwrap();
    let uploader =
        OutboxUploader::spawn(Arc::clone(&store), client(&server.url()), fast_config()).unwrap();

    assert!(eventually(Duration::from_secs(10), || uploader
        .status()
        .consecutive_failures
        >= 3));
    let status = uploader.status();
    assert_eq!(status.problem, Some(SyncProblem::CentreError));
    assert!(status.last_error.unwrap().contains("503"));
    assert!(status.last_success_at.is_none());
    assert_eq!(
        store.outbox_depth().unwrap(),
        1,
        "nothing is lost or dead-lettered"
    );
    assert_eq!(store.dead_letter_count().unwrap(), 0);

    failing.store(false, Ordering::SeqCst);
    assert!(eventually(Duration::from_secs(10), || store
        .outbox_depth()
        .unwrap()
        == 0));
    assert!(eventually(Duration::from_secs(5), || uploader
        .status()
        .problem
        .is_none()));
    let status = uploader.status();
    assert_eq!(status.consecutive_failures, 0);
    assert_eq!(status.events_synced, 1);
    assert!(status.last_success_at.is_some());
    assert_eq!(centre.stored_count(), 1);
    uploader.stop();
}

#[test]
fn retry_after_from_a_throttling_centre_is_honoured() {
    let dir = ScratchDir::new("429");
    let store = open_store(&dir);
    let centre = Arc::new(FakeCentre::default());
    let answered = Arc::new(AtomicU32::new(0));
    let server = {
        let (centre, answered) = (Arc::clone(&centre), Arc::clone(&answered));
        ScriptedCentral::start(move |r| {
            if answered.fetch_add(1, Ordering::SeqCst) == 0 {
                Reply::json(429, json!({ "error": "slow down" })).with_header("Retry-After", "1")
            } else {
                centre.answer(r)
            }
        })
    };
    store.commit_transaction(&transaction("T-1"), None).unwrap();
    let uploader =
        OutboxUploader::spawn(Arc::clone(&store), client(&server.url()), fast_config()).unwrap();
    assert!(eventually(Duration::from_secs(10), || store
        .outbox_depth()
        .unwrap()
        == 0));
    uploader.stop();
    let sent = server.requests_to(paths::OUTBOX);
    assert_eq!(sent.len(), 2);
    let gap = sent[1].at - sent[0].at;
    assert!(
        gap >= Duration::from_millis(950),
        "retried after {gap:?}, not after Retry-After"
    );
}

#[test]
fn refused_credentials_are_reported_and_nothing_is_dead_lettered() {
    let dir = ScratchDir::new("401");
    let store = open_store(&dir);
    let server = ScriptedCentral::start(|_| Reply::json(401, json!({ "error": "unknown token" })));
    store.commit_transaction(&transaction("T-1"), None).unwrap();
    let failure = OutboxDrainer::new(client(&server.url()), 10)
        .drain(&store)
        .unwrap_err();
    assert_eq!(failure.problem, SyncProblem::AuthRejected);
    assert_eq!(store.outbox_depth().unwrap(), 1);
    assert_eq!(store.dead_letter_count().unwrap(), 0);
}

#[test]
fn a_batch_refused_as_a_whole_is_resent_one_by_one_and_only_the_bad_event_is_dead_lettered() {
    let dir = ScratchDir::new("400");
    let store = open_store(&dir);
    let centre = Arc::new(FakeCentre::default());
    let server = {
        let centre = Arc::clone(&centre);
        ScriptedCentral::start(move |r| centre.answer(r))
    };
    let mut poison_seq = 0;
    for n in 0..5 {
        let entry = store
            .enqueue_event(EventKind::Audit, &json!({ "n": n, "poison": n == 2 }), None)
            .unwrap();
        if n == 2 {
            poison_seq = entry.seq;
        }
    }
    let report = OutboxDrainer::new(client(&server.url()), 10)
        .drain(&store)
        .unwrap();
    assert_eq!(report.synced, 4);
    assert_eq!(report.dead_lettered, 1);
    assert_eq!(
        centre.stored_count(),
        4,
        "the events after the bad one arrived too"
    );
    assert_eq!(store.outbox_depth().unwrap(), 0);
    let letters = store.dead_letters().unwrap();
    assert_eq!(letters.len(), 1);
    assert_eq!(letters[0].seq, poison_seq);
    assert!(letters[0].reason.contains("400"), "{}", letters[0].reason);

    // Back to full batches once past the refused batch.
    for n in 0..3 {
        store
            .enqueue_event(EventKind::Audit, &json!({ "n": n }), None)
            .unwrap();
    }
    let before = server.requests_to(paths::OUTBOX).len();
    OutboxDrainer::new(client(&server.url()), 10)
        .drain(&store)
        .unwrap();
    assert_eq!(server.requests_to(paths::OUTBOX).len(), before + 1);
}

#[test]
fn when_even_an_empty_batch_is_refused_nothing_is_dead_lettered() {
    let dir = ScratchDir::new("400-all");
    let store = open_store(&dir);
    let server =
        ScriptedCentral::start(|_| Reply::json(400, json!({ "error": "unknown version" })));
    for n in 0..3 {
        store
            .enqueue_event(EventKind::Audit, &json!({ "n": n }), None)
            .unwrap();
    }
    let failure = OutboxDrainer::new(client(&server.url()), 10)
        .drain(&store)
        .unwrap_err();
    assert_eq!(failure.problem, SyncProblem::CentreRefusesRequests);
    assert_eq!(store.dead_letter_count().unwrap(), 0);
    assert_eq!(store.outbox_depth().unwrap(), 3);
}

#[test]
fn an_acknowledgement_that_does_not_answer_the_batch_is_not_trusted() {
    let dir = ScratchDir::new("bad-ack");
    let store = open_store(&dir);
    let server = ScriptedCentral::start(|_| {
        Reply::json(
            200,
            json!({ "acked_seq": 1000, "stored": 1, "duplicates": 0, "rejected": [] }),
        )
    });
    store
        .commit_transaction(&transaction("T-1"), Some(&applicant()))
        .unwrap();
    let failure = OutboxDrainer::new(client(&server.url()), 10)
        .drain(&store)
        .unwrap_err();
    assert_eq!(failure.problem, SyncProblem::InvalidAcknowledgement);
    assert_eq!(store.outbox_depth().unwrap(), 1);
    assert!(
        store
            .transaction("T-1")
            .unwrap()
            .unwrap()
            .holds_sealed_personal_data
    );
}

#[test]
fn wake_uploads_at_once_while_idle() {
    let dir = ScratchDir::new("wake");
    let store = open_store(&dir);
    let centre = Arc::new(FakeCentre::default());
    let server = {
        let centre = Arc::clone(&centre);
        ScriptedCentral::start(move |r| centre.answer(r))
    };
    let uploader =
        OutboxUploader::spawn(Arc::clone(&store), client(&server.url()), fast_config()).unwrap();
    assert!(eventually(Duration::from_secs(5), || uploader
        .status()
        .last_success_at
        .is_some()));
    store.commit_transaction(&transaction("T-1"), None).unwrap();
    uploader.wake();
    // The idle poll is 60 s: only the wake-up can deliver within the limit.
    assert!(eventually(Duration::from_secs(5), || centre.stored_count() == 1));
    assert!(eventually(Duration::from_secs(5), || store
        .outbox_depth()
        .unwrap()
        == 0));
    uploader.stop();
}

#[test]
fn stop_returns_promptly_during_a_long_back_off() {
    let dir = ScratchDir::new("stop");
    let store = open_store(&dir);
    let server = ScriptedCentral::start(|_| {
        Reply::json(503, json!({ "error": "maintenance" })).with_header("Retry-After", "60")
    });
    store.commit_transaction(&transaction("T-1"), None).unwrap();
    let uploader =
        OutboxUploader::spawn(Arc::clone(&store), client(&server.url()), fast_config()).unwrap();
    assert!(eventually(Duration::from_secs(5), || uploader
        .status()
        .consecutive_failures
        == 1));
    assert!(uploader.status().retry_in.unwrap() >= Duration::from_secs(60));
    let started = Instant::now();
    uploader.stop();
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(
        server.requests_to(paths::OUTBOX).len(),
        1,
        "no retry before Retry-After"
    );
}
