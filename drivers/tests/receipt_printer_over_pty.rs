//! The ESC/POS printer driver against the printer simulator over a real pseudo-terminal.

use std::io::{Read, Write};
use std::time::Duration;

use kiosk_drivers::escpos::{
    Align, Cut, PaperSupply, PrinterError, QrOptions, ReceiptBuilder, ReceiptPrinter,
    ReceiptPrinterSimulator, StatusQuery,
};
use kiosk_drivers::{Device, DeviceState, PaperLevel, ReceiptPrinterDevice, StatusDetail};

const TIMEOUT: Duration = Duration::from_millis(500);

fn open(sim: &ReceiptPrinterSimulator) -> ReceiptPrinter {
    ReceiptPrinter::open(sim.path(), 115_200, TIMEOUT).expect("open printer")
}

fn housing_fund_receipt() -> kiosk_drivers::escpos::EncodedReceipt {
    ReceiptBuilder::new()
        .align(Align::Center)
        .bold(true)
        .size(2, 2)
        .line("办理回执")
        .normal_size()
        .bold(false)
        .align(Align::Left)
        .line("事项：住房公积金提取")
        .line("受理编号：GJJ-20250101-0001")
        .line("姓名：测**")
        .qr(
            "https://gov.example.invalid/track/0001",
            QrOptions::default(),
        )
        .expect("qr")
        .feed(2)
        .cut(Cut::Partial)
        .build()
}

#[test]
fn chinese_receipt_arrives_as_text_lines() {
    let sim = ReceiptPrinterSimulator::spawn().expect("simulator");
    let mut printer = open(&sim);
    let receipt = housing_fund_receipt();
    printer.print_receipt(&receipt).expect("printed");
    let received = sim.wait_for_receipts(1, Duration::from_secs(2));
    assert_eq!(received.len(), 1);
    assert_eq!(
        received[0].text,
        "办理回执\n事项：住房公积金提取\n受理编号：GJJ-20250101-0001\n姓名：测**"
    );
    assert_eq!(
        received[0].qr_codes,
        vec!["https://gov.example.invalid/track/0001".to_owned()]
    );
    assert_eq!(received[0].raw, receipt.as_bytes());
    // Two receipts are kept apart at the cut.
    printer
        .print_receipt(&ReceiptBuilder::new().line("第二张").cut(Cut::Full).build())
        .expect("printed");
    let received = sim.wait_for_receipts(2, Duration::from_secs(2));
    assert_eq!(received.len(), 2);
    assert_eq!(received[1].text, "第二张");
    assert!(
        sim.status_queries() >= 16,
        "status checked before and after each receipt"
    );
}

#[test]
fn status_is_answered_mid_receipt() {
    let sim = ReceiptPrinterSimulator::spawn().expect("simulator");
    let mut printer = open(&sim);
    let receipt = housing_fund_receipt();
    let (first, second) = receipt.as_bytes().split_at(receipt.as_bytes().len() / 2);
    printer.print(first).expect("first half");
    assert_eq!(printer.query(StatusQuery::RollPaper).expect("status"), 0x12);
    printer.print(second).expect("second half");
    let received = sim.wait_for_receipts(1, Duration::from_secs(2));
    assert_eq!(received.len(), 1);
    assert!(received[0].text.contains("住房公积金提取"));
}

#[test]
fn paper_low_still_prints_and_paper_out_refuses() {
    let sim = ReceiptPrinterSimulator::spawn().expect("simulator");
    let mut printer = open(&sim);
    assert_eq!(printer.paper_status().expect("paper"), PaperLevel::Full);
    let status = printer.status();
    assert_eq!(status.state, DeviceState::Online);
    assert!(status.is_usable());

    sim.set_paper(PaperSupply::Low);
    let status = printer.status();
    assert_eq!(status.paper(), Some(PaperLevel::Low));
    assert!(status.is_usable());
    printer
        .print_receipt(&housing_fund_receipt())
        .expect("prints on low paper");
    assert_eq!(sim.wait_for_receipts(1, Duration::from_secs(2)).len(), 1);

    sim.set_paper(PaperSupply::Out);
    let status = printer.status();
    assert_eq!(status.paper(), Some(PaperLevel::Out));
    assert_eq!(status.state, DeviceState::UserError);
    assert!(!status.is_usable());
    match printer.print_receipt(&housing_fund_receipt()) {
        Err(PrinterError::NotReady(status)) => assert_eq!(status.paper(), Some(PaperLevel::Out)),
        other => panic!("expected NotReady, got {other:?}"),
    }
    // Even raw bytes sent anyway are not printed.
    printer
        .print(housing_fund_receipt().as_bytes())
        .expect("bytes accepted by the port");
    assert_eq!(printer.query(StatusQuery::RollPaper).expect("status"), 0x72);
    assert_eq!(sim.receipts().len(), 1);
    assert!(sim.rejected_bytes() > 0);

    sim.set_paper(PaperSupply::Ok);
    printer
        .print_receipt(&housing_fund_receipt())
        .expect("prints after refill");
    assert_eq!(sim.wait_for_receipts(2, Duration::from_secs(2)).len(), 2);
}

#[test]
fn cover_open_and_cutter_error_are_reported() {
    let sim = ReceiptPrinterSimulator::spawn().expect("simulator");
    let mut printer = open(&sim);
    sim.set_cover_open(true);
    let status = printer.status();
    assert_eq!(status.state, DeviceState::UserError);
    assert!(matches!(
        status.detail,
        StatusDetail::Printer {
            cover_open: true,
            ..
        }
    ));
    assert!(printer.print_receipt(&housing_fund_receipt()).is_err());
    sim.set_cover_open(false);
    sim.set_cutter_error(true);
    let status = printer.status();
    assert_eq!(status.state, DeviceState::HardwareError);
    assert!(matches!(
        status.detail,
        StatusDetail::Printer {
            cutter_error: true,
            ..
        }
    ));
    sim.set_cutter_error(false);
    assert_eq!(printer.status().state, DeviceState::Online);
}

#[test]
fn unplugged_printer_is_disconnected_and_can_be_replaced() {
    let mut sim = ReceiptPrinterSimulator::spawn().expect("simulator");
    let mut printer = open(&sim);
    assert_eq!(printer.status().state, DeviceState::Online);
    sim.unplug();
    let error = printer
        .print(housing_fund_receipt().as_bytes())
        .expect_err("gone");
    assert!(matches!(error, PrinterError::Disconnected(_)), "{error:?}");
    assert_eq!(printer.status().state, DeviceState::NoDevice);

    let replacement = ReceiptPrinterSimulator::spawn().expect("new simulator");
    printer.reconnect_at(replacement.path()).expect("reconnect");
    printer
        .print_receipt(&housing_fund_receipt())
        .expect("prints again");
    assert_eq!(
        replacement
            .wait_for_receipts(1, Duration::from_secs(2))
            .len(),
        1
    );
}

#[test]
fn silent_printer_times_out_and_invalid_status_byte_is_rejected() {
    let (mut master, slave) = serialport::TTYPort::pair().expect("pty pair");
    let path = serialport::SerialPort::name(&slave).expect("slave name");
    // A "printer" that answers every DLE EOT with 0x81 (bad pattern), after one silent query.
    let responder = std::thread::spawn(move || {
        let _keep = slave;
        serialport::SerialPort::set_timeout(&mut master, Duration::from_millis(2000))
            .expect("timeout");
        let mut buf = [0u8; 3];
        master.read_exact(&mut buf).expect("first query");
        master.read_exact(&mut buf).expect("second query");
        master.write_all(&[0x81]).expect("reply");
        std::thread::sleep(Duration::from_millis(200));
    });
    let mut printer =
        ReceiptPrinter::open(&path, 115_200, Duration::from_millis(200)).expect("open");
    assert_eq!(
        printer.query(StatusQuery::Printer),
        Err(PrinterError::Timeout { what: "DLE EOT" })
    );
    assert_eq!(
        printer.query(StatusQuery::RollPaper),
        Err(PrinterError::InvalidStatusByte { n: 4, byte: 0x81 })
    );
    responder.join().expect("responder");
    // The responder closed its side: the printer is gone.
    assert_eq!(printer.status().state, DeviceState::NoDevice);
}

#[test]
fn a_jam_after_n_receipts_stops_printing_until_cleared() {
    use kiosk_drivers::escpos::{ReceiptBuilder, ReceiptPrinter, ReceiptPrinterSimulator};
    use kiosk_drivers::status::{DeviceState, PaperLevel};
    use std::time::Duration;
    let sim = ReceiptPrinterSimulator::spawn().unwrap();
    let mut printer = ReceiptPrinter::open(sim.path(), 38_400, Duration::from_secs(2)).unwrap();
    sim.jam_after(1);
    let receipt = ReceiptBuilder::new()
        .line("第一张")
        .cut(kiosk_drivers::escpos::receipt::Cut::Partial)
        .build();
    // The receipt comes out; the check after it may already see the jam.
    let _ = printer.print_receipt(&receipt);
    let status = printer.report().unwrap().to_device_status();
    assert_eq!(status.state, DeviceState::UserError);
    assert_eq!(status.paper(), Some(PaperLevel::Jammed));
    assert!(
        printer.print_receipt(&receipt).is_err(),
        "a jammed printer refuses the next receipt"
    );
    assert_eq!(sim.wait_for_receipts(1, Duration::from_secs(2)).len(), 1);
    sim.set_jammed(false);
    printer.print_receipt(&receipt).unwrap();
    assert_eq!(sim.wait_for_receipts(2, Duration::from_secs(2)).len(), 2);
}
