//! A GM65-style scanner on the master side of a pseudo-terminal: acknowledges the trigger and
//! stop commands, sends the code "in view" after a trigger (triggered mode) or as soon as it
//! is shown (continuous mode), with a configurable line suffix; faults on demand.

use std::io::{self, Write};
use std::sync::{Arc, Mutex, MutexGuard};

use serialport::TTYPort;

use super::{ACK, STOP_COMMAND, TRIGGER_COMMAND};
use crate::sim_pty::PtyHost;

#[derive(Default)]
struct ScannerState {
    continuous: bool,
    in_view: Option<Vec<u8>>,
    suffix: Vec<u8>,
    mute_acks: bool,
    triggers: usize,
    pending_out: Vec<u8>,
    received: Vec<u8>,
}

/// Simulated QR scanner on a pseudo-terminal.
pub struct QrScannerSimulator {
    host: PtyHost,
    state: Arc<Mutex<ScannerState>>,
}

fn lock(state: &Mutex<ScannerState>) -> MutexGuard<'_, ScannerState> {
    state
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl QrScannerSimulator {
    /// Start a scanner in triggered (command) mode with the CR LF suffix.
    pub fn spawn() -> io::Result<Self> {
        Self::spawn_with(false)
    }

    /// Start a scanner in continuous mode with the CR LF suffix.
    pub fn spawn_continuous() -> io::Result<Self> {
        Self::spawn_with(true)
    }

    fn spawn_with(continuous: bool) -> io::Result<Self> {
        let state = Arc::new(Mutex::new(ScannerState {
            continuous,
            suffix: b"\r\n".to_vec(),
            ..ScannerState::default()
        }));
        let handler_state = Arc::clone(&state);
        let host = PtyHost::spawn_with_idle("qr-simulator", move |bytes, master| {
            let out = {
                let mut state = lock(&handler_state);
                state.received.extend_from_slice(bytes);
                handle_commands(&mut state)
            };
            write_out(master, &out);
        })?;
        let simulator = QrScannerSimulator { host, state };
        Ok(simulator)
    }

    /// Path of the pseudo-terminal for the driver to open.
    pub fn path(&self) -> &str {
        self.host.path()
    }

    /// Hold a code in front of the scanner: in continuous mode it is sent at once; in
    /// triggered mode it is sent after the next trigger (and stays in view until taken away).
    pub fn show_code(&self, code: &str) {
        self.show_bytes(code.as_bytes());
    }

    /// Like [`Self::show_code`] with raw bytes (e.g. GB18030 text).
    pub fn show_bytes(&self, code: &[u8]) {
        let mut state = lock(&self.state);
        if state.continuous {
            let mut line = code.to_vec();
            line.extend_from_slice(&state.suffix.clone());
            state.pending_out.extend(line);
        } else {
            state.in_view = Some(code.to_vec());
        }
    }

    /// Take the code away.
    pub fn hide_code(&self) {
        lock(&self.state).in_view = None;
    }

    /// The line terminator (`\r`, `\n` or `\r\n`).
    pub fn set_suffix(&self, suffix: &[u8]) {
        lock(&self.state).suffix = suffix.to_vec();
    }

    /// Stop acknowledging commands (a scanner in the wrong mode, or a broken one).
    pub fn set_mute_acks(&self, mute: bool) {
        lock(&self.state).mute_acks = mute;
    }

    /// Send raw bytes (garbage, partial lines) within the next poll interval.
    pub fn send_raw(&self, bytes: &[u8]) {
        lock(&self.state).pending_out.extend_from_slice(bytes);
    }

    /// How many trigger commands arrived.
    pub fn triggers(&self) -> usize {
        lock(&self.state).triggers
    }

    /// Unplug: close the master side.
    pub fn unplug(&mut self) {
        self.host.close();
    }
}

fn handle_commands(state: &mut ScannerState) -> Vec<u8> {
    let mut out = std::mem::take(&mut state.pending_out);
    loop {
        let Some(start) = state.received.iter().position(|&b| b == 0x7E) else {
            state.received.clear();
            break;
        };
        state.received.drain(..start);
        if state.received.len() < TRIGGER_COMMAND.len() {
            break;
        }
        let frame: Vec<u8> = state.received.drain(..TRIGGER_COMMAND.len()).collect();
        if frame == TRIGGER_COMMAND {
            state.triggers += 1;
            if !state.mute_acks {
                out.extend_from_slice(&ACK);
            }
            if let Some(code) = state.in_view.clone() {
                out.extend(code);
                out.extend_from_slice(&state.suffix);
            }
        } else if frame == STOP_COMMAND {
            if !state.mute_acks {
                out.extend_from_slice(&ACK);
            }
        } else {
            // Unknown command: drop its first byte and look again.
            state.received.splice(0..0, frame[1..].iter().copied());
        }
    }
    out
}

fn write_out(master: &mut TTYPort, bytes: &[u8]) {
    if !bytes.is_empty() {
        let _ = master.write_all(bytes);
        let _ = master.flush();
    }
}
