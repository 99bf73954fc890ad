//! Every card the reader meets, through the real UI: a HK/Macao/Taiwan residence permit is
//! accepted where the catalogue allows it and refused with a reason where it does not; an expired
//! card is refused with the reason on screen.

mod support;

use kiosk::ui::driver::tap;
use kiosk_drivers::idcard::TestCard;
use slint::ComponentHandle;
use std::time::{Duration, Instant};
use support::{config_dir, start_kiosk};

fn card(name: &str) -> TestCard {
    TestCard::load(config_dir().join("cards").join(name)).unwrap()
}

/// Opens an item, puts `card` on the reader, and waits until the identify step is left or fails.
fn identify_with(kiosk: &support::TestKiosk, item: &str, card: &TestCard) -> (String, String) {
    let ui = &kiosk.ui;
    let k = ui.window.global::<kiosk::Kiosk>();
    if !kiosk::ui::driver::is_shown(&ui.window, &format!("item-{item}")) {
        let dept = ui
            .runtime
            .borrow()
            .controller
            .catalogue()
            .item(item)
            .unwrap()
            .department
            .clone();
        tap(&ui.window, &format!("dept-{dept}")).unwrap();
    }
    tap(&ui.window, &format!("item-{item}")).unwrap();
    let sim = kiosk.rig.card_reader.as_ref().unwrap();
    sim.remove_card();
    sim.place_card(card).unwrap();
    tap(&ui.window, "btn-begin").unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while k.get_page() == "identify" && !k.get_is_error() {
        assert!(Instant::now() < deadline, "the card was never read");
        ui.pump();
        std::thread::sleep(Duration::from_millis(20));
    }
    (
        k.get_page().to_string(),
        format!("{} {}", k.get_headline(), k.get_detail()),
    )
}

#[test]
fn residence_permit_is_accepted_where_allowed_and_refused_where_not() {
    let kiosk = start_kiosk("permit");
    let permit = card("demo-hk-permit.toml");
    let (page, _) = identify_with(&kiosk, "gjj-withdrawal", &permit);
    assert_eq!(page, "consent");
    tap(&kiosk.ui.window, "btn-cancel").unwrap();
    kiosk.ui.pump();

    let (page, said) = identify_with(&kiosk, "exit-entry-progress", &permit);
    assert_eq!(page, "identify", "{said}");
    assert!(said.contains("居住证") || said.contains("不"), "{said}");
    assert!(
        !said.contains(&permit.id_number) && !said.contains(&permit.name),
        "{said}"
    );
}

#[test]
fn an_expired_card_is_refused_with_the_reason() {
    let kiosk = start_kiosk("expired");
    let mut expired = card("demo-resident.toml");
    expired.valid_from = "20000101".into();
    expired.valid_to = "20200101".into();
    let (page, said) = identify_with(&kiosk, "gjj-withdrawal", &expired);
    assert_eq!(page, "identify");
    assert!(said.contains("过期") || said.contains("有效期"), "{said}");
    assert!(
        kiosk
            .ui
            .runtime
            .borrow()
            .controller
            .screen()
            .session
            .unwrap()
            .applicant
            .is_none()
    );
}

#[test]
fn an_unplugged_reader_raises_a_fault_and_comes_back_by_itself() {
    let mut kiosk = start_kiosk("replug");
    let item = "gjj-withdrawal";
    let store = std::sync::Arc::clone(kiosk.ui.runtime.borrow().store());
    let usable = |kiosk: &support::TestKiosk| {
        kiosk
            .ui
            .runtime
            .borrow()
            .controller
            .presence()
            .is_usable(kiosk_core::device::DeviceClass::IdCardReader)
    };
    let reader_faults = || {
        store
            .open_faults()
            .unwrap()
            .into_iter()
            .filter(|f| f.device == "id_card_reader")
            .count()
    };
    assert!(usable(&kiosk));
    kiosk.rig.card_reader.as_mut().unwrap().unplug();

    // Noticed while idle: status goes bad, and after the fault delay a fault is opened.
    let deadline = Instant::now() + Duration::from_secs(10);
    while usable(&kiosk) {
        assert!(Instant::now() < deadline, "unplug never noticed");
        kiosk.ui.pump();
        std::thread::sleep(Duration::from_millis(50));
    }
    kiosk.ui.pump();
    assert_eq!(reader_faults(), 0, "no fault before the fault delay");
    kiosk
        .ui
        .runtime
        .borrow()
        .controller
        .clock()
        .skip(Duration::from_secs(10));
    kiosk.ui.pump();
    assert_eq!(reader_faults(), 1, "one fault for the unplugged reader");
    use slint::Model;
    let k = kiosk.ui.window.global::<kiosk::Kiosk>();
    let tile = k.get_items().iter().find(|t| t.code == item).unwrap();
    assert!(!tile.available && !tile.reason.is_empty());

    // Plugged back in: reading resumes within seconds without anyone touching the kiosk.
    kiosk.rig.card_reader.as_mut().unwrap().replug().unwrap();
    let back = Instant::now();
    while !usable(&kiosk) {
        assert!(
            back.elapsed() < Duration::from_secs(15),
            "reader not back within 15 s"
        );
        kiosk.ui.pump();
        std::thread::sleep(Duration::from_millis(50));
    }
    kiosk.ui.pump();
    assert_eq!(
        reader_faults(),
        0,
        "the fault closes when the reader is back"
    );
    let (page, said) = identify_with(&kiosk, item, &card("demo-resident.toml"));
    assert_eq!(page, "consent", "{said}");
}

#[test]
fn a_missing_photo_decoder_is_reported_and_the_kiosk_still_serves() {
    let kiosk = support::start_kiosk_with("nodecoder", |config| {
        let reader = config.devices.id_card_reader.as_mut().unwrap();
        reader.photo_decoder = Some("/nonexistent/libwlt.so".into());
        // Without the demo camera, whose simulated photos come with a decoder of their own.
        config.devices.camera = None;
    });
    let runtime = kiosk.ui.runtime.borrow();
    let reason = runtime
        .photo_decoder()
        .err()
        .expect("no decoder")
        .to_string();
    assert!(reason.contains("libwlt.so"), "{reason}");
    drop(runtime);
    let (page, said) = identify_with(&kiosk, "gjj-withdrawal", &card("demo-resident.toml"));
    assert_eq!(page, "consent", "{said}");
}
