//! Device drivers and simulators for the e政务 kiosk.
//!
//! * [`status`]: the one status model for every device class.
//! * [`camera`]: the camera: V4L2 through nokhwa (feature `camera-v4l`), image sequences.
//! * [`traits`]: the `Device` trait and one trait per device class.
//! * [`idcard`]: the ID card reader (GA/T 467 SAM frames) and its pty simulator.
//! * [`qr`]: serial-mode QR scanners (GM65 style) and their pty simulator.
//! * [`cardwriter`]: card dispensers / reader-writers (CRT-591, K720), card record, pty simulator.
//! * [`document_printer`]: the A4 printer over IPP to CUPS, and a private CUPS for tests.
//! * [`escpos`]: the receipt printer (ESC/POS), receipt encoder and pty simulator.
//!
//! This crate talks to devices only: no UI, no store, no HTTP.

pub mod camera;
pub mod cardwriter;
pub mod document_printer;
pub mod escpos;
pub mod idcard;
pub mod qr;
mod serial_link;
mod sim_pty;
pub mod status;
pub mod traits;

pub use camera::{CameraMode, CameraSettings, SequenceCamera, open_camera};
pub use cardwriter::{CardWriter, CardWriterError, CardWriterModel, CardWriterSimulator};
pub use status::{
    CardStock, DeviceClass, DeviceState, DeviceStatus, MediaState, PaperLevel, StatusDetail,
};
pub use traits::{
    CameraDevice, CapturedFrame, CardWriterDevice, Device, DeviceError, DocumentPrinterDevice,
    IdCardReaderDevice, QrScannerDevice, ReceiptPrinterDevice,
};
