//! The device traits: one common [`Device`] trait and one trait per device class with the
//! operations the flows need. Real drivers and simulators sit behind these; nothing above the
//! driver layer knows which it talks to.

use std::time::Duration;

use crate::escpos::{EncodedReceipt, PrinterError};
use crate::idcard::{CardIdentity, IdCardError, ResidentIdentity};
use crate::status::{CardStock, DeviceClass, DeviceStatus, PaperLevel};

/// What every device can do, whatever its class.
pub trait Device: Send {
    /// The error type of this device's operations.
    type Error: std::error::Error + Send + Sync + 'static;

    /// Which class of device this is.
    fn class(&self) -> DeviceClass;

    /// Ask the device for its current status. Never fails: an unreachable device reports
    /// `offline` or `no_device` with `last_error` set.
    fn status(&mut self) -> DeviceStatus;

    /// Run the device's own check and return the resulting status.
    fn self_test(&mut self) -> Result<DeviceStatus, Self::Error>;

    /// Bring the device back to its idle state.
    fn reset(&mut self) -> Result<(), Self::Error>;
}

/// Second-generation ID card reader.
pub trait IdCardReaderDevice: Device<Error = IdCardError> {
    /// Read the resident ID card lying on the reader: find, select, read text and photo.
    /// Other card types are `IdCardError::UnsupportedCardType`.
    fn read_card(&mut self) -> Result<ResidentIdentity, IdCardError>;

    /// Read whatever card lies on the reader (resident, residence permit, foreigner cards).
    fn read_identity(&mut self) -> Result<CardIdentity, IdCardError>;
}

/// 80 mm receipt printer.
pub trait ReceiptPrinterDevice: Device<Error = PrinterError> {
    /// Print an encoded receipt. Fails without printing when the printer cannot print.
    fn print_receipt(&mut self, receipt: &EncodedReceipt) -> Result<(), PrinterError>;

    /// The paper supply as the printer reports it now.
    fn paper_status(&mut self) -> Result<PaperLevel, PrinterError>;
}

/// Errors of device classes whose drivers are not written yet (camera, A4 printer, card
/// writer, QR scanner).
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum DeviceError {
    /// The device did not answer in time.
    #[error("device did not answer in time")]
    Timeout,
    /// The device is gone (unplugged, port closed).
    #[error("device disconnected: {0}")]
    Disconnected(String),
    /// A fault needing a technician.
    #[error("hardware error: {0}")]
    Hardware(String),
    /// A fault staff or the user can clear.
    #[error("user error: {0}")]
    User(String),
    /// The device cannot do what was asked.
    #[error("not supported: {0}")]
    Unsupported(String),
}

/// One captured camera frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CapturedFrame {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Encoded image bytes (JPEG, or RGB24 when `format` says so).
    pub bytes: Vec<u8>,
    /// `"jpeg"` or `"rgb24"`.
    pub format: &'static str,
}

/// Face or document camera.
pub trait CameraDevice: Device<Error = DeviceError> {
    /// Start streaming frames.
    fn start_stream(&mut self) -> Result<(), DeviceError>;
    /// Stop streaming frames.
    fn stop_stream(&mut self) -> Result<(), DeviceError>;
    /// Take one frame from the stream.
    fn capture_frame(&mut self) -> Result<CapturedFrame, DeviceError>;
}

/// A document for the A4 printer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentJob {
    /// Job title shown in the printer queue.
    pub title: String,
    /// The document as PDF.
    pub pdf: Vec<u8>,
    /// Number of copies.
    pub copies: u16,
}

/// Where a submitted document job is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocumentJobState {
    /// Waiting in the queue.
    Pending,
    /// Being printed.
    Printing,
    /// Printed.
    Completed,
    /// Stopped by a fault.
    Stopped,
    /// Cancelled or aborted.
    Failed,
}

/// A4 document printer.
pub trait DocumentPrinterDevice: Device<Error = DeviceError> {
    /// Submit a job; returns the printer's job id.
    fn print_document(&mut self, job: &DocumentJob) -> Result<u32, DeviceError>;
    /// State of a submitted job.
    fn job_state(&mut self, job_id: u32) -> Result<DocumentJobState, DeviceError>;
}

/// Card dispenser with encoder (issue and rewrite).
pub trait CardWriterDevice: Device<Error = DeviceError> {
    /// Blank card stock.
    fn card_stock(&mut self) -> Result<CardStock, DeviceError>;
    /// Move a blank card from the stacker to the encoder position.
    fn dispense_to_encoder(&mut self) -> Result<(), DeviceError>;
    /// Write data to the card at the encoder position.
    fn write_card(&mut self, data: &[u8]) -> Result<(), DeviceError>;
    /// Present the card at the gate for the citizen to take.
    fn eject_to_gate(&mut self) -> Result<(), DeviceError>;
    /// Move the card into the retain bin.
    fn retain_card(&mut self) -> Result<(), DeviceError>;
}

/// QR / barcode scanner.
pub trait QrScannerDevice: Device<Error = DeviceError> {
    /// Wait up to `timeout` for a scan; `None` when nothing was scanned.
    fn next_scan(&mut self, timeout: Duration) -> Result<Option<String>, DeviceError>;
}
