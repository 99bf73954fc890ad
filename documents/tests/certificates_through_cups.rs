//! Each A4 certificate of the demo catalogue printed through a real CUPS queue (private cupsd,
//! cups-pdf): the PDF that arrives has one page, the words a person reads on it (by OCR: the
//! PostScript round trip drops the text layer) and a QR code that decodes to the verification
//! address.

mod common;

use std::time::Duration;

use kiosk_core::text::Language;
use kiosk_documents::inspect::{ocr_pdf, read_pdf};
use kiosk_documents::{DocumentFonts, certificate_pdf};
use kiosk_drivers::document_printer::{IppDocumentPrinter, PrivateCups};
use kiosk_drivers::traits::{DocumentJob, DocumentJobState};

const LIMIT: Duration = Duration::from_secs(120);

/// Letters and digits only (OCR confuses full- and half-width punctuation and spacing).
fn letters(text: &str) -> Vec<char> {
    text.chars()
        .filter(|c| c.is_alphanumeric() || *c == '*')
        .collect()
}

fn text(chars: &[char]) -> String {
    chars.iter().collect()
}

/// `must` appears in `seen` exactly.
fn near_exact(seen: &[char], must: &[char]) -> bool {
    seen.windows(must.len()).any(|w| w == must)
}

/// `must` appears in `seen` with at most one character read wrong.
fn near(seen: &[char], must: &[char]) -> bool {
    must.is_empty()
        || seen
            .windows(must.len())
            .any(|w| w.iter().zip(must).filter(|(a, b)| a != b).count() <= 1)
}

#[test]
fn every_demo_certificate_prints_through_cups_with_its_text_and_qr_code() {
    let fonts = DocumentFonts::find().expect("CJK fonts");
    let cups = PrivateCups::start().expect("private CUPS (scripts/setup-system.sh installs it)");
    let printer = IppDocumentPrinter::new(&cups.uri()).expect("driver");
    for (item, layout) in common::layouts() {
        let content = common::content(&layout);
        let pdf = certificate_pdf(&content, Language::Zh, &fonts).expect("pdf");
        let id = printer
            .submit(&DocumentJob {
                title: content.title.zh.clone(),
                pdf,
                copies: 1,
            })
            .expect("submit");
        let job = printer.wait(id, LIMIT).expect("job followed");
        assert_eq!(job.state, DocumentJobState::Completed, "{item}: {job:?}");
        let arrived = cups.wait_for_output(id, LIMIT).expect("PDF arrives");

        let reading = read_pdf(&arrived).expect("read back");
        assert_eq!(reading.pages, 1, "{item}");
        assert_eq!(reading.qr_codes, vec![content.verify.url.clone()], "{item}");

        let seen = letters(&ocr_pdf(&arrived).expect("OCR"));
        // Numbers exactly; words allowing OCR one misread character.
        for must in [content.transaction_id.as_str(), "2026年11月22日"] {
            assert!(
                near_exact(&seen, &letters(must)),
                "{item}: {must:?} not in {}",
                seen.iter().collect::<String>()
            );
        }
        for must in [&content.title.zh, &content.issuer.zh] {
            assert!(
                near(&seen, &letters(must)),
                "{item}: {must:?} not in {}",
                text(&seen)
            );
        }
        for row in &content.rows {
            assert!(
                near(&seen, &letters(&row.label.zh)),
                "{item}: {:?} not in {}",
                row.label.zh,
                text(&seen)
            );
            assert!(
                near(&seen, &letters(&row.value.zh)),
                "{item}: {:?} not in {}",
                row.value.zh,
                text(&seen)
            );
        }
    }
}
