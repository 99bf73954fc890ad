//! What a dispenser reports about itself, whatever the model, and how that maps onto the
//! crate's common status model ([`DeviceStatus`] with [`StatusDetail::CardWriter`]).

use serde::{Deserialize, Serialize};

use super::model::CardWriterModel;
use crate::status::{CardStock, DeviceClass, DeviceState, DeviceStatus, MediaState, StatusDetail};

/// Where a card is in the dispenser's channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CardPosition {
    /// No card in the channel (the citizen took it, or nothing was dispensed).
    None,
    /// A card stands at the gate, waiting to be taken.
    AtGate,
    /// A card is inside (RF/IC position, holding position, read position).
    Inside,
}

/// Blank cards in the stacker (card box).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StackLevel {
    /// Enough cards.
    Ok,
    /// Few cards left (the low sensor).
    Low,
    /// No card left.
    Empty,
}

/// The error-card (recycle) bin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BinLevel {
    /// Room for captured cards.
    NotFull,
    /// Full: capture is refused.
    Full,
}

/// One status reading of a dispenser.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CardWriterReport {
    /// Which model reported it.
    pub model: CardWriterModel,
    /// Card in the channel.
    pub card: CardPosition,
    /// Blank card stock.
    pub stack: StackLevel,
    /// Error-card bin.
    pub bin: BinLevel,
    /// A card is jammed (CRT-591: the last motion failed with error 10 and no initialise has
    /// succeeded since; K720: the jam bit of the card-box status).
    pub jammed: bool,
    /// Other problems the device reported (K720 dispense / capture error bits, …), in English.
    pub problems: Vec<String>,
}

impl CardWriterReport {
    /// The stock in the common status model.
    pub fn stock(&self) -> CardStock {
        match self.stack {
            StackLevel::Ok => CardStock::Ok,
            StackLevel::Low => CardStock::Low,
            StackLevel::Empty => CardStock::Empty,
        }
    }

    /// The media state in the common status model.
    pub fn media(&self) -> MediaState {
        if self.jammed {
            MediaState::Jammed
        } else {
            match self.card {
                CardPosition::None => MediaState::Absent,
                CardPosition::AtGate | CardPosition::Inside => MediaState::Present,
            }
        }
    }

    /// The report in the common status model: a jam, an empty stack or a full bin is a user
    /// error (staff clear it; the items needing the dispenser become unavailable); low stock
    /// stays online (a consumable warning).
    pub fn to_device_status(&self) -> DeviceStatus {
        let mut problems = Vec::new();
        if self.jammed {
            problems.push("card jam".to_owned());
        }
        if self.stack == StackLevel::Empty {
            problems.push("card stack empty".to_owned());
        }
        if self.bin == BinLevel::Full {
            problems.push("error-card bin full".to_owned());
        }
        let blocking = !problems.is_empty();
        problems.extend(self.problems.iter().cloned());
        let state = if blocking {
            DeviceState::UserError
        } else if !self.problems.is_empty() {
            DeviceState::HardwareError
        } else {
            DeviceState::Online
        };
        let status = DeviceStatus::new(DeviceClass::CardWriter, state).with_detail(
            StatusDetail::CardWriter {
                stock: self.stock(),
                media: self.media(),
            },
        );
        if problems.is_empty() {
            status
        } else {
            status.with_error(problems.join(", "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(card: CardPosition, stack: StackLevel, bin: BinLevel) -> CardWriterReport {
        CardWriterReport {
            model: CardWriterModel::Crt591,
            card,
            stack,
            bin,
            jammed: false,
            problems: vec![],
        }
    }

    #[test]
    fn stock_and_media_map_onto_the_common_model() {
        let ok = report(CardPosition::None, StackLevel::Ok, BinLevel::NotFull);
        let status = ok.to_device_status();
        assert_eq!(status.state, DeviceState::Online);
        assert!(status.is_usable());
        assert_eq!(
            status.detail,
            StatusDetail::CardWriter {
                stock: CardStock::Ok,
                media: MediaState::Absent
            }
        );
        let low = report(CardPosition::AtGate, StackLevel::Low, BinLevel::NotFull);
        let status = low.to_device_status();
        assert!(status.is_usable(), "low stock still issues cards");
        assert_eq!(
            status.detail,
            StatusDetail::CardWriter {
                stock: CardStock::Low,
                media: MediaState::Present
            }
        );
        let empty = report(CardPosition::None, StackLevel::Empty, BinLevel::NotFull);
        let status = empty.to_device_status();
        assert_eq!(status.state, DeviceState::UserError);
        assert_eq!(status.last_error.as_deref(), Some("card stack empty"));
        let full = report(CardPosition::Inside, StackLevel::Ok, BinLevel::Full);
        assert_eq!(full.to_device_status().state, DeviceState::UserError);
        let mut jammed = report(CardPosition::Inside, StackLevel::Ok, BinLevel::NotFull);
        jammed.jammed = true;
        let status = jammed.to_device_status();
        assert_eq!(status.state, DeviceState::UserError);
        assert_eq!(jammed.media(), MediaState::Jammed);
        let mut other = report(CardPosition::None, StackLevel::Ok, BinLevel::NotFull);
        other.problems.push("dispense error".to_owned());
        assert_eq!(other.to_device_status().state, DeviceState::HardwareError);
    }
}
