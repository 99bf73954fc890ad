//! A SAM_V module simulator on the master side of a pseudo-terminal. The driver opens
//! [`IdCardSimulator::path`] by name and cannot tell it from a real reader.
//!
//! It answers 10 FF, 11 FF, 12 FF, 20 01, 20 02, 30 01, 30 10 (fingerprint lengths 0, 512
//! and 1024), 30 03 (0x91 when the card has no additional address), 61 FF and 60 nn, replies
//! 0x21 to other commands and 0x10 to a frame with a bad checksum, and serves long replies in
//! several writes. Any of the four card types can lie on it. Faults can be injected into the
//! next reply (any SW3, bad checksum, truncation, silence, garbage),
//! [`IdCardSimulator::unplug`] closes the master so the driver sees the device disappear and
//! [`IdCardSimulator::replug`] brings it back (under the same [`IdCardSimulator::stable_path`]
//! link). [`super::script::SimulatorScript`] drives it from a TOML file.

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serialport::TTYPort;

use super::base_info::{join_base_info, join_base_info_fingerprint};
use super::frame::{Command, FrameAssembler, FrameError, Reply};
use super::sam_status::SamStatus;
use super::test_card::{TestCard, TestCardError};
use crate::sim_pty::PtyHost;

/// A fault applied to the simulator's next reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InjectedFault {
    /// Send the reply with its CHK byte flipped.
    BadChecksum,
    /// Send only the first part of the reply frame, then nothing.
    Truncated,
    /// Send nothing at all.
    Silence,
    /// Answer with this status only, whatever the command.
    Status(SamStatus),
    /// Send these bytes before the (valid) reply.
    LeadingGarbage(Vec<u8>),
    /// Answer with this raw SW3 byte only (also codes outside the table).
    RawStatus(u8),
    /// Send the reply this much later.
    Delay(Duration),
}

/// The 16-byte SAM id the simulator reports.
pub const SIMULATED_SAM_ID: [u8; 16] = [
    0x05, 0x00, 0x01, 0x00, 0x1C, 0x2B, 0x33, 0x01, 0x4E, 0x61, 0xBC, 0x00, 0xD2, 0x02, 0x96, 0x49,
];

struct LoadedCard {
    text: Vec<u8>,
    photo: Vec<u8>,
    fingerprint: Vec<u8>,
    additional_address: Option<Vec<u8>>,
}

#[derive(Default)]
struct SimulatorState {
    card: Option<LoadedCard>,
    read_since_placed: bool,
    faults: Vec<(Option<Command>, InjectedFault)>,
    commands: Vec<(u8, u8)>,
    self_test_failed: bool,
    max_rf_bytes: Option<u8>,
    baud_code: Option<u8>,
}

/// Simulated ID card reader on a pseudo-terminal.
pub struct IdCardSimulator {
    host: PtyHost,
    state: Arc<Mutex<SimulatorState>>,
    link: Option<PathBuf>,
}

/// Why the simulator could not start.
#[derive(Debug, thiserror::Error)]
pub enum SimulatorError {
    /// The pty or thread could not be created.
    #[error("cannot start ID card simulator: {0}")]
    Io(#[from] io::Error),
    /// The test card is unusable.
    #[error(transparent)]
    Card(#[from] TestCardError),
}

/// Bytes written per `write()` when serving long replies.
const CHUNK: usize = 200;
/// Pause between chunks.
const CHUNK_PAUSE: Duration = Duration::from_millis(2);

impl IdCardSimulator {
    /// Start a simulator with no card on it.
    pub fn spawn() -> Result<Self, SimulatorError> {
        let state = Arc::new(Mutex::new(SimulatorState::default()));
        let host = spawn_host(&state)?;
        Ok(IdCardSimulator {
            host,
            state,
            link: None,
        })
    }

    /// Also keep a symbolic link at `link` pointing at the current pseudo-terminal, as udev's
    /// `/dev/serial/by-id/…` links do; [`Self::replug`] repoints it. The link is removed when
    /// the simulator is dropped.
    pub fn with_stable_link(mut self, link: impl AsRef<Path>) -> io::Result<Self> {
        let link = link.as_ref().to_path_buf();
        point_link(&link, self.host.path())?;
        self.link = Some(link);
        Ok(self)
    }

    /// The stable link, if one was asked for.
    pub fn stable_path(&self) -> Option<&Path> {
        self.link.as_deref()
    }

    /// Plug the reader back in after [`Self::unplug`]: a new pseudo-terminal (a new
    /// [`Self::path`]) with the same card, faults and history; the stable link follows.
    pub fn replug(&mut self) -> Result<(), SimulatorError> {
        self.host.close();
        self.host = spawn_host(&self.state)?;
        if let Some(link) = &self.link {
            point_link(link, self.host.path())?;
        }
        Ok(())
    }

    /// Start a simulator with `card` on it.
    pub fn spawn_with_card(card: &TestCard) -> Result<Self, SimulatorError> {
        let simulator = Self::spawn()?;
        simulator.place_card(card)?;
        Ok(simulator)
    }

    /// Path of the pseudo-terminal for the driver to open.
    pub fn path(&self) -> &str {
        self.host.path()
    }

    /// Put a card on the reader (replacing any card there).
    pub fn place_card(&self, card: &TestCard) -> Result<(), TestCardError> {
        let loaded = LoadedCard {
            text: card.text_block()?,
            photo: card.photo_wlt(),
            fingerprint: card.fingerprint_data()?,
            additional_address: card.additional_address_block()?,
        };
        let mut state = lock(&self.state);
        state.card = Some(loaded);
        state.read_since_placed = false;
        Ok(())
    }

    /// Take the card off the reader.
    pub fn remove_card(&self) {
        let mut state = lock(&self.state);
        state.card = None;
        state.read_since_placed = false;
    }

    /// Apply `fault` to the next reply, whatever the command (faults queue up, one per reply).
    pub fn inject(&self, fault: InjectedFault) {
        lock(&self.state).faults.push((None, fault));
    }

    /// Apply `fault` to the next reply to `command` (e.g. [`Command::READ_BASE_INFO`]).
    pub fn inject_for(&self, command: Command, fault: InjectedFault) {
        lock(&self.state).faults.push((Some(command), fault));
    }

    /// Make the SAM report a failed self-test (11 FF answers 0x60) until cleared.
    pub fn set_self_test_failed(&self, failed: bool) {
        lock(&self.state).self_test_failed = failed;
    }

    /// Whether a card lies on the reader.
    pub fn has_card(&self) -> bool {
        lock(&self.state).card.is_some()
    }

    /// The last value set with 61 FF, if any.
    pub fn max_rf_bytes(&self) -> Option<u8> {
        lock(&self.state).max_rf_bytes
    }

    /// The last baud code set with 60 nn, if any.
    pub fn baud_code(&self) -> Option<u8> {
        lock(&self.state).baud_code
    }

    /// Every command received so far, as (CMD, PARA).
    pub fn commands_received(&self) -> Vec<(u8, u8)> {
        lock(&self.state).commands.clone()
    }

    /// Close the master side: the driver sees the device disappear. Returns once closed.
    pub fn unplug(&mut self) {
        self.host.close();
    }

    /// Whether the simulator is still plugged in.
    pub fn is_plugged(&self) -> bool {
        self.host.is_plugged()
    }
}

impl Drop for IdCardSimulator {
    fn drop(&mut self) {
        if let Some(link) = &self.link {
            let _ = std::fs::remove_file(link);
        }
    }
}

fn point_link(link: &Path, target: &str) -> io::Result<()> {
    match std::fs::remove_file(link) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    std::os::unix::fs::symlink(target, link)
}

fn spawn_host(state: &Arc<Mutex<SimulatorState>>) -> io::Result<PtyHost> {
    let handler_state = Arc::clone(state);
    let mut assembler = FrameAssembler::new();
    PtyHost::spawn("idcard-simulator", move |bytes, master| {
        assembler.push(bytes);
        while let Some(frame) = assembler.next_frame() {
            let (outgoing, delay) = {
                let mut state = lock(&handler_state);
                let (command, reply) = answer(&mut state, frame);
                let fault = take_fault(&mut state, command);
                let delay = match fault {
                    Some(InjectedFault::Delay(delay)) => delay,
                    _ => Duration::ZERO,
                };
                (apply_fault(reply, fault), delay)
            };
            if !delay.is_zero() {
                std::thread::sleep(delay);
            }
            send_in_chunks(master, &outgoing);
        }
    })
}

fn lock(state: &Mutex<SimulatorState>) -> MutexGuard<'_, SimulatorState> {
    state
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The first queued fault that applies to a reply to `command`.
fn take_fault(state: &mut SimulatorState, command: Option<Command>) -> Option<InjectedFault> {
    let index = state
        .faults
        .iter()
        .position(|(target, _)| target.is_none() || *target == command)?;
    Some(state.faults.remove(index).1)
}

/// The command received (when the frame was readable) and the reply to it.
fn answer(
    state: &mut SimulatorState,
    frame: Result<Vec<u8>, FrameError>,
) -> (Option<Command>, Reply) {
    let body = match frame {
        Ok(body) => body,
        Err(FrameError::BadChecksum { .. }) => {
            return (None, Reply::new(SamStatus::HostChecksumError, vec![]));
        }
        Err(FrameError::BadLength(_)) => {
            return (None, Reply::new(SamStatus::HostLengthError, vec![]));
        }
    };
    let [cmd, para, ref data @ ..] = body[..] else {
        return (None, Reply::new(SamStatus::HostLengthError, vec![]));
    };
    state.commands.push((cmd, para));
    let command = Command { cmd, para };
    let reply = match (command, data) {
        (Command::SET_MAX_RF_BYTES, [value]) => {
            state.max_rf_bytes = Some(*value);
            Reply::new(SamStatus::Success, vec![])
        }
        (Command::SET_MAX_RF_BYTES, _) => Reply::new(SamStatus::HostLengthError, vec![]),
        (_, []) => reply_to(state, command),
        (_, _) => Reply::new(SamStatus::HostLengthError, vec![]),
    };
    (Some(command), reply)
}

/// The reply to a well-formed command.
fn reply_to(state: &mut SimulatorState, command: Command) -> Reply {
    match command {
        Command::RESET_SAM => {
            state.read_since_placed = false;
            Reply::new(SamStatus::Success, vec![])
        }
        Command::SAM_STATUS if state.self_test_failed => {
            Reply::new(SamStatus::SamSelfTestFailed, vec![])
        }
        Command::SAM_STATUS => Reply::new(SamStatus::Success, vec![]),
        Command::READ_SAM_ID => Reply::new(SamStatus::Success, SIMULATED_SAM_ID.to_vec()),
        Command::FIND_CARD => match &state.card {
            // After a read the same card is not "found" again until re-presented (§1.3).
            Some(_) if !state.read_since_placed => Reply::new(SamStatus::FindCardOk, vec![0; 4]),
            _ => Reply::new(SamStatus::FindCardFailed, vec![]),
        },
        Command::SELECT_CARD => match &state.card {
            Some(_) => Reply::new(SamStatus::Success, vec![0; 8]),
            None => Reply::new(SamStatus::SelectCardFailed, vec![]),
        },
        Command::READ_BASE_INFO => match &state.card {
            Some(card) => {
                let data = join_base_info(&card.text, &card.photo);
                state.read_since_placed = true;
                Reply::new(SamStatus::Success, data)
            }
            None => Reply::new(SamStatus::ReadFailed, vec![]),
        },
        Command::READ_BASE_INFO_FINGERPRINT => match &state.card {
            Some(card) => {
                let data = join_base_info_fingerprint(&card.text, &card.photo, &card.fingerprint);
                state.read_since_placed = true;
                Reply::new(SamStatus::Success, data)
            }
            None => Reply::new(SamStatus::ReadFailed, vec![]),
        },
        Command::READ_ADDITIONAL_ADDRESS => match &state.card {
            Some(LoadedCard {
                additional_address: Some(address),
                ..
            }) => Reply::new(SamStatus::Success, address.clone()),
            Some(_) => Reply::new(SamStatus::NoContent, vec![]),
            None => Reply::new(SamStatus::ReadFailed, vec![]),
        },
        Command { cmd: 0x60, para } if para <= 4 => {
            state.baud_code = Some(para);
            Reply::new(SamStatus::Success, vec![])
        }
        _ => Reply::new(SamStatus::UnknownCommand, vec![]),
    }
}

/// The bytes to send for `reply` with `fault` applied.
fn apply_fault(reply: Reply, fault: Option<InjectedFault>) -> Vec<u8> {
    match fault {
        None => reply.encode(),
        Some(InjectedFault::BadChecksum) => {
            let mut frame = reply.encode();
            if let Some(last) = frame.last_mut() {
                *last ^= 0x5A;
            }
            frame
        }
        Some(InjectedFault::Truncated) => {
            let frame = reply.encode();
            let keep = (frame.len() / 2).max(8).min(frame.len() - 1);
            frame[..keep].to_vec()
        }
        Some(InjectedFault::Silence) => Vec::new(),
        Some(InjectedFault::Status(status)) => Reply::new(status, vec![]).encode(),
        Some(InjectedFault::RawStatus(sw3)) => Reply {
            sw1: 0,
            sw2: 0,
            sw3,
            data: vec![],
        }
        .encode(),
        Some(InjectedFault::Delay(_)) => reply.encode(),
        Some(InjectedFault::LeadingGarbage(mut garbage)) => {
            garbage.extend(reply.encode());
            garbage
        }
    }
}

fn send_in_chunks(master: &mut TTYPort, bytes: &[u8]) {
    for (i, chunk) in bytes.chunks(CHUNK).enumerate() {
        if i > 0 {
            std::thread::sleep(CHUNK_PAUSE);
        }
        if master.write_all(chunk).is_err() {
            return;
        }
    }
}
