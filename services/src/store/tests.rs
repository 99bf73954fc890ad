use std::path::PathBuf;

use kiosk_protocol::wire::{
    BatchAck, EventKind, MaskedApplicant, PersonalData, RejectedEvent, TransactionOutcome,
    TransactionRecord,
};
use kiosk_protocol::{SealingKey, mask_id_number, mask_name};
use rusqlite::Connection;
use time::OffsetDateTime;

use super::migrations::{LATEST_SCHEMA_VERSION, migrate_to};
use super::{KioskStore, StoreError};

const ID_NUMBER: &str = "110105194912310021";
const BIRTH_DATE: &str = "19491231";
const NAME: &str = "王小明";
const ADDRESS: &str = "北京市东城区和平里东街18号";

/// A directory removed when the test ends.
pub(crate) struct ScratchDir(PathBuf);

/// A fresh store in a scratch directory (keep the directory alive as long as the store).
pub(crate) fn open_temp_store() -> (ScratchDir, KioskStore) {
    let dir = ScratchDir::new();
    let store = KioskStore::open(&dir.db(), SealingKey::generate()).unwrap();
    (dir, store)
}

impl ScratchDir {
    fn new() -> Self {
        let dir = std::env::temp_dir().join(format!("kiosk-store-test-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }
    fn db(&self) -> PathBuf {
        self.0.join("kiosk.db")
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn applicant() -> PersonalData {
    PersonalData {
        name: NAME.into(),
        id_number: ID_NUMBER.into(),
        address: ADDRESS.into(),
    }
}

fn record(transaction_id: &str) -> TransactionRecord {
    TransactionRecord {
        transaction_id: transaction_id.into(),
        item_code: "HJ-001".into(),
        item_name: "户籍证明".into(),
        department: "公安局".into(),
        outcome: TransactionOutcome::Completed,
        started_at: "2026-11-21T10:00:00Z".into(),
        finished_at: "2026-11-21T10:04:00Z".into(),
        applicant: Some(MaskedApplicant {
            card_type: "resident".into(),
            masked_name: mask_name(NAME),
            masked_id_number: mask_id_number(ID_NUMBER),
        }),
        form: [("phone".to_string(), "138****0000".to_string())].into(),
        steps: vec!["read_id_card".into(), "form".into(), "submit".into()],
        abandoned_at_step: None,
        catalogue_version: 7,
    }
}

fn ack_all(through: i64) -> BatchAck {
    BatchAck {
        acked_seq: through,
        stored: 0,
        duplicates: 0,
        rejected: vec![],
    }
}

fn sealed_outbox_rows(store: &KioskStore) -> i64 {
    store.with_connection(|conn| {
        conn.query_row(
            "SELECT count(*) FROM outbox WHERE sealed_personal IS NOT NULL",
            [],
            |row| row.get(0),
        )
        .unwrap()
    })
}

#[test]
fn opening_sets_wal_full_sync_and_latest_schema() {
    let dir = ScratchDir::new();
    let store = KioskStore::open(&dir.db(), SealingKey::generate()).unwrap();
    let (mode, synchronous): (String, i64) = store.with_connection(|conn| {
        (
            conn.pragma_query_value(None, "journal_mode", |r| r.get(0))
                .unwrap(),
            conn.pragma_query_value(None, "synchronous", |r| r.get(0))
                .unwrap(),
        )
    });
    assert_eq!(mode, "wal");
    assert_eq!(synchronous, 2, "synchronous=FULL");
    assert_eq!(store.schema_version().unwrap(), LATEST_SCHEMA_VERSION);
}

#[test]
fn committed_transaction_is_stored_and_queued_with_its_personal_data_sealed() {
    let dir = ScratchDir::new();
    let store = KioskStore::open(&dir.db(), SealingKey::generate()).unwrap();
    let entry = store
        .commit_transaction(&record("T-1"), Some(&applicant()))
        .unwrap();

    let stored = store.transaction("T-1").unwrap().unwrap();
    assert_eq!(stored.record, record("T-1"));
    assert_eq!(stored.outbox_seq, entry.seq);
    assert!(stored.holds_sealed_personal_data);

    let batch = store.pending_batch(10).unwrap();
    assert_eq!(batch.len(), 1);
    assert_eq!(batch[0].seq, entry.seq);
    assert_eq!(batch[0].idempotency_key, entry.idempotency_key);
    assert_eq!(batch[0].idempotency_key.get_version_num(), 7);
    assert_eq!(batch[0].kind, EventKind::Transaction);
    assert_eq!(
        serde_json::from_value::<TransactionRecord>(batch[0].payload.clone()).unwrap(),
        record("T-1")
    );
    assert_eq!(batch[0].personal.as_ref(), Some(&applicant()));
    assert_eq!(store.outbox_depth().unwrap(), 1);
}

#[test]
fn a_failure_after_the_first_insert_leaves_neither_row() {
    let dir = ScratchDir::new();
    let store = KioskStore::open(&dir.db(), SealingKey::generate()).unwrap();
    // The outbox row is inserted first; make the second insert (the transaction row) fail.
    store.with_connection(|conn| {
        conn.execute_batch(
            "CREATE TEMP TRIGGER injected_failure BEFORE INSERT ON main.transactions
             BEGIN SELECT RAISE(ABORT, 'injected failure'); END;",
        )
        .unwrap()
    });
    let result = store.commit_transaction(&record("T-1"), Some(&applicant()));
    assert!(matches!(result, Err(StoreError::Database(_))), "{result:?}");
    assert_eq!(store.outbox_depth().unwrap(), 0, "no orphan outbox event");
    assert!(store.transaction("T-1").unwrap().is_none());
    assert!(store.pending_batch(10).unwrap().is_empty());

    store.with_connection(|conn| conn.execute_batch("DROP TRIGGER injected_failure").unwrap());
    store
        .commit_transaction(&record("T-1"), Some(&applicant()))
        .unwrap();
    assert_eq!(store.outbox_depth().unwrap(), 1);
}

#[test]
fn the_same_transaction_is_not_committed_twice() {
    let dir = ScratchDir::new();
    let store = KioskStore::open(&dir.db(), SealingKey::generate()).unwrap();
    store.commit_transaction(&record("T-1"), None).unwrap();
    assert!(matches!(
        store.commit_transaction(&record("T-1"), None),
        Err(StoreError::TransactionExists(id)) if id == "T-1"
    ));
    assert_eq!(store.outbox_depth().unwrap(), 1);
}

#[test]
fn seq_is_strictly_increasing_and_never_reused_even_after_deletes_and_reopen() {
    let dir = ScratchDir::new();
    let key = SealingKey::generate();
    let mut seen = Vec::new();
    {
        let store = KioskStore::open(&dir.db(), key.clone()).unwrap();
        for n in 0..3 {
            let entry = store
                .enqueue_event(EventKind::Audit, &serde_json::json!({ "n": n }), None)
                .unwrap();
            seen.push(entry.seq);
        }
        // The newest event leaves the outbox (dead letter): its seq must still not come back.
        assert!(store.move_to_dead_letter(seen[2], "test").unwrap());
        store.mark_acked(&ack_all(seen[1])).unwrap();
    }
    let store = KioskStore::open(&dir.db(), key).unwrap();
    for n in 3..6 {
        let entry = store
            .enqueue_event(EventKind::Audit, &serde_json::json!({ "n": n }), None)
            .unwrap();
        seen.push(entry.seq);
    }
    assert!(seen.windows(2).all(|pair| pair[0] < pair[1]), "{seen:?}");
}

#[test]
fn pending_batch_is_oldest_first_limited_and_skips_synced_events() {
    let dir = ScratchDir::new();
    let store = KioskStore::open(&dir.db(), SealingKey::generate()).unwrap();
    let seqs: Vec<i64> = (0..5)
        .map(|n| {
            store
                .enqueue_event(EventKind::Rating, &serde_json::json!({ "n": n }), None)
                .unwrap()
                .seq
        })
        .collect();
    let first = store.pending_batch(2).unwrap();
    assert_eq!(first.iter().map(|e| e.seq).collect::<Vec<_>>(), seqs[..2]);
    let outcome = store.mark_acked(&ack_all(seqs[1])).unwrap();
    assert_eq!(outcome.synced, 2);
    let rest = store.pending_batch(10).unwrap();
    assert_eq!(rest.iter().map(|e| e.seq).collect::<Vec<_>>(), seqs[2..]);
    assert_eq!(store.outbox_depth().unwrap(), 3);
}

#[test]
fn ack_purges_sealed_personal_data_of_the_event_and_its_transaction() {
    let dir = ScratchDir::new();
    let store = KioskStore::open(&dir.db(), SealingKey::generate()).unwrap();
    let first = store
        .commit_transaction(&record("T-1"), Some(&applicant()))
        .unwrap();
    let second = store
        .commit_transaction(&record("T-2"), Some(&applicant()))
        .unwrap();
    assert_eq!(sealed_outbox_rows(&store), 2);

    let outcome = store.mark_acked(&ack_all(first.seq)).unwrap();
    assert_eq!(outcome.synced, 1);
    assert!(
        !store
            .transaction("T-1")
            .unwrap()
            .unwrap()
            .holds_sealed_personal_data
    );
    assert!(
        store
            .transaction("T-2")
            .unwrap()
            .unwrap()
            .holds_sealed_personal_data
    );
    assert_eq!(sealed_outbox_rows(&store), 1);
    // The masked record stays.
    assert_eq!(
        store.transaction("T-1").unwrap().unwrap().record,
        record("T-1")
    );

    store.mark_acked(&ack_all(second.seq)).unwrap();
    assert!(
        !store
            .transaction("T-2")
            .unwrap()
            .unwrap()
            .holds_sealed_personal_data
    );
    assert_eq!(sealed_outbox_rows(&store), 0);
    assert_eq!(store.outbox_depth().unwrap(), 0);
}

#[test]
fn rejected_events_go_to_dead_letter_and_the_rest_are_synced() {
    let dir = ScratchDir::new();
    let store = KioskStore::open(&dir.db(), SealingKey::generate()).unwrap();
    let good = store.commit_transaction(&record("T-1"), None).unwrap();
    let bad = store
        .commit_transaction(&record("T-2"), Some(&applicant()))
        .unwrap();
    let later = store.commit_transaction(&record("T-3"), None).unwrap();
    let ack = BatchAck {
        acked_seq: later.seq,
        stored: 2,
        duplicates: 0,
        rejected: vec![RejectedEvent {
            seq: bad.seq,
            idempotency_key: bad.idempotency_key,
            reason: "unknown item".into(),
        }],
    };
    let outcome = store.mark_acked(&ack).unwrap();
    assert_eq!(outcome.synced, 2);
    assert_eq!(outcome.dead_lettered, 1);
    assert_eq!(store.outbox_depth().unwrap(), 0);
    assert_eq!(store.dead_letter_count().unwrap(), 1);
    let letters = store.dead_letters().unwrap();
    assert_eq!(letters[0].seq, bad.seq);
    assert_eq!(letters[0].idempotency_key, bad.idempotency_key.to_string());
    assert!(letters[0].reason.contains("unknown item"));
    assert!(
        !store
            .transaction("T-2")
            .unwrap()
            .unwrap()
            .holds_sealed_personal_data
    );
    let _ = good;
}

#[test]
fn a_rejection_naming_another_key_is_ignored() {
    let dir = ScratchDir::new();
    let store = KioskStore::open(&dir.db(), SealingKey::generate()).unwrap();
    let entry = store.commit_transaction(&record("T-1"), None).unwrap();
    let ack = BatchAck {
        acked_seq: entry.seq - 1,
        stored: 0,
        duplicates: 0,
        rejected: vec![RejectedEvent {
            seq: entry.seq,
            idempotency_key: uuid::Uuid::now_v7(),
            reason: "not ours".into(),
        }],
    };
    assert_eq!(store.mark_acked(&ack).unwrap().dead_lettered, 0);
    assert_eq!(store.outbox_depth().unwrap(), 1);
}

#[test]
fn unmasked_personal_data_in_a_record_or_payload_is_refused() {
    let dir = ScratchDir::new();
    let store = KioskStore::open(&dir.db(), SealingKey::generate()).unwrap();
    let mut leaky = record("T-1");
    leaky
        .form
        .insert("note".into(), format!("证件号 {ID_NUMBER}"));
    assert!(matches!(
        store.commit_transaction(&leaky, Some(&applicant())),
        Err(StoreError::UnmaskedPersonalData {
            field: "ID number",
            ..
        })
    ));
    // An applicant block filled with plain values is masked before it is stored.
    let mut unmasked_applicant = record("T-2");
    unmasked_applicant.applicant = Some(MaskedApplicant {
        card_type: "resident".into(),
        masked_name: NAME.into(),
        masked_id_number: ID_NUMBER.into(),
    });
    store
        .commit_transaction(&unmasked_applicant, Some(&applicant()))
        .unwrap();
    let stored = store.transaction("T-2").unwrap().unwrap().record;
    assert_eq!(
        stored.applicant.unwrap().masked_id_number,
        mask_id_number(ID_NUMBER)
    );

    assert!(matches!(
        store.enqueue_event(
            EventKind::Rating,
            &serde_json::json!({ "comment": format!("{NAME} 很满意") }),
            Some(&applicant())
        ),
        Err(StoreError::UnmaskedPersonalData { field: "name", .. })
    ));
    assert_eq!(store.outbox_depth().unwrap(), 1, "only T-2 was stored");
}

#[test]
fn transaction_events_cannot_bypass_the_transaction_row() {
    let dir = ScratchDir::new();
    let store = KioskStore::open(&dir.db(), SealingKey::generate()).unwrap();
    assert!(matches!(
        store.enqueue_event(EventKind::Transaction, &serde_json::json!({}), None),
        Err(StoreError::TransactionEventWithoutRecord)
    ));
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle.as_bytes())
}

/// Reads the database, its WAL and its shared-memory file and fails if any holds a plain
/// personal value.
fn assert_no_plain_personal_data_on_disk(db: &std::path::Path, moment: &str) -> Vec<u8> {
    let mut all = Vec::new();
    for suffix in ["", "-wal", "-shm"] {
        let path = PathBuf::from(format!("{}{suffix}", db.display()));
        let bytes = std::fs::read(&path).unwrap_or_default();
        for secret in [ID_NUMBER, BIRTH_DATE, NAME, "小明", ADDRESS, "和平里"] {
            assert!(
                !contains(&bytes, secret),
                "{moment}: {} holds a plain personal value",
                path.display()
            );
        }
        all.extend(bytes);
    }
    all
}

#[test]
fn database_files_never_hold_plain_id_numbers_names_or_addresses() {
    let dir = ScratchDir::new();
    let store = KioskStore::open(&dir.db(), SealingKey::generate()).unwrap();
    let entry = store
        .commit_transaction(&record("T-1"), Some(&applicant()))
        .unwrap();
    store
        .enqueue_event(
            EventKind::Rating,
            &serde_json::json!({ "transaction_id": "T-1", "rating": 5 }),
            Some(&applicant()),
        )
        .unwrap();
    // The personal data is stored: it comes back from the seal.
    assert_eq!(
        store.pending_batch(10).unwrap()[0].personal,
        Some(applicant())
    );

    let before_checkpoint = assert_no_plain_personal_data_on_disk(&dir.db(), "after commit");
    assert!(
        contains(&before_checkpoint, &mask_id_number(ID_NUMBER)),
        "the masked ID number is on disk, so the scan reads the right files"
    );
    store.checkpoint().unwrap();
    let after_checkpoint = assert_no_plain_personal_data_on_disk(&dir.db(), "after checkpoint");
    assert!(contains(&after_checkpoint, &mask_id_number(ID_NUMBER)));

    store.mark_acked(&ack_all(entry.seq + 1)).unwrap();
    assert_no_plain_personal_data_on_disk(&dir.db(), "after ack");
    store.checkpoint().unwrap();
    assert_no_plain_personal_data_on_disk(&dir.db(), "after ack and checkpoint");
    assert_eq!(sealed_outbox_rows(&store), 0);
}

#[test]
fn a_version_1_database_is_migrated_and_its_queue_still_drains() {
    let dir = ScratchDir::new();
    {
        let mut conn = Connection::open(dir.db()).unwrap();
        assert_eq!(migrate_to(&mut conn, 1).unwrap(), 1);
        conn.execute(
            "INSERT INTO outbox (idempotency_key, kind, payload_json, sealed_personal, created_at)
             VALUES (?1, 'rating', '{\"rating\":4}', NULL, '2026-11-20T08:00:00Z')",
            [uuid::Uuid::now_v7().to_string()],
        )
        .unwrap();
    }
    let store = KioskStore::open(&dir.db(), SealingKey::generate()).unwrap();
    assert_eq!(store.schema_version().unwrap(), LATEST_SCHEMA_VERSION);
    let batch = store.pending_batch(10).unwrap();
    assert_eq!(batch.len(), 1);
    assert_eq!(batch[0].kind, EventKind::Rating);
    assert_eq!(batch[0].payload, serde_json::json!({ "rating": 4 }));
    // Columns and tables added by version 2 work on the old row.
    store
        .record_attempt_failure(batch[0].seq, "centre unreachable")
        .unwrap();
    assert!(store.move_to_dead_letter(batch[0].seq, "test").unwrap());
    assert_eq!(store.dead_letters().unwrap()[0].attempts, 1);
    let next = store
        .enqueue_event(EventKind::Audit, &serde_json::json!({}), None)
        .unwrap();
    assert!(next.seq > batch[0].seq);
}

#[test]
fn an_event_whose_seal_cannot_be_opened_is_dead_lettered_instead_of_blocking_the_queue() {
    let dir = ScratchDir::new();
    {
        let store = KioskStore::open(&dir.db(), SealingKey::generate()).unwrap();
        store
            .commit_transaction(&record("T-1"), Some(&applicant()))
            .unwrap();
        store
            .enqueue_event(EventKind::Audit, &serde_json::json!({ "a": 1 }), None)
            .unwrap();
    }
    let store = KioskStore::open(&dir.db(), SealingKey::generate()).unwrap();
    let batch = store.pending_batch(10).unwrap();
    assert_eq!(batch.len(), 1);
    assert_eq!(batch[0].kind, EventKind::Audit);
    assert_eq!(store.dead_letter_count().unwrap(), 1);
    assert!(store.dead_letters().unwrap()[0].reason.contains("sealed"));
}

#[test]
fn queue_depth_and_age_describe_the_unsent_events() {
    let dir = ScratchDir::new();
    let store = KioskStore::open(&dir.db(), SealingKey::generate()).unwrap();
    let now = OffsetDateTime::now_utc();
    assert_eq!(store.oldest_unsent_age(now).unwrap(), None);
    let entry = store.commit_transaction(&record("T-1"), None).unwrap();
    let later = now + time::Duration::minutes(20);
    let age = store.oldest_unsent_age(later).unwrap().unwrap();
    assert!(age >= std::time::Duration::from_secs(19 * 60), "{age:?}");
    assert_eq!(
        store
            .oldest_unsent_age(now - time::Duration::hours(1))
            .unwrap(),
        Some(std::time::Duration::ZERO),
        "a clock that went back gives zero, not a panic"
    );
    store.mark_acked(&ack_all(entry.seq)).unwrap();
    assert_eq!(store.outbox_depth().unwrap(), 0);
    assert_eq!(store.oldest_unsent_age(later).unwrap(), None);
}

#[test]
fn settings_round_trip() {
    let dir = ScratchDir::new();
    let store = KioskStore::open(&dir.db(), SealingKey::generate()).unwrap();
    assert_eq!(store.setting("kiosk_id").unwrap(), None);
    store.set_setting("kiosk_id", "K-0001").unwrap();
    store.set_setting("kiosk_id", "K-0002").unwrap();
    assert_eq!(
        store.setting("kiosk_id").unwrap().as_deref(),
        Some("K-0002")
    );
}
