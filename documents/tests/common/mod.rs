//! Shared by the certificate tests: the demo catalogue's templates and sample contents.

use std::path::Path;

use kiosk_core::catalogue::{Catalogue, DocumentLayout, RowSource, Step};
use kiosk_core::flow::{DocumentContent, PrintedQr, ReceiptLine};
use kiosk_core::text::LocalizedText;

pub const NAME: &str = "张*";
pub const ID: &str = "110101********0015";
pub const TX: &str = "K-0001-20261122-000042";

pub fn catalogue() -> Catalogue {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../kiosk-config/catalogue.toml");
    Catalogue::load(path).expect("demo catalogue")
}

pub fn layouts() -> Vec<(String, DocumentLayout)> {
    catalogue()
        .items
        .iter()
        .flat_map(|item| {
            item.steps.iter().filter_map(move |s| match s {
                Step::PrintDocument(d) => Some((
                    item.code.clone(),
                    d.layout.as_deref().expect("resolved").clone(),
                )),
                _ => None,
            })
        })
        .collect()
}

/// What the flow engine would fill in, with fixed sample values.
pub fn content(layout: &DocumentLayout) -> DocumentContent {
    let same = |s: &str| LocalizedText::new(s, s);
    let rows = layout
        .rows
        .iter()
        .map(|(label, source)| ReceiptLine {
            label: label.clone(),
            value: match source {
                RowSource::ApplicantName => same(NAME),
                RowSource::ApplicantIdNumber => same(ID),
                RowSource::ItemName => same("事项"),
                RowSource::TransactionId => same(TX),
                RowSource::IssuedOn => same("2026-11-22"),
                RowSource::ValidUntil => same("2026-12-21"),
                RowSource::KioskId => same("K-0001"),
                RowSource::Field(key) => same(&format!("答案-{key}")),
                RowSource::Text(t) => same(t),
            },
        })
        .collect();
    DocumentContent {
        template: layout.template.id.clone(),
        title: layout.template.title.clone(),
        issuer: layout.issuer_name.clone(),
        statement: layout.template.statement.clone(),
        rows,
        notes: layout.template.notes.clone(),
        transaction_id: TX.into(),
        kiosk_id: "K-0001".into(),
        issued_on: "2026-11-22".into(),
        valid_until: layout.template.validity_days.map(|_| "2026-12-21".into()),
        verify: PrintedQr {
            url: format!("{}{TX}", layout.template.verify_url),
            caption: LocalizedText::new(format!("扫码核验真伪　核验码 {TX}"), "Scan to verify"),
        },
    }
}

/// pdftotext -layout may put spaces between spaced-out title characters.
#[allow(dead_code)] // not every test file uses it
pub fn squeeze(text: &str) -> String {
    text.chars().filter(|c| !c.is_whitespace()).collect()
}
