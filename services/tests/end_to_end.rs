//! The kiosk's store and uploader against the real central service over HTTP on loopback, with a
//! fault proxy in between where a fault is needed.

mod support;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use kiosk_protocol::SealingKey;
use kiosk_protocol::wire::{EventKind, OutboxBatch};
use kiosk_services::KioskStore;
use kiosk_services::sync::{
    BackoffPolicy, OutboxDrainer, OutboxUploader, SyncProblem, UploaderConfig,
};
use serde_json::json;
use support::central::{
    KIOSK_ID, any_port, central_db, kiosk_client, listing, start_central, stored_event_count,
};
use support::fault_proxy::FaultProxy;
use support::{ScratchDir, applicant, eventually, transaction};

fn open_store(dir: &ScratchDir) -> Arc<KioskStore> {
    Arc::new(KioskStore::open(&dir.path("kiosk.db"), SealingKey::generate()).unwrap())
}

/// How many times each transaction id appears in the centre's listing.
fn listed_ids(central_url: &str) -> BTreeMap<String, usize> {
    let mut ids = BTreeMap::new();
    for row in listing(central_url) {
        assert_eq!(row.kiosk_id, KIOSK_ID);
        *ids.entry(row.transaction_id).or_insert(0) += 1;
    }
    ids
}

fn once_each(ids: &[&str]) -> BTreeMap<String, usize> {
    ids.iter().map(|id| (id.to_string(), 1)).collect()
}

#[test]
fn events_reach_the_centre_exactly_once_when_the_first_acknowledgement_is_lost() {
    let dir = ScratchDir::new("lost-ack");
    let central = start_central(&dir, any_port());
    let proxy = FaultProxy::start(Some(central.addr()));
    let store = open_store(&dir);
    for id in ["T-1", "T-2", "T-3"] {
        store
            .commit_transaction(&transaction(id), Some(&applicant()))
            .unwrap();
    }
    store
        .enqueue_event(
            EventKind::Rating,
            &json!({ "transaction_id": "T-1", "item_code": "HJ-001", "rating": 5,
                     "rated_at": "2026-11-21T10:05:00Z" }),
            None,
        )
        .unwrap();

    proxy.drop_next_responses(1);
    let mut drainer = OutboxDrainer::new(kiosk_client(&proxy.url()), 100);
    let failure = drainer.drain(&store).unwrap_err();
    assert_eq!(failure.problem, SyncProblem::CentreUnreachable);
    assert_eq!(proxy.responses_dropped(), 1);
    // The centre committed the batch; the kiosk never heard so and keeps every event.
    assert_eq!(stored_event_count(&central_db(&dir)), 4);
    assert_eq!(store.outbox_depth().unwrap(), 4);
    assert!(
        store
            .transaction("T-1")
            .unwrap()
            .unwrap()
            .holds_sealed_personal_data
    );

    let report = drainer.drain(&store).unwrap();
    assert_eq!(report.synced, 4);
    assert_eq!(store.outbox_depth().unwrap(), 0);
    assert!(
        !store
            .transaction("T-1")
            .unwrap()
            .unwrap()
            .holds_sealed_personal_data
    );
    assert_eq!(
        stored_event_count(&central_db(&dir)),
        4,
        "the resend was deduplicated"
    );
    assert_eq!(
        listed_ids(&central.url()),
        once_each(&["T-1", "T-2", "T-3"])
    );
    let rated = listing(&central.url())
        .into_iter()
        .find(|row| row.transaction_id == "T-1")
        .unwrap();
    assert_eq!(rated.rating, Some(5));
    assert_eq!(
        rated.masked_id_number.as_deref(),
        Some("110105********0021")
    );
    central.shutdown();
}

#[test]
fn the_uploader_backs_off_while_the_centre_is_down_and_drains_when_it_starts() {
    let dir = ScratchDir::new("centre-down");
    let proxy = FaultProxy::start(None);
    let store = open_store(&dir);
    let config = UploaderConfig {
        batch_size: 2,
        backoff: BackoffPolicy {
            base: Duration::from_millis(20),
            cap: Duration::from_millis(200),
            max_retry_after: Duration::from_secs(5),
        },
        idle_poll: Duration::from_secs(60),
    };
    let uploader =
        OutboxUploader::spawn(Arc::clone(&store), kiosk_client(&proxy.url()), config).unwrap();
    let ids = ["T-1", "T-2", "T-3", "T-4", "T-5"];
    for id in ids {
        store
            .commit_transaction(&transaction(id), Some(&applicant()))
            .unwrap();
        uploader.wake();
    }
    assert!(eventually(Duration::from_secs(10), || uploader
        .status()
        .consecutive_failures
        >= 3));
    let status = uploader.status();
    assert_eq!(status.problem, Some(SyncProblem::CentreUnreachable));
    assert!(status.retry_in.is_some());
    assert_eq!(store.outbox_depth().unwrap(), 5);

    let central = start_central(&dir, any_port());
    proxy.set_upstream(Some(central.addr()));
    assert!(
        eventually(Duration::from_secs(15), || store.outbox_depth().unwrap()
            == 0),
        "queue drained after the centre started: {:?}",
        uploader.status()
    );
    assert!(eventually(Duration::from_secs(5), || uploader
        .status()
        .problem
        .is_none()));
    assert_eq!(uploader.status().events_synced, 5);
    uploader.stop();
    assert_eq!(listed_ids(&central.url()), once_each(&ids));
    assert_eq!(stored_event_count(&central_db(&dir)), 5);
    central.shutdown();
}

#[test]
fn an_event_the_centre_rejects_goes_to_dead_letter_and_the_rest_still_arrive() {
    let dir = ScratchDir::new("rejected");
    let central = start_central(&dir, any_port());
    let store = open_store(&dir);
    store.commit_transaction(&transaction("T-1"), None).unwrap();
    // An empty transaction id: the centre refuses this one event.
    let bad = store
        .commit_transaction(&transaction(""), Some(&applicant()))
        .unwrap();
    store.commit_transaction(&transaction("T-3"), None).unwrap();

    let report = OutboxDrainer::new(kiosk_client(&central.url()), 100)
        .drain(&store)
        .unwrap();
    assert_eq!(report.synced, 2);
    assert_eq!(report.dead_lettered, 1);
    assert_eq!(store.outbox_depth().unwrap(), 0);
    let letters = store.dead_letters().unwrap();
    assert_eq!(letters.len(), 1);
    assert_eq!(letters[0].seq, bad.seq);
    assert!(
        letters[0].reason.contains("transaction_id"),
        "{}",
        letters[0].reason
    );
    assert!(
        !store
            .transaction("")
            .unwrap()
            .unwrap()
            .holds_sealed_personal_data
    );
    assert_eq!(listed_ids(&central.url()), once_each(&["T-1", "T-3"]));

    // Later events are not held back by the dead letter.
    store.commit_transaction(&transaction("T-4"), None).unwrap();
    OutboxDrainer::new(kiosk_client(&central.url()), 100)
        .drain(&store)
        .unwrap();
    assert_eq!(
        listed_ids(&central.url()),
        once_each(&["T-1", "T-3", "T-4"])
    );
    central.shutdown();
}

#[test]
fn a_batch_sent_again_after_it_was_acknowledged_is_counted_as_duplicates() {
    let dir = ScratchDir::new("resend");
    let central = start_central(&dir, any_port());
    let store = open_store(&dir);
    for id in ["T-1", "T-2"] {
        store
            .commit_transaction(&transaction(id), Some(&applicant()))
            .unwrap();
    }
    let events = store.pending_batch(100).unwrap();
    OutboxDrainer::new(kiosk_client(&central.url()), 100)
        .drain(&store)
        .unwrap();

    let ack = kiosk_client(&central.url())
        .post_outbox(&OutboxBatch {
            kiosk_id: KIOSK_ID.into(),
            events,
        })
        .unwrap();
    assert_eq!((ack.stored, ack.duplicates), (0, 2));
    assert_eq!(stored_event_count(&central_db(&dir)), 2);
    assert_eq!(listed_ids(&central.url()), once_each(&["T-1", "T-2"]));
    central.shutdown();
}
