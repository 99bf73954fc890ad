//! What the issue and rewrite sequences report: progress steps and outcomes.

use super::record::{CardRecord, RecordError};

/// A step of the issue or rewrite sequence, for on-screen progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CardStep {
    /// A blank card moves from the stack to the encoder.
    Dispensing,
    /// Waiting for the citizen to insert a card at the front slot.
    WaitingForCard,
    /// Reading the card.
    Reading,
    /// Writing the record.
    Writing,
    /// Reading it back and checking it.
    Verifying,
    /// Moving the card to the gate.
    Presenting,
}

/// What is on a card at the encoder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardContent {
    /// The card's UID, upper-case hex.
    pub uid: String,
    /// The record, or why there is no valid one ([`RecordError::Blank`] for a blank card,
    /// [`RecordError::BadMac`] for tampered data or another key).
    pub record: Result<CardRecord, RecordError>,
}

/// A card issued and waiting at the gate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedCard {
    /// The card's UID, upper-case hex.
    pub uid: String,
    /// The record written and verified on it.
    pub record: CardRecord,
}

/// How a rewrite ended (errors aside).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RewriteOutcome {
    /// Nobody inserted a card in time; entry is closed again.
    NoCardInserted,
    /// The card was rewritten, verified and waits at the gate.
    Rewritten {
        /// What was on it before.
        before: CardContent,
        /// What is on it now.
        record: CardRecord,
    },
    /// The caller declined to write (e.g. not a kiosk card); the card, unchanged, waits at
    /// the gate.
    Declined {
        /// What is on it.
        content: CardContent,
    },
}
