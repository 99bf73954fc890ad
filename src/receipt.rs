//! Lays out a receipt (the flow engine's [`ReceiptContent`]) for the 80 mm ESC/POS printer:
//! Chinese first, English beneath when the citizen used English, masked applicant only, and a
//! QR code from the catalogue (progress lookup, or uploading missing materials).

use kiosk_core::flow::ReceiptContent;
use kiosk_core::text::{Language, LocalizedText};
use kiosk_drivers::escpos::receipt::{Align, Cut, QrErrorCorrection, QrOptions, ReceiptBuilder};

fn both(text: &LocalizedText, language: Language) -> Vec<String> {
    let mut lines = vec![text.zh.clone()];
    if language == Language::En && !text.en.is_empty() && text.en != text.zh {
        lines.push(text.en.clone());
    }
    lines
}

/// The ESC/POS bytes of one receipt.
pub fn encode_receipt(content: &ReceiptContent, language: Language) -> Vec<u8> {
    let mut b = ReceiptBuilder::new()
        .align(Align::Center)
        .bold(true)
        .size(2, 2);
    for line in both(&content.title, language) {
        b = b.line(&line);
    }
    b = b.normal_size().bold(false);
    for line in both(&content.department_name, language) {
        b = b.line(&line);
    }
    b = b
        .line("------------------------------------------------")
        .align(Align::Left);
    let label = |zh: &str, en: &str| match language {
        Language::Zh => zh.to_string(),
        Language::En => format!("{zh} {en}"),
    };
    b = b
        .bold(true)
        .line(&format!(
            "{}: {}",
            label("办件编号", "No."),
            content.transaction_id
        ))
        .bold(false);
    b = b.line(&format!(
        "{}: {}",
        label("事项", "Service"),
        content.item_name.zh
    ));
    if language == Language::En && !content.item_name.en.is_empty() {
        b = b.line(&format!("      {}", content.item_name.en));
    }
    if let Some(applicant) = &content.applicant {
        // A name with a character outside GBK (生僻字) is printed as an image.
        let name = format!(
            "{}: {}",
            label("申请人", "Applicant"),
            applicant.masked_name
        );
        b = match b.clone().line_or_image(&name) {
            Ok(with_name) => with_name,
            Err(e) => {
                tracing::warn!(error = %e, "name printed as text");
                b.line(&name)
            }
        };
        b = b.line(&format!(
            "{}: {}",
            label("证件号码", "ID No."),
            applicant.masked_id_number
        ));
    }
    for line in &content.lines {
        b = b.line(&format!(
            "{}: {}",
            line.label.get(language),
            line.value.get(language)
        ));
    }
    b = b.line(&format!("{}: {}", label("办理时间", "Time"), content.time));
    b = b.line(&format!("{}: {}", label("终端", "Kiosk"), content.kiosk_id));
    if !content.next_steps.is_empty() {
        b = b.line("------------------------------------------------");
        b = b
            .bold(true)
            .line(&label("后续事项", "Next steps"))
            .bold(false);
        for step in &content.next_steps {
            for line in both(step, language) {
                b = b.line(&format!("· {line}"));
            }
        }
    }
    b = b.align(Align::Center).feed(1);
    if let Some(qr) = &content.qr {
        let options = QrOptions {
            module_size: 6,
            error_correction: QrErrorCorrection::M,
            ..QrOptions::default()
        };
        b = match b.clone().qr(&qr.url, options) {
            Ok(with_qr) => with_qr,
            Err(e) => {
                tracing::warn!(error = %e, "receipt QR code left out");
                b
            }
        };
        for line in both(&qr.caption, language) {
            b = b.line(&line);
        }
    }
    b.feed(3).cut(Cut::Partial).build().into_bytes()
}
