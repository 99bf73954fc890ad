//! The A4 printer's self-test page: the certificate layout (table, QR code, seal area) with the
//! kiosk's and the staff member's ids, certifying nothing.

use crate::app::clock::wall_clock_unix_ms;
use crate::app::controller::UTC_OFFSET_MINUTES;
use kiosk_core::flow::DocumentContent;
use kiosk_core::text::LocalizedText;

/// The A4 self-test page: the certificate layout with the kiosk's and the staff member's ids.
pub fn a4_test_page(kiosk_id: &str, staff: &str) -> DocumentContent {
    let line = |zh: &str, en: &str, value: String| kiosk_core::flow::ReceiptLine {
        label: LocalizedText::new(zh, en),
        value: LocalizedText::new(value.clone(), value),
    };
    let now = kiosk_core::wall_clock::CivilTime::at(wall_clock_unix_ms(), UTC_OFFSET_MINUTES);
    DocumentContent {
        template: "self_test".into(),
        title: LocalizedText::new("打印机自检页", "Printer self-test page"),
        issuer: LocalizedText::new("自助机维护", "Kiosk maintenance"),
        statement: Some(LocalizedText::new(
            "本页用于检查 A4 打印机的字迹、表格和二维码是否清晰，不作任何证明使用。",
            "This page checks that text, tables and QR codes print clearly. It certifies nothing.",
        )),
        rows: vec![
            line("终端", "Kiosk", kiosk_id.to_string()),
            line("维护人员", "Staff", staff.to_string()),
            line("时间", "Time", now.display_minutes()),
            line("字样", "Sample", "0123456789 ABCDEFG 中文字样".to_string()),
        ],
        notes: Vec::new(),
        transaction_id: format!("SELFTEST-{}", now.compact_date()),
        kiosk_id: kiosk_id.to_string(),
        issued_on: now.iso_date(),
        valid_until: None,
        verify: kiosk_core::flow::PrintedQr {
            url: format!("https://zwfw.example.gov.cn/selftest?kiosk={kiosk_id}"),
            caption: LocalizedText::new("测试二维码", "Test QR code"),
        },
    }
}
