//! Both dispenser models on a pseudo-terminal: [`CardWriterSimulator`].
//!
//! It keeps a stack of N blank cards (Mifare-style sectors with keys, a small CPU chip), a
//! bin with a capacity, the channel (card at the encoder or at the gate), a front slot where
//! a citizen can insert a card carrying data, and faults on demand
//! ([`CardWriterFault`]: jam, chip error, foreign-keyed card, write failing part-way, garbled
//! reply, NAK, silence, card not taken). [`CardWriterSimulator::unplug`] closes the pty.
//!
//! The CRT-591 speaks its framing with ACK/NAK (NAK on a bad BCC) and carries card I/O on
//! the same link. The K720 speaks ACK/NAK/ENQ; its card I/O goes through
//! [`CardWriterSimulator::encoder`], an in-process PC/SC-style reader at the read position.
//!
//! ```no_run
//! use kiosk_drivers::cardwriter::{CardWriterModel, CardWriterSimulator, SimulatorConfig};
//! let sim = CardWriterSimulator::spawn(CardWriterModel::Crt591, SimulatorConfig {
//!     blank_cards: 5,
//!     ..SimulatorConfig::default()
//! })?;
//! println!("card writer on {}", sim.path());
//! # Ok::<(), std::io::Error>(())
//! ```

mod card;
mod crt591;
mod k720;
mod pcsc;
mod state;

use std::io::{self, Write};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

pub use card::{CHIP_FILE_LEN, SIM_AID, SIM_ATR, SimCard};
pub use crt591::SIM_FIRMWARE;
pub use k720::SIM_K720_FIRMWARE;
pub use pcsc::SimulatedPcscReader;
pub use state::{CardWriterFault, SimulatorConfig};

use self::crt591::Crt591Front;
use self::k720::K720Front;
use self::state::{DispenserState, Place};
use super::encoder::CardEncoder;
use super::error::CardWriterError;
use super::model::CardWriterModel;
use super::pcsc::PcscStorageEncoder;
use super::report::CardPosition;
use super::writer::{CardWriter, CardWriterSettings};
use crate::sim_pty::PtyHost;

/// A simulated card dispenser / reader-writer on a pseudo-terminal.
pub struct CardWriterSimulator {
    model: CardWriterModel,
    host: PtyHost,
    state: Arc<Mutex<DispenserState>>,
}

impl CardWriterSimulator {
    /// Start a simulator of `model`.
    pub fn spawn(model: CardWriterModel, config: SimulatorConfig) -> io::Result<Self> {
        let mut state = DispenserState::new(config);
        // The K720 has no "not reset" state in the reference; the CRT-591 answers B0 to
        // movements until it is initialised.
        state.initialised = model == CardWriterModel::K720;
        let state = Arc::new(Mutex::new(state));
        let host = spawn_host(model, &state)?;
        Ok(CardWriterSimulator { model, host, state })
    }

    /// Start a simulator of `model` with `blank_cards` in the stack and the other defaults.
    pub fn with_cards(model: CardWriterModel, blank_cards: usize) -> io::Result<Self> {
        Self::spawn(
            model,
            SimulatorConfig {
                blank_cards,
                ..SimulatorConfig::default()
            },
        )
    }

    /// The simulated model.
    pub fn model(&self) -> CardWriterModel {
        self.model
    }

    /// Path of the pseudo-terminal for the driver to open.
    pub fn path(&self) -> &str {
        self.host.path()
    }

    /// The card encoder a driver needs besides the port: the PC/SC-style reader at the K720's
    /// read position; `None` for the CRT-591 (its encoder is on the serial link).
    pub fn encoder(&self) -> Option<Box<dyn CardEncoder>> {
        match self.model {
            CardWriterModel::Crt591 => None,
            CardWriterModel::K720 => Some(Box::new(PcscStorageEncoder::new(
                SimulatedPcscReader::new(Arc::clone(&self.state)),
            ))),
        }
    }

    /// Open the matching driver on this simulator (with the K720's encoder attached).
    pub fn open_writer(
        &self,
        settings: &CardWriterSettings,
    ) -> Result<CardWriter, CardWriterError> {
        match self.encoder() {
            None => CardWriter::open(self.model, self.path(), settings),
            Some(encoder) => CardWriter::open_k720(self.path(), settings, encoder),
        }
    }

    fn state(&self) -> MutexGuard<'_, DispenserState> {
        lock(&self.state)
    }

    /// Queue a fault (see [`CardWriterFault`] for when each is used up).
    pub fn inject(&self, fault: CardWriterFault) {
        self.state().faults.push_back(fault);
    }

    /// Faults queued and not used yet.
    pub fn pending_faults(&self) -> Vec<CardWriterFault> {
        self.state().faults.iter().cloned().collect()
    }

    /// Set the number of blank cards in the stack (0: empty).
    pub fn set_stack(&self, cards: usize) {
        self.state().stack = cards;
    }

    /// Blank cards left in the stack.
    pub fn stack_count(&self) -> usize {
        self.state().stack
    }

    /// Set how many cards the bin holds before it is full.
    pub fn set_bin_capacity(&self, capacity: usize) {
        self.state().config.bin_capacity = capacity;
    }

    /// Empty the bin (staff emptied it).
    pub fn empty_bin(&self) -> Vec<SimCard> {
        std::mem::take(&mut self.state().bin)
    }

    /// The cards in the bin, oldest first.
    pub fn bin_cards(&self) -> Vec<SimCard> {
        self.state().bin.clone()
    }

    /// Jam the mechanics now (or clear a jam).
    pub fn set_jammed(&self, jammed: bool) {
        self.state().jammed = jammed;
    }

    /// Clear a jam (staff opened the unit).
    pub fn clear_jam(&self) {
        self.set_jammed(false);
    }

    /// Whether the mechanics are jammed.
    pub fn is_jammed(&self) -> bool {
        self.state().jammed
    }

    /// A citizen holds `card` at the front slot; it goes in once the driver opens entry.
    pub fn insert_card(&self, card: SimCard) {
        let mut state = self.state();
        state.front = Some(card);
        state.tick();
    }

    /// Whether a card still waits at the front slot.
    pub fn card_waiting_at_front(&self) -> bool {
        self.state().front.is_some()
    }

    /// The citizen takes the card at the gate (`None` when there is none).
    pub fn take_card(&self) -> Option<SimCard> {
        self.state().take_card()
    }

    /// The citizen takes presented cards by themselves `after` this long (`None`: never).
    pub fn set_auto_take(&self, after: Option<Duration>) {
        self.state().config.auto_take_after = after;
    }

    /// Where the card in the channel is.
    pub fn card_position(&self) -> CardPosition {
        self.state().card_position()
    }

    /// The card in the channel, wherever it is.
    pub fn card_in_channel(&self) -> Option<SimCard> {
        self.state().channel.as_ref().map(|(card, _)| card.clone())
    }

    /// The card at the gate, if one waits there.
    pub fn card_at_gate(&self) -> Option<SimCard> {
        match &self.state().channel {
            Some((card, Place::Gate)) => Some(card.clone()),
            _ => None,
        }
    }

    /// Every card the citizen took, oldest first.
    pub fn taken_cards(&self) -> Vec<SimCard> {
        self.state().taken.clone()
    }

    /// Every command received, as "CM PM" hex (CRT-591) or the ASCII command (K720).
    pub fn commands_received(&self) -> Vec<String> {
        self.state().commands.clone()
    }

    /// Close the master side: the driver sees the device disappear. Returns once closed.
    pub fn unplug(&mut self) {
        self.host.close();
    }

    /// Plug back in on a new pseudo-terminal (new [`Self::path`]) with the same cards.
    pub fn replug(&mut self) -> io::Result<()> {
        self.host.close();
        self.host = spawn_host(self.model, &self.state)?;
        Ok(())
    }

    /// Whether the simulator is plugged in.
    pub fn is_plugged(&self) -> bool {
        self.host.is_plugged()
    }
}

pub(crate) fn lock(state: &Mutex<DispenserState>) -> MutexGuard<'_, DispenserState> {
    state
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

enum Front {
    Crt591(Crt591Front),
    K720(K720Front),
}

fn spawn_host(model: CardWriterModel, state: &Arc<Mutex<DispenserState>>) -> io::Result<PtyHost> {
    let handler_state = Arc::clone(state);
    let address = lock(state).config.address;
    let mut front = match model {
        CardWriterModel::Crt591 => Front::Crt591(Crt591Front::new(address)),
        CardWriterModel::K720 => Front::K720(K720Front::new(address)),
    };
    let name = format!("cardwriter-sim-{model}");
    PtyHost::spawn_with_idle(&name, move |bytes, master| {
        let out = {
            let mut state = lock(&handler_state);
            state.tick();
            if bytes.is_empty() {
                return;
            }
            match &mut front {
                Front::Crt591(front) => front.on_bytes(bytes, &mut state),
                Front::K720(front) => front.on_bytes(bytes, &mut state),
            }
        };
        if !out.is_empty() {
            let _ = master.write_all(&out);
            let _ = master.flush();
        }
    })
}
