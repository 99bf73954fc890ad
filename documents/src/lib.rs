//! A4 certificates of the e政务 kiosk as PDF (DESIGN §4 `print_document`), and checks of a
//! printed PDF (text, pages, QR code) for tests and the operator CLI.
//!
//! * [`fonts`] — finds and loads the CJK fonts that are embedded (subset) in every PDF.
//! * [`text_layout`] — measures and wraps mixed Chinese/Latin text.
//! * [`certificate`] — lays out a [`DocumentContent`] on A4 pages: title, issuer, statement,
//!   body table, notes, verification QR code, date and seal area, page numbers.
//! * [`draw`] — turns the laid-out pages into PDF with `krilla`.
//! * [`inspect`] — reads a PDF back (poppler's `pdftotext`/`pdfinfo`/`pdftoppm`) and decodes
//!   its QR code.
//!
//! Certificates carry masked personal data only, like receipts (DESIGN §6); the full record is
//! behind the verification QR code.

pub mod certificate;
pub mod draw;
pub mod fonts;
pub mod inspect;
pub mod text_layout;

pub use certificate::certificate_pdf;
pub use fonts::DocumentFonts;
pub use kiosk_core::flow::DocumentContent;

/// Why a document could not be made.
#[derive(Debug, thiserror::Error)]
pub enum DocumentError {
    /// No usable CJK font.
    #[error("{0}")]
    Font(String),
    /// The PDF writer refused.
    #[error("PDF could not be written: {0}")]
    Pdf(String),
    /// The QR code payload does not fit.
    #[error("verification QR code: {0}")]
    Qr(String),
}
