//! Real-time status: DLE EOT n (`10 04 n`) and its one-byte replies (reference §2.7).

use crate::status::{DeviceClass, DeviceState, DeviceStatus, PaperLevel, StatusDetail};

/// Which status DLE EOT asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusQuery {
    /// n = 1: printer status (online/offline).
    Printer,
    /// n = 2: offline cause (cover, paper end, error).
    OfflineCause,
    /// n = 3: error cause (cutter, unrecoverable…).
    ErrorCause,
    /// n = 4: roll paper sensor.
    RollPaper,
}

impl StatusQuery {
    /// All four, in order.
    pub const ALL: [StatusQuery; 4] = [
        StatusQuery::Printer,
        StatusQuery::OfflineCause,
        StatusQuery::ErrorCause,
        StatusQuery::RollPaper,
    ];

    /// The n parameter.
    pub fn n(self) -> u8 {
        match self {
            StatusQuery::Printer => 1,
            StatusQuery::OfflineCause => 2,
            StatusQuery::ErrorCause => 3,
            StatusQuery::RollPaper => 4,
        }
    }

    /// The query for n, if it is one of 1–4.
    pub fn from_n(n: u8) -> Option<StatusQuery> {
        StatusQuery::ALL.into_iter().find(|q| q.n() == n)
    }

    /// The three command bytes.
    pub fn command(self) -> [u8; 3] {
        [0x10, 0x04, self.n()]
    }
}

/// Whether a byte has the fixed reply pattern `0xx1xx10`.
pub fn is_status_byte(byte: u8) -> bool {
    byte & 0b1001_0011 == 0b0001_0010
}

/// The base byte with no flag set.
pub const STATUS_OK: u8 = 0x12;

/// The four status bytes decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PrinterReport {
    /// n=1 bit 3.
    pub offline: bool,
    /// n=2 bit 2.
    pub cover_open: bool,
    /// n=2 bit 5: printing stopped because of paper end.
    pub stopped_paper_end: bool,
    /// n=2 bit 6.
    pub error_occurred: bool,
    /// n=3 bit 2 or bit 6: a recoverable error.
    pub recoverable_error: bool,
    /// n=3 bit 3.
    pub cutter_error: bool,
    /// n=3 bit 5.
    pub unrecoverable_error: bool,
    /// n=4 bits 2 and 3.
    pub paper_near_end: bool,
    /// n=4 bits 5 and 6.
    pub paper_end: bool,
}

impl PrinterReport {
    /// Decode the replies to n = 1, 2, 3, 4 (in that order). Bytes must be valid status bytes.
    pub fn from_bytes(bytes: [u8; 4]) -> PrinterReport {
        let [printer, offline, error, paper] = bytes;
        let bit = |b: u8, n: u8| b & (1 << n) != 0;
        PrinterReport {
            offline: bit(printer, 3),
            cover_open: bit(offline, 2),
            stopped_paper_end: bit(offline, 5),
            error_occurred: bit(offline, 6),
            recoverable_error: bit(error, 2) || bit(error, 6),
            cutter_error: bit(error, 3),
            unrecoverable_error: bit(error, 5),
            paper_near_end: bit(paper, 2) && bit(paper, 3),
            paper_end: bit(paper, 5) && bit(paper, 6),
        }
    }

    /// Paper level from the roll-paper and offline-cause bits.
    pub fn paper(&self) -> PaperLevel {
        if self.paper_end || self.stopped_paper_end {
            PaperLevel::Out
        } else if self.is_jam() {
            PaperLevel::Jammed
        } else if self.paper_near_end {
            PaperLevel::Low
        } else {
            PaperLevel::Full
        }
    }

    /// A paper jam: "error occurred" with a recoverable (mechanical) error cause and no cutter
    /// fault. Printers report a jam this way in the Epson-style tables (ref §2.7); the exact bit
    /// varies by model [inferred].
    pub fn is_jam(&self) -> bool {
        self.error_occurred && self.recoverable_error && !self.cutter_error
    }

    /// The report in the common status model.
    pub fn to_device_status(&self) -> DeviceStatus {
        let paper = self.paper();
        let state = if self.cutter_error || self.unrecoverable_error {
            DeviceState::HardwareError
        } else if self.cover_open || matches!(paper, PaperLevel::Out | PaperLevel::Jammed) {
            DeviceState::UserError
        } else if self.offline || self.error_occurred || self.recoverable_error {
            DeviceState::Offline
        } else {
            DeviceState::Online
        };
        let mut status = DeviceStatus::new(DeviceClass::ReceiptPrinter, state).with_detail(
            StatusDetail::Printer {
                paper,
                cover_open: self.cover_open,
                cutter_error: self.cutter_error,
            },
        );
        status.last_error = self.problem();
        status
    }

    fn problem(&self) -> Option<String> {
        let mut problems = Vec::new();
        if self.cutter_error {
            problems.push("autocutter error");
        }
        if self.unrecoverable_error {
            problems.push("unrecoverable error");
        }
        if self.cover_open {
            problems.push("cover open");
        }
        match self.paper() {
            PaperLevel::Out => problems.push("paper end"),
            PaperLevel::Jammed => problems.push("paper jam"),
            _ => {}
        }
        if self.offline && problems.is_empty() {
            problems.push("printer offline");
        }
        (!problems.is_empty()).then(|| problems.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_recoverable_error_with_error_occurred_is_a_jam() {
        // DLE EOT 1..4: offline; error occurred (n=2 bit 6); recoverable error (n=3 bit 2).
        let report = PrinterReport::from_bytes([0x1A, 0x52, 0x16, 0x12]);
        assert!(report.is_jam());
        assert_eq!(report.paper(), PaperLevel::Jammed);
        let status = report.to_device_status();
        assert_eq!(status.state, DeviceState::UserError);
        assert!(!status.is_usable());
        assert_eq!(status.last_error.as_deref(), Some("paper jam"));
        // A cutter fault is not a jam.
        let cutter = PrinterReport::from_bytes([0x1A, 0x52, 0x1A, 0x12]);
        assert!(!cutter.is_jam());
    }

    #[test]
    fn pattern_accepts_published_bytes_and_rejects_others() {
        for byte in [0x12, 0x1A, 0x16, 0x32, 0x52, 0x1E, 0x72, 0x7E] {
            assert!(is_status_byte(byte), "{byte:#04x}");
        }
        for byte in [0x81, 0x00, 0x10, 0x13, 0x02, 0xFF, 0x92] {
            assert!(!is_status_byte(byte), "{byte:#04x}");
        }
        assert_eq!(StatusQuery::RollPaper.command(), [0x10, 0x04, 0x04]);
        assert_eq!(StatusQuery::Printer.command(), [0x10, 0x04, 0x01]);
    }

    #[test]
    fn published_meanings_decode() {
        // n=1 0x1A → offline; n=3 0x1A → autocutter error; n=4 0x12 → paper adequate.
        let r = PrinterReport::from_bytes([0x1A, 0x12, 0x12, 0x12]);
        assert!(r.offline && !r.cutter_error);
        assert_eq!(r.to_device_status().state, DeviceState::Offline);
        let r = PrinterReport::from_bytes([0x12, 0x52, 0x1A, 0x12]);
        assert!(r.cutter_error && r.error_occurred);
        assert_eq!(r.to_device_status().state, DeviceState::HardwareError);
        let ok = PrinterReport::from_bytes([0x12; 4]);
        assert_eq!(ok.paper(), PaperLevel::Full);
        assert!(ok.to_device_status().is_usable());
        let low = PrinterReport::from_bytes([0x12, 0x12, 0x12, 0x1E]);
        assert_eq!(low.paper(), PaperLevel::Low);
        assert!(low.to_device_status().is_usable());
        for out in [0x72, 0x7E] {
            let r = PrinterReport::from_bytes([0x1A, 0x32, 0x12, out]);
            assert_eq!(r.paper(), PaperLevel::Out);
            assert_eq!(r.to_device_status().state, DeviceState::UserError);
            assert!(!r.to_device_status().is_usable());
        }
        let cover = PrinterReport::from_bytes([0x1A, 0x16, 0x12, 0x12]);
        assert!(cover.cover_open);
        assert_eq!(
            cover.to_device_status().last_error.as_deref(),
            Some("cover open")
        );
    }
}
