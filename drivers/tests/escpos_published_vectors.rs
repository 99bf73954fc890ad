//! Byte-exact checks against every published ESC/POS encoding in the reference
//! (device-protocols.md §2.2–2.7): the core command table, Chinese mode, cuts, the native QR
//! vectors, the raster vectors (with the fragmenting one) and the DLE EOT status bytes, both as
//! decoded by the driver and as sent by the simulator.

use std::time::Duration;

use kiosk_drivers::escpos::commands::{EscPosCommand, PrinterFont, decode_command};
use kiosk_drivers::escpos::realtime_status::is_status_byte;
use kiosk_drivers::escpos::receipt::{encode_qr, encode_raster, encode_raster_fragments};
use kiosk_drivers::escpos::{
    Align, Cut, MonoBitmap, PaperSupply, PrinterReport, QrErrorCorrection, QrModel, QrOptions,
    ReceiptBuilder, ReceiptPrinter, ReceiptPrinterSimulator, ReceiptRenderer, StatusQuery,
};
use kiosk_drivers::{DeviceState, PaperLevel};

fn bytes(builder: ReceiptBuilder) -> Vec<u8> {
    builder.build().into_bytes()
}

fn empty() -> ReceiptBuilder {
    ReceiptBuilder::empty()
}

#[test]
fn core_command_table() {
    // Initialize, and Chinese mode on (FS &) / off (FS .).
    assert_eq!(bytes(ReceiptBuilder::new()), [0x1B, 0x40, 0x1C, 0x26]);
    assert_eq!(bytes(empty().chinese_mode(true)), [0x1C, 0x26]);
    assert_eq!(bytes(empty().chinese_mode(false)), [0x1C, 0x2E]);
    // Bold on/off.
    assert_eq!(bytes(empty().bold(true)), [0x1B, 0x45, 0x01]);
    assert_eq!(bytes(empty().bold(false)), [0x1B, 0x45, 0x00]);
    // Underline off / 1-dot / 2-dot.
    assert_eq!(bytes(empty().underline(0)), [0x1B, 0x2D, 0x00]);
    assert_eq!(bytes(empty().underline(1)), [0x1B, 0x2D, 0x01]);
    assert_eq!(bytes(empty().underline(2)), [0x1B, 0x2D, 0x02]);
    // Align left / center / right.
    assert_eq!(bytes(empty().align(Align::Left)), [0x1B, 0x61, 0x00]);
    assert_eq!(bytes(empty().align(Align::Center)), [0x1B, 0x61, 0x01]);
    assert_eq!(bytes(empty().align(Align::Right)), [0x1B, 0x61, 0x02]);
    // GS !: normal, double both, double width, double height.
    assert_eq!(bytes(empty().size(1, 1)), [0x1D, 0x21, 0x00]);
    assert_eq!(bytes(empty().size(2, 2)), [0x1D, 0x21, 0x11]);
    assert_eq!(bytes(empty().size(2, 1)), [0x1D, 0x21, 0x10]);
    assert_eq!(bytes(empty().size(1, 2)), [0x1D, 0x21, 0x01]);
    // ESC !: double height 0x10, double width 0x20, emphasized 0x08.
    assert_eq!(bytes(empty().print_mode(0x10)), [0x1B, 0x21, 0x10]);
    assert_eq!(bytes(empty().print_mode(0x20)), [0x1B, 0x21, 0x20]);
    assert_eq!(bytes(empty().print_mode(0x08)), [0x1B, 0x21, 0x08]);
    // Reverse on/off.
    assert_eq!(bytes(empty().reverse(true)), [0x1D, 0x42, 0x01]);
    assert_eq!(bytes(empty().reverse(false)), [0x1D, 0x42, 0x00]);
    // Line spacing default / n dots.
    assert_eq!(bytes(empty().default_line_spacing()), [0x1B, 0x32]);
    assert_eq!(bytes(empty().line_spacing(40)), [0x1B, 0x33, 40]);
    // Feed n lines / n dots.
    assert_eq!(bytes(empty().feed(3)), [0x1B, 0x64, 0x03]);
    assert_eq!(bytes(empty().feed_dots(24)), [0x1B, 0x4A, 24]);
    // Font A / B.
    assert_eq!(bytes(empty().font(PrinterFont::A)), [0x1B, 0x4D, 0x00]);
    assert_eq!(bytes(empty().font(PrinterFont::B)), [0x1B, 0x4D, 0x01]);
    // Code page, cash drawer pulse.
    assert_eq!(bytes(empty().code_page(0)), [0x1B, 0x74, 0x00]);
    assert_eq!(
        bytes(empty().drawer_pulse(0, 25, 250)),
        [0x1B, 0x70, 0x00, 25, 250]
    );
}

#[test]
fn core_commands_decode_to_their_meaning() {
    use EscPosCommand as C;
    let cases: Vec<(&[u8], EscPosCommand)> = vec![
        (&[0x1B, 0x45, 0x01], C::Bold(true)),
        (&[0x1B, 0x2D, 0x02], C::Underline(2)),
        (&[0x1B, 0x61, 0x02], C::Align(Align::Right)),
        (
            &[0x1D, 0x21, 0x01],
            C::CharSize {
                width: 1,
                height: 2,
            },
        ),
        (&[0x1B, 0x21, 0x20], C::PrintMode(0x20)),
        (&[0x1D, 0x42, 0x00], C::Reverse(false)),
        (&[0x1B, 0x32], C::LineSpacing(None)),
        (&[0x1B, 0x64, 0x05], C::FeedLines(5)),
        (&[0x1B, 0x4A, 0x10], C::FeedDots(0x10)),
        (&[0x1B, 0x4D, 0x00], C::Font(PrinterFont::A)),
        (&[0x1C, 0x26], C::ChineseMode(true)),
        (&[0x1C, 0x2E], C::ChineseMode(false)),
    ];
    for (raw, meaning) in cases {
        assert_eq!(decode_command(raw), meaning, "{raw:02X?}");
    }
}

#[test]
fn cuts_encode_and_every_published_form_cuts() {
    // python-escpos cut(): GS V 66 0; full: GS V 65 0 (not escpos-rs's "partial" 41 01).
    assert_eq!(bytes(empty().cut(Cut::Partial)), [0x1D, 0x56, 0x42, 0x00]);
    assert_eq!(bytes(empty().cut(Cut::Full)), [0x1D, 0x56, 0x41, 0x00]);
    assert_eq!(bytes(empty().cut_in_place(Cut::Full)), [0x1D, 0x56, 0x00]);
    assert_eq!(
        bytes(empty().cut_in_place(Cut::Partial)),
        [0x1D, 0x56, 0x01]
    );
    assert_eq!(
        bytes(empty().cut_after_feed(Cut::Full, 9)),
        [0x1D, 0x56, 0x41, 9]
    );
    assert_eq!(
        bytes(empty().cut_after_feed(Cut::Partial, 9)),
        [0x1D, 0x56, 0x42, 9]
    );

    let forms: [(&[u8], bool, u8); 6] = [
        (&[0x1D, 0x56, 0x00], false, 0),
        (&[0x1D, 0x56, 0x30], false, 0),
        (&[0x1D, 0x56, 0x01], true, 0),
        (&[0x1D, 0x56, 0x31], true, 0),
        (&[0x1D, 0x56, 0x41, 0x08], false, 8),
        (&[0x1D, 0x56, 0x42, 0x08], true, 8),
    ];
    for (raw, partial, feed) in forms {
        assert_eq!(
            decode_command(raw),
            EscPosCommand::Cut { partial, feed },
            "{raw:02X?}"
        );
        // The simulator's renderer ends a receipt at each form, fed by n dots.
        let stream = [bytes(ReceiptBuilder::new().line("回执")), raw.to_vec()].concat();
        let receipts = ReceiptRenderer::new()
            .expect("CJK font (run scripts/setup-system.sh)")
            .render_stream(&[stream.clone(), stream].concat());
        assert_eq!(receipts.len(), 2, "{raw:02X?}");
        assert_eq!(
            receipts[0].height(),
            30 + u32::from(feed) + 16,
            "{raw:02X?}"
        );
    }
}

#[test]
fn native_qr_published_vectors() {
    let default = encode_qr(b"1234", QrOptions::default()).expect("qr");
    assert_eq!(
        default,
        [
            &[0x1D, 0x28, 0x6B, 0x04, 0x00, 0x31, 0x41, 0x32, 0x00][..],
            &[0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x43, 0x03],
            &[0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x45, 0x30],
            &[
                0x1D, 0x28, 0x6B, 0x07, 0x00, 0x31, 0x50, 0x30, 0x31, 0x32, 0x33, 0x34
            ],
            &[0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x51, 0x30],
        ]
        .concat()
    );
    let with = |options: QrOptions| encode_qr(b"1234", options).expect("qr");
    let ec_h = with(QrOptions {
        error_correction: QrErrorCorrection::H,
        ..Default::default()
    });
    assert_eq!(
        ec_h[17..25],
        [0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x45, 0x33]
    );
    let size7 = with(QrOptions {
        module_size: 7,
        ..Default::default()
    });
    assert_eq!(
        size7[9..17],
        [0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x43, 0x07]
    );
    let model1 = with(QrOptions {
        model: QrModel::Model1,
        ..Default::default()
    });
    assert_eq!(
        model1[..9],
        [0x1D, 0x28, 0x6B, 0x04, 0x00, 0x31, 0x41, 0x31, 0x00]
    );
    // Everything but the varied command is the default vector.
    for (variant, at) in [(&ec_h, 17..25), (&size7, 9..17), (&model1, 0..9)] {
        assert_eq!(variant[..at.start], default[..at.start]);
        assert_eq!(variant[at.end..], default[at.end..]);
    }
    // pL + 256·pH = k + 3 with a payload over 255 bytes; fn 182 (report size) is parsed too.
    let long = vec![b'A'; 300];
    let encoded = encode_qr(&long, QrOptions::default()).expect("qr");
    assert_eq!(
        encoded[25..33],
        [0x1D, 0x28, 0x6B, 0x2F, 0x01, 0x31, 0x50, 0x30]
    );
    assert_eq!(
        decode_command(&[0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x52, 0x30]),
        EscPosCommand::Other
    );
}

#[test]
fn raster_published_vectors() {
    let black = MonoBitmap::from_fn(1, 1, |_, _| true);
    let white = MonoBitmap::new(1, 1);
    assert_eq!(
        bytes(empty().image(&black)),
        [0x1D, 0x76, 0x30, 0x00, 0x01, 0x00, 0x01, 0x00, 0x80]
    );
    assert_eq!(
        bytes(empty().image(&white)),
        [0x1D, 0x76, 0x30, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00]
    );
    // Two rows, the first with two black pixels.
    let two_rows = MonoBitmap::from_fn(2, 2, |_, y| y == 0);
    assert_eq!(two_rows.packed(), [0xC0, 0x00]);
    assert_eq!(
        bytes(empty().image(&two_rows)),
        [0x1D, 0x76, 0x30, 0x00, 0x01, 0x00, 0x02, 0x00, 0xC0, 0x00]
    );
    assert_eq!(
        encode_raster(1, 2, &[0xC0, 0x00]).expect("raster"),
        [0x1D, 0x76, 0x30, 0x00, 0x01, 0x00, 0x02, 0x00, 0xC0, 0x00]
    );
    // Fragmented into 1-row slices.
    let fragmented = [
        0x1D, 0x76, 0x30, 0x00, 0x01, 0x00, 0x01, 0x00, 0xC0, 0x1D, 0x76, 0x30, 0x00, 0x01, 0x00,
        0x01, 0x00, 0x00,
    ];
    assert_eq!(encode_raster_fragments(&two_rows, 1), fragmented);
    assert_eq!(bytes(empty().image_fragmented(&two_rows, 1)), fragmented);
    // 576 dots wide = 72 bytes per row (xL = 0x48).
    let full_width = MonoBitmap::new(576, 3);
    assert_eq!(
        bytes(empty().image(&full_width))[..8],
        [0x1D, 0x76, 0x30, 0x00, 0x48, 0x00, 0x03, 0x00]
    );
    // A 600-row logo goes out in strips of at most 256 rows (256 + 256 + 88).
    let tall = MonoBitmap::new(8, 600);
    let encoded = bytes(empty().image(&tall));
    assert_eq!(encoded.len(), 3 * 8 + 600);
    assert_eq!(encoded[6..8], [0x00, 0x01]);
    assert_eq!(encoded[8 + 256 + 6..8 + 256 + 8], [0x00, 0x01]);
    assert_eq!(encoded[2 * (8 + 256) + 6..2 * (8 + 256) + 8], [88, 0x00]);
}

#[test]
fn dle_eot_published_bytes_decode() {
    for (query, n) in StatusQuery::ALL.into_iter().zip(1u8..) {
        assert_eq!(query.command(), [0x10, 0x04, n]);
    }
    // python-escpos masks and status tests.
    for byte in [0x12, 0x1A, 0x1E, 0x72, 0x7E, 0x16, 0x32, 0x52] {
        assert!(is_status_byte(byte), "{byte:#04x}");
    }
    assert!(!is_status_byte(0x81));
    let ok = 0x12;
    // The simulator table, one row at a time (n = 1, 2, 3, 4).
    let row = |bytes: [u8; 4]| PrinterReport::from_bytes(bytes);
    let all_ok = row([ok; 4]);
    assert_eq!(all_ok, PrinterReport::default());
    assert_eq!(all_ok.to_device_status().state, DeviceState::Online);
    assert!(row([0x1A, ok, ok, ok]).offline);
    assert!(row([ok, 0x16, ok, ok]).cover_open);
    assert!(row([ok, 0x32, ok, ok]).stopped_paper_end);
    assert!(row([ok, 0x52, ok, ok]).error_occurred);
    assert!(row([ok, ok, 0x1A, ok]).cutter_error);
    assert_eq!(row([ok, ok, ok, 0x1E]).paper(), PaperLevel::Low);
    assert_eq!(row([ok, ok, ok, 0x72]).paper(), PaperLevel::Out);
    assert_eq!(row([ok, ok, ok, 0x7E]).paper(), PaperLevel::Out);
    // escpos-rs: n=1 0x1A offline; n=3 0x1A autocutter; n=4 0x12 adequate and present.
    assert_eq!(
        row([0x1A, ok, ok, ok]).to_device_status().state,
        DeviceState::Offline
    );
    assert_eq!(
        row([ok, ok, 0x1A, ok]).to_device_status().state,
        DeviceState::HardwareError
    );
    assert_eq!(row([ok, ok, ok, 0x12]).paper(), PaperLevel::Full);
}

#[test]
fn simulator_sends_the_published_status_bytes() {
    let sim = ReceiptPrinterSimulator::spawn().expect("simulator");
    let mut printer =
        ReceiptPrinter::open(sim.path(), 115_200, Duration::from_secs(2)).expect("open");
    let ask = |printer: &mut ReceiptPrinter| -> [u8; 4] {
        let mut out = [0; 4];
        for (slot, query) in out.iter_mut().zip(StatusQuery::ALL) {
            *slot = printer.query(query).expect("status byte");
        }
        out
    };
    assert_eq!(ask(&mut printer), [0x12, 0x12, 0x12, 0x12]);
    sim.set_paper(PaperSupply::Low);
    assert_eq!(ask(&mut printer), [0x12, 0x12, 0x12, 0x1E]);
    sim.set_paper(PaperSupply::Out);
    assert_eq!(ask(&mut printer), [0x1A, 0x32, 0x12, 0x72]);
    sim.set_paper(PaperSupply::Ok);
    sim.set_cover_open(true);
    assert_eq!(ask(&mut printer), [0x1A, 0x16, 0x12, 0x12]);
    sim.set_cover_open(false);
    sim.set_cutter_error(true);
    assert_eq!(ask(&mut printer), [0x1A, 0x52, 0x1A, 0x12]);
    sim.set_cutter_error(false);
    assert_eq!(ask(&mut printer), [0x12; 4]);
}
