//! The ID card reader driver: GA/T 467 SAM frames over a serial port.

use std::time::{Duration, Instant};

use super::base_info::identity_from_read_reply;
use super::error::IdCardError;
use super::frame::{Command, FrameAssembler, Reply};
use super::identity::ResidentIdentity;
use super::sam_status::SamStatus;
use crate::serial_link::{LinkError, SerialLink};
use crate::status::{DeviceClass, DeviceState, DeviceStatus};
use crate::traits::{Device, IdCardReaderDevice};

/// How long to wait for each kind of reply (the vendor SDK's values by default).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReaderTimeouts {
    /// Reset, status and SAM id (default 300 ms).
    pub control: Duration,
    /// Find and select card (default 500 ms).
    pub find_select: Duration,
    /// Read text and photo (default 3500 ms).
    pub read: Duration,
}

impl Default for ReaderTimeouts {
    fn default() -> Self {
        ReaderTimeouts {
            control: Duration::from_millis(300),
            find_select: Duration::from_millis(500),
            read: Duration::from_millis(3500),
        }
    }
}

/// A second-generation ID card reader on a serial port.
pub struct IdCardReader {
    link: SerialLink,
    timeouts: ReaderTimeouts,
    last_error: Option<String>,
}

impl IdCardReader {
    /// The usual baud rate of SAM modules.
    pub const DEFAULT_BAUD: u32 = 115_200;

    /// Open the reader on `path` (e.g. `/dev/ttyUSB0`) at `baud`, 8N1.
    pub fn open(path: &str, baud: u32, timeouts: ReaderTimeouts) -> Result<Self, IdCardError> {
        let link = SerialLink::open(path, baud).map_err(|e| link_error(e, "open"))?;
        tracing::info!(device = "id_card_reader", path, baud, "opened");
        Ok(IdCardReader {
            link,
            timeouts,
            last_error: None,
        })
    }

    /// The device path in use.
    pub fn path(&self) -> &str {
        self.link.path()
    }

    /// The timeouts in use.
    pub fn timeouts(&self) -> ReaderTimeouts {
        self.timeouts
    }

    /// Close and reopen the port at the same path (after the device came back).
    pub fn reconnect(&mut self) -> Result<(), IdCardError> {
        let path = self.link.path().to_owned();
        self.reconnect_at(&path)
    }

    /// Close the port and open `path` instead (the device came back under another name).
    pub fn reconnect_at(&mut self, path: &str) -> Result<(), IdCardError> {
        let result = self.link.reopen(path).map_err(|e| link_error(e, "open"));
        self.note(&result);
        if result.is_ok() {
            tracing::info!(device = "id_card_reader", path, "reconnected");
        }
        result
    }

    /// Find, select and read the card on the reader.
    pub fn read_card(&mut self) -> Result<ResidentIdentity, IdCardError> {
        let result = self.find_select_read();
        self.note(&result);
        match &result {
            Ok(identity) => {
                tracing::info!(device = "id_card_reader", card = ?identity.card_type(), "card read");
            }
            Err(IdCardError::NoCard) => {}
            Err(error) => tracing::warn!(device = "id_card_reader", %error, "card read failed"),
        }
        result
    }

    /// Ask the SAM for its status (11 FF).
    pub fn sam_status(&mut self) -> Result<SamStatus, IdCardError> {
        let timeout = self.timeouts.control;
        let reply = self.transact(Command::SAM_STATUS, "11 FF SAM status", timeout)?;
        known_status(reply.sw3)
    }

    /// Reset the SAM (10 FF).
    pub fn reset_sam(&mut self) -> Result<(), IdCardError> {
        let timeout = self.timeouts.control;
        let reply = self.transact(Command::RESET_SAM, "10 FF reset SAM", timeout)?;
        expect_success(reply.sw3)
    }

    /// Read the 16-byte SAM module id (12 FF).
    pub fn read_sam_id(&mut self) -> Result<[u8; 16], IdCardError> {
        let timeout = self.timeouts.control;
        let reply = self.transact(Command::READ_SAM_ID, "12 FF SAM id", timeout)?;
        expect_success(reply.sw3)?;
        <[u8; 16]>::try_from(reply.data.as_slice()).map_err(|_| {
            IdCardError::Framing(format!("SAM id is {} bytes, expected 16", reply.data.len()))
        })
    }

    fn find_select_read(&mut self) -> Result<ResidentIdentity, IdCardError> {
        let find_select = self.timeouts.find_select;
        let find = self.transact(Command::FIND_CARD, "20 01 find card", find_select)?;
        // 0x80 means "no card" or, on readers in read-once mode, "the same card is still
        // there"; selecting tells the two apart.
        let card_found = match known_status(find.sw3)? {
            SamStatus::FindCardOk | SamStatus::Success => true,
            SamStatus::FindCardFailed => false,
            other => return Err(IdCardError::Status(other)),
        };
        let select = self.transact(Command::SELECT_CARD, "20 02 select card", find_select)?;
        match known_status(select.sw3)? {
            SamStatus::Success => {}
            SamStatus::SelectCardFailed | SamStatus::FindCardFailed if !card_found => {
                return Err(IdCardError::NoCard);
            }
            other => return Err(IdCardError::Status(other)),
        }
        let read_timeout = self.timeouts.read;
        let read = self.transact(
            Command::READ_BASE_INFO,
            "30 01 read base info",
            read_timeout,
        )?;
        identity_from_read_reply(&read)
    }

    /// Send one command and wait for its whole reply frame.
    fn transact(
        &mut self,
        command: Command,
        name: &'static str,
        timeout: Duration,
    ) -> Result<Reply, IdCardError> {
        let result = self.transact_once(command, name, timeout);
        if let Err(IdCardError::Disconnected(_)) = &result {
            // The port is useless now; free it so the device can be reopened.
            self.link.close();
        }
        result
    }

    fn transact_once(
        &mut self,
        command: Command,
        name: &'static str,
        timeout: Duration,
    ) -> Result<Reply, IdCardError> {
        self.link.drain_input().map_err(|e| link_error(e, name))?;
        tracing::debug!(device = "id_card_reader", command = name, "send");
        self.link
            .write_all(&command.encode(), timeout)
            .map_err(|e| link_error(e, name))?;
        let deadline = Instant::now() + timeout;
        let mut assembler = FrameAssembler::new();
        let mut buf = [0u8; 2048];
        loop {
            if let Some(frame) = assembler.next_frame() {
                return Reply::from_body(&frame?).map_err(IdCardError::from);
            }
            match self.link.read_some(&mut buf, deadline) {
                Ok(n) => assembler.push(&buf[..n]),
                Err(LinkError::Timeout) if assembler.frame_started() => {
                    return Err(IdCardError::Truncated {
                        command: name,
                        received: assembler.pending(),
                    });
                }
                Err(LinkError::Timeout) => {
                    return Err(IdCardError::Timeout {
                        command: name,
                        waited_ms: timeout.as_millis() as u64,
                    });
                }
                Err(other) => return Err(link_error(other, name)),
            }
        }
    }

    fn note<T>(&mut self, result: &Result<T, IdCardError>) {
        match result {
            Ok(_) | Err(IdCardError::NoCard) => self.last_error = None,
            Err(error) => self.last_error = Some(error.to_string()),
        }
    }

    fn status_from(&self, result: &Result<SamStatus, IdCardError>) -> DeviceStatus {
        let state = match result {
            Ok(SamStatus::Success) => DeviceState::Online,
            Ok(SamStatus::SamSelfTestFailed | SamStatus::SamNotAuthorised) => {
                DeviceState::HardwareError
            }
            Ok(_) => DeviceState::HardwareError,
            Err(IdCardError::Disconnected(_) | IdCardError::Open { .. }) => DeviceState::NoDevice,
            Err(IdCardError::Timeout { .. }) => DeviceState::Offline,
            Err(IdCardError::Status(SamStatus::SamSelfTestFailed)) => DeviceState::HardwareError,
            Err(_) => DeviceState::HardwareError,
        };
        let mut status = DeviceStatus::new(DeviceClass::IdCardReader, state);
        status.last_error = match result {
            Ok(SamStatus::Success) => self.last_error.clone(),
            Ok(other) => Some(other.to_string()),
            Err(error) => Some(error.to_string()),
        };
        status
    }
}

impl Device for IdCardReader {
    type Error = IdCardError;

    fn class(&self) -> DeviceClass {
        DeviceClass::IdCardReader
    }

    fn status(&mut self) -> DeviceStatus {
        let result = self.sam_status();
        self.status_from(&result)
    }

    fn self_test(&mut self) -> Result<DeviceStatus, IdCardError> {
        let status = self.sam_status()?;
        Ok(self.status_from(&Ok(status)))
    }

    fn reset(&mut self) -> Result<(), IdCardError> {
        let result = self.reset_sam();
        self.note(&result);
        result
    }
}

impl IdCardReaderDevice for IdCardReader {
    fn read_card(&mut self) -> Result<ResidentIdentity, IdCardError> {
        IdCardReader::read_card(self)
    }
}

fn known_status(sw3: u8) -> Result<SamStatus, IdCardError> {
    SamStatus::from_code(sw3).ok_or(IdCardError::UnrecognisedStatus(sw3))
}

fn expect_success(sw3: u8) -> Result<(), IdCardError> {
    match known_status(sw3)? {
        SamStatus::Success => Ok(()),
        other => Err(IdCardError::Status(other)),
    }
}

fn link_error(error: LinkError, command: &'static str) -> IdCardError {
    match error {
        LinkError::Timeout => IdCardError::Timeout {
            command,
            waited_ms: 0,
        },
        LinkError::Disconnected(reason) => IdCardError::Disconnected(reason),
        LinkError::Open { path, reason } => IdCardError::Open { path, reason },
    }
}
