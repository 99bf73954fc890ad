//! Whole citizen journeys through the real UI (Slint testing backend, software renderer), tapping
//! by accessible id, against the real drivers on simulated devices, the SQLite store and the
//! embedded central service over HTTP.

mod support;

use kiosk::demo::JourneyWalker;
use kiosk::ui::driver::tap;
use kiosk_core::text::Language;
use slint::ComponentHandle;
use std::time::Duration;
use support::{contains, database_bytes, start_kiosk, visible_text};

const ITEM: &str = "gjj-withdrawal";

#[test]
fn a_journey_prints_a_receipt_and_reaches_the_centre_once() {
    let kiosk = start_kiosk("journey");
    // Over HTTPS, trusting only the demo CA, as a kiosk in the field trusts the government CA.
    assert!(kiosk.rig.config.central.url.starts_with("https://"));
    assert!(kiosk.rig.config.central.ca_file.is_some());
    let shots = kiosk.dir.join("shots");
    std::fs::create_dir_all(&shots).unwrap();
    let walker = JourneyWalker::new(&kiosk.ui, &kiosk.rig, Some(shots.clone()));
    let record = walker.walk(ITEM, Language::Zh, false);
    assert_eq!(record.outcome, "completed", "{record:?}");
    for page in [
        "home", "guide", "identify", "consent", "form", "confirm", "receipt", "rate", "goodbye",
    ] {
        assert!(
            record.screens.iter().any(|s| s == page),
            "page {page} not visited: {:?}",
            record.screens
        );
    }
    let id = record.transaction_id.clone().expect("transaction id shown");
    assert!(id.starts_with("KSK-DEMO-0001-"), "{id}");

    // The printer simulator received one receipt with the transaction and the masked applicant.
    let printer = kiosk.rig.printer.as_ref().unwrap();
    let receipts = printer.wait_for_receipts(1, Duration::from_secs(5));
    assert_eq!(receipts.len(), 1);
    let receipt = &receipts[0].text;
    assert!(receipt.contains(&id), "{receipt}");
    assert!(receipt.contains("住房公积金"), "{receipt}");
    assert!(receipt.contains("测*"), "masked name expected: {receipt}");
    assert!(receipt.contains("110101********0011"), "{receipt}");
    assert!(!receipt.contains(&kiosk.rig.test_card.id_number));
    assert!(!receipt.contains(&kiosk.rig.test_card.name));

    // The centre stored the transaction once, masked, with the rating.
    assert!(record.centre_acknowledged);
    let listing = kiosk.rig.central_transactions().unwrap();
    let rows: Vec<_> = listing.iter().filter(|t| t.transaction_id == id).collect();
    assert_eq!(rows.len(), 1, "{listing:?}");
    assert_eq!(rows[0].item_code, ITEM);
    assert_eq!(
        rows[0].masked_id_number.as_deref(),
        Some("110101********0011")
    );
    assert_eq!(rows[0].rating, Some(5));

    // Screenshots of every screen were written.
    assert!(record.screenshots.len() >= 8, "{:?}", record.screenshots);
    for file in &record.screenshots {
        let size = std::fs::metadata(shots.join(file)).unwrap().len();
        assert!(size > 10_000, "{file} looks empty ({size} bytes)");
    }

    // Neither the kiosk store nor the centre's database holds the name or ID number in plain.
    let store = database_bytes(&kiosk.dir.join("kiosk.sqlite"));
    let central = database_bytes(&kiosk.dir.join("central.sqlite"));
    assert!(!store.is_empty() && !central.is_empty());
    for bytes in [&store, &central] {
        assert!(!contains(bytes, kiosk.rig.test_card.id_number.as_bytes()));
        assert!(!contains(bytes, kiosk.rig.test_card.name.as_bytes()));
        assert!(!contains(bytes, "东城区测试街道".as_bytes()));
    }
}

#[test]
fn idle_timeout_wipes_the_session_from_screen_and_memory() {
    let kiosk = start_kiosk("idle");
    let ui = &kiosk.ui;
    tap(&ui.window, &format!("item-{ITEM}")).unwrap();
    kiosk.rig.present_card_again();
    tap(&ui.window, "btn-begin").unwrap();
    // Wait for the card to be read, then agree: the form shows the masked applicant later.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while ui.window.global::<kiosk::Kiosk>().get_page() != "consent" {
        assert!(std::time::Instant::now() < deadline, "card not read");
        ui.pump();
        std::thread::sleep(Duration::from_millis(20));
    }
    tap(&ui.window, "btn-consent-agree").unwrap();
    ui.pump();
    assert_eq!(ui.window.global::<kiosk::Kiosk>().get_page(), "form");
    assert!(ui.runtime.borrow().controller.session().is_some());

    // The countdown warns before the end…
    let step_s = ui
        .runtime
        .borrow()
        .controller
        .screen()
        .session
        .unwrap()
        .seconds_left
        .unwrap();
    ui.runtime
        .borrow()
        .controller
        .clock()
        .skip(Duration::from_secs(u64::from(step_s) - 5));
    ui.pump();
    let k = ui.window.global::<kiosk::Kiosk>();
    assert!(k.get_warning(), "warning expected 5 s before the timeout");
    assert!(k.get_countdown_visible());

    // …and then the kiosk goes home with nothing personal left.
    ui.runtime
        .borrow()
        .controller
        .clock()
        .skip(Duration::from_secs(10));
    ui.pump();
    assert_eq!(k.get_page(), "home");
    assert!(ui.runtime.borrow().controller.session().is_none());
    let shown = visible_text(ui);
    let card = &kiosk.rig.test_card;
    assert!(!shown.contains(&card.name) && !shown.contains(&card.id_number));
    assert!(
        !shown.contains("测*") && !shown.contains("110101****"),
        "{shown}"
    );
    let state = format!("{:?}", ui.runtime.borrow().controller.screen());
    assert!(
        !state.contains(&card.name) && !state.contains(&card.id_number) && !state.contains("测*")
    );
}

#[test]
fn cancel_is_one_tap_away_and_records_an_abandoned_session() {
    let kiosk = start_kiosk("cancel");
    let ui = &kiosk.ui;
    tap(&ui.window, &format!("item-{ITEM}")).unwrap();
    tap(&ui.window, "btn-begin").unwrap();
    ui.pump();
    assert_eq!(ui.window.global::<kiosk::Kiosk>().get_page(), "identify");
    tap(&ui.window, "btn-cancel").unwrap();
    ui.pump();
    assert_eq!(ui.window.global::<kiosk::Kiosk>().get_page(), "home");
    assert!(
        ui.runtime
            .borrow()
            .wait_for_outbox_drained(Duration::from_secs(10))
    );
}

#[test]
fn language_and_elder_mode_switch_on_every_screen() {
    let kiosk = start_kiosk("lang");
    let ui = &kiosk.ui;
    let settings = ui.window.global::<kiosk::Settings>();
    tap(&ui.window, "btn-lang").unwrap();
    assert!(settings.get_english());
    let tiles = ui.window.global::<kiosk::Kiosk>().get_items();
    use slint::Model;
    let names: Vec<String> = tiles.iter().map(|t| t.name.to_string()).collect();
    assert!(names.iter().any(|n| n.contains("Housing")), "{names:?}");
    tap(&ui.window, &format!("item-{ITEM}")).unwrap();
    tap(&ui.window, "btn-elder").unwrap();
    assert!(settings.get_elder());
    assert!(settings.get_body_size() >= 36.0);
    assert!(settings.get_target() >= 96.0);
    tap(&ui.window, "btn-lang").unwrap();
    assert!(!settings.get_english());
    tap(&ui.window, "btn-home").unwrap();
    ui.pump();
    // A finished session resets the kiosk for the next citizen.
    assert!(!settings.get_elder());
}

#[test]
fn paper_out_mid_journey_keeps_the_transaction_and_makes_the_item_unavailable() {
    use kiosk_drivers::escpos::PaperSupply;
    let kiosk = start_kiosk("paper");
    let ui = &kiosk.ui;
    let k = ui.window.global::<kiosk::Kiosk>();
    let printer = kiosk.rig.printer.as_ref().unwrap();
    tap(&ui.window, &format!("item-{ITEM}")).unwrap();
    kiosk.rig.present_card_again();
    tap(&ui.window, "btn-begin").unwrap();
    let wait_for = |page: &str| {
        let deadline = std::time::Instant::now() + Duration::from_secs(15);
        while k.get_page() != page {
            assert!(
                std::time::Instant::now() < deadline,
                "never reached {page}, at {}",
                k.get_page()
            );
            ui.pump();
            std::thread::sleep(Duration::from_millis(20));
        }
    };
    wait_for("consent");
    tap(&ui.window, "btn-consent-agree").unwrap();
    ui.pump();
    tap(&ui.window, "field-reason").unwrap();
    tap(&ui.window, "choice-reason-0").unwrap();
    for (field, digits) in [
        ("amount", "500"),
        ("bank_card", "6222020200112233"),
        ("phone", "13912345678"),
    ] {
        kiosk::ui::driver::tap_in_list(&ui.window, &format!("field-{field}"), "field-").unwrap();
        for d in digits.chars() {
            tap(&ui.window, &format!("key-{d}")).unwrap();
        }
    }
    tap(&ui.window, "btn-form-next").unwrap();
    ui.pump();
    assert_eq!(k.get_page(), "confirm");

    // The roll runs out just as the citizen confirms.
    printer.set_paper(PaperSupply::Out);
    tap(&ui.window, "btn-confirm").unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    while !k.get_is_error() {
        assert!(
            std::time::Instant::now() < deadline,
            "no failure shown, page {}",
            k.get_page()
        );
        ui.pump();
        std::thread::sleep(Duration::from_millis(20));
    }
    let id = k.get_transaction_id().to_string();
    assert!(
        !id.is_empty(),
        "the transaction number must be shown for a reprint"
    );
    let said = format!("{} {}", k.get_headline(), k.get_detail());
    assert!(said.contains("回执") || said.contains("打印"), "{said}");
    assert!(
        printer.receipts().is_empty(),
        "nothing may be printed without paper"
    );

    // The transaction is not lost: it reaches the centre.
    assert!(
        ui.runtime
            .borrow()
            .wait_for_outbox_drained(Duration::from_secs(20))
    );
    let listing = kiosk.rig.central_transactions().unwrap();
    assert_eq!(listing.iter().filter(|t| t.transaction_id == id).count(), 1);

    // Home: the item now says why it cannot be done; with paper back it can.
    tap(&ui.window, "btn-home").unwrap();
    ui.pump();
    if k.get_page() != "home" {
        tap(&ui.window, "btn-continue").ok();
        tap(&ui.window, "btn-skip-rating").ok();
        tap(&ui.window, "btn-finish").ok();
        ui.pump();
    }
    assert_eq!(k.get_page(), "home");
    use slint::Model;
    let tile = |code: &str| k.get_items().iter().find(|t| t.code == code).unwrap();
    assert!(!tile(ITEM).available);
    assert!(tile(ITEM).reason.contains("打印"), "{}", tile(ITEM).reason);
    assert!(tile(ITEM).reason.contains("缺纸"), "{}", tile(ITEM).reason);

    // The paper-out fault reaches the centre.
    support::staff::wait_until(ui, "paper fault opened", 20, |_| {
        !support::staff::open_faults(&kiosk).is_empty()
    });
    assert!(
        ui.runtime
            .borrow()
            .wait_for_outbox_drained(Duration::from_secs(20))
    );
    let central = rusqlite::Connection::open(kiosk.dir.join("central.sqlite")).unwrap();
    let faults: i64 = central
        .query_row(
            r#"SELECT COUNT(*) FROM received_events
               WHERE kind = 'fault_opened' AND payload LIKE '%"device":"receipt_printer"%'"#,
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(faults, 1, "one paper-out fault at the centre");

    printer.set_paper(PaperSupply::Ok);
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !tile(ITEM).available {
        assert!(
            std::time::Instant::now() < deadline,
            "item never became available again"
        );
        ui.pump();
        std::thread::sleep(Duration::from_millis(50));
    }

    // With paper back, staff reprint the citizen's receipt by its number: the same receipt,
    // headed as a reprint.
    support::staff::enter(ui);
    support::staff::type_transaction_number(ui, &id);
    tap(&ui.window, "diag-reprint").unwrap();
    let receipts = printer.wait_for_receipts(1, Duration::from_secs(10));
    assert_eq!(receipts.len(), 1);
    let reprint = &receipts[0].text;
    assert!(
        reprint.contains("补打") && reprint.contains(&id),
        "{reprint}"
    );
    assert!(reprint.contains("110101********0011"), "{reprint}");
    assert!(
        reprint.contains("租房提取") && reprint.contains("************2233"),
        "the same lines as the original: {reprint}"
    );
}

#[test]
fn closing_the_kiosk_stops_it_and_frees_its_devices() {
    use kiosk_drivers::idcard::{IdCardReader, ReaderTimeouts};
    let kiosk = start_kiosk("close");
    let reader_port = kiosk.dir.join("id-card-reader");
    let reader_port = reader_port.to_str().unwrap();
    // While the kiosk runs, its worker holds the reader exclusively.
    assert!(IdCardReader::open(reader_port, 115_200, ReaderTimeouts::default()).is_err());
    let runtime = std::rc::Rc::downgrade(&kiosk.ui.runtime);
    let support::TestKiosk { ui, rig, dir } = kiosk;
    // The window was shown; closing the UI must still stop the kiosk behind it.
    drop(ui);
    assert!(
        runtime.upgrade().is_none(),
        "the kiosk runtime outlived its UI"
    );
    // The reader is free for the next kiosk process (a restart after an update).
    IdCardReader::open(reader_port, 115_200, ReaderTimeouts::default())
        .expect("the reader is released when the kiosk closes");
    drop(rig);
    drop(dir);
}
