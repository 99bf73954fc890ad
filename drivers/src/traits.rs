//! The device traits: one common [`Device`] trait and one trait per device class with the
//! operations the flows need. Real drivers and simulators sit behind these; nothing above the
//! driver layer knows which it talks to.

use std::time::Duration;

use crate::camera::CameraMode;

use crate::cardwriter::{
    CardContent, CardDisposition, CardPosition, CardRecord, CardStep, CardWriterError,
    CardWriterModel, CardWriterReport, IssuedCard, RecordKey, RewriteOutcome,
};
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

/// One captured camera frame, as every camera driver hands it to the kiosk: RGB24, 3 bytes per
/// pixel (R, G, B), rows top to bottom, no padding (`bytes.len() == width * height * 3`). The
/// drivers decode what the camera sends (MJPEG, YUYV, NV12, grey, BGR) before returning it.
/// [`CapturedFrame::rgb24`] builds one; `camera::fit_frame` scales one to another size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CapturedFrame {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// The pixels, RGB24 (see `format`).
    pub bytes: Vec<u8>,
    /// Always [`CapturedFrame::RGB24`] (`"rgb24"`) for frames from the camera drivers.
    pub format: &'static str,
}

/// Face or document camera. Frames are RGB24 ([`CapturedFrame`]); drivers live in
/// [`crate::camera`] (`V4l2Camera`, `SequenceCamera`, `open_camera`).
pub trait CameraDevice: Device<Error = DeviceError> {
    /// Start streaming frames (a file sequence starts again from its first frame).
    fn start_stream(&mut self) -> Result<(), DeviceError>;
    /// Stop streaming frames. Stopping a stopped stream is not an error.
    fn stop_stream(&mut self) -> Result<(), DeviceError>;
    /// Take the next frame from the stream, waiting for it. Before `start_stream` this is
    /// `DeviceError::User`; an unplugged camera or an ended sequence is
    /// `DeviceError::Disconnected`.
    fn capture_frame(&mut self) -> Result<CapturedFrame, DeviceError>;
    /// What the camera delivers: frame width and height and frames per second (for a real
    /// camera the mode it granted, which may differ from the one asked for).
    fn mode(&self) -> CameraMode;
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

/// Card dispenser with encoder (issue and rewrite), either model (CRT-591, K720).
///
/// The steps are separate so a flow can show progress between them; [`Self::issue_card`] and
/// [`Self::rewrite_card`] run the whole sequences:
///
/// * issue: stack → encoder → write → read back and verify → gate;
/// * rewrite: front slot → encoder → read → write → read back and verify → gate.
///
/// A card is never released after a failed write without saying so: `issue_card` captures
/// the half-written blank to the bin, `rewrite_card` keeps the citizen's card inside, and
/// both return [`CardWriterError::WriteFailed`] with the [`CardDisposition`]. After
/// presenting, the caller polls [`Self::card_position`] ("card taken?": `AtGate` until the
/// citizen takes it, then `None`) and calls [`Self::capture_card`] when its time runs out.
pub trait CardWriterDevice: Device<Error = CardWriterError> {
    /// Which model this is.
    fn model(&self) -> CardWriterModel;
    /// Stock, bin, card position and jam as the device reports them now.
    fn report(&mut self) -> Result<CardWriterReport, CardWriterError>;
    /// Blank card stock.
    fn card_stock(&mut self) -> Result<CardStock, CardWriterError> {
        Ok(self.report()?.stock())
    }
    /// Where the card is: at the gate (not taken yet), inside, or none (taken).
    fn card_position(&mut self) -> Result<CardPosition, CardWriterError> {
        Ok(self.report()?.card)
    }
    /// Move a blank card from the stack to the encoder ([`CardWriterError::StackEmpty`] when
    /// there is none).
    fn dispense_blank(&mut self) -> Result<(), CardWriterError>;
    /// Open the front slot and wait up to `wait` for the citizen's card; `Ok(true)` with the
    /// card at the encoder, `Ok(false)` when none came (the slot is closed again).
    fn accept_card(&mut self, wait: Duration) -> Result<bool, CardWriterError>;
    /// Read the card at the encoder and check its record with `key`.
    fn read_card(&mut self, key: &RecordKey) -> Result<CardContent, CardWriterError>;
    /// Write `record` (MAC made with `key`) on the card at the encoder.
    fn write_card(&mut self, record: &CardRecord, key: &RecordKey) -> Result<(), CardWriterError>;
    /// Read the card back and check it holds exactly `record` with a valid MAC.
    fn verify_card(
        &mut self,
        record: &CardRecord,
        key: &RecordKey,
    ) -> Result<CardContent, CardWriterError>;
    /// Move the card to the gate for the citizen to take.
    fn present_card(&mut self) -> Result<(), CardWriterError>;
    /// Move the card (inside or at the gate) into the error-card bin.
    fn capture_card(&mut self) -> Result<(), CardWriterError>;

    /// Issue mode: dispense a blank, write `record`, verify it, present it at the gate.
    fn issue_card(
        &mut self,
        record: &CardRecord,
        key: &RecordKey,
        progress: &mut dyn FnMut(CardStep),
    ) -> Result<IssuedCard, CardWriterError> {
        progress(CardStep::Dispensing);
        self.dispense_blank()?;
        progress(CardStep::Writing);
        let written = self.write_card(record, key).and_then(|()| {
            progress(CardStep::Verifying);
            self.verify_card(record, key)
        });
        let content = match written {
            Ok(content) => content,
            Err(cause) => {
                let disposition = match self.capture_card() {
                    Ok(()) => CardDisposition::Captured,
                    Err(_) => CardDisposition::Unknown,
                };
                return Err(CardWriterError::WriteFailed {
                    disposition,
                    cause: Box::new(cause),
                });
            }
        };
        progress(CardStep::Presenting);
        self.present_card()?;
        Ok(IssuedCard {
            uid: content.uid,
            record: record.clone(),
        })
    }

    /// Rewrite mode: take the citizen's card in (waiting up to `wait`), read it, ask `update`
    /// for the new record (`None`: return the card unchanged), write, verify, present it.
    fn rewrite_card(
        &mut self,
        wait: Duration,
        key: &RecordKey,
        update: &mut dyn FnMut(&CardContent) -> Option<CardRecord>,
        progress: &mut dyn FnMut(CardStep),
    ) -> Result<RewriteOutcome, CardWriterError> {
        progress(CardStep::WaitingForCard);
        if !self.accept_card(wait)? {
            return Ok(RewriteOutcome::NoCardInserted);
        }
        progress(CardStep::Reading);
        let before = self.read_card(key)?;
        let Some(record) = update(&before) else {
            progress(CardStep::Presenting);
            self.present_card()?;
            return Ok(RewriteOutcome::Declined { content: before });
        };
        progress(CardStep::Writing);
        let written = self.write_card(&record, key).and_then(|()| {
            progress(CardStep::Verifying);
            self.verify_card(&record, key)
        });
        if let Err(cause) = written {
            return Err(CardWriterError::WriteFailed {
                disposition: CardDisposition::HeldInside,
                cause: Box::new(cause),
            });
        }
        progress(CardStep::Presenting);
        self.present_card()?;
        Ok(RewriteOutcome::Rewritten { before, record })
    }
}

/// QR / barcode scanner.
pub trait QrScannerDevice: Device<Error = DeviceError> {
    /// Wait up to `timeout` for a scan; `None` when nothing was scanned.
    fn next_scan(&mut self, timeout: Duration) -> Result<Option<String>, DeviceError>;
}
