//! The A4 driver against a real CUPS: a private cupsd with a cups-pdf queue. Jobs are followed
//! to completion, paper out and jams stop the queue and show in the device status, and after
//! the paper is replaced the held job prints.

use std::time::Duration;

use kiosk_drivers::document_printer::{IppDocumentPrinter, PrivateCups, QueueFault};
use kiosk_drivers::traits::{DocumentJob, DocumentJobState};
use kiosk_drivers::{Device, DeviceError, DeviceState, DocumentPrinterDevice, PaperLevel};

const LIMIT: Duration = Duration::from_secs(60);

/// A one-page PDF with one line of Helvetica text, built by hand with a correct xref table.
fn pdf(text: &str) -> Vec<u8> {
    let content = format!("BT /F1 24 Tf 72 720 Td ({text}) Tj ET");
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_string(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_string(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R \
         /Resources << /Font << /F1 5 0 R >> >> >>"
            .to_string(),
        format!(
            "<< /Length {} >>\nstream\n{content}\nendstream",
            content.len()
        ),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_string(),
    ];
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (i, body) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{body}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    out.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
    );
    for o in offsets {
        out.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    out
}

fn job(text: &str) -> DocumentJob {
    DocumentJob {
        title: format!("kiosk {text}"),
        pdf: pdf(text),
        copies: 1,
    }
}

fn pdftotext(path: &std::path::Path) -> String {
    let out = std::process::Command::new("pdftotext")
        .arg(path)
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils; scripts/setup-system.sh installs it)");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn start() -> (PrivateCups, IppDocumentPrinter) {
    let cups = PrivateCups::start().expect("private CUPS (scripts/setup-system.sh installs it)");
    let printer = IppDocumentPrinter::new(&cups.uri()).expect("driver");
    (cups, printer)
}

#[test]
fn a_job_is_followed_to_completion_and_arrives_as_pdf() {
    let (cups, mut printer) = start();
    let status = printer.status();
    assert_eq!(status.state, DeviceState::Online, "{status:?}");
    let report = printer.report().expect("report");
    assert!(!report.make_and_model.is_empty());

    let id = printer
        .print_document(&job("KIOSK TEST PAGE 1"))
        .expect("submit");
    let done = printer.wait(id, LIMIT).expect("job followed");
    assert_eq!(done.state, DocumentJobState::Completed, "{done:?}");
    assert_eq!(
        printer.job_state(id).expect("state"),
        DocumentJobState::Completed
    );
    let arrived = cups.wait_for_output(id, LIMIT).expect("PDF arrives");
    assert!(pdftotext(&arrived).contains("KIOSK TEST PAGE 1"));
}

#[test]
fn paper_out_stops_the_job_and_the_held_job_prints_after_the_paper_is_replaced() {
    let (cups, mut printer) = start();
    cups.set_fault(Some(QueueFault::PaperOut)).expect("fault");
    let id = printer.print_document(&job("HELD JOB")).expect("submit");
    let stopped = printer.wait(id, LIMIT).expect("followed");
    assert_eq!(stopped.state, DocumentJobState::Stopped, "{stopped:?}");
    let status = printer.status();
    assert_eq!(status.state, DeviceState::UserError, "{status:?}");
    assert_eq!(status.paper(), Some(PaperLevel::Out));
    assert!(!status.is_usable());
    assert!(
        cups.wait_for_output(id, Duration::from_secs(1)).is_err(),
        "nothing printed"
    );

    // Staff put paper in and press "resume" (the driver's reset).
    cups.set_fault(None).expect("clear");
    printer.reset().expect("resume");
    let done = printer.wait(id, LIMIT).expect("followed");
    assert_eq!(done.state, DocumentJobState::Completed, "{done:?}");
    assert!(pdftotext(&cups.wait_for_output(id, LIMIT).expect("arrives")).contains("HELD JOB"));
    assert!(printer.status().is_usable());
}

#[test]
fn a_jam_and_an_open_cover_are_reported() {
    let (cups, mut printer) = start();
    for (fault, check) in [
        (QueueFault::Jam, Some(PaperLevel::Jammed)),
        (QueueFault::CoverOpen, None),
    ] {
        cups.set_fault(Some(fault)).expect("fault");
        let id = printer.print_document(&job("JAM")).expect("submit");
        assert_eq!(
            printer.wait(id, LIMIT).expect("followed").state,
            DocumentJobState::Stopped
        );
        let status = printer.status();
        assert_eq!(
            status.state,
            DeviceState::UserError,
            "{fault:?}: {status:?}"
        );
        if let Some(paper) = check {
            assert_eq!(status.paper(), Some(paper));
        }
        printer.cancel(id).expect("cancel the held job");
        cups.set_fault(None).expect("clear");
        printer.reset().expect("resume");
        // CUPS keeps the backend's last reason until the printer next reports: a test page
        // after clearing the fault brings the status back.
        let test = printer.print_document(&job("TEST PAGE")).expect("submit");
        assert_eq!(
            printer.wait(test, LIMIT).expect("followed").state,
            DocumentJobState::Completed
        );
        assert!(
            printer.status().is_usable(),
            "{fault:?} cleared: {:?}",
            printer.status()
        );
    }
}

#[test]
fn a_queue_that_does_not_exist_is_no_device() {
    let (cups, _) = start();
    let mut missing =
        IppDocumentPrinter::new(&cups.uri().replace(cups.queue(), "no-such-queue")).expect("uri");
    assert!(matches!(
        missing.report(),
        Err(DeviceError::Disconnected(_))
    ));
    assert_eq!(missing.status().state, DeviceState::NoDevice);
}
