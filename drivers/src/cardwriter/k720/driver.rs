//! The K720 driver: mechanics over the K720 link (reference §3.3), card I/O through an
//! attached [`CardEncoder`] at the read position.
//!
//! Exchange: the host sends the command, the device answers ACK (NAK on a bad BCC: the host
//! sends again), the host sends ENQ and the device sends the reply frame.
//!
//! **[unverified]** The reference gives replies only for "AP" ("SF" + 4 status characters)
//! and the error form `'N' CM PM ERR`. For movement commands this driver therefore accepts
//! any well-formed reply (or none: a missing reply to a movement is tolerated), takes `'N'`
//! as a refusal, and decides the outcome from the advanced status it polls afterwards (busy
//! bits, error bits, sensors). The simulator answers movements with `'P' CM PM`.
//!
//! **[unverified]** Card entry from the front is `FC8`; the reference gives no command to
//! close entry again (`FD0`/`FD1` have no published frames), so after an unanswered wait
//! the unit stays ready to take a card in until the next movement or reset. The driver
//! remembers that, and the next [`CardUnit::accept_from_front`] takes a card that came in
//! meanwhile as the inserted one.

use std::time::{Duration, Instant};

use super::frame::{
    ACK, ENQ, K720Address, K720Assembler, K720Framing, K720Item, NAK, control, encode,
};
use super::status::K720Status;
use crate::cardwriter::crt591::driver::link_error;
use crate::cardwriter::encoder::CardEncoder;
use crate::cardwriter::error::CardWriterError;
use crate::cardwriter::model::CardWriterModel;
use crate::cardwriter::report::{CardPosition, CardWriterReport};
use crate::cardwriter::unit::CardUnit;
use crate::serial_link::{LinkError, SerialLink};

/// Times a command is sent when the device keeps answering NAK.
pub const MAX_SENDS: u32 = 3;
/// How often the status is polled during a movement.
const POLL: Duration = Duration::from_millis(100);

/// Address, framing and timeouts of a K720.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct K720Settings {
    /// DIP-switch address 0–15.
    pub address: u8,
    /// Frame layout (current firmware: [`K720Framing::WithLength`]).
    pub framing: K720Framing,
    /// From the end of a command to ACK/NAK.
    pub ack: Duration,
    /// From ENQ to the reply frame.
    pub reply: Duration,
    /// How long a movement may take (status polled meanwhile).
    pub motion: Duration,
}

impl Default for K720Settings {
    fn default() -> Self {
        K720Settings {
            address: 0,
            framing: K720Framing::WithLength,
            ack: Duration::from_millis(800),
            reply: Duration::from_secs(2),
            motion: Duration::from_secs(20),
        }
    }
}

/// The K720 movement commands the kiosk uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum K720Move {
    /// `DC`: dispense to the take-card position.
    Dispense,
    /// `FC7`: dispense to the read position (sensors 1–2).
    ToReadPosition,
    /// `FC6`: to sensor 2.
    ToSensor2,
    /// `FC4`: to the gate, held (must be pulled).
    ToGateHeld,
    /// `FC0`: to the take-card position / drop from the gate.
    ToTakePosition,
    /// `FC8`: take a card in from the front.
    FromFront,
    /// `CP`: capture to the recycle bin.
    Capture,
    /// `DB`: back into the card box.
    BackToBox,
}

impl K720Move {
    /// The ASCII command.
    pub fn command(self) -> &'static str {
        match self {
            K720Move::Dispense => "DC",
            K720Move::ToReadPosition => "FC7",
            K720Move::ToSensor2 => "FC6",
            K720Move::ToGateHeld => "FC4",
            K720Move::ToTakePosition => "FC0",
            K720Move::FromFront => "FC8",
            K720Move::Capture => "CP",
            K720Move::BackToBox => "DB",
        }
    }
}

/// A TTCE K720 / K750 on a serial port.
pub struct K720 {
    link: SerialLink,
    address: K720Address,
    settings: K720Settings,
    assembler: K720Assembler,
    encoder: Option<Box<dyn CardEncoder>>,
    entry_armed: bool,
}

impl K720 {
    /// Open the unit on `path` at `baud`, 8N1.
    pub fn open(path: &str, baud: u32, settings: K720Settings) -> Result<Self, CardWriterError> {
        let address = K720Address::new(settings.address).ok_or_else(|| {
            CardWriterError::Unsupported(format!("K720 address {}", settings.address))
        })?;
        let link = SerialLink::open(path, baud).map_err(|e| link_error(e, "open"))?;
        tracing::info!(device = "card_writer", model = "k720", path, baud, "opened");
        Ok(K720 {
            link,
            address,
            settings,
            assembler: K720Assembler::new(settings.framing),
            encoder: None,
            entry_armed: false,
        })
    }

    /// Attach the card encoder at the read position.
    pub fn with_encoder(mut self, encoder: Box<dyn CardEncoder>) -> Self {
        self.encoder = Some(encoder);
        self
    }

    /// Send `command`; `Ok(None)` when no reply came and `reply_optional` allows that.
    pub fn exchange(
        &mut self,
        command: &str,
        reply_optional: bool,
    ) -> Result<Option<Vec<u8>>, CardWriterError> {
        let result = self.exchange_once(command, reply_optional);
        if let Err(CardWriterError::Disconnected(_)) = &result {
            self.link.close();
        }
        result
    }

    fn exchange_once(
        &mut self,
        command: &str,
        reply_optional: bool,
    ) -> Result<Option<Vec<u8>>, CardWriterError> {
        let framing = self.settings.framing;
        let frame = encode(framing, self.address, command.as_bytes());
        self.link
            .drain_input()
            .map_err(|e| link_error(e, command))?;
        self.assembler.clear();
        let mut acked = false;
        for attempt in 1..=MAX_SENDS {
            self.link
                .write_all(&frame, self.settings.ack)
                .map_err(|e| link_error(e, command))?;
            match self.read_item(command, Instant::now() + self.settings.ack, "ACK")? {
                K720Item::Control { byte: ACK, .. } => {
                    acked = true;
                    break;
                }
                K720Item::Control { byte: NAK, .. } => {
                    tracing::debug!(device = "card_writer", command, attempt, "NAK");
                }
                other => {
                    let _ = self.link.drain_input();
                    return Err(CardWriterError::BadReply {
                        command: command.to_owned(),
                        reason: format!("expected ACK or NAK, got {other:?}"),
                    });
                }
            }
        }
        if !acked {
            return Err(CardWriterError::Nak {
                command: command.to_owned(),
                attempts: MAX_SENDS,
            });
        }
        self.link
            .write_all(&control(framing, self.address, ENQ), self.settings.ack)
            .map_err(|e| link_error(e, command))?;
        match self.read_item(command, Instant::now() + self.settings.reply, "reply") {
            Ok(K720Item::Frame { text, .. }) => Ok(Some(text)),
            Ok(K720Item::Corrupt(reason)) => {
                self.assembler.clear();
                let _ = self.link.drain_input();
                Err(CardWriterError::BadReply {
                    command: command.to_owned(),
                    reason,
                })
            }
            Ok(other) => Err(CardWriterError::UnexpectedReply {
                command: command.to_owned(),
                reason: format!("{other:?} instead of a reply frame"),
            }),
            Err(CardWriterError::Timeout { .. }) if reply_optional => Ok(None),
            Err(error) => Err(error),
        }
    }

    fn read_item(
        &mut self,
        command: &str,
        deadline: Instant,
        what: &str,
    ) -> Result<K720Item, CardWriterError> {
        let skipped_before = self.assembler.skipped();
        let mut buf = [0u8; 600];
        loop {
            if let Some(item) = self.assembler.next_item() {
                return Ok(item);
            }
            match self.link.read_some(&mut buf, deadline) {
                Ok(n) => self.assembler.push(&buf[..n]),
                Err(LinkError::Timeout) => {
                    let garbage =
                        self.assembler.skipped() > skipped_before || self.assembler.pending() > 0;
                    self.assembler.clear();
                    return Err(if garbage {
                        CardWriterError::BadReply {
                            command: command.to_owned(),
                            reason: "bytes that are not a whole frame".to_owned(),
                        }
                    } else {
                        CardWriterError::Timeout {
                            what: format!("{what} to {command}"),
                        }
                    });
                }
                Err(e) => return Err(link_error(e, command)),
            }
        }
    }

    /// The advanced status ("AP").
    pub fn advanced_status(&mut self) -> Result<K720Status, CardWriterError> {
        let text = self.exchange("AP", false)?.unwrap_or_default();
        K720Status::parse(&text).ok_or_else(|| CardWriterError::UnexpectedReply {
            command: "AP".to_owned(),
            reason: format!("{:?} is not an SF status", String::from_utf8_lossy(&text)),
        })
    }

    /// The basic status ("RF"), as sent (its layout is not in the reference).
    pub fn basic_status(&mut self) -> Result<Vec<u8>, CardWriterError> {
        Ok(self.exchange("RF", false)?.unwrap_or_default())
    }

    /// The firmware version ("GV"), e.g. "TTCE_K720_V2.**".
    pub fn firmware_version(&mut self) -> Result<String, CardWriterError> {
        let text = self.exchange("GV", false)?.unwrap_or_default();
        Ok(String::from_utf8_lossy(&text).into_owned())
    }

    /// Reset ("RS").
    pub fn reset_unit(&mut self) -> Result<K720Status, CardWriterError> {
        self.entry_armed = false;
        let sent = self.simple("RS", "reset");
        let status = self.wait_idle("reset")?;
        if status.jam() {
            return Err(CardWriterError::Jam);
        }
        sent.map(|()| status)
    }

    /// Switch the buzzer on ("BE") or off ("BD").
    pub fn set_buzzer(&mut self, on: bool) -> Result<(), CardWriterError> {
        let (command, name) = if on {
            ("BE", "enable buzzer")
        } else {
            ("BD", "disable buzzer")
        };
        self.simple(command, name)
    }

    fn simple(&mut self, command: &str, name: &str) -> Result<(), CardWriterError> {
        if let Some(text) = self.exchange(command, true)?
            && text.first() == Some(&b'N')
        {
            return Err(CardWriterError::K720 {
                command: name.to_owned(),
                detail: refusal_detail(&text),
            });
        }
        Ok(())
    }

    /// Run a movement and wait for it to finish; a refusal or failure becomes a typed error
    /// from the status the unit reports afterwards.
    pub fn run_move(&mut self, movement: K720Move) -> Result<K720Status, CardWriterError> {
        let command = movement.command();
        self.entry_armed = movement == K720Move::FromFront;
        let reply = self.exchange(command, true)?;
        let refused = reply.as_deref().is_some_and(|t| t.first() == Some(&b'N'));
        let status = self.wait_idle(command)?;
        if let Some(error) = failure(movement, &status) {
            return Err(error);
        }
        if refused {
            return Err(CardWriterError::K720 {
                command: command.to_owned(),
                detail: refusal_detail(reply.as_deref().unwrap_or_default()),
            });
        }
        Ok(status)
    }

    fn wait_idle(&mut self, command: &str) -> Result<K720Status, CardWriterError> {
        let deadline = Instant::now() + self.settings.motion;
        loop {
            let status = self.advanced_status()?;
            if !status.busy() {
                return Ok(status);
            }
            if Instant::now() >= deadline {
                return Err(CardWriterError::Timeout {
                    what: format!("end of {command}"),
                });
            }
            std::thread::sleep(POLL);
        }
    }

    fn expect_card(
        status: &K720Status,
        wanted: CardPosition,
        command: &str,
    ) -> Result<(), CardWriterError> {
        if status.card() == wanted {
            Ok(())
        } else {
            Err(CardWriterError::K720 {
                command: command.to_owned(),
                detail: format!("card is {:?}, expected {:?}", status.card(), wanted),
            })
        }
    }
}

/// The typed error for a movement that ended with `status`, if it failed.
fn failure(movement: K720Move, status: &K720Status) -> Option<CardWriterError> {
    let dispensing = matches!(
        movement,
        K720Move::Dispense | K720Move::ToReadPosition | K720Move::ToSensor2
    );
    if status.jam() {
        return Some(CardWriterError::Jam);
    }
    if dispensing && (status.prepare_failed() || status.dispense_error()) && status.box_empty() {
        return Some(CardWriterError::StackEmpty);
    }
    if movement == K720Move::Capture && status.bin_full() && status.capture_error() {
        return Some(CardWriterError::BinFull);
    }
    let problems = status.problems();
    (!problems.is_empty()).then(|| CardWriterError::K720 {
        command: movement.command().to_owned(),
        detail: problems.join(", "),
    })
}

fn refusal_detail(text: &[u8]) -> String {
    format!("refused ({})", String::from_utf8_lossy(text))
}

impl CardUnit for K720 {
    fn model(&self) -> CardWriterModel {
        CardWriterModel::K720
    }

    fn path(&self) -> &str {
        self.link.path()
    }

    fn reconnect(&mut self) -> Result<(), CardWriterError> {
        let path = self.link.path().to_owned();
        self.link.reopen(&path).map_err(|e| link_error(e, "open"))
    }

    fn initialise(&mut self) -> Result<String, CardWriterError> {
        let status = self.reset_unit()?;
        if status.jam() {
            return Err(CardWriterError::Jam);
        }
        self.firmware_version()
    }

    fn report(&mut self) -> Result<CardWriterReport, CardWriterError> {
        let status = self.advanced_status()?;
        Ok(CardWriterReport {
            model: CardWriterModel::K720,
            card: status.card(),
            stack: status.stack(),
            bin: status.bin(),
            jammed: status.jam(),
            problems: status.problems(),
        })
    }

    fn dispense_to_encoder(&mut self) -> Result<(), CardWriterError> {
        let before = self.advanced_status()?;
        if before.card() != CardPosition::None {
            return Err(CardWriterError::ChannelOccupied("before dispensing"));
        }
        if before.box_empty() {
            return Err(CardWriterError::StackEmpty);
        }
        let status = self.run_move(K720Move::ToReadPosition)?;
        Self::expect_card(&status, CardPosition::Inside, "FC7")
    }

    fn accept_from_front(&mut self, wait: Duration) -> Result<bool, CardWriterError> {
        let before = self.advanced_status()?;
        if self.entry_armed && before.card() == CardPosition::Inside && !before.busy() {
            // Came in through the entry left open by the last (unanswered) wait.
            self.entry_armed = false;
            return Ok(true);
        }
        if before.card() != CardPosition::None {
            return Err(CardWriterError::ChannelOccupied("before taking a card in"));
        }
        self.exchange(K720Move::FromFront.command(), true)?;
        self.entry_armed = true;
        let deadline = Instant::now() + wait;
        loop {
            let status = self.advanced_status()?;
            if status.card() == CardPosition::Inside && !status.busy() {
                self.entry_armed = false;
                return Ok(true);
            }
            if Instant::now() >= deadline {
                return Ok(false);
            }
            std::thread::sleep(POLL);
        }
    }

    fn present_at_gate(&mut self) -> Result<(), CardWriterError> {
        let status = self.run_move(K720Move::ToGateHeld)?;
        Self::expect_card(&status, CardPosition::AtGate, "FC4")
    }

    fn capture_to_bin(&mut self) -> Result<(), CardWriterError> {
        let before = self.advanced_status()?;
        if before.bin_full() {
            return Err(CardWriterError::BinFull);
        }
        let status = self.run_move(K720Move::Capture)?;
        Self::expect_card(&status, CardPosition::None, "CP")
    }

    fn encoder(&mut self) -> Result<&mut dyn CardEncoder, CardWriterError> {
        match self.encoder.as_mut() {
            Some(encoder) => Ok(encoder.as_mut()),
            None => Err(CardWriterError::NoEncoder("K720")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn movement_failures_are_typed() {
        let status = |text: &[u8]| K720Status::parse(text).expect("status");
        assert_eq!(
            failure(K720Move::ToReadPosition, &status(b"SF2208")),
            Some(CardWriterError::StackEmpty)
        );
        assert_eq!(
            failure(K720Move::ToGateHeld, &status(b"SF0023")),
            Some(CardWriterError::Jam)
        );
        assert_eq!(
            failure(K720Move::Capture, &status(b"SF8103")),
            Some(CardWriterError::BinFull)
        );
        assert!(matches!(
            failure(K720Move::Capture, &status(b"SF0100")),
            Some(CardWriterError::K720 { .. })
        ));
        assert_eq!(failure(K720Move::ToReadPosition, &status(b"SF0003")), None);
        assert_eq!(
            failure(K720Move::ToReadPosition, &status(b"SF0013")),
            None,
            "low is fine"
        );
    }
}
