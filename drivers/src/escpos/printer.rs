//! The receipt printer driver: ESC/POS over a serial port with DLE EOT status.

use std::time::{Duration, Instant};

use super::error::PrinterError;
use super::realtime_status::{PrinterReport, StatusQuery, is_status_byte};
use super::receipt::EncodedReceipt;
use crate::serial_link::{LinkError, SerialLink};
use crate::status::{DeviceClass, DeviceState, DeviceStatus, PaperLevel};
use crate::traits::{Device, ReceiptPrinterDevice};

/// An ESC/POS receipt printer on a serial port (RS-232, USB-serial or USB-CDC).
pub struct ReceiptPrinter {
    link: SerialLink,
    baud: u32,
    timeout: Duration,
    last_error: Option<String>,
}

impl ReceiptPrinter {
    /// A common baud rate for kiosk printers.
    pub const DEFAULT_BAUD: u32 = 115_200;

    /// Open the printer on `path` at `baud`, 8N1; `timeout` bounds each status reply and the
    /// start of each write.
    pub fn open(path: &str, baud: u32, timeout: Duration) -> Result<Self, PrinterError> {
        let link = SerialLink::open(path, baud).map_err(|e| link_error(e, "open"))?;
        tracing::info!(device = "receipt_printer", path, baud, "opened");
        Ok(ReceiptPrinter {
            link,
            baud: baud.max(1),
            timeout,
            last_error: None,
        })
    }

    /// The device path in use.
    pub fn path(&self) -> &str {
        self.link.path()
    }

    /// Close and reopen the port at the same path.
    pub fn reconnect(&mut self) -> Result<(), PrinterError> {
        let path = self.link.path().to_owned();
        self.reconnect_at(&path)
    }

    /// Close the port and open `path` instead.
    pub fn reconnect_at(&mut self, path: &str) -> Result<(), PrinterError> {
        let result = self.link.reopen(path).map_err(|e| link_error(e, "open"));
        self.note(&result);
        result
    }

    /// Send raw ESC/POS bytes. The time allowed grows with the length at the port's baud rate.
    pub fn print(&mut self, bytes: &[u8]) -> Result<(), PrinterError> {
        let wire_time =
            Duration::from_millis((bytes.len() as u64 * 10 * 1000) / u64::from(self.baud));
        let result = self
            .link
            .write_all(bytes, self.timeout + wire_time)
            .map_err(|e| link_error(e, "data"));
        self.after_io(&result);
        result
    }

    /// Ask one real-time status byte (DLE EOT n) and check its pattern.
    pub fn query(&mut self, query: StatusQuery) -> Result<u8, PrinterError> {
        let result = self.query_once(query);
        self.after_io(&result);
        result
    }

    fn query_once(&mut self, query: StatusQuery) -> Result<u8, PrinterError> {
        self.link
            .drain_input()
            .map_err(|e| link_error(e, "DLE EOT"))?;
        self.link
            .write_all(&query.command(), self.timeout)
            .map_err(|e| link_error(e, "DLE EOT"))?;
        let deadline = Instant::now() + self.timeout;
        let mut byte = [0u8; 1];
        self.link
            .read_some(&mut byte, deadline)
            .map_err(|e| link_error(e, "DLE EOT"))?;
        if !is_status_byte(byte[0]) {
            return Err(PrinterError::InvalidStatusByte {
                n: query.n(),
                byte: byte[0],
            });
        }
        Ok(byte[0])
    }

    /// Ask all four status bytes and decode them.
    pub fn report(&mut self) -> Result<PrinterReport, PrinterError> {
        let mut bytes = [0u8; 4];
        for (slot, query) in bytes.iter_mut().zip(StatusQuery::ALL) {
            *slot = self.query(query)?;
        }
        Ok(PrinterReport::from_bytes(bytes))
    }

    /// Print a receipt: refuse when the printer cannot print, send it, and check the printer
    /// is still fine afterwards (paper did not run out, cover not opened).
    pub fn print_receipt(&mut self, receipt: &EncodedReceipt) -> Result<(), PrinterError> {
        let before = self.report()?.to_device_status();
        if !before.is_usable() {
            let error = PrinterError::NotReady(Box::new(before));
            self.last_error = Some(error.to_string());
            return Err(error);
        }
        self.print(receipt.as_bytes())?;
        let after = self.report()?.to_device_status();
        if !after.is_usable() {
            let error = PrinterError::NotReady(Box::new(after));
            self.last_error = Some(error.to_string());
            tracing::warn!(device = "receipt_printer", %error, "receipt may be incomplete");
            return Err(error);
        }
        tracing::info!(
            device = "receipt_printer",
            bytes = receipt.as_bytes().len(),
            "receipt printed"
        );
        Ok(())
    }

    fn after_io<T>(&mut self, result: &Result<T, PrinterError>) {
        if let Err(PrinterError::Disconnected(_)) = result {
            self.link.close();
        }
        self.note(result);
    }

    fn note<T>(&mut self, result: &Result<T, PrinterError>) {
        match result {
            Ok(_) => self.last_error = None,
            Err(error) => self.last_error = Some(error.to_string()),
        }
    }

    fn status_from(&self, result: Result<PrinterReport, PrinterError>) -> DeviceStatus {
        match result {
            Ok(report) => report.to_device_status(),
            Err(error) => {
                let state = match error {
                    PrinterError::Disconnected(_) | PrinterError::Open { .. } => {
                        DeviceState::NoDevice
                    }
                    PrinterError::Timeout { .. } => DeviceState::Offline,
                    _ => DeviceState::HardwareError,
                };
                DeviceStatus::new(DeviceClass::ReceiptPrinter, state).with_error(error.to_string())
            }
        }
    }
}

impl Device for ReceiptPrinter {
    type Error = PrinterError;

    fn class(&self) -> DeviceClass {
        DeviceClass::ReceiptPrinter
    }

    fn status(&mut self) -> DeviceStatus {
        let result = self.report();
        self.status_from(result)
    }

    fn self_test(&mut self) -> Result<DeviceStatus, PrinterError> {
        let report = self.report()?;
        Ok(report.to_device_status())
    }

    fn reset(&mut self) -> Result<(), PrinterError> {
        self.print(&super::receipt::INIT)
    }
}

impl ReceiptPrinterDevice for ReceiptPrinter {
    fn print_receipt(&mut self, receipt: &EncodedReceipt) -> Result<(), PrinterError> {
        ReceiptPrinter::print_receipt(self, receipt)
    }

    fn paper_status(&mut self) -> Result<PaperLevel, PrinterError> {
        Ok(self.report()?.paper())
    }
}

fn link_error(error: LinkError, what: &'static str) -> PrinterError {
    match error {
        LinkError::Timeout => PrinterError::Timeout { what },
        LinkError::Disconnected(reason) => PrinterError::Disconnected(reason),
        LinkError::Open { path, reason } => PrinterError::Open { path, reason },
    }
}
