//! The QR scanner driver: serial port, trigger or continuous mode, lines in.

use std::time::{Duration, Instant};

use super::error::QrError;
use super::line::{ScanLineParser, ScannerOutput};
use super::{ACK, STOP_COMMAND, TRIGGER_COMMAND};
use crate::serial_link::{LinkError, SerialLink};
use crate::status::{DeviceClass, DeviceState, DeviceStatus};
use crate::traits::{Device, DeviceError, QrScannerDevice};

/// How the scanner is used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScanMode {
    /// The driver sends the trigger command for each scan and stop when it gives up.
    Triggered,
    /// The scanner reads continuously (or on its own button/sensor) and sends every code.
    Continuous,
}

/// How long to wait for a command acknowledgement.
const ACK_TIMEOUT: Duration = Duration::from_millis(500);

/// A serial-mode QR scanner.
pub struct QrScanner {
    link: SerialLink,
    mode: ScanMode,
    parser: ScanLineParser,
    last_error: Option<String>,
}

impl QrScanner {
    /// The usual baud rate of GM65-style modules.
    pub const DEFAULT_BAUD: u32 = 9_600;

    /// Open the scanner on `path` at `baud`, 8N1.
    pub fn open(path: &str, baud: u32, mode: ScanMode) -> Result<Self, QrError> {
        let link = SerialLink::open(path, baud).map_err(link_error)?;
        tracing::info!(device = "qr_scanner", path, baud, ?mode, "opened");
        Ok(QrScanner {
            link,
            mode,
            parser: ScanLineParser::new(),
            last_error: None,
        })
    }

    /// The mode in use.
    pub fn mode(&self) -> ScanMode {
        self.mode
    }

    /// The device path.
    pub fn path(&self) -> &str {
        self.link.path()
    }

    /// Close and reopen the port at `path` (the device came back).
    pub fn reconnect_at(&mut self, path: &str) -> Result<(), QrError> {
        self.parser.clear();
        self.link.reopen(path).map_err(link_error)
    }

    /// Close and reopen the port at the same path.
    pub fn reconnect(&mut self) -> Result<(), QrError> {
        let path = self.link.path().to_owned();
        self.reconnect_at(&path)
    }

    /// Wait up to `timeout` for one code. In triggered mode the trigger command is sent first
    /// (and stop when nothing was scanned). `Ok(None)`: nothing was scanned in time.
    pub fn scan(&mut self, timeout: Duration) -> Result<Option<String>, QrError> {
        let result = self.scan_inner(timeout);
        if let Err(QrError::Disconnected(_)) = &result {
            self.link.close();
        }
        self.last_error = result.as_ref().err().map(ToString::to_string);
        result
    }

    fn scan_inner(&mut self, timeout: Duration) -> Result<Option<String>, QrError> {
        let deadline = Instant::now() + timeout;
        if self.mode == ScanMode::Triggered {
            self.parser.clear();
            self.link.drain_input().map_err(link_error)?;
            self.command(&TRIGGER_COMMAND, "trigger")?;
        }
        let code = self.next_code(deadline)?;
        if code.is_none() && self.mode == ScanMode::Triggered {
            // Nothing scanned: switch the light off again.
            self.command(&STOP_COMMAND, "stop")?;
        }
        Ok(code)
    }

    /// Send a command and wait for its acknowledgement; codes arriving meanwhile are kept.
    fn command(&mut self, bytes: &[u8], name: &'static str) -> Result<(), QrError> {
        self.link
            .write_all(bytes, ACK_TIMEOUT)
            .map_err(link_error)?;
        let deadline = Instant::now() + ACK_TIMEOUT;
        loop {
            match self.parser.next_output() {
                Some(ScannerOutput::Response(frame)) if frame == ACK => return Ok(()),
                Some(ScannerOutput::Response(_)) => return Err(QrError::BadAck { command: name }),
                Some(_) => continue,
                None => {}
            }
            match self.read_more(deadline) {
                Ok(()) => {}
                Err(LinkError::Timeout) => return Err(QrError::NoAck { command: name }),
                Err(other) => return Err(link_error(other)),
            }
        }
    }

    fn next_code(&mut self, deadline: Instant) -> Result<Option<String>, QrError> {
        loop {
            match self.parser.next_output() {
                Some(ScannerOutput::Code(code)) => {
                    tracing::info!(device = "qr_scanner", bytes = code.len(), "code scanned");
                    return Ok(Some(code));
                }
                Some(ScannerOutput::Overlong) => {
                    return Err(QrError::LineTooLong {
                        limit: super::line::MAX_LINE,
                    });
                }
                Some(ScannerOutput::Response(_)) => continue,
                None => {}
            }
            match self.read_more(deadline) {
                Ok(()) => {}
                Err(LinkError::Timeout) => return Ok(None),
                Err(other) => return Err(link_error(other)),
            }
        }
    }

    fn read_more(&mut self, deadline: Instant) -> Result<(), LinkError> {
        let mut buf = [0u8; 512];
        let n = self.link.read_some(&mut buf, deadline)?;
        self.parser.push(&buf[..n]);
        Ok(())
    }

    fn probe(&mut self) -> Result<(), QrError> {
        self.link.drain_input().map_err(link_error)?;
        self.parser.clear();
        let result = self.command(&STOP_COMMAND, "stop");
        if let Err(QrError::Disconnected(_)) = &result {
            self.link.close();
        }
        result
    }
}

impl Device for QrScanner {
    type Error = DeviceError;

    fn class(&self) -> DeviceClass {
        DeviceClass::QrScanner
    }

    /// Triggered mode: the stop command must be acknowledged. Continuous mode: the port must
    /// be open (the scanner sends nothing unasked).
    fn status(&mut self) -> DeviceStatus {
        let result = match self.mode {
            ScanMode::Triggered => self.probe(),
            ScanMode::Continuous => self.link.drain_input().map_err(link_error),
        };
        let state = match &result {
            Ok(()) => DeviceState::Online,
            Err(QrError::Open { .. } | QrError::Disconnected(_)) => DeviceState::NoDevice,
            Err(QrError::NoAck { .. }) => DeviceState::Offline,
            Err(_) => DeviceState::HardwareError,
        };
        let status = DeviceStatus::new(DeviceClass::QrScanner, state);
        match result {
            Err(error) => status.with_error(error.to_string()),
            Ok(()) => match &self.last_error {
                Some(error) => status.with_error(error.clone()),
                None => status,
            },
        }
    }

    fn self_test(&mut self) -> Result<DeviceStatus, DeviceError> {
        if self.mode == ScanMode::Triggered {
            self.probe()?;
        }
        Ok(self.status())
    }

    fn reset(&mut self) -> Result<(), DeviceError> {
        self.parser.clear();
        if self.mode == ScanMode::Triggered {
            self.probe()?;
        }
        Ok(())
    }
}

impl QrScannerDevice for QrScanner {
    fn next_scan(&mut self, timeout: Duration) -> Result<Option<String>, DeviceError> {
        self.scan(timeout).map_err(DeviceError::from)
    }
}

fn link_error(error: LinkError) -> QrError {
    match error {
        LinkError::Timeout => QrError::NoAck { command: "write" },
        LinkError::Disconnected(reason) => QrError::Disconnected(reason),
        LinkError::Open { path, reason } => QrError::Open { path, reason },
    }
}
