//! Every A4 template of the demo catalogue becomes a PDF whose text, page count and
//! verification QR code are what the citizen and a verifier would read.

mod common;

use std::path::{Path, PathBuf};

use common::{content, layouts, squeeze};

use kiosk_core::flow::ReceiptLine;
use kiosk_core::text::{Language, LocalizedText};
use kiosk_documents::inspect::read_pdf_bytes;
use kiosk_documents::{DocumentFonts, certificate_pdf};

fn fonts() -> DocumentFonts {
    DocumentFonts::find().expect("CJK fonts (run scripts/setup-system.sh)")
}

fn out_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/certificates");
    std::fs::create_dir_all(&dir).expect("target dir");
    dir
}

#[test]
fn every_demo_template_prints_its_words_and_a_verifiable_qr_code() {
    let fonts = fonts();
    let layouts = layouts();
    assert_eq!(layouts.len(), 5, "the demo catalogue's A4 items");
    for (item, layout) in layouts {
        let content = content(&layout);
        let pdf = certificate_pdf(&content, Language::Zh, &fonts).expect("pdf");
        std::fs::write(out_dir().join(format!("{item}.pdf")), &pdf).expect("write");
        assert!(pdf.starts_with(b"%PDF-"), "{item}");
        assert!(
            pdf.len() < 600_000,
            "{item}: fonts subset, got {} bytes",
            pdf.len()
        );
        let reading = read_pdf_bytes(&pdf).expect("read back");
        let text = squeeze(&reading.text);
        assert_eq!(reading.pages, 1, "{item}");
        assert!(
            text.contains(&squeeze(&content.title.zh)),
            "{item}: title in {text}"
        );
        assert!(text.contains(&content.issuer.zh), "{item}: issuer");
        for row in &content.rows {
            assert!(
                text.contains(&squeeze(&row.label.zh)),
                "{item}: label {}",
                row.label.zh
            );
            assert!(
                text.contains(&squeeze(&row.value.zh)),
                "{item}: value {}",
                row.value.zh
            );
        }
        assert!(text.contains("2026年11月22日"), "{item}: date of issue");
        assert!(text.contains("第1页/共1页"), "{item}: page number");
        assert!(!text.contains("Page1of1"), "{item}: Chinese only");
        assert_eq!(reading.qr_codes, vec![content.verify.url.clone()], "{item}");
    }
}

#[test]
fn english_adds_translations_under_the_chinese() {
    let fonts = fonts();
    let (_, layout) = layouts()
        .into_iter()
        .find(|(_, l)| l.template.id == "temporary_identity_certificate")
        .expect("template");
    let content = content(&layout);
    let pdf = certificate_pdf(&content, Language::En, &fonts).expect("pdf");
    let text = read_pdf_bytes(&pdf).expect("read").text;
    for expected in [
        "Temporary Identity Certificate",
        "Public Security Bureau",
        "Valid until",
        "Page 1 of 1",
    ] {
        assert!(text.contains(expected), "{expected:?} in {text}");
    }
    assert!(squeeze(&text).contains("临时身份证明"));
}

#[test]
fn a_long_table_continues_on_a_second_page_with_page_numbers() {
    let fonts = fonts();
    let (_, layout) = layouts().into_iter().next().expect("a template");
    let mut content = content(&layout);
    let extra: Vec<ReceiptLine> = (1..=40)
        .map(|i| ReceiptLine {
            label: LocalizedText::new(format!("缴费月份 {i}"), format!("Month {i}")),
            value: LocalizedText::new(format!("第 {i} 行 已缴费"), format!("Row {i} paid")),
        })
        .collect();
    content.rows.extend(extra);
    let pdf = certificate_pdf(&content, Language::Zh, &fonts).expect("pdf");
    let reading = read_pdf_bytes(&pdf).expect("read");
    assert!(reading.pages >= 2, "pages: {}", reading.pages);
    let text = squeeze(&reading.text);
    assert!(
        text.contains(&format!("第1页/共{}页", reading.pages)),
        "{text}"
    );
    assert!(text.contains(&format!("第{0}页/共{0}页", reading.pages)));
    assert!(text.contains("（续）"));
    assert!(text.contains("第40行已缴费"), "the last row is printed");
    assert_eq!(
        reading.qr_codes.len(),
        1,
        "one verification code, on the last page"
    );
}
