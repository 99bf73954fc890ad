//! The card writer in citizen journeys (issue 5), through the real UI against the CRT-591
//! simulator on a pty: a certificate issued onto a blank card and taken; a card not taken in
//! time captured to the bin and recorded; the stack running empty making the item unavailable
//! with the reason on the home screen; a residence permit endorsed (rewritten) and one that is
//! not the citizen's refused untouched.

mod support;

use kiosk::demo::JourneyWalker;
use kiosk::ui::driver::tap;
use kiosk_core::config::KioskConfig;
use kiosk_core::text::Language;
use kiosk_drivers::cardwriter::{CardLayout, CardRecord, RecordDate, RecordKey, SimCard};
use kiosk_protocol::wire::SupplyLevel;
use slint::{ComponentHandle, Model};
use support::staff::{tile_available, wait_until};
use support::{TestKiosk, start_kiosk_with};

const ISSUE_ITEM: &str = "certificate-to-card";
const REWRITE_ITEM: &str = "residence-permit-endorsement";

/// The demo configuration with a short take-away time. The endorsement's face check runs with
/// the demo's simulated camera (the card holder in front of it).
fn start(name: &str) -> TestKiosk {
    start_kiosk_with(name, |c: &mut KioskConfig| {
        if let Some(cw) = c.devices.card_writer.as_mut() {
            cw.take_timeout_s = Some(5);
        }
    })
}

/// Whether the controller offers the item now (the home screen shows hot items only).
fn offered(kiosk: &TestKiosk, code: &str) -> bool {
    let rt = kiosk.ui.runtime.borrow();
    let presence = rt.controller.presence();
    rt.controller
        .catalogue()
        .availability(&presence)
        .into_iter()
        .any(|a| a.code == code && a.available)
}

fn key(kiosk: &TestKiosk) -> RecordKey {
    RecordKey::load(kiosk.rig.card_key_file.as_ref().unwrap()).unwrap()
}

fn record_on(card: &SimCard, key: &RecordKey) -> CardRecord {
    let bytes = card.record_area(&CardLayout::default());
    let len = CardRecord::encoded_len(&bytes).expect("a record on the card");
    CardRecord::decode_verified(&bytes[..len], key).expect("a valid record")
}

fn audit(kiosk: &TestKiosk, action: &str) -> Vec<String> {
    kiosk
        .ui
        .runtime
        .borrow()
        .store()
        .recent_audit(100)
        .unwrap()
        .into_iter()
        .filter(|a| a.action == action)
        .map(|a| a.detail)
        .collect()
}

#[test]
fn a_certificate_card_is_issued_taken_or_captured_and_an_empty_stack_stops_the_item() {
    let kiosk = start("card-issue");
    let ui = &kiosk.ui;
    let sim = kiosk
        .rig
        .card_writer
        .as_ref()
        .expect("card writer simulator");
    wait_until(ui, "card item available", 20, |_| {
        offered(&kiosk, ISSUE_ITEM)
    });
    let walker = JourneyWalker::new(ui, &kiosk.rig, None);

    // Issued and taken: the card holds the certificate record, masked holder, this kiosk.
    let stack = sim.stack_count();
    let record = walker.walk(ISSUE_ITEM, Language::Zh, false);
    assert_eq!(record.outcome, "completed", "{record:?}");
    assert!(record.screens.iter().any(|s| s == "processing"));
    assert_eq!(sim.stack_count(), stack - 1);
    let taken = sim.taken_cards();
    assert_eq!(taken.len(), 1);
    let on_card = record_on(&taken[0], &key(&kiosk));
    assert_eq!(on_card.item_id, ISSUE_ITEM);
    assert_eq!(on_card.holder_ref, "110101********0011");
    assert_eq!(on_card.kiosk_id, "KSK-DEMO-0001");
    assert!(on_card.valid_until > on_card.valid_from);

    // Not taken within the time: captured to the bin, the citizen told, the transaction noted.
    sim.set_auto_take(None);
    let record = walker.walk(ISSUE_ITEM, Language::Zh, false);
    assert!(record.outcome.contains("已回收"), "{}", record.outcome);
    assert_eq!(sim.bin_cards().len(), 1);
    assert_eq!(sim.taken_cards().len(), 1, "nobody took the second card");
    let captured = audit(&kiosk, "card.captured");
    assert_eq!(captured.len(), 1, "{captured:?}");
    assert!(captured[0].contains("not taken"), "{captured:?}");
    assert!(
        ui.runtime
            .borrow()
            .wait_for_outbox_drained(std::time::Duration::from_secs(20))
    );
    sim.set_auto_take(Some(std::time::Duration::from_millis(500)));

    // Stock runs low: a consumable warning; runs out: the item is unavailable and says why.
    sim.set_stack(3);
    wait_until(ui, "stock low recorded", 15, |_| {
        kiosk
            .ui
            .runtime
            .borrow()
            .store()
            .consumable_level(kiosk_protocol::wire::Consumable::CardStock)
            .is_ok_and(|l| l.sensor_level == Some(SupplyLevel::Low))
    });
    assert!(offered(&kiosk, ISSUE_ITEM), "low stock still issues");
    sim.set_stack(0);
    wait_until(ui, "item unavailable", 15, |_| !offered(&kiosk, ISSUE_ITEM));
    tap(&ui.window, "dept-jtj").unwrap();
    ui.pump();
    assert!(!tile_available(ui, ISSUE_ITEM));
    let k = ui.window.global::<kiosk::Kiosk>();
    let reason = k
        .get_items()
        .iter()
        .find(|t| t.code == ISSUE_ITEM)
        .map(|t| t.reason.to_string())
        .unwrap();
    assert!(reason.contains("空白卡已用完"), "{reason}");
    sim.set_stack(20);
    wait_until(ui, "item back", 15, |ui| tile_available(ui, ISSUE_ITEM));
    assert!(offered(&kiosk, ISSUE_ITEM));
}

#[test]
fn a_residence_permit_is_endorsed_and_someone_elses_card_is_returned_untouched() {
    let kiosk = start("card-rewrite");
    let ui = &kiosk.ui;
    let sim = kiosk
        .rig
        .card_writer
        .as_ref()
        .expect("card writer simulator");
    wait_until(ui, "rewrite item available", 20, |_| {
        offered(&kiosk, REWRITE_ITEM)
    });
    let walker = JourneyWalker::new(ui, &kiosk.rig, None);
    let key = key(&kiosk);

    // The citizen inserts last year's permit (the walker does, when the screen asks).
    let record = walker.walk(REWRITE_ITEM, Language::Zh, false);
    assert_eq!(record.outcome, "completed", "{record:?}");
    let taken = sim.taken_cards();
    assert_eq!(taken.len(), 1, "the permit is handed back");
    let endorsed = record_on(&taken[0], &key);
    assert_eq!(endorsed.item_id, REWRITE_ITEM);
    assert_eq!(endorsed.holder_ref, "110101********0011");
    assert!(
        endorsed.valid_until > RecordDate::new(2026, 1, 1).unwrap(),
        "validity extended: {endorsed:?}"
    );
    assert_eq!(sim.stack_count(), 30, "a rewrite takes no blank card");

    // Someone else's permit: read, refused, handed back unchanged.
    let other = CardRecord {
        item_id: REWRITE_ITEM.into(),
        holder_ref: "310101********1234".into(),
        valid_from: RecordDate::new(2024, 11, 22).unwrap(),
        valid_until: RecordDate::new(2025, 11, 21).unwrap(),
        kiosk_id: "KSK-OTHER".into(),
    };
    let card = SimCard::blank([1, 2, 3, 4])
        .with_record_area(&CardLayout::default(), &other.encode(&key).unwrap());
    sim.insert_card(card);
    let record = walker.walk(REWRITE_ITEM, Language::Zh, false);
    assert!(record.outcome.contains("不是您本人"), "{}", record.outcome);
    let taken = sim.taken_cards();
    assert_eq!(taken.len(), 2);
    assert_eq!(record_on(&taken[1], &key), other, "returned untouched");
}

#[test]
fn staff_run_the_card_writer_cycle_and_reset_it_from_diagnostics() {
    let kiosk = start("card-diag");
    let ui = &kiosk.ui;
    let sim = kiosk
        .rig
        .card_writer
        .as_ref()
        .expect("card writer simulator");
    wait_until(ui, "card writer online", 20, |_| {
        offered(&kiosk, ISSUE_ITEM)
    });
    let (stack, bin) = (sim.stack_count(), sim.bin_cards().len());
    support::staff::enter(ui);
    tap(&ui.window, "diag-self-test:card_writer").unwrap();
    wait_until(ui, "card writer self-test", 30, |ui| {
        support::staff::diag(ui).get_message().contains("自检通过")
    });
    assert_eq!(sim.stack_count(), stack - 1);
    assert_eq!(
        sim.bin_cards().len(),
        bin + 1,
        "the test card is captured, never handed out"
    );
    assert!(sim.taken_cards().is_empty());
    let test_card = record_on(&sim.bin_cards()[bin], &key(&kiosk));
    assert_eq!(test_card.item_id, "self-test");
    // The device row counts the card used.
    wait_until(ui, "counter shown", 10, |ui| {
        let d = support::staff::diag(ui);
        d.get_rows()
            .iter()
            .any(|r| r.detail.contains("累计用卡 1 张"))
    });
    let shots =
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/diagnostics-shots");
    std::fs::create_dir_all(&shots).unwrap();
    kiosk::ui::driver::screenshot(&ui.window, &shots.join("15-card-writer-self-test.png")).unwrap();

    tap(&ui.window, "diag-reset:card_writer").unwrap();
    ui.pump();
    assert!(support::staff::diag(ui).get_message().contains("已复位"));
    let resets = audit(&kiosk, "device.reset");
    assert_eq!(resets, vec!["card_writer".to_string()]);
    wait_until(ui, "online after reset", 20, |_| {
        offered(&kiosk, ISSUE_ITEM)
    });
}
