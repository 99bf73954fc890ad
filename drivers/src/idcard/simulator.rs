//! A SAM_V module simulator on the master side of a pseudo-terminal. The driver opens
//! [`IdCardSimulator::path`] by name and cannot tell it from a real reader.
//!
//! It answers 10 FF, 11 FF, 12 FF, 20 01, 20 02 and 30 01, replies 0x21 to other commands and
//! 0x10 to a frame with a bad checksum, and serves the 1295-byte read reply in several writes.
//! Faults can be injected into the next reply, and [`IdCardSimulator::unplug`] closes the
//! master so the driver sees the device disappear.

use std::io::{self, Write};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serialport::TTYPort;

use super::base_info::join_base_info;
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
}

/// The 16-byte SAM id the simulator reports.
pub const SIMULATED_SAM_ID: [u8; 16] = [
    0x05, 0x00, 0x01, 0x00, 0x1C, 0x2B, 0x33, 0x01, 0x4E, 0x61, 0xBC, 0x00, 0xD2, 0x02, 0x96, 0x49,
];

struct LoadedCard {
    text: Vec<u8>,
    photo: Vec<u8>,
}

#[derive(Default)]
struct SimulatorState {
    card: Option<LoadedCard>,
    read_since_placed: bool,
    faults: Vec<(Option<Command>, InjectedFault)>,
    commands: Vec<(u8, u8)>,
    self_test_failed: bool,
}

/// Simulated ID card reader on a pseudo-terminal.
pub struct IdCardSimulator {
    host: PtyHost,
    state: Arc<Mutex<SimulatorState>>,
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
        let handler_state = Arc::clone(&state);
        let mut assembler = FrameAssembler::new();
        let host = PtyHost::spawn("idcard-simulator", move |bytes, master| {
            assembler.push(bytes);
            while let Some(frame) = assembler.next_frame() {
                let outgoing = {
                    let mut state = lock(&handler_state);
                    let (command, reply) = answer(&mut state, frame);
                    let fault = take_fault(&mut state, command);
                    apply_fault(reply, fault)
                };
                send_in_chunks(master, &outgoing);
            }
        })?;
        Ok(IdCardSimulator { host, state })
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
    let [cmd, para, ..] = body[..] else {
        return (None, Reply::new(SamStatus::HostLengthError, vec![]));
    };
    state.commands.push((cmd, para));
    let command = Command { cmd, para };
    (Some(command), reply_to(state, command))
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
