//! kill -9 of a kiosk process: committed events survive, reach the centre, and exactly once.
//!
//! The test binary re-executes itself as the "kiosk process": the `kiosk_process` test does
//! nothing unless `KIOSK_CRASH_CHILD_DB` is set; then it opens the store, commits, prints
//! `committed <n>` after each commit and keeps going (or sleeps) until it is SIGKILLed.

mod support;

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use kiosk_protocol::SealingKey;
use kiosk_protocol::wire::{EventKind, TransactionRecord};
use kiosk_services::KioskStore;
use kiosk_services::sync::OutboxDrainer;
use support::central::{
    KIOSK_ID, any_port, central_db, kiosk_client, listing, start_central, stored_event_count,
};
use support::{ScratchDir, applicant, transaction};

const CHILD_DB: &str = "KIOSK_CRASH_CHILD_DB";
const CHILD_KEY: &str = "KIOSK_CRASH_CHILD_KEY";
/// `once`: commit one transaction, then sleep. `loop`: commit without pause.
const CHILD_MODE: &str = "KIOSK_CRASH_CHILD_MODE";

#[test]
fn kiosk_process() {
    let (Ok(db), Ok(key), Ok(mode)) = (
        std::env::var(CHILD_DB),
        std::env::var(CHILD_KEY),
        std::env::var(CHILD_MODE),
    ) else {
        return; // Not started as a child: nothing to do.
    };
    let key = SealingKey::load(Path::new(&key)).expect("key");
    let store = KioskStore::open(Path::new(&db), key).expect("store");
    for n in 0.. {
        store
            .commit_transaction(&transaction(&format!("T-{n}")), Some(&applicant()))
            .expect("commit");
        println!("committed {n}");
        if mode == "once" {
            std::thread::sleep(Duration::from_secs(120));
        }
    }
}

/// Starts the kiosk process and returns it with the reader of its output.
fn start_kiosk_process(db: &Path, key: &Path, mode: &str) -> (Child, impl Iterator<Item = String>) {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "kiosk_process",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_DB, db)
        .env(CHILD_KEY, key)
        .env(CHILD_MODE, mode)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let lines = BufReader::new(child.stdout.take().unwrap())
        .lines()
        .map_while(Result::ok);
    (child, lines)
}

/// The number after `committed `, for the lines that have one (the first shares its line with
/// the test harness's `test kiosk_process ... `).
fn committed_numbers(lines: impl Iterator<Item = String>) -> impl Iterator<Item = u64> {
    lines.filter_map(|line| line.split("committed ").nth(1)?.trim().parse().ok())
}

fn kill_9(mut child: Child) {
    // On Unix `Child::kill` sends SIGKILL: no destructor, no flush, no clean close.
    child.kill().unwrap();
    let status = child.wait().unwrap();
    assert!(!status.success());
}

#[test]
fn a_commit_survives_kill_9_before_upload_and_reaches_the_centre_exactly_once() {
    let dir = ScratchDir::new("crash-once");
    let (db, key_path) = (dir.path("kiosk.db"), dir.path("kiosk.key"));
    let key = SealingKey::load_or_create(&key_path).unwrap();

    let (child, lines) = start_kiosk_process(&db, &key_path, "once");
    assert_eq!(
        committed_numbers(lines).next(),
        Some(0),
        "the kiosk process committed"
    );
    kill_9(child);

    let store = KioskStore::open(&db, key).unwrap();
    assert_eq!(store.outbox_depth().unwrap(), 1);
    assert!(
        store
            .transaction("T-0")
            .unwrap()
            .unwrap()
            .holds_sealed_personal_data
    );
    let unsent = store.pending_batch(10).unwrap();
    assert_eq!(
        unsent[0].personal,
        Some(applicant()),
        "the sealed data is intact"
    );

    let central = start_central(&dir, any_port());
    let report = OutboxDrainer::new(kiosk_client(&central.url()), 100)
        .drain(&store)
        .unwrap();
    assert_eq!(report.synced, 1);
    // The uploader again, and the same event sent once more as after a lost acknowledgement.
    let again = OutboxDrainer::new(kiosk_client(&central.url()), 100)
        .drain(&store)
        .unwrap();
    assert_eq!(again.requests, 0, "nothing left to send");
    let ack = kiosk_client(&central.url())
        .post_outbox(&kiosk_protocol::wire::OutboxBatch {
            kiosk_id: KIOSK_ID.into(),
            events: unsent,
        })
        .unwrap();
    assert_eq!((ack.stored, ack.duplicates), (0, 1));

    assert_eq!(stored_event_count(&central_db(&dir)), 1);
    let listed = listing(&central.url());
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].transaction_id, "T-0");
    assert_eq!(store.outbox_depth().unwrap(), 0);
    assert!(
        !store
            .transaction("T-0")
            .unwrap()
            .unwrap()
            .holds_sealed_personal_data
    );
    central.shutdown();
}

#[test]
fn kill_9_in_the_middle_of_committing_leaves_whole_transactions_only() {
    let dir = ScratchDir::new("crash-loop");
    let (db, key_path) = (dir.path("kiosk.db"), dir.path("kiosk.key"));
    let key = SealingKey::load_or_create(&key_path).unwrap();

    let (child, lines) = start_kiosk_process(&db, &key_path, "loop");
    let last_reported = committed_numbers(lines).take(30).last().unwrap();
    kill_9(child);

    let store = KioskStore::open(&db, key).unwrap();
    let events = store.pending_batch(100_000).unwrap();
    let queued: BTreeSet<String> = events
        .iter()
        .filter(|e| e.kind == EventKind::Transaction)
        .map(|e| {
            serde_json::from_value::<TransactionRecord>(e.payload.clone())
                .unwrap()
                .transaction_id
        })
        .collect();
    // Every commit reported before the kill is there, with its event; no row lacks its event.
    for n in 0..=last_reported {
        assert!(queued.contains(&format!("T-{n}")), "T-{n} lost");
    }
    for n in 0..queued.len() + 10 {
        let id = format!("T-{n}");
        assert_eq!(
            store.transaction(&id).unwrap().is_some(),
            queued.contains(&id),
            "{id}: transaction row and outbox event disagree"
        );
    }

    let central = start_central(&dir, any_port());
    OutboxDrainer::new(kiosk_client(&central.url()), 50)
        .drain(&store)
        .unwrap();
    assert_eq!(stored_event_count(&central_db(&dir)), queued.len() as u64);
    assert_eq!(listing(&central.url()).len(), queued.len());
    central.shutdown();
}
