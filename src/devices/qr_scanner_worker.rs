//! The QR scanner's worker thread: in continuous mode every code the scanner reads arrives
//! here; while a session waits for identification, an e-ID or appointment code becomes the
//! session's identification. Codes shown at other times are ignored (and never logged whole).

use super::{DeviceEvent, StatusBoard};
use kiosk_core::catalogue::CardType;
use kiosk_core::device::DeviceClass;
use kiosk_core::flow::{Applicant, CardReadFailure, FlowEvent};
use kiosk_drivers::qr::{QrError, QrScanner, ScanMode};
use kiosk_drivers::status::{DeviceClass as DriverClass, DeviceState, DeviceStatus};
use kiosk_protocol::wire::PersonalData;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Sender;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

#[derive(Debug, Clone)]
pub struct QrScannerSettings {
    pub port: String,
    pub baud: u32,
}

pub(crate) struct Handle {
    reading: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Handle {
    pub(crate) fn set_reading(&self, on: bool) {
        self.reading.store(on, Ordering::SeqCst);
    }

    pub(crate) fn shutdown(mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

const SCAN_SLICE: Duration = Duration::from_millis(200);
const RECONNECT_EVERY: Duration = Duration::from_secs(2);

pub(crate) fn spawn(
    settings: QrScannerSettings,
    board: StatusBoard,
    events: Sender<DeviceEvent>,
) -> Handle {
    let reading = Arc::new(AtomicBool::new(false));
    let stop = Arc::new(AtomicBool::new(false));
    let thread = {
        let (reading, stop) = (Arc::clone(&reading), Arc::clone(&stop));
        std::thread::Builder::new()
            .name("qr-scanner".into())
            .spawn(move || run(&settings, &reading, &stop, &board, &events))
            .ok()
    };
    Handle {
        reading,
        stop,
        thread,
    }
}

fn status(state: DeviceState, error: Option<String>) -> DeviceStatus {
    let status = DeviceStatus::new(DriverClass::QrScanner, state);
    match error {
        Some(e) => status.with_error(e),
        None => status,
    }
}

fn run(
    settings: &QrScannerSettings,
    reading: &AtomicBool,
    stop: &AtomicBool,
    board: &StatusBoard,
    events: &Sender<DeviceEvent>,
) {
    let class = DeviceClass::QrScanner;
    let mut scanner: Option<QrScanner> = None;
    let mut last_attempt: Option<Instant> = None;
    while !stop.load(Ordering::SeqCst) {
        if scanner.is_none() {
            if last_attempt.is_some_and(|t| t.elapsed() < RECONNECT_EVERY) {
                std::thread::sleep(SCAN_SLICE);
                continue;
            }
            last_attempt = Some(Instant::now());
            match QrScanner::open(&settings.port, settings.baud, ScanMode::Continuous) {
                Ok(s) => {
                    scanner = Some(s);
                    board.update(class, status(DeviceState::Online, None), events);
                }
                Err(e) => {
                    board.update(
                        class,
                        status(DeviceState::NoDevice, Some(e.to_string())),
                        events,
                    );
                    continue;
                }
            }
        }
        let Some(s) = scanner.as_mut() else { continue };
        match s.scan(SCAN_SLICE) {
            Ok(Some(code)) if reading.swap(false, Ordering::SeqCst) => {
                let _ = events.send(DeviceEvent::Flow(code_event(&code)));
            }
            Ok(_) => {}
            Err(e @ QrError::Disconnected(_)) => {
                scanner = None;
                board.update(
                    class,
                    status(DeviceState::NoDevice, Some(e.to_string())),
                    events,
                );
            }
            Err(e) => tracing::warn!(device = "qr_scanner", error = %e, "scan failed"),
        }
    }
}

/// An e-ID or appointment code becomes the identification; anything else is refused.
fn code_event(code: &str) -> FlowEvent {
    match CardType::of_code(code) {
        Some(card_type) => {
            tracing::info!(
                device = "qr_scanner",
                kind = card_type.as_str(),
                "code scanned"
            );
            FlowEvent::CardRead(Applicant {
                card_type,
                personal: PersonalData {
                    name: String::new(),
                    id_number: code.trim().to_string(),
                    address: String::new(),
                },
            })
        }
        None => {
            tracing::info!(device = "qr_scanner", "unrecognised code scanned");
            FlowEvent::CardReadFailed(CardReadFailure::Unsupported)
        }
    }
}
