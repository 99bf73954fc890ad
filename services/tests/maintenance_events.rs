//! Fault, disinfection, consumable and audit events written by the store reach the real central
//! service over HTTP exactly once, payloads intact, even when the first acknowledgement is lost.

mod support;

use std::collections::BTreeMap;
use std::sync::Arc;

use kiosk_protocol::SealingKey;
use kiosk_protocol::wire::{Consumable, EventKind, FaultSeverity, SupplyLevel};
use kiosk_services::KioskStore;
use kiosk_services::store::FaultReport;
use kiosk_services::sync::{OutboxDrainer, SyncProblem};
use rusqlite::Connection;
use support::central::{any_port, central_db, kiosk_client, start_central, stored_event_count};
use support::fault_proxy::FaultProxy;
use support::{ScratchDir, eventually};
use time::macros::datetime;

/// (kind, payload) of every event the centre stored, by idempotency key. Read from the centre's
/// database: it has no listing endpoint for these kinds yet.
fn centre_events(dir: &ScratchDir) -> BTreeMap<String, (String, serde_json::Value)> {
    let conn = Connection::open(central_db(dir)).unwrap();
    let mut statement = conn
        .prepare("SELECT idempotency_key, kind, payload FROM received_events")
        .unwrap();
    statement
        .query_map([], |row| {
            let payload: String = row.get(2)?;
            Ok((
                row.get::<_, String>(0)?,
                (row.get(1)?, serde_json::from_str(&payload).unwrap()),
            ))
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[test]
fn every_upkeep_event_kind_is_accepted_by_the_centre_exactly_once() {
    let dir = ScratchDir::new("upkeep-events");
    let central = start_central(&dir, any_port());
    let proxy = FaultProxy::start(Some(central.addr()));
    let store = Arc::new(KioskStore::open(&dir.path("kiosk.db"), SealingKey::generate()).unwrap());
    let t0 = datetime!(2026-11-21 10:00:00 UTC);

    let jam = FaultReport::automatic(
        "receipt_printer",
        "paper_jam",
        FaultSeverity::Major,
        "receipt printer jammed",
    );
    let fault = store.open_fault(&jam, t0).unwrap().fault;
    let mut worse = jam.clone();
    worse.severity = FaultSeverity::Critical;
    store.open_fault(&worse, t0).unwrap();
    store
        .close_fault(&fault.fault_id, Some("jam cleared"), Some("S-007"), t0)
        .unwrap();
    store
        .record_disinfection(
            "S-007",
            "alcohol_wipe",
            &["screen", "card_reader", "keypad", "printer_outlet"],
            t0,
        )
        .unwrap();
    store
        .replenish(Consumable::ReceiptPaper, 1000, "S-007", t0)
        .unwrap();
    store
        .set_sensor_level(Consumable::ReceiptPaper, SupplyLevel::Low, t0)
        .unwrap();
    store
        .audit("S-007", "diagnostics.leave", "left by the exit button", t0)
        .unwrap();

    let kiosk_events = store.pending_batch(100).unwrap();
    let mut kinds: Vec<EventKind> = kiosk_events.iter().map(|e| e.kind).collect();
    kinds.sort_by_key(|k| k.as_str());
    kinds.dedup();
    assert_eq!(
        kinds.len(),
        6,
        "fault opened/updated/cleared, disinfection, consumable, audit: {kinds:?}"
    );

    // The first acknowledgement is lost after the centre committed; the resend is deduplicated.
    proxy.drop_next_responses(1);
    let mut drainer = OutboxDrainer::new(kiosk_client(&proxy.url()), 100);
    let failure = drainer.drain(&store).unwrap_err();
    assert_eq!(failure.problem, SyncProblem::CentreUnreachable);
    let report = drainer.drain(&store).unwrap();
    assert_eq!(report.synced as usize, kiosk_events.len());
    assert_eq!(report.dead_lettered, 0);
    assert!(eventually(std::time::Duration::from_secs(5), || store
        .outbox_depth()
        .unwrap()
        == 0));
    assert_eq!(store.dead_letter_count().unwrap(), 0);

    assert_eq!(
        stored_event_count(&central_db(&dir)),
        kiosk_events.len() as u64
    );
    let at_centre = centre_events(&dir);
    assert_eq!(at_centre.len(), kiosk_events.len());
    for event in &kiosk_events {
        let (kind, payload) = &at_centre[&event.idempotency_key.to_string()];
        assert_eq!(kind, event.kind.as_str());
        assert_eq!(payload, &event.payload, "{kind} payload arrives intact");
    }
    central.shutdown();
}
