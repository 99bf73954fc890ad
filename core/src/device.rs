//! The device classes the catalogue and the flow engine reason about, and which of them a kiosk
//! has and can use right now.
//!
//! The drivers crate has its own class type; the app maps between the two by
//! [`DeviceClass::as_str`] / [`DeviceClass::from_name`].

use crate::text::LocalizedText;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// A class of kiosk peripheral.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceClass {
    /// ID-card reader (GA/T 467 SAM module).
    IdCardReader,
    /// Camera for the face check.
    Camera,
    /// Thermal receipt printer.
    ReceiptPrinter,
    /// A4 document printer.
    DocumentPrinter,
    /// Card dispenser and encoder.
    CardWriter,
    /// QR-code scanner.
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

    /// The snake_case name used in config files, heartbeats and the drivers crate.
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

    /// The class with this snake_case name.
    pub fn from_name(name: &str) -> Option<DeviceClass> {
        DeviceClass::ALL.into_iter().find(|c| c.as_str() == name)
    }

    /// What citizens call the device.
    pub fn display_name(self) -> LocalizedText {
        let (zh, en) = match self {
            DeviceClass::IdCardReader => ("身份证阅读器", "ID card reader"),
            DeviceClass::Camera => ("摄像头", "camera"),
            DeviceClass::ReceiptPrinter => ("凭条打印机", "receipt printer"),
            DeviceClass::DocumentPrinter => ("A4 文件打印机", "A4 document printer"),
            DeviceClass::CardWriter => ("制卡机", "card writer"),
            DeviceClass::QrScanner => ("二维码扫描器", "QR code scanner"),
        };
        LocalizedText::new(zh, en)
    }
}

impl std::fmt::Display for DeviceClass {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which device classes this kiosk has, and which of those are currently usable.
///
/// A class that is present but faulty (paper out, jammed, unplugged…) makes the items that need
/// it unavailable just like a missing one, with a different reason.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DevicePresence {
    present: BTreeSet<DeviceClass>,
    faulty: BTreeSet<DeviceClass>,
}

impl DevicePresence {
    /// A kiosk with no devices at all.
    pub fn none() -> Self {
        DevicePresence::default()
    }

    /// A kiosk with these classes, all usable.
    pub fn with_present(classes: impl IntoIterator<Item = DeviceClass>) -> Self {
        DevicePresence {
            present: classes.into_iter().collect(),
            faulty: BTreeSet::new(),
        }
    }

    /// A kiosk with every class, all usable.
    pub fn all() -> Self {
        DevicePresence::with_present(DeviceClass::ALL)
    }

    /// Marks a class as present (usable unless marked faulty).
    pub fn add(&mut self, class: DeviceClass) {
        self.present.insert(class);
    }

    /// Marks a present class as faulty (`true`) or usable again (`false`).
    pub fn set_faulty(&mut self, class: DeviceClass, faulty: bool) {
        if faulty {
            self.faulty.insert(class);
        } else {
            self.faulty.remove(&class);
        }
    }

    /// Whether the kiosk has this class at all.
    pub fn is_present(&self, class: DeviceClass) -> bool {
        self.present.contains(&class)
    }

    /// Whether the class is present and not faulty.
    pub fn is_usable(&self, class: DeviceClass) -> bool {
        self.is_present(class) && !self.faulty.contains(&class)
    }

    /// Why a class cannot be used, or `None` when it can.
    pub fn problem(&self, class: DeviceClass) -> Option<DeviceProblem> {
        if !self.is_present(class) {
            Some(DeviceProblem::Missing)
        } else if self.faulty.contains(&class) {
            Some(DeviceProblem::Faulty)
        } else {
            None
        }
    }
}

/// Why a device class cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceProblem {
    /// This kiosk does not have the device.
    Missing,
    /// The device is there but out of order.
    Faulty,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for c in DeviceClass::ALL {
            assert_eq!(DeviceClass::from_name(c.as_str()), Some(c));
        }
        assert_eq!(DeviceClass::from_name("printer"), None);
    }

    #[test]
    fn presence_tracks_faults() {
        let mut p = DevicePresence::with_present([DeviceClass::ReceiptPrinter]);
        assert!(p.is_usable(DeviceClass::ReceiptPrinter));
        assert_eq!(p.problem(DeviceClass::Camera), Some(DeviceProblem::Missing));
        p.set_faulty(DeviceClass::ReceiptPrinter, true);
        assert_eq!(
            p.problem(DeviceClass::ReceiptPrinter),
            Some(DeviceProblem::Faulty)
        );
        p.set_faulty(DeviceClass::ReceiptPrinter, false);
        assert!(p.is_usable(DeviceClass::ReceiptPrinter));
    }
}
