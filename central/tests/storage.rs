//! The storage suite: the [`CentralStorage`] interface called directly, once on SQLite and once
//! on a throwaway PostgreSQL (`sqlite::…`, `postgres::…`). Both engines must give the same
//! answers: dedupe, ack cursor, projections, kiosk state and transitions, the offline sweep,
//! sealed data, migrations, and behaviour under concurrent callers.

mod common;

use common::{Engine, Fixture};
use kiosk_central::clock::ServerTime;
use kiosk_central::storage::{
    AcceptedEvent, CheckedBatch, EventProjection, RatingRow, TransactionRow,
};
use kiosk_central::{CentralStorage, Connectivity, StorageError, TransitionSubject};
use kiosk_protocol::wire::{DeviceReport, EventKind, Heartbeat, RejectedEvent, TransactionOutcome};
use std::sync::Arc;
use uuid::Uuid;

const T0_MS: i64 = 1_795_000_000_000;

fn at(offset_ms: i64) -> ServerTime {
    ServerTime::from_unix_ms(T0_MS + offset_ms)
}

fn log_event(seq: i64) -> AcceptedEvent {
    AcceptedEvent {
        seq,
        idempotency_key: Uuid::now_v7(),
        kind: EventKind::Disinfection,
        created_at: "2026-11-21T10:00:00+08:00".into(),
        payload_json: r#"{"method":"wipe"}"#.into(),
        sealed_personal: None,
        projection: EventProjection::LogOnly,
    }
}

fn transaction_event(seq: i64, transaction_id: &str) -> AcceptedEvent {
    AcceptedEvent {
        kind: EventKind::Transaction,
        payload_json: format!(r#"{{"transaction_id":"{transaction_id}"}}"#),
        sealed_personal: Some(vec![0, 1, 2, 0xff, 0, 42]),
        projection: EventProjection::Transaction(TransactionRow {
            transaction_id: transaction_id.into(),
            item_code: "GA-LSSFZM".into(),
            item_name: "临时身份证明".into(),
            department: "公安局".into(),
            outcome: TransactionOutcome::Completed,
            masked_name: Some("王**".into()),
            masked_id_number: Some("110105********0021".into()),
            started_at: "2026-11-21T10:00:00+08:00".into(),
            finished_at: "2026-11-21T10:03:00+08:00".into(),
            catalogue_version: u32::MAX,
            duration_ms: Some(180_000),
            abandoned_at_step: None,
        }),
        ..log_event(seq)
    }
}

fn rating_event(seq: i64, transaction_id: &str, rating: Option<u8>) -> AcceptedEvent {
    AcceptedEvent {
        kind: EventKind::Rating,
        projection: EventProjection::Rating(RatingRow {
            transaction_id: transaction_id.into(),
            item_code: "GA-LSSFZM".into(),
            rating,
            rated_at: "2026-11-21T10:03:30+08:00".into(),
        }),
        ..log_event(seq)
    }
}

fn batch(
    kiosk_id: &str,
    accepted: Vec<AcceptedEvent>,
    rejected: Vec<RejectedEvent>,
) -> CheckedBatch {
    let highest_seq = accepted
        .iter()
        .map(|e| e.seq)
        .chain(rejected.iter().map(|r| r.seq))
        .max()
        .unwrap_or(0);
    CheckedBatch {
        kiosk_id: kiosk_id.into(),
        received_at: at(0),
        accepted,
        rejected,
        highest_seq,
    }
}

fn heartbeat(kiosk_id: &str, seq: u64, devices: &[(&str, &str, Option<&str>)]) -> Heartbeat {
    Heartbeat {
        kiosk_id: kiosk_id.into(),
        seq,
        sent_at: "2026-11-21T10:00:00+08:00".into(),
        software_version: "0.1.0".into(),
        catalogue_version: 7,
        devices: devices
            .iter()
            .map(|(class, state, detail)| DeviceReport {
                class: class.to_string(),
                state: state.to_string(),
                detail: detail.map(str::to_string),
            })
            .collect(),
        items_offered: 93,
        items_available: 90,
        unavailable_items: vec!["GA-LSSFZM".into(), "SB-CBZM".into()],
        outbox_depth: 5,
        oldest_unsent_age_s: Some(40),
        dead_letter_count: 1,
    }
}

fn a_batch_is_stored_once_and_the_cursor_never_goes_back(engine: Engine) {
    let fx = Fixture::new(engine, "dedupe");
    let store = fx.store();
    assert_eq!(store.acked_seq("a").expect("cursor"), None);
    let first = batch(
        "a",
        vec![log_event(1), transaction_event(2, "T-1"), log_event(3)],
        vec![],
    );
    let summary = store.ingest_batch(&first).expect("ingest");
    assert_eq!(
        (summary.stored, summary.duplicates, summary.kiosk_cursor),
        (3, 0, 3)
    );
    let again = store.ingest_batch(&first).expect("ingest again");
    assert_eq!(
        (again.stored, again.duplicates, again.kiosk_cursor),
        (0, 3, 3)
    );

    // An older resend mixed with a new event: the new one is stored, the cursor stays at 3.
    let older = batch("a", vec![first.accepted[0].clone(), log_event(2)], vec![]);
    let summary = store.ingest_batch(&older).expect("ingest older");
    assert_eq!(
        (summary.stored, summary.duplicates, summary.kiosk_cursor),
        (1, 1, 3)
    );

    // Keys are per kiosk: the same key from another kiosk is another event.
    let other = batch("b", vec![first.accepted[0].clone()], vec![]);
    assert_eq!(store.ingest_batch(&other).expect("ingest b").stored, 1);

    assert_eq!(store.count_events("a").expect("count"), 4);
    assert_eq!(store.count_events("b").expect("count"), 1);
    assert_eq!(store.acked_seq("a").expect("cursor"), Some(3));
    assert_eq!(store.transactions().expect("listing").len(), 1);

    // An empty batch still records the kiosk's cursor (0 when it never acknowledged anything).
    let empty = store
        .ingest_batch(&batch("c", vec![], vec![]))
        .expect("empty");
    assert_eq!((empty.stored, empty.kiosk_cursor), (0, 0));
    assert_eq!(store.acked_seq("c").expect("cursor"), Some(0));
}

fn rejected_events_are_recorded_and_move_the_cursor(engine: Engine) {
    let fx = Fixture::new(engine, "rejected");
    let store = fx.store();
    let rejected = RejectedEvent {
        seq: 9,
        idempotency_key: Uuid::now_v7(),
        reason: "payload.item_code: missing".into(),
    };
    let summary = store
        .ingest_batch(&batch("a", vec![log_event(8)], vec![rejected]))
        .expect("ingest");
    assert_eq!((summary.stored, summary.kiosk_cursor), (1, 9));
    assert_eq!(store.count_rejected_events("a").expect("count"), 1);
    assert_eq!(store.count_events("a").expect("count"), 1);
}

fn ratings_join_in_either_order_and_the_first_row_wins(engine: Engine) {
    let fx = Fixture::new(engine, "ratings");
    let store = fx.store();
    store
        .ingest_batch(&batch(
            "a",
            vec![transaction_event(1, "T-1"), rating_event(2, "T-2", Some(2))],
            vec![],
        ))
        .expect("first");
    store
        .ingest_batch(&batch(
            "a",
            vec![
                transaction_event(3, "T-2"),
                rating_event(4, "T-1", Some(5)),
                // A second rating and a second transaction row under new keys are ignored.
                rating_event(5, "T-1", Some(1)),
                transaction_event(6, "T-1"),
                transaction_event(7, "T-3"),
                rating_event(8, "T-3", None),
            ],
            vec![],
        ))
        .expect("second");
    let listed: Vec<(String, Option<u8>)> = store
        .transactions()
        .expect("listing")
        .into_iter()
        .map(|l| (l.transaction_id, l.rating))
        .collect();
    assert_eq!(
        listed,
        [
            ("T-1".to_string(), Some(5)),
            ("T-2".to_string(), Some(2)),
            ("T-3".to_string(), None)
        ]
    );
    let first = &store.transactions().expect("listing")[0];
    assert_eq!(first.kiosk_id, "a");
    assert_eq!(first.outcome, TransactionOutcome::Completed);
    assert_eq!(
        first.masked_id_number.as_deref(),
        Some("110105********0021")
    );
    assert_eq!(first.received_at, at(0).rfc3339);
    assert_eq!(store.count_events("a").expect("count"), 8);
}

fn sealed_personal_data_comes_back_byte_for_byte(engine: Engine) {
    let fx = Fixture::new(engine, "sealed");
    let store = fx.store();
    let with = transaction_event(1, "T-1");
    let without = log_event(2);
    store
        .ingest_batch(&batch("a", vec![with.clone(), without.clone()], vec![]))
        .expect("ingest");
    assert_eq!(
        store
            .sealed_personal_data("a", with.idempotency_key)
            .expect("read"),
        with.sealed_personal
    );
    assert_eq!(
        store
            .sealed_personal_data("a", without.idempotency_key)
            .expect("read"),
        None
    );
    assert_eq!(
        store
            .sealed_personal_data("b", with.idempotency_key)
            .expect("read"),
        None
    );
}

fn kiosk_state_round_trips_and_only_changes_are_recorded(engine: Engine) {
    let fx = Fixture::new(engine, "state");
    let store = fx.store();
    assert_eq!(store.kiosk_state("a").expect("state"), None);
    let mut first = heartbeat(
        "a",
        1,
        &[
            ("id_card_reader", "online", None),
            ("receipt_printer", "online", None),
        ],
    );
    first.catalogue_version = u32::MAX;
    first.oldest_unsent_age_s = None;
    let transitions = store.record_heartbeat(&first, &at(0)).expect("heartbeat");
    assert_eq!(transitions.len(), 3, "{transitions:?}");
    assert_eq!(transitions[0].subject, TransitionSubject::Connectivity);
    assert_eq!(transitions[0].from_state.as_deref(), Some("never_seen"));
    let state = store.kiosk_state("a").expect("state").expect("seen");
    assert_eq!(state.last_heartbeat, first);
    assert_eq!(state.connectivity, Connectivity::Online);
    assert_eq!(state.last_seen, at(0).rfc3339);

    // Same devices: nothing recorded. Then the printer runs low and the card reader goes away.
    let same = heartbeat(
        "a",
        2,
        &[
            ("id_card_reader", "online", None),
            ("receipt_printer", "online", None),
        ],
    );
    assert!(
        store
            .record_heartbeat(&same, &at(30_000))
            .expect("hb")
            .is_empty()
    );
    let changed = heartbeat("a", 3, &[("receipt_printer", "online", Some("paper_low"))]);
    let transitions = store.record_heartbeat(&changed, &at(60_000)).expect("hb");
    let subjects: Vec<(TransitionSubject, String)> = transitions
        .iter()
        .map(|t| (t.subject.clone(), t.to_state.clone()))
        .collect();
    assert_eq!(
        subjects,
        [
            (
                TransitionSubject::Device("receipt_printer".into()),
                "online".into()
            ),
            (
                TransitionSubject::Device("id_card_reader".into()),
                "not_reported".into()
            ),
        ]
    );
    assert_eq!(transitions[0].to_detail.as_deref(), Some("paper_low"));
    let all = store.kiosk_transitions("a").expect("transitions");
    assert_eq!(all.len(), 5);
    assert_eq!(
        all[3..],
        transitions[..],
        "stored oldest first, as returned"
    );
    assert_eq!(fx.query_i64("SELECT COUNT(*) FROM kiosk_state"), 1);
    let state = store.kiosk_state("a").expect("state").expect("seen");
    assert_eq!(state.last_heartbeat, changed);
    assert_eq!(state.last_seen, at(60_000).rfc3339);
}

fn silent_kiosks_go_offline_and_come_back_online(engine: Engine) {
    let fx = Fixture::new(engine, "sweep");
    let store = fx.store();
    store
        .record_heartbeat(&heartbeat("a", 1, &[]), &at(0))
        .expect("heartbeat");
    store
        .record_heartbeat(&heartbeat("b", 1, &[]), &at(50_000))
        .expect("heartbeat");

    assert!(
        store
            .mark_silent_kiosks_offline(&at(-1), &at(0))
            .expect("sweep")
            .is_empty()
    );
    let swept = store
        .mark_silent_kiosks_offline(&at(1), &at(100_000))
        .expect("sweep");
    assert_eq!(swept.len(), 1, "{swept:?}");
    assert_eq!(swept[0].kiosk_id, "a");
    assert_eq!(swept[0].to_state, "offline");
    assert_eq!(swept[0].at, at(100_000).rfc3339);
    let state = store.kiosk_state("a").expect("state").expect("seen");
    assert_eq!(state.connectivity, Connectivity::Offline);
    assert_eq!(
        store
            .kiosk_state("b")
            .expect("state")
            .expect("seen")
            .connectivity,
        Connectivity::Online
    );
    // A second sweep finds nothing new.
    assert!(
        store
            .mark_silent_kiosks_offline(&at(1), &at(100_000))
            .expect("sweep")
            .is_empty()
    );

    let back = store
        .record_heartbeat(&heartbeat("a", 2, &[]), &at(110_000))
        .expect("heartbeat");
    assert_eq!(back.len(), 1);
    assert_eq!(back[0].from_state.as_deref(), Some("offline"));
    assert_eq!(back[0].to_state, "online");
    assert_eq!(store.kiosk_transitions("a").expect("transitions").len(), 3);
}

fn concurrent_uploads_of_one_batch_store_it_once(engine: Engine) {
    let fx = Fixture::new(engine, "concurrent-batches");
    let store: Arc<dyn CentralStorage> = Arc::from(fx.store());
    let events: Vec<AcceptedEvent> = (1..=20)
        .map(|seq| {
            if seq % 2 == 0 {
                transaction_event(seq, &format!("T-{seq}"))
            } else {
                log_event(seq)
            }
        })
        .collect();
    let shared = Arc::new(batch("a", events, vec![]));
    let summaries: Vec<_> = (0..6)
        .map(|_| {
            let store = Arc::clone(&store);
            let shared = Arc::clone(&shared);
            std::thread::spawn(move || store.ingest_batch(&shared))
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|t| t.join().expect("thread").expect("ingest"))
        .collect();
    let stored: u32 = summaries.iter().map(|s| s.stored).sum();
    let duplicates: u32 = summaries.iter().map(|s| s.duplicates).sum();
    assert_eq!((stored, duplicates), (20, 100), "{summaries:?}");
    assert_eq!(store.count_events("a").expect("count"), 20);
    assert_eq!(store.transactions().expect("listing").len(), 10);
    assert_eq!(store.acked_seq("a").expect("cursor"), Some(20));
}

fn concurrent_first_heartbeats_record_one_arrival(engine: Engine) {
    let fx = Fixture::new(engine, "concurrent-heartbeats");
    let store: Arc<dyn CentralStorage> = Arc::from(fx.store());
    let transitions: Vec<_> = (0..6u64)
        .map(|seq| {
            let store = Arc::clone(&store);
            std::thread::spawn(move || {
                store.record_heartbeat(
                    &heartbeat("a", seq, &[("receipt_printer", "online", None)]),
                    &at(i64::try_from(seq).expect("small")),
                )
            })
        })
        .collect::<Vec<_>>()
        .into_iter()
        .flat_map(|t| t.join().expect("thread").expect("heartbeat"))
        .collect();
    assert_eq!(transitions.len(), 2, "{transitions:?}");
    assert_eq!(store.kiosk_transitions("a").expect("transitions").len(), 2);
    assert_eq!(fx.query_i64("SELECT COUNT(*) FROM kiosk_state"), 1);
}

fn reopening_migrates_nothing_and_a_newer_schema_is_refused(engine: Engine) {
    let fx = Fixture::new(engine, "migrations");
    let latest = kiosk_central::storage::migrations::latest_version();
    assert_eq!(
        latest,
        kiosk_central::storage::postgres::migrations::latest_version(),
        "both engines are at the same schema version"
    );
    let store = fx.store();
    store.check_health().expect("healthy");
    drop(store);
    assert_eq!(fx.schema_version(), latest);
    assert_eq!(fx.query_i64("SELECT COUNT(*) FROM schema_version"), latest);
    fx.execute_sql(&format!(
        "INSERT INTO schema_version (version, name, applied_at) \
         VALUES ({}, 'from the future', 'now')",
        latest + 1
    ));
    let refused = match fx.postgres_url.as_deref() {
        None => kiosk_central::SqliteStore::open(&fx.dir.db()).map(drop),
        Some(url) => kiosk_central::PostgresStore::open(url).map(drop),
    };
    match refused {
        Err(StorageError::SchemaTooNew { found, known }) => {
            assert_eq!((found, known), (latest + 1, latest));
        }
        other => panic!("a newer schema must be refused, got {other:?}"),
    }
}

on_both_engines!(
    a_batch_is_stored_once_and_the_cursor_never_goes_back,
    rejected_events_are_recorded_and_move_the_cursor,
    ratings_join_in_either_order_and_the_first_row_wins,
    sealed_personal_data_comes_back_byte_for_byte,
    kiosk_state_round_trips_and_only_changes_are_recorded,
    silent_kiosks_go_offline_and_come_back_online,
    concurrent_uploads_of_one_batch_store_it_once,
    concurrent_first_heartbeats_record_one_arrival,
    reopening_migrates_nothing_and_a_newer_schema_is_refused,
);

/// Several stores opening one new PostgreSQL database at once (central instances starting
/// together) apply each migration once.
#[test]
fn postgres_instances_starting_together_migrate_once() {
    let fx = Fixture::new(Engine::Postgres, "migrate-race");
    let url = fx.postgres_url.clone().expect("postgres");
    let opened: Vec<_> = (0..4)
        .map(|_| {
            let url = url.clone();
            std::thread::spawn(move || kiosk_central::PostgresStore::open(&url).map(drop))
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|t| t.join().expect("thread"))
        .collect();
    for result in opened {
        result.expect("every instance opens the store");
    }
    assert_eq!(
        fx.query_i64("SELECT COUNT(*) FROM schema_version"),
        kiosk_central::storage::postgres::migrations::latest_version()
    );
}

/// Heartbeats and nonces commit asynchronously, everything else durably (two pools): an
/// outbox batch acknowledged to a kiosk survives a crash of the server.
#[test]
fn postgres_commits_batches_durably_and_heartbeats_asynchronously() {
    let fx = Fixture::new(Engine::Postgres, "commit-modes");
    // The test server runs with synchronous_commit off; this database gets PostgreSQL's own
    // default back, as a production server has it. The durable pool keeps whatever the server
    // says (a DBA's `remote_apply` stays in force), the relaxed pool turns it off.
    let url = fx.postgres_url.clone().expect("postgres");
    let database = url
        .rsplit('/')
        .next()
        .and_then(|rest| rest.split('?').next())
        .expect("database name");
    fx.execute_sql(&format!(
        "ALTER DATABASE \"{database}\" SET synchronous_commit = on"
    ));
    let store = kiosk_central::PostgresStore::open(&url).expect("opens");
    assert_eq!(
        store.commit_settings().expect("settings"),
        ("on".to_string(), "off".to_string())
    );
    // A connection string with options of its own still gets the relaxed setting.
    let separator = if url.contains('?') { '&' } else { '?' };
    let with_options = format!("{url}{separator}options=-c%20statement_timeout%3D5000");
    let store = kiosk_central::PostgresStore::open(&with_options).expect("opens");
    assert_eq!(
        store.commit_settings().expect("settings"),
        ("on".to_string(), "off".to_string())
    );
}

/// A store the caller opened can back the service (`spawn_in_thread_with_storage`).
#[test]
fn the_service_runs_on_a_store_given_by_the_caller() {
    let fx = Fixture::new(Engine::Postgres, "given-store");
    let store: Arc<dyn CentralStorage> = Arc::from(fx.store());
    let central = kiosk_central::spawn_in_thread_with_storage(fx.config(), Arc::clone(&store))
        .expect("central starts");
    common::enrol_kiosks(store.as_ref(), &common::TEST_KIOSKS);
    let client = common::Client::new(central.url());
    let (status, _) = client.post_json(
        kiosk_protocol::wire::paths::HEARTBEAT,
        common::signed(common::KIOSK_1),
        &common::heartbeat(common::KIOSK_1, 1, "online", None),
    );
    assert_eq!(status, 200);
    central.shutdown();
    assert!(store.kiosk_state(common::KIOSK_1).expect("state").is_some());
    assert!(!fx.dir.db().exists(), "no SQLite file is made");
}
