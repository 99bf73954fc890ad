//! The ID card reader driver: GA/T 467 SAM frames over a serial port.

use std::time::{Duration, Instant};

use super::base_info::{
    CardWithFingerprint, additional_address_from_reply, card_from_fingerprint_reply,
    card_from_read_reply,
};
use super::card_identity::CardIdentity;
use super::error::IdCardError;
use super::frame::{Command, FrameAssembler, Reply, baud_code};
use super::identity::ResidentIdentity;
use super::sam_id::SamId;
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
    /// Read text and photo (default 3500 ms). Also used for 30 10 and 30 03.
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
    auto_reconnect: Option<Duration>,
    last_reopen: Option<Instant>,
    last_find_new: bool,
}

/// How often a reader whose device disappeared tries to reopen it by default.
pub const DEFAULT_RECONNECT_INTERVAL: Duration = Duration::from_millis(500);

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
            auto_reconnect: Some(DEFAULT_RECONNECT_INTERVAL),
            last_reopen: None,
            last_find_new: false,
        })
    }

    /// Reopen the port by itself, at most once per `interval`, when a command finds the
    /// device gone (USB unplug and replug). `None` turns this off. On by default
    /// ([`DEFAULT_RECONNECT_INTERVAL`]).
    pub fn set_auto_reconnect(&mut self, interval: Option<Duration>) {
        self.auto_reconnect = interval;
    }

    /// Whether the port is open (false after the device disappeared, until it is reopened).
    pub fn is_connected(&self) -> bool {
        self.link.is_open()
    }

    /// The baud rate in use.
    pub fn baud(&self) -> u32 {
        self.link.baud()
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

    /// Find, select and read a resident ID card (30 01). Other card types are
    /// [`IdCardError::UnsupportedCardType`]; [`Self::read_identity`] reads every type.
    pub fn read_card(&mut self) -> Result<ResidentIdentity, IdCardError> {
        match self.read_identity()? {
            CardIdentity::Resident(identity) => Ok(identity),
            other => Err(IdCardError::UnsupportedCardType(other.card_type())),
        }
    }

    /// Find, select and read the card on the reader (30 01): any of the four card types.
    pub fn read_identity(&mut self) -> Result<CardIdentity, IdCardError> {
        let result = self.find_and_select().and_then(|()| self.read_selected());
        self.log_read(&result, |identity| identity.card_type().as_str());
        result
    }

    /// Find, select and read the card with its fingerprints (30 10; 0, 1 or 2 templates).
    pub fn read_identity_with_fingerprint(&mut self) -> Result<CardWithFingerprint, IdCardError> {
        let result = self
            .find_and_select()
            .and_then(|()| self.read_selected_with_fingerprint());
        self.log_read(&result, |read| read.identity.card_type().as_str());
        result
    }

    /// Read the selected card's text and photo (30 01), without find and select: for callers
    /// that drive find/select themselves, such as [`super::poller::CardPoller`].
    pub fn read_selected(&mut self) -> Result<CardIdentity, IdCardError> {
        let timeout = self.timeouts.read;
        let reply = self.transact(Command::READ_BASE_INFO, timeout)?;
        card_from_read_reply(&reply)
    }

    /// Read the selected card's text, photo and fingerprints (30 10).
    pub fn read_selected_with_fingerprint(&mut self) -> Result<CardWithFingerprint, IdCardError> {
        let timeout = self.timeouts.read;
        let reply = self.transact(Command::READ_BASE_INFO_FINGERPRINT, timeout)?;
        card_from_fingerprint_reply(&reply)
    }

    /// Read the selected card's additional address (30 03; call after a read). `None` when
    /// the card has none (SW3 0x91). Personal data.
    pub fn read_additional_address(&mut self) -> Result<Option<String>, IdCardError> {
        let timeout = self.timeouts.read;
        let reply = self.transact(Command::READ_ADDITIONAL_ADDRESS, timeout)?;
        additional_address_from_reply(&reply)
    }

    /// Set the maximum RF frame size (61 FF nn; the SDKs use 0x50).
    pub fn set_max_rf_bytes(&mut self, bytes: u8) -> Result<(), IdCardError> {
        let timeout = self.timeouts.control;
        let reply = self.transact_frame(Command::SET_MAX_RF_BYTES, &[bytes], timeout)?;
        expect_success(reply.sw3)
    }

    /// Ask the module to switch to `baud` (60 nn), then reopen the port at that rate.
    /// Only 115200, 57600, 38400, 19200 and 9600 exist. The 60 command is from memory of
    /// GA/T 467 (reference §1.3, unverified): prefer configuring the module's rate once and
    /// opening at it.
    pub fn change_baud(&mut self, baud: u32) -> Result<(), IdCardError> {
        let code = baud_code(baud)
            .ok_or_else(|| IdCardError::Framing(format!("{baud} is not a SAM baud rate")))?;
        let timeout = self.timeouts.control;
        let reply = self.transact(Command::set_baud(code), timeout)?;
        expect_success(reply.sw3)?;
        let result = self
            .link
            .set_baud(baud)
            .map_err(|e| link_error(e, "60 set baud"));
        self.note(&result);
        result
    }

    /// Whether a card is on the reader, without reading it: find (20 01), and when find says
    /// "none" (which read-once readers also say for a card already read), select (20 02).
    /// Returns `Ok(true)` with the card selected, ready for [`Self::read_selected`].
    pub fn card_present(&mut self) -> Result<bool, IdCardError> {
        match self.find_and_select() {
            Ok(()) => Ok(true),
            Err(IdCardError::NoCard) => Ok(false),
            Err(error) => Err(error),
        }
    }

    /// Find (20 01) and select (20 02); whether find said "found" (0x9F) is returned through
    /// [`Self::last_find_was_new`].
    fn find_and_select(&mut self) -> Result<(), IdCardError> {
        let timeout = self.timeouts.find_select;
        let find = self.transact(Command::FIND_CARD, timeout)?;
        // 0x80 means "no card" or, on readers in read-once mode, "the same card is still
        // there"; selecting tells the two apart.
        let card_found = match known_status(find.sw3)? {
            SamStatus::FindCardOk | SamStatus::Success => true,
            SamStatus::FindCardFailed => false,
            other => return Err(IdCardError::Status(other)),
        };
        self.last_find_new = card_found;
        let select = self.transact(Command::SELECT_CARD, timeout)?;
        match known_status(select.sw3)? {
            SamStatus::Success => Ok(()),
            SamStatus::SelectCardFailed | SamStatus::FindCardFailed if !card_found => {
                Err(IdCardError::NoCard)
            }
            other => Err(IdCardError::Status(other)),
        }
    }

    /// Whether the last find (20 01) reported a newly presented card (0x9F) rather than
    /// "none / same card" (0x80).
    pub fn last_find_was_new(&self) -> bool {
        self.last_find_new
    }

    fn log_read<T>(&mut self, result: &Result<T, IdCardError>, card: impl Fn(&T) -> &'static str) {
        self.note(result);
        match result {
            Ok(read) => tracing::info!(device = "id_card_reader", card = card(read), "card read"),
            Err(IdCardError::NoCard) => {}
            Err(error) => tracing::warn!(device = "id_card_reader", %error, "card read failed"),
        }
    }

    /// Ask the SAM for its status (11 FF).
    pub fn sam_status(&mut self) -> Result<SamStatus, IdCardError> {
        let timeout = self.timeouts.control;
        let reply = self.transact(Command::SAM_STATUS, timeout)?;
        known_status(reply.sw3)
    }

    /// Reset the SAM (10 FF).
    pub fn reset_sam(&mut self) -> Result<(), IdCardError> {
        let timeout = self.timeouts.control;
        let reply = self.transact(Command::RESET_SAM, timeout)?;
        expect_success(reply.sw3)
    }

    /// Read the 16-byte SAM module id (12 FF).
    pub fn read_sam_id(&mut self) -> Result<[u8; 16], IdCardError> {
        let timeout = self.timeouts.control;
        let reply = self.transact(Command::READ_SAM_ID, timeout)?;
        expect_success(reply.sw3)?;
        <[u8; 16]>::try_from(reply.data.as_slice()).map_err(|_| {
            IdCardError::Framing(format!("SAM id is {} bytes, expected 16", reply.data.len()))
        })
    }

    /// Read the SAM module id (12 FF), decoded to its printed form with `to_string()`.
    pub fn sam_id(&mut self) -> Result<SamId, IdCardError> {
        self.read_sam_id().map(SamId::from_bytes)
    }

    /// Send one command and wait for its whole reply frame.
    fn transact(&mut self, command: Command, timeout: Duration) -> Result<Reply, IdCardError> {
        self.transact_frame(command, &[], timeout)
    }

    fn transact_frame(
        &mut self,
        command: Command,
        data: &[u8],
        timeout: Duration,
    ) -> Result<Reply, IdCardError> {
        self.reopen_if_gone()?;
        let result = self.transact_once(command, data, timeout);
        if let Err(IdCardError::Disconnected(_)) = &result {
            // The port is useless now; free it so the device can be reopened.
            self.link.close();
        }
        result
    }

    /// With auto-reconnect on, reopen a closed port (at most once per interval).
    fn reopen_if_gone(&mut self) -> Result<(), IdCardError> {
        if self.link.is_open() {
            return Ok(());
        }
        let Some(interval) = self.auto_reconnect else {
            return Err(IdCardError::Disconnected("port is closed".to_owned()));
        };
        if self.last_reopen.is_some_and(|t| t.elapsed() < interval) {
            return Err(IdCardError::Disconnected(
                "device gone; waiting to reopen".to_owned(),
            ));
        }
        self.last_reopen = Some(Instant::now());
        let path = self.link.path().to_owned();
        match self.link.reopen(&path) {
            Ok(()) => {
                tracing::info!(device = "id_card_reader", path, "device back, reopened");
                Ok(())
            }
            Err(error) => Err(IdCardError::Disconnected(format!(
                "device gone: {}",
                link_error(error, "open")
            ))),
        }
    }

    fn transact_once(
        &mut self,
        command: Command,
        data: &[u8],
        timeout: Duration,
    ) -> Result<Reply, IdCardError> {
        let name = command.name();
        self.link.drain_input().map_err(|e| link_error(e, name))?;
        tracing::debug!(device = "id_card_reader", command = name, "send");
        self.link
            .write_all(&command.encode_with(data), timeout)
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

    fn read_identity(&mut self) -> Result<CardIdentity, IdCardError> {
        IdCardReader::read_identity(self)
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
