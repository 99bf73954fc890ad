//! The ESC/POS driver against the printer simulator over TCP (a network printer's port 9100),
//! the paper counter, and the simulator writing each receipt as a PNG.

use std::path::PathBuf;
use std::time::Duration;

use kiosk_drivers::escpos::{
    Align, Cut, PaperSupply, PrinterError, QrOptions, ReceiptBuilder, ReceiptPrinter,
    ReceiptPrinterSimulator, StatusQuery, TransportKind,
};
use kiosk_drivers::{Device, DeviceState, PaperLevel};

const TIMEOUT: Duration = Duration::from_secs(2);

fn receipt(number: u32) -> kiosk_drivers::escpos::EncodedReceipt {
    ReceiptBuilder::new()
        .align(Align::Center)
        .size(2, 2)
        .line("办理回执")
        .normal_size()
        .align(Align::Left)
        .line(&format!("受理编号：SB-2025-{number:04}"))
        .qr(
            &format!("https://gov.example.invalid/track/{number}"),
            QrOptions::default(),
        )
        .expect("qr")
        .feed(2)
        .cut(Cut::Partial)
        .build()
}

fn temp_dir(name: &str) -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_nanos();
    std::env::temp_dir().join(format!("kiosk-{name}-{}-{nanos}", std::process::id()))
}

#[test]
fn driver_prints_and_reads_status_over_tcp() {
    let sim = ReceiptPrinterSimulator::spawn_tcp("127.0.0.1:0").expect("tcp simulator");
    let address = sim.tcp_address().expect("listening");
    assert_eq!(sim.path(), format!("tcp://{address}"));
    let mut printer = ReceiptPrinter::connect_tcp(&address.to_string(), TIMEOUT).expect("connect");
    assert_eq!(printer.transport(), TransportKind::Tcp);
    assert_eq!(printer.path(), sim.path());
    assert_eq!(printer.status().state, DeviceState::Online);

    let first = receipt(1);
    printer.print_receipt(&first).expect("printed");
    let received = sim.wait_for_receipts(1, TIMEOUT);
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].text, "办理回执\n受理编号：SB-2025-0001");
    assert_eq!(
        received[0].qr_codes,
        vec!["https://gov.example.invalid/track/1"]
    );
    assert_eq!(received[0].raw, first.as_bytes());

    // DLE EOT is answered in the middle of a receipt, over the socket too.
    let second = receipt(2);
    let (a, b) = second.as_bytes().split_at(second.as_bytes().len() / 2);
    printer.print(a).expect("first half");
    assert_eq!(printer.query(StatusQuery::RollPaper).expect("status"), 0x12);
    printer.print(b).expect("second half");
    assert_eq!(sim.wait_for_receipts(2, TIMEOUT).len(), 2);

    sim.set_paper(PaperSupply::Low);
    assert_eq!(printer.paper_status_level(), PaperLevel::Low);
    sim.set_paper(PaperSupply::Out);
    let status = printer.status();
    assert_eq!(status.state, DeviceState::UserError);
    assert!(matches!(
        printer.print_receipt(&receipt(3)),
        Err(PrinterError::NotReady(_))
    ));
    sim.set_paper(PaperSupply::Ok);
    sim.set_cover_open(true);
    assert_eq!(printer.status().state, DeviceState::UserError);
    sim.set_cover_open(false);
    assert_eq!(printer.status().state, DeviceState::Online);
}

trait PaperLevelOf {
    fn paper_status_level(&mut self) -> PaperLevel;
}

impl PaperLevelOf for ReceiptPrinter {
    fn paper_status_level(&mut self) -> PaperLevel {
        kiosk_drivers::ReceiptPrinterDevice::paper_status(self).expect("paper status")
    }
}

#[test]
fn unplugged_network_printer_is_no_device_and_reconnects() {
    let mut sim = ReceiptPrinterSimulator::spawn_tcp("127.0.0.1:0").expect("tcp simulator");
    let mut printer = ReceiptPrinter::open_any(sim.path(), 0, TIMEOUT).expect("open_any tcp");
    assert_eq!(printer.status().state, DeviceState::Online);
    sim.unplug();
    assert_eq!(printer.status().state, DeviceState::NoDevice);
    // Nobody listens there any more.
    assert!(matches!(
        printer.reconnect(),
        Err(PrinterError::Open { .. })
    ));

    let replacement = ReceiptPrinterSimulator::spawn_tcp("127.0.0.1:0").expect("new simulator");
    printer.reconnect_at(replacement.path()).expect("reconnect");
    printer.print_receipt(&receipt(4)).expect("prints again");
    assert_eq!(replacement.wait_for_receipts(1, TIMEOUT).len(), 1);

    // A TCP printer can be swapped for a serial one by path.
    let serial = ReceiptPrinterSimulator::spawn().expect("pty simulator");
    printer.reconnect_at(serial.path()).expect("serial now");
    assert_eq!(printer.transport(), TransportKind::Serial);
    printer
        .print_receipt(&receipt(5))
        .expect("prints on serial");
    assert_eq!(serial.wait_for_receipts(1, TIMEOUT).len(), 1);
}

#[test]
fn paper_counter_adds_up_what_was_sent() {
    let sim = ReceiptPrinterSimulator::spawn_tcp("127.0.0.1:0").expect("tcp simulator");
    let mut printer = ReceiptPrinter::open_any(sim.path(), 0, TIMEOUT).expect("connect");
    assert_eq!(printer.paper_used_dots(), 0);
    let one = receipt(1);
    // Size-2 title (48) + a line (30) + the QR + 2 lines (60). The 35-byte URL is more than
    // version 2 holds at level L (32 bytes): version 3, 29 modules of 3 dots.
    let qr_side = 29 * 3;
    assert_eq!(one.paper_length_dots(), 48 + 30 + qr_side + 60);
    printer.print_receipt(&one).expect("printed");
    assert_eq!(printer.paper_used_dots(), one.paper_length_dots());
    assert!((printer.paper_used_mm() - one.paper_length_dots() as f64 / 8.0).abs() < 1e-9);
    // Status queries use no paper; a second receipt adds its own length.
    let _ = printer.status();
    let two = ReceiptBuilder::new()
        .line("第二张")
        .feed_dots(20)
        .cut(Cut::Full)
        .build();
    printer.print_receipt(&two).expect("printed");
    assert_eq!(printer.paper_used_dots(), one.paper_length_dots() + 30 + 20);
    // The simulator's receipt measures the same, and its image is that long plus the cut margin.
    let received = sim.wait_for_receipts(2, TIMEOUT);
    assert!((received[0].paper_length_mm() - one.paper_length_mm()).abs() < 1e-9);
    let image = received[1]
        .render()
        .expect("render (needs scripts/setup-system.sh fonts)");
    assert_eq!(u64::from(image.height()), 30 + 20 + 16);
    printer.reset_paper_counter();
    assert_eq!(printer.paper_used_dots(), 0);
}

#[test]
fn simulator_writes_each_receipt_as_png() {
    let dir = temp_dir("escpos-png");
    let sim = ReceiptPrinterSimulator::spawn().expect("simulator");
    sim.set_output_dir(&dir).expect("output dir");
    let mut printer = ReceiptPrinter::open(sim.path(), 115_200, TIMEOUT).expect("open");
    printer.print_receipt(&receipt(1)).expect("first");
    printer.print_receipt(&receipt(2)).expect("second");
    let written = sim.wait_for_pngs(2, Duration::from_secs(20));
    assert!(sim.render_errors().is_empty(), "{:?}", sim.render_errors());
    assert_eq!(
        written,
        vec![dir.join("receipt-0001.png"), dir.join("receipt-0002.png")]
    );
    for (path, received) in written.iter().zip(sim.receipts()) {
        let bytes = std::fs::read(path).expect("png on disk");
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
        assert_eq!(bytes, received.to_png().expect("same rendering"));
        // IHDR width, big-endian at byte 16.
        assert_eq!(
            u32::from_be_bytes(bytes[16..20].try_into().expect("4")),
            576
        );
    }
    std::fs::remove_dir_all(&dir).expect("clean up");
}
