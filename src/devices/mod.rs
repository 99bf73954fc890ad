//! The device manager: owns the drivers, runs each on its own worker thread, and publishes
//! results and status changes as [`DeviceEvent`]s for the controller. It reconnects devices that
//! disappear and keeps the latest status of each for availability and the heartbeat.

mod card_reader_worker;
mod card_writer_worker;
mod document_printer_worker;
mod face_check_run;
mod face_check_worker;
mod face_preview;
mod qr_scanner_worker;
mod receipt_printer_worker;
mod worker;

use kiosk_core::device::{DeviceClass, DevicePresence};
use kiosk_core::flow::{CardOrder, DocumentContent, FlowEvent};
use kiosk_core::text::Language;
use kiosk_drivers::status::{
    CardStock, DeviceState, DeviceStatus, MediaState, PaperLevel, StatusDetail,
};
use kiosk_protocol::wire::DeviceReport;
use std::collections::BTreeMap;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub use card_reader_worker::CardReaderSettings;
pub use card_writer_worker::CardWriterWorkerSettings;
pub use document_printer_worker::{DocumentPrinterSettings, PrintPurpose};
pub use face_check_run::FaceCheckRecord;
pub use face_check_worker::{
    CameraOpener, FaceCheckSettings, FaceSubject, OpenFor, RemoteFaceVerifier, RemoteVerdict,
};
pub use face_preview::{FacePreview, PreviewFrame};
pub use qr_scanner_worker::QrScannerSettings;
pub use receipt_printer_worker::PrinterSettings;

/// What a device worker tells the controller.
#[derive(Debug, Clone, PartialEq)]
pub enum DeviceEvent {
    /// A result for the current session (card read, receipt printed, …).
    Flow(FlowEvent),
    /// A device became usable or unusable.
    StatusChanged { class: DeviceClass, usable: bool },
    /// A receipt was printed using this much paper (measured from its bytes), in millimetres.
    ReceiptPaperUsed { mm: u32 },
    /// A4 sheets a printed document took.
    A4SheetsUsed { sheets: u32 },
    /// Blank cards that left the stack (issued, captured or used by a self-test).
    CardsUsed { cards: u32 },
    /// The card writer's self-test: the test card's UID, or why it failed.
    CardWriterTested(Result<String, String>),
    /// The card writer took a card into its bin (not taken in time, or a failed rewrite).
    CardCaptured {
        transaction_id: String,
        reason: String,
    },
    /// A document printed for staff (reprint, test page): done, or why not.
    DocumentPrinted(Result<(), String>),
    /// The photo of the card just read (sent before its `CardRead`), for the face check.
    /// Memory only; the controller drops it with the session's personal data.
    CardPhoto(CardPhoto),
    /// A face check decided (what is recorded: never an image).
    FaceChecked(FaceCheckRecord),
    /// Staff's camera test: frame size, rate and faces seen, or why it failed.
    CameraTested(Result<String, String>),
}

/// A card's WLT photo bytes; its `Debug` shows no content.
#[derive(Clone, PartialEq)]
pub struct CardPhoto(pub Vec<u8>);

impl std::fmt::Debug for CardPhoto {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CardPhoto({} bytes)", self.0.len())
    }
}

/// Latest status per device class, shared by the workers and the manager.
#[derive(Clone, Default)]
pub(crate) struct StatusBoard {
    inner: Arc<Mutex<BTreeMap<DeviceClass, DeviceStatus>>>,
}

impl StatusBoard {
    /// Stores a status; sends `StatusChanged` when usability flipped.
    pub(crate) fn update(
        &self,
        class: DeviceClass,
        status: DeviceStatus,
        events: &Sender<DeviceEvent>,
    ) {
        let Ok(mut map) = self.inner.lock() else {
            return;
        };
        let was_usable = map.get(&class).map(DeviceStatus::is_usable);
        let usable = status.is_usable();
        if map.get(&class) != Some(&status) {
            tracing::info!(
                device = class.as_str(),
                state = status.state.as_str(),
                error = status.last_error.as_deref().unwrap_or(""),
                "device status"
            );
        }
        map.insert(class, status);
        if was_usable != Some(usable) {
            let _ = events.send(DeviceEvent::StatusChanged { class, usable });
        }
    }

    fn snapshot(&self) -> BTreeMap<DeviceClass, DeviceStatus> {
        self.inner.lock().map(|m| m.clone()).unwrap_or_default()
    }
}

/// Which devices this kiosk has and where they are.
#[derive(Debug, Clone, Default)]
pub struct DeviceSettings {
    pub card_reader: Option<CardReaderSettings>,
    pub receipt_printer: Option<PrinterSettings>,
    pub document_printer: Option<DocumentPrinterSettings>,
    pub card_writer: Option<CardWriterWorkerSettings>,
    pub qr_scanner: Option<QrScannerSettings>,
    pub face_check: Option<FaceCheckSettings>,
}

pub struct DeviceManager {
    events: Receiver<DeviceEvent>,
    board: StatusBoard,
    present: Vec<DeviceClass>,
    card_reader: Option<card_reader_worker::Handle>,
    printer: Option<receipt_printer_worker::Handle>,
    document_printer: Option<document_printer_worker::Handle>,
    card_writer: Option<card_writer_worker::Handle>,
    qr_scanner: Option<qr_scanner_worker::Handle>,
    face_check: Option<face_check_worker::Handle>,
    preview: FacePreview,
    liveness_active: bool,
}

impl DeviceManager {
    /// Starts a worker per configured device. A device that cannot be opened is reported
    /// `no_device` and retried in the background; the kiosk still starts.
    pub fn start(settings: DeviceSettings) -> Self {
        let (tx, rx) = channel();
        let board = StatusBoard::default();
        let mut present = Vec::new();
        let card_reader = settings.card_reader.map(|s| {
            present.push(DeviceClass::IdCardReader);
            card_reader_worker::spawn(s, board.clone(), tx.clone())
        });
        let printer = settings.receipt_printer.map(|s| {
            present.push(DeviceClass::ReceiptPrinter);
            receipt_printer_worker::spawn(s, board.clone(), tx.clone())
        });
        let document_printer = settings.document_printer.map(|s| {
            present.push(DeviceClass::DocumentPrinter);
            document_printer_worker::spawn(s, board.clone(), tx.clone())
        });
        let card_writer = settings.card_writer.map(|s| {
            present.push(DeviceClass::CardWriter);
            card_writer_worker::spawn(s, board.clone(), tx.clone())
        });
        let qr_scanner = settings.qr_scanner.map(|s| {
            present.push(DeviceClass::QrScanner);
            qr_scanner_worker::spawn(s, board.clone(), tx.clone())
        });
        let preview = FacePreview::default();
        let liveness_active = settings
            .face_check
            .as_ref()
            .is_none_or(|s| s.liveness_active);
        let face_check = settings.face_check.map(|s| {
            present.push(DeviceClass::Camera);
            face_check_worker::spawn(s, preview.clone(), board.clone(), tx.clone())
        });
        Self {
            events: rx,
            board,
            present,
            card_reader,
            printer,
            document_printer,
            card_writer,
            qr_scanner,
            face_check,
            preview,
            liveness_active,
        }
    }

    /// Starts the camera and a face check against `subject` (the result arrives as
    /// `DeviceProgress` … `StepCompleted` / `StepRefused` / `StepFailed`).
    pub fn start_face_check(&self, subject: FaceSubject, remote: bool) {
        match &self.face_check {
            Some(camera) => camera.start(subject, remote),
            None => tracing::warn!("face check requested but this kiosk has no camera"),
        }
    }

    /// Staff's camera test; the result arrives as [`DeviceEvent::CameraTested`].
    pub fn test_camera(&self) {
        if let Some(camera) = &self.face_check {
            camera.self_test();
        }
    }

    /// Stops the face check in progress and the camera; frames are dropped.
    pub fn stop_face_check(&self) {
        if let Some(camera) = &self.face_check {
            camera.stop();
        }
    }

    /// The camera preview the face-check page shows.
    pub fn face_preview(&self) -> FacePreview {
        self.preview.clone()
    }

    /// Whether face checks run the liveness challenge (a kiosk configured without it shows
    /// that on the diagnostics screen and in every heartbeat).
    pub fn liveness_active(&self) -> bool {
        self.liveness_active
    }

    /// Waits until every device has reported a first status (at most `timeout`).
    pub fn wait_until_started(&self, timeout: Duration) {
        let deadline = std::time::Instant::now() + timeout;
        while std::time::Instant::now() < deadline {
            let board = self.board.snapshot();
            if self.present.iter().all(|c| board.contains_key(c)) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn try_next_event(&self) -> Option<DeviceEvent> {
        self.events.try_recv().ok()
    }

    /// Starts looking for an identification: a card on the reader or a code at the scanner.
    pub fn start_card_reading(&self) {
        if let Some(reader) = &self.card_reader {
            reader.start_reading();
        }
        if let Some(scanner) = &self.qr_scanner {
            scanner.set_reading(true);
        }
    }

    /// Starts reading on one device only (a diagnostics self-test): the card reader or the
    /// QR scanner. The result arrives as `CardRead` / `CardReadFailed`.
    pub fn start_reading_on(&self, class: DeviceClass) {
        match class {
            DeviceClass::IdCardReader => {
                if let Some(reader) = &self.card_reader {
                    reader.start_reading();
                }
            }
            DeviceClass::QrScanner => {
                if let Some(scanner) = &self.qr_scanner {
                    scanner.set_reading(true);
                }
            }
            _ => {}
        }
    }

    /// The classes this kiosk has, in a stable order.
    pub fn present(&self) -> &[DeviceClass] {
        &self.present
    }

    pub fn stop_card_reading(&self) {
        if let Some(reader) = &self.card_reader {
            reader.stop_reading();
        }
        if let Some(scanner) = &self.qr_scanner {
            scanner.set_reading(false);
        }
    }

    /// Prints a receipt; the result arrives as `ReceiptPrinted` / `ReceiptFailed`.
    pub fn print_receipt(&self, bytes: Vec<u8>) {
        match &self.printer {
            Some(printer) => printer.print(bytes),
            None => tracing::warn!("receipt requested but this kiosk has no receipt printer"),
        }
    }

    /// Prints an A4 document. A session's result arrives as `StepCompleted` / `StepFailed`,
    /// a staff print's as [`DeviceEvent::DocumentPrinted`].
    pub fn print_document(
        &self,
        content: DocumentContent,
        language: Language,
        purpose: PrintPurpose,
    ) {
        match &self.document_printer {
            Some(printer) => printer.print(content, language, purpose),
            None => tracing::warn!("document requested but this kiosk has no A4 printer"),
        }
    }

    /// Issues or rewrites a card; progress arrives as `DeviceProgress`, the result as
    /// `StepCompleted` / `StepFailed` / `StepRefused`.
    pub fn operate_card(&self, order: CardOrder) {
        match &self.card_writer {
            Some(writer) => writer.operate(order),
            None => tracing::warn!("card requested but this kiosk has no card writer"),
        }
    }

    /// Staff's card writer cycle (write, verify, capture a blank card); the result arrives as
    /// [`DeviceEvent::CardWriterTested`].
    pub fn test_card_writer(&self, kiosk_id: &str) {
        if let Some(writer) = &self.card_writer {
            writer.self_test(kiosk_id);
        }
    }

    /// Staff's "reset": reopen the receipt printer's or card writer's port (the card writer
    /// initialises on open), restart the A4 queue. The ID-card reader and QR scanner reopen by
    /// themselves.
    pub fn reset(&self, class: DeviceClass) {
        match class {
            DeviceClass::ReceiptPrinter => {
                if let Some(p) = &self.printer {
                    p.reconnect();
                }
            }
            DeviceClass::DocumentPrinter => self.resume_document_printer(),
            DeviceClass::CardWriter => {
                if let Some(w) = &self.card_writer {
                    w.reset();
                }
            }
            _ => {}
        }
    }

    /// Restarts a stopped A4 print queue (after staff replaced the paper or cleared a jam).
    pub fn resume_document_printer(&self) {
        if let Some(printer) = &self.document_printer {
            printer.resume();
        }
    }

    /// Which classes are present and which are usable now.
    pub fn presence(&self) -> DevicePresence {
        let mut presence = DevicePresence::with_present(self.present.iter().copied());
        let board = self.board.snapshot();
        for class in &self.present {
            let usable = board.get(class).is_some_and(DeviceStatus::is_usable);
            presence.set_faulty(*class, !usable);
        }
        presence
    }

    /// The latest status of each device.
    pub fn statuses(&self) -> BTreeMap<DeviceClass, DeviceStatus> {
        self.board.snapshot()
    }

    /// The devices' status as the heartbeat reports it.
    pub fn reports(&self) -> Vec<DeviceReport> {
        let board = self.board.snapshot();
        self.present
            .iter()
            .map(|class| {
                let status = board.get(class);
                DeviceReport {
                    class: class.as_str().to_string(),
                    state: status
                        .map(|s| s.state.as_str())
                        .unwrap_or(DeviceState::Starting.as_str())
                        .to_string(),
                    detail: if *class == DeviceClass::Camera && !self.liveness_active {
                        Some("liveness_off".into())
                    } else {
                        status.and_then(|s| detail_name(&s.detail))
                    },
                }
            })
            .collect()
    }
}

/// The class detail worth reporting, as one snake_case word (`paper_low`, `cover_open`, …).
fn detail_name(detail: &StatusDetail) -> Option<String> {
    match detail {
        StatusDetail::Printer {
            cutter_error: true, ..
        } => Some("cutter_error".into()),
        StatusDetail::Printer {
            cover_open: true, ..
        } => Some("cover_open".into()),
        StatusDetail::Printer { paper, .. } => match paper {
            PaperLevel::Full => None,
            PaperLevel::Low => Some("paper_low".into()),
            PaperLevel::Out => Some("paper_out".into()),
            PaperLevel::Jammed => Some("paper_jammed".into()),
            PaperLevel::Unknown => Some("paper_unknown".into()),
        },
        StatusDetail::CardWriter { stock, media } => match (stock, media) {
            (_, MediaState::Jammed) => Some("card_jammed".into()),
            (CardStock::Empty, _) => Some("stock_empty".into()),
            (CardStock::Low, _) => Some("stock_low".into()),
            _ => None,
        },
        _ => None,
    }
}

impl Drop for DeviceManager {
    fn drop(&mut self) {
        if let Some(reader) = self.card_reader.take() {
            reader.shutdown();
        }
        if let Some(printer) = self.printer.take() {
            printer.shutdown();
        }
        if let Some(printer) = self.document_printer.take() {
            printer.shutdown();
        }
        if let Some(writer) = self.card_writer.take() {
            writer.shutdown();
        }
        if let Some(scanner) = self.qr_scanner.take() {
            scanner.shutdown();
        }
        if let Some(camera) = self.face_check.take() {
            camera.shutdown();
        }
    }
}
