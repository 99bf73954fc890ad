//! Faults, disinfection, consumables and the audit log: every write with its outbox event in one
//! SQLite transaction, idempotent fault opening, consumable events sent once, masking, and the
//! migration of older databases.

use std::path::PathBuf;
use std::time::Duration;

use kiosk_protocol::SealingKey;
use kiosk_protocol::wire::{
    AuditRecord, Consumable, ConsumableEvent, ConsumableRecord, DisinfectionRecord, EventKind,
    FaultRecord, FaultSeverity, FaultSource, OutboxEvent, SupplyLevel,
};
use rusqlite::Connection;
use time::OffsetDateTime;
use time::macros::datetime;

use super::migrations::{LATEST_SCHEMA_VERSION, migrate_to};
use super::{
    FaultChange, FaultReport, FaultUpdate, KioskStore, StoreError, mask_free_text, record_time,
};

const ID_NUMBER: &str = "110105194912310021";
const BIRTH_DATE: &str = "19491231";
const T0: OffsetDateTime = datetime!(2026-11-21 10:00:00 UTC);

struct ScratchDir(PathBuf);

impl ScratchDir {
    fn new() -> Self {
        let dir = std::env::temp_dir().join(format!("kiosk-upkeep-test-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }
    fn db(&self) -> PathBuf {
        self.0.join("kiosk.db")
    }
    fn open(&self) -> KioskStore {
        KioskStore::open(&self.db(), SealingKey::generate()).unwrap()
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn minutes(n: i64) -> time::Duration {
    time::Duration::minutes(n)
}

fn jam() -> FaultReport {
    FaultReport::automatic(
        "receipt_printer",
        "paper_jam",
        FaultSeverity::Major,
        "receipt printer jammed",
    )
}

/// The unsynced events, oldest first.
fn events(store: &KioskStore) -> Vec<OutboxEvent> {
    store.pending_batch(1000).unwrap()
}

fn events_of(store: &KioskStore, kind: EventKind) -> Vec<serde_json::Value> {
    events(store)
        .into_iter()
        .filter(|e| e.kind == kind)
        .map(|e| e.payload)
        .collect()
}

fn count(store: &KioskStore, table: &str) -> i64 {
    store.with_connection(|conn| {
        conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |row| {
            row.get(0)
        })
        .unwrap()
    })
}

// ---- faults ----

#[test]
fn opening_a_fault_stores_it_and_queues_fault_opened_with_the_same_record() {
    let dir = ScratchDir::new();
    let store = dir.open();
    let outcome = store.open_fault(&jam(), T0).unwrap();
    assert_eq!(outcome.change, FaultChange::Opened);
    let fault = outcome.fault;
    assert_eq!(
        uuid::Uuid::parse_str(&fault.fault_id)
            .unwrap()
            .get_version_num(),
        7
    );
    assert_eq!(fault.opened_at, "2026-11-21T10:00:00.000Z");
    assert_eq!(fault.source, FaultSource::Automatic);
    assert_eq!(fault.cleared_at, None);

    let batch = events(&store);
    assert_eq!(batch.len(), 1, "an automatic fault is not audited");
    assert_eq!(batch[0].kind, EventKind::FaultOpened);
    assert_eq!(
        serde_json::from_value::<FaultRecord>(batch[0].payload.clone()).unwrap(),
        fault
    );
    assert_eq!(store.open_faults().unwrap(), vec![fault.clone()]);
    assert_eq!(store.fault(&fault.fault_id).unwrap(), Some(fault.clone()));
    assert_eq!(
        store
            .find_open_fault("receipt_printer", "paper_jam")
            .unwrap(),
        Some(fault)
    );
}

#[test]
fn opening_the_same_fault_again_updates_it_instead_of_duplicating() {
    let dir = ScratchDir::new();
    let store = dir.open();
    let first = store.open_fault(&jam(), T0).unwrap().fault;

    // Reported again as it is: nothing written.
    let again = store.open_fault(&jam(), T0 + minutes(1)).unwrap();
    assert_eq!(again.change, FaultChange::Unchanged);
    assert_eq!(again.fault, first);
    assert_eq!(store.outbox_depth().unwrap(), 1);

    // Reported worse: the same fault, updated, with a fault_updated event.
    let mut worse = jam();
    worse.severity = FaultSeverity::Critical;
    worse.message = "jammed, cutter blocked".into();
    let updated = store.open_fault(&worse, T0 + minutes(2)).unwrap();
    assert_eq!(updated.change, FaultChange::Updated);
    assert_eq!(updated.fault.fault_id, first.fault_id);
    assert_eq!(updated.fault.opened_at, first.opened_at);
    assert_eq!(updated.fault.updated_at, "2026-11-21T10:02:00.000Z");
    assert_eq!(updated.fault.severity, FaultSeverity::Critical);
    assert_eq!(store.open_faults().unwrap().len(), 1);
    assert_eq!(count(&store, "faults"), 1);
    let payloads = events_of(&store, EventKind::FaultUpdated);
    assert_eq!(payloads.len(), 1);
    assert_eq!(
        serde_json::from_value::<FaultRecord>(payloads[0].clone()).unwrap(),
        updated.fault
    );

    // Another code on the same device is another fault.
    let cover = FaultReport::automatic(
        "receipt_printer",
        "cover_open",
        FaultSeverity::Major,
        "cover open",
    );
    assert_eq!(
        store.open_fault(&cover, T0).unwrap().change,
        FaultChange::Opened
    );
    assert_eq!(store.open_faults().unwrap().len(), 2);
}

#[test]
fn the_database_itself_allows_one_open_fault_per_device_and_code() {
    let dir = ScratchDir::new();
    let store = dir.open();
    let fault = store.open_fault(&jam(), T0).unwrap().fault;
    let duplicate = store.with_connection(|conn| {
        conn.execute(
            "INSERT INTO faults (fault_id, device, code, severity, message, source, opened_at,
                 updated_at, outbox_seq)
             VALUES ('other', 'receipt_printer', 'paper_jam', 'major', 'm', 'automatic', 't',
                 't', 1)",
            [],
        )
    });
    assert!(duplicate.is_err());
    store.close_fault(&fault.fault_id, None, None, T0).unwrap();
    store.open_fault(&jam(), T0).unwrap();
    assert_eq!(count(&store, "faults"), 2);
}

#[test]
fn closing_a_fault_queues_fault_cleared_audits_staff_and_a_new_one_can_open() {
    let dir = ScratchDir::new();
    let store = dir.open();
    let fault = store.open_fault(&jam(), T0).unwrap().fault;
    let closed = store
        .close_fault(
            &fault.fault_id,
            Some("removed the jammed paper"),
            Some("S-007"),
            T0 + minutes(30),
        )
        .unwrap();
    assert_eq!(
        closed.cleared_at.as_deref(),
        Some("2026-11-21T10:30:00.000Z")
    );
    assert_eq!(closed.updated_at, "2026-11-21T10:30:00.000Z");
    assert_eq!(closed.note.as_deref(), Some("removed the jammed paper"));
    assert_eq!(closed.staff_id.as_deref(), Some("S-007"));
    assert!(store.open_faults().unwrap().is_empty());
    assert_eq!(store.fault(&fault.fault_id).unwrap(), Some(closed.clone()));

    let cleared = events_of(&store, EventKind::FaultCleared);
    assert_eq!(cleared.len(), 1);
    assert_eq!(
        serde_json::from_value::<FaultRecord>(cleared[0].clone()).unwrap(),
        closed
    );
    let audit = store.recent_audit(10).unwrap();
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].actor, "S-007");
    assert_eq!(audit[0].action, "fault.close");
    assert!(audit[0].detail.contains("paper_jam") && audit[0].detail.contains("removed"));
    assert_eq!(events_of(&store, EventKind::Audit).len(), 1);

    assert!(matches!(
        store.close_fault(&fault.fault_id, None, None, T0),
        Err(StoreError::FaultNotOpen(id)) if id == fault.fault_id
    ));
    assert!(matches!(
        store.close_fault("no-such-fault", None, None, T0),
        Err(StoreError::FaultNotOpen(_))
    ));
    let reopened = store.open_fault(&jam(), T0 + minutes(40)).unwrap();
    assert_eq!(reopened.change, FaultChange::Opened);
    assert_ne!(reopened.fault.fault_id, fault.fault_id);
}

#[test]
fn the_device_manager_closes_by_device_and_code() {
    let dir = ScratchDir::new();
    let store = dir.open();
    assert_eq!(
        store
            .close_fault_for_device("receipt_printer", "paper_jam", None, None, T0)
            .unwrap(),
        None
    );
    assert_eq!(store.outbox_depth().unwrap(), 0);
    let fault = store.open_fault(&jam(), T0).unwrap().fault;
    let closed = store
        .close_fault_for_device(
            "receipt_printer",
            "paper_jam",
            Some("state back to online"),
            None,
            T0 + minutes(5),
        )
        .unwrap()
        .unwrap();
    assert_eq!(closed.fault_id, fault.fault_id);
    assert!(closed.cleared_at.is_some());
    assert_eq!(events_of(&store, EventKind::FaultCleared).len(), 1);
    assert!(
        store.recent_audit(10).unwrap().is_empty(),
        "no staff, no audit"
    );
}

#[test]
fn staff_reports_and_updates_faults_and_each_step_is_audited() {
    let dir = ScratchDir::new();
    let store = dir.open();
    let report = FaultReport::by_staff(
        "S-007",
        "card_writer",
        "staff_report",
        FaultSeverity::Minor,
        "card slot sticky",
    );
    let fault = store.open_fault(&report, T0).unwrap().fault;
    assert_eq!(fault.source, FaultSource::Staff);
    assert_eq!(fault.staff_id.as_deref(), Some("S-007"));

    let updated = store
        .update_fault(
            &fault.fault_id,
            &FaultUpdate {
                severity: Some(FaultSeverity::Major),
                note: Some("vendor called".into()),
                staff_id: Some("S-008".into()),
                ..FaultUpdate::default()
            },
            T0 + minutes(3),
        )
        .unwrap();
    assert_eq!(updated.severity, FaultSeverity::Major);
    assert_eq!(updated.message, "card slot sticky");
    assert_eq!(updated.note.as_deref(), Some("vendor called"));
    assert_eq!(updated.staff_id.as_deref(), Some("S-008"));
    assert_eq!(updated.opened_at, fault.opened_at);

    let kinds: Vec<EventKind> = events(&store).iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        [
            EventKind::FaultOpened,
            EventKind::Audit,
            EventKind::FaultUpdated,
            EventKind::Audit
        ]
    );
    let actions: Vec<String> = store
        .recent_audit(10)
        .unwrap()
        .into_iter()
        .map(|a| format!("{} {}", a.actor, a.action))
        .collect();
    assert_eq!(actions, ["S-008 fault.update", "S-007 fault.report"]);

    store
        .close_fault(&fault.fault_id, Some("fixed"), Some("S-008"), T0)
        .unwrap();
    assert!(matches!(
        store.update_fault(&fault.fault_id, &FaultUpdate::default(), T0),
        Err(StoreError::FaultNotOpen(_))
    ));
}

#[test]
fn recent_faults_are_newest_first_and_limited() {
    let dir = ScratchDir::new();
    let store = dir.open();
    for (n, code) in ["a", "b", "c"].iter().enumerate() {
        let report = FaultReport::automatic("kiosk", code, FaultSeverity::Warning, "x");
        store.open_fault(&report, T0 + minutes(n as i64)).unwrap();
    }
    let first = store.find_open_fault("kiosk", "a").unwrap().unwrap();
    store.close_fault(&first.fault_id, None, None, T0).unwrap();
    let recent: Vec<String> = store
        .recent_faults(2)
        .unwrap()
        .into_iter()
        .map(|f| f.code)
        .collect();
    assert_eq!(recent, ["c", "b"]);
    assert_eq!(store.recent_faults(10).unwrap().len(), 3);
    let open: Vec<String> = store
        .open_faults()
        .unwrap()
        .into_iter()
        .map(|f| f.code)
        .collect();
    assert_eq!(open, ["b", "c"], "oldest first");
}

#[test]
fn faults_with_empty_device_or_code_are_refused() {
    let dir = ScratchDir::new();
    let store = dir.open();
    let mut report = jam();
    report.device = "  ".into();
    assert!(matches!(
        store.open_fault(&report, T0),
        Err(StoreError::InvalidRecord { .. })
    ));
    let mut report = jam();
    report.code = String::new();
    assert!(matches!(
        store.open_fault(&report, T0),
        Err(StoreError::InvalidRecord { .. })
    ));
    let mut report = jam();
    report.device = "收据打印机".into();
    assert!(matches!(
        store.open_fault(&report, T0),
        Err(StoreError::InvalidRecord { .. })
    ));
    assert_eq!(store.outbox_depth().unwrap(), 0);
}

// ---- disinfection ----

#[test]
fn a_disinfection_is_stored_with_its_event_and_audit_entry() {
    let dir = ScratchDir::new();
    let store = dir.open();
    assert_eq!(store.last_disinfection().unwrap(), None);
    let record = store
        .record_disinfection(
            "S-007",
            "alcohol_wipe",
            &["screen", " card_reader ", "keypad", "screen", ""],
            datetime!(2026-11-21 14:05:00 +08:00),
        )
        .unwrap();
    assert_eq!(record.at, "2026-11-21T06:05:00.000Z", "kept in UTC");
    assert_eq!(record.surfaces, ["screen", "card_reader", "keypad"]);
    assert_eq!(store.last_disinfection().unwrap(), Some(record.clone()));

    let payloads = events_of(&store, EventKind::Disinfection);
    assert_eq!(payloads.len(), 1);
    assert_eq!(
        serde_json::from_value::<DisinfectionRecord>(payloads[0].clone()).unwrap(),
        record
    );
    let audit = store.recent_audit(1).unwrap();
    assert_eq!(audit[0].action, "disinfection.record");
    assert_eq!(audit[0].actor, "S-007");

    let none: [&str; 0] = [];
    assert!(matches!(
        store.record_disinfection("S-007", "alcohol_wipe", &none, T0),
        Err(StoreError::InvalidRecord { .. })
    ));
    assert!(matches!(
        store.record_disinfection("", "alcohol_wipe", &["screen"], T0),
        Err(StoreError::InvalidRecord { .. })
    ));
    assert_eq!(count(&store, "disinfection_records"), 1);
}

#[test]
fn disinfection_is_overdue_after_the_interval_and_not_after_a_new_record() {
    let dir = ScratchDir::new();
    let store = dir.open();
    let interval = Duration::from_secs(4 * 3600);
    let never = store.disinfection_status(T0, interval).unwrap();
    assert!(never.overdue && never.last.is_none() && never.due_at.is_none());

    store
        .record_disinfection("S-007", "alcohol_wipe", &["screen"], T0)
        .unwrap();
    let fresh = store
        .disinfection_status(T0 + minutes(60), interval)
        .unwrap();
    assert!(!fresh.overdue);
    assert_eq!(fresh.due_at, Some(T0 + minutes(240)));
    assert!(
        !store
            .disinfection_status(T0 + minutes(239), interval)
            .unwrap()
            .overdue
    );
    assert!(
        store
            .disinfection_status(T0 + minutes(240), interval)
            .unwrap()
            .overdue
    );

    // A record entered later for an earlier time does not count as the latest.
    store
        .record_disinfection("S-008", "uv_lamp", &["keypad"], T0 - minutes(60))
        .unwrap();
    assert_eq!(
        store.last_disinfection().unwrap().unwrap().staff_id,
        "S-007"
    );
    store
        .record_disinfection("S-008", "uv_lamp", &["keypad"], T0 + minutes(250))
        .unwrap();
    let status = store
        .disinfection_status(T0 + minutes(251), interval)
        .unwrap();
    assert!(!status.overdue);
    assert_eq!(status.last.unwrap().method, "uv_lamp");
    let recent = store.recent_disinfections(2).unwrap();
    assert_eq!(recent.len(), 2);
    assert_eq!(recent[1].staff_id, "S-007");
}

// ---- consumables ----

fn consumable_events(store: &KioskStore) -> Vec<ConsumableRecord> {
    events_of(store, EventKind::Consumable)
        .into_iter()
        .map(|p| serde_json::from_value(p).unwrap())
        .collect()
}

#[test]
fn consumables_start_unknown_and_ok() {
    let dir = ScratchDir::new();
    let store = dir.open();
    let levels = store.consumable_levels().unwrap();
    assert_eq!(
        levels.iter().map(|l| l.consumable).collect::<Vec<_>>(),
        Consumable::ALL
    );
    for level in levels {
        assert_eq!(level.level, SupplyLevel::Ok);
        assert_eq!((level.capacity, level.remaining), (None, None));
    }
    // Counting without a known capacity is fine and raises nothing.
    let level = store.consume(Consumable::ReceiptPaper, 80, T0).unwrap();
    assert_eq!(level.used_since_replenish, 80);
    assert_eq!(level.level, SupplyLevel::Ok);
    assert_eq!(store.outbox_depth().unwrap(), 0);
}

#[test]
fn crossing_into_low_and_empty_queues_one_event_each() {
    let dir = ScratchDir::new();
    let store = dir.open();
    let level = store
        .replenish(Consumable::A4Paper, 100, "S-007", T0)
        .unwrap();
    assert_eq!(level.level, SupplyLevel::Ok);
    assert_eq!(level.remaining, Some(100));
    assert_eq!(level.low_threshold, Some(10));
    assert_eq!(level.replenished_by.as_deref(), Some("S-007"));

    for _ in 0..89 {
        store.consume(Consumable::A4Paper, 1, T0).unwrap();
    }
    assert_eq!(
        consumable_events(&store).len(),
        1,
        "only the replenish so far"
    );
    // 11 left → 10 left: low, once.
    let low = store.consume(Consumable::A4Paper, 1, T0).unwrap();
    assert_eq!(low.level, SupplyLevel::Low);
    assert_eq!(low.remaining, Some(10));
    for _ in 0..9 {
        store.consume(Consumable::A4Paper, 1, T0).unwrap();
    }
    let events = consumable_events(&store);
    assert_eq!(
        events.iter().map(|e| e.event).collect::<Vec<_>>(),
        [ConsumableEvent::Replenished, ConsumableEvent::Low]
    );
    assert_eq!(events[1].remaining, Some(10));
    assert_eq!(events[1].capacity, Some(100));
    assert_eq!(events[1].consumable, Consumable::A4Paper);

    let empty = store.consume(Consumable::A4Paper, 1, T0).unwrap();
    assert_eq!(empty.level, SupplyLevel::Empty);
    assert_eq!(empty.remaining, Some(0));
    store.consume(Consumable::A4Paper, 5, T0).unwrap();
    let events = consumable_events(&store);
    assert_eq!(
        events.iter().map(|e| e.event).collect::<Vec<_>>(),
        [
            ConsumableEvent::Replenished,
            ConsumableEvent::Low,
            ConsumableEvent::Empty
        ]
    );
    assert_eq!(
        store
            .consumable_level(Consumable::A4Paper)
            .unwrap()
            .used_total,
        105
    );

    // Replenished: counters start again, and running low is reported again.
    let refilled = store
        .replenish(Consumable::A4Paper, 100, "S-008", T0 + minutes(60))
        .unwrap();
    assert_eq!(refilled.level, SupplyLevel::Ok);
    assert_eq!(refilled.used_since_replenish, 0);
    assert_eq!(refilled.used_total, 105);
    store.consume(Consumable::A4Paper, 95, T0).unwrap();
    let last = consumable_events(&store);
    assert_eq!(last.len(), 5);
    assert_eq!(last[3].event, ConsumableEvent::Replenished);
    assert_eq!(last[3].staff_id.as_deref(), Some("S-008"));
    assert_eq!(last[4].event, ConsumableEvent::Low);
    // Each replenish is audited.
    let audit = store.recent_audit(10).unwrap();
    assert_eq!(audit.len(), 2);
    assert!(audit.iter().all(|a| a.action == "consumable.replenish"));
}

#[test]
fn jumping_straight_to_empty_sends_only_empty() {
    let dir = ScratchDir::new();
    let store = dir.open();
    store
        .replenish(Consumable::CardStock, 50, "S-007", T0)
        .unwrap();
    store.consume(Consumable::CardStock, 60, T0).unwrap();
    let events = consumable_events(&store);
    assert_eq!(
        events.iter().map(|e| e.event).collect::<Vec<_>>(),
        [ConsumableEvent::Replenished, ConsumableEvent::Empty]
    );
}

#[test]
fn the_near_end_sensor_raises_low_once_even_when_it_flaps() {
    let dir = ScratchDir::new();
    let store = dir.open();
    store
        .replenish(Consumable::ReceiptPaper, 50_000, "S-007", T0)
        .unwrap();
    let low = store
        .set_sensor_level(Consumable::ReceiptPaper, SupplyLevel::Low, T0)
        .unwrap();
    assert_eq!(
        low.level,
        SupplyLevel::Low,
        "the sensor wins over the counter"
    );
    assert_eq!(low.sensor_level, Some(SupplyLevel::Low));
    store
        .set_sensor_level(Consumable::ReceiptPaper, SupplyLevel::Ok, T0)
        .unwrap();
    store
        .set_sensor_level(Consumable::ReceiptPaper, SupplyLevel::Low, T0)
        .unwrap();
    store.consume(Consumable::ReceiptPaper, 80, T0).unwrap();
    assert_eq!(
        consumable_events(&store)
            .iter()
            .map(|e| e.event)
            .collect::<Vec<_>>(),
        [ConsumableEvent::Replenished, ConsumableEvent::Low]
    );
    store
        .set_sensor_level(Consumable::ReceiptPaper, SupplyLevel::Empty, T0)
        .unwrap();
    assert_eq!(consumable_events(&store).len(), 3);
    // A replenish forgets the old sensor reading.
    let refilled = store
        .replenish(Consumable::ReceiptPaper, 50_000, "S-007", T0)
        .unwrap();
    assert_eq!(refilled.sensor_level, None);
    assert_eq!(refilled.level, SupplyLevel::Ok);
}

#[test]
fn the_low_threshold_can_be_set() {
    let dir = ScratchDir::new();
    let store = dir.open();
    store
        .replenish(Consumable::A4Paper, 500, "S-007", T0)
        .unwrap();
    let level = store
        .set_low_threshold(Consumable::A4Paper, Some(100))
        .unwrap();
    assert_eq!(level.low_threshold, Some(100));
    let depth = store.outbox_depth().unwrap();
    assert_eq!(
        store.consume(Consumable::A4Paper, 399, T0).unwrap().level,
        SupplyLevel::Ok
    );
    assert_eq!(
        store.consume(Consumable::A4Paper, 1, T0).unwrap().level,
        SupplyLevel::Low
    );
    assert_eq!(store.outbox_depth().unwrap(), depth + 1);
    let reset = store.set_low_threshold(Consumable::A4Paper, None).unwrap();
    assert_eq!(reset.low_threshold, Some(50));
}

// ---- audit ----

#[test]
fn audit_entries_are_stored_with_their_event_newest_first() {
    let dir = ScratchDir::new();
    let store = dir.open();
    store
        .audit("S-007", "diagnostics.enter", "PIN accepted", T0)
        .unwrap();
    store
        .audit("system", "diagnostics.leave", "inactivity", T0 + minutes(5))
        .unwrap();
    let recent = store.recent_audit(10).unwrap();
    assert_eq!(
        recent.iter().map(|a| a.action.as_str()).collect::<Vec<_>>(),
        ["diagnostics.leave", "diagnostics.enter"]
    );
    assert_eq!(store.recent_audit(1).unwrap().len(), 1);
    let payloads: Vec<AuditRecord> = events_of(&store, EventKind::Audit)
        .into_iter()
        .map(|p| serde_json::from_value(p).unwrap())
        .collect();
    assert_eq!(payloads, recent.into_iter().rev().collect::<Vec<_>>());
    assert!(matches!(
        store.audit(" ", "x", "", T0),
        Err(StoreError::InvalidRecord { .. })
    ));
}

#[test]
fn free_text_never_keeps_an_id_number_or_mobile_number() {
    assert_eq!(
        mask_free_text(&format!("证件号{ID_NUMBER}，电话13812345678")),
        "证件号110105********0021，电话138****5678"
    );
    assert_eq!(
        mask_free_text("11010519491231002X applicant"),
        "110105********002X applicant"
    );
    assert_eq!(
        mask_free_text("card 6222021234567890123"),
        "card 62***************23"
    );
    // Transaction numbers, counters and times pass unchanged.
    for text in [
        "reprint KSK-TEST-01-20261121-000042",
        "printed 1234 receipts",
        "2026-11-21T10:00:00.000Z",
    ] {
        assert_eq!(mask_free_text(text), text);
    }
    assert_eq!(mask_free_text(&"长".repeat(2000)).chars().count(), 1000);

    let dir = ScratchDir::new();
    let store = dir.open();
    let mut report = jam();
    report.message = format!("citizen {ID_NUMBER} saw the jam");
    let fault = store.open_fault(&report, T0).unwrap().fault;
    assert!(!fault.message.contains(BIRTH_DATE));
    store
        .close_fault(
            &fault.fault_id,
            Some(&format!("called {ID_NUMBER}")),
            Some("S-1"),
            T0,
        )
        .unwrap();
    store
        .audit("S-1", "receipt.reprint", &format!("for {ID_NUMBER}"), T0)
        .unwrap();
    store.checkpoint().unwrap();
    for suffix in ["", "-wal"] {
        let bytes = std::fs::read(format!("{}{suffix}", dir.db().display())).unwrap_or_default();
        assert!(
            !bytes
                .windows(BIRTH_DATE.len())
                .any(|w| w == BIRTH_DATE.as_bytes()),
            "the database{suffix} holds a birth date"
        );
    }
}

#[test]
fn record_times_are_utc_fixed_width_and_sort_as_text() {
    let earlier = record_time(datetime!(2026-11-21 18:00:00.5 +08:00));
    let later = record_time(datetime!(2026-11-21 10:00:01 UTC));
    assert_eq!(earlier, "2026-11-21T10:00:00.500Z");
    assert_eq!(later, "2026-11-21T10:00:01.000Z");
    assert!(earlier < later);
}

// ---- atomicity ----

/// Makes every insert or update of `table` fail, runs `write`, and checks that it failed and
/// left neither the business row nor an outbox event behind.
fn assert_all_or_nothing(
    store: &KioskStore,
    table: &str,
    write: impl FnOnce(&KioskStore) -> Result<(), StoreError>,
) {
    let before = (
        store.outbox_depth().unwrap(),
        count(store, table),
        count(store, "audit_log"),
    );
    store.with_connection(|conn| {
        conn.execute_batch(&format!(
            "CREATE TEMP TRIGGER fail_insert BEFORE INSERT ON main.{table}
             BEGIN SELECT RAISE(ABORT, 'injected failure'); END;
             CREATE TEMP TRIGGER fail_update BEFORE UPDATE ON main.{table}
             BEGIN SELECT RAISE(ABORT, 'injected failure'); END;"
        ))
        .unwrap()
    });
    let result = write(store);
    store.with_connection(|conn| {
        conn.execute_batch("DROP TRIGGER fail_insert; DROP TRIGGER fail_update;")
            .unwrap()
    });
    assert!(
        matches!(result, Err(StoreError::Database(_))),
        "{table}: {result:?}"
    );
    let after = (
        store.outbox_depth().unwrap(),
        count(store, table),
        count(store, "audit_log"),
    );
    assert_eq!(
        after, before,
        "{table}: no orphan event, row or audit entry"
    );
}

#[test]
fn every_write_stores_its_row_and_its_event_together_or_neither() {
    let dir = ScratchDir::new();
    let store = dir.open();
    assert_all_or_nothing(&store, "faults", |s| s.open_fault(&jam(), T0).map(drop));
    let fault = store.open_fault(&jam(), T0).unwrap().fault;
    let mut worse = jam();
    worse.severity = FaultSeverity::Critical;
    assert_all_or_nothing(&store, "faults", |s| s.open_fault(&worse, T0).map(drop));
    assert_all_or_nothing(&store, "faults", |s| {
        s.close_fault(&fault.fault_id, Some("n"), Some("S-1"), T0)
            .map(drop)
    });
    assert!(
        store
            .find_open_fault("receipt_printer", "paper_jam")
            .unwrap()
            .is_some()
    );
    // The audit row is the last write of a staff close: its failure undoes the close too.
    assert_all_or_nothing(&store, "audit_log", |s| {
        s.close_fault(&fault.fault_id, Some("n"), Some("S-1"), T0)
            .map(drop)
    });
    assert_eq!(store.open_faults().unwrap().len(), 1);

    assert_all_or_nothing(&store, "disinfection_records", |s| {
        s.record_disinfection("S-1", "alcohol_wipe", &["screen"], T0)
            .map(drop)
    });
    assert_all_or_nothing(&store, "audit_log", |s| {
        s.record_disinfection("S-1", "alcohol_wipe", &["screen"], T0)
            .map(drop)
    });
    assert_eq!(store.last_disinfection().unwrap(), None);

    assert_all_or_nothing(&store, "consumables", |s| {
        s.replenish(Consumable::A4Paper, 10, "S-1", T0).map(drop)
    });
    store.replenish(Consumable::A4Paper, 10, "S-1", T0).unwrap();
    assert_all_or_nothing(&store, "consumables", |s| {
        s.consume(Consumable::A4Paper, 9, T0).map(drop)
    });
    assert_eq!(
        store
            .consumable_level(Consumable::A4Paper)
            .unwrap()
            .used_since_replenish,
        0
    );
    assert_all_or_nothing(&store, "audit_log", |s| {
        s.audit("S-1", "diagnostics.enter", "", T0).map(drop)
    });

    // The outbox side failing undoes the business row too.
    assert_all_or_nothing(&store, "outbox", |s| {
        s.record_disinfection("S-1", "alcohol_wipe", &["screen"], T0)
            .map(drop)
    });
    assert_eq!(count(&store, "disinfection_records"), 0);
}

// ---- migrations ----

#[test]
fn version_1_and_2_databases_migrate_with_their_queue_and_take_the_new_records() {
    for start in [1, 2] {
        let dir = ScratchDir::new();
        {
            let mut conn = Connection::open(dir.db()).unwrap();
            assert_eq!(migrate_to(&mut conn, start).unwrap(), start);
            conn.execute(
                "INSERT INTO outbox (idempotency_key, kind, payload_json, sealed_personal,
                     created_at)
                 VALUES (?1, 'fault_opened', '{\"device\":\"receipt_printer\"}', NULL,
                     '2026-11-20T08:00:00Z')",
                [uuid::Uuid::now_v7().to_string()],
            )
            .unwrap();
            conn.execute(
                "INSERT INTO settings (key, value, updated_at) VALUES ('kiosk_id', 'K-1', 't')",
                [],
            )
            .unwrap();
        }
        let store = dir.open();
        assert_eq!(store.schema_version().unwrap(), LATEST_SCHEMA_VERSION);
        assert_eq!(store.setting("kiosk_id").unwrap().as_deref(), Some("K-1"));
        let old = events(&store);
        assert_eq!(old.len(), 1, "from version {start}");
        assert_eq!(old[0].kind, EventKind::FaultOpened);

        let fault = store.open_fault(&jam(), T0).unwrap().fault;
        store
            .record_disinfection("S-1", "alcohol_wipe", &["screen"], T0)
            .unwrap();
        store.replenish(Consumable::A4Paper, 10, "S-1", T0).unwrap();
        store.audit("S-1", "diagnostics.enter", "", T0).unwrap();
        store.close_fault(&fault.fault_id, None, None, T0).unwrap();
        let all = events(&store);
        assert!(all.windows(2).all(|w| w[0].seq < w[1].seq));
        assert!(
            all[1].seq > old[0].seq,
            "new events queue after the old one"
        );
        // old + opened + disinfection and audit + replenish and audit + audit + cleared
        assert_eq!(all.len(), 1 + 1 + 2 + 2 + 1 + 1);
    }
}
