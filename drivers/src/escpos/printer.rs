//! The receipt printer driver: ESC/POS over a serial port or TCP port 9100, with DLE EOT
//! status and a paper-use counter.

use std::time::{Duration, Instant};

use super::error::PrinterError;
use super::layout::PaperMeter;
use super::realtime_status::{PrinterReport, StatusQuery, is_status_byte};
use super::receipt::EncodedReceipt;
use super::transport::{Link, TCP_PREFIX, TransportKind, tcp_address};
use crate::serial_link::LinkError;
use crate::status::{DeviceClass, DeviceState, DeviceStatus, PaperLevel};
use crate::traits::{Device, ReceiptPrinterDevice};

/// An ESC/POS receipt printer on a serial port (RS-232, USB-serial or USB-CDC) or on TCP
/// (port 9100).
///
/// It counts the paper it makes the printer use: every byte sent goes through the same paper
/// model the simulator's renderer draws with (lines × line height, feeds, image rows, at
/// 8 dots/mm), see [`Self::paper_used_mm`].
pub struct ReceiptPrinter {
    link: Link,
    path: String,
    baud: u32,
    timeout: Duration,
    last_error: Option<String>,
    meter: PaperMeter,
}

impl ReceiptPrinter {
    /// A common baud rate for kiosk printers.
    pub const DEFAULT_BAUD: u32 = 115_200;

    /// Open the printer on `path` at `baud`, 8N1; `timeout` bounds each status reply and the
    /// start of each write.
    pub fn open(path: &str, baud: u32, timeout: Duration) -> Result<Self, PrinterError> {
        if path.starts_with(TCP_PREFIX) {
            return Self::connect_tcp(path, timeout);
        }
        let link = Link::open(path, baud, timeout).map_err(|e| link_error(e, "open"))?;
        tracing::info!(device = "receipt_printer", path, baud, "opened");
        Ok(Self::with_link(link, baud, timeout))
    }

    /// Connect to a network printer: `host`, `host:port` or `tcp://host[:port]` (port 9100
    /// when none is given). `timeout` bounds the connection, each status reply and the start
    /// of each write.
    pub fn connect_tcp(address: &str, timeout: Duration) -> Result<Self, PrinterError> {
        let spec = format!("{TCP_PREFIX}{}", tcp_address(address));
        let link = Link::open(&spec, 0, timeout).map_err(|e| link_error(e, "open"))?;
        tracing::info!(device = "receipt_printer", address = %spec, "connected");
        Ok(Self::with_link(link, 0, timeout))
    }

    /// [`Self::connect_tcp`] when `spec` starts with `tcp://`, otherwise [`Self::open`] on the
    /// serial device `spec` at `baud`: one setting for both kinds of printer.
    pub fn open_any(spec: &str, baud: u32, timeout: Duration) -> Result<Self, PrinterError> {
        if spec.starts_with(TCP_PREFIX) {
            Self::connect_tcp(spec, timeout)
        } else {
            Self::open(spec, baud, timeout)
        }
    }

    fn with_link(link: Link, baud: u32, timeout: Duration) -> Self {
        ReceiptPrinter {
            path: link.path(),
            link,
            baud,
            timeout,
            last_error: None,
            meter: PaperMeter::new(),
        }
    }

    /// The device path in use, or `tcp://host:port`.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Serial or TCP.
    pub fn transport(&self) -> TransportKind {
        self.link.kind()
    }

    /// Close and reopen the port (or connection) at the same path.
    pub fn reconnect(&mut self) -> Result<(), PrinterError> {
        let path = self.path.clone();
        self.reconnect_at(&path)
    }

    /// Close the port and open `path` instead (`tcp://…` for a network printer).
    pub fn reconnect_at(&mut self, path: &str) -> Result<(), PrinterError> {
        let result = self
            .link
            .reopen(path, self.baud.max(1))
            .map_err(|e| link_error(e, "open"));
        if result.is_ok() {
            self.path = self.link.path();
        }
        self.note(&result);
        result
    }

    /// Send raw ESC/POS bytes. The time allowed grows with the length at the port's baud rate
    /// (TCP: as if 1 Mbit/s). Bytes sent are counted by the paper counter.
    pub fn print(&mut self, bytes: &[u8]) -> Result<(), PrinterError> {
        let bits_per_second = match self.link.kind() {
            TransportKind::Serial => u64::from(self.baud.max(1)),
            TransportKind::Tcp => 1_000_000,
        };
        let wire_time = Duration::from_millis((bytes.len() as u64 * 10 * 1000) / bits_per_second);
        let result = self
            .link
            .write_all(bytes, self.timeout + wire_time)
            .map_err(|e| link_error(e, "data"));
        if result.is_ok() {
            self.meter.push(bytes);
        }
        self.after_io(&result);
        result
    }

    /// Paper used since the driver was created (or the counter reset), in dots (8 per mm).
    pub fn paper_used_dots(&self) -> u64 {
        self.meter.dots()
    }

    /// Paper used since the driver was created (or the counter reset), in millimetres.
    pub fn paper_used_mm(&self) -> f64 {
        self.meter.mm()
    }

    /// Start counting from zero (a new roll was loaded).
    pub fn reset_paper_counter(&mut self) {
        self.meter.reset();
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
