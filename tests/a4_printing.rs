//! A4 certificates end to end (issue 4): a citizen journey whose `print_document` step goes
//! through the real UI, the document worker, IPP and a private CUPS with a cups-pdf queue; and
//! paper running out mid-job: the citizen is told what to do, the transaction and a fault reach
//! the centre, the item is unavailable until staff refill and test the printer, and the
//! certificate is reprinted by its transaction number.

mod support;

use kiosk::demo::JourneyWalker;
use kiosk::ui::driver::tap;
use kiosk_core::text::Language;
use kiosk_documents::inspect::read_pdf;
use kiosk_drivers::document_printer::{PrivateCups, QueueFault};
use slint::ComponentHandle;
use std::path::PathBuf;
use std::time::{Duration, Instant};
use support::staff::{diag, enter, open_faults, tile_available, wait_until};
use support::start_kiosk;

/// Social insurance contribution certificate: identify, consent, form, submit, A4.
const ITEM: &str = "social-insurance-record";
const VERIFY: &str = "https://zwfw.example.gov.cn/verify?code=";

fn pdfs(cups: &PrivateCups) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(cups.output_dir())
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    files.retain(|f| f.extension().is_some_and(|e| e == "pdf"));
    files.sort();
    files
}

fn wait_for_pdfs(cups: &PrivateCups, n: usize) -> Vec<PathBuf> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let files = pdfs(cups);
        if files.len() >= n {
            return files;
        }
        assert!(
            Instant::now() < deadline,
            "{n} PDFs expected, have {files:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The certificate's verification QR code, from the PDF that arrived.
fn verification_code(pdf: &PathBuf) -> String {
    let reading = read_pdf(pdf).expect("read the printed PDF");
    assert_eq!(reading.pages, 1, "{pdf:?}");
    assert_eq!(reading.qr_codes.len(), 1, "{pdf:?}");
    reading.qr_codes[0].clone()
}

/// The transaction number quoted in a message ("办件编号：KSK-DEMO-0001-20261122-000002。").
fn number_in(text: &str) -> Option<String> {
    let start = text.find("KSK-")?;
    Some(
        text[start..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
            .collect(),
    )
}

#[test]
fn a_certificate_prints_and_a_paper_out_mid_job_is_recovered_and_reprinted() {
    let kiosk = start_kiosk("a4");
    let ui = &kiosk.ui;
    let cups = kiosk
        .rig
        .document_printer
        .as_ref()
        .expect("the demo rig's private CUPS (scripts/setup-system.sh installs it)");
    wait_until(ui, "A4 item available", 20, |ui| tile_available(ui, ITEM));
    let walker = JourneyWalker::new(ui, &kiosk.rig, None);

    // 1. With paper: the certificate arrives and its QR code verifies this transaction.
    let record = walker.walk(ITEM, Language::Zh, false);
    assert_eq!(record.outcome, "completed", "{record:?}");
    assert!(record.screens.iter().any(|s| s == "processing"));
    let first = record.transaction_id.clone().expect("transaction number");
    let printed = wait_for_pdfs(cups, 1);
    assert_eq!(verification_code(&printed[0]), format!("{VERIFY}{first}"));

    // 2. The paper runs out while the certificate prints.
    cups.set_fault(Some(QueueFault::PaperOut)).unwrap();
    let record = walker.walk(ITEM, Language::Zh, false);
    assert!(
        record.outcome.contains("文件未能打印"),
        "the citizen is told: {}",
        record.outcome
    );
    assert!(record.outcome.contains("办件编号"), "{}", record.outcome);
    let id = record
        .transaction_id
        .clone()
        .or_else(|| number_in(&record.outcome))
        .expect("number shown for collecting the result");
    assert_ne!(id, first);
    assert_eq!(pdfs(cups).len(), 1, "nothing printed without paper");

    // The transaction stands and a document-printer fault is open; both reach the centre.
    wait_until(ui, "A4 fault opened", 20, |_| {
        open_faults(&kiosk)
            .iter()
            .any(|(device, code)| device == "document_printer" && code == "paper_out")
    });
    assert!(
        ui.runtime
            .borrow()
            .wait_for_outbox_drained(Duration::from_secs(20))
    );
    let listing = kiosk.rig.central_transactions().unwrap();
    assert_eq!(listing.iter().filter(|t| t.transaction_id == id).count(), 1);
    let central = rusqlite::Connection::open(kiosk.dir.join("central.sqlite")).unwrap();
    let fault_events: i64 = central
        .query_row(
            r#"SELECT COUNT(*) FROM received_events
               WHERE kind = 'fault_opened' AND payload LIKE '%"device":"document_printer"%'"#,
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(fault_events >= 1, "the A4 fault reached the centre");

    // Home: the item says why it cannot be done.
    let k = ui.window.global::<kiosk::Kiosk>();
    wait_until(ui, "home", 10, |_| k.get_page() == "home");
    assert!(!tile_available(ui, ITEM));
    use slint::Model;
    let reason = k
        .get_items()
        .iter()
        .find(|t| t.code == ITEM)
        .map(|t| t.reason.to_string())
        .unwrap();
    assert!(reason.contains("打印"), "{reason}");

    // 3. Staff refill the tray, print a test page (which restarts the queue), then reprint the
    //    citizen's certificate by its number.
    cups.set_fault(None).unwrap();
    enter(ui);
    tap(&ui.window, "diag-self-test:document_printer").unwrap();
    wait_until(ui, "test page printed", 60, |ui| {
        diag(ui).get_message().contains("测试页已打印")
    });
    assert_eq!(pdfs(cups).len(), 2);
    support::staff::type_transaction_number(ui, &id);
    tap(&ui.window, "diag-reprint").unwrap();
    wait_until(ui, "certificate reprinted", 60, |ui| {
        diag(ui).get_message().contains("A4 证明已补打")
    });
    let printed = wait_for_pdfs(cups, 3);
    let codes: Vec<String> = printed.iter().map(verification_code).collect();
    assert!(codes.contains(&format!("{VERIFY}{id}")), "{codes:?}");

    // The printer is usable again: the fault closes and the item comes back.
    wait_until(ui, "A4 fault cleared", 30, |_| {
        !open_faults(&kiosk)
            .iter()
            .any(|(d, _)| d == "document_printer")
    });
    tap(&ui.window, "diag-exit").ok();
    ui.pump();
    wait_until(ui, "item available again", 30, |ui| {
        tile_available(ui, ITEM)
    });
}
