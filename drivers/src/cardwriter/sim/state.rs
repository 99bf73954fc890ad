//! The simulated dispenser's state, shared by both protocol front ends: the stack of blank
//! cards, the channel, the front slot, the bin, the faults to apply, and the card I/O session
//! on the card at the encoder.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use super::card::SimCard;
use crate::cardwriter::encoder::{BLOCK_LEN, BLOCKS_PER_SECTOR, MifareKey};
use crate::cardwriter::report::{BinLevel, CardPosition, StackLevel};

/// A fault to apply on demand. One-shot faults are used up by the first command they fit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CardWriterFault {
    /// The next card movement jams; the unit stays jammed until
    /// [`super::CardWriterSimulator::clear_jam`].
    Jam,
    /// The next card I/O command fails (activation, key check, read, write or APDU).
    ChipError,
    /// The next card taken from the stack is keyed with another key (the kiosk's key is
    /// wrong for it).
    ForeignKeyedCard,
    /// Block writes fail after this many more blocks; what was written stays on the card.
    WriteFailsAfter(usize),
    /// The next reply frame goes out with a corrupted byte (its BCC no longer matches).
    GarbledReply,
    /// The next `n` commands are answered with NAK.
    Nak(u32),
    /// The next command is acknowledged but never answered.
    Silence,
    /// The next card presented at the gate is not taken, even with auto-take on.
    CardNotTaken,
}

/// How the simulator starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimulatorConfig {
    /// Blank cards in the stack.
    pub blank_cards: usize,
    /// At or below this many cards the stack reports "low".
    pub low_at: usize,
    /// Cards the bin holds before it reports "full".
    pub bin_capacity: usize,
    /// The citizen takes a card this long after it reaches the gate (`None`: only
    /// [`super::CardWriterSimulator::take_card`] takes it).
    pub auto_take_after: Option<Duration>,
    /// Bus address (CRT-591: 0–15 as a byte; K720: 0–15 as two digits).
    pub address: u8,
}

impl Default for SimulatorConfig {
    fn default() -> Self {
        SimulatorConfig {
            blank_cards: 50,
            low_at: 10,
            bin_capacity: 20,
            auto_take_after: None,
            address: 0,
        }
    }
}

/// Where a card in the channel is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Place {
    /// At the gate.
    Gate,
    /// At the encoder (RF / IC / read position).
    Inside,
}

/// Why a movement failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MoveError {
    NotInitialised,
    Jam,
    StackEmpty,
    BinFull,
    NoCard,
}

/// Why a card I/O command failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum IoError {
    /// No card at the encoder.
    NoCard,
    /// The field / chip is not activated.
    NotActive,
    /// Injected chip error.
    Chip,
}

/// K720 error bits left by the last movement.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct MoveFlags {
    pub prepare_failed: bool,
    pub dispense_error: bool,
    pub capture_error: bool,
    pub cannot_execute: bool,
}

pub(crate) struct DispenserState {
    pub config: SimulatorConfig,
    pub stack: usize,
    next_uid: u32,
    pub bin: Vec<SimCard>,
    pub channel: Option<(SimCard, Place)>,
    pub front: Option<SimCard>,
    /// Where a card let in through the front ends up (`None`: entry closed).
    pub entry: Option<Place>,
    pub initialised: bool,
    pub jammed: bool,
    pub flags: MoveFlags,
    rf_active: bool,
    chip_powered: bool,
    authenticated: Option<u8>,
    write_budget: Option<usize>,
    pub faults: VecDeque<CardWriterFault>,
    pub taken: Vec<SimCard>,
    pub commands: Vec<String>,
    presented_at: Option<Instant>,
    keep_at_gate: bool,
    pub bin_counter: u32,
}

impl DispenserState {
    pub fn new(config: SimulatorConfig) -> Self {
        DispenserState {
            stack: config.blank_cards,
            config,
            next_uid: 0x5A00_0001,
            bin: Vec::new(),
            channel: None,
            front: None,
            entry: None,
            initialised: false,
            jammed: false,
            flags: MoveFlags::default(),
            rf_active: false,
            chip_powered: false,
            authenticated: None,
            write_budget: None,
            faults: VecDeque::new(),
            taken: Vec::new(),
            commands: Vec::new(),
            presented_at: None,
            keep_at_gate: false,
            bin_counter: 0,
        }
    }

    /// Use up the first queued fault `wanted` accepts.
    pub fn take_fault(
        &mut self,
        wanted: impl Fn(&CardWriterFault) -> bool,
    ) -> Option<CardWriterFault> {
        let index = self.faults.iter().position(wanted)?;
        self.faults.remove(index)
    }

    pub fn stack_level(&self) -> StackLevel {
        if self.stack == 0 {
            StackLevel::Empty
        } else if self.stack <= self.config.low_at {
            StackLevel::Low
        } else {
            StackLevel::Ok
        }
    }

    pub fn bin_level(&self) -> BinLevel {
        if self.bin.len() >= self.config.bin_capacity {
            BinLevel::Full
        } else {
            BinLevel::NotFull
        }
    }

    pub fn card_position(&self) -> CardPosition {
        match self.channel {
            None => CardPosition::None,
            Some((_, Place::Gate)) => CardPosition::AtGate,
            Some((_, Place::Inside)) => CardPosition::Inside,
        }
    }

    /// Time passing: the citizen takes a presented card (auto-take), a card waiting at the
    /// front comes in when entry is open.
    pub fn tick(&mut self) {
        if let (Some(after), Some(at)) = (self.config.auto_take_after, self.presented_at)
            && !self.keep_at_gate
            && at.elapsed() >= after
        {
            self.take_card();
        }
        if let Some(place) = self.entry
            && self.channel.is_none()
            && let Some(card) = self.front.take()
        {
            self.channel = Some((card, place));
            self.reset_session();
            if place == Place::Inside {
                self.entry = None;
            }
        }
    }

    /// The citizen takes the card at the gate.
    pub fn take_card(&mut self) -> Option<SimCard> {
        match self.channel.take() {
            Some((card, Place::Gate)) => {
                self.presented_at = None;
                self.taken.push(card.clone());
                Some(card)
            }
            other => {
                self.channel = other;
                None
            }
        }
    }

    fn reset_session(&mut self) {
        self.rf_active = false;
        self.chip_powered = false;
        self.authenticated = None;
    }

    fn check_motion(&mut self) -> Result<(), MoveError> {
        if !self.initialised {
            return Err(MoveError::NotInitialised);
        }
        if !self.jammed && self.take_fault(|f| *f == CardWriterFault::Jam).is_some() {
            self.jammed = true;
        }
        if self.jammed {
            return Err(MoveError::Jam);
        }
        Ok(())
    }

    /// Initialise (a card stays where it is); a jam is not cleared by it.
    pub fn initialise(&mut self) -> Result<(), MoveError> {
        self.initialised = true;
        self.flags = MoveFlags::default();
        self.reset_session();
        if self.jammed {
            return Err(MoveError::Jam);
        }
        Ok(())
    }

    /// Bring the card in the channel, or a new blank from the stack, to the encoder.
    pub fn move_to_encoder(&mut self) -> Result<(), MoveError> {
        self.check_motion()?;
        self.presented_at = None;
        if let Some((_, place)) = self.channel.as_mut() {
            *place = Place::Inside;
            return Ok(());
        }
        if self.stack == 0 {
            return Err(MoveError::StackEmpty);
        }
        self.stack -= 1;
        let uid = self.next_uid.to_be_bytes();
        self.next_uid += 1;
        let mut card = SimCard::blank(uid);
        if self
            .take_fault(|f| *f == CardWriterFault::ForeignKeyedCard)
            .is_some()
        {
            card = card
                .keyed(&MifareKey::new(
                    crate::cardwriter::encoder::KeyType::A,
                    [0xA0, 0xA1, 0xA2, 0xA3, 0xA4, 0xA5],
                ))
                .keyed(&MifareKey::new(
                    crate::cardwriter::encoder::KeyType::B,
                    [0xB0, 0xB1, 0xB2, 0xB3, 0xB4, 0xB5],
                ));
        }
        self.channel = Some((card, Place::Inside));
        self.reset_session();
        Ok(())
    }

    /// Move the card in the channel to the gate.
    pub fn move_to_gate(&mut self) -> Result<(), MoveError> {
        if self.channel.is_none() {
            return Err(MoveError::NoCard);
        }
        self.check_motion()?;
        if let Some((_, place)) = self.channel.as_mut() {
            *place = Place::Gate;
        }
        self.reset_session();
        self.entry = None;
        self.presented_at = Some(Instant::now());
        self.keep_at_gate = self
            .take_fault(|f| *f == CardWriterFault::CardNotTaken)
            .is_some();
        Ok(())
    }

    /// Capture the card in the channel (inside or at the gate) to the bin.
    pub fn capture(&mut self) -> Result<(), MoveError> {
        if self.channel.is_none() {
            return Err(MoveError::NoCard);
        }
        if self.bin_level() == BinLevel::Full {
            return Err(MoveError::BinFull);
        }
        self.check_motion()?;
        if let Some((card, _)) = self.channel.take() {
            self.bin.push(card);
            self.bin_counter += 1;
        }
        self.presented_at = None;
        self.reset_session();
        Ok(())
    }

    /// Put the card in the channel back into the stack (K720 `DB`).
    pub fn back_to_box(&mut self) -> Result<(), MoveError> {
        if self.channel.is_none() {
            return Err(MoveError::NoCard);
        }
        self.check_motion()?;
        self.channel = None;
        self.stack += 1;
        self.presented_at = None;
        Ok(())
    }

    fn card_inside(&mut self) -> Result<&mut SimCard, IoError> {
        match self.channel.as_mut() {
            Some((card, Place::Inside)) => Ok(card),
            _ => Err(IoError::NoCard),
        }
    }

    fn chip_fault(&mut self) -> Result<(), IoError> {
        match self.take_fault(|f| *f == CardWriterFault::ChipError) {
            Some(_) => {
                self.reset_session();
                Err(IoError::Chip)
            }
            None => Ok(()),
        }
    }

    /// Activate the contactless card; returns its UID.
    pub fn rf_activate(&mut self) -> Result<[u8; 4], IoError> {
        let uid = self.card_inside()?.uid();
        self.chip_fault()?;
        self.rf_active = true;
        self.authenticated = None;
        Ok(uid)
    }

    pub fn rf_deactivate(&mut self) {
        self.rf_active = false;
        self.authenticated = None;
    }

    /// Check a sector key; `Ok(false)` when it does not open the sector.
    pub fn mifare_auth(&mut self, sector: u8, key: &MifareKey) -> Result<bool, IoError> {
        self.card_inside()?;
        if !self.rf_active {
            return Err(IoError::NotActive);
        }
        self.chip_fault()?;
        let opens = self.card_inside()?.key_opens(sector, key);
        self.authenticated = opens.then_some(sector);
        Ok(opens)
    }

    /// Read data blocks of the authenticated sector; `Ok(None)` when not allowed.
    pub fn mifare_read(
        &mut self,
        sector: u8,
        block: u8,
        count: usize,
    ) -> Result<Option<Vec<u8>>, IoError> {
        self.card_inside()?;
        if !self.rf_active {
            return Err(IoError::NotActive);
        }
        self.chip_fault()?;
        if self.authenticated != Some(sector) || usize::from(block) + count > 3 || count == 0 {
            return Ok(None);
        }
        let card = self.card_inside()?;
        let first = usize::from(sector * BLOCKS_PER_SECTOR + block);
        let mut out = Vec::with_capacity(count * BLOCK_LEN);
        for index in first..first + count {
            out.extend_from_slice(&card.block(index).unwrap_or([0; BLOCK_LEN]));
        }
        Ok(Some(out))
    }

    /// Write data blocks of the authenticated sector; `Ok(false)` when refused or when an
    /// injected failure stops it part-way (blocks before that stay written).
    pub fn mifare_write(&mut self, sector: u8, block: u8, data: &[u8]) -> Result<bool, IoError> {
        self.card_inside()?;
        if !self.rf_active {
            return Err(IoError::NotActive);
        }
        self.chip_fault()?;
        let count = data.len() / BLOCK_LEN;
        if self.authenticated != Some(sector)
            || !data.len().is_multiple_of(BLOCK_LEN)
            || count == 0
            || usize::from(block) + count > 3
        {
            return Ok(false);
        }
        if self.write_budget.is_none()
            && let Some(CardWriterFault::WriteFailsAfter(n)) =
                self.take_fault(|f| matches!(f, CardWriterFault::WriteFailsAfter(_)))
        {
            self.write_budget = Some(n);
        }
        let first = usize::from(sector * BLOCKS_PER_SECTOR + block);
        for (i, chunk) in data.chunks(BLOCK_LEN).enumerate() {
            if let Some(left) = self.write_budget.as_mut() {
                if *left == 0 {
                    self.write_budget = None;
                    return Ok(false);
                }
                *left -= 1;
            }
            let card = self.card_inside()?;
            if !card.write_block(first + i, chunk) {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Power the contact chip; returns its ATR.
    pub fn chip_power_on(&mut self) -> Result<Vec<u8>, IoError> {
        self.card_inside()?;
        self.chip_fault()?;
        self.chip_powered = true;
        Ok(self.card_inside()?.chip_reset())
    }

    pub fn chip_power_off(&mut self) {
        self.chip_powered = false;
    }

    /// One APDU to the powered chip.
    pub fn chip_apdu(&mut self, apdu: &[u8]) -> Result<Vec<u8>, IoError> {
        self.card_inside()?;
        if !self.chip_powered {
            return Err(IoError::NotActive);
        }
        self.chip_fault()?;
        Ok(self.card_inside()?.chip_apdu(apdu))
    }
}
