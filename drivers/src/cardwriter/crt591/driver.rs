//! The CRT-591 driver: framing, the ACK/NAK handshake and every command the kiosk uses, over
//! a serial port.
//!
//! Handshake (reference §3.1, PDF §1.4): the host sends the command; the device answers ACK
//! (or NAK on a bad BCC, and the host sends again, up to [`MAX_SENDS`] times); the device
//! executes and sends the reply frame; the host answers ACK. A host that gives up waiting
//! sends EOT (cancel).
//!
//! **[unverified]** The PDF's timing diagrams mention a 300 ms and a "20 ms (except
//! dispense/initial)" timeout whose exact meaning the reference could not settle. The
//! defaults of [`Crt591Timeouts`] are deliberately longer; check them against the PDF's
//! diagrams on hardware.

use std::time::{Duration, Instant};

use super::codes::{Crt591ErrorCode, Crt591Status};
use super::command::{self as cmd, ChipVoltage, Crt591Command, MifareOp, SW_FAILED, SW_OK};
use super::frame::{ACK, EOT, FrameAssembler, MAX_DATA, NAK, RawFrame, ReplyFrame};
use crate::cardwriter::encoder::{BLOCK_LEN, CardEncoder, MifareKey, RfCard};
use crate::cardwriter::error::CardWriterError;
use crate::cardwriter::model::CardWriterModel;
use crate::cardwriter::report::{CardPosition, CardWriterReport};
use crate::cardwriter::unit::CardUnit;
use crate::serial_link::{LinkError, SerialLink};

/// Times a command is sent when the device keeps answering NAK.
pub const MAX_SENDS: u32 = 3;
/// How often the status is polled while waiting for a card at the front slot.
const ENTRY_POLL: Duration = Duration::from_millis(100);

/// How long to wait for each part of an exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Crt591Timeouts {
    /// From the end of the command to the ACK/NAK byte.
    pub ack: Duration,
    /// From the ACK to the reply frame, for commands that move no card.
    pub reply: Duration,
    /// From the ACK to the reply frame, for initialise and card movements.
    pub motion: Duration,
}

impl Default for Crt591Timeouts {
    fn default() -> Self {
        Crt591Timeouts {
            ack: Duration::from_millis(800),
            reply: Duration::from_secs(3),
            motion: Duration::from_secs(20),
        }
    }
}

/// How the initialise command treats a card in the channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InitMode {
    /// `30 33`: the card stays.
    KeepCard,
    /// `30 30`: the card goes to the gate.
    CardToGate,
    /// `30 31`: the card is captured to the bin.
    CaptureCard,
}

/// Where the CRT-591 can move a card inside.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Crt591Position {
    /// `32 30`: holding position.
    Holding,
    /// `32 31`: IC contact position.
    Ic,
    /// `32 32`: RF position.
    Rf,
}

/// A Creator CRT-591(-M001) on a serial port.
pub struct Crt591 {
    link: SerialLink,
    addr: u8,
    timeouts: Crt591Timeouts,
    jam_latched: bool,
    assembler: FrameAssembler,
}

impl Crt591 {
    /// The factory address (all DIP switches off).
    pub const DEFAULT_ADDRESS: u8 = 0x00;

    /// Open the unit at the factory address on `path` at `baud`, 8N1.
    pub fn open(path: &str, baud: u32, timeouts: Crt591Timeouts) -> Result<Self, CardWriterError> {
        Self::open_at_address(path, baud, Self::DEFAULT_ADDRESS, timeouts)
    }

    /// Open the unit at bus address `addr` (0–15, set by DIP switches).
    pub fn open_at_address(
        path: &str,
        baud: u32,
        addr: u8,
        timeouts: Crt591Timeouts,
    ) -> Result<Self, CardWriterError> {
        let link = SerialLink::open(path, baud).map_err(|e| link_error(e, "open"))?;
        tracing::info!(
            device = "card_writer",
            model = "crt591",
            path,
            baud,
            addr,
            "opened"
        );
        Ok(Crt591 {
            link,
            addr,
            timeouts,
            jam_latched: false,
            assembler: FrameAssembler::new(),
        })
    }

    /// Send `command` with `data` and return the reply, positive or negative. Handles the
    /// ACK/NAK handshake, checks the frame and that the reply echoes the command.
    pub fn transact(
        &mut self,
        command: Crt591Command,
        data: Vec<u8>,
    ) -> Result<ReplyFrame, CardWriterError> {
        let result = self.transact_once(command, data);
        if let Err(CardWriterError::Disconnected(_)) = &result {
            self.link.close();
        }
        result
    }

    fn transact_once(
        &mut self,
        command: Crt591Command,
        data: Vec<u8>,
    ) -> Result<ReplyFrame, CardWriterError> {
        if data.len() > MAX_DATA {
            return Err(CardWriterError::Unsupported(format!(
                "{} bytes of data for {} (at most {MAX_DATA})",
                data.len(),
                command.name
            )));
        }
        let frame = command.frame_with(data).encode(self.addr);
        self.link
            .drain_input()
            .map_err(|e| link_error(e, command.name))?;
        self.assembler.clear();
        let mut acked = false;
        for attempt in 1..=MAX_SENDS {
            self.link
                .write_all(&frame, self.timeouts.ack)
                .map_err(|e| link_error(e, command.name))?;
            match self.read_control(command)? {
                ACK => {
                    acked = true;
                    break;
                }
                NAK => {
                    tracing::debug!(
                        device = "card_writer",
                        command = command.name,
                        attempt,
                        "NAK"
                    );
                }
                other => {
                    let _ = self.link.drain_input();
                    return Err(CardWriterError::BadReply {
                        command: command.name.to_owned(),
                        reason: format!("expected ACK or NAK, got {other:#04x}"),
                    });
                }
            }
        }
        if !acked {
            return Err(CardWriterError::Nak {
                command: command.name.to_owned(),
                attempts: MAX_SENDS,
            });
        }
        let wait = if command.is_motion() {
            self.timeouts.motion
        } else {
            self.timeouts.reply
        };
        let raw = self.read_frame(command, Instant::now() + wait)?;
        self.link
            .write_all(&[ACK], self.timeouts.ack)
            .map_err(|e| link_error(e, command.name))?;
        let reply = ReplyFrame::decode(&raw.text).map_err(|e| CardWriterError::BadReply {
            command: command.name.to_owned(),
            reason: e.to_string(),
        })?;
        if raw.addr != self.addr || reply.command() != (command.cm, command.pm) {
            let (cm, pm) = reply.command();
            return Err(CardWriterError::UnexpectedReply {
                command: command.name.to_owned(),
                reason: format!("reply from address {:#04x} to {cm:02X} {pm:02X}", raw.addr),
            });
        }
        Ok(reply)
    }

    /// Wait for the ACK/NAK byte.
    fn read_control(&mut self, command: Crt591Command) -> Result<u8, CardWriterError> {
        let deadline = Instant::now() + self.timeouts.ack;
        let mut buf = [0u8; 256];
        loop {
            if let Some(byte) = self.assembler.take_control_byte() {
                return Ok(byte);
            }
            if !self.assembler.pending().is_empty() {
                // A frame without an ACK first.
                self.assembler.clear();
                let _ = self.link.drain_input();
                return Err(CardWriterError::BadReply {
                    command: command.name.to_owned(),
                    reason: "reply frame without ACK".to_owned(),
                });
            }
            let n = self
                .link
                .read_some(&mut buf, deadline)
                .map_err(|e| link_error(e, &format!("ACK to {}", command.name)))?;
            self.assembler.push(&buf[..n]);
        }
    }

    /// Wait for the reply frame; a corrupt one is [`CardWriterError::BadReply`], nothing is
    /// a timeout (after which EOT cancels the command).
    fn read_frame(
        &mut self,
        command: Crt591Command,
        deadline: Instant,
    ) -> Result<RawFrame, CardWriterError> {
        let skipped_before = self.assembler.skipped();
        let mut buf = [0u8; 1100];
        loop {
            match self.assembler.next_frame() {
                Some(Ok(raw)) => return Ok(raw),
                Some(Err(error)) => {
                    self.assembler.clear();
                    let _ = self.link.drain_input();
                    return Err(CardWriterError::BadReply {
                        command: command.name.to_owned(),
                        reason: error.to_string(),
                    });
                }
                None => {}
            }
            match self.link.read_some(&mut buf, deadline) {
                Ok(n) => self.assembler.push(&buf[..n]),
                Err(LinkError::Timeout) => {
                    let _ = self.link.write_all(&[EOT], self.timeouts.ack);
                    let garbage = self.assembler.skipped() > skipped_before
                        || !self.assembler.pending().is_empty();
                    self.assembler.clear();
                    return Err(if garbage {
                        CardWriterError::BadReply {
                            command: command.name.to_owned(),
                            reason: "bytes that are not a whole frame".to_owned(),
                        }
                    } else {
                        CardWriterError::Timeout {
                            what: format!("reply to {}", command.name),
                        }
                    });
                }
                Err(e) => return Err(link_error(e, command.name)),
            }
        }
    }

    /// Run `command`: a negative reply becomes its typed error, a positive one gives the
    /// status bytes and the data.
    pub fn execute(
        &mut self,
        command: Crt591Command,
        data: Vec<u8>,
    ) -> Result<(Crt591Status, Vec<u8>), CardWriterError> {
        match self.transact(command, data)? {
            ReplyFrame::Positive { status, data, .. } => {
                let decoded = Crt591Status::from_bytes(status).ok_or_else(|| {
                    CardWriterError::UnexpectedReply {
                        command: command.name.to_owned(),
                        reason: format!("status bytes {status:02X?} outside the table"),
                    }
                })?;
                Ok((decoded, data))
            }
            ReplyFrame::Negative { code, .. } => {
                if code == Crt591ErrorCode::CardJam {
                    self.jam_latched = true;
                }
                tracing::warn!(device = "card_writer", command = command.name, %code, "refused");
                Err(CardWriterError::from_crt591(command.name, code))
            }
        }
    }

    /// Like [`Self::execute`] for card I/O: chip codes (60–69) become
    /// [`CardWriterError::Chip`].
    fn execute_card_io(
        &mut self,
        command: Crt591Command,
        data: Vec<u8>,
    ) -> Result<Vec<u8>, CardWriterError> {
        match self.execute(command, data) {
            Ok((_, data)) => Ok(data),
            Err(CardWriterError::Crt591 { command, code }) if code.is_chip_error() => {
                Err(CardWriterError::Chip(format!("{command}: {code}")))
            }
            Err(error) => Err(error),
        }
    }

    /// Initialise; returns the firmware version the device sends (e.g. "CRT-591-M001").
    pub fn initialise_with(&mut self, mode: InitMode) -> Result<String, CardWriterError> {
        let command = match mode {
            InitMode::KeepCard => cmd::INIT_KEEP,
            InitMode::CardToGate => cmd::INIT_TO_GATE,
            InitMode::CaptureCard => cmd::INIT_CAPTURE,
        };
        let (_, data) = self.execute(command, vec![])?;
        self.jam_latched = false;
        Ok(String::from_utf8_lossy(&data).into_owned())
    }

    /// The status bytes.
    pub fn status(&mut self) -> Result<Crt591Status, CardWriterError> {
        Ok(self.execute(cmd::STATUS, vec![])?.0)
    }

    /// The eight sensor bytes (S1..S7 and a reserve), `true` where the sensor sees a card.
    pub fn sensors(&mut self) -> Result<[bool; 8], CardWriterError> {
        let (_, data) = self.execute(cmd::SENSORS, vec![])?;
        let mut sensors = [false; 8];
        if data.len() != 8 || data.iter().any(|b| !matches!(b, b'0' | b'1')) {
            return Err(CardWriterError::UnexpectedReply {
                command: cmd::SENSORS.name.to_owned(),
                reason: format!("{} sensor bytes", data.len()),
            });
        }
        for (slot, byte) in sensors.iter_mut().zip(&data) {
            *slot = *byte == b'1';
        }
        Ok(sensors)
    }

    /// Move the card in the channel (or a new one from the stacker) to `position`.
    pub fn move_to(&mut self, position: Crt591Position) -> Result<Crt591Status, CardWriterError> {
        let command = match position {
            Crt591Position::Holding => cmd::MOVE_HOLD,
            Crt591Position::Ic => cmd::MOVE_IC,
            Crt591Position::Rf => cmd::MOVE_RF,
        };
        Ok(self.execute(command, vec![])?.0)
    }

    /// Eject the card to the gate.
    pub fn eject(&mut self) -> Result<Crt591Status, CardWriterError> {
        Ok(self.execute(cmd::EJECT, vec![])?.0)
    }

    /// Capture the card to the error-card bin.
    pub fn capture(&mut self) -> Result<Crt591Status, CardWriterError> {
        Ok(self.execute(cmd::CAPTURE, vec![])?.0)
    }

    /// Enable or disable card entry from the gate.
    pub fn set_entry(&mut self, enabled: bool) -> Result<Crt591Status, CardWriterError> {
        let command = if enabled {
            cmd::ENTRY_ENABLE
        } else {
            cmd::ENTRY_DISABLE
        };
        Ok(self.execute(command, vec![])?.0)
    }

    /// Auto-detect the card type at the IC (`rf == false`) or RF position; the reply data
    /// as sent (its layout is not in the reference).
    pub fn detect_card_type(&mut self, rf: bool) -> Result<Vec<u8>, CardWriterError> {
        let command = if rf { cmd::DETECT_RF } else { cmd::DETECT_IC };
        self.execute_card_io(command, vec![])
    }

    /// The firmware version (`A4 30`).
    pub fn firmware_version(&mut self) -> Result<String, CardWriterError> {
        let (_, data) = self.execute(cmd::FIRMWARE, vec![])?;
        Ok(String::from_utf8_lossy(&data).into_owned())
    }

    /// The unit's serial number (`A2 30`), as sent.
    pub fn serial_number(&mut self) -> Result<String, CardWriterError> {
        let (_, data) = self.execute(cmd::SERIAL_NUMBER, vec![])?;
        Ok(String::from_utf8_lossy(&data).into_owned())
    }

    /// The error-bin counter (`A5 30`). **[unverified]** The reference does not give the
    /// reply layout; this reads ASCII decimal digits.
    pub fn bin_counter(&mut self) -> Result<u32, CardWriterError> {
        let (_, data) = self.execute(cmd::BIN_COUNTER_READ, vec![])?;
        std::str::from_utf8(&data)
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .ok_or_else(|| CardWriterError::UnexpectedReply {
                command: cmd::BIN_COUNTER_READ.name.to_owned(),
                reason: "counter is not decimal digits".to_owned(),
            })
    }

    /// Cold-reset the contact chip at `vcc`; returns (type byte, ATR). **[unverified]** the
    /// reference says "Type + ATR" without the type's values; the first data byte is taken
    /// as the type.
    pub fn cpu_cold_reset(&mut self, vcc: ChipVoltage) -> Result<(u8, Vec<u8>), CardWriterError> {
        let data = self.execute_card_io(cmd::CPU_COLD_RESET, vec![vcc.byte()])?;
        match data.split_first() {
            Some((kind, atr)) if !atr.is_empty() => Ok((*kind, atr.to_vec())),
            _ => Err(CardWriterError::UnexpectedReply {
                command: cmd::CPU_COLD_RESET.name.to_owned(),
                reason: "no ATR".to_owned(),
            }),
        }
    }

    /// Send a C-APDU (4..261 bytes) to the powered chip, T=0/T=1 chosen by the reader.
    pub fn cpu_apdu(&mut self, apdu: &[u8]) -> Result<Vec<u8>, CardWriterError> {
        if !(4..=261).contains(&apdu.len()) {
            return Err(CardWriterError::Unsupported(format!(
                "C-APDU of {} bytes",
                apdu.len()
            )));
        }
        let reply = self.execute_card_io(cmd::CPU_APDU, apdu.to_vec())?;
        if reply.len() < 2 {
            return Err(CardWriterError::UnexpectedReply {
                command: cmd::CPU_APDU.name.to_owned(),
                reason: "R-APDU without SW1 SW2".to_owned(),
            });
        }
        Ok(reply)
    }

    /// Power the contact chip off.
    pub fn cpu_power_off(&mut self) -> Result<(), CardWriterError> {
        self.execute_card_io(cmd::CPU_POWER_OFF, vec![]).map(drop)
    }

    /// Activate the contactless card ('A' then 'B'): Rtype ATQA(2) UIDlen UID SAK [ATS].
    pub fn rf_activate(&mut self) -> Result<RfCard, CardWriterError> {
        let data = self.execute_card_io(cmd::RF_ACTIVATE, vec![b'A', b'B'])?;
        let bad = |reason: &str| CardWriterError::UnexpectedReply {
            command: cmd::RF_ACTIVATE.name.to_owned(),
            reason: reason.to_owned(),
        };
        let [kind, _atqa0, _atqa1, uid_len, rest @ ..] = &data[..] else {
            return Err(bad("activation reply too short"));
        };
        let uid_len = usize::from(*uid_len);
        if !matches!(uid_len, 4 | 7 | 10) || rest.len() < uid_len + 1 {
            return Err(bad("bad UID length"));
        }
        Ok(RfCard {
            kind: *kind,
            uid: rest[..uid_len].to_vec(),
        })
    }

    /// Switch the RF field off.
    pub fn rf_deactivate(&mut self) -> Result<(), CardWriterError> {
        self.execute_card_io(cmd::RF_DEACTIVATE, vec![]).map(drop)
    }

    /// Run one Mifare operation; returns the R-data without its SW. SW `6F 00` is
    /// [`CardWriterError::WrongKey`] for a key verification and [`CardWriterError::Chip`]
    /// otherwise.
    pub fn mifare(&mut self, op: &MifareOp) -> Result<Vec<u8>, CardWriterError> {
        let mut data = self.execute_card_io(cmd::MIFARE, op.encode())?;
        if data.len() < 2 {
            return Err(CardWriterError::UnexpectedReply {
                command: cmd::MIFARE.name.to_owned(),
                reason: "no SW".to_owned(),
            });
        }
        let sw = [data[data.len() - 2], data[data.len() - 1]];
        data.truncate(data.len() - 2);
        match (sw, op) {
            (SW_OK, _) => Ok(data),
            (SW_FAILED, MifareOp::VerifyKey { sector, .. }) => {
                Err(CardWriterError::WrongKey { sector: *sector })
            }
            (sw, MifareOp::VerifyKey { sector, .. }) if sw != SW_FAILED => {
                Err(CardWriterError::Chip(format!(
                    "key verification of sector {sector}: SW {:02X} {:02X}",
                    sw[0], sw[1]
                )))
            }
            (sw, op) => Err(CardWriterError::Chip(format!(
                "Mifare {} failed: SW {:02X} {:02X}",
                match op {
                    MifareOp::Read { .. } => "read",
                    _ => "write",
                },
                sw[0],
                sw[1]
            ))),
        }
    }

    /// Whether the last motion jammed and no initialise succeeded since.
    pub fn jam_latched(&self) -> bool {
        self.jam_latched
    }
}

impl CardUnit for Crt591 {
    fn model(&self) -> CardWriterModel {
        CardWriterModel::Crt591
    }

    fn path(&self) -> &str {
        self.link.path()
    }

    fn reconnect(&mut self) -> Result<(), CardWriterError> {
        let path = self.link.path().to_owned();
        self.link.reopen(&path).map_err(|e| link_error(e, "open"))
    }

    fn initialise(&mut self) -> Result<String, CardWriterError> {
        self.initialise_with(InitMode::KeepCard)
    }

    fn report(&mut self) -> Result<CardWriterReport, CardWriterError> {
        let status = self.status()?;
        Ok(CardWriterReport {
            model: CardWriterModel::Crt591,
            card: status.card,
            stack: status.stack,
            bin: status.bin,
            jammed: self.jam_latched,
            problems: vec![],
        })
    }

    fn dispense_to_encoder(&mut self) -> Result<(), CardWriterError> {
        if self.status()?.card != CardPosition::None {
            return Err(CardWriterError::ChannelOccupied("before dispensing"));
        }
        self.move_to(Crt591Position::Rf).map(drop)
    }

    fn accept_from_front(&mut self, wait: Duration) -> Result<bool, CardWriterError> {
        if self.status()?.card != CardPosition::None {
            return Err(CardWriterError::ChannelOccupied("before taking a card in"));
        }
        self.set_entry(true)?;
        let deadline = Instant::now() + wait;
        let inserted = loop {
            let status = match self.status() {
                Ok(status) => status,
                Err(error) => {
                    let _ = self.set_entry(false);
                    return Err(error);
                }
            };
            if status.card != CardPosition::None {
                break true;
            }
            if Instant::now() >= deadline {
                break false;
            }
            std::thread::sleep(ENTRY_POLL);
        };
        self.set_entry(false)?;
        if inserted {
            self.move_to(Crt591Position::Rf)?;
        }
        Ok(inserted)
    }

    fn present_at_gate(&mut self) -> Result<(), CardWriterError> {
        self.eject().map(drop)
    }

    fn capture_to_bin(&mut self) -> Result<(), CardWriterError> {
        self.capture().map(drop)
    }

    fn encoder(&mut self) -> Result<&mut dyn CardEncoder, CardWriterError> {
        Ok(self)
    }
}

impl CardEncoder for Crt591 {
    fn activate(&mut self) -> Result<RfCard, CardWriterError> {
        self.rf_activate()
    }

    fn authenticate(&mut self, sector: u8, key: &MifareKey) -> Result<(), CardWriterError> {
        self.mifare(&MifareOp::VerifyKey {
            sector,
            key: key.clone(),
        })
        .map(drop)
    }

    fn read_blocks(
        &mut self,
        sector: u8,
        block: u8,
        count: u8,
    ) -> Result<Vec<u8>, CardWriterError> {
        let len = usize::from(count) * BLOCK_LEN;
        let data = self.mifare(&MifareOp::Read {
            sector,
            block,
            len: u8::try_from(len).map_err(|_| {
                CardWriterError::Unsupported(format!("reading {count} blocks at once"))
            })?,
        })?;
        if data.len() != len {
            return Err(CardWriterError::UnexpectedReply {
                command: cmd::MIFARE.name.to_owned(),
                reason: format!("{} bytes read, {len} asked", data.len()),
            });
        }
        Ok(data)
    }

    fn write_blocks(&mut self, sector: u8, block: u8, data: &[u8]) -> Result<(), CardWriterError> {
        if data.is_empty() || !data.len().is_multiple_of(BLOCK_LEN) || data.len() > 255 {
            return Err(CardWriterError::Unsupported(format!(
                "writing {} bytes (whole blocks only)",
                data.len()
            )));
        }
        self.mifare(&MifareOp::Write {
            sector,
            block,
            data: data.to_vec(),
        })
        .map(drop)
    }

    fn deactivate(&mut self) -> Result<(), CardWriterError> {
        self.rf_deactivate()
    }

    fn chip_power_on(&mut self) -> Result<Vec<u8>, CardWriterError> {
        Ok(self.cpu_cold_reset(ChipVoltage::Iso5V)?.1)
    }

    fn chip_apdu(&mut self, apdu: &[u8]) -> Result<Vec<u8>, CardWriterError> {
        self.cpu_apdu(apdu)
    }

    fn chip_power_off(&mut self) -> Result<(), CardWriterError> {
        self.cpu_power_off()
    }
}

/// A link error as a card writer error.
pub(crate) fn link_error(error: LinkError, what: &str) -> CardWriterError {
    match error {
        LinkError::Timeout => CardWriterError::Timeout {
            what: what.to_owned(),
        },
        LinkError::Disconnected(reason) => CardWriterError::Disconnected(reason),
        LinkError::Open { path, reason } => CardWriterError::Open { path, reason },
    }
}
