//! The device commands of the `kiosk` binary against simulators over real pseudo-terminals,
//! TCP sockets and a private CUPS: `kiosk printer status|test` (serial, tcp://, ipp://),
//! `kiosk sim printer --out`, `kiosk cardwriter status|test` and `kiosk sim cardwriter`.

mod support;

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use kiosk_drivers::cardwriter::{
    CardLayout, CardRecord, CardWriter, CardWriterModel, CardWriterSettings, CardWriterSimulator,
    RecordError, RecordKey, SimulatorConfig, StackLevel,
};
use kiosk_drivers::document_printer::PrivateCups;
use kiosk_drivers::escpos::{
    Cut, PaperSupply, ReceiptBuilder, ReceiptPrinter, ReceiptPrinterSimulator,
};
use kiosk_drivers::traits::CardWriterDevice;
use support::cli::{RunningKiosk, json_output, json_with_code, kiosk, one_line_error};

/// Generous: the machine running the tests is shared and loaded.
const LIMIT: Duration = Duration::from_secs(60);

/// The key `kiosk cardwriter test` uses without `--key` (its --help says so).
const CLI_TEST_KEY_HEX: &str = "000102030405060708090A0B0C0D0E0F";

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("kiosk-cli-devices-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn files_with_extension(dir: &Path, extension: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    files.retain(|f| f.extension().is_some_and(|e| e == extension));
    files.sort();
    files
}

fn wait_for_files(dir: &Path, extension: &str, limit: Duration) -> Vec<PathBuf> {
    let deadline = Instant::now() + limit;
    loop {
        let files = files_with_extension(dir, extension);
        if !files.is_empty() {
            return files;
        }
        assert!(
            Instant::now() < deadline,
            "no .{extension} file in {} within {limit:?}",
            dir.display()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Width and height from a PNG's IHDR chunk.
fn png_size(path: &Path) -> (u32, u32) {
    let bytes = std::fs::read(path).unwrap();
    assert_eq!(
        &bytes[..8],
        b"\x89PNG\r\n\x1a\n",
        "{} is not a PNG",
        path.display()
    );
    assert_eq!(&bytes[12..16], b"IHDR");
    let be = |at: usize| u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap());
    (be(16), be(20))
}

// ---------------------------------------------------------------- receipt / A4 printer

#[test]
fn printer_status_is_online_then_paper_out_with_exit_code_1() {
    let sim = ReceiptPrinterSimulator::spawn().unwrap();
    let out = kiosk()
        .args(["printer", "status", "--port", sim.path()])
        .output()
        .unwrap();
    let json = json_output(&out);
    assert_eq!(json["state"], "online", "{json}");
    assert_eq!(json["usable"], true, "{json}");
    assert_eq!(json["class"], "receipt_printer", "{json}");
    assert_eq!(json["detail"]["paper"], "full", "{json}");

    sim.set_paper(PaperSupply::Out);
    let out = kiosk()
        .args(["printer", "status", "--port", sim.path()])
        .output()
        .unwrap();
    let json = json_with_code(&out, 1);
    assert_ne!(json["state"], "online", "{json}");
    assert_eq!(json["usable"], false, "{json}");
    assert_eq!(json["detail"]["paper"], "out", "{json}");
}

#[test]
fn printer_test_prints_a_test_receipt_over_a_pty_and_over_tcp() {
    let serial = ReceiptPrinterSimulator::spawn().unwrap();
    let tcp = ReceiptPrinterSimulator::spawn_tcp("127.0.0.1:0").unwrap();
    assert!(tcp.path().starts_with("tcp://"), "{}", tcp.path());
    for sim in [&serial, &tcp] {
        let out = kiosk()
            .args(["printer", "test", "--port", sim.path()])
            .output()
            .unwrap();
        let json = json_output(&out);
        assert_eq!(json["printed"], true, "{json}");
        assert_eq!(json["state"], "online", "{json}");
        let receipts = sim.wait_for_receipts(1, LIMIT);
        assert_eq!(receipts.len(), 1, "{}: one receipt expected", sim.path());
        assert!(
            receipts[0].text.contains("打印测试"),
            "{}: {}",
            sim.path(),
            receipts[0].text
        );
        let used = json["paper_used_mm"].as_f64().unwrap();
        assert!(
            (used - receipts[0].paper_length_mm()).abs() < 0.01,
            "counted {used} mm, the printer used {} mm",
            receipts[0].paper_length_mm()
        );
    }
}

#[test]
fn printer_status_and_test_page_over_ipp_through_a_private_cups() {
    let cups = PrivateCups::start().unwrap_or_else(|e| {
        panic!("a private CUPS is needed (root, cups, cups-pdf: scripts/setup-system.sh): {e}")
    });
    let uri = cups.uri();
    let out = kiosk()
        .args(["printer", "status", "--port", &uri])
        .output()
        .unwrap();
    let json = json_output(&out);
    assert_eq!(json["class"], "document_printer", "{json}");
    assert_eq!(json["usable"], true, "{json}");
    assert!(json["make_and_model"].is_string(), "{json}");

    assert!(files_with_extension(&cups.output_dir(), "pdf").is_empty());
    let out = kiosk()
        .args(["printer", "test", "--port", &uri])
        .output()
        .unwrap();
    let json = json_output(&out);
    assert_eq!(json["printed"], true, "{json}");
    assert_eq!(json["job_state"], "Completed", "{json}");
    let pdfs = wait_for_files(&cups.output_dir(), "pdf", Duration::from_secs(120));
    assert_eq!(pdfs.len(), 1, "{pdfs:?}");
    let bytes = std::fs::read(&pdfs[0]).unwrap();
    assert!(bytes.starts_with(b"%PDF-"), "{}", pdfs[0].display());
}

#[test]
fn sim_printer_renders_each_receipt_as_a_576_dot_png() {
    let dir = temp_dir("sim-printer");
    let mut sim = RunningKiosk::spawn([
        OsStr::new("sim"),
        OsStr::new("printer"),
        OsStr::new("--out"),
        dir.as_os_str(),
    ]);
    let path = sim.next_line(LIMIT);
    assert!(path.starts_with("/dev/"), "{path}");
    let mut printer = ReceiptPrinter::open(&path, 115_200, Duration::from_secs(5)).unwrap();
    let receipt = ReceiptBuilder::new()
        .line("办理回执")
        .line("CLI TEST 0001")
        .feed(2)
        .cut(Cut::Partial)
        .build();
    printer.print_receipt(&receipt).unwrap();
    let text = sim.line_matching(LIMIT, |line| line.contains("办理回执"));
    assert_eq!(text, "办理回执");
    let png_line = sim.line_matching(LIMIT, |line| line.starts_with("png "));
    let png = PathBuf::from(png_line.trim_start_matches("png "));
    assert_eq!(png.parent(), Some(dir.as_path()), "{png_line}");
    assert_eq!(wait_for_files(&dir, "png", LIMIT), vec![png.clone()]);
    let (width, height) = png_size(&png);
    assert_eq!(width, 576, "{}", png.display());
    assert!(
        height > 48,
        "two lines and a cut are taller than {height} dots"
    );
    assert!(sim.is_running());
    drop(sim);
    let _ = std::fs::remove_dir_all(&dir);
}

// ---------------------------------------------------------------- card writer

fn cardwriter(args: &[&str]) -> std::process::Output {
    kiosk().arg("cardwriter").args(args).output().unwrap()
}

fn test_key() -> RecordKey {
    RecordKey::from_hex_text(CLI_TEST_KEY_HEX).unwrap()
}

/// The record on a card that ended in the simulator's bin, checked with `key`.
fn record_on(
    card: &kiosk_drivers::cardwriter::SimCard,
    key: &RecordKey,
) -> Result<CardRecord, RecordError> {
    CardRecord::decode_verified(&card.record_area(&CardLayout::default()), key)
}

#[test]
fn cardwriter_status_reports_stack_bin_card_and_jam() {
    let sim = CardWriterSimulator::spawn(
        CardWriterModel::Crt591,
        SimulatorConfig {
            blank_cards: 30,
            ..SimulatorConfig::default()
        },
    )
    .unwrap();
    let out = cardwriter(&["status", "--port", sim.path(), "--model", "crt591"]);
    let json = json_output(&out);
    assert_eq!(json["model"], "crt591", "{json}");
    assert_eq!(json["stack"], "ok", "{json}");
    assert_eq!(json["bin"], "not_full", "{json}");
    assert_eq!(json["card"], "none", "{json}");
    assert_eq!(json["jammed"], false, "{json}");
    assert_eq!(json["state"], "online", "{json}");
    assert_eq!(json["usable"], true, "{json}");
    assert_eq!(json["port"], sim.path(), "{json}");

    sim.set_stack(3);
    let json = json_output(&cardwriter(&["status", "--port", sim.path()]));
    assert_eq!(json["stack"], "low", "low stock still issues cards: {json}");
    assert_eq!(json["usable"], true, "{json}");

    sim.set_stack(0);
    let json = json_with_code(&cardwriter(&["status", "--port", sim.path()]), 1);
    assert_eq!(json["stack"], "empty", "{json}");
    assert_eq!(json["state"], "user_error", "{json}");
    assert_eq!(json["usable"], false, "{json}");

    sim.set_stack(30);
    sim.set_jammed(true);
    let json = json_with_code(&cardwriter(&["status", "--port", sim.path()]), 1);
    assert_eq!(json["jammed"], true, "{json}");
    assert_eq!(json["usable"], false, "{json}");
    sim.clear_jam();
    json_output(&cardwriter(&["status", "--port", sim.path()]));

    sim.set_bin_capacity(0);
    let json = json_with_code(&cardwriter(&["status", "--port", sim.path()]), 1);
    assert_eq!(json["bin"], "full", "{json}");
    assert_eq!(sim.stack_count(), 30, "status moves no card");
}

#[test]
fn cardwriter_status_of_a_k720() {
    let sim = CardWriterSimulator::with_cards(CardWriterModel::K720, 30).unwrap();
    let json = json_output(&cardwriter(&[
        "status",
        "--port",
        sim.path(),
        "--model",
        "k720",
    ]));
    assert_eq!(json["model"], "k720", "{json}");
    assert_eq!(json["stack"], "ok", "{json}");
    assert_eq!(json["card"], "none", "{json}");
    assert_eq!(json["usable"], true, "{json}");

    sim.set_jammed(true);
    let json = json_with_code(
        &cardwriter(&["status", "--port", sim.path(), "--model", "k720"]),
        1,
    );
    assert_eq!(json["jammed"], true, "{json}");
    assert_eq!(json["state"], "user_error", "{json}");
}

#[test]
fn cardwriter_test_writes_verifies_and_captures_the_card() {
    let sim = CardWriterSimulator::with_cards(CardWriterModel::Crt591, 5).unwrap();
    let out = cardwriter(&["test", "--port", sim.path(), "--model", "crt591"]);
    let json = json_output(&out);
    assert_eq!(json["passed"], true, "{json}");
    assert_eq!(json["card_captured"], true, "{json}");
    assert_eq!(json["key"], "fixed_test_key", "{json}");
    let steps: Vec<&str> = json["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            assert_eq!(s["ok"], true, "{json}");
            s["step"].as_str().unwrap()
        })
        .collect();
    assert_eq!(
        steps,
        ["dispense", "write", "read", "compare", "verify", "capture"]
    );
    assert_eq!(json["read_back"], json["record"], "{json}");
    assert_eq!(json["record"]["item_id"], "self-test", "{json}");
    assert_eq!(json["record"]["kiosk_id"], "CLI", "{json}");
    assert_eq!(json["after"]["card"], "none", "{json}");

    // One blank used, it is in the bin (never handed out) and carries the test record.
    assert_eq!(sim.stack_count(), 4);
    let bin = sim.bin_cards();
    assert_eq!(bin.len(), 1);
    assert!(sim.taken_cards().is_empty());
    assert_eq!(json["uid"], bin[0].uid_hex(), "{json}");
    let record = record_on(&bin[0], &test_key()).expect("test record, test key");
    assert_eq!(record.item_id, "self-test");
    assert!(record.holder_ref.contains('*'), "{}", record.holder_ref);
    assert_eq!(record.holder_ref, json["record"]["holder_ref"]);
    assert_eq!(record.valid_from, record.valid_until);
    assert_eq!(record.valid_from.to_string(), json["record"]["valid_from"]);

    // With the kiosk's key file the card is keyed with that key, not the test key.
    let dir = temp_dir("card-key");
    let key_file = dir.join("card.key");
    std::fs::write(
        &key_file,
        "# kiosk card key\n 0f1e2d3c4b5a69788796a5b4c3d2e1f0\n 00112233445566778899aabbccddeeff\n",
    )
    .unwrap();
    let out = cardwriter(&[
        "test",
        "--port",
        sim.path(),
        "--key",
        key_file.to_str().unwrap(),
    ]);
    let json = json_output(&out);
    assert_eq!(json["key"], "key_file", "{json}");
    assert_eq!(sim.stack_count(), 3);
    let bin = sim.bin_cards();
    assert_eq!(bin.len(), 2);
    let file_key = RecordKey::load(&key_file).unwrap();
    assert!(record_on(&bin[1], &file_key).is_ok());
    assert_eq!(record_on(&bin[1], &test_key()), Err(RecordError::BadMac));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn cardwriter_test_that_fails_still_captures_the_card_and_exits_1() {
    let sim = CardWriterSimulator::with_cards(CardWriterModel::Crt591, 5).unwrap();
    sim.inject(kiosk_drivers::cardwriter::CardWriterFault::ForeignKeyedCard);
    let out = cardwriter(&["test", "--port", sim.path()]);
    let json = json_with_code(&out, 1);
    assert_eq!(json["passed"], false, "{json}");
    assert_eq!(json["card_captured"], true, "{json}");
    let write = &json["steps"][1];
    assert_eq!(write["step"], "write", "{json}");
    assert_eq!(write["ok"], false, "{json}");
    assert!(
        write["error"].as_str().unwrap().contains("key rejected"),
        "{json}"
    );
    assert_eq!(sim.bin_cards().len(), 1);
    assert_eq!(
        sim.card_position(),
        kiosk_drivers::cardwriter::CardPosition::None
    );
    assert!(sim.taken_cards().is_empty());

    // An empty stack: the dispense step fails, nothing to capture.
    sim.set_stack(0);
    let json = json_with_code(&cardwriter(&["test", "--port", sim.path()]), 1);
    let steps = json["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 1, "{json}");
    assert_eq!(steps[0]["step"], "dispense", "{json}");
    assert_eq!(steps[0]["error"], "card stack empty", "{json}");
    assert_eq!(json["card_captured"], false, "{json}");
    assert_eq!(json["after"]["stack"], "empty", "{json}");
    assert_eq!(sim.bin_cards().len(), 1);
}

#[test]
fn cardwriter_test_on_a_k720_without_encoder_fails_before_moving_a_card() {
    let sim = CardWriterSimulator::with_cards(CardWriterModel::K720, 5).unwrap();
    let out = cardwriter(&["test", "--port", sim.path(), "--model", "k720"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8_lossy(&out.stderr);
    let last = err.trim().lines().last().unwrap_or_default();
    assert!(
        last.starts_with("kiosk: ") && last.contains("no card encoder attached to the K720"),
        "{err}"
    );
    assert_eq!(sim.stack_count(), 5, "no card may move");
    assert!(sim.bin_cards().is_empty());
}

#[test]
fn sim_cardwriter_serves_a_port_the_driver_uses() {
    let mut sim = RunningKiosk::spawn(["sim", "cardwriter", "--model", "crt591", "--cards", "7"]);
    let path = sim.next_line(LIMIT);
    assert!(path.starts_with("/dev/"), "{path}");
    assert_eq!(sim.next_line(LIMIT), "stack 7, bin 0, card none");
    let mut writer = CardWriter::open(
        CardWriterModel::Crt591,
        &path,
        &CardWriterSettings::default(),
    )
    .unwrap();
    let report = writer.report().unwrap();
    assert_eq!(report.stack, StackLevel::Low);
    writer.dispense_blank().unwrap();
    writer.capture_card().unwrap();
    sim.line_matching(LIMIT, |line| line == "stack 6, bin 1, card none");
    drop(writer);

    // The binary's own tools on the same simulator.
    let json = json_output(&cardwriter(&["test", "--port", &path]));
    assert_eq!(json["passed"], true, "{json}");
    sim.line_matching(LIMIT, |line| line == "stack 5, bin 2, card none");

    let mut k720 = RunningKiosk::spawn(["sim", "cardwriter", "--model", "k720", "--cards", "40"]);
    let path = k720.next_line(LIMIT);
    assert!(path.starts_with("/dev/"), "{path}");
    let settings = CardWriterSettings::default();
    let mut writer = CardWriter::open(CardWriterModel::K720, &path, &settings).unwrap();
    let report = writer.report().unwrap();
    assert_eq!(report.model, CardWriterModel::K720);
    assert_eq!(report.stack, StackLevel::Ok);
    drop(writer);
    let json = json_output(&cardwriter(&["status", "--port", &path, "--model", "k720"]));
    assert_eq!(json["stack"], "ok", "{json}");
}

#[test]
fn cardwriter_bad_model_and_missing_port_are_one_line_errors() {
    let sim = CardWriterSimulator::with_cards(CardWriterModel::Crt591, 5).unwrap();
    for args in [
        vec![
            "cardwriter",
            "status",
            "--port",
            sim.path(),
            "--model",
            "crt310",
        ],
        vec![
            "cardwriter",
            "test",
            "--port",
            sim.path(),
            "--model",
            "crt310",
        ],
        vec!["sim", "cardwriter", "--model", "crt310"],
    ] {
        let out = kiosk().args(&args).output().unwrap();
        let err = one_line_error(&out);
        assert!(
            err.contains("crt310") && err.contains("crt591") && err.contains("k720"),
            "{args:?}: {err}"
        );
        assert!(out.stdout.is_empty(), "{args:?}");
    }
    assert_eq!(sim.stack_count(), 5);

    for command in ["status", "test"] {
        let out = cardwriter(&[command, "--port", "/dev/does-not-exist"]);
        let err = one_line_error(&out);
        assert!(err.contains("/dev/does-not-exist"), "{err}");
        assert!(out.stdout.is_empty());
    }

    let out = cardwriter(&[
        "test",
        "--port",
        sim.path(),
        "--key",
        "/nonexistent/card.key",
    ]);
    let err = one_line_error(&out);
    assert!(err.contains("/nonexistent/card.key"), "{err}");
    assert_eq!(sim.stack_count(), 5, "no card moves without a key");
}
