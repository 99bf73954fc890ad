//! What printed results look like, as catalogue data: A4 certificate templates
//! (`[[document_templates]]`) and the QR code on a receipt (`print_receipt.qr`, or the
//! catalogue's `progress_url`).

use serde::{Deserialize, Serialize};

use crate::text::LocalizedText;

/// `[[document_templates]]`: the layout of one A4 certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DocumentTemplate {
    /// Name that `print_document.template` refers to.
    pub id: String,
    /// Document title, e.g. 临时身份证明.
    pub title: LocalizedText,
    /// Code of the issuing department (its name goes under the title and in the seal area).
    pub issuer: String,
    /// The certifying paragraph above the table.
    #[serde(default)]
    pub statement: Option<LocalizedText>,
    /// The body table, in order.
    pub rows: Vec<DocumentRow>,
    /// Days the certificate is valid from the day of issue; no validity line when absent.
    #[serde(default)]
    pub validity_days: Option<u32>,
    /// Verification address; the certificate's verification code (its transaction number) is
    /// appended and the result printed as a QR code.
    pub verify_url: String,
    /// Notes printed under the table, one paragraph each.
    #[serde(default)]
    pub notes: Vec<LocalizedText>,
}

/// One row of a certificate's body table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DocumentRow {
    /// Row label.
    pub label: LocalizedText,
    /// Where the value comes from (see [`RowSource`]).
    pub source: String,
}

/// The value a certificate row shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowSource {
    /// `applicant.name`: the holder's name, masked.
    ApplicantName,
    /// `applicant.id_number`: the holder's ID number, masked.
    ApplicantIdNumber,
    /// `item.name`: the service item.
    ItemName,
    /// `transaction_id`: the transaction number (also the verification code).
    TransactionId,
    /// `issued_on`: the date of issue.
    IssuedOn,
    /// `valid_until`: the last valid day (needs `validity_days`).
    ValidUntil,
    /// `kiosk_id`: the issuing kiosk.
    KioskId,
    /// `field.<key>`: a form answer (masked like on receipts).
    Field(String),
    /// `text:<words>`: fixed text, the same on every certificate.
    Text(String),
}

impl RowSource {
    /// Parses the `source` notation; `None` names an unknown source.
    pub fn parse(source: &str) -> Option<RowSource> {
        let s = source.trim();
        Some(match s {
            "applicant.name" => RowSource::ApplicantName,
            "applicant.id_number" => RowSource::ApplicantIdNumber,
            "item.name" => RowSource::ItemName,
            "transaction_id" => RowSource::TransactionId,
            "issued_on" => RowSource::IssuedOn,
            "valid_until" => RowSource::ValidUntil,
            "kiosk_id" => RowSource::KioskId,
            _ => {
                if let Some(key) = s.strip_prefix("field.") {
                    if key.is_empty() {
                        return None;
                    }
                    RowSource::Field(key.to_string())
                } else if let Some(text) = s.strip_prefix("text:") {
                    RowSource::Text(text.trim().to_string())
                } else {
                    return None;
                }
            }
        })
    }

    /// Every notation [`RowSource::parse`] accepts, for error messages.
    pub const NOTATIONS: &'static str = "applicant.name, applicant.id_number, item.name, \
         transaction_id, issued_on, valid_until, kiosk_id, field.<key>, text:<words>";
}

/// What the QR code on a receipt is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReceiptQrPurpose {
    /// Follow the application's progress.
    Progress,
    /// Upload materials still missing, from a phone (the "免跑腿" envelope).
    UploadMaterials,
}

/// `print_receipt.qr`: the receipt's QR code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReceiptQr {
    /// What scanning it does.
    pub purpose: ReceiptQrPurpose,
    /// Address; the transaction number is appended.
    pub url: String,
    /// Line printed under the code; a default per purpose when absent.
    #[serde(default)]
    pub caption: Option<LocalizedText>,
}

impl ReceiptQrPurpose {
    /// The default caption under the code.
    pub fn default_caption(self) -> LocalizedText {
        match self {
            ReceiptQrPurpose::Progress => {
                LocalizedText::new("扫码查询办理进度", "Scan to follow your application")
            }
            ReceiptQrPurpose::UploadMaterials => LocalizedText::new(
                "扫码用手机补传材料，无需再跑一趟",
                "Scan to upload missing documents from your phone",
            ),
        }
    }
}

/// Checks an address a QR code will carry: `https://` and no spaces.
pub fn is_web_address(url: &str) -> bool {
    url.starts_with("https://")
        && url.len() > "https://".len()
        && !url.contains(char::is_whitespace)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn row_sources_parse() {
        assert_eq!(
            RowSource::parse("applicant.name"),
            Some(RowSource::ApplicantName)
        );
        assert_eq!(
            RowSource::parse("field.purpose"),
            Some(RowSource::Field("purpose".into()))
        );
        assert_eq!(
            RowSource::parse("text: 已缴清"),
            Some(RowSource::Text("已缴清".into()))
        );
        assert_eq!(RowSource::parse("field."), None);
        assert_eq!(RowSource::parse("applicant.address"), None);
    }

    #[test]
    fn web_addresses() {
        assert!(is_web_address("https://zwfw.example.gov.cn/v?c="));
        assert!(!is_web_address("http://x"));
        assert!(!is_web_address("https://a b"));
        assert!(!is_web_address("https://"));
    }
}
