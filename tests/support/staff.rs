//! Staff helpers for the end-to-end tests: entering diagnostics mode with the demo PIN, waiting
//! on the UI, reading tiles and open faults.

use super::TestKiosk;
use kiosk::ui::KioskUi;
use kiosk::ui::driver::tap;
use slint::{ComponentHandle, Model};
use std::time::{Duration, Instant};

/// The demo configuration's staff PIN (staff W0001).
pub const DEMO_PIN: &str = "246810";

pub fn diag(ui: &KioskUi) -> kiosk::Diag<'_> {
    ui.window.global::<kiosk::Diag>()
}

pub fn page(ui: &KioskUi) -> String {
    ui.window.global::<kiosk::Kiosk>().get_page().to_string()
}

pub fn open_pin_screen(ui: &KioskUi) {
    for _ in 0..5 {
        tap(&ui.window, "staff-entry").unwrap();
    }
    ui.pump();
    assert_eq!(page(ui), "diag");
    assert_eq!(diag(ui).get_staff_id(), "");
}

pub fn type_pin(ui: &KioskUi, pin: &str) {
    for d in pin.chars() {
        tap(&ui.window, &format!("pin-key-{d}")).unwrap();
    }
    tap(&ui.window, "pin-ok").unwrap();
    ui.pump();
}

pub fn enter(ui: &KioskUi) {
    open_pin_screen(ui);
    type_pin(ui, DEMO_PIN);
    assert_eq!(
        diag(ui).get_staff_id(),
        "W0001",
        "{}",
        diag(ui).get_message()
    );
}

pub fn wait_until(ui: &KioskUi, what: &str, secs: u64, mut done: impl FnMut(&KioskUi) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !done(ui) {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        ui.pump();
        std::thread::sleep(Duration::from_millis(30));
    }
}

/// Waits until the item's tile is available; a timeout says why it was not (the tile's reason,
/// the device states and the kiosk's recent log), so a failure on CI can be read.
pub fn wait_for_item(ui: &KioskUi, code: &str, secs: u64) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while let Some(why) = ui.why_unavailable(code) {
        assert!(
            Instant::now() < deadline,
            "{why}\nafter {secs} s; recent log:\n{}",
            kiosk::app::recent_log::recent_lines(60).join("\n")
        );
        ui.pump();
        std::thread::sleep(Duration::from_millis(30));
    }
}

pub fn tile_available(ui: &KioskUi, code: &str) -> bool {
    let k = ui.window.global::<kiosk::Kiosk>();
    k.get_items()
        .iter()
        .find(|t| t.code == code)
        .map(|t| t.available)
        .unwrap()
}

pub fn open_faults(kiosk: &TestKiosk) -> Vec<(String, String)> {
    let rt = kiosk.ui.runtime.borrow();
    rt.store()
        .open_faults()
        .unwrap()
        .into_iter()
        .map(|f| (f.device, f.code))
        .collect()
}

/// On the reprint page, types the date and number digits of transaction `id`
/// (`KSK-…-YYYYMMDD-NNNNNN`), as staff read them off the citizen's screen or receipt.
pub fn type_transaction_number(ui: &KioskUi, id: &str) {
    tap(&ui.window, "diag-page-reprint").unwrap();
    ui.pump();
    let digits: String = id.chars().filter(char::is_ascii_digit).collect();
    for d in digits[digits.len() - 14..].chars() {
        tap(&ui.window, &format!("diag-key-{d}")).unwrap();
    }
    ui.pump();
}
