//! The A4 printer's worker thread: turns a certificate's content into PDF (fonts loaded once),
//! submits it to the CUPS queue over IPP, follows the job to the end, and keeps the printer's
//! state (paper, jam, cover, queue stopped) on the status board between jobs.
//!
//! A job the printer stops (paper out mid-job) is cancelled rather than left held: CUPS would
//! otherwise print the certificate later, when the citizen has gone. The transaction stands and
//! staff reprint it by number.

use super::worker::WorkerHandle;
use super::{DeviceEvent, StatusBoard};
use kiosk_core::device::DeviceClass;
use kiosk_core::flow::{DocumentContent, FlowEvent};
use kiosk_core::text::Language;
use kiosk_documents::DocumentFonts;
use kiosk_drivers::document_printer::IppDocumentPrinter;
use kiosk_drivers::status::{DeviceClass as DriverClass, DeviceState, DeviceStatus};
use kiosk_drivers::traits::{Device, DocumentJob, DocumentJobState};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct DocumentPrinterSettings {
    /// The queue, `ipp://host:port/printers/NAME`.
    pub uri: String,
    /// How often the printer's state is read when idle.
    pub status_interval: Duration,
    /// How long one job may take.
    pub job_timeout: Duration,
}

/// Who asked for a print: the citizen's session or staff in diagnostics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrintPurpose {
    /// A session's `print_document` step.
    Session,
    /// A reprint or test page from diagnostics mode.
    Staff,
}

enum Command {
    Print {
        content: Box<DocumentContent>,
        language: Language,
        purpose: PrintPurpose,
    },
    Resume,
    Shutdown,
}

pub(crate) struct Handle(WorkerHandle<Command>);

impl Handle {
    pub(crate) fn print(
        &self,
        content: DocumentContent,
        language: Language,
        purpose: PrintPurpose,
    ) {
        self.0.send(Command::Print {
            content: Box::new(content),
            language,
            purpose,
        });
    }

    pub(crate) fn resume(&self) {
        self.0.send(Command::Resume);
    }

    pub(crate) fn shutdown(self) {
        self.0.shutdown(Command::Shutdown);
    }
}

pub(crate) fn spawn(
    settings: DocumentPrinterSettings,
    board: StatusBoard,
    events: Sender<DeviceEvent>,
) -> Handle {
    Handle(WorkerHandle::spawn("document-printer", move |rx| {
        run(settings, rx, board, events)
    }))
}

/// The result event a print produces, for the session or for diagnostics.
fn result_event(purpose: PrintPurpose, outcome: Result<(), String>) -> DeviceEvent {
    match (purpose, outcome) {
        (PrintPurpose::Session, Ok(())) => DeviceEvent::Flow(FlowEvent::StepCompleted),
        (PrintPurpose::Session, Err(reason)) => DeviceEvent::Flow(FlowEvent::StepFailed { reason }),
        (PrintPurpose::Staff, outcome) => DeviceEvent::DocumentPrinted(outcome),
    }
}

fn run(
    settings: DocumentPrinterSettings,
    commands: Receiver<Command>,
    board: StatusBoard,
    events: Sender<DeviceEvent>,
) {
    let class = DeviceClass::DocumentPrinter;
    let mut printer = match IppDocumentPrinter::new(&settings.uri) {
        Ok(p) => p,
        Err(e) => {
            board.update(
                class,
                DeviceStatus::new(DriverClass::DocumentPrinter, DeviceState::NoDevice)
                    .with_error(e.to_string()),
                &events,
            );
            // A wrong address does not fix itself: answer every request with the reason.
            for command in commands {
                match command {
                    Command::Print { purpose, .. } => {
                        let _ = events.send(result_event(purpose, Err(e.to_string())));
                    }
                    Command::Resume => {}
                    Command::Shutdown => return,
                }
            }
            return;
        }
    };
    let mut fonts: Option<DocumentFonts> = None;
    board.update(class, printer.status(), &events);
    loop {
        match commands.recv_timeout(settings.status_interval) {
            Ok(Command::Shutdown) | Err(RecvTimeoutError::Disconnected) => return,
            Err(RecvTimeoutError::Timeout) => {}
            Ok(Command::Resume) => {
                if let Err(e) = printer.reset() {
                    tracing::warn!(error = %e, "document printer: resume failed");
                }
            }
            Ok(Command::Print {
                content,
                language,
                purpose,
            }) => {
                let outcome = print(&printer, &mut fonts, &content, language, &settings);
                board.update(class, printer.status(), &events);
                if let Ok(sheets) = outcome {
                    let _ = events.send(DeviceEvent::A4SheetsUsed { sheets });
                }
                let _ = events.send(result_event(purpose, outcome.map(|_| ())));
                continue;
            }
        }
        board.update(class, printer.status(), &events);
    }
}

fn print(
    printer: &IppDocumentPrinter,
    fonts: &mut Option<DocumentFonts>,
    content: &DocumentContent,
    language: Language,
    settings: &DocumentPrinterSettings,
) -> Result<u32, String> {
    if fonts.is_none() {
        *fonts = Some(DocumentFonts::find().map_err(|e| e.to_string())?);
    }
    let fonts = fonts.as_ref().ok_or("no fonts")?;
    let pages = kiosk_documents::certificate::layout(content, language, fonts)
        .map_err(|e| e.to_string())?;
    let sheets = pages.len() as u32;
    let pdf =
        kiosk_documents::draw::pdf(&pages, fonts, &content.title.zh).map_err(|e| e.to_string())?;
    let job = DocumentJob {
        title: format!("{} {}", content.template, content.transaction_id),
        pdf,
        copies: 1,
    };
    let id = printer.submit(&job).map_err(|e| e.to_string())?;
    tracing::info!(job = id, template = %content.template, "document submitted");
    let report = printer.wait(id, settings.job_timeout);
    match report {
        Ok(r) if r.state == DocumentJobState::Completed => Ok(sheets),
        Ok(r) => {
            let _ = printer.cancel(id);
            let reason = printer
                .report()
                .ok()
                .and_then(|report| report.status().last_error)
                .unwrap_or_else(|| format!("job {:?}", r.state));
            Err(format!("document not printed: {reason}"))
        }
        Err(e) => {
            let _ = printer.cancel(id);
            Err(format!("document not printed: {e}"))
        }
    }
}
