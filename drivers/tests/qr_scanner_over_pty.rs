//! The QR scanner driver against the GM65-style simulator over a real pseudo-terminal.

use std::time::{Duration, Instant};

use kiosk_drivers::qr::{QrError, QrScanner, QrScannerSimulator, ScanMode};
use kiosk_drivers::{Device, DeviceState, QrScannerDevice};

#[test]
fn triggered_scan_sends_trigger_and_returns_the_line() {
    let sim = QrScannerSimulator::spawn().expect("sim");
    let mut scanner = QrScanner::open(sim.path(), 9600, ScanMode::Triggered).expect("open");
    assert_eq!(
        scanner.scan(Duration::from_millis(300)).expect("scan"),
        None
    );
    sim.show_code("APPT:2024-000123");
    assert_eq!(
        scanner
            .scan(Duration::from_secs(1))
            .expect("scan")
            .as_deref(),
        Some("APPT:2024-000123")
    );
    assert_eq!(sim.triggers(), 2);
    sim.set_suffix(b"\r");
    sim.show_code("预约 B-7");
    assert_eq!(
        scanner
            .next_scan(Duration::from_secs(1))
            .expect("scan")
            .as_deref(),
        Some("预约 B-7")
    );
    assert_eq!(scanner.status().state, DeviceState::Online);
}

#[test]
fn continuous_mode_receives_codes_unasked() {
    let sim = QrScannerSimulator::spawn_continuous().expect("sim");
    let mut scanner = QrScanner::open(sim.path(), 9600, ScanMode::Continuous).expect("open");
    sim.show_code("EID:abc");
    sim.set_suffix(b"\n");
    sim.show_code("EID:def");
    assert_eq!(
        scanner
            .scan(Duration::from_secs(1))
            .expect("scan")
            .as_deref(),
        Some("EID:abc")
    );
    assert_eq!(
        scanner
            .scan(Duration::from_secs(1))
            .expect("scan")
            .as_deref(),
        Some("EID:def")
    );
    assert_eq!(sim.triggers(), 0);
    let start = Instant::now();
    assert_eq!(
        scanner.scan(Duration::from_millis(200)).expect("scan"),
        None
    );
    assert!(start.elapsed() >= Duration::from_millis(190));
}

#[test]
fn garbage_and_overlong_lines_then_recovery() {
    let sim = QrScannerSimulator::spawn_continuous().expect("sim");
    let mut scanner = QrScanner::open(sim.path(), 9600, ScanMode::Continuous).expect("open");
    sim.send_raw(&vec![b'z'; 5000]);
    sim.send_raw(b"\r\n");
    assert_eq!(
        scanner.scan(Duration::from_secs(1)),
        Err(QrError::LineTooLong { limit: 4096 })
    );
    sim.send_raw(&[0x02, 0x41, 0x42]);
    sim.show_code("OK-1");
    assert_eq!(
        scanner
            .scan(Duration::from_secs(1))
            .expect("scan")
            .as_deref(),
        Some("\u{2}ABOK-1")
    );
}

#[test]
fn missing_ack_is_a_typed_error() {
    let sim = QrScannerSimulator::spawn().expect("sim");
    let mut scanner = QrScanner::open(sim.path(), 9600, ScanMode::Triggered).expect("open");
    sim.set_mute_acks(true);
    let error = scanner
        .scan(Duration::from_millis(300))
        .expect_err("no ack");
    assert_eq!(error, QrError::NoAck { command: "trigger" });
    assert!(error.is_device_fault());
    assert_eq!(scanner.status().state, DeviceState::Offline);
    sim.set_mute_acks(false);
    assert_eq!(scanner.status().state, DeviceState::Online);
}

#[test]
fn unplugged_scanner_is_disconnected_and_a_new_one_can_be_opened() {
    let mut sim = QrScannerSimulator::spawn().expect("sim");
    let mut scanner = QrScanner::open(sim.path(), 9600, ScanMode::Triggered).expect("open");
    sim.unplug();
    assert!(matches!(
        scanner.scan(Duration::from_millis(300)),
        Err(QrError::Disconnected(_))
    ));
    assert_eq!(scanner.status().state, DeviceState::NoDevice);
    let sim2 = QrScannerSimulator::spawn().expect("sim");
    scanner.reconnect_at(sim2.path()).expect("reconnect");
    sim2.show_code("X");
    assert_eq!(
        scanner
            .scan(Duration::from_secs(1))
            .expect("scan")
            .as_deref(),
        Some("X")
    );
}
