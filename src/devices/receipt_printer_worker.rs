//! The receipt printer's worker thread: prints what the controller sends, watches the paper and
//! cover through DLE EOT status polling, and reconnects a printer that was unplugged.

use super::worker::WorkerHandle;
use super::{DeviceEvent, StatusBoard};
use kiosk_core::device::DeviceClass;
use kiosk_core::flow::FlowEvent;
use kiosk_drivers::escpos::receipt::EncodedReceipt;
use kiosk_drivers::escpos::{PrinterError, ReceiptPrinter};
use kiosk_drivers::status::{DeviceClass as DriverClass, DeviceState, DeviceStatus};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct PrinterSettings {
    pub port: String,
    pub baud: u32,
    /// How often the paper and cover are checked when idle.
    pub status_interval: Duration,
}

enum Command {
    Print(Vec<u8>),
    /// Close the port and open it again (staff's "reset" after clearing a fault).
    Reconnect,
    Shutdown,
}

pub(crate) struct Handle(WorkerHandle<Command>);

impl Handle {
    pub(crate) fn print(&self, bytes: Vec<u8>) {
        self.0.send(Command::Print(bytes));
    }

    pub(crate) fn reconnect(&self) {
        self.0.send(Command::Reconnect);
    }

    pub(crate) fn shutdown(self) {
        self.0.shutdown(Command::Shutdown);
    }
}

pub(crate) fn spawn(
    settings: PrinterSettings,
    board: StatusBoard,
    events: Sender<DeviceEvent>,
) -> Handle {
    Handle(WorkerHandle::spawn("receipt-printer", move |rx| {
        run(settings, rx, board, events)
    }))
}

const IO_TIMEOUT: Duration = Duration::from_secs(2);

fn run(
    settings: PrinterSettings,
    commands: Receiver<Command>,
    board: StatusBoard,
    events: Sender<DeviceEvent>,
) {
    let class = DeviceClass::ReceiptPrinter;
    let mut printer: Option<ReceiptPrinter> = None;
    let mut first = true;
    loop {
        let command = if first {
            first = false;
            None
        } else {
            match commands.recv_timeout(settings.status_interval) {
                Ok(Command::Shutdown) | Err(RecvTimeoutError::Disconnected) => return,
                Ok(Command::Print(bytes)) => Some(bytes),
                Ok(Command::Reconnect) => {
                    printer = None;
                    None
                }
                Err(RecvTimeoutError::Timeout) => None,
            }
        };
        if printer.is_none() {
            match ReceiptPrinter::open(&settings.port, settings.baud, IO_TIMEOUT) {
                Ok(p) => printer = Some(p),
                Err(e) => {
                    board.update(
                        class,
                        DeviceStatus::new(DriverClass::ReceiptPrinter, DeviceState::NoDevice)
                            .with_error(e.to_string()),
                        &events,
                    );
                }
            }
        }
        let Some(p) = printer.as_mut() else {
            if command.is_some() {
                let _ = events.send(DeviceEvent::Flow(FlowEvent::ReceiptFailed {
                    reason: "receipt printer not connected".into(),
                }));
            }
            continue;
        };
        if let Some(bytes) = command {
            let receipt = EncodedReceipt::from_bytes(bytes);
            let result = p.print_receipt(&receipt);
            if result.is_ok() {
                let mm = receipt.paper_length_mm().ceil() as u32;
                let _ = events.send(DeviceEvent::ReceiptPaperUsed { mm: mm.max(1) });
            }
            let event = match &result {
                Ok(()) => FlowEvent::ReceiptPrinted,
                Err(e) => FlowEvent::ReceiptFailed {
                    reason: e.to_string(),
                },
            };
            if let Err(PrinterError::Disconnected(_)) = result {
                printer = None;
            }
            refresh_status(&mut printer, &board, &events);
            let _ = events.send(DeviceEvent::Flow(event));
        } else {
            refresh_status(&mut printer, &board, &events);
        }
    }
}

fn refresh_status(
    printer: &mut Option<ReceiptPrinter>,
    board: &StatusBoard,
    events: &Sender<DeviceEvent>,
) {
    let class = DeviceClass::ReceiptPrinter;
    let Some(p) = printer.as_mut() else {
        board.update(
            class,
            DeviceStatus::new(DriverClass::ReceiptPrinter, DeviceState::NoDevice)
                .with_error("receipt printer disconnected"),
            events,
        );
        return;
    };
    match p.report() {
        Ok(report) => board.update(class, report.to_device_status(), events),
        Err(e) => {
            let state = match e {
                PrinterError::Disconnected(_) => {
                    *printer = None;
                    DeviceState::NoDevice
                }
                _ => DeviceState::HardwareError,
            };
            board.update(
                class,
                DeviceStatus::new(DriverClass::ReceiptPrinter, state).with_error(e.to_string()),
                events,
            );
        }
    }
}
