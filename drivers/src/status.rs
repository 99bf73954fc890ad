//! The one status model shared by every device class (DESIGN §5, in the spirit of CEN/XFS).
//!
//! A [`DeviceStatus`] says which class of device it is about, its overall [`DeviceState`], the
//! class-specific [`StatusDetail`] and the last error text, if any.

use serde::{Deserialize, Serialize};

/// The kinds of peripheral a kiosk can have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceClass {
    /// Second-generation resident ID card reader (SAM_V module).
    IdCardReader,
    /// Face or document camera.
    Camera,
    /// 80 mm thermal receipt printer (ESC/POS).
    ReceiptPrinter,
    /// A4 document printer (IPP/CUPS).
    DocumentPrinter,
    /// Card dispenser with encoder (card issue / rewrite).
    CardWriter,
    /// QR / barcode scanner.
    QrScanner,
}

impl DeviceClass {
    /// Every class, in a stable order.
    pub const ALL: [DeviceClass; 6] = [
        DeviceClass::IdCardReader,
        DeviceClass::Camera,
        DeviceClass::ReceiptPrinter,
        DeviceClass::DocumentPrinter,
        DeviceClass::CardWriter,
        DeviceClass::QrScanner,
    ];

    /// The snake_case name used in config, events and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            DeviceClass::IdCardReader => "id_card_reader",
            DeviceClass::Camera => "camera",
            DeviceClass::ReceiptPrinter => "receipt_printer",
            DeviceClass::DocumentPrinter => "document_printer",
            DeviceClass::CardWriter => "card_writer",
            DeviceClass::QrScanner => "qr_scanner",
        }
    }
}

impl std::fmt::Display for DeviceClass {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Overall state of a device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceState {
    /// Present and ready to work.
    Online,
    /// Present but not answering or reporting itself offline.
    Offline,
    /// Not connected (port missing or gone).
    NoDevice,
    /// A fault that needs a technician (cutter error, SAM self-test failed, …).
    HardwareError,
    /// A fault staff or the citizen can clear (paper out, cover open, card stock empty, …).
    UserError,
    /// Working on a request.
    Busy,
    /// Being opened or initialised.
    Starting,
}

impl DeviceState {
    /// The snake_case name used in events and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            DeviceState::Online => "online",
            DeviceState::Offline => "offline",
            DeviceState::NoDevice => "no_device",
            DeviceState::HardwareError => "hardware_error",
            DeviceState::UserError => "user_error",
            DeviceState::Busy => "busy",
            DeviceState::Starting => "starting",
        }
    }
}

impl std::fmt::Display for DeviceState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Paper supply of a printer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaperLevel {
    /// Paper adequate.
    Full,
    /// Near end: still printing, staff should refill soon.
    Low,
    /// Paper end: cannot print.
    Out,
    /// Paper jammed: cannot print.
    Jammed,
    /// Not reported.
    Unknown,
}

impl PaperLevel {
    /// Whether a printer with this paper level can still print.
    pub fn can_print(self) -> bool {
        !matches!(self, PaperLevel::Out | PaperLevel::Jammed)
    }
}

/// Stock of blank cards in a dispenser.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CardStock {
    /// Enough cards.
    Ok,
    /// Running low.
    Low,
    /// No cards left.
    Empty,
}

/// Where a card or sheet is, for devices that handle media.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MediaState {
    /// No media in the device.
    Absent,
    /// Media in the device (at the gate or inside).
    Present,
    /// Media stuck.
    Jammed,
    /// Media kept in the retain bin.
    Retained,
}

/// Class-specific details of a status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum StatusDetail {
    /// Nothing beyond the state.
    None,
    /// Printer details.
    Printer {
        /// Paper supply.
        paper: PaperLevel,
        /// Cover open.
        cover_open: bool,
        /// Auto-cutter fault.
        cutter_error: bool,
    },
    /// Card writer details.
    CardWriter {
        /// Blank card stock.
        stock: CardStock,
        /// Card position / media state.
        media: MediaState,
    },
    /// Media-handling details for other devices (e.g. ID card on the reader).
    Media {
        /// Media state.
        media: MediaState,
    },
    /// Camera details.
    Camera {
        /// Whether frames are being streamed.
        streaming: bool,
    },
}

/// Status of one device, as published to the device manager.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceStatus {
    /// Which class of device.
    pub class: DeviceClass,
    /// Overall state.
    pub state: DeviceState,
    /// Class-specific details.
    pub detail: StatusDetail,
    /// The last error seen, in English, for logs and the staff console.
    pub last_error: Option<String>,
}

impl DeviceStatus {
    /// A status with no details and no error.
    pub fn new(class: DeviceClass, state: DeviceState) -> Self {
        DeviceStatus {
            class,
            state,
            detail: StatusDetail::None,
            last_error: None,
        }
    }

    /// The same status with the given details.
    pub fn with_detail(mut self, detail: StatusDetail) -> Self {
        self.detail = detail;
        self
    }

    /// The same status with the given last error.
    pub fn with_error(mut self, error: impl Into<String>) -> Self {
        self.last_error = Some(error.into());
        self
    }

    /// Paper level, when the device is a printer.
    pub fn paper(&self) -> Option<PaperLevel> {
        match self.detail {
            StatusDetail::Printer { paper, .. } => Some(paper),
            _ => None,
        }
    }

    /// Whether the device can do its job now: online, and for printers paper not out or
    /// jammed (low paper still prints).
    pub fn is_usable(&self) -> bool {
        self.state == DeviceState::Online && self.paper().is_none_or(PaperLevel::can_print)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn printer(state: DeviceState, paper: PaperLevel) -> DeviceStatus {
        DeviceStatus::new(DeviceClass::ReceiptPrinter, state).with_detail(StatusDetail::Printer {
            paper,
            cover_open: false,
            cutter_error: false,
        })
    }

    #[test]
    fn names_are_snake_case() {
        assert_eq!(DeviceClass::IdCardReader.as_str(), "id_card_reader");
        assert_eq!(DeviceClass::ReceiptPrinter.as_str(), "receipt_printer");
        assert_eq!(DeviceClass::DocumentPrinter.as_str(), "document_printer");
        assert_eq!(DeviceClass::QrScanner.as_str(), "qr_scanner");
        assert_eq!(DeviceState::NoDevice.as_str(), "no_device");
        assert_eq!(DeviceState::HardwareError.as_str(), "hardware_error");
        let json = serde_json::to_string(&DeviceClass::CardWriter).expect("serialise");
        assert_eq!(json, "\"card_writer\"");
    }

    #[test]
    fn usable_means_online_with_paper() {
        assert!(printer(DeviceState::Online, PaperLevel::Full).is_usable());
        assert!(printer(DeviceState::Online, PaperLevel::Low).is_usable());
        assert!(!printer(DeviceState::Online, PaperLevel::Out).is_usable());
        assert!(!printer(DeviceState::Online, PaperLevel::Jammed).is_usable());
        assert!(!printer(DeviceState::Offline, PaperLevel::Full).is_usable());
        assert!(DeviceStatus::new(DeviceClass::IdCardReader, DeviceState::Online).is_usable());
        assert!(!DeviceStatus::new(DeviceClass::IdCardReader, DeviceState::Busy).is_usable());
    }
}
